/**
 * The one outbound SOAP client of the node: SOAP 1.2 + WS-Addressing requests (plain or MTOM)
 * over an undici keep-alive pool, answers (plain or MTOM) parsed into the XmlElement tree plus
 * attachments, and every transport failure mapped to a typed SoapClientError.
 *
 * The transport knows nothing of XDS metadata: a caller hands over a body element (and header
 * blocks, attachments) and gets the answer's body element back. One client holds one connection
 * pool with one TLS configuration; a gateway makes one client per community so that each peer's
 * mutual-TLS settings and pool stay its own.
 *
 * Timeouts are enforced with an AbortController whose timer is always cleared, so no timer or
 * socket outlives a call: an aborted request's socket is destroyed by undici, a finished one goes
 * back to the pool (and is closed after keepAliveTimeoutMs idle).
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Agent, errors as undiciErrors } from 'undici';
import { parseXml, XmlParseError } from '../../registry/xml/parse.js';
import { NS } from '../../registry/xml/namespaces.js';
import { escapeText, serializeXml } from '../../registry/xml/serialize.js';
import { childElement, childElements, textContent, type XmlElement } from '../../registry/xml/tree.js';
import { WSA_ANONYMOUS } from './actions.js';
import { checkEnvelopeElement } from './envelope.js';
import { SoapFault, type QName } from './fault.js';
import { parseMediaType } from './media-type.js';
import { parseMultipartRelated, type Attachment, type Attachments } from './mime.js';
import { mtomPackage, soapContentType, type MtomPackage } from './response.js';

/** TLS settings of one peer: PEM strings or buffers (read by the caller), for mutual TLS when cert+key are given. */
export interface ClientTlsOptions {
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly passphrase?: string;
  /** Verify the server certificate (default true; false only for test networks). */
  readonly rejectUnauthorized?: boolean;
  /** SNI / certificate host name when it differs from the URL's host. */
  readonly servername?: string;
}

export interface SoapClientOptions {
  /** Most open connections per origin (the keep-alive pool). Default 16. */
  readonly connections?: number;
  /** Idle keep-alive sockets are closed after this long. Default 4 s (below typical server idle timeouts). */
  readonly keepAliveTimeoutMs?: number;
  /** Largest accepted response body, in bytes. Default 100 MiB. */
  readonly maxResponseBytes?: number;
  /** Deepest accepted XML nesting in a response. Default 200. */
  readonly maxXmlDepth?: number;
  readonly tls?: ClientTlsOptions;
}

export interface SoapCall {
  readonly url: string;
  /** wsa:Action (also the Content-Type action parameter). */
  readonly action: string;
  /** The body content: an element, or self-contained XML text. */
  readonly body: XmlElement | string;
  /** Extra header blocks (after the WS-Addressing ones): elements, or self-contained XML text (kept byte for byte). */
  readonly headers?: readonly (XmlElement | string)[];
  /** Send as MTOM even without attachments. */
  readonly mtom?: boolean;
  /** Attachments by Content-ID (no brackets); a non-empty map implies MTOM. */
  readonly attachments?: ReadonlyMap<string, Attachment>;
  /** Whole-call deadline (connect, send, wait, read), in ms. */
  readonly timeoutMs: number;
  /** Aborts the call early (e.g. the consumer went away). */
  readonly signal?: AbortSignal;
}

export interface SoapResponse {
  readonly httpStatus: number;
  readonly action?: string;
  readonly messageId?: string;
  readonly relatesTo?: string;
  readonly header?: XmlElement;
  /** First element child of env:Body. */
  readonly body: XmlElement;
  readonly envelope: XmlElement;
  /** MTOM parts by normalised Content-ID (empty for a plain answer). */
  readonly attachments: Attachments;
}

export type SoapClientErrorKind =
  /** The deadline passed before the answer was complete. */
  | 'timeout'
  /** No connection (refused, reset, DNS, TLS handshake) or the socket broke mid-call. */
  | 'connection'
  /** The caller's signal aborted the call. */
  | 'aborted'
  /** The peer answered with a SOAP fault. */
  | 'fault'
  /** The peer answered something that is not a usable SOAP message (or an HTTP error without one). */
  | 'protocol';

export interface ReceivedFault {
  readonly code: string;
  readonly subcodes: readonly QName[];
  readonly reason: string;
}

export class SoapClientError extends Error {
  constructor(
    readonly kind: SoapClientErrorKind,
    message: string,
    readonly details: { httpStatus?: number; fault?: ReceivedFault; cause?: unknown } = {},
  ) {
    super(message);
    this.name = 'SoapClientError';
  }
}

export class SoapClient {
  private readonly agent: Agent;
  private readonly maxResponseBytes: number;
  private readonly maxXmlDepth: number;

