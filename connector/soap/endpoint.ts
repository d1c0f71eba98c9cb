/**
 * One SOAP 1.2 endpoint as an express handler: reads the body (size-limited, in the handler rather
 * than through a global body parser), unpacks MTOM, checks the envelope and WS-Addressing, routes
 * on the action to a transaction handler, and writes its reply or a SOAP fault.
 *
 * The transport knows nothing of XDS metadata: a handler gets the body element and attachments and
 * returns a body element (and attachments). `GET <endpoint>?wsdl` serves the endpoint's WSDL.
 */
import type { ServerResponse } from 'node:http';
import type express from 'express';
import type winston from 'winston';
import { parseXml, XmlParseError, type XmlParseLimits } from '../../registry/xml/parse.js';
import type { XmlElement } from '../../registry/xml/tree.js';
import { requestLogger } from '../log.js';
import type { RoutedHandler, RoutedRequest } from '../http/direct-routes.js';
import { BodyReadError, readBody } from './body.js';
import { BUSY_RETRY_AFTER_SECONDS, requestBuffers } from '../http/budget.js';
import { readEnvelope, peekMessageId, QNameSet, type SoapEnvelope } from './envelope.js';
import {
  actionNotSupported,
  faultBodyXml,
  faultHeaderXml,
  invalidAddressingHeader,
  messageAddressingHeaderRequired,
  SoapFault,
  soap11VersionMismatchXml,
  WSA_FAULT,
  type QName,
} from './fault.js';
import { parseMediaType, type MediaType } from './media-type.js';
import { normaliseContentId, parseMultipartRelated, type Attachment, type Attachments } from './mime.js';
import { readMultipartStream, type PartSpooler } from './mime-stream.js';
import { buildEnvelope, buildEnvelopeBytes, sendSoap } from './response.js';
import { Arena } from '../../registry/xml/byte-slab.js';
import { descriptionLoader, descriptionRequest, rewriteDescription } from './description.js';
import { xopReferences } from './xop.js';
import { TextDecoder } from 'node:util';

export interface SoapRequest {
  /** The WS-Addressing action (or, without wsa:Action, the Content-Type action). */
  readonly action: string;
  readonly messageId?: string;
  readonly to?: string;
  readonly header?: XmlElement;
  /** First element child of env:Body. */
  readonly body: XmlElement;
  readonly envelope: XmlElement;
  /**
   * The envelope text exactly as received (the root MIME part of an MTOM request, after charset
   * decoding). XML signatures cover these bytes, not our tree, which drops layout whitespace: the
   * XUA verifier and the gateway's assertion forwarding cut the assertion out of it. Decoded
   * lazily on first use, since a large inline-base64 body should not be copied for nothing.
   */
  readonly rawEnvelope: string;
  /** The same text as the parser got it: UTF-8 bytes as received, or the decoded string (no copy). */
  readonly rawEnvelopeBytes: Buffer | string;
  /** MTOM attachments by normalised Content-ID (empty for an inline request). */
  readonly attachments: Attachments;
  /** Node's request (connector/http/direct-routes.ts: POSTs may reach the endpoint without express). */
  readonly httpRequest: RoutedRequest;
  /** Logger carrying this request's messageId and action. */
  readonly logger: winston.Logger;
}

export interface SoapReply {
  /** wsa:Action of the reply. */
  action: string;
  body: XmlElement;
  /** Answer as MTOM even when there are no attachments (ITI-43/39 always answer MTOM). */
  mtom?: boolean;
  /** Attachments by Content-ID (no brackets; see xop.ts newContentId/xopInclude). Non-empty implies MTOM. */
  attachments?: ReadonlyMap<string, Attachment>;
  /** Extra SOAP header blocks for the reply. */
  headers?: readonly XmlElement[];
}

export type SoapHandler = (req: SoapRequest) => Promise<SoapReply>;

/** How a request ended, as an observer (metrics) sees it: the reply body sent, the fault sent, or nobody left to answer. */
export type SoapOutcome = { readonly reply: XmlElement } | { readonly fault: SoapFault } | { readonly aborted: true };

/**
 * Called once per POST after its answer is out (or the client is gone): the action (undefined when
 * the request failed before it was read), the HTTP status (0 when nothing was sent) and the time
 * since the request arrived. Must not throw; anything it throws is ignored.
 */
