/**
 * Durable audit queue: every event is written to a SQLite file (WAL, synchronous=FULL: on disk
 * when `enqueue` returns) once per sink, and removed only after that sink accepted it.
 *
 * Delivery is AT-LEAST-ONCE: if the process dies after a sink accepted an event but before the
 * row was removed, the event is delivered again after the restart. The audit store ignores a
 * second copy (its key is the event id), so it holds each event once; a syslog repository may
 * receive a duplicate, recognisable by the event id the message carries (syslog.ts). Nothing is
 * dropped: an event a sink can never take (e.g. too large for UDP) is kept as "dead" in the file
 * and logged as an error, for an operator to act on.
 *
 * WINDOW: a sink is handed up to `window` events at once (in queue order) and each row is removed
 * when its own delivery resolves. A sink that confirms late — the TLS syslog sender resolves only
 * once a clean close proved the repository read the message — would otherwise deliver one event
 * per confirmation. When a delivery fails, no further event is handed out; once every delivery
 * in flight has settled, the sink is retried with exponential backoff (`retryBaseMs` doubling up
 * to `retryMaxMs`; each retry is a new connection for the syslog sink) from its oldest row still
 * on disk, so every event not confirmed is sent again. Other sinks are not held up.
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
 *
 * WATCHING: `metrics()` (and `auditQueueMetrics()` for every open queue) gives each sink's depth
 * and the age of its oldest undelivered event, synchronously, for a metrics exporter; when that
 * age passes `warnAfterMs` the queue logs a warning, and again every `warnAfterMs` while it stays.
 */
import Database from 'better-sqlite3';
import { eventFromJson, eventJson, type AuditEvent } from './event.js';
import { SqliteWriter, type SqlStatement } from '../../registry/store/embedded/sqlite-writer.js';

export interface AuditSink {
  /** Stable name; rows are kept per sink name across restarts. */
  readonly name: string;
  deliver(event: AuditEvent): Promise<void>;
  /** Most deliveries in flight at once for this sink; default: the queue's `window`. */
  readonly window?: number;
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
  /** Used, when present, to say a backlog that was warned about is gone. */
  info?(message: string, meta?: Record<string, unknown>): unknown;
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
  /** Most deliveries in flight per sink (see WINDOW). Default 256. */
  readonly window?: number;
  /** A delivery that has not settled after this long counts as failed, so a hung sink is retried (ms). Default 60000. */
  readonly deliveryTimeoutMs?: number;
  /** Warn when a sink's oldest undelivered event is older than this (ms). Default 60000. */
  readonly warnAfterMs?: number;
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
}

export interface QueueCounts {
  readonly pending: number;
  readonly dead: number;
}

/** One sink's backlog, as read from the queue file. */
export interface SinkMetrics {
  readonly sink: string;
  /** Events waiting for this sink (in flight included), parked ones not. */
  readonly depth: number;
  /** Events parked as dead (never deliverable, see PermanentDeliveryError). */
  readonly dead: number;
  /** Age of the oldest waiting event, from its recorded time (ms); null when none waits. */
  readonly oldestUndeliveredAgeMs: number | null;
}

export interface QueueMetrics {
  readonly path: string;
  /** Sum over the sinks. */
  readonly depth: number;
  readonly dead: number;
  /** The largest of the sinks' (ms); null when nothing waits. */
  readonly oldestUndeliveredAgeMs: number | null;
  readonly sinks: readonly SinkMetrics[];
}

/** Every open queue, for `auditQueueMetrics`. */
const OPEN_QUEUES = new Set<DurableAuditQueue>();

/**
 * The metrics of every open audit queue of this process (normally one): a plain function, so an
 * exporter needs no handle on the Auditor that owns the queue.
 */
export function auditQueueMetrics(now = Date.now()): QueueMetrics[] {
  return [...OPEN_QUEUES].map((q) => q.metrics(now));
}

/** One delivery's result, as the drain loop collects it. */
interface Settled {
  readonly seq: number;
  readonly ok: boolean;
  readonly error?: unknown;
}

