/**
 * Outgoing SOAP 1.2 messages: the envelope with WS-Addressing reply headers, written either as
 * `application/soap+xml` or as an MTOM `multipart/related` package.
 *
 * The envelope is assembled from self-contained fragments (each serialised with its own namespace
 * declarations), so header blocks and body never depend on prefixes declared elsewhere.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { NS } from '../../registry/xml/namespaces.js';
import { escapeText, serializeXml, serializeXmlChunks } from '../../registry/xml/serialize.js';
import type { XmlElement } from '../../registry/xml/tree.js';
import type { Arena } from '../../registry/xml/byte-slab.js';
import { quoteParam } from './media-type.js';
import { isSpooled, type Attachment, type SpooledAttachment } from './mime.js';

export interface OutgoingEnvelope {
  /** wsa:Action of this message. */
  action: string;
  /** wsa:MessageID of the request answered (becomes wsa:RelatesTo). */
  relatesTo?: string | undefined;
  /** Extra header blocks (after the wsa headers). */
  headers?: readonly XmlElement[];
  /** Extra header blocks already serialised as self-contained XML (used for fault blocks with QName values). */
  rawHeaders?: readonly string[];
  /** The body content, as an element or as self-contained XML text. */
  body: XmlElement | string;
}

export interface BuiltEnvelope {
  readonly xml: string;
  /** The wsa:MessageID given to this message. */
  readonly messageId: string;
}

export function buildEnvelope(msg: OutgoingEnvelope): BuiltEnvelope {
  const { before, after, messageId } = envelopeAround(msg);
  const body = typeof msg.body === 'string' ? msg.body : serializeXml(msg.body);
  return { xml: before + body + after, messageId };
}

export interface BuiltEnvelopeBytes {
  /** The envelope as UTF-8, byte for byte `buildEnvelope`'s text, in the buffers it is made of (write them in order). */
  readonly chunks: readonly Buffer[];
  readonly messageId: string;
}

/**
 * The same envelope as UTF-8 bytes, written in one go with the body (serializeXmlChunks): a body
 * made of pre-serialised fragments (a LeafClass answer) is then handed to the socket, not encoded
 * or copied again. `arena`: where the body's deferred fragments are written (byte-slab.ts); pass
 * the same arena to `sendSoap`, which releases it once the response has finished.
 */
export function buildEnvelopeBytes(msg: OutgoingEnvelope, arena?: Arena): BuiltEnvelopeBytes {
  const { before, after, messageId } = envelopeAround(msg);
  const chunks =
    typeof msg.body === 'string'
      ? [Buffer.from(before + msg.body + after, 'utf8')]
      : serializeXmlChunks(msg.body, arena === undefined ? { before, after } : { before, after, arena });
  return { chunks, messageId };
}

