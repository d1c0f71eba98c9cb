/**
 * Test harness for the SOAP transport: a real express app on 127.0.0.1 with an echo endpoint, and
 * a raw HTTP client that can send exactly the bytes real peers send (odd Content-Types, chunked
 * bodies, lying Content-Length).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import winston from 'winston';
import { createLogger } from '../../connector/log.js';
import { soapEndpoint, type SoapEndpointOptions, type SoapHandler } from '../../connector/soap/endpoint.js';
import { SoapFault } from '../../connector/soap/fault.js';
import { binaryContent, newContentId, xopInclude, xopReference } from '../../connector/soap/xop.js';
import { NS } from '../../registry/xml/namespaces.js';
import { parseXml } from '../../registry/xml/parse.js';
import { childElement, childElements, el, textContent, type XmlElement } from '../../registry/xml/tree.js';
import { ACTIONS, envelope, type EnvelopeOptions } from '../helpers/soap.js';

export const T = 'urn:test:soap';
export const ACTION = {
  echo: 'urn:test:Echo',
  mtom: 'urn:test:Mtom',
  mtomEmpty: 'urn:test:MtomEmpty',
  throws: 'urn:test:Throw',
  fault: 'urn:test:Fault',
  badReply: 'urn:test:BadReply',
  /** An IHE action, for the tests of what the endpoint does with a real one. */
  xcq: ACTIONS.iti38.request,
} as const;

export const SECRET = 'sekret-internal-detail-4711';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * Echo: answers `t:Echo` with the request's addressing values, its body, and per attachment the
 * Content-ID, type, size and hash; per element with an xop:Include, the resolved content's hash.
 */
const echo: SoapHandler = async (req) => {
  const attachments = [...req.attachments].map(([id, a]) =>
    el(T, 'Attachment', { id, type: a.contentType, size: String(a.data!.length), sha256: sha(a.data!) }),
  );
  const resolved: XmlElement[] = [];
  const walk = (e: XmlElement): void => {
    const ref = xopReference(e);
    if (ref !== undefined) resolved.push(el(T, 'Resolved', { element: e.local, sha256: sha(binaryContent(e, req.attachments)) }));
    for (const c of childElements(e)) walk(c);
  };
  walk(req.body);
  const headerNames = req.header ? childElements(req.header).map((h) => el(T, 'Header', { ns: h.ns, local: h.local })) : [];
  return {
    action: `${req.action}Response`,
    body: el(
      T,
      'Echo',
      { action: req.action, messageId: req.messageId, to: req.to },
      // A body with xop:Include elements is not echoed: the reply would reference parts it does not carry.
      [el(T, 'Body', {}, [resolved.length > 0 ? el(T, 'Omitted', { local: req.body.local }) : req.body]), ...attachments, ...resolved, ...headerNames],
    ),
  };
};

/** Answers MTOM with one attachment per t:Doc element (its text as the document bytes). */
const mtom: SoapHandler = async (req) => {
  const parts = new Map<string, { contentType: string; data: Buffer }>();
  const docs = childElements(req.body, T, 'Doc').map((d) => {
    const id = newContentId();
    parts.set(id, { contentType: 'application/octet-stream', data: Buffer.from(textContent(d), 'utf8') });
    return el(T, 'Document', {}, [xopInclude(id)]);
  });
  return { action: `${req.action}Response`, body: el(T, 'Documents', {}, docs), attachments: parts };
};

