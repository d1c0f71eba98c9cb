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
 *
 * GROUP COMMIT: each commit is one fsync of the WAL, which costs far more than the rows. Every
 * `enqueue` made in one turn of the event loop (better-sqlite3 is synchronous, so calls that
 * arrive while a commit runs wait for the next turn) joins one transaction; each caller's promise
 * resolves once that transaction is on disk, and every caller of a failed commit is rejected (the
 * transaction is all or none, so none of their rows was written). Acks do not need to be durable
 * (a lost ack only means a redelivery, which at-least-once allows): they ride along with the next
 * group's transaction, or are written on their own after `ackDelayMs`.
 *
 * OFF THE EVENT LOOP: every write goes through a `SqliteWriter` (registry/store/embedded/sqlite-writer.ts), whose worker
 * thread runs the transaction and waits for its fsync, so the node keeps serving requests while a
 * group commits. One commit is out at a time; what arrives meanwhile forms the next group. The
 * queue's own connection only creates the schema and reads.
 */
import Database from 'better-sqlite3';
import type { AuditEvent } from './event.js';
import { SqliteWriter, type SqlStatement } from '../../registry/store/embedded/sqlite-writer.js';

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
  /** Longest time an ack waits for a group commit to ride along with before it is written on its own (ms). Default 100. */
  readonly ackDelayMs?: number;
}

