/**
 * Audit queues nobody pumps any more, taken over. A multi-process node (connector/cluster) gives
 * each worker index its own durable queue, `<dataDir>/workers/<i>/audit-queue.sqlite`, so that one
 * process pumps each file, in order; a worker that replaces a dead one of the same index takes its
 * file over as its own. But when `processes` is lowered (or the node goes back to one process, whose
 * queue is `<dataDir>/audit-queue.sqlite`, or from one process to several), some files have no
 * owner: events waiting in them for a sink (the audit store after an outage, the ATNA repository)
 * would wait until the count went back up.
 *
 * `adoptAuditQueues` opens each such file with the node's sinks, delivers what waits there exactly
 * as the queue always does (at-least-once, in order, with backoff), and closes it once nothing
 * waits for those sinks. Who adopts what is decided so that no file has two pumps at once
 * (`queuesToAdopt`): a single process adopts every worker file; worker i of N adopts the files of
 * the indexes above N that fall to it (k ≡ i mod N), and worker 1 the single process's file.
 *
 * Rows for a sink that is no longer configured (syslog turned off) stay in the file, as they would
 * in the node's own queue, and are logged.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { QUEUE_FILE, storeSink, syslogSink } from './auditor.js';
import { DurableAuditQueue, type QueueLogger } from './queue.js';
import type { AuditStore } from './store.js';
import type { SyslogSender } from './syslog.js';

/** How often an adopted queue is checked for being empty. */
const CHECK_MS = 5_000;

/** The queue directories the process serving as `role` takes over (see the header); only those holding a queue file. */
export function queuesToAdopt(dataDir: string, role: { readonly index: number; readonly processes: number } | undefined): string[] {
  const workersDir = join(dataDir, 'workers');
  const indexes = existsSync(workersDir)
    ? readdirSync(workersDir)
        .filter((n) => /^[1-9]\d*$/.test(n))
        .map(Number)
        .sort((a, b) => a - b)
    : [];
  const dirs =
    role === undefined
      ? indexes.map((k) => join(workersDir, String(k)))
      : [
          ...(role.index === 1 ? [dataDir] : []),
          ...indexes.filter((k) => k > role.processes && (k - 1) % role.processes === role.index - 1).map((k) => join(workersDir, String(k))),
        ];
  return dirs.filter((d) => existsSync(join(d, QUEUE_FILE)));
}

export interface AdoptOptions {
  readonly dirs: readonly string[];
  readonly store: AuditStore;
  /** A sender of its own for the ATNA repository, when one is configured (closed with the adoption). */
  readonly syslog?: SyslogSender | undefined;
  readonly logger?: QueueLogger | undefined;
}

/** Delivers what waits in the queues of `dirs`; `close` stops (what is left stays on disk). */
export function adoptAuditQueues(options: AdoptOptions): { close(): Promise<void> } {
  const sinks = [storeSink(options.store), ...(options.syslog !== undefined ? [syslogSink(options.syslog)] : [])];
  const names = new Set(sinks.map((s) => s.name));
  const open = new Set<DurableAuditQueue>();
  const timers = new Set<NodeJS.Timeout>();
  for (const dir of options.dirs) {
    const path = join(dir, QUEUE_FILE);
    const queue = new DurableAuditQueue({ path, sinks, logger: options.logger });
    open.add(queue);
    queue.kick();
    const check = setInterval(() => {
      const m = queue.metrics();
      if (m.sinks.some((s) => names.has(s.sink) && s.depth > 0)) return;
      clearInterval(check);
      timers.delete(check);
      const stranded = m.sinks.filter((s) => !names.has(s.sink) && s.depth > 0);
      if (stranded.length > 0) {
        options.logger?.warn('audit events wait for a sink that is no longer configured; they stay in their queue file', {
          path,
          sinks: stranded.map((s) => `${s.sink}: ${s.depth}`),
        });
      }
      open.delete(queue);
      void queue.close();
    }, CHECK_MS);
    check.unref();
    timers.add(check);
  }
  return {
    async close() {
      for (const t of timers) clearInterval(t);
      await Promise.all([...open].map((q) => q.close()));
      await options.syslog?.close();
    },
  };
}
