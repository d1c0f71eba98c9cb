/**
 * The repository's client for a remote Document Registry: ITI-42 to register, ITI-18 GetDocuments
 * to look DocumentEntries up. Our own small SOAP 1.2 client over node's fetch (undici): node-soap's
 * client mislabels SOAP 1.2 parts and adds nothing we need for two fixed messages.
 *
 * A registry Failure is an answer (its error codes are relayed to the source unchanged); a transport
 * error, an HTTP error or a SOAP fault means the outcome is unknown and the call rejects.
 */
import { randomUUID } from 'node:crypto';
import { parseAdhocQueryResponse, parseRegistryResponse, serializeAdhocQueryRequest, serializeSubmitObjectsRequest } from '../../registry/ebxml';
import type { DocumentEntry } from '../../registry/model/metadata';
import { STORED_QUERY_ID } from '../../registry/model/query';
import { NS } from '../../registry/xml/namespaces';
import { parseXml } from '../../registry/xml/parse';
import { escapeText, serializeXml } from '../../registry/xml/serialize';
import { childElement, childElements, textContent, type XmlElement } from '../../registry/xml/tree';
import type { RegistryPort } from '../../repository/registry-port';
import { ACTIONS } from '../soap/actions';
import { parseMediaType } from '../soap/media-type';

export interface RemoteRegistryOptions {
  /** The registry endpoint, e.g. https://registry.example/xds/registry. */
  readonly url: string;
  /** Per call. Default 30 s. */
  readonly timeoutMs?: number;
  /** Largest answer read. Default 50 MiB. */
  readonly maxResponseBytes?: number;
}

export class RemoteRegistryError extends Error {
  override name = 'RemoteRegistryError';
}

export function remoteRegistry(options: RemoteRegistryOptions): RegistryPort {
  const call = (action: string, body: XmlElement): Promise<XmlElement> => soapCall(options, action, body);
  return {
    async register(submission) {
      const answer = await call(ACTIONS.iti42.request, serializeSubmitObjectsRequest(submission));
      return parseRegistryResponse(answer);
    },
    async documentEntries(uniqueIds) {
      if (uniqueIds.length === 0) return [];
      const list = `(${uniqueIds.map((u) => `'${u.replace(/'/g, "''")}'`).join(',')})`;
      const answer = await call(
        ACTIONS.iti18.request,
        serializeAdhocQueryRequest({
          queryId: STORED_QUERY_ID.GetDocuments,
          returnType: 'LeafClass',
          parameters: [{ name: '$XDSDocumentEntryUniqueId', values: [list] }],
        }),
      );
      const content = parseAdhocQueryResponse(answer);
      if (content.status === 'Failure') {
        throw new RemoteRegistryError(`GetDocuments failed: ${content.errors.map((e) => `${e.code} ${e.message}`).join('; ')}`);
      }
      return content.objects.filter((o): o is DocumentEntry => o.type === 'DocumentEntry');
    },
  };
}

async function soapCall(options: RemoteRegistryOptions, action: string, body: XmlElement): Promise<XmlElement> {
  const envelope =
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<soap:Envelope xmlns:soap="${NS.soap12}" xmlns:wsa="${NS.wsa}"><soap:Header>` +
    `<wsa:Action soap:mustUnderstand="1">${escapeText(action)}</wsa:Action>` +
    `<wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID>` +
    `<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>` +
    `<wsa:To soap:mustUnderstand="1">${escapeText(options.url)}</wsa:To>` +
    `</soap:Header><soap:Body>${serializeXml(body)}</soap:Body></soap:Envelope>`;
  let res: Response;
  try {
    res = await fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': `application/soap+xml; charset=UTF-8; action="${action}"` },
      body: envelope,
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new RemoteRegistryError(`registry ${options.url} unreachable: ${(e as Error).message}${cause ? ` (${cause})` : ''}`);
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  const max = options.maxResponseBytes ?? 50 * 1024 * 1024;
  if (bytes.length > max) throw new RemoteRegistryError(`registry answer of ${bytes.length} bytes exceeds ${max}`);
  const xml = rootPart(bytes, res.headers.get('content-type') ?? '');
  let env: XmlElement;
  try {
    env = parseXml(xml);
  } catch (e) {
    throw new RemoteRegistryError(`registry answered HTTP ${res.status} with no SOAP envelope: ${(e as Error).message}`);
  }
  const soapBody = childElement(env, NS.soap12, 'Body');
  const first = soapBody ? childElements(soapBody)[0] : undefined;
  if (!first) throw new RemoteRegistryError(`registry answered HTTP ${res.status} with an empty SOAP body`);
  if (first.ns === NS.soap12 && first.local === 'Fault') {
    const reason = childElement(first, NS.soap12, 'Reason');
    throw new RemoteRegistryError(`registry answered with a SOAP fault: ${reason ? textContent(reason).trim() : '(no reason)'}`);
  }
  return first;
}

/** The envelope of a plain or MTOM answer (registries may answer MTOM to an MTOM-enabled client). */
function rootPart(bytes: Buffer, contentType: string): Buffer {
  const type = parseMediaType(contentType);
  if (type.type !== 'multipart/related' || !type.params.boundary) return bytes;
  const delimiter = Buffer.from(`--${type.params.boundary}`);
  const first = bytes.indexOf(delimiter);
  if (first === -1) return bytes;
  const headersEnd = bytes.indexOf('\r\n\r\n', first);
  const next = bytes.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headersEnd);
  if (headersEnd === -1 || next === -1) return bytes;
  return bytes.subarray(headersEnd + 4, next);
}
