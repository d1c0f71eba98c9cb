/**
 * Reads an HTTP request body into memory with a hard size limit.
 *
 * The limit is checked twice: against Content-Length before a single byte is read (an honest
 * oversize request is refused at once), and against the bytes actually received (a chunked or
 * lying request is cut off as soon as it passes the limit). A body that stops arriving is given up
 * after an idle timeout, so a truncated upload cannot hold a request open for ever.
 *
 * A body kept in memory is also charged to the listener's memory budget (connector/http/budget.ts),
 * the same two ways: its declared length before a byte is read, and the bytes of a body without
 * one as they arrive. A body that does not fit is refused as `busy` (503 with Retry-After).
 */
import type { IncomingMessage } from 'node:http';
import { requestBuffers, type RequestBuffers } from '../http/budget.js';

export type BodyReadFailure = 'too-large' | 'timeout' | 'aborted' | 'bad-length' | 'busy';

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
  /**
   * The sink keeps every byte in memory until the request is done: the body is charged to the
   * listener's memory budget. A streaming sink charges what it keeps itself.
   */
  readonly buffers?: boolean;
}

/** The memory budget has no room for this body now. */
export function budgetExhausted(): BodyReadError {
  return new BodyReadError('busy', 'the node is holding as many request bytes in memory as it may; try again later');
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
  const account = sink.buffers ? requestBuffers(req) : undefined;
  let charged = 0;
  if (account) {
    // Valid by now (declaredLengthError); a body without a length is charged as it arrives.
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > account.bufferBudget.maxBytes) {
      // Could never fit, however long the client waits: not "busy" but too large for this node.
      return Promise.reject(
        new BodyReadError('too-large', `request body of ${declared} bytes exceeds what the node may hold in memory (${account.bufferBudget.maxBytes} bytes)`),
      );
    }
    if (declared > 0 && !account.charge(declared)) return Promise.reject(budgetExhausted());
    charged = declared;
  }
  return new Promise<void>((resolve, reject) => {
    new BodyPump(req, limits, sink, account, charged, resolve, reject).start();
  });
}

/**
 * One body being pumped. Its listeners are methods bound once, and the idle timer is one timer
 * refreshed per chunk: this runs for every request, and the closures a function body would create
 * instead each cost a property definition under the loader's keep-names transform (~1 % of a warm
 * query's CPU), besides a new timer per chunk.
 */
class BodyPump {
  /** Sink writes still settling (only for a sink that returns promises); undefined while none was. */
  private chain: Promise<void> | undefined;
  private received = 0;
  private settled = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly onData = this.data.bind(this);
  private readonly onEnd = this.end.bind(this);
  private readonly onError = this.error.bind(this);
  private readonly onAborted = this.aborted.bind(this);
  private readonly onClose = this.close.bind(this);

  constructor(
    private readonly req: IncomingMessage,
    private readonly limits: BodyLimits,
    private readonly sink: BodySink,
    /** The budget account, when the sink keeps the bytes in memory. */
    private readonly account: RequestBuffers | undefined,
    /** Bytes charged to it so far (the declared length from the start). */
    private charged: number,
    private readonly resolve: () => void,
    private readonly reject: (error: Error) => void,
  ) {}

  start(): void {
    const req = this.req;
    req.on('data', this.onData);
    req.on('end', this.onEnd);
    req.on('error', this.onError);
    req.on('aborted', this.onAborted);
    req.on('close', this.onClose);
    this.timer = setTimeout(this.idle.bind(this), this.limits.idleTimeoutMs);
  }

  private finish(error: Error | undefined): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    const req = this.req;
    req.off('data', this.onData);
    req.off('end', this.onEnd);
    req.off('error', this.onError);
    req.off('aborted', this.onAborted);
    req.off('close', this.onClose);
    if (error) {
      // Stop pulling the rest of an oversize or stalled body; the caller answers and closes.
      req.pause();
      this.sink.fail?.(error);
      this.reject(error);
    } else this.resolve();
  }

  /** The idle timeout starts again: data arrived, or the sink took the last chunk. */
  private rearm(): void {
    this.timer?.refresh();
  }

  private idle(): void {
    this.finish(new BodyReadError('timeout', `no request data received for ${this.limits.idleTimeoutMs} ms`));
  }

  private data(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.received > this.limits.maxBytes) {
      this.finish(new BodyReadError('too-large', `request body exceeds the limit of ${this.limits.maxBytes} bytes`));
      return;
    }
    // Only a body without a declared length gets past its charge: Node ends a body at its length.
    if (this.account !== undefined && this.received > this.charged) {
      if (!this.account.charge(this.received - this.charged)) {
        this.finish(budgetExhausted());
        return;
      }
      this.charged = this.received;
    }
    let pending: void | Promise<void>;
    try {
      pending = this.sink.write(chunk);
    } catch (e) {
      this.finish(e as Error);
      return;
    }
    if (pending === undefined) {
      this.rearm();
      return;
    }
    // One chunk at a time: the next is read only when the sink has taken this one.
    this.req.pause();
    this.chain = (this.chain ?? Promise.resolve())
      .then(() => pending)
      .then(
        () => {
          if (this.settled) return;
          this.rearm();
          this.req.resume();
        },
        (e: unknown) => this.finish(e as Error),
      );
  }

  private end(): void {
    // After every write has settled: at once when the sink took every chunk synchronously.
    if (this.chain === undefined) this.complete();
    else this.chain = this.chain.then(() => this.complete());
  }

  /** Ends the sink and settles. */
  private complete(): void {
    if (this.settled) return;
    let ended: void | Promise<void>;
    try {
      ended = this.sink.end();
    } catch (e) {
      this.finish(e as Error);
      return;
    }
    if (ended === undefined) this.finish(undefined);
    else ended.then(() => this.finish(undefined), (e: unknown) => this.finish(e as Error));
  }

  private error(e: Error): void {
    this.finish(new BodyReadError('aborted', `request body could not be read: ${e.message}`));
  }

  private aborted(): void {
    this.finish(new BodyReadError('aborted', 'request aborted by the client'));
  }

  private close(): void {
    if (!this.req.complete) this.finish(new BodyReadError('aborted', 'connection closed before the request body was complete'));
  }
}

/** Reads the whole body into memory (under the limit). */
export async function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  await pumpBody(req, limits, {
    write(chunk) {
      chunks.push(chunk);
      received += chunk.length;
    },
    end() {},
    buffers: true,
  });
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
}
