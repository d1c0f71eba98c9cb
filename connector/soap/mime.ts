/**
 * MTOM/XOP requests: `multipart/related` bodies whose root part is the SOAP envelope and whose
 * other parts are the binary attachments that xop:Include elements point to.
 *
 * Real peers vary in everything the specifications leave loose, and all of it is accepted here:
 * `start` present or not (then the first part is the root), Content-ID with or without angle
 * brackets, `cid:` references percent-encoded or not, a root typed `application/xop+xml` (MTOM)
 * or plain `application/soap+xml`, the action in the outer Content-Type, the root part's, or
 * `start-info`, a preamble before the first boundary. Anything broken (no closing boundary,
 * truncated part, missing root, duplicate Content-ID) is the sender's fault, never a hang.
 */
import { MultipartParseError, MultipartParser, type MultipartPart } from '@remix-run/multipart-parser';
import { Readable } from 'node:stream';
import { SoapFault } from './fault.js';
import { parseMediaType, type MediaType } from './media-type.js';

/**
 * One MIME attachment: either held in memory (`data`), or spooled while the request streamed in
 * (`stream()`; see mime-stream.ts and `PartSpooler`), so that a large document is never held in
 * memory. Code that can handle both reads `attachmentSize` / `attachmentStream`.
 */
export type Attachment = BufferedAttachment | SpooledAttachment;

export interface BufferedAttachment {
  readonly contentType: string;
  readonly data: Buffer;
}

export interface SpooledAttachment {
  readonly contentType: string;
  /** Size in bytes (after any Content-Transfer-Encoding was undone). */
  readonly size: number;
  /** A fresh stream over the bytes; may be called more than once. */
  stream(): Readable;
  /** What the endpoint's spooler made of the part (e.g. a staged blob); opaque to the transport. */
  readonly spooled?: unknown;
  /** Frees the spooled bytes; the endpoint calls it once the reply has been sent. */
  release?(): Promise<void>;
  readonly data?: undefined;
}

export function isSpooled(a: Attachment): a is SpooledAttachment {
  return a.data === undefined;
}

export function attachmentSize(a: Attachment): number {
  return isSpooled(a) ? a.size : a.data.length;
}

/** A stream over the attachment's bytes, whichever way it is held. */
export function attachmentStream(a: Attachment): Readable {
  return isSpooled(a) ? a.stream() : Readable.from([a.data]);
}

/** Attachments keyed by normalised Content-ID (see normaliseContentId). */
export type Attachments = ReadonlyMap<string, Attachment>;

export interface MultipartSoapMessage {
  /** The root part's bytes: the SOAP envelope. */
  readonly envelope: Buffer;
  /** The root part's Content-Type. */
  readonly rootType: MediaType;
  /** The SOAP action found in the root part's Content-Type, `start-info`, or the outer Content-Type. */
  readonly action: string | undefined;
  readonly attachments: Attachments;
}

/**
 * One spelling for a Content-ID whichever way it arrived: a `Content-ID: <a@b>` header, a bare
 * `a@b`, or a `cid:a%40b` URL (RFC 2392 percent-encodes the URL form; some peers also encode the
 * header, some encode neither). Both sides of every comparison go through this function.
 */
export function normaliseContentId(raw: string): string {
  let id = raw.trim();
  if (/^cid:/i.test(id)) id = id.slice(4);
  if (id.startsWith('<') && id.endsWith('>')) id = id.slice(1, -1).trim();
  if (id.includes('%')) {
    try {
      id = decodeURIComponent(id);
    } catch {
      // A literal '%' that is not an escape: keep the id as it is.
    }
  }
  return id;
}

export interface MultipartLimits {
  /** Largest number of parts (the root included). */
  maxParts: number;
}

const CRLF_DASHES = Buffer.from('\r\n--');