export type SoapObserver = (action: string | undefined, status: number, ms: number, outcome: SoapOutcome) => void;

/** The reader's caps on counts, as limits.xml configures them. */
export type XmlCaps = Omit<XmlParseLimits, 'maxBytes' | 'maxDepth'>;

export interface SoapEndpointOptions {
  /** Handlers by request action URI. */
  actions: Record<string, SoapHandler>;
  /** Header blocks besides WS-Addressing that handlers process (e.g. wsse:Security when XUA is configured). */
  understoodHeaders?: readonly QName[];
  maxBodyBytes: number;
  maxXmlDepth?: number;
  /** Counts an envelope may not exceed (elements, attributes, namespace declarations); the reader's defaults otherwise. */
  xmlCaps?: XmlCaps;
  /** Give up on a request body that stops arriving for this long. Default 30 s. */
  bodyIdleTimeoutMs?: number;
  /** Most MIME parts accepted in an MTOM request. Default 10,000. */
  maxParts?: number;
  /**
   * When set, MTOM requests are parsed while they stream in: the envelope is kept in memory (at most
   * `maxEnvelopeBytes`), every other part goes to the spooler, and the handler gets spooled
   * attachments (see mime-stream.ts). Spooled attachments are released once the handler returned.
   */
  spooler?: PartSpooler;
  /** Largest SOAP envelope of a streamed MTOM request. Default: maxBodyBytes. */
  maxEnvelopeBytes?: number;
  logger: winston.Logger;
  /** WSDL file served at `GET <endpoint>?wsdl`. */
  wsdl?: string;
  /** Sees every POST once it is answered (connector/metrics); absent, nothing is measured. */
  observe?: SoapObserver;
}

const GENERIC_RECEIVER_REASON = 'The request could not be processed because of an internal error';

export function soapEndpoint(options: SoapEndpointOptions): RoutedHandler {
  const understood = new QNameSet(options.understoodHeaders ?? []);
  const actions = new Map(Object.entries(options.actions));
  const loadDescription = options.wsdl === undefined ? undefined : descriptionLoader(options.wsdl);

  return (routed, response, next) => {
    if (routed.method === 'POST') {
      void handlePost(routed, response, options, actions, understood);
      return;
    }
    // Anything but a POST came through express (directRoutes takes only its POSTs): its helpers are there.
    const req = routed as express.Request;
    const res = response as express.Response;
    const description = req.method === 'GET' && loadDescription ? descriptionRequest(req.originalUrl) : undefined;
    if (description && loadDescription) {
      loadDescription(description).then((text) => {
        if (text === undefined) {
          res.status(404).type('text/plain').send('no such schema');
          return;
        }
        res.status(200).type('text/xml; charset=UTF-8').send(rewriteDescription(text, serviceUrl(req)));
      }, next);
      return;
    }
    res.status(405).setHeader('Allow', options.wsdl !== undefined ? 'POST, GET' : 'POST');
    res.type('text/plain').send('SOAP endpoint: POST a SOAP 1.2 message');
  };
}

interface DecodedRequest {
  xml: Buffer | string;
  attachments: Attachments;
  contentTypeAction: string | undefined;
}