class DeliveryTimeoutError extends Error {
  constructor(ms: number) {
    super(`delivery did not settle within ${ms} ms`);
    this.name = 'DeliveryTimeoutError';
  }
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class DurableAuditQueue {
  private readonly db: Database.Database;
  private readonly writer: SqliteWriter;
  private readonly nextRows: Database.Statement;
  private readonly countRows: Database.Statement;
  private readonly backlogRows: Database.Statement;
  private readonly running = new Map<string, Promise<void>>();
  /** Wakes a sink's running drain (new rows were enqueued). */
  private readonly wakers = new Map<string, () => void>();
  private readonly retryAt = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  /** When each sink's backlog was last warned about. */
  private readonly warnedAt = new Map<string, number>();
  private readonly watchTimer: NodeJS.Timeout;
  private group: PendingEnqueue[] = [];
  private groupScheduled: NodeJS.Immediate | undefined;
  private acks: number[] = [];
  private ackTimer: NodeJS.Timeout | undefined;
  /** The commit chain: each commit starts after the one before settled. */
  private committing: Promise<void> = Promise.resolve();
  /** close() began: nothing new is enqueued or handed out; deliveries in flight may still ack. */
  private stopping = false;
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
    this.nextRows = this.db.prepare('SELECT seq, event FROM queue WHERE sink = ? AND dead = 0 AND seq > ? ORDER BY seq LIMIT ?');
    this.countRows = this.db.prepare('SELECT COALESCE(SUM(dead = 0), 0) AS pending, COALESCE(SUM(dead = 1), 0) AS dead FROM queue');
    // Per sink: how many wait, how many are dead, and the recorded time of the oldest waiting one (lowest seq).
    this.backlogRows = this.db.prepare(`
      SELECT c.sink AS sink, c.depth AS depth, c.dead AS dead, json_extract(q.event, '$.recorded') AS recorded
      FROM (SELECT sink, COALESCE(SUM(dead = 0), 0) AS depth, COALESCE(SUM(dead = 1), 0) AS dead, MIN(CASE WHEN dead = 0 THEN seq END) AS oldest
            FROM queue GROUP BY sink) AS c
      LEFT JOIN queue AS q ON q.seq = c.oldest
      ORDER BY c.sink`);
    this.writer = new SqliteWriter(options.path);
    const warnAfter = this.warnAfterMs();
    this.watchTimer = setInterval(() => this.watch(), Math.max(50, Math.min(warnAfter / 4, 15_000)));
    this.watchTimer.unref();
    OPEN_QUEUES.add(this);
  }

