/**
 * Durable SQLite writes off the event loop.
 *
 * better-sqlite3 is synchronous: a commit with synchronous=FULL blocks the calling thread for its
 * fsync (measured on the development machine: 1.6 ms median for one 3 KB row, 4.5 ms for 32, p90
 * 5–9 ms), and on the node's main thread nothing else runs meanwhile: every request in flight
 * waits. The audit trail commits once per group of requests, in the queue and again in the audit
 * store, so those fsyncs were a fixed share of every request's latency. A `SqliteWriter` sends each
 * batch of statements to a worker thread that owns the file's write connection and runs the batch
 * as one transaction there; the caller's promise settles when it is on disk (or rolled back).
 *
 * Reads stay on the caller's own connection (WAL: they see every committed batch, never a partial
 * one). Batches run strictly one after another, in the order `run` was called.
 */
import { Worker } from 'node:worker_threads';

export interface SqlStatement {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** A batch the worker rolled back; `code` is SQLite's (e.g. SQLITE_BUSY), when it gave one. */
export class SqliteWriteError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'SqliteWriteError';
  }
}

type Reply = { id: number; ok: true; rowids: number[] } | { id: number; ok: false; message: string; code?: string };

interface Waiting {
  readonly resolve: (rowids: number[]) => void;
  readonly reject: (error: Error) => void;
}

const WORKER = new URL('./sqlite-writer-worker.mjs', import.meta.url);

export class SqliteWriter {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  /** Starts the worker for `path`; the file and its schema must already exist (the caller's connection creates them). */
  constructor(path: string) {
    this.worker = new Worker(WORKER, { workerData: { path } });
    // Idle, the worker must not keep the process alive; while a batch is out, it must.
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => {
      if (this.closing === undefined) this.fail(new Error(`SQLite writer for ${path} exited (code ${code})`));
    });
  }

  /** Runs the statements as one transaction; resolves with each statement's lastInsertRowid once it is on disk. */
  run(statements: readonly SqlStatement[]): Promise<number[]> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closing !== undefined) return Promise.reject(new Error('SQLite writer is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) this.worker.ref();
      this.worker.postMessage({ id, statements });
    });
  }

  /** Waits for the batches sent so far, then closes the write connection and ends the worker. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.failure === undefined) {
        const id = this.nextId++;
        await new Promise<void>((resolve) => {
          this.waiting.set(id, { resolve: () => resolve(), reject: () => resolve() });
          this.worker.ref();
          this.worker.postMessage({ id, close: true });
        });
      }
      await this.worker.terminate();
    })();
    return this.closing;
  }

  private settle(reply: Reply): void {
    const waiting = this.waiting.get(reply.id);
    if (waiting === undefined) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker.unref();
    if (reply.ok) waiting.resolve(reply.rowids);
    else waiting.reject(new SqliteWriteError(reply.message, reply.code));
  }

  /** The worker died: every batch still out is lost with it (none was acknowledged), and later ones fail at once. */
  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
    this.worker.unref();
  }
}