async function handlePost(
  req: RoutedRequest,
  res: ServerResponse,
  options: SoapEndpointOptions,
  actions: ReadonlyMap<string, SoapHandler>,
  understood: QNameSet,
): Promise<void> {
  const started = Date.now();
  let log = options.logger;
  let messageId: string | undefined;
  let action: string | undefined;
  let bodyConsumed = false;
  let decoded: DecodedRequest | undefined;
  // The body read below stays in memory until this returns, which can be after the client has
  // gone: its share of the memory budget is given back then, not when the connection closes.
  const buffers = requestBuffers(req);
  buffers?.retain();
  try {
    const outer = parseMediaType(req.headers['content-type']);
    checkOuterType(outer);
    if (options.spooler && outer.type === 'multipart/related') {
      const mp = await readMultipartStream(req, outer, options.spooler, {
        maxBytes: options.maxBodyBytes,
        idleTimeoutMs: options.bodyIdleTimeoutMs ?? 30_000,
        maxParts: options.maxParts ?? 10_000,
        maxRootBytes: options.maxEnvelopeBytes ?? options.maxBodyBytes,
      });
      bodyConsumed = true;
      decoded = { xml: decodeCharset(mp.envelope, mp.rootType), attachments: mp.attachments, contentTypeAction: mp.action };
    } else {
      const raw = await readBody(req, {
        maxBytes: options.maxBodyBytes,
        idleTimeoutMs: options.bodyIdleTimeoutMs ?? 30_000,
      });
      bodyConsumed = true;
      decoded = decodeRequest(raw, outer, options.maxParts ?? 10_000);
    }
    const root = parseEnvelopeXml(decoded.xml, options);
    messageId = peekMessageId(root);
    const soap = readEnvelope(root, understood);
    action = resolveAction(soap.addressing.action, decoded.contentTypeAction);
    log = requestLogger(options.logger, { messageId, action });
    const handler = actions.get(action);
    if (!handler) throw actionNotSupported(action);
    checkReferences(soap.body, decoded.attachments, 'Sender');

    const reply = await handler(new ReceivedRequest(action, soap, decoded.xml, decoded.attachments, req, log));
    checkReply(reply);
    if (decoded.attachments.size > 0) {
      // The handler is done with the request's spooled parts: free them before a possibly long
      // reply, except any the reply itself sends back (released after sending, in finally).
      const replied = new Set<Attachment>(reply.attachments?.values() ?? []);
      await releaseAttachments(new Map([...decoded.attachments].filter(([, a]) => !replied.has(a))), log);
    }
    // The answer's deferred fragments (a cold LeafClass answer's elements) are written into memory
    // that goes back to the next answers once this one has been sent (sendSoap).
    const arena = new Arena();
    const built = buildEnvelopeBytes(
      {
        action: reply.action,
        relatesTo: messageId,
        ...(reply.headers ? { headers: reply.headers } : {}),
        body: reply.body,
      },
      arena,
    );
    await sendSoap(res, {
      status: 200,
      action: reply.action,
      envelopeXml: built.chunks,
      arena,
      ...(reply.mtom !== undefined ? { mtom: reply.mtom } : {}),
      ...(reply.attachments ? { attachments: reply.attachments } : {}),
    });
    log.info('soap request', { status: 200, replyAction: reply.action, ms: Date.now() - started });
    notify(options.observe, action, 200, started, { reply: reply.body });
  } catch (e) {
    if (e instanceof BodyReadError && e.reason === 'aborted') {
      // The client is gone: there is nobody to answer.
      log.warn('soap request aborted', { reason: e.message });
      req.socket.destroy();
      notify(options.observe, action, 0, started, { aborted: true });
      return;
    }
    const fault = toFault(e, log);
    if (res.headersSent) {
      req.socket.destroy();
      notify(options.observe, action, res.statusCode, started, { fault });
      return;
    }
    // The memory budget is full: the client may try again (the body was not read).
    if (e instanceof BodyReadError && e.reason === 'busy') res.setHeader('Retry-After', String(BUSY_RETRY_AFTER_SECONDS));
    sendFault(res, fault, messageId, !bodyConsumed);
    // A full budget is load (or an attack), not a fault of ours: a warning, not an error per request.
    const level = fault.code === 'Receiver' && fault.httpStatus !== 503 ? 'error' : 'warn';
    log.log(level, 'soap fault', {
      status: fault.httpStatus,
      code: fault.code,
      subcode: fault.subcode ? `{${fault.subcode.ns}}${fault.subcode.local}` : undefined,
      reason: fault.reason,
      ms: Date.now() - started,
    });
    notify(options.observe, action, fault.httpStatus, started, { fault });
  } finally {
    if (decoded && decoded.attachments.size > 0) await releaseAttachments(decoded.attachments, log);
    buffers?.release();
  }
}

/** Hands one finished request to the observer; an observer's failure never reaches the request. */
function notify(observe: SoapObserver | undefined, action: string | undefined, status: number, started: number, outcome: SoapOutcome): void {
  if (observe === undefined) return;
  try {
    observe(action, status, Date.now() - started, outcome);
  } catch {
    // Measuring is best effort: a broken observer must not turn an answered request into a fault.
  }
}

/**
 * The request as a handler gets it. A class, not an object literal, because one is made for every
 * request: the lazily decoded envelope text is a getter on the prototype instead of an accessor
 * defined on each object, and the optional members are assigned when present instead of spread.
 */