/** One caller's event waiting for the group commit. */
interface PendingEnqueue {
  readonly json: string;
  readonly sinks: readonly string[];
  readonly resolve: (ids: Map<string, number>) => void;
  readonly reject: (error: unknown) => void;
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
  private readonly writer: SqliteWriter;
  private readonly next: Database.Statement;
  private readonly countRows: Database.Statement;
  private readonly running = new Map<string, Promise<void>>();
  private readonly retryAt = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private group: PendingEnqueue[] = [];
  private groupScheduled: NodeJS.Immediate | undefined;
  private acks: number[] = [];
  private ackTimer: NodeJS.Timeout | undefined;
  /** The commit chain: each commit starts after the one before settled. */
  private committing: Promise<void> = Promise.resolve();
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
    this.next = this.db.prepare('SELECT seq, event, attempts FROM queue WHERE sink = ? AND dead = 0 ORDER BY seq LIMIT 1');
    this.countRows = this.db.prepare('SELECT COALESCE(SUM(dead = 0), 0) AS pending, COALESCE(SUM(dead = 1), 0) AS dead FROM queue');
    this.writer = new SqliteWriter(options.path);
  }

  /**
   * Writes the event once per sink (all or none) in the group commit of this turn of the event
   * loop; resolves once it is on disk, with the row ids by sink name, so a caller that delivered
   * to a sink itself can `ack`. Rejects when that commit failed: then nothing of the event was written.
   * Does not start delivery: the caller kicks the sinks it wants served now.
   */
  enqueue(event: AuditEvent, sinks: readonly string[] = this.options.sinks.map((s) => s.name)): Promise<Map<string, number>> {
    if (this.closed) return Promise.reject(new Error('audit queue is closed'));
    // Serialised here, so an event that cannot be serialised fails alone, not its whole group.
    let json: string;
    try {
      json = JSON.stringify(event);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      this.group.push({ json, sinks, resolve, reject });
      // setImmediate runs after the I/O callbacks of this turn: every request handled in it joins.
      this.groupScheduled ??= setImmediate(() => {
        this.groupScheduled = undefined;
        void this.commit();
      });
    });
  }

  /** Removes one row after the caller delivered it itself (not durably: see GROUP COMMIT above). */
  ack(seq: number): void {
    if (this.closed) return;
    this.acks.push(seq);
    if (this.ackTimer === undefined && this.groupScheduled === undefined) {
      this.ackTimer = setTimeout(() => {
        this.ackTimer = undefined;
        void this.commit();
      }, this.options.ackDelayMs ?? 100);
      this.ackTimer.unref();
    }
  }

  /** Delivers what is due, for every sink (also called after enqueue and on open). */
  kick(only?: string): void {
    for (const sink of this.options.sinks) {
      if (only !== undefined && sink.name !== only) continue;
      this.pump(sink);
    }
  }

  /** Rows on disk, after the waiting group and acks are committed. */
  async counts(): Promise<QueueCounts> {
    await this.commit();
    const row = this.countRows.get() as QueueCounts;
    return { pending: Number(row.pending), dead: Number(row.dead) };
  }

  /** Resolves when every sink's queue is empty (or `timeoutMs` passed: then false). */
  async drained(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if ((await this.counts()).pending === 0) return true;
      this.kick();
      await new Promise((r) => setTimeout(r, 20));
    }
    return (await this.counts()).pending === 0;
  }

  /** Stops delivery (waiting a bounded time for deliveries in progress) and closes the file; queued events stay for the next open. */
  async close(): Promise<void> {
    if (this.closed) return;
    // Callers already waiting were promised a commit; pending acks save redeliveries after the restart.
    await this.commit();
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
    await this.writer.close();
    this.db.close();
  }

  /**
   * Commits the waiting group and acks in one transaction, after the commit before it settled;
   * resolves once this commit settled and every caller of its group was answered.
   */
  private commit(): Promise<void> {
    // commitWaiting answers its callers on failure and does not throw; the catch keeps the chain alive regardless.
    this.committing = this.committing
      .then(() => this.commitWaiting())
      .catch((e: unknown) => {
        this.options.logger?.error('audit queue commit failed unexpectedly', { error: e instanceof Error ? e.message : String(e) });
      });
    return this.committing;
  }

  private async commitWaiting(): Promise<void> {
    if (this.ackTimer !== undefined) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.group.length === 0 && this.acks.length === 0) return;
    const group = this.group;
    const acks = this.acks;
    this.group = [];
    this.acks = [];
    const statements: SqlStatement[] = acks.map((seq) => ({ sql: 'DELETE FROM queue WHERE seq = ?', params: [seq] }));
    for (const p of group) for (const s of p.sinks) statements.push({ sql: 'INSERT INTO queue (sink, event) VALUES (?, ?)', params: [s, p.json] });
    let rowids: number[];
    try {
      rowids = await this.writer.run(statements);
    } catch (e) {
      // Rolled back: no caller of this group has a row on disk, so each must learn it failed.
      this.options.logger?.error('audit queue commit failed; every event of the group is rejected', {
        events: group.length,
        error: e instanceof Error ? e.message : String(e),
      });
      // The acks are not lost with it: they are tried again with the next commit.
      this.acks = acks.concat(this.acks);
      for (const p of group) p.reject(e);
      return;
    }
    let i = acks.length;
    for (const p of group) {
      const bySink = new Map<string, number>();
      for (const s of p.sinks) bySink.set(s, rowids[i++]!);
      p.resolve(bySink);
    }
  }

  /** One write of its own (a failure count, a parked row), through the writer like every other. */
  private async write(sql: string, ...params: unknown[]): Promise<void> {
    await this.writer.run([{ sql, params }]);
  }

  private pump(sink: AuditSink): void {
    if (this.closed || this.running.has(sink.name)) return;
    const due = this.retryAt.get(sink.name);
    if (due !== undefined && Date.now() < due) return;
    const run = this.drain(sink)
      .catch((e: unknown) => {
        // A failed write of the queue's own bookkeeping (disk full, file gone): the row stays and is tried again later.
        if (!this.closed) this.scheduleRetry(sink, e instanceof Error ? e.message : String(e));
      })
      .finally(() => this.running.delete(sink.name));
    this.running.set(sink.name, run);
  }

  private async drain(sink: AuditSink): Promise<void> {
    while (!this.closed) {
      // Rows acked but not yet deleted would otherwise be delivered a second time.
      if (this.acks.length > 0) await this.commit();
      if (this.closed) return;
      const row = this.next.get(sink.name) as Row | undefined;
      if (row === undefined) return;
      try {
        await sink.deliver(JSON.parse(row.event) as AuditEvent);
      } catch (e) {
        if (this.closed) return;
        const message = e instanceof Error ? e.message : String(e);
        if (e instanceof PermanentDeliveryError) {
          await this.write('UPDATE queue SET dead = 1, attempts = attempts + 1, last_error = ? WHERE seq = ?', message, row.seq);
          this.options.logger?.error('audit event can never be delivered to this sink; kept in the queue as dead', {
            sink: sink.name,
            seq: row.seq,
            error: message,
          });
          continue;
        }
        await this.write('UPDATE queue SET attempts = attempts + 1, last_error = ? WHERE seq = ?', message, row.seq);
        this.scheduleRetry(sink, message);
        return;
      }
      if (this.closed) return;
      // Deleted with the next commit (at the top of this loop, before the next row is read).
      this.acks.push(row.seq);
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
