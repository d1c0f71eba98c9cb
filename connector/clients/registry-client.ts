/**
 * The repository's client for a remote Document Registry: ITI-42 to register, ITI-18 GetDocuments
 * to look DocumentEntries up. It speaks through the node's one outbound SOAP client (SoapClient:
 * envelope, WS-Addressing, plain or MTOM answers, deadlines, response size limit), so it adds only
 * the two message shapes and the meaning of their answers.
 *
 * A registry Failure is an answer (its error codes are relayed to the source unchanged); a transport
 * error, an HTTP error or a SOAP fault means the outcome is unknown and the call rejects with a
 * RemoteRegistryError (the repository then asks the registry what happened, or keeps the documents
 * staged for recovery).
 */
import { parseAdhocQueryResponse, parseRegistryResponse, serializeAdhocQueryRequest, serializeSubmitObjectsRequest } from '../../registry/ebxml/index.js';
import { RegistryFailure } from '../../registry/model/errors.js';
import type { DocumentEntry } from '../../registry/model/metadata.js';
import { STORED_QUERY_ID } from '../../registry/model/query.js';
import type { XmlElement } from '../../registry/xml/tree.js';
import type { RegistryPort } from '../../repository/registry-port.js';
import { ACTIONS } from '../soap/actions.js';
import { SoapClient, SoapClientError, type ClientTlsOptions } from '../soap/client.js';

export interface RemoteRegistryOptions {
  /** The registry endpoint, e.g. https://registry.example/xds/registry. */
  readonly url: string;
  /** Per call. Default 30 s. */
  readonly timeoutMs?: number;
  /** Largest answer read. Default 50 MiB. */
  readonly maxResponseBytes?: number;
  /** TLS towards the registry (mutual TLS when cert and key are given). */
  readonly tls?: ClientTlsOptions;
  /** A client to share (its pool and TLS settings); without one the port makes its own. */
  readonly client?: SoapClient;
}

export class RemoteRegistryError extends Error {
  override name = 'RemoteRegistryError';
}

/** A RegistryPort over ITI-42/ITI-18, plus `close()` for the connection pool it owns. */
export type RemoteRegistryPort = RegistryPort & { close(): Promise<void> };

export function remoteRegistry(options: RemoteRegistryOptions): RemoteRegistryPort {
  const owned = options.client === undefined;
  const client =
    options.client ??
    new SoapClient({
      maxResponseBytes: options.maxResponseBytes ?? 50 * 1024 * 1024,
      ...(options.tls ? { tls: options.tls } : {}),
    });
  const timeoutMs = options.timeoutMs ?? 30_000;

  const call = async (action: string, body: XmlElement): Promise<XmlElement> => {
    try {
      return (await client.call({ url: options.url, action, body, timeoutMs })).body;
    } catch (e) {
      if (e instanceof SoapClientError) {
        const what = e.kind === 'fault' ? 'answered with a SOAP fault' : e.kind === 'timeout' ? 'did not answer in time' : e.kind === 'protocol' ? 'sent no usable answer' : 'is unreachable';
        throw new RemoteRegistryError(`registry ${options.url} ${what}: ${e.message}`);
      }
      throw e;
    }
  };
  // A body that is SOAP but not the expected ebRS answer is as unknown an outcome as a fault.
  const unusable = (e: unknown, what: string): never => {
    if (e instanceof RegistryFailure) throw new RemoteRegistryError(`registry ${options.url} sent an unusable ${what}: ${e.message}`);
    throw e;
  };

  return {
    async register(submission) {
      const answer = await call(ACTIONS.iti42.request, serializeSubmitObjectsRequest(submission));
      try {
        return parseRegistryResponse(answer);
      } catch (e) {
        return unusable(e, 'RegistryResponse');
      }
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
      let content: ReturnType<typeof parseAdhocQueryResponse>;
      try {
        content = parseAdhocQueryResponse(answer);
      } catch (e) {
        return unusable(e, 'AdhocQueryResponse');
      }
      if (content.status === 'Failure') {
        throw new RemoteRegistryError(`GetDocuments failed: ${content.errors.map((e) => `${e.code} ${e.message}`).join('; ')}`);
      }
      return content.objects.filter((o): o is DocumentEntry => o.type === 'DocumentEntry');
    },
    async close() {
      if (owned) await client.close();
    },
  };
}
