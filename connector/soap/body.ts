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

export function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    if (!/^\s*\d+\s*$/.test(declared)) {
      return Promise.reject(new BodyReadError('bad-length', `invalid Content-Length: ${declared}`));
    }
    if (Number(declared) > limits.maxBytes) {
      return Promise.reject(
        new BodyReadError('too-large', `request body of ${declared} bytes exceeds the limit of ${limits.maxBytes} bytes`),
      );
    }
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;

    const finish = (error: BodyReadError | undefined): void => {
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
        reject(error);
      } else {
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
      }
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
      chunks.push(chunk);
      armTimer();
    };
    const onEnd = (): void => finish(undefined);
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