  constructor(options: SoapClientOptions = {}) {
    const tls = options.tls;
    this.agent = new Agent({
      connections: options.connections ?? 16,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
      // Our own deadline governs; undici's 300 s defaults must not keep sockets beyond it.
      headersTimeout: 0,
      bodyTimeout: 0,
      ...(tls
        ? {
            connect: {
              ...(tls.ca !== undefined ? { ca: tls.ca as string | Buffer | (string | Buffer)[] } : {}),
              ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
              ...(tls.key !== undefined ? { key: tls.key } : {}),
              ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}),
              ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
              rejectUnauthorized: tls.rejectUnauthorized ?? true,
            },
          }
        : {}),
    });
    this.maxResponseBytes = options.maxResponseBytes ?? 100 * 1024 * 1024;
    this.maxXmlDepth = options.maxXmlDepth ?? 200;
  }

  /** Sends one request and returns the parsed answer; throws SoapClientError for every failure. */
  async call(call: SoapCall): Promise<SoapResponse> {
    const url = new URL(call.url);
    const { xml, messageId } = buildRequestEnvelope(call, url.href);
    const attachments = call.attachments ?? new Map<string, Attachment>();
    let body: Buffer | Readable;
    let length: number;
    let contentType: string;
    if (call.mtom || attachments.size > 0) {
      const pkg = mtomPackage(call.action, xml, attachments);
      body = Readable.from(mtomBody(pkg.chunks), { objectMode: false });
      length = pkg.length;
      contentType = pkg.contentType;
    } else {
      body = Buffer.from(xml, 'utf8');
      length = body.length;
      contentType = soapContentType(call.action);
    }

    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, call.timeoutMs);
    const onCallerAbort = (): void => controller.abort();
    call.signal?.addEventListener('abort', onCallerAbort, { once: true });
    if (call.signal?.aborted) controller.abort();
    try {
      const res = await this.agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { 'content-type': contentType, 'content-length': String(length), accept: 'application/soap+xml, multipart/related' },
        body,
        signal: controller.signal,
      });
      const raw = await readLimited(res.body, this.maxResponseBytes);
      const responseType = typeof res.headers['content-type'] === 'string' ? res.headers['content-type'] : undefined;
      return this.parseResponse(res.statusCode, responseType, raw, messageId);
    } catch (e) {
      if (e instanceof SoapClientError) throw e;
      if (timedOut) throw new SoapClientError('timeout', `no complete answer from ${url.origin} within ${call.timeoutMs} ms`, { cause: e });
      if (call.signal?.aborted) throw new SoapClientError('aborted', 'the call was aborted', { cause: e });
      throw new SoapClientError('connection', `cannot reach ${url.origin}: ${describe(e)}`, { cause: e });
    } finally {
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  /** Closes the pool: idle sockets at once, busy ones after their call. */
  close(): Promise<void> {
    return this.agent.close();
  }

  private parseResponse(status: number, contentType: string | undefined, raw: Buffer, requestMessageId: string): SoapResponse {
    const type = parseMediaType(contentType);
    let xml: Buffer | string = raw;
    let attachments: Attachments = new Map();
    const soapTypes = ['application/soap+xml', 'multipart/related', 'text/xml', 'application/xml'];
    if (!soapTypes.includes(type.type)) {
      throw new SoapClientError('protocol', `HTTP ${status} with Content-Type '${type.type || '(none)'}', not a SOAP message`, { httpStatus: status });
    }
    try {
      if (type.type === 'multipart/related') {
        const mp = parseMultipartRelated(raw, type, { maxParts: 10_000 });
        xml = mp.envelope;
        attachments = mp.attachments;
      }
    } catch (e) {
      if (e instanceof SoapFault) throw new SoapClientError('protocol', `malformed MTOM answer: ${e.reason}`, { httpStatus: status });
      throw e;
    }
    let envelope: XmlElement;
    try {
      envelope = parseXml(xml, { maxBytes: this.maxResponseBytes, maxDepth: this.maxXmlDepth });
      checkEnvelopeElement(envelope);
    } catch (e) {
      if (e instanceof XmlParseError || e instanceof SoapFault) {
        throw new SoapClientError('protocol', `HTTP ${status}: the answer is not a SOAP 1.2 envelope: ${e.message}`, { httpStatus: status });
      }
      throw e;
    }
    const header = childElement(envelope, NS.soap12, 'Header');
    const bodyElement = childElement(envelope, NS.soap12, 'Body');
    const body = bodyElement ? childElements(bodyElement)[0] : undefined;
    if (!body) throw new SoapClientError('protocol', `HTTP ${status}: the answer has an empty SOAP Body`, { httpStatus: status });
    if (body.ns === NS.soap12 && body.local === 'Fault') {
      const fault = readFault(body);
      throw new SoapClientError('fault', `SOAP fault ${fault.code}: ${fault.reason}`, { httpStatus: status, fault });
    }
    if (status < 200 || status >= 300) {
      throw new SoapClientError('protocol', `HTTP ${status} without a SOAP fault`, { httpStatus: status });
    }
    const wsa = (local: string): string | undefined => {
      const h = header ? childElement(header, NS.wsa, local) : undefined;
      return h ? textContent(h).trim() : undefined;
    };
    const relatesTo = wsa('RelatesTo');
    if (relatesTo !== undefined && relatesTo !== requestMessageId) {
      throw new SoapClientError('protocol', `the answer relates to ${relatesTo}, not to our request ${requestMessageId}`, { httpStatus: status });
    }
    const action = wsa('Action');
    const messageId = wsa('MessageID');
    return {
      httpStatus: status,
      ...(action !== undefined ? { action } : {}),
      ...(messageId !== undefined ? { messageId } : {}),
      ...(relatesTo !== undefined ? { relatesTo } : {}),
      ...(header ? { header } : {}),
      body,
      envelope,
      attachments,
    };
  }
}

