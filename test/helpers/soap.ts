/**
 * The SOAP side of every test, in one place: the action URIs, the one envelope builder, the
 * Content-Type, and a small client over real HTTP that parses the answer (plain or MTOM).
 *
 * The envelopes are written here as text, not with the node's serializer, so that a request is
 * what a peer would send and not what the node would have produced itself. The MTOM answers are
 * split by @remix-run/multipart-parser directly, so that the node's own MIME code is not on the
 * receiving side either.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { MultipartParser } from '@remix-run/multipart-parser';
import { ACTIONS, WSA_ANONYMOUS } from '../../connector/soap/actions.js';
import { parseMediaType } from '../../connector/soap/media-type.js';
import { normaliseContentId } from '../../connector/soap/mime.js';
import { NS } from '../../registry/xml/namespaces.js';
import { parseXml } from '../../registry/xml/parse.js';
import { childElement, childElements, type XmlElement } from '../../registry/xml/tree.js';
import { soapEnvelope as nhnEnvelope } from '../../scripts/sign-assertion.js';

/**
 * The WS-Addressing actions of the IHE transactions: the product's own table, never a copy, so that
 * a test and the node cannot disagree about an action. test/soap/units.test.ts pins the table to
 * the URIs of ITI TF-2.
 */
export { ACTIONS } from '../../connector/soap/actions.js';

export interface EnvelopeOptions {
  /** wsa:Action (mustUnderstand="1"); left out for an envelope without one. */
  readonly action?: string;
  /** wsa:To (mustUnderstand="1"); left out for an envelope without one. */
  readonly to?: string;
  /** wsa:MessageID: a fresh urn:uuid unless given; `false` for none (a scripted peer's answer). */
  readonly messageId?: string | false;
  /** The wsa:ReplyTo address: anonymous unless given; `false` for none (a scripted peer's answer). */
  readonly replyTo?: string | false;
  /** Further header blocks, written after the addressing headers exactly as given. */
  readonly headers?: string;
  /** The Body's content, exactly as given. */
  readonly body?: string;
  /** The envelope namespace: SOAP 1.2 unless given (SOAP 1.1 for the version-mismatch tests). */
  readonly soapNs?: string;
}

/**
 * The one SOAP envelope of the tests (prefixes `soap` and `wsa`, which header blocks and bodies
 * given here may use). Without any header block there is no soap:Header at all.
 */
