/**
 * The Auditor: what transactions call, once per request, before sending their response.
 *
 *   await auditor.record(auditEvents.iti18({ side: 'responder', client, server, node, principal,
 *                                           patientId, query, outcome: 'success' }));
 *
 * `record` resolves once the event is durable: written to the on-disk queue (fsync) for every
 * sink — the node's audit store and, when configured, the syslog Audit Record Repository — in one
 * transaction with every other event recorded in the same turn of the event loop (group commit,
 * see queue.ts), so concurrent requests share one fsync. It then tries the audit store at once
 * (bounded by `storeTimeoutMs`) so the access log is current in the normal case; whatever a
 * sink does not take now is delivered later from the queue.
 *
 * The audit store is tried per group too: every `record` whose queue commit settled in the same
 * tick hands its event to one `appendMany` (one store transaction, one sync, instead of one per
 * event). Each row is acked only when that appendMany resolved; when it fails or times out, the
 * whole group stays in the queue and the queue's pump delivers it again (at-least-once; the store
 * ignores ids it already holds).
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { toDicomXml } from './dicom';
import type { AuditEvent } from './event';
import { DurableAuditQueue, PermanentDeliveryError, type AuditSink, type QueueCounts, type QueueLogger } from './queue';
import type { AuditStore } from './store';
import { formatSyslogMessage, MessageTooLargeError, type SyslogMessageOptions, type SyslogSender } from './syslog';

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

/** One recorded event, durable in the queue, waiting for the group's inline store append. */
interface InlineAppend {
  readonly event: AuditEvent;
  /** The event's row of the store sink, acked once the store holds the event. */
  readonly row: number;
  readonly done: () => void;
}

export class Auditor {
  private readonly queue: DurableAuditQueue;
  private readonly store: AuditStore;
  private readonly storeTimeoutMs: number;
  private inline: InlineAppend[] = [];

  constructor(private readonly options: AuditorOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    this.store = options.store;
    this.storeTimeoutMs = options.storeTimeoutMs ?? 2000;
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
    // Events left from before a restart go out now.
    this.queue.kick();
  }

  async record(event: AuditEvent): Promise<void> {
    // Rejects, as the durability guarantee demands, when the group's commit failed.
    const rows = await this.queue.enqueue(event);
    this.queue.kick(SYSLOG_SINK);
    const row = rows.get(STORE_SINK)!;
    await new Promise<void>((done) => {
      this.inline.push({ event, row, done });
      // The queue settles a whole group synchronously, so its callers resume in one run of the
      // microtask queue; a tick queued by the first of them runs after the last has joined.
      if (this.inline.length === 1) process.nextTick(() => void this.appendInline());
    });
  }

  /** Hands every event waiting for the store to one appendMany; settles its callers whatever the outcome. */
  private async appendInline(): Promise<void> {
    const group = this.inline;
    this.inline = [];
    let timer: NodeJS.Timeout | undefined;
    try {
      const stored = await Promise.race([
        this.store.appendMany(group.map((g) => g.event)).then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), this.storeTimeoutMs);
        }),
      ]);
      if (stored) for (const g of group) this.queue.ack(g.row);
      else this.queue.kick(STORE_SINK);
    } catch {
      // Durable in the queue already; the queue retries the store with backoff and logs.
      this.queue.kick(STORE_SINK);
    } finally {
      clearTimeout(timer);
      for (const g of group) g.done();
    }
  }

  /** Queued events per state (for health pages and tests). */
  pending(): Promise<QueueCounts> {
    return this.queue.counts();
  }

  /** Waits until the queue is empty or the timeout passes; true when empty. */
  flush(timeoutMs = 5000): Promise<boolean> {
    return this.queue.drained(timeoutMs);
  }

  /** Stops delivery and closes the queue and the syslog connection (the store belongs to the caller). */
  async close(): Promise<void> {
    await this.queue.close();
    await this.options.syslog?.close();
  }
}
