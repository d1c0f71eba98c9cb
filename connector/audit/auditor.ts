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
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { toDicomXml } from './dicom.js';
import type { AuditEvent } from './event.js';
import { DurableAuditQueue, PermanentDeliveryError, type AuditSink, type QueueCounts, type QueueLogger } from './queue.js';
import type { AuditStore } from './store.js';
import { formatSyslogMessage, MessageTooLargeError, type SyslogMessageOptions, type SyslogSender } from './syslog.js';

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

export function storeSink(store: AuditStore): AuditSink {
  return { name: STORE_SINK, deliver: (event) => store.append(event) };
}

export function syslogSink(sender: SyslogSender, message: Omit<SyslogMessageOptions, 'timestamp'> = {}): AuditSink {
  return {
    name: SYSLOG_SINK,
    async deliver(event) {
      try {
        await sender.send(formatSyslogMessage(toDicomXml(event), message));
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

  /** Queued events per state (for health pages and tests). */
  pending(): Promise<QueueCounts> {
    return this.queue.counts();
  }

  /** Waits for the groups on their way to the store, then until the queue is empty or the timeout passes; true when empty. */
  async flush(timeoutMs = 5000): Promise<boolean> {
    await this.appending;
    return this.queue.drained(timeoutMs);
  }

  /** Stops delivery and closes the queue and the syslog connection (the store belongs to the caller). */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      // Callers already waiting were promised a durable write: their group goes out first.
      await this.appendWaiting();
    }
    await this.queue.close();
    await this.options.syslog?.close();
  }
}