export function envelope(o: EnvelopeOptions = {}): string {
  const blocks =
    (o.action !== undefined ? `<wsa:Action soap:mustUnderstand="1">${o.action}</wsa:Action>` : '') +
    (o.messageId !== false ? `<wsa:MessageID>${o.messageId ?? `urn:uuid:${randomUUID()}`}</wsa:MessageID>` : '') +
    (o.replyTo !== false ? `<wsa:ReplyTo><wsa:Address>${o.replyTo ?? WSA_ANONYMOUS}</wsa:Address></wsa:ReplyTo>` : '') +
    (o.to !== undefined ? `<wsa:To soap:mustUnderstand="1">${o.to}</wsa:To>` : '') +
    (o.headers ?? '');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<soap:Envelope xmlns:soap="${o.soapNs ?? NS.soap12}" xmlns:wsa="${NS.wsa}">` +
    (blocks !== '' ? `<soap:Header>${blocks}</soap:Header>` : '') +
    `<soap:Body>${o.body ?? ''}</soap:Body></soap:Envelope>`
  );
}

/** The answer of a scripted peer: the body alone, no addressing headers. */
export function answerEnvelope(body: string): string {
  return envelope({ messageId: false, replyTo: false, body });
}

/** A SOAP 1.2 fault as the Body's content (for answerEnvelope); the reason is written as given. */
export function faultBody(code: 'Sender' | 'Receiver', reason: string): string {
  return (
    `<soap:Fault><soap:Code><soap:Value>soap:${code}</soap:Value></soap:Code>` +
    `<soap:Reason><soap:Text xml:lang="en">${reason}</soap:Text></soap:Reason></soap:Fault>`
  );
}

/**
 * A request carrying a SAML assertion in wsse:Security, laid out as NHN's clients send it
 * (indented, with a wsu:Timestamp valid for five minutes). The layout is the one of
 * scripts/sign-assertion.ts, the tool operators use to make such requests, so the tests send what
 * that tool sends.
 */
export function signedEnvelope(assertionXml: string, action: string, body: string, securityExtra?: string): string {
  const now = new Date();
  return nhnEnvelope(assertionXml, {
    action,
    body,
    timestamp: { created: now, expires: new Date(now.getTime() + 300_000) },
    ...(securityExtra !== undefined ? { securityExtra } : {}),
  });
}

/** The SOAP 1.2 Content-Type, with the action parameter when one is given. */
export function soapContentType(action?: string): string {
  return `application/soap+xml; charset=UTF-8${action !== undefined ? `; action="${action}"` : ''}`;
}

export interface SoapResult {
  readonly httpStatus: number;
  readonly contentType: string;
  /** The envelope's text (the root part of an MTOM answer). */
  readonly text: string;
  readonly envelope: XmlElement;
  /** First element child of the Body. */
  readonly body: XmlElement;
  /** The MTOM parts besides the root, by normalised Content-ID (empty for a plain answer). */
  readonly parts: Map<string, Buffer>;
}

/** Posts a body as it is and parses the SOAP answer. */
export async function postRaw(url: string, body: string | Uint8Array, contentType: string): Promise<SoapResult> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : new Uint8Array(body) });
  return parseSoapAnswer(res.status, res.headers.get('content-type') ?? '', Buffer.from(await res.arrayBuffer()));
}

/** A SOAP answer as received (HTTP status, Content-Type, bytes), plain or MTOM, parsed. */
export function parseSoapAnswer(httpStatus: number, ct: string, bytes: Buffer): SoapResult {
  const parts = new Map<string, Buffer>();
  let root: Buffer = bytes;
  const type = parseMediaType(ct);
  if (type.type === 'multipart/related') {
    const parser = new MultipartParser(type.params.boundary!, { maxFileSize: 1e9, maxTotalSize: 1e9 });
    // Without a start parameter the root is the first part (RFC 2387 §3.2).
    const start = type.params.start !== undefined ? normaliseContentId(type.params.start) : undefined;
    let first = true;
    for (const p of parser.write(bytes)) {
      const id = normaliseContentId(p.headers['content-id'] ?? '');
      const data = Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength);
      if (start === undefined ? first : id === start) root = data;
      else parts.set(id, data);
      first = false;
    }
    parser.finish();
  }
  const text = root.toString('utf8');
  const env = parseXml(root);
  const soapBody = childElement(env, NS.soap12, 'Body');
  const first = soapBody ? childElements(soapBody)[0] : undefined;
  if (!first) throw new Error(`no SOAP body element in answer: ${text.slice(0, 300)}`);
  return { httpStatus, contentType: ct, text, envelope: env, body: first, parts };
}

/** A plain SOAP 1.2 request to `url` (also its wsa:To), with optional extra header blocks. */
export function postSoap(url: string, action: string, bodyXml: string, extraHeaders = ''): Promise<SoapResult> {
  return postRaw(url, envelope({ action, to: url, body: bodyXml, headers: extraHeaders }), soapContentType(action));
}

/**
 * An ITI-42 carrying `bodyXml`, on a connection of its own, whose body is sent in two halves: the
 * first now, the second by `finish` (a request in flight, for tests of a graceful stop).
 */
export function halfSentRegistration(url: string, bodyXml: string): { finish: () => void; answer: Promise<{ status: number; body: string }> } {
  const body = Buffer.from(envelope({ action: ACTIONS.iti42.request, to: `${url}/xds/registry`, body: bodyXml }));
  const half = Math.floor(body.length / 2);
  const req = request(`${url}/xds/registry`, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': soapContentType(ACTIONS.iti42.request), 'content-length': body.length },
  });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
  });
  req.write(body.subarray(0, half));
  return { finish: () => req.end(body.subarray(half)), answer };
}
