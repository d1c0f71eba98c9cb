/**
 * A test client for the repository endpoint: ITI-41 as MTOM (shaped as CXF/Axis2 send it) or
 * inline base64, ITI-43, and the retrieved documents read out of the MTOM answer. The envelopes,
 * the answer parsing (MTOM split by the multipart library directly, so that the node's own MIME
 * code is not on the receiving side) and the message bodies are the shared ones of test/helpers.
 */
import { randomUUID } from 'node:crypto';
import { normaliseContentId } from '../../connector/soap/mime.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, childElements, textContent } from '../../registry/xml/tree.js';
import { provideBody, retrieveBody } from '../helpers/ebxml.js';
import { ACTIONS, envelope, postRaw, soapContentType, type SoapResult } from '../helpers/soap.js';

export interface Doc {
  id: string;
  bytes: Buffer;
}

const ITI41 = ACTIONS.iti41.request;

/** ITI-41 as MTOM: CXF style (quoted start with brackets, percent-encoded cid in the href). */
export async function provideMtom(url: string, sorXml: string, docs: readonly Doc[], extraParts: readonly Doc[] = []): Promise<SoapResult> {
  const boundary = `uuid:${randomUUID()}`;
  const cids = docs.map((d) => `${randomUUID()}-${d.id}@cxf.apache.org`);
  const documents = docs.map((d, i) => `<xdsb:Document id="${d.id}"><xop:Include href="cid:${encodeURIComponent(cids[i]!)}"/></xdsb:Document>`).join('');
  const body = `<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="${NS.xdsb}" xmlns:xop="${NS.xop}">${sorXml}${documents}</xdsb:ProvideAndRegisterDocumentSetRequest>`;
  const env = envelope({ action: ITI41, to: url, body });
  const chunks: Buffer[] = [
    Buffer.from(`--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <root.message@cxf.apache.org>\r\n\r\n${env}`),
  ];
  const all = [...docs.map((d, i) => ({ cid: cids[i]!, bytes: d.bytes })), ...extraParts.map((p) => ({ cid: p.id, bytes: p.bytes }))];
  for (const p of all) {
    chunks.push(Buffer.from(`\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${p.cid}>\r\n\r\n`));
    chunks.push(p.bytes);
  }
  chunks.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  const ct = `multipart/related; type="application/xop+xml"; boundary="${boundary}"; start="<root.message@cxf.apache.org>"; start-info="application/soap+xml"; action="${ITI41}"`;
  return postRaw(url, Buffer.concat(chunks), ct);
}

/** ITI-41 with the documents inline as base64 text. */
export function provideInline(url: string, sorXml: string, docs: readonly Doc[]): Promise<SoapResult> {
  return postRaw(url, envelope({ action: ITI41, to: url, body: provideBody(sorXml, docs) }), soapContentType(ITI41));
}

export interface RetrieveItem {
  repositoryUniqueId: string;
  documentUniqueId: string;
  homeCommunityId?: string;
}

export function retrieve(url: string, items: readonly RetrieveItem[]): Promise<SoapResult> {
  const body = retrieveBody(
    items.map((r) => ({ ...(r.homeCommunityId ? { home: r.homeCommunityId } : {}), repository: r.repositoryUniqueId, document: r.documentUniqueId })),
  );
  const action = ACTIONS.iti43.request;
  return postRaw(url, envelope({ action, to: url, body }), soapContentType(action));
}

export interface RetrievedDoc {
  repositoryUniqueId: string;
  documentUniqueId: string;
  homeCommunityId?: string;
  mimeType: string;
  bytes: Buffer;
}

export function documents(answer: SoapResult): RetrievedDoc[] {
  return childElements(answer.body, NS.xdsb, 'DocumentResponse').map((dr) => {
    const t = (n: string): string | undefined => {
      const e = childElement(dr, NS.xdsb, n);
      return e ? textContent(e) : undefined;
    };
    const include = childElement(childElement(dr, NS.xdsb, 'Document')!, NS.xop, 'Include')!;
    const home = t('HomeCommunityId');
    return {
      repositoryUniqueId: t('RepositoryUniqueId')!,
      documentUniqueId: t('DocumentUniqueId')!,
      ...(home !== undefined ? { homeCommunityId: home } : {}),
      mimeType: t('mimeType')!,
      bytes: answer.parts.get(normaliseContentId(include.attrs.href!))!,
    };
  });
}
