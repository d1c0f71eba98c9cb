/**
 * The runner's own SOAP 1.2 client: WS-Addressing 2005/08 headers, the action in the Content-Type,
 * MTOM/XOP for requests that carry documents, and response parsing for plain SOAP and MTOM
 * multipart answers. Written independently of the node's connector so that the runner tests the
 * node as a black box.
 */
import { randomUUID } from 'node:crypto';
import { NS } from '../../registry/xml/namespaces.js';
import { childElementsOf, type Doc, type Elem, firstChild, localNameOf, parseXmlDom, serializeDom, textOf } from './dom.js';

export const ACTION = {
  register: 'urn:ihe:iti:2007:RegisterDocumentSet-b',
  storedQuery: 'urn:ihe:iti:2007:RegistryStoredQuery',
  provideAndRegister: 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b',
  retrieve: 'urn:ihe:iti:2007:RetrieveDocumentSet',
  crossGatewayQuery: 'urn:ihe:iti:2007:CrossGatewayQuery',
  crossGatewayRetrieve: 'urn:ihe:iti:2007:CrossGatewayRetrieve',
  deleteDocumentSet: 'urn:ihe:iti:2010:DeleteDocumentSet',
  updateDocumentSet: 'urn:ihe:iti:2010:UpdateDocumentSet',
  restrictedUpdateDocumentSet: 'urn:ihe:iti:2018:RestrictedUpdateDocumentSet',
  removeDocuments: 'urn:ihe:iti:2017:RemoveDocuments',
  multiPatientQuery: 'urn:ihe:iti:2009:MultiPatientStoredQuery',
} as const;

export interface Attachment {
  readonly contentId: string;
  readonly contentType: string;
  readonly bytes: Uint8Array;
}

export interface SoapRequest {
  readonly url: string;
  readonly action: string;
  /** The body payload XML (one element, serialised without declaration). */
  readonly bodyXml: string;
  /** Attachments referenced from bodyXml by xop:Include; when present the request is sent as MTOM. */
  readonly attachments?: readonly Attachment[];
  readonly timeoutMs?: number;
}

export interface SoapResponse {
  readonly httpStatus: number;
  readonly contentType: string;
  /** The SOAP envelope as text (root part for MTOM). */
  readonly envelopeText: string;
  readonly envelope?: Doc;
  /** First element child of soap:Body. */
  readonly body?: Elem;
  readonly fault?: { code: string; reason: string };
  /** MTOM parts by Content-ID (without angle brackets). */
  readonly parts: ReadonlyMap<string, Uint8Array>;
  /** The raw request that was sent (envelope text), kept for the step log. */
  readonly requestEnvelope: string;
}

