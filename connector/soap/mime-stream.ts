/**
 * MTOM/XOP requests read as a stream: the multipart/related body is parsed while it arrives, the
 * root part (the SOAP envelope, small) is collected in memory, and every other part is handed to a
 * `PartSpooler` chunk by chunk, with backpressure, so that a 100 MB document passes through the
 * process in 64 KiB pieces and concurrent uploads do not multiply memory.
 *
 * The buffered reader in mime.ts stays for endpoints that carry no documents (registry, queries):
 * it is simpler and its messages are small. Both accept the same peer variations (start present or
 * not, Content-ID with or without brackets, a preamble, base64 parts) and answer broken bodies
 * (no closing boundary, missing root, duplicate Content-ID) with Sender faults.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { BodyReadError, budgetExhausted, pumpBody } from './body.js';
import { requestBuffers } from '../http/budget.js';
import { SoapFault } from './fault.js';
import { parseMediaType, type MediaType } from './media-type.js';
import { normaliseContentId, type Attachment, type MultipartSoapMessage, type SpooledAttachment } from './mime.js';

/** Where non-root parts go while the request streams in (temporary files, a blob store's staging area…). */
export interface PartSpooler {
  /**
   * Consumes `bytes` completely and returns the part as an attachment. Throwing a SoapFault fails
   * the request with that fault; `release()` of what was returned is called when the request is done.
   */
  spool(part: { contentId: string; contentType: string; bytes: Readable }): Promise<SpooledAttachment>;
}

export interface StreamingLimits {
  /** Largest request body (all parts together). */
  readonly maxBytes: number;
  readonly idleTimeoutMs: number;
  readonly maxParts: number;
  /** Largest root part (the envelope, held in memory). */
  readonly maxRootBytes: number;
}

const MAX_HEADER_BYTES = 16 * 1024;
const ROOT_TYPES = new Set(['application/xop+xml', 'application/soap+xml', 'text/xml']);

interface PartWriter {
  write(chunk: Buffer): Promise<void> | void;
  end(): void;
  fail(e: Error): void;
}

/** The multipart grammar of RFC 2046 §5.1.1 as a state machine over a rolling buffer. */
class MultipartStreamParser {
  private state: 'preamble' | 'delimiter' | 'headers' | 'body' | 'done' = 'preamble';
  private buf: Buffer = Buffer.alloc(0);
  private readonly dashBoundary: Buffer;
  private readonly delimiter: Buffer;
  private part: PartWriter | undefined;
  partCount = 0;

  constructor(
    boundary: string,
    private readonly onPart: (headers: Record<string, string>) => PartWriter,
    private readonly maxParts: number,
  ) {
    this.dashBoundary = Buffer.from(`--${boundary}`, 'latin1');
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /** The part being written, so that a failure can be passed on to its consumer. */
  get currentPart(): PartWriter | undefined {
    return this.part;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.state === 'done') return; // epilogue: ignored
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      switch (this.state) {
        case 'preamble': {
          let at = this.buf.indexOf(this.dashBoundary);
          // The delimiter must start a line; a preamble may contain the boundary text mid-line.
          while (at > 0 && this.buf[at - 1] !== 0x0a) at = this.buf.indexOf(this.dashBoundary, at + 1);
          if (at === -1) {
            this.buf = this.buf.subarray(Math.max(0, this.buf.length - this.dashBoundary.length - 1));
            return;
          }
          this.buf = this.buf.subarray(at);
          this.state = 'delimiter';
          break;
        }
        case 'delimiter': {
          const n = this.dashBoundary.length;
          if (this.buf.length < n + 2) return;
          if (this.buf[n] === 0x2d && this.buf[n + 1] === 0x2d) {
            this.state = 'done';
            this.buf = Buffer.alloc(0);
            return;
          }
          let i = n;
          while (i < this.buf.length && (this.buf[i] === 0x20 || this.buf[i] === 0x09)) i++;
          if (i - n > 256) throw new MalformedMultipart('garbage after a boundary delimiter');
          if (i + 1 >= this.buf.length) return;
          if (this.buf[i] === 0x0d && this.buf[i + 1] === 0x0a) i += 2;
          else if (this.buf[i] === 0x0a) i += 1;
          else throw new MalformedMultipart('boundary delimiter not followed by a line break');
          this.buf = this.buf.subarray(i);
          this.state = 'headers';
          break;
        }
        case 'headers': {
          let headerEnd: number;
          let bodyStart: number;
          if (this.buf.length >= 2 && this.buf[0] === 0x0d && this.buf[1] === 0x0a) {
            headerEnd = 0;
            bodyStart = 2;
          } else {
            headerEnd = this.buf.indexOf('\r\n\r\n');
            if (headerEnd === -1) {
              if (this.buf.length > MAX_HEADER_BYTES) throw new MalformedMultipart(`part headers larger than ${MAX_HEADER_BYTES} bytes`);
              return;
            }
            bodyStart = headerEnd + 4;
          }
          if (headerEnd > MAX_HEADER_BYTES) throw new MalformedMultipart(`part headers larger than ${MAX_HEADER_BYTES} bytes`);
          if (++this.partCount > this.maxParts) throw new MalformedMultipart(`more than ${this.maxParts} parts`);
          this.part = this.onPart(parseHeaders(this.buf.subarray(0, headerEnd)));
          this.buf = this.buf.subarray(bodyStart);
          this.state = 'body';
          break;
        }
        case 'body': {
          const at = this.buf.indexOf(this.delimiter);
          if (at === -1) {
            // Everything except a possible beginning of the delimiter can go to the part now.
            const keep = this.delimiter.length - 1;
            if (this.buf.length > keep) {
              const out = this.buf.subarray(0, this.buf.length - keep);
              this.buf = Buffer.from(this.buf.subarray(this.buf.length - keep));
              await this.part!.write(out);
            }
            return;
          }
          const out = this.buf.subarray(0, at);
          this.buf = this.buf.subarray(at + 2);
          if (out.length > 0) await this.part!.write(out);
          this.part!.end();
          this.part = undefined;
          this.state = 'delimiter';
          break;
        }
        default:
          return;
      }
    }
  }
}

