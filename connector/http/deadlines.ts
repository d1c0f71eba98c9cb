/**
 * Deadlines of the listener: how long a client may take for its headers and for its body.
 *
 * Headers are Node's own business (`headersTimeout`): the parser knows when they are complete, and
 * Node answers `408 Request Timeout` with `Connection: close` and closes the socket. Its defaults
 * do not suit a node: the check runs every 30 s (`connectionsCheckingInterval`), so a 20 s limit
 * would close somewhere between 20 and 50 s, and its `requestTimeout` (300 s) bounds the whole
 * request, which both lets a trickled body hold its socket and buffers for five minutes and cuts
 * off an honest 95 MB upload over a slow line. Here the check runs every tenth of the headers
 * limit, and `requestTimeout` is only a backstop past the longest body deadline.
 *
 * Bodies get a deadline of their own, proportional to their size: after a floor, a body must keep
 * arriving at a minimum average rate, so a body of N bytes has at most floor + N / rate, and a
 * chunked body without a length is held to the rate over the bytes it has sent so far. Counting
 * uses the socket's own `bytesRead`, so nothing runs per chunk: one timer per request with a body,
 * which fires at the floor and, while the body is on time, again when the bytes so far are used
 * up. A body that falls behind is answered 408 with a SOAP 1.2 fault while a response can still be
 * written, and its connection is closed in any case (the request is destroyed, so that whatever
 * reads its body gives up at once and lets go of its buffers).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type winston from 'winston';
import { SoapFault, faultBodyXml } from '../soap/fault.js';
import { buildEnvelope, sendSoap } from '../soap/response.js';
import { RequestBuffers, requestBuffers, setRequestBuffers, type BufferBudget } from './budget.js';
import type { HttpConfig } from './config.js';

/** The largest timeout Node's connection check takes (~24.8 days). */
const MAX_NODE_TIMEOUT_MS = 2 ** 31 - 1;

/** Node's server options for the headers deadline (and the backstop), for http/https.createServer. */
export interface ServerTimeouts {
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  readonly connectionsCheckingInterval: number;
}

/**
 * The options that make Node enforce `headersTimeoutMs`. `maxRequestBytes` (the largest body) sets
 * the backstop: no request may take longer than its headers plus the deadline of the largest body,
 * whatever happens to the per-request timer; without it the backstop is off.
 */
export function serverTimeouts(config: HttpConfig, maxRequestBytes?: number): ServerTimeouts {
  const headersTimeout = config.headersTimeoutMs;
  const longestBody =
    maxRequestBytes === undefined ? undefined : config.bodyTimeoutFloorMs + Math.ceil((maxRequestBytes * 1000) / config.bodyMinBytesPerSecond);
  return {
    headersTimeout,
    // Node refuses headersTimeout > requestTimeout (0 turns the backstop off). One more floor of
    // slack so that the per-request deadline, which answers with a SOAP fault, always comes first.
    // Node reads it as a 32-bit count of milliseconds: a pathological configuration is clamped.
    requestTimeout: longestBody === undefined ? 0 : Math.min(MAX_NODE_TIMEOUT_MS, headersTimeout + longestBody + config.bodyTimeoutFloorMs),
    connectionsCheckingInterval: Math.min(2_000, Math.max(50, Math.floor(headersTimeout / 10))),
  };
}

/** What every body deadline on one listener shares. */
export interface BodyDeadlines {
  readonly floorMs: number;
  readonly bytesPerSecond: number;
  readonly budget: BufferBudget;
  readonly logger: winston.Logger;
}