  /**
   * Writes the event once per sink (all or none) in the group commit of this turn of the event
   * loop; resolves once it is on disk, with the row ids by sink name, so a caller that delivered
   * to a sink itself can `ack`. Rejects when that commit failed: then nothing of the event was written.
   * Does not start delivery: the caller kicks the sinks it wants served now.
   */
  enqueue(event: AuditEvent, sinks: readonly string[] = this.options.sinks.map((s) => s.name)): Promise<Map<string, number>> {
    if (this.stopping) return Promise.reject(new Error('audit queue is closed'));
    // Serialised here, so an event that cannot be serialised fails alone, not its whole group.
    let json: string;
    try {
      json = eventJson(event);
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

  /**
   * Each sink's depth and the age of its oldest undelivered event, read synchronously from the
   * file as of the last commit (a delivery's ack is committed within `ackDelayMs`). Every sink of
   * this queue is listed, and any other sink name that still has rows.
   */
  metrics(now = Date.now()): QueueMetrics {
    const sinks = new Map<string, SinkMetrics>();
    for (const s of this.options.sinks) sinks.set(s.name, { sink: s.name, depth: 0, dead: 0, oldestUndeliveredAgeMs: null });
    if (!this.closed) {
      for (const r of this.backlogRows.all() as Array<{ sink: string; depth: number; dead: number; recorded: string | null }>) {
        const at = r.recorded !== null ? Date.parse(r.recorded) : Number.NaN;
        const depth = Number(r.depth);
        sinks.set(r.sink, {
          sink: r.sink,
          depth,
          dead: Number(r.dead),
          oldestUndeliveredAgeMs: depth === 0 ? null : Number.isNaN(at) ? 0 : Math.max(0, now - at),
        });
      }
    }
    const list = [...sinks.values()];
    const ages = list.map((s) => s.oldestUndeliveredAgeMs).filter((a): a is number => a !== null);
    return {
      path: this.options.path,
      depth: list.reduce((n, s) => n + s.depth, 0),
      dead: list.reduce((n, s) => n + s.dead, 0),
      oldestUndeliveredAgeMs: ages.length > 0 ? Math.max(...ages) : null,
      sinks: list,
    };
  }

  /** Events waiting for any sink (see `metrics`). */
  depth(): number {
    return this.metrics().depth;
  }

  /** Age of the oldest event waiting for any sink (ms), or null (see `metrics`). */
  oldestUndeliveredAgeMs(now = Date.now()): number | null {
    return this.metrics(now).oldestUndeliveredAgeMs;
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

  /**
   * Stops handing out events, waits a bounded time for the deliveries in flight (their acks are
   * still written), and closes the file; whatever is not acked stays for the next open.
   */
  async close(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    OPEN_QUEUES.delete(this);
    clearInterval(this.watchTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    // Callers already waiting were promised a commit; pending acks save redeliveries after the restart.
    await this.commit();
    // Drains waiting for new rows stop now; those with deliveries in flight stop once they settle.
    for (const wake of this.wakers.values()) wake();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.running.values()]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, this.options.closeTimeoutMs ?? 2000);
      }),
    ]);
    clearTimeout(timer);
    // The acks of the deliveries that settled meanwhile.
    await this.commit();
    // A delivery still running after the wait finds the queue closed and leaves its row in place.
    this.closed = true;
    clearTimeout(this.ackTimer);
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
        this.options.logger?.error('audit queue commit failed unexpectedly', { error: errorText(e) });
      });
    return this.committing;
  }

  private async commitWaiting(): Promise<void> {
    if (this.ackTimer !== undefined) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.closed || (this.group.length === 0 && this.acks.length === 0)) return;
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
        error: errorText(e),
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

  private pump(sink: AuditSink): void {
    if (this.stopping) return;
    if (this.running.has(sink.name)) {
      // The running drain reads the new rows as soon as it wakes.
      this.wakers.get(sink.name)?.();
      return;
    }
    const due = this.retryAt.get(sink.name);
    if (due !== undefined && Date.now() < due) return;
    const run = this.drain(sink)
      .catch((e: unknown) => {
        // A failed write of the queue's own bookkeeping (disk full, file gone): the rows stay and are tried again later.
        if (!this.stopping) this.scheduleRetry(sink, errorText(e));
      })
      .finally(() => this.running.delete(sink.name));
    this.running.set(sink.name, run);
  }

  /**
   * Hands the sink its rows in order, up to `window` at a time, and removes each row whose
   * delivery resolved. After a failure nothing more is handed out; once the deliveries in flight
   * settled, the sink is retried later from its oldest row left.
   */
  private async drain(sink: AuditSink): Promise<void> {
    const window = Math.max(1, sink.window ?? this.options.window ?? 256);
    const timeoutMs = this.options.deliveryTimeoutMs ?? 60_000;
    // Rows acked but not yet deleted (waiting, or in a commit under way) would otherwise be delivered a second time.
    await this.commit();
    let cursor = 0;
    let inFlight = 0;
    let failure: string | undefined;
    const settled: Settled[] = [];
    let wake: (() => void) | undefined;
    const signal = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    this.wakers.set(sink.name, signal);
    try {
      for (;;) {
        const done = settled.splice(0);
        if (done.length > 0) {
          inFlight -= done.length;
          const bookkeeping: SqlStatement[] = [];
          const parked: Array<{ seq: number; error: string }> = [];
          for (const d of done) {
            if (d.ok) {
              this.ack(d.seq);
              this.failures.delete(sink.name);
              continue;
            }
            const message = errorText(d.error);
            if (d.error instanceof PermanentDeliveryError) {
              bookkeeping.push({ sql: 'UPDATE queue SET dead = 1, attempts = attempts + 1, last_error = ? WHERE seq = ?', params: [message, d.seq] });
              parked.push({ seq: d.seq, error: message });
            } else {
              bookkeeping.push({ sql: 'UPDATE queue SET attempts = attempts + 1, last_error = ? WHERE seq = ?', params: [message, d.seq] });
              failure ??= message;
            }
          }
          if (bookkeeping.length > 0 && !this.closed) await this.writer.run(bookkeeping);
          for (const p of parked) {
            this.options.logger?.error('audit event can never be delivered to this sink; kept in the queue as dead', { sink: sink.name, seq: p.seq, error: p.error });
          }
        }
        if (this.closed) return;
        if (failure === undefined && !this.stopping && inFlight < window) {
          const rows = this.nextRows.all(sink.name, cursor, window - inFlight) as Row[];
          for (const row of rows) {
            cursor = row.seq;
            inFlight++;
            this.dispatch(sink, row, timeoutMs, (s) => {
              settled.push(s);
              signal();
            });
          }
          if (rows.length > 0) continue;
        }
        if (inFlight === 0) {
          if (failure !== undefined && !this.stopping) this.scheduleRetry(sink, failure);
          return;
        }
        // Woken by a result, by new rows (kick) or by close().
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (settled.length > 0) signal();
        });
      }
    } finally {
      if (this.wakers.get(sink.name) === signal) this.wakers.delete(sink.name);
    }
  }

  /** Starts one delivery; `report` is called once, with its result or, after `timeoutMs`, a timeout. */
  private dispatch(sink: AuditSink, row: Row, timeoutMs: number, report: (s: Settled) => void): void {
    let over = false;
    const finish = (ok: boolean, error?: unknown): void => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      report({ seq: row.seq, ok, error });
    };
    const timer = setTimeout(() => finish(false, new DeliveryTimeoutError(timeoutMs)), timeoutMs);
    timer.unref();
    let event: AuditEvent;
    try {
      event = eventFromJson(row.event);
    } catch (e) {
      finish(false, new PermanentDeliveryError(`queued event is not readable JSON: ${errorText(e)}`));
      return;
    }
    let delivery: Promise<void>;
    try {
      delivery = sink.deliver(event);
    } catch (e) {
      delivery = Promise.reject(e);
    }
    delivery.then(
      () => finish(true),
      (e: unknown) => finish(false, e ?? new Error('delivery failed')),
    );
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
    clearTimeout(this.timers.get(sink.name));
    const timer = setTimeout(() => {
      this.timers.delete(sink.name);
      this.retryAt.delete(sink.name);
      this.pump(sink);
    }, delay);
    timer.unref();
    this.timers.set(sink.name, timer);
  }

  private warnAfterMs(): number {
    return Math.max(1, this.options.warnAfterMs ?? 60_000);
  }

  /** Warns about each sink whose oldest undelivered event is older than `warnAfterMs`, at most once per `warnAfterMs`. */
  private watch(): void {
    if (this.stopping || this.options.logger === undefined) return;
    const limit = this.warnAfterMs();
    const now = Date.now();
    let m: QueueMetrics;
    try {
      m = this.metrics(now);
    } catch {
      return;
    }
    for (const s of m.sinks) {
      const age = s.oldestUndeliveredAgeMs;
      if (age !== null && age >= limit) {
        const last = this.warnedAt.get(s.sink);
        if (last !== undefined && now - last < limit) continue;
        this.warnedAt.set(s.sink, now);
        this.options.logger.warn('AUDIT EVENTS UNDELIVERED: the oldest audit event waiting for this sink is older than the warning threshold', {
          sink: s.sink,
          oldestUndeliveredAgeMs: age,
          depth: s.depth,
          warnAfterMs: limit,
        });
      } else if (this.warnedAt.delete(s.sink)) {
        this.options.logger.info?.('audit sink caught up: no event waits longer than the warning threshold', { sink: s.sink, depth: s.depth });
      }
    }
  }
}