class MalformedMultipart extends Error {}

function parseHeaders(bytes: Buffer): Record<string, string> {
  const headers: Record<string, string> = {};
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new MalformedMultipart('part headers are not valid UTF-8');
  }
  // Folded header lines (obsolete, still sent by old stacks) are unfolded first.
  for (const line of text.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** Incremental base64 decoding for `Content-Transfer-Encoding: base64` parts (groups may straddle chunks). */
function base64Decoder(): (chunk: Buffer | undefined) => Buffer {
  let rest = '';
  return (chunk) => {
    const text = rest + (chunk ? chunk.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, '') : '');
    const usable = chunk ? text.length - (text.length % 4) : text.length;
    rest = text.slice(usable);
    return Buffer.from(text.slice(0, usable), 'base64');
  };
}

function transferDecoder(headers: Record<string, string>): ((chunk: Buffer | undefined) => Buffer) | undefined {
  const encoding = (headers['content-transfer-encoding'] ?? 'binary').trim().toLowerCase();
  if (encoding === 'binary' || encoding === '8bit' || encoding === '7bit') return undefined;
  if (encoding === 'base64') return base64Decoder();
  throw new SoapFault({ code: 'Sender', reason: `unsupported Content-Transfer-Encoding ${encoding}` });
}

/** Writes to a PassThrough that a spooler consumes; waits when it is full, drops bytes once it is gone. */
function spoolWriter(stream: PassThrough, decode: ((chunk: Buffer | undefined) => Buffer) | undefined): PartWriter {
  const push = async (bytes: Buffer): Promise<void> => {
    if (stream.destroyed || stream.writableEnded || bytes.length === 0) return;
    if (stream.write(bytes)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
    });
  };
  return {
    write: (chunk) => push(decode ? decode(chunk) : chunk),
    end: () => {
      if (stream.destroyed) return;
      if (decode) {
        const tail = decode(undefined);
        if (tail.length > 0) stream.write(tail);
      }
      stream.end();
    },
    fail: (e) => stream.destroy(e),
  };
}

/**
 * Reads an MTOM request from `req` as it arrives. Resolves with the envelope bytes and the
 * attachments (spooled); rejects with a BodyReadError (too large, stalled, aborted) or a Sender
 * SoapFault (malformed), after releasing whatever was already spooled.
 */