/** The envelope's text before and after the body content. */
function envelopeAround(msg: OutgoingEnvelope): { before: string; after: string; messageId: string } {
  const messageId = `urn:uuid:${randomUUID()}`;
  const wsaHeaders =
    `<wsa:Action soap:mustUnderstand="1">${escapeText(msg.action)}</wsa:Action>` +
    `<wsa:MessageID>${messageId}</wsa:MessageID>` +
    (msg.relatesTo !== undefined ? `<wsa:RelatesTo>${escapeText(msg.relatesTo)}</wsa:RelatesTo>` : '');
  const extra = (msg.headers ?? []).map((h) => serializeXml(h)).join('') + (msg.rawHeaders ?? []).join('');
  const before =
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<soap:Envelope xmlns:soap="${NS.soap12}" xmlns:wsa="${NS.wsa}">` +
    `<soap:Header>${wsaHeaders}${extra}</soap:Header>` +
    `<soap:Body>`;
  return { before, after: `</soap:Body></soap:Envelope>`, messageId };
}

/** `application/soap+xml; charset=UTF-8; action="…"` (SOAP 1.2 Part 2 §7.1.4 / RFC 3902). */
export function soapContentType(action: string): string {
  return `application/soap+xml; charset=UTF-8; action=${quoteParam(action)}`;
}

export interface SendOptions {
  status: number;
  action: string;
  /** The envelope, as text or as its UTF-8 bytes (buildEnvelopeBytes' chunks, in order). */
  envelopeXml: string | Buffer | readonly Buffer[];
  /** Send as MTOM even without attachments. */
  mtom?: boolean;
  /** Attachments by Content-ID (no angle brackets). A non-empty map implies MTOM. */
  attachments?: ReadonlyMap<string, Attachment>;
  /** Close the connection after the response (the request body was not consumed). */
  close?: boolean;
  /**
   * The arena the envelope's chunks were written into (`buildEnvelopeBytes`): released once the
   * response has been handed to the kernel (`finish`), never before; a response that does not
   * finish (the client left) leaves it to the collector.
   */
  arena?: Arena;
}

/**
 * Writes the message. Resolves when the last byte was handed to the socket; rejects when an
 * attachment stream fails midway (the response is then cut off: its Content-Length was promised).
 * Spooled attachments are piped one after the other with backpressure, so a large document passes
 * through in small chunks and is never held in memory.
 */
export async function sendSoap(res: ServerResponse, options: SendOptions): Promise<void> {
  const arena = options.arena;
  // Most answers (a registration's, a retrieve's) wrote nothing into theirs: no listener for them.
  if (arena?.holdsBlocks) res.once('finish', () => arena.release());
  if (options.close) res.setHeader('Connection', 'close');
  const attachments = options.attachments ?? new Map<string, Attachment>();
  if (!options.mtom && attachments.size === 0) {
    const body = envelopeChunks(options.envelopeXml);
    let length = 0;
    for (const b of body) length += b.length;
    writeHead(res, options.status, soapContentType(options.action), length);
    // Corked: the chunks leave in one writev with the headers, as one buffer would.
    res.cork();
    for (const b of body) res.write(b);
    res.end();
    return;
  }
  const pkg = mtomPackage(options.action, options.envelopeXml, attachments);
  writeHead(res, options.status, pkg.contentType, pkg.length);
  for (const chunk of pkg.chunks) {
    if (Buffer.isBuffer(chunk)) {
      if (!res.write(chunk)) await drained(res);
      continue;
    }
    // Piped by hand rather than with stream.pipeline, which would end the response after the part.
    const stream = chunk.stream();
    try {
      for await (const piece of stream) {
        if (res.destroyed) throw new Error('the client closed the connection during the response');
        if (!res.write(piece as Buffer)) await drained(res);
      }
    } finally {
      stream.destroy();
    }
  }
  await new Promise<void>((resolve) => res.end(resolve));
}

/**
 * Status and headers in one writeHead: the same header lines, in the same order (after a
 * Connection header set before), as setting each with setHeader, without building the headers
 * object that setHeader keeps for later reading (nothing reads it: the response is complete).
 */
function writeHead(res: ServerResponse, status: number, contentType: string, length: number): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': length });
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', closed);
      resolve();
    };
    const closed = (): void => {
      res.off('drain', done);
      res.off('close', closed);
      reject(new Error('the client closed the connection during the response'));
    };
    res.on('drain', done);
    res.on('close', closed);
  });
}

export interface MtomPackage {
  readonly contentType: string;
  /** Bytes in memory, and spooled attachments to be streamed in their place. */
  readonly chunks: readonly (Buffer | SpooledAttachment)[];
  readonly length: number;
}

/**
 * An MTOM package (W3C SOAP MTOM §4.3, XOP §5): root part `application/xop+xml` with
 * `type="application/soap+xml"`, then one binary part per attachment.
 */
function envelopeChunks(envelopeXml: string | Buffer | readonly Buffer[]): readonly Buffer[] {
  if (typeof envelopeXml === 'string') return [Buffer.from(envelopeXml, 'utf8')];
  return Buffer.isBuffer(envelopeXml) ? [envelopeXml] : envelopeXml;
}

export function mtomPackage(action: string, envelopeXml: string | Buffer | readonly Buffer[], attachments: ReadonlyMap<string, Attachment>): MtomPackage {
  const boundary = `MIMEBoundary_${randomUUID().replace(/-/g, '')}`;
  const rootId = `root.${randomUUID()}@koblingspunkt`;
  const chunks: (Buffer | SpooledAttachment)[] = [];
  const text = (s: string): void => {
    chunks.push(Buffer.from(s, 'utf8'));
  };
  text(
    `--${boundary}\r\n` +
      `Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"; action=${quoteParam(action)}\r\n` +
      `Content-Transfer-Encoding: binary\r\n` +
      `Content-ID: <${rootId}>\r\n\r\n`,
  );
  chunks.push(...envelopeChunks(envelopeXml));
  for (const [id, attachment] of attachments) {
    text(
      `\r\n--${boundary}\r\n` +
        `Content-Type: ${attachment.contentType}\r\n` +
        `Content-Transfer-Encoding: binary\r\n` +
        `Content-ID: <${id}>\r\n\r\n`,
    );
    chunks.push(isSpooled(attachment) ? attachment : attachment.data);
  }
  text(`\r\n--${boundary}--\r\n`);
  const contentType =
    `multipart/related; boundary=${quoteParam(boundary)}; type="application/xop+xml"; ` +
    `start=${quoteParam(`<${rootId}>`)}; start-info="application/soap+xml"; action=${quoteParam(action)}`;
  const length = chunks.reduce((n, c) => n + (Buffer.isBuffer(c) ? c.length : c.size), 0);
  return { contentType, chunks, length };
}
