/**
 * Durable audit queue: every event is written to a SQLite file (WAL, synchronous=FULL: on disk
 * when `enqueue` returns) once per sink, and removed only after that sink accepted it.
 *
 * Delivery is AT-LEAST-ONCE: if the process dies after a sink accepted an event but before the
 * row was removed, the event is delivered again after the restart. The audit store ignores a
 * second copy (its key is the event id), so it holds each event once; a syslog repository may
 * receive a duplicate in that window. Nothing is dropped: an event a sink can never take (e.g. too
 * large for UDP) is kept as "dead" in the file and logged as an error, for an operator to act on.
 *
 * Per sink, events are delivered in order; after a failure the sink is retried with exponential
 * backoff, without holding up the other sinks.
 */
import Database from 'better-sqlite3';
import type { AuditEvent } from './event';

export interface AuditSink {
  /** Stable name; rows are kept per sink name across restarts. */
  readonly name: string;
  deliver(event: AuditEvent): Promise<void>;
}

/** Thrown by a sink for an event it will never accept; the event is parked, not retried. */
export class PermanentDeliveryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentDeliveryError';
  }
}

export interface QueueLogger {
  warn(message: string, meta?: Record<string, unknown>): unknown;
  error(message: string, meta?: Record<string, unknown>): unknown;
}

export interface DurableQueueOptions {
  /** SQLite file of the queue. */
  readonly path: string;
  readonly sinks: readonly AuditSink[];
  readonly logger?: QueueLogger | undefined;
  /** First retry delay after a failure (ms). Default 1000. */
  readonly retryBaseMs?: number;
  /** Longest retry delay (ms). Default 60000. */
  readonly retryMaxMs?: number;
  /** How long close() waits for deliveries in progress (a hung sink must not hold a shutdown). Default 2000. */
  readonly closeTimeoutMs?: number;
}

interface Row {
  seq: number;
  event: string;
  attempts: number;
}

export interface QueueCounts {
  readonly pending: number;
  readonly dead: number;
}

export class DurableAuditQueue {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly enqueueAll: Database.Transaction<(event: AuditEvent, sinks: readonly string[]) => number[]>;
  private readonly next: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly fail: Database.Statement;
  private readonly park: Database.Statement;
  private readonly running = new Map<string, Promise<void>>();
  private readonly retryAt = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private closed = false;

  constructor(private readonly options: DurableQueueOptions) {
    this.db = new Database(options.path);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS queue (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          sink TEXT NOT NULL,
          event TEXT NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0,
          last_error TEXT,
          dead INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX IF NOT EXISTS queue_sink ON queue (sink, dead, seq);
      `);
    } catch (e) {
      this.db.close();
      throw e;
    }
    this.insert = this.db.prepare('INSERT INTO queue (sink, event) VALUES (?, ?)');
    this.enqueueAll = this.db.transaction((event: AuditEvent, sinks: readonly string[]) => {
      const json = JSON.stringify(event);
      return sinks.map((s) => Number(this.insert.run(s, json).lastInsertRowid));
    });
    this.next = this.db.prepare('SELECT seq, event, attempts FROM queue WHERE sink = ? AND dead = 0 ORDER BY seq LIMIT 1');
    this.remove = this.db.prepare('DELETE FROM queue WHERE seq = ?');
    this.fail = this.db.prepare('UPDATE queue SET attempts = attempts + 1, last_error = ? WHERE seq = ?');
    this.park = this.db.prepare('UPDATE queue SET dead = 1, attempts = attempts + 1, last_error = ? WHERE seq = ?');
  }

  /**
   * Writes the event once per sink (all or none, on disk when this returns) and starts delivery.
   * Returns the row ids by sink name, so a caller that delivered to a sink itself can `ack`.
   */
  enqueue(event: AuditEvent, sinks: readonly string[] = this.options.sinks.map((s) => s.name)): Map<string, number> {
    if (this.closed) throw new Error('audit queue is closed');
    const ids = this.enqueueAll(event, sinks);
    const bySink = new Map<string, number>();
    sinks.forEach((s, i) => bySink.set(s, ids[i]!));
    return bySink;
  }

  /** Removes one row after the caller delivered it itself. */
  ack(seq: number): void {
    if (!this.closed) this.remove.run(seq);
  }

  /** Delivers what is due, for every sink (also called after enqueue and on open). */
  kick(only?: string): void {
    for (const sink of this.options.sinks) {
      if (only !== undefined && sink.name !== only) continue;
      this.pump(sink);
    }
  }

  counts(): QueueCounts {
    const row = this.db.prepare('SELECT COALESCE(SUM(dead = 0), 0) AS pending, COALESCE(SUM(dead = 1), 0) AS dead FROM queue').get() as QueueCounts;
    return { pending: Number(row.pending), dead: Number(row.dead) };
  }

  /** Resolves when every sink's queue is empty (or `timeoutMs` passed: then false). */
  async drained(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (this.counts().pending === 0) return true;
      this.kick();
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.counts().pending === 0;
  }

  /** Stops delivery (waiting a bounded time for deliveries in progress) and closes the file; queued events stay for the next open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    // A delivery still running after the wait finds the queue closed and leaves its row in place.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.running.values()]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, this.options.closeTimeoutMs ?? 2000);
      }),
    ]);
    clearTimeout(timer);
    this.db.close();
  }

  private pump(sink: AuditSink): void {
    if (this.closed || this.running.has(sink.name)) return;
    const due = this.retryAt.get(sink.name);
    if (due !== undefined && Date.now() < due) return;
    const run = this.drain(sink).finally(() => this.running.delete(sink.name));
    this.running.set(sink.name, run);
  }

  private async drain(sink: AuditSink): Promise<void> {
    while (!this.closed) {
      const row = this.next.get(sink.name) as Row | undefined;
      if (row === undefined) return;
      try {
        await sink.deliver(JSON.parse(row.event) as AuditEvent);
      } catch (e) {
        if (this.closed) return;
        const message = e instanceof Error ? e.message : String(e);
        if (e instanceof PermanentDeliveryError) {
          this.park.run(message, row.seq);
          this.options.logger?.error('audit event can never be delivered to this sink; kept in the queue as dead', {
            sink: sink.name,
            seq: row.seq,
            error: message,
          });
          continue;
        }
        this.fail.run(message, row.seq);
        this.scheduleRetry(sink, message);
        return;
      }
      if (this.closed) return;
      this.remove.run(row.seq);
      this.failures.delete(sink.name);
      this.retryAt.delete(sink.name);
    }
  }

  private scheduleRetry(sink: AuditSink, error: string): void {
    const n = (this.failures.get(sink.name) ?? 0) + 1;
    this.failures.set(sink.name, n);
    const base = this.options.retryBaseMs ?? 1000;
    const delay = Math.min(this.options.retryMaxMs ?? 60_000, base * 2 ** Math.min(n - 1, 20));
    this.retryAt.set(sink.name, Date.now() + delay);
    if (n === 1 || n % 10 === 0) {
      this.options.logger?.warn('audit sink unavailable; events stay queued on disk', { sink: sink.name, attempt: n, retryInMs: delay, error });
    }
    const timer = setTimeout(() => {
      this.timers.delete(sink.name);
      this.retryAt.delete(sink.name);
      this.pump(sink);
    }, delay);
    timer.unref();
    this.timers.set(sink.name, timer);
  }
}