export interface Server {
  readonly url: string;
  readonly logLines: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startServer(overrides: Partial<SoapEndpointOptions> = {}): Promise<Server> {
  const logLines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', silent: false });
  // Keep test output clean: replace the console transport by one that records JSON lines.
  logger.clear();
  logger.add(
    new winston.transports.Stream({
      stream: new Writable({
        write(chunk: Buffer, _enc, done) {
          logLines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
          done();
        },
      }),
    }),
  );
  const app = express();
  app.use(
    '/soap',
    soapEndpoint({
      actions: {
        [ACTION.echo]: echo,
        [ACTION.xcq]: echo,
        [ACTION.mtom]: mtom,
        [ACTION.mtomEmpty]: async (req) => ({ action: `${req.action}Response`, body: el(T, 'Nothing'), mtom: true }),
        [ACTION.throws]: async () => {
          throw new Error(`database password is ${SECRET}`);
        },
        [ACTION.badReply]: async (req) => ({ action: `${req.action}Response`, body: el(T, 'Doc', {}, [xopInclude('missing@x')]) }),
        [ACTION.fault]: async () => {
          throw new SoapFault({ code: 'Sender', subcode: { ns: NS.wsse, local: 'FailedAuthentication' }, reason: 'no token' });
        },
      },
      maxBodyBytes: 64 * 1024,
      logger,
      ...overrides,
    }),
  );
  const server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/soap`,
    logLines,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface SendOptions {
  method?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Write the body with chunked transfer encoding, in pieces of this size. */
  chunkSize?: number;
  /** Give up (reject) after this many ms. */
  timeoutMs?: number;
  /** Write the body and then keep the request open without ending it. */
  leaveOpen?: boolean;
}

/** Sends raw bytes with node's http client and resolves with the complete response. */
export function send(url: string, body: string | Buffer, options: SendOptions = {}): Promise<RawResponse> {
  const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return new Promise<RawResponse>((resolve, reject) => {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.contentType !== undefined) headers['content-type'] = options.contentType;
    if (options.chunkSize === undefined && headers['content-length'] === undefined && data.length > 0) {
      headers['content-length'] = String(data.length);
    }
    const req = http.request(url, { method: options.method ?? 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no response within ${options.timeoutMs ?? 5000} ms`));
    }, options.timeoutMs ?? 5000);
    // The server may close while we are still sending an oversize body; the response still counts.
    // (EPIPE/ECONNRESET while writing): wait briefly for that response before failing.
    req.on('error', (e) => {
      setTimeout(() => {
        clearTimeout(timer);
        reject(e);
      }, 500);
    });
    if (options.chunkSize !== undefined) {
      for (let i = 0; i < data.length; i += options.chunkSize) req.write(data.subarray(i, i + options.chunkSize));
    } else if (data.length > 0) {
      req.write(data);
    }
    if (!options.leaveOpen) req.end();
  });
}

export interface SoapAnswer {
  readonly envelope: XmlElement;
  readonly header: XmlElement | undefined;
  /** First element child of the Body. */
  readonly body: XmlElement;
}

/** Parses a SOAP 1.2 envelope from text. */
export function parseSoap(xml: string | Buffer): SoapAnswer {
  const envelope = parseXml(xml);
  const bodyEl = childElement(envelope, NS.soap12, 'Body');
  const body = bodyEl ? childElements(bodyEl)[0] : undefined;
  if (!body) throw new Error(`no body element in ${xml.toString().slice(0, 200)}`);
  return { envelope, header: childElement(envelope, NS.soap12, 'Header'), body };
}

export function headerText(answer: SoapAnswer, ns: string, local: string): string | undefined {
  const h = answer.header ? childElement(answer.header, ns, local) : undefined;
  return h ? textContent(h) : undefined;
}

/** Fault code chain of a SOAP 1.2 fault: ['soap:Sender', 'wsa:ActionNotSupported', …] resolved to {ns}local. */
export function faultCodes(answer: SoapAnswer): string[] {
  const out: string[] = [];
  let node = childElement(answer.body, NS.soap12, 'Code');
  while (node) {
    const value = childElement(node, NS.soap12, 'Value');
    if (!value) break;
    out.push(resolveQName(textContent(value).trim(), value));
    node = childElement(node, NS.soap12, 'Subcode');
  }
  return out;
}

export function faultReason(answer: SoapAnswer): string {
  const reason = childElement(answer.body, NS.soap12, 'Reason');
  const text = reason ? childElement(reason, NS.soap12, 'Text') : undefined;
  return text ? textContent(text) : '';
}

/** Resolves a QName-valued text or attribute against the namespaces in scope of `context`. */
export function resolveQName(qname: string, context: XmlElement): string {
  const colon = qname.indexOf(':');
  const prefix = colon === -1 ? '' : qname.slice(0, colon);
  const local = colon === -1 ? qname : qname.slice(colon + 1);
  const uri = context.nsScope?.[prefix];
  if (uri === undefined && prefix !== '') throw new Error(`prefix ${prefix} of ${qname} is not declared`);
  return `{${uri ?? ''}}${local}`;
}

/** The MessageID and To of echoRequest: the echo answers are checked against them. */
export const ECHO_MESSAGE_ID = 'urn:uuid:11111111-2222-3333-4444-555555555555';
export const ECHO_TO = 'http://127.0.0.1/soap';

/** A request to the echo server: the tests' one envelope with a fixed MessageID and To, and a t:Ping body unless given. */
export function echoRequest(o: EnvelopeOptions = {}): string {
  return envelope({ messageId: ECHO_MESSAGE_ID, to: ECHO_TO, body: `<t:Ping xmlns:t="${T}">hello</t:Ping>`, ...o });
}