export function bodyDeadlines(config: HttpConfig, budget: BufferBudget, logger: winston.Logger): BodyDeadlines {
  return { floorMs: config.bodyTimeoutFloorMs, bytesPerSecond: config.bodyMinBytesPerSecond, budget, logger };
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The request listener with deadlines and the buffer account: every request with a body is
 * watched from the moment its headers are complete, before the application sees it.
 */
export function guardRequests(app: Listener, deadlines: BodyDeadlines): Listener {
  return (req, res) => {
    if (hasBody(req)) watchBody(req, res, deadlines);
    app(req, res);
  };
}

/** HTTP/1.1 framing: a body is announced by a non-zero Content-Length or by Transfer-Encoding. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/** Starts the deadline and opens the buffer account of a request with a body. */
export function watchBody(req: IncomingMessage, res: ServerResponse, deadlines: BodyDeadlines): void {
  const watch = new BodyWatch(req, res, deadlines);
  setRequestBuffers(req, watch);
  // A module-level listener, not a closure: it finds the watch through the request (res.req).
  res.on('close', onResponseClose);
  watch.arm(deadlines.floorMs);
}

/** How long a 408 answer may take to leave before its socket is destroyed regardless. */
const CLOSE_GRACE_MS = 2_000;

/**
 * One request's body deadline, and its buffer account (one object per request, so the account
 * costs no allocation of its own).
 */
class BodyWatch extends RequestBuffers {
  private readonly started = performance.now();
  /** The socket's byte count when the headers were complete: the body is what is read after. */
  private readonly baseline: number;
  private timer: NodeJS.Timeout | undefined;
  /** The body fell behind: the request is torn down once the 408 is out. */
  private expired = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly deadlines: BodyDeadlines,
  ) {
    super(deadlines.budget);
    // Body bytes that came in the same read as the headers are not counted: at most one socket
    // read (64 KiB), which makes the deadline that much stricter, never looser.
    this.baseline = req.socket.bytesRead;
  }

  /** When the armed check is due (performance.now()): a check that runs much later ran on a stalled event loop. */
  private due = 0;
  /** The last check ran late and let the body off once (see `check`). */
  private excused = false;

  arm(ms: number): void {
    this.due = performance.now() + ms;
    this.timer = setTimeout(onDeadline, ms, this);
    // The listener keeps the process alive while it serves; a watch never should.
    this.timer.unref();
  }

  /** The response is done (sent, failed or aborted). */
  responseClosed(): void {
    this.release();
    if (this.expired) {
      // Node forgets a request once its response is done: closing the socket would not tell the
      // body reader, which would hold its buffers until its own idle timeout. Destroying the
      // request does (it sees the request aborted), and closes the socket too.
      this.req.destroy();
      return;
    }
    // A body that is still arriving (an early answer on a kept-alive connection) keeps its
    // deadline: it would otherwise block the connection's next request for as long as it likes.
    if (this.timer !== undefined && (this.req.complete || this.req.socket.destroyed)) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** The armed timer fired: judge the body now, or, if it is behind, once this turn's I/O is read. */
  check(): void {
    this.timer = undefined;
    if (this.finished()) return;
    if (this.keptUp()) return;
    // Timers run before the event loop reads its sockets: after any pause of ours (a long task,
    // the garbage collector, a machine too busy to schedule us), bytes the client has sent may be
    // waiting, unread, in this very socket. A body is only found behind after this loop turn has
    // read what is there (setImmediate runs right after the I/O phase).
    setImmediate(onRecheck, this, performance.now() - this.due > this.deadlines.floorMs / 8);
  }

  /**
   * The second look of a check that found the body behind, after the loop's I/O. `late`: the check
   * ran more than an eighth of the floor after it was due, on an event loop that had stalled: the
   * client may have been held back by our own pause (its window full of bytes we did not read), so
   * the body gets one more eighth of the floor; the check after that enforces whatever the loop did.
   */
  recheck(late: boolean): void {
    if (this.finished() || this.keptUp()) return;
    if (late && !this.excused) {
      this.excused = true;
      this.arm(this.deadlines.floorMs / 8);
      return;
    }
    this.expire(performance.now() - this.started, this.received());
  }

  private finished(): boolean {
    return this.req.complete || this.req.socket.destroyed;
  }

  private received(): number {
    return Math.max(0, this.req.socket.bytesRead - this.baseline);
  }

  /**
   * Whether the body is on time: if so, the next check is armed for when the bytes so far are
   * used up, but not sooner than an eighth of the floor, so that a body sent just above the rate
   * does not wake this up per byte.
   */
  private keptUp(): boolean {
    const { floorMs, bytesPerSecond } = this.deadlines;
    const elapsed = performance.now() - this.started;
    const allowed = floorMs + (this.received() * 1000) / bytesPerSecond;
    if (elapsed >= allowed) return false;
    this.excused = false;
    this.arm(Math.max(allowed - elapsed, floorMs / 8));
    return true;
  }

  private expire(elapsed: number, received: number): void {
    const { req, res } = this;
    const socket = req.socket;
    const { floorMs, bytesPerSecond } = this.deadlines;
    const ms = Math.round(elapsed);
    this.deadlines.logger.warn('request body too slow: 408, connection closed', {
      method: req.method,
      path: req.url,
      remoteAddress: socket.remoteAddress,
      declaredBytes: req.headers['content-length'],
      receivedBytes: received,
      ms,
    });
    this.expired = true;
    if (res.headersSent || res.writableEnded || !socket.writable) {
      this.req.destroy();
      return;
    }
    const fault = new SoapFault({
      code: 'Sender',
      reason:
        `the request body arrives too slowly: ${received} bytes in ${ms} ms; a body must keep up ` +
        `${bytesPerSecond} bytes per second after the first ${floorMs} ms`,
      httpStatus: 408,
    });
    const built = buildEnvelope({ action: fault.action, body: faultBodyXml(fault) });
    // Once the answer is written the response closes, and responseClosed tears the request down.
    sendSoap(res, { status: 408, action: fault.action, envelopeXml: built.xml, close: true }).catch(() => this.req.destroy());
    // A client that does not read its answer is cut off all the same.
    setTimeout(destroyRequest, CLOSE_GRACE_MS, this.req).unref();
  }
}

function onDeadline(watch: BodyWatch): void {
  watch.check();
}

function onRecheck(watch: BodyWatch, late: boolean): void {
  watch.recheck(late);
}

function onResponseClose(this: ServerResponse): void {
  const watch = requestBuffers(this.req);
  if (watch instanceof BodyWatch) watch.responseClosed();
}

function destroyRequest(req: IncomingMessage): void {
  req.destroy();
}