export function parseMultipartRelated(body: Buffer, outer: MediaType, limits: MultipartLimits): MultipartSoapMessage {
  const boundary = outer.params.boundary;
  if (!boundary) throw senderFault('multipart/related request without a boundary parameter');
  const parts = splitParts(body, boundary, limits);
  if (parts.length === 0) throw senderFault('multipart/related request without any part');

  const start = outer.params.start;
  let root: MultipartPart | undefined;
  if (start !== undefined && start.trim() !== '') {
    const wanted = normaliseContentId(start);
    root = parts.find((p) => {
      const cid = p.headers['content-id'];
      return cid !== undefined && normaliseContentId(cid) === wanted;
    });
    if (!root) throw senderFault(`multipart/related root part <${wanted}> named by the start parameter is missing`);
  } else {
    root = parts[0]!;
  }

  const rootType = parseMediaType(root.headers['content-type']);
  if (!ROOT_TYPES.has(rootType.type)) {
    throw senderFault(`multipart/related root part has Content-Type ${rootType.type || '(none)'}, expected application/xop+xml or application/soap+xml`);
  }
  const startInfo = outer.params['start-info'] !== undefined ? parseMediaType(outer.params['start-info']) : undefined;
  const action = rootType.params.action ?? startInfo?.params.action ?? outer.params.action;

  const attachments = new Map<string, Attachment>();
  for (const part of parts) {
    if (part === root) continue;
    const cid = part.headers['content-id'];
    // A part without Content-ID cannot be referenced from the envelope; it carries nothing we could use.
    if (cid === undefined) continue;
    const id = normaliseContentId(cid);
    if (attachments.has(id)) throw senderFault(`duplicate Content-ID <${id}> in multipart/related request`);
    attachments.set(id, {
      contentType: part.headers['content-type'] ?? 'application/octet-stream',
      data: decodePart(part),
    });
  }
  return { envelope: decodePart(root), rootType, action, attachments };
}

/** application/xop+xml is MTOM; soap+xml is SwA-style; text/xml is SOAP 1.1 (the envelope check answers VersionMismatch). */
const ROOT_TYPES = new Set(['application/xop+xml', 'application/soap+xml', 'text/xml']);

function splitParts(body: Buffer, boundary: string, limits: MultipartLimits): MultipartPart[] {
  // The parser wants the body to begin with the boundary; RFC 2046 allows a preamble before it,
  // and some stacks start with a CRLF.
  const delimiter = Buffer.from(`--${boundary}`);
  let from: number;
  if (body.subarray(0, delimiter.length).equals(delimiter)) from = 0;
  else {
    const at = body.indexOf(Buffer.concat([CRLF_DASHES, Buffer.from(boundary)]));
    if (at === -1) throw senderFault('multipart/related request does not contain its boundary');
    from = at + 2;
  }
  const parser = new MultipartParser(boundary, {
    // The whole body is already within the request size limit; the parser's own per-part
    // defaults (2 MiB) would refuse ordinary documents.
    maxFileSize: body.length + 1,
    maxTotalSize: body.length + 1,
    maxParts: limits.maxParts,
    maxHeaderSize: 16 * 1024,
  });
  const parts: MultipartPart[] = [];
  try {
    // One write: the parser stops at the closing delimiter and ignores an epilogue after it.
    for (const part of parser.write(body.subarray(from))) parts.push(part);
    parser.finish();
  } catch (e) {
    if (e instanceof MultipartParseError) {
      throw senderFault(`malformed multipart/related request: ${e.message === 'Multipart stream not finished' ? 'truncated (no closing boundary)' : e.message}`);
    }
    throw e;
  }
  for (const part of parts) {
    try {
      // Headers are decoded lazily (strict UTF-8); decode them now so bad bytes are the sender's fault here.
      void part.headers;
    } catch {
      throw senderFault('multipart/related part headers are not valid UTF-8');
    }
  }
  return parts;
}

function decodePart(part: MultipartPart): Buffer {
  const bytes = part.bytes;
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const encoding = (part.headers['content-transfer-encoding'] ?? 'binary').trim().toLowerCase();
  switch (encoding) {
    case 'binary':
    case '8bit':
    case '7bit':
      return data;
    case 'base64':
      return Buffer.from(data.toString('latin1'), 'base64');
    default:
      throw senderFault(`unsupported Content-Transfer-Encoding ${encoding}`);
  }
}

function senderFault(reason: string): SoapFault {
  return new SoapFault({ code: 'Sender', reason });
}