export function readMultipartStream(
  req: IncomingMessage,
  outer: MediaType,
  spooler: PartSpooler,
  limits: StreamingLimits,
): Promise<MultipartSoapMessage> {
  const boundary = outer.params.boundary;
  if (!boundary) return Promise.reject(senderFault('multipart/related request without a boundary parameter'));
  const start = outer.params.start?.trim() ? normaliseContentId(outer.params.start) : undefined;
  let root: { headers: Record<string, string>; chunks: Buffer[]; size: number } | undefined;
  const spooled: { id: string; promise: Promise<SpooledAttachment> }[] = [];
  // The spooled parts leave memory as they arrive; the envelope stays, and is charged to the
  // listener's memory budget (an envelope part may be as large as the whole body).
  const account = requestBuffers(req);

  const onPart = (headers: Record<string, string>): PartWriter => {
    const cid = headers['content-id'] !== undefined ? normaliseContentId(headers['content-id']) : undefined;
    const isRoot = root === undefined && (start === undefined ? spooled.length === 0 : cid === start);
    const decode = transferDecoder(headers);
    if (isRoot) {
      const r = { headers, chunks: [] as Buffer[], size: 0 };
      root = r;
      return {
        write: (chunk) => {
          const bytes = decode ? decode(chunk) : chunk;
          r.size += bytes.length;
          if (r.size > limits.maxRootBytes) {
            throw new BodyReadError('too-large', `the SOAP envelope part exceeds the limit of ${limits.maxRootBytes} bytes`);
          }
          if (account !== undefined && !account.charge(bytes.length)) throw budgetExhausted();
          // Copied: the parser's buffer may be a slice of a larger chunk that would otherwise stay alive.
          r.chunks.push(Buffer.from(bytes));
        },
        end: () => {
          if (decode) r.chunks.push(decode(undefined));
        },
        fail: () => undefined,
      };
    }
    // A part without Content-ID cannot be referenced from the envelope: its bytes are dropped.
    if (cid === undefined) return { write: () => undefined, end: () => undefined, fail: () => undefined };
    const stream = new PassThrough({ highWaterMark: 256 * 1024 });
    // The request can fail (truncated, malformed, aborted) before the spooler has started reading
    // (the blob store first opens its staging file): `fail` then destroys the stream with an error
    // nobody listens to yet, which Node turns into an uncaughtException that kills the node.
    // The error still reaches the spooler through its reads; the request itself fails through
    // the parse outcome.
    stream.on('error', () => undefined);
    const promise = spooler.spool({ contentId: cid, contentType: headers['content-type'] ?? 'application/octet-stream', bytes: stream });
    // Observed at once so that a spooler failure is not an unhandled rejection while parsing goes on.
    promise.catch(() => undefined);
    spooled.push({ id: cid, promise });
    return spoolWriter(stream, decode);
  };

  const parser = new MultipartStreamParser(boundary, onPart, limits.maxParts);

  const outcome = pumpBody(req, limits, {
    write: (chunk) =>
      parser.write(chunk).catch((e: unknown) => {
        throw e instanceof MalformedMultipart ? senderFault(`malformed multipart/related request: ${e.message}`) : e;
      }),
    end: () => {
      if (!parser.done) throw senderFault('malformed multipart/related request: truncated (no closing boundary)');
    },
    fail: (error) => parser.currentPart?.fail(error),
  });

  return (async () => {
    let parseError: unknown;
    try {
      await outcome;
    } catch (e) {
      parseError = e;
    }
    const results = await Promise.allSettled(spooled.map((s) => s.promise));
    const attachments = new Map<string, Attachment>();
    const releaseAll = async (): Promise<void> => {
      for (const r of results) if (r.status === 'fulfilled') await r.value.release?.().catch(() => undefined);
    };
    try {
      if (parseError !== undefined) throw parseError;
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      if (parser.partCount === 0) throw senderFault('multipart/related request without any part');
      if (!root) throw senderFault(`multipart/related root part <${start ?? ''}> named by the start parameter is missing`);
      const rootType = parseMediaType(root.headers['content-type']);
      if (!ROOT_TYPES.has(rootType.type)) {
        throw senderFault(
          `multipart/related root part has Content-Type ${rootType.type || '(none)'}, expected application/xop+xml or application/soap+xml`,
        );
      }
      results.forEach((r, i) => {
        const id = spooled[i]!.id;
        if (attachments.has(id)) throw senderFault(`duplicate Content-ID <${id}> in multipart/related request`);
        attachments.set(id, (r as PromiseFulfilledResult<SpooledAttachment>).value);
      });
      const startInfo = outer.params['start-info'] !== undefined ? parseMediaType(outer.params['start-info']) : undefined;
      const action = rootType.params.action ?? startInfo?.params.action ?? outer.params.action;
      return { envelope: Buffer.concat(root.chunks), rootType, action, attachments };
    } catch (e) {
      await releaseAll();
      throw e;
    }
  })();
}

function senderFault(reason: string): SoapFault {
  return new SoapFault({ code: 'Sender', reason });
}
