/**
 * The Auditor: what transactions call, once per request, before sending their response.
 *
 *   await auditor.record(auditEvents.iti18({ side: 'responder', client, server, node, principal,
 *                                           patientId, query, outcome: 'success' }));
 *
 * `record` resolves once the event is durable for every sink: in the node's audit store and, when
 * an ATNA repository (syslog) is configured, in the on-disk queue that is that sink's outbox.
 *
 * STORE FIRST: the audit store is itself durable (SQLite with synchronous=FULL, MongoDB with
 * journaled majority writes), so an event it took needs no second copy. Every `record` of one
 * turn of the event loop joins one group, handed to the store in one `appendMany` (one store
 * transaction, one sync, instead of one per event); one group is out at a time, and what arrives
 * meanwhile forms the next. Only when the store fails or does not answer within `storeTimeoutMs`
 * is the group written to the durable queue instead (one group commit, see queue.ts), whose pump
 * delivers it to the store later, with backoff (at-least-once; the store ignores ids it already
 * holds, so a timed-out append that lands after all stores the event once). Measured against the
 * earlier queue-first order (every event written to the queue, appended to the store, then acked
 * and deleted from the queue): the queue's insert, delete, sync and the event's JSON were a third
 * of the audit trail's CPU per event.
 *
 * With syslog configured, the event is first committed to the queue for that sink (so nothing is
 * in the store or on its way to the repository unless the repository's copy is durable), then
 * stored as above. When that commit fails, `record` rejects and nothing was written; when the
 * store and then the queue fail too, `record` rejects although the repository's copy is queued:
 * an access may then be reported that was answered with a fault, never the other way round.
 *
 * SUBMISSIONS (ITI-41, ITI-42) are audited no later than they are stored: the success event is
 * built before the registry commit and written in the same transaction, as a commit record of the
 * registry store's outbox (registry/register.ts `withCommitRecords`, kind `audit`). After the
 * commit the transaction records the same event (same id) here with `recordCommitted`, which then
 * lets the outbox forget it. Whatever the process does not get to record (killed after the commit,
 * the audit store and queue both failing, a full disk) is recorded from the outbox by
 * `attachOutbox`: at start, and every `OUTBOX_DRAIN_INTERVAL_MS` for records older than that.
 * Both paths write the same id and the stores ignore an id they hold, so an event is stored once.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { toDicomXml } from './dicom.js';
import { eventFromJson, eventJson, type AuditEvent } from './event.js';
import { DurableAuditQueue, PermanentDeliveryError, type AuditSink, type QueueCounts, type QueueLogger } from './queue.js';
import { AuditIntents, INTENTS_FILE, type RegisteredCheck } from './intents.js';
import type { AuditStore } from './store.js';
import { witnessed, type CommitOutbox, type OutboxRecord } from '../../registry/store/store.js';
import { auditSyslogMessage, MessageTooLargeError, type SyslogMessageOptions, type SyslogSender } from './syslog.js';

export const QUEUE_FILE = 'audit-queue.sqlite';
export const STORE_SINK = 'store';
export const SYSLOG_SINK = 'syslog';

export interface AuditorOptions {
  /** Directory of the queue file `audit-queue.sqlite`. */
  readonly dataDir: string;
  readonly store: AuditStore;
  /** The ATNA repository, when one is configured. */
  readonly syslog?: SyslogSender | undefined;
  readonly syslogMessage?: Omit<SyslogMessageOptions, 'timestamp'> | undefined;
  readonly logger?: QueueLogger | undefined;
  /** How long `record` waits for the audit store before leaving the event to the queue. Default 2000 ms. */
  readonly storeTimeoutMs?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  readonly closeTimeoutMs?: number;
  readonly ackDelayMs?: number;
}

/** Outbox kind of the audit events written with a registry commit. */
export const AUDIT_OUTBOX_KIND = 'audit';
/** How often the outbox is read for events nobody recorded (and how old they must be: younger ones have a request recording them). */
export const OUTBOX_DRAIN_INTERVAL_MS = 30_000;

/**
 * Age from which an intent (intents.ts) is settled while the node runs: its request has long been
 * answered, and a registration still undecided then (an unknown outcome) is decided by asking.
 */