export function buildEnvelope(action: string, to: string, bodyXml: string, messageId = `urn:uuid:${randomUUID()}`): string {
  return '<?xml version="1.0" encoding="UTF-8"?>' +
    `<soap:Envelope xmlns:soap="${NS.soap12}" xmlns:wsa="${NS.wsa}">` +
    '<soap:Header>' +
    `<wsa:Action soap:mustUnderstand="1">${escapeText(action)}</wsa:Action>` +
    `<wsa:MessageID>${escapeText(messageId)}</wsa:MessageID>` +
    '<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>' +
    `<wsa:To soap:mustUnderstand="1">${escapeText(to)}</wsa:To>` +
    '</soap:Header>' +
    `<soap:Body>${bodyXml}</soap:Body>` +
    '</soap:Envelope>';
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Builds the HTTP body and Content-Type for a request: plain SOAP 1.2, or MTOM multipart/related. */
export function encodeRequest(req: SoapRequest, envelope: string): { body: Uint8Array<ArrayBuffer>; contentType: string } {
  if (!req.attachments || req.attachments.length === 0) {
    return {
      body: new Uint8Array(new TextEncoder().encode(envelope)),
      contentType: `application/soap+xml; charset=UTF-8; action="${req.action}"`,
    };
  }
  const boundary = `MIMEBoundary_${randomUUID().replace(/-/g, '')}`;
  const rootId = `root.message@koblingspunkt.conformance`;
  const chunks: Uint8Array[] = [];
  const enc = new TextEncoder();
  chunks.push(enc.encode(
    `--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"; action="${req.action}"\r\n` +
    `Content-Transfer-Encoding: binary\r\nContent-ID: <${rootId}>\r\n\r\n${envelope}\r\n`,
  ));
  for (const a of req.attachments) {
    chunks.push(enc.encode(
      `--${boundary}\r\nContent-Type: ${a.contentType}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${a.contentId}>\r\n\r\n`,
    ));
    chunks.push(a.bytes);
    chunks.push(enc.encode('\r\n'));
  }
  chunks.push(enc.encode(`--${boundary}--\r\n`));
  return {
    body: new Uint8Array(Buffer.concat(chunks)),
    contentType: `multipart/related; boundary="${boundary}"; type="application/xop+xml"; start="<${rootId}>"; ` +
      `start-info="application/soap+xml"; action="${req.action}"`,
  };
}

export async function sendSoap(req: SoapRequest): Promise<SoapResponse> {
  const envelope = buildEnvelope(req.action, req.url, req.bodyXml);
  const { body, contentType } = encodeRequest(req, envelope);
  const res = await fetch(req.url, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: new Uint8Array(body),
    signal: AbortSignal.timeout(req.timeoutMs ?? 120_000),
  }).catch((e: unknown) => {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new Error(`POST ${req.url} failed: ${(e as Error).message}${cause ? ` (${cause})` : ''}`);
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { ...parseSoapResponse(res.status, res.headers.get('content-type') ?? '', bytes), requestEnvelope: envelope };
}

/** Parameter value from a MIME header value (`boundary="x"`, `start=<y>`). */
export function mimeParam(headerValue: string, name: string): string | undefined {
  const re = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*("([^"]*)"|[^;\\s]*)`, 'i');
  const m = re.exec(headerValue);
  if (!m) return undefined;
  return m[2] ?? m[1];
}

interface MimePart {
  readonly headers: Map<string, string>;
  readonly body: Uint8Array;
}

export function splitMultipart(bytes: Uint8Array, boundary: string): MimePart[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const delim = Buffer.from(`--${boundary}`);
  const parts: MimePart[] = [];
  let pos = buf.indexOf(delim);
  while (pos >= 0) {
    let start = pos + delim.length;
    if (buf[start] === 0x2d && buf[start + 1] === 0x2d) break; // closing delimiter
    if (buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
    else if (buf[start] === 0x0a) start += 1;
    const next = buf.indexOf(delim, start);
    if (next < 0) break;
    let end = next;
    if (buf[end - 1] === 0x0a) end -= 1;
    if (buf[end - 1] === 0x0d) end -= 1;
    const raw = buf.subarray(start, end);
    let sep = raw.indexOf('\r\n\r\n');
    let sepLen = 4;
    if (sep < 0) {
      sep = raw.indexOf('\n\n');
      sepLen = 2;
    }
    const headerText = sep >= 0 ? raw.subarray(0, sep).toString('latin1') : '';
    const headers = new Map<string, string>();
    for (const line of headerText.split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
    }
    parts.push({ headers, body: new Uint8Array(sep >= 0 ? raw.subarray(sep + sepLen) : raw) });
    pos = next;
  }
  return parts;
}

function stripAngles(s: string): string {
  return s.trim().replace(/^</, '').replace(/>$/, '');
}

export function parseSoapResponse(httpStatus: number, contentType: string, bytes: Uint8Array): Omit<SoapResponse, 'requestEnvelope'> {
  const parts = new Map<string, Uint8Array>();
  let envelopeBytes = bytes;
  if (/^multipart\//i.test(contentType)) {
    const boundary = mimeParam(contentType, 'boundary');
    if (!boundary) throw new Error(`multipart response without boundary: ${contentType}`);
    const mime = splitMultipart(bytes, boundary);
    if (mime.length === 0) throw new Error('multipart response with no parts');
    const start = mimeParam(contentType, 'start');
    const root = (start ? mime.find((p) => stripAngles(p.headers.get('content-id') ?? '') === stripAngles(start)) : undefined) ?? mime[0]!;
    envelopeBytes = root.body;
    for (const p of mime) {
      if (p === root) continue;
      const cid = p.headers.get('content-id');
      if (cid) parts.set(stripAngles(cid), p.body);
    }
  }
  const envelopeText = new TextDecoder().decode(envelopeBytes);
  let envelope: Doc | undefined;
  let body: Elem | undefined;
  let fault: { code: string; reason: string } | undefined;
  try {
    envelope = parseXmlDom(envelopeText, 'response envelope');
    const env = envelope.documentElement as Elem;
    const bodyEl = childElementsOf(env, 'Body')[0];
    body = bodyEl ? childElementsOf(bodyEl)[0] : undefined;
    if (body && localNameOf(body) === 'Fault') {
      const code = firstChild(body, 'Code');
      const sub = code ? firstChild(code, 'Subcode') : undefined;
      const codeText = [code && firstChild(code, 'Value'), sub && firstChild(sub, 'Value')]
        .filter((x): x is Elem => !!x).map(textOf).join(' / ') || textOf(firstChild(body, 'faultcode') ?? body);
      const reason = firstChild(body, 'Reason');
      const reasonText = reason ? textOf(reason) : textOf(firstChild(body, 'faultstring') ?? body);
      fault = { code: codeText, reason: reasonText };
    }
  } catch (e) {
    envelope = undefined;
  }
  return { httpStatus, contentType, envelopeText, envelope, body, fault, parts };
}

/** The XOP/MTOM contentId referenced by an element (`<xop:Include href="cid:…"/>` child). */
export function xopReference(e: Elem): string | undefined {
  const inc = childElementsOf(e).find((c) => localNameOf(c) === 'Include' && c.namespaceURI === NS.xop);
  const href = inc?.getAttribute('href');
  if (!href) return undefined;
  return decodeURIComponent(href.replace(/^cid:/i, ''));
}

/** Bytes of an element carrying a document: an MTOM part, or inline base64 text. */
export function documentBytes(e: Elem, parts: ReadonlyMap<string, Uint8Array>): Uint8Array | undefined {
  const cid = xopReference(e);
  if (cid !== undefined) return parts.get(cid) ?? parts.get(encodeURIComponent(cid));
  return new Uint8Array(Buffer.from(textOf(e).replace(/\s+/g, ''), 'base64'));
}

export function serializeBody(doc: Doc | Elem): string {
  return serializeDom(doc).replace(/^<\?xml[^>]*\?>\s*/, '');
}