class ReceivedRequest implements SoapRequest {
  declare readonly messageId?: string;
  declare readonly to?: string;
  declare readonly header?: XmlElement;
  readonly body: XmlElement;
  readonly envelope: XmlElement;
  private text: string | undefined;

  constructor(
    readonly action: string,
    soap: SoapEnvelope,
    readonly rawEnvelopeBytes: Buffer | string,
    readonly attachments: Attachments,
    readonly httpRequest: RoutedRequest,
    readonly logger: winston.Logger,
  ) {
    const self = this as { -readonly [K in keyof SoapRequest]: SoapRequest[K] };
    if (soap.addressing.messageId !== undefined) self.messageId = soap.addressing.messageId;
    if (soap.addressing.to !== undefined) self.to = soap.addressing.to;
    if (soap.header) self.header = soap.header;
    this.body = soap.body;
    this.envelope = soap.envelope;
  }

  get rawEnvelope(): string {
    const xml = this.rawEnvelopeBytes;
    this.text ??= typeof xml === 'string' ? xml : xml.toString('utf8');
    return this.text;
  }
}

/** Frees spooled request parts (temporary files, staged blobs nobody committed). */
const released = new WeakSet<Attachment>();

async function releaseAttachments(attachments: Attachments, log: winston.Logger): Promise<void> {
  for (const a of attachments.values()) {
    if (a.data !== undefined || !a.release || released.has(a)) continue;
    released.add(a);
    await a.release().catch((e: unknown) => {
      log.warn('could not release a spooled attachment', { error: e instanceof Error ? e.message : String(e) });
    });
  }
}

/** Media types a SOAP request may arrive as. */
const REQUEST_TYPES: ReadonlySet<string> = new Set(['application/soap+xml', 'multipart/related', 'text/xml', 'application/xml']);

/** Refuses, before the body is read, a request that is not of a SOAP media type. */
function checkOuterType(outer: MediaType): void {
  if (!REQUEST_TYPES.has(outer.type)) {
    throw new SoapFault({
      code: 'Sender',
      reason: `unsupported Content-Type '${outer.type || '(none)'}': send application/soap+xml or MTOM multipart/related`,
      httpStatus: 415,
    });
  }
}

function decodeRequest(raw: Buffer, outer: MediaType, maxParts: number): DecodedRequest {
  if (outer.type === 'multipart/related') {
    const mp = parseMultipartRelated(raw, outer, { maxParts });
    return { xml: decodeCharset(mp.envelope, mp.rootType), attachments: mp.attachments, contentTypeAction: mp.action };
  }
  return { xml: decodeCharset(raw, outer), attachments: NO_ATTACHMENTS, contentTypeAction: outer.params.action };
}

/** The attachments of every request without MIME parts: one empty map, read-only to all. */
const NO_ATTACHMENTS: Attachments = new Map();

/** UTF-8 bytes go to the parser as they are; another declared charset is decoded first, if Node knows it. */
function decodeCharset(bytes: Buffer, type: MediaType): Buffer | string {
  const charset = type.params.charset?.trim().toLowerCase();
  if (charset === undefined || charset === '' || charset === 'utf-8' || charset === 'utf8') return bytes;
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset, { fatal: true });
  } catch {
    throw new SoapFault({ code: 'Sender', reason: `unsupported charset '${charset}'`, httpStatus: 415 });
  }
  try {
    return decoder.decode(bytes);
  } catch {
    throw new SoapFault({ code: 'Sender', reason: `the message is not valid ${charset}` });
  }
}

function parseEnvelopeXml(xml: Buffer | string, options: SoapEndpointOptions): XmlElement {
  try {
    return parseXml(xml, {
      maxBytes: options.maxBodyBytes,
      ...(options.maxXmlDepth !== undefined ? { maxDepth: options.maxXmlDepth } : {}),
      ...options.xmlCaps,
    });
  } catch (e) {
    if (!(e instanceof XmlParseError)) throw e;
    const reasons: Record<XmlParseError['reason'], string> = {
      malformed: `the SOAP message is not well-formed XML: ${e.message}`,
      doctype: 'DOCTYPE and entity declarations are not allowed in SOAP messages',
      'too-deep': `the SOAP message nests elements too deeply: ${e.message}`,
      'too-large': `the SOAP envelope is too large: ${e.message}`,
    };
    throw new SoapFault({ code: 'Sender', reason: reasons[e.reason], ...(e.reason === 'too-large' ? { httpStatus: 413 } : {}) });
  }
}