export const INTENT_SETTLE_AGE_MS = 10 * 60_000;

/** Age after which an outbox record whose submission is not stored is dropped (no commit takes this long). */
const UNWITNESSED_DROP_AFTER_MS = 10 * 60_000;

/** A registry store as the auditor reads its outbox: the records, and the witnesses that prove their commits. */
export interface AuditOutboxSource {
  readonly outbox?: CommitOutbox | undefined;
  getByUuids(entryUuids: readonly string[]): Promise<readonly { readonly entryUuid: string }[]>;
}

/** The commit record that carries an event into a registry commit (its id keeps it apart from other kinds'). */
export function auditCommitRecord(event: AuditEvent): Omit<OutboxRecord, 'witness'> {
  return { id: auditCommitRecordId(event), kind: AUDIT_OUTBOX_KIND, payload: eventJson(event) };
}

/** The id of an event's commit record, without serialising the event (`recordCommitted` needs only the id). */
function auditCommitRecordId(event: AuditEvent): string {
  return `${AUDIT_OUTBOX_KIND}:${event.id}`;
}

export function storeSink(store: AuditStore): AuditSink {
  return { name: STORE_SINK, deliver: (event) => store.append(event) };
}

export function syslogSink(sender: SyslogSender, message: Omit<SyslogMessageOptions, 'timestamp' | 'eventId'> = {}): AuditSink {
  return {
    name: SYSLOG_SINK,
    async deliver(event) {
      try {
        // The event's own time in the header and its id in structured data: a resent duplicate is
        // byte-identical and recognisable (syslog.ts, delivery).
        await sender.send(auditSyslogMessage(event, message));
      } catch (e) {
        if (e instanceof MessageTooLargeError) throw new PermanentDeliveryError(e.message, { cause: e });
        throw e;
      }
    },
  };
}

/** One recorded event waiting for its group's store append. */
interface Waiting {
  readonly event: AuditEvent;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class Auditor {
  private readonly queue: DurableAuditQueue;
  private readonly store: AuditStore;
  private readonly storeTimeoutMs: number;
  private readonly forwarding: boolean;
  /** Events recorded since the last group left for the store. */
  private waiting: Waiting[] = [];
  /** The group chain: each group goes to the store once the one before settled (or was given up on). */
  private appending: Promise<void> = Promise.resolve();
  private closed = false;
  /** Registry outboxes whose audit records are drained here (see `attachOutbox`). */
  private readonly outboxes: AuditOutboxSource[] = [];
  /** The drain chain: one drain at a time. */
  private draining: Promise<void> = Promise.resolve();
  private drainTimer: NodeJS.Timeout | undefined;
  /** Submissions stored where no outbox can carry their event (a remote registry): opened on first use. */
  private intents: AuditIntents | undefined;
  private intentTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: AuditorOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    this.store = options.store;
    this.storeTimeoutMs = options.storeTimeoutMs ?? 2000;
    this.forwarding = options.syslog !== undefined;
    const sinks = [storeSink(options.store)];
    if (options.syslog !== undefined) sinks.push(syslogSink(options.syslog, options.syslogMessage));
    this.queue = new DurableAuditQueue({
      path: join(options.dataDir, QUEUE_FILE),
      sinks,
      logger: options.logger,
      ...(options.retryBaseMs !== undefined ? { retryBaseMs: options.retryBaseMs } : {}),
      ...(options.retryMaxMs !== undefined ? { retryMaxMs: options.retryMaxMs } : {}),
      ...(options.closeTimeoutMs !== undefined ? { closeTimeoutMs: options.closeTimeoutMs } : {}),
      ...(options.ackDelayMs !== undefined ? { ackDelayMs: options.ackDelayMs } : {}),
    });
    // Events left from before a restart (or by a store outage) go out now.
    this.queue.kick();
  }

