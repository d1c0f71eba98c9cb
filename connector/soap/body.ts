/**
 * Reads an HTTP request body into memory with a hard size limit.
 *
 * The limit is checked twice: against Content-Length before a single byte is read (an honest
 * oversize request is refused at once), and against the bytes actually received (a chunked or
 * lying request is cut off as soon as it passes the limit). A body that stops arriving is given up
 * after an idle timeout, so a truncated upload cannot hold a request open for ever.
 */
import type { IncomingMessage } from 'node:http';

export type BodyReadFailure = 'too-large' | 'timeout' | 'aborted' | 'bad-length';

export class BodyReadError extends Error {
  readonly reason: BodyReadFailure;
  constructor(reason: BodyReadFailure, message: string) {
    super(message);
    this.name = 'BodyReadError';
    this.reason = reason;
  }
}

export interface BodyLimits {
  maxBytes: number;
  /** Give up when no data arrives for this long (ms). */
  idleTimeoutMs: number;
}

/** Where `pumpBody` delivers the request's bytes. */
export interface BodySink {
  /** Takes one chunk; a returned promise pauses the request until it settles (backpressure). */
  write(chunk: Buffer): void | Promise<void>;
  /** The body ended: called after every write has settled. */
  end(): void | Promise<void>;
  /** The body failed (limit, stall, abort, or a write/end that threw). */
  fail?(error: Error): void;
}

/** A Content-Length that is malformed or over the limit, refused before a byte is read. */
function declaredLengthError(req: IncomingMessage, limits: BodyLimits): BodyReadError | undefined {
  const declared = req.headers['content-length'];
  if (declared === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(declared)) return new BodyReadError('bad-length', `invalid Content-Length: ${declared}`);
  if (Number(declared) > limits.maxBytes) {
    return new BodyReadError('too-large', `request body of ${declared} bytes exceeds the limit of ${limits.maxBytes} bytes`);
  }
  return undefined;
}

/**
 * Feeds the request body to a sink under the size limit and the idle timeout: the one place that
 * reads request bodies, for the buffered SOAP path and the streaming MTOM path alike.
 */
export function pumpBody(req: IncomingMessage, limits: BodyLimits, sink: BodySink): Promise<void> {
  const refused = declaredLengthError(req, limits);
  if (refused) return Promise.reject(refused);
  return new Promise<void>((resolve, reject) => {
    let chain: Promise<void> = Promise.resolve();
    let received = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;

    const finish = (error: Error | undefined): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      req.off('close', onClose);
      if (error) {
        // Stop pulling the rest of an oversize or stalled body; the caller answers and closes.
        req.pause();
        sink.fail?.(error);
        reject(error);
      } else resolve();
    };
    const armTimer = (): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(
        () => finish(new BodyReadError('timeout', `no request data received for ${limits.idleTimeoutMs} ms`)),
        limits.idleTimeoutMs,
      );
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limits.maxBytes) {
        finish(new BodyReadError('too-large', `request body exceeds the limit of ${limits.maxBytes} bytes`));
        return;
      }
      let pending: void | Promise<void>;
      try {
        pending = sink.write(chunk);
      } catch (e) {
        finish(e as Error);
        return;
      }
      if (pending === undefined) {
        armTimer();
        return;
      }
      // One chunk at a time: the next is read only when the sink has taken this one.
      req.pause();
      chain = chain
        .then(() => pending)
        .then(
          () => {
            if (settled) return;
            armTimer();
            req.resume();
          },
          (e: unknown) => finish(e as Error),
        );
    };
    const onEnd = (): void => {
      chain = chain.then(async () => {
        if (settled) return;
        try {
          await sink.end();
          finish(undefined);
        } catch (e) {
          finish(e as Error);
        }
      });
    };
    const onError = (e: Error): void => finish(new BodyReadError('aborted', `request body could not be read: ${e.message}`));
    const onAborted = (): void => finish(new BodyReadError('aborted', 'request aborted by the client'));
    const onClose = (): void => {
      if (!req.complete) finish(new BodyReadError('aborted', 'connection closed before the request body was complete'));
    };

    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
    req.on('close', onClose);
    armTimer();
  });
}

/** Reads the whole body into memory (under the limit). */
export async function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  await pumpBody(req, limits, {
    write: (chunk) => {
      chunks.push(chunk);
      received += chunk.length;
    },
    end: () => undefined,
  });
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
}
