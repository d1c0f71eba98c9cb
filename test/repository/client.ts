/**
 * A test client for the repository endpoint: ITI-41 as MTOM (shaped as CXF/Axis2 send it) or
 * inline base64, ITI-43 with the MTOM answer split by the multipart library directly, so that the
 * node's own MIME code is not on the receiving side.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MultipartParser } from '@remix-run/multipart-parser';
import { parseMediaType } from '../../connector/soap/media-type.js';
import { normaliseContentId } from '../../connector/soap/mime.js';
import { NS } from '../../registry/xml/namespaces.js';
import { parseXml } from '../../registry/xml/parse.js';
import { childElement, childElements, descendants, textContent, type XmlElement } from '../../registry/xml/tree.js';
import { envelope } from '../helpers/soap.js';
import { EPIKRISE_ITI42 } from '../../fixtures/index.js';

export const ITI41 = 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b';
export const ITI43 = 'urn:ihe:iti:2007:RetrieveDocumentSet';
/** A synthetic test person (valid fødselsnummer check digits). */
export const KARI = '13116900216^^^&2.16.578.1.12.4.1.4.1&ISO';

let counter = 0;
export function uid(): string {
  counter += 1;
  return `2.16.578.1.12.4.5.100.1.9.${Date.now()}.${counter}`;
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export interface MetadataOptions {
  patient?: string;
  docUid?: string;
  /** Slots written as given; absent → the repository fills them in. */
  hash?: string;
  size?: string;
  /** DocumentEntry id (symbolic). */
  entryId?: string;
  mimeType?: string;
}

/** An lcm:SubmitObjectsRequest with one DocumentEntry (the Norwegian epikrise fixture, hash/size/repositoryUniqueId removed). */
export function submitObjects(options: MetadataOptions = {}): { xml: string; docUid: string } {
  const docUid = options.docUid ?? uid();
  let xml = readFileSync(EPIKRISE_ITI42, 'utf8')
    .replace(/^<\?xml[^>]*>\s*/, '')
    .replace(/<!--[\s\S]*?-->\s*/, '')
    .replace(/<rim:Slot name="(hash|size|repositoryUniqueId)">[\s\S]*?<\/rim:Slot>\s*/g, '')
    .replaceAll('$PATIENT$', xmlEscape(options.patient ?? KARI))
    .replaceAll('$DOC_UID$', docUid)
    .replaceAll('$SS_UID$', uid())
    .replaceAll('$NOW$', new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14));
  const extra =
    (options.hash !== undefined ? `<rim:Slot name="hash"><rim:ValueList><rim:Value>${options.hash}</rim:Value></rim:ValueList></rim:Slot>` : '') +
    (options.size !== undefined ? `<rim:Slot name="size"><rim:ValueList><rim:Value>${options.size}</rim:Value></rim:ValueList></rim:Slot>` : '');
  xml = xml.replace(/(<rim:ExtrinsicObject id="Document01"[^>]*>)/, `$1${extra}`);
  if (options.mimeType) xml = xml.replace('mimeType="application/pdf"', `mimeType="${options.mimeType}"`);
  if (options.entryId) xml = xml.replace(/"Document01"/g, `"${options.entryId}"`);
  return { xml, docUid };
}

export interface Doc {
  id: string;
  bytes: Buffer;
}

export interface Answer {
  readonly httpStatus: number;
  readonly contentType: string;
  readonly body: XmlElement;
  /** MTOM parts by normalised Content-ID. */
  readonly parts: Map<string, Buffer>;
}

function pnrBody(sorXml: string, documents: string): string {
  return `<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="${NS.xdsb}" xmlns:xop="${NS.xop}">${sorXml}${documents}</xdsb:ProvideAndRegisterDocumentSetRequest>`;
}

/** ITI-41 as MTOM: CXF style (quoted start with brackets, percent-encoded cid in the href). */
export async function provideMtom(url: string, sorXml: string, docs: readonly Doc[], extraParts: readonly Doc[] = []): Promise<Answer> {
  const boundary = `uuid:${randomUUID()}`;
  const cids = docs.map((d) => `${randomUUID()}-${d.id}@cxf.apache.org`);
  const documents = docs.map((d, i) => `<xdsb:Document id="${d.id}"><xop:Include href="cid:${encodeURIComponent(cids[i]!)}"/></xdsb:Document>`).join('');
  const env = envelope(ITI41, url, pnrBody(sorXml, documents));
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
  return post(url, Buffer.concat(chunks), ct);
}

/** ITI-41 with the documents inline as base64 text. */
export function provideInline(url: string, sorXml: string, docs: readonly Doc[]): Promise<Answer> {
  const documents = docs.map((d) => `<xdsb:Document id="${d.id}">${d.bytes.toString('base64')}</xdsb:Document>`).join('');
  return post(url, Buffer.from(envelope(ITI41, url, pnrBody(sorXml, documents))), `application/soap+xml; charset=UTF-8; action="${ITI41}"`);
}

export interface RetrieveItem {
  repositoryUniqueId: string;
  documentUniqueId: string;
  homeCommunityId?: string;
}

export function retrieve(url: string, items: readonly RetrieveItem[]): Promise<Answer> {
  const requests = items
    .map(
      (r) =>
        `<xdsb:DocumentRequest>${r.homeCommunityId ? `<xdsb:HomeCommunityId>${r.homeCommunityId}</xdsb:HomeCommunityId>` : ''}` +
        `<xdsb:RepositoryUniqueId>${r.repositoryUniqueId}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>${r.documentUniqueId}</xdsb:DocumentUniqueId></xdsb:DocumentRequest>`,
    )
    .join('');
  const body = `<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="${NS.xdsb}">${requests}</xdsb:RetrieveDocumentSetRequest>`;
  return post(url, Buffer.from(envelope(ITI43, url, body)), `application/soap+xml; charset=UTF-8; action="${ITI43}"`);
}

export async function post(url: string, body: Buffer, contentType: string): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(body) });
  const ct = res.headers.get('content-type') ?? '';
  const bytes = Buffer.from(await res.arrayBuffer());
  const parts = new Map<string, Buffer>();
  let root: Buffer = bytes;
  const type = parseMediaType(ct);
  if (type.type === 'multipart/related') {
    const parser = new MultipartParser(type.params.boundary!, { maxFileSize: 1e9, maxTotalSize: 1e9 });
    const start = normaliseContentId(type.params.start ?? '');
    for (const p of parser.write(bytes)) {
      const id = normaliseContentId(p.headers['content-id'] ?? '');
      const data = Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength);
      if (id === start) root = data;
      else parts.set(id, data);
    }
    parser.finish();
  }
  const env = parseXml(root);
  const soapBody = childElement(env, NS.soap12, 'Body')!;
  return { httpStatus: res.status, contentType: ct, body: childElements(soapBody)[0]!, parts };
}

/** Status short name of a RegistryResponse (or the one inside a RetrieveDocumentSetResponse). */
export function status(body: XmlElement): string {
  const rr = body.local === 'RegistryResponse' ? body : childElement(body, NS.rs, 'RegistryResponse')!;
  return (rr.attrs['status'] ?? '').split(':').pop() ?? '';
}

export function errorCodes(body: XmlElement): string[] {
  return descendants(body, NS.rs, 'RegistryError').map((e) => e.attrs['errorCode'] ?? '');
}

export interface RetrievedDoc {
  repositoryUniqueId: string;
  documentUniqueId: string;
  homeCommunityId?: string;
  mimeType: string;
  bytes: Buffer;
}

export function documents(answer: Answer): RetrievedDoc[] {
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