  /** Resolves once the event is durable for every sink; rejects, as the durability guarantee demands, when it could not be made so. */
  async record(event: AuditEvent): Promise<void> {
    if (this.closed) throw new Error('audit queue is closed');
    if (this.forwarding) {
      await this.queue.enqueue(event, [SYSLOG_SINK]);
      this.queue.kick(SYSLOG_SINK);
    }
    await new Promise<void>((resolve, reject) => {
      this.waiting.push({ event, resolve, reject });
      // setImmediate runs after the I/O callbacks of this turn: every request handled in it joins.
      if (this.waiting.length === 1) setImmediate(() => void this.appendWaiting());
    });
  }

  /** Sends the waiting group once the group before it settled; resolves when this one settled. */
  private appendWaiting(): Promise<void> {
    // appendGroup settles every caller itself and does not throw; the catch keeps the chain alive regardless.
    this.appending = this.appending.then(() => this.appendGroup()).catch((e: unknown) => {
      this.options.logger?.error('audit store append failed unexpectedly', { error: e instanceof Error ? e.message : String(e) });
    });
    return this.appending;
  }

  /** Hands the waiting group to one appendMany; what the store does not take in time goes to the queue. */
  private async appendGroup(): Promise<void> {
    const group = this.waiting;
    this.waiting = [];
    if (group.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    let stored: boolean;
    try {
      stored = await Promise.race([
        this.store.appendMany(group.map((g) => g.event)).then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), this.storeTimeoutMs);
        }),
      ]);
    } catch {
      stored = false;
    } finally {
      clearTimeout(timer);
    }
    if (stored) {
      for (const g of group) g.resolve();
      return;
    }
    // Durable in the queue instead; its pump retries the store with backoff and logs.
    const queued = await Promise.allSettled(group.map((g) => this.queue.enqueue(g.event, [STORE_SINK])));
    this.queue.kick(STORE_SINK);
    queued.forEach((q, i) => (q.status === 'fulfilled' ? group[i]!.resolve() : group[i]!.reject(q.reason)));
  }

  /**
   * Records the event of a stored submission, whose copy waits in an attached outbox: once it is
   * durable here, the outbox may forget it. Rejects as `record` does; the event stays in the outbox
   * then, and the next drain records it.
   */
  async recordCommitted(event: AuditEvent): Promise<void> {
    await this.record(event);
    const id = auditCommitRecordId(event);
    for (const source of this.outboxes) source.outbox?.done([id]);
    this.intents?.end(event.id);
  }

  /**
   * For a submission stored where its event cannot ride in the commit (ITI-41 with a remote
   * registry): writes the success event as an intent, durably, before the registration is sent
   * (intents.ts). `recordCommitted` completes it; `attachRegistrationCheck` settles what is left.
   */
  recordIntent(event: AuditEvent, documentUniqueIds: readonly string[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('audit queue is closed'));
    return this.intentLog().begin(event, documentUniqueIds);
  }

  /**
   * Settles the intents with `isRegistered` (the repository asking its registry): all of them now
   * (at start, after a crash), then every OUTBOX_DRAIN_INTERVAL_MS those older than
   * INTENT_SETTLE_AGE_MS (failed or unknown answers). Registered → the event is recorded.
   */
  attachRegistrationCheck(isRegistered: RegisteredCheck): void {
    if (this.closed || this.intentTimer !== undefined) return;
    const settle = (minAgeMs: number): void => {
      this.draining = this.draining
        .then(() => (this.closed ? undefined : this.intentLog().resolve(isRegistered, (e) => this.record(e), minAgeMs)))
        .then(
          (r) => {
            if (r !== undefined && r.recorded > 0) this.options.logger?.warn('audit events of stored submissions recorded from their intents', { events: r.recorded });
          },
          (e: unknown) => {
            if (this.closed) return;
            this.options.logger?.error('AUDIT INTENTS NOT SETTLED: the registry could not be asked or the event not recorded; retrying', {
              error: e instanceof Error ? e.message : String(e),
            });
          },
        );
    };
    settle(0);
    this.intentTimer = setInterval(() => settle(INTENT_SETTLE_AGE_MS), OUTBOX_DRAIN_INTERVAL_MS);
    this.intentTimer.unref();
  }

  private intentLog(): AuditIntents {
    this.intents ??= new AuditIntents(join(this.options.dataDir, INTENTS_FILE));
    return this.intents;
  }

  /**
   * Takes over the audit records of a registry store's outbox: records every one whose submission is
   * stored now (a restart after a crash), then those older than OUTBOX_DRAIN_INTERVAL_MS every as
   * often (the submissions whose post-commit recording failed). A store without an outbox, or one
   * already attached, is ignored.
   */
  attachOutbox(source: AuditOutboxSource): void {
    if (this.closed || source.outbox === undefined || this.outboxes.includes(source)) return;
    this.outboxes.push(source);
    this.drainSoon(source, 0);
    if (this.drainTimer === undefined) {
      this.drainTimer = setInterval(() => {
        for (const s of this.outboxes) this.drainSoon(s, OUTBOX_DRAIN_INTERVAL_MS);
      }, OUTBOX_DRAIN_INTERVAL_MS);
      this.drainTimer.unref();
    }
  }

  private drainSoon(source: AuditOutboxSource, minAgeMs: number): void {
    this.draining = this.draining
      .then(() => this.drainOutbox(source, minAgeMs))
      .then(
        (n) => {
          if (n > 0) this.options.logger?.warn('audit events of stored submissions recorded from the registry outbox', { events: n });
        },
        (e: unknown) => {
          if (this.closed) return;
          this.options.logger?.error('AUDIT OUTBOX NOT DRAINED: events of stored submissions wait in the registry outbox; retrying', {
            error: e instanceof Error ? e.message : String(e),
          });
        },
      );
  }

  /** Records the outbox's events whose submissions are stored and that are at least `minAgeMs` old; returns how many. */
  private async drainOutbox(source: AuditOutboxSource, minAgeMs: number): Promise<number> {
    const outbox = source.outbox;
    if (this.closed || outbox === undefined) return 0;
    const records = await outbox.pending(AUDIT_OUTBOX_KIND);
    if (records.length === 0) return 0;
    // One indexed lookup for all witnesses: a record of a batch that was not stored is not owed.
    const stored = new Set((await witnessed(source, records)).map((r) => r.id));
    const before = Date.now() - minAgeMs;
    const owed: { id: string; event: AuditEvent }[] = [];
    const dropped: string[] = [];
    for (const r of records) {
      const event = eventFromJson(r.payload);
      if (!stored.has(r.id)) {
        // Written ahead of a batch that never got stored (MongoDB without transactions writes the
        // records first): nothing happened to audit. Dropped once no commit can still be under way.
        if (Date.parse(event.recorded) < Date.now() - UNWITNESSED_DROP_AFTER_MS) dropped.push(r.id);
        continue;
      }
      if (minAgeMs > 0 && Date.parse(event.recorded) > before) continue;
      owed.push({ id: r.id, event });
    }
    outbox.done(dropped);
    // Every record of one turn joins one store group (see record); one failure leaves the rest for the next drain.
    const results = await Promise.allSettled(owed.map((o) => this.record(o.event)));
    const done = owed.filter((_, i) => results[i]!.status === 'fulfilled').map((o) => o.id);
    outbox.done(done);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    return done.length;
  }

  /** Queued events per state (for health pages and tests). */
  pending(): Promise<QueueCounts> {
    return this.queue.counts();
  }

  /** Waits for the groups on their way to the store, then until the queue is empty or the timeout passes; true when empty. */
  async flush(timeoutMs = 5000): Promise<boolean> {
    await this.draining;
    await this.appending;
    return this.queue.drained(timeoutMs);
  }

  /** Stops delivery and closes the queue and the syslog connection (the store belongs to the caller). */
  async close(): Promise<void> {
    if (!this.closed) {
      clearInterval(this.drainTimer);
      clearInterval(this.intentTimer);
      // A drain under way finishes first (its events were promised to the store), unless it hangs
      // (a remote registry that does not answer): what it did not settle is settled at the next start.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.draining, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.closeTimeoutMs ?? 2000)))]);
      clearTimeout(timer);
      this.closed = true;
      // Callers already waiting were promised a durable write: their group goes out first.
      await this.appendWaiting();
    }
    await this.queue.close();
    await this.intents?.close();
    await this.options.syslog?.close();
  }
}