/** The request envelope: wsa:Action and wsa:To with mustUnderstand, a fresh MessageID, anonymous ReplyTo (docs/norway.md, Identifiers). */
export function buildRequestEnvelope(call: Pick<SoapCall, 'action' | 'body' | 'headers'>, to: string): { xml: string; messageId: string } {
  const messageId = `urn:uuid:${randomUUID()}`;
  const extra = (call.headers ?? []).map((h) => (typeof h === 'string' ? h : serializeXml(h))).join('');
  const body = typeof call.body === 'string' ? call.body : serializeXml(call.body);
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<soap:Envelope xmlns:soap="${NS.soap12}" xmlns:wsa="${NS.wsa}">` +
    `<soap:Header>` +
    `<wsa:Action soap:mustUnderstand="1">${escapeText(call.action)}</wsa:Action>` +
    `<wsa:MessageID>${messageId}</wsa:MessageID>` +
    `<wsa:ReplyTo><wsa:Address>${WSA_ANONYMOUS}</wsa:Address></wsa:ReplyTo>` +
    `<wsa:To soap:mustUnderstand="1">${escapeText(to)}</wsa:To>` +
    extra +
    `</soap:Header>` +
    `<soap:Body>${body}</soap:Body>` +
    `</soap:Envelope>`;
  return { xml, messageId };
}

/** The MTOM package as a byte stream: spooled attachments are streamed in place, never loaded whole. */
async function* mtomBody(chunks: MtomPackage['chunks']): AsyncIterable<Buffer> {
  for (const chunk of chunks) {
    if (Buffer.isBuffer(chunk)) {
      yield chunk;
      continue;
    }
    const stream = chunk.stream();
    try {
      for await (const piece of stream) yield piece as Buffer;
    } finally {
      stream.destroy();
    }
  }
}

async function readLimited(body: AsyncIterable<Buffer> & { destroy(err?: Error): unknown }, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) {
      body.destroy();
      throw new SoapClientError('protocol', `the answer is larger than ${max} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function readFault(fault: XmlElement): ReceivedFault {
  const code = childElement(fault, NS.soap12, 'Code');
  const value = code ? childElement(code, NS.soap12, 'Value') : undefined;
  const subcodes: QName[] = [];
  let sub = code ? childElement(code, NS.soap12, 'Subcode') : undefined;
  while (sub) {
    const v = childElement(sub, NS.soap12, 'Value');
    if (v) subcodes.push(resolveQName(textContent(v).trim(), v));
    sub = childElement(sub, NS.soap12, 'Subcode');
  }
  const reasonEl = childElement(fault, NS.soap12, 'Reason');
  const text = reasonEl ? childElement(reasonEl, NS.soap12, 'Text') : undefined;
  const codeName = value ? resolveQName(textContent(value).trim(), value) : { ns: NS.soap12, local: 'Receiver' };
  return { code: codeName.local, subcodes, reason: text ? textContent(text).trim() : '' };
}

/** A QName written in element text, resolved with the namespace declarations in scope there. */
function resolveQName(text: string, where: XmlElement): QName {
  const colon = text.indexOf(':');
  if (colon === -1) return { ns: where.nsScope?.[''] ?? '', local: text };
  return { ns: where.nsScope?.[text.slice(0, colon)] ?? '', local: text.slice(colon + 1) };
}

function describe(e: unknown): string {
  if (e instanceof undiciErrors.UndiciError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    const cause = (e as { cause?: unknown }).cause;
    const base = code !== undefined ? `${code}: ${e.message}` : e.message;
    return cause instanceof Error ? `${base} (${describe(cause)})` : base;
  }
  return String(e);
}