/**
 * wsa:Action decides. Without it, the SOAP 1.2 HTTP binding's action parameter is accepted (peers
 * that only set the Content-Type); with both, they must agree (WS-Addressing SOAP Binding §6.4.1,
 * wsa:ActionMismatch).
 */
function resolveAction(wsaAction: string | undefined, contentTypeAction: string | undefined): string {
  const ctAction = contentTypeAction?.trim() || undefined;
  if (wsaAction === undefined) {
    if (ctAction === undefined) throw messageAddressingHeaderRequired('Action');
    return ctAction;
  }
  if (ctAction !== undefined && ctAction !== wsaAction) {
    throw invalidAddressingHeader(
      WSA_FAULT.actionMismatch,
      'Action',
      `the Content-Type action '${ctAction}' differs from wsa:Action '${wsaAction}'`,
    );
  }
  return wsaAction;
}

/** Every xop:Include must point at a part that travels with the message. */
function checkReferences(body: XmlElement, attachments: Attachments, blame: 'Sender' | 'Receiver'): void {
  for (const ref of xopReferences(body)) {
    if (!attachments.has(ref)) {
      throw new SoapFault({ code: blame, reason: `xop:Include references cid:${ref}, which is not a part of the message` });
    }
  }
}

/** A handler's reply must be sendable; a broken one is our own (Receiver) fault. */
function checkReply(reply: SoapReply): void {
  const ids = new Set<string>();
  if (reply.attachments) {
    for (const id of reply.attachments.keys()) {
      if (!/^[^\s<>]+$/.test(id)) {
        throw new Error(`handler returned an attachment with an unusable Content-ID: ${JSON.stringify(id)}`);
      }
      ids.add(normaliseContentId(id));
    }
  }
  for (const ref of xopReferences(reply.body)) {
    if (!ids.has(ref)) throw new Error(`handler reply references cid:${ref} but returned no such attachment`);
  }
}

function toFault(e: unknown, log: winston.Logger): SoapFault {
  if (e instanceof SoapFault) return e;
  if (e instanceof BodyReadError) {
    if (e.reason === 'too-large') return new SoapFault({ code: 'Sender', reason: e.message, httpStatus: 413 });
    if (e.reason === 'timeout') return new SoapFault({ code: 'Sender', reason: e.message, httpStatus: 408 });
    if (e.reason === 'busy') return new SoapFault({ code: 'Receiver', reason: e.message, httpStatus: 503 });
    return new SoapFault({ code: 'Sender', reason: e.message });
  }
  // Anything else is a bug or an outage on our side: log everything, tell the peer nothing.
  log.error('unexpected error while processing a SOAP request', {
    error: e instanceof Error ? e.message : String(e),
    stack: e instanceof Error ? e.stack : undefined,
  });
  return new SoapFault({ code: 'Receiver', reason: GENERIC_RECEIVER_REASON });
}

function sendFault(res: ServerResponse, fault: SoapFault, relatesTo: string | undefined, close: boolean): void {
  if (fault.soap11) {
    const body = Buffer.from(soap11VersionMismatchXml(fault), 'utf8');
    res.statusCode = fault.httpStatus;
    if (close) res.setHeader('Connection', 'close');
    res.setHeader('Content-Type', 'text/xml; charset=UTF-8');
    res.setHeader('Content-Length', body.length);
    res.end(body);
    return;
  }
  const built = buildEnvelope({
    action: fault.action,
    relatesTo,
    rawHeaders: faultHeaderXml(fault),
    body: faultBodyXml(fault),
  });
  sendSoap(res, { status: fault.httpStatus, action: fault.action, envelopeXml: built.xml, close });
}


function serviceUrl(req: express.Request): string {
  const path = req.originalUrl.split('?')[0]!;
  return `${req.protocol}://${req.get('host') ?? 'localhost'}${path}`;
}

/** Points the WSDL's soap12:address at the URL it was fetched from, so generated clients call this node. */
