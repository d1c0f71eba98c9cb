/**
 * A worker process of a multi-process node: the program node:cluster forks (primary.ts). It waits
 * for its `start` message, starts the node exactly as a single process would (`startNode`) with a
 * `WorkerRole`: registry writes go to the primary, /metrics answers the whole node's numbers, the
 * audit queue is this worker index's own. It then serves until it is told to stop, gets SIGTERM
 * or SIGINT (systemd and a terminal signal every process of the node), or loses the primary.
 *
 * Not meant to be run by hand.
 */
import cluster from 'node:cluster';
import { ConfigError } from '../config.js';
import { startNode, type RunningNode } from '../node.js';
import type { ForwardedWrite } from '../../registry/forwarded-writes.js';
import type { WriteOutcome } from '../../registry/write-queue.js';
import type { ProofSeen } from '../trust/helseid/replay.js';
import { isToWorker, workerDirectory, type ToPrimary, type ToWorker } from './protocol.js';

if (!cluster.isWorker || process.send === undefined) {
  process.stderr.write('koblingspunkt: connector/cluster/worker is started by the primary of a multi-process node (processes > 1)\n');
  process.exit(2);
}

/** How long a stop waits for requests in flight when the primary did not say (the same as `npm start`'s). */
const DEFAULT_DRAIN_MS = 20_000;

let nextId = 0;
const writes = new Map<number, { resolve: (o: WriteOutcome) => void; reject: (e: Error) => void }>();
const expositions = new Map<number, { resolve: (text: string) => void; reject: (e: Error) => void }>();
const proofQuestions = new Map<number, (seen: ProofSeen) => void>();
let node: RunningNode | undefined;
let stopping: Promise<void> | undefined;

function send(message: ToPrimary): boolean {
  if (!process.connected) return false;
  try {
    return process.send!(message);
  } catch {
    return false;
  }
}

/** A registry write, to the primary: resolves with its outcome; rejects (outcome unknown) when the primary is gone. */
function forward(write: ForwardedWrite): Promise<WriteOutcome> {
  return new Promise((resolve, reject) => {
    const id = ++nextId;
    writes.set(id, { resolve, reject });
    if (!send({ kp: 'write', id, write })) {
      writes.delete(id);
      reject(new Error('the write owner (primary process) cannot be reached; the outcome of this write is unknown'));
    }
  });
}

/**
 * Outbox records done, to the primary: gathered for up to OUTBOX_DONE_BATCH_MS into one message
 * (their deletion is lazy anyway, it rides on a later commit), instead of one message per write.
 */
const OUTBOX_DONE_BATCH_MS = 20;
let doneIds: string[] = [];
let doneTimer: NodeJS.Timeout | undefined;
function outboxDone(ids: readonly string[]): void {
  doneIds.push(...ids);
  doneTimer ??= setTimeout(flushOutboxDone, OUTBOX_DONE_BATCH_MS);
}
function flushOutboxDone(): void {
  clearTimeout(doneTimer);
  doneTimer = undefined;
  if (doneIds.length === 0) return;
  send({ kp: 'outbox-done', ids: doneIds });
  doneIds = [];
}

function exposition(): Promise<string> {
  return new Promise((resolve, reject) => {
    const id = ++nextId;
    expositions.set(id, { resolve, reject });
    if (!send({ kp: 'metrics', id })) {
      expositions.delete(id);
      reject(new Error('the primary process cannot be reached for the metrics'));
    }
  });
}

/**
 * Asks the node's one memory of used DPoP proofs, kept by the primary, whether a proof is fresh.
 * Never rejects: without the primary nothing says the proof is fresh (`unavailable`, refused).
 */
function proofSeen(key: string, expiresAtMs: number, nowMs: number): Promise<ProofSeen> {
  return new Promise((resolve) => {
    const id = ++nextId;
    proofQuestions.set(id, resolve);
    if (!send({ kp: 'proof-seen', id, key, expiresAtMs, nowMs })) {
      proofQuestions.delete(id);
      resolve('unavailable');
    }
  });
}

async function start(m: Extract<ToWorker, { kp: 'start' }>): Promise<void> {
  try {
    node = await startNode(m.config, {
      ...(m.configOrigin !== undefined ? { configOrigin: m.configOrigin } : {}),
      worker: {
        index: m.index,
        processes: m.processes,
        writes: forward,
        outboxDone,
        exposition,
        proofReplay: { remember: proofSeen },
        auditQueueDir: workerDirectory(m.config.dataDir, m.index),
        startLog: m.startLog,
      },
    });
  } catch (e) {
    send({ kp: 'failed', message: e instanceof Error ? e.message : String(e), usage: e instanceof ConfigError });
    process.exitCode = e instanceof ConfigError ? 2 : 1;
    process.disconnect();
    return;
  }
  send({ kp: 'ready', port: node.port, url: node.url });
}

function stop(drainMs: number, reason: string): Promise<void> {
  stopping ??= (async () => {
    node?.logger.info(`worker ${process.pid} stopping (${reason}): requests in flight get up to ${drainMs / 1000} s to finish`, { reason });
    try {
      await node?.close({ drainMs });
      process.exitCode ??= 0;
    } catch {
      process.exitCode = 1;
    }
    flushOutboxDone();
    // Whatever still waits on the primary is not answered any more.
    if (process.connected) process.disconnect();
    process.exit();
  })();
  return stopping;
}

process.on('message', (m: unknown) => {
  if (!isToWorker(m)) return;
  switch (m.kp) {
    case 'start':
      void start(m);
      return;
    case 'written': {
      const waiting = writes.get(m.id);
      writes.delete(m.id);
      if (m.outcome !== undefined) waiting?.resolve(m.outcome);
      else waiting?.reject(new Error(m.error ?? 'the registry write failed'));
      return;
    }
    case 'exposition': {
      const waiting = expositions.get(m.id);
      expositions.delete(m.id);
      if (m.text !== undefined) waiting?.resolve(m.text);
      else waiting?.reject(new Error(m.error ?? 'the metrics could not be collected'));
      return;
    }
    case 'proof-answer': {
      const waiting = proofQuestions.get(m.id);
      proofQuestions.delete(m.id);
      waiting?.(m.seen);
      return;
    }
    case 'collect':
      (node ? node.metrics.metricsJson() : Promise.resolve([])).then(
        (metrics) => send({ kp: 'collected', id: m.id, metrics }),
        () => send({ kp: 'collected', id: m.id, metrics: [] }),
      );
      return;
    case 'stop':
      void stop(m.drainMs, 'asked by the primary');
      return;
  }
});

// The primary is gone (it died, or stopped): nothing can be written any more, so stop serving.
process.on('disconnect', () => {
  const gone = new Error('the write owner (primary process) is gone; the outcome of this write is unknown');
  for (const w of writes.values()) w.reject(gone);
  writes.clear();
  for (const e of expositions.values()) e.reject(gone);
  expositions.clear();
  for (const answer of proofQuestions.values()) answer('unavailable');
  proofQuestions.clear();
  void stop(0, 'the primary process is gone');
});

// Only now can the primary's `start` be received: IPC messages that find no listener are dropped.
send({ kp: 'hello' });

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping !== undefined) process.exit(1);
    void stop(DEFAULT_DRAIN_MS, signal);
  });
}
