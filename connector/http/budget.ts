/**
 * The memory budget for request bodies: one counter per listener of the request bytes that the
 * requests in flight hold in memory, and per request an account of what it holds.
 *
 * Without it, bodies that are read into memory (every SOAP request except the document parts of a
 * streamed MTOM upload) add up without bound: ten 95 MB bodies whose last byte is held back hold
 * ~950 MB until their deadline. With it, a body that would take the node over the budget is
 * refused (503 with Retry-After) before it is read, or as soon as its bytes would.
 *
 * A leaf module: the body readers (connector/soap) charge accounts through `requestBuffers`, the
 * HTTP layer (deadlines.ts) opens and closes them.
 */
import type { IncomingMessage } from 'node:http';

/** What a refused client is told to wait before trying again (Retry-After, seconds). */
export const BUSY_RETRY_AFTER_SECONDS = 5;

/** The bytes all requests in flight hold together, under a fixed maximum. */
export class BufferBudget {
  private used = 0;

  constructor(readonly maxBytes: number) {}

  /** Request bytes held in memory now (0 when no request holds any). */
  get usedBytes(): number {
    return this.used;
  }

  /** Takes `bytes` when they fit; false (and nothing taken) when they do not. */
  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.maxBytes) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }
}

/**
 * What one request holds of the budget. It is given back when the last holder lets go: the HTTP
 * exchange holds it until its response closes (completed, failed or aborted), and a body reader
 * that keeps the bytes after the response may hold it longer (`retain`/`release`), since a
 * handler can still be working on a body whose client has gone.
 */
export class RequestBuffers {
  private held = 0;
  /** The exchange itself holds from the start. */
  private holders = 1;

  constructor(private readonly budget: BufferBudget) {}

  /** The budget the account draws on. */
  get bufferBudget(): BufferBudget {
    return this.budget;
  }

  /** Charges `bytes` more; false (nothing charged) when the budget cannot take them or the request is done. */
  charge(bytes: number): boolean {
    if (this.holders === 0 || !this.budget.tryTake(bytes)) return false;
    this.held += bytes;
    return true;
  }

  /** One more holder: the account stays open until it calls `release`. A no-op once the account closed. */
  retain(): void {
    if (this.holders > 0) this.holders += 1;
  }

  /** One holder lets go; the last one gives every charged byte back. */
  release(): void {
    if (this.holders === 0) return;
    this.holders -= 1;
    if (this.holders > 0) return;
    this.budget.give(this.held);
    this.held = 0;
  }
}

/**
 * Stored on the request object itself rather than in a WeakMap: one property store per request
 * with a body, one load per body read.
 */
const BUFFERS = Symbol('koblingspunkt.requestBuffers');

type WithBuffers = IncomingMessage & { [BUFFERS]?: RequestBuffers };

/** The request's account, when the listener keeps a budget (not under a bare test server). */
export function requestBuffers(req: IncomingMessage): RequestBuffers | undefined {
  return (req as WithBuffers)[BUFFERS];
}

export function setRequestBuffers(req: IncomingMessage, buffers: RequestBuffers): void {
  (req as WithBuffers)[BUFFERS] = buffers;
}
