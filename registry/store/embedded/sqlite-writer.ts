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
 *
 * Used by the audit trail (connector/audit) and the embedded registry store; it lives here, below
 * both, because the registry must not import the connector. What a batch means (one IMMEDIATE
 * transaction, `expectChanges`, the failing statement's index) is in sqlite-batch.mjs.
 */
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { EXPECTED_CHANGES, batchRunner, flatBatch, type BatchResult, type Statement } from './sqlite-batch.mjs';

export type SqlStatement = Statement;
export { EXPECTED_CHANGES };

/**
 * A batch that was rolled back; `code` is SQLite's (e.g. SQLITE_CONSTRAINT_UNIQUE, SQLITE_BUSY)
 * when it gave one, or EXPECTED_CHANGES; `index` is the statement that failed, when one did.
 */
export class SqliteWriteError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly index?: number,
  ) {
    super(message);
    this.name = 'SqliteWriteError';
  }
}

/** What a store needs of a writer: `SqliteWriter` for a file, `inlineSqliteWriter` for ':memory:'. */
export interface BatchWriter {
  /**
   * Runs the statements as one transaction; resolves with each statement's lastInsertRowid once it
   * is committed. `transfer`: buffers of the parameters that are handed to the writer rather than
   * copied (they are unusable to the caller afterwards); for large BLOB parameters.
   */
  run(statements: readonly SqlStatement[], transfer?: readonly ArrayBuffer[]): Promise<number[]>;
  /** Waits for the batches sent so far and stops; the caller's own connection stays open. */
  close(): Promise<void>;
}

type Reply = { id: number } & BatchResult;

interface Waiting {
  readonly resolve: (rowids: number[]) => void;
  readonly reject: (error: Error) => void;
}

const WORKER = new URL('./sqlite-writer-worker.mjs', import.meta.url);

/** After a worker died, how long until the next batch may start a new one (no respawn storm when the file cannot be opened). */
const RESPAWN_AFTER_MS = 1000;

export class SqliteWriter implements BatchWriter {
  private worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  /** Why the current worker died; cleared when a new one starts. */
  private death: { readonly error: Error; readonly at: number } | undefined;
  private closing: Promise<void> | undefined;

  /** Starts the worker for `path`; the file and its schema must already exist (the caller's connection creates them). */
  constructor(private readonly path: string) {
    this.worker = this.spawn();
  }

  /** Runs the statements as one transaction; resolves with each statement's lastInsertRowid once it is on disk. */
  run(statements: readonly SqlStatement[], transfer: readonly ArrayBuffer[] = []): Promise<number[]> {
    if (this.closing !== undefined) return Promise.reject(new Error('SQLite writer is closed'));
    if (this.death !== undefined) {
      // A dead worker is replaced by the next batch, but not in a loop: within the pause after
      // its death, batches fail at once with the reason.
      if (Date.now() - this.death.at < RESPAWN_AFTER_MS) return Promise.reject(this.death.error);
      this.death = undefined;
      this.worker = this.spawn();
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) this.worker.ref();
      this.worker.postMessage({ id, batch: flatBatch(statements) }, [...transfer]);
    });
  }

  /** Waits for the batches sent so far, then closes the write connection and ends the worker. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.death === undefined) {
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

  private spawn(): Worker {
    const worker = new Worker(WORKER, { workerData: { path: this.path } });
    // Idle, the worker must not keep the process alive; while a batch is out, it must.
    worker.unref();
    let error: Error | undefined;
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', (e) => {
      error = e;
    });
    worker.on('exit', (code) => {
      if (this.closing === undefined && worker === this.worker) {
        this.died(error ?? new Error(`SQLite writer for ${this.path} exited (code ${code})`));
      }
    });
    return worker;
  }

  private settle(reply: Reply): void {
    const waiting = this.waiting.get(reply.id);
    if (waiting === undefined) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker.unref();
    if (reply.ok) waiting.resolve(reply.rowids);
    else waiting.reject(toError(reply));
  }

  /**
   * The worker died: every batch still out fails with it. None was acknowledged; one may have
   * been committed just before the death, an unknown outcome callers already face with any failed
   * commit: an ITI-42 client gets a fault and may resubmit (a same-hash resubmission is accepted),
   * the repository asks the registry whether its entries are there, the audit queue redelivers.
   */
  private died(e: Error): void {
    this.death = { error: e, at: Date.now() };
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}

/**
 * A writer that runs each batch at once on `db` itself, on the calling thread. Only for an
 * in-memory database, which a worker thread cannot open (and which has no fsync to wait for);
 * batches mean exactly what they mean to `SqliteWriter`.
 */
export function inlineSqliteWriter(db: Database.Database): BatchWriter {
  const run = batchRunner(db);
  return {
    async run(statements) {
      const result = run(flatBatch(statements));
      if (!result.ok) throw toError(result);
      return result.rowids;
    },
    async close() {},
  };
}

function toError(result: BatchResult & { ok: false }): SqliteWriteError {
  return new SqliteWriteError(result.message, result.code, result.index);
}
