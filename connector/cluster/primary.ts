/**
 * A multi-process node (`processes` > 1, or "auto"): one primary process and N worker processes
 * (node:cluster) serving the same port, over the same store.
 *
 * WHO DOES WHAT.
 * - The workers (worker.ts) serve every request: TLS, SOAP, MTOM, trust, queries, retrieves,
 *   staging of documents, audit. Each is a whole node (`startNode`) with its own SQLite read
 *   connection (or MongoDB client), its own caches and its own HTTP limits. node:cluster's primary
 *   accepts the connections and hands them to the workers in turn (round-robin), so one listening
 *   socket, one port, one TLS configuration.
 * - The primary serves no request. It is the registry's WRITE OWNER: every registry write of every
 *   worker (ITI-42, ITI-41's registration, ITI-57, ITI-92, ITI-62, ITI-65) arrives here as plain
 *   data (registry/forwarded-writes.ts) and is decided and group-committed on the one write queue
 *   of registry/write-queue.ts, against the one store connection that writes, exactly as in a
 *   single process. So two workers can never both accept one uniqueId, and everything the queue
 *   promises (arrival order, atomic group commit, commit records in the same transaction, no
 *   answer before the commit is durable) holds across processes unchanged. It also runs what must
 *   run once: the store's schema migration (it opens the store first), the repository's start-up
 *   recovery (before any worker starts, so no upload is in flight) and the periodic orphan sweep
 *   (age-based, so it never takes a worker's upload in flight), and it adds up the workers'
 *   metrics for /metrics (metrics.ts).
 *
 * READ-YOUR-WRITES. A write is answered only once its commit is durable; a read that starts after
 * that, in any process, opens a new SQLite read transaction (WAL) and sees it. The embedded store's
 * record cache is validated per row by (seq, rev) on every read, and the other caches are per
 * object version (registry/relationships.ts), so no process serves a stale record.
 *
 * WHAT IS PER PROCESS. The audit trail's durable queue and intents file: one per worker index
 * (`<dataDir>/workers/<i>/`), so that one process pumps each queue in order, and a worker that
 * replaces a dead one takes over its file and delivers what it left. The audit store, the registry
 * outbox and the patient blocks are shared files that every process reads and writes through
 * SQLite's locking. HTTP limits (http.maxBufferedBytes, deadlines), the XUA verification cache
 * (a pure function of the assertion's bytes), the federation's concurrency cap and the operator
 * page's rates are per worker (docs/operations.md says what that means). The memory of used DPoP
 * proofs is not: a proof replayed on a new connection lands on another worker, so the primary keeps
 * the one memory and the workers ask it (trust/helseid/replay.ts).
 *
 * FAILURES. A worker that dies is replaced (at once, then with a growing delay if it keeps dying
 * within seconds of its start); its writes already sent are still decided and committed here, only
 * their answers are lost; what it owed after a commit waits in the registry's outbox. The primary
 * dying takes the node down: its workers stop serving (they can no longer write). A graceful stop
 * (SIGTERM, SIGINT) drains every worker while the primary keeps deciding their writes, then closes
 * the store.
 */
import cluster, { type Worker } from 'node:cluster';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type winston from 'winston';
import { DocumentRegistry } from '../../registry/registry.js';
import { applyForwardedWrite } from '../../registry/forwarded-writes.js';
import { createPatientIdPolicy } from '../../registry/patients.js';
import { openRegistryStore } from '../../registry/store/open.js';
import { openBlobStore } from '../../repository/blob/index.js';
import { inProcessRegistry } from '../../repository/registry-port.js';
import { DocumentRepository } from '../../repository/repository.js';
import type { NodeConfig } from '../config.js';
import { ConfigError } from '../config.js';
import { ensureWritableDataDir } from '../data-dir.js';
import { createLogger } from '../log.js';
import { startRepositorySweep } from '../node.js';
import type { ConfigOrigin } from '../start-log.js';
import { aggregateExposition, COLLECT_TIMEOUT_MS, PrimaryMetrics } from './metrics.js';
import { isToPrimary, type ToPrimary, type ToWorker } from './protocol.js';
import { DEFAULT_DPOP_REPLAY_CACHE_SIZE } from '../trust/helseid/config.js';
import { ProofReplayCache } from '../trust/helseid/replay.js';

export interface RunningCluster {
  /** Base URL the workers serve, e.g. http://127.0.0.1:8080 (the bound port when 0 was asked for). */
  readonly url: string;
  readonly port: number;
  readonly logger: winston.Logger;
  /** The process ids of the workers serving now, by index (1 … processes). */
  workerPids(): number[];
  /**
   * Stops the node: every worker drains (up to `drainMs` for requests in flight) and exits while
   * this process still decides their writes; then the store is closed.
   */
  close(options?: { readonly drainMs?: number }): Promise<void>;
}

export interface StartClusterOptions {
  readonly processes: number;
  readonly configOrigin?: ConfigOrigin | undefined;
}

/** A worker that dies this soon after its start is restarted with a growing delay (no fork storm). */
const QUICK_DEATH_MS = 10_000;
const RESTART_DELAY_MAX_MS = 30_000;
/** How long a stop waits for the workers beyond their drain before they are killed. */
const STOP_GRACE_MS = 5_000;

/** The worker program: worker.ts under tsx (tests, the bench, `npm run dev`), worker.js when compiled. */
function workerProgram(): string {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  const file = join(here, '..', ts ? 'worker.ts' : 'worker.js');
  if (!existsSync(file)) throw new Error(`the worker program ${file} is missing`);
  return file;
}

/** A failure to start that names what went wrong in the worker (ConfigError: exit code 2). */
class WorkerStartError extends Error {}

export async function startCluster(config: NodeConfig, options: StartClusterOptions): Promise<RunningCluster> {
  if (!cluster.isPrimary) throw new Error('startCluster runs in the primary process only');
  const processes = options.processes;
  const logger = createLogger({ level: config.logLevel, silent: config.silent, process: 'primary' });
  ensureWritableDataDir(config.dataDir);

  // The write owner: the one store connection that writes, the one queue (and the migration, once).
  const store = await openRegistryStore({
    dataDir: config.dataDir,
    ...(config.mongoUri ? { mongoUri: config.mongoUri } : {}),
    ...(config.registry.cacheEntries !== undefined ? { cacheEntries: config.registry.cacheEntries } : {}),
  });
  const registry = new DocumentRegistry(store, {
    queryResultLimit: config.registry.queryResultLimit,
    patientIds: createPatientIdPolicy(config.registry.patientIds),
    homeCommunityId: config.homeCommunityId,
  });
  // Start-up recovery and the orphan sweep, here only (see the header).
  const blobs = await openBlobStore({ dataDir: config.dataDir, smallDocumentBytes: config.repository.smallDocumentBytes, ...(config.mongoUri ? { mongoUri: config.mongoUri } : {}) });
  const repository = new DocumentRepository(blobs, inProcessRegistry(registry), {
    repositoryUniqueId: config.repository.repositoryUniqueId,
    maxDocumentBytes: config.repository.maxDocumentBytes,
    orphanAgeMs: config.repository.orphanAgeMs,
    homeCommunityId: config.homeCommunityId,
    log: (level, message, meta) => logger.log(level, message, meta),
  });
  let sweep: NodeJS.Timeout | undefined;
  try {
    sweep = await startRepositorySweep(repository, config, logger);
  } catch (e) {
    await blobs.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw e;
  }

  const metrics = new PrimaryMetrics();
  // Sized as a single process's would be (the default when HelseID is not configured: nothing asks then).
  const proofs = new ProofReplayCache(config.trust.helseid?.dpopReplayCacheSize ?? DEFAULT_DPOP_REPLAY_CACHE_SIZE);
  const workers = new Map<number, Worker>();
  const startedAt = new Map<number, number>();
  const quickDeaths = new Map<number, number>();
  let stopping = false;
  let nextCollect = 0;
  const collecting = new Map<number, { readonly got: unknown[][]; readonly waiting: Set<number>; readonly done: () => void }>();

  cluster.setupPrimary({ exec: workerProgram(), execArgv: process.execArgv, args: [], serialization: 'advanced' });

  const sendTo = (worker: Worker, message: ToWorker): void => {
    if (!worker.isConnected()) return;
    try {
      worker.send(message);
    } catch {
      // The worker is going away: its answer is lost, the write itself stands.
    }
  };

  /** Every worker's metrics plus the primary's, summed (metrics.ts). */
  const scrape = async (): Promise<string> => {
    const id = ++nextCollect;
    const targets = [...workers.values()].filter((w) => w.isConnected());
    const got: unknown[][] = [await metrics.json()];
    await new Promise<void>((resolve) => {
      const waiting = new Set(targets.map((w) => w.id));
      const timer = setTimeout(done, COLLECT_TIMEOUT_MS);
      function done(): void {
        clearTimeout(timer);
        collecting.delete(id);
        resolve();
      }
      collecting.set(id, { got, waiting, done });
      if (waiting.size === 0) return done();
      for (const w of targets) sendTo(w, { kp: 'collect', id });
    });
    return (await aggregateExposition(got)).text;
  };

  const onMessage = (worker: Worker, m: ToPrimary): void => {
    switch (m.kp) {
      case 'write':
        // Decided on the one queue; the answer goes back to the worker that asked, if it is still there.
        applyForwardedWrite(registry, m.write).then(
          (outcome) => sendTo(worker, { kp: 'written', id: m.id, outcome }),
          (e: unknown) => {
            logger.error('forwarded registry write failed', { error: e instanceof Error ? e.message : String(e) });
            sendTo(worker, { kp: 'written', id: m.id, error: e instanceof Error ? e.message : String(e) });
          },
        );
        return;
      case 'proof-seen':
        // The node's one memory of used DPoP proofs, so that a replay on another worker is seen.
        sendTo(worker, { kp: 'proof-answer', id: m.id, seen: proofs.remember(m.key, m.expiresAtMs, m.nowMs) });
        return;
      case 'outbox-done':
        // Deleted with the next commit, as in one process (or on their own a moment later).
        store.outbox?.done(m.ids);
        return;
      case 'metrics':
        scrape().then(
          (text) => sendTo(worker, { kp: 'exposition', id: m.id, text }),
          (e: unknown) => sendTo(worker, { kp: 'exposition', id: m.id, error: e instanceof Error ? e.message : String(e) }),
        );
        return;
      case 'collected': {
        const c = collecting.get(m.id);
        if (c === undefined || !c.waiting.delete(worker.id)) return;
        c.got.push(m.metrics);
        if (c.waiting.size === 0) c.done();
        return;
      }
      default:
        return;
    }
  };

  let first: { port: number; url: string } | undefined;
  /** Forks worker `index`; resolves once it listens, rejects when it fails to start. */
  const fork = (index: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork({ KOBLINGSPUNKT_WORKER: String(index) });
      workers.set(index, worker);
      startedAt.set(index, Date.now());
      let ready = false;
      let failure: string | undefined;
      let usage = false;
      worker.on('message', (m: unknown) => {
        if (!isToPrimary(m)) return;
        if (m.kp === 'hello') {
          sendTo(worker, { kp: 'start', config, index, processes, configOrigin: options.configOrigin, startLog: index === 1 && first === undefined });
        } else if (m.kp === 'ready') {
          ready = true;
          if (first !== undefined && !stopping) logger.info(`worker ${index} (pid ${worker.process.pid}) serves again`, { worker: index, pid: worker.process.pid });
          first ??= { port: m.port, url: m.url };
          metrics.setWorkers([...workers.values()].filter((w) => w.isConnected()).length);
          resolve();
        } else if (m.kp === 'failed') {
          failure = m.message;
          usage = m.usage;
        } else onMessage(worker, m);
      });
      worker.on('exit', (code, signal) => {
        if (workers.get(index) === worker) workers.delete(index);
        for (const c of collecting.values()) if (c.waiting.delete(worker.id) && c.waiting.size === 0) c.done();
        metrics.setWorkers(workers.size);
        if (!ready) {
          const why = failure ?? `worker ${index} exited with ${signal ?? `code ${code}`} before it listened`;
          reject(usage ? new ConfigError(why) : new WorkerStartError(why));
          return;
        }
        if (stopping) return;
        // Replaced: its writes already sent still stand (they are decided here); only their answers are lost.
        const lived = Date.now() - (startedAt.get(index) ?? 0);
        const quick = lived < QUICK_DEATH_MS ? (quickDeaths.get(index) ?? 0) + 1 : 0;
        quickDeaths.set(index, quick);
        const delay = quick === 0 ? 0 : Math.min(RESTART_DELAY_MAX_MS, 500 * 2 ** (quick - 1));
        logger.error(`worker ${index} (pid ${worker.process.pid}) died (${signal ?? `exit code ${code}`}); starting a new one${delay > 0 ? ` in ${delay} ms` : ''}`, {
          worker: index,
          pid: worker.process.pid,
          code,
          signal,
        });
        metrics.restarted();
        restart(index, delay);
      });
    });

  /** Starts worker `index` again after `delay`; a replacement that fails to start is tried again, later each time. */
  const restart = (index: number, delay: number): void => {
    setTimeout(() => {
      if (stopping) return;
      fork(index).catch((e: unknown) => {
        const next = Math.min(RESTART_DELAY_MAX_MS, Math.max(1_000, delay * 2));
        logger.error(`worker ${index} could not be restarted: ${e instanceof Error ? e.message : String(e)}; trying again in ${next} ms`, { worker: index });
        restart(index, next);
      });
    }, delay);
  };

  const stopWorkers = async (drainMs: number): Promise<void> => {
    stopping = true;
    const all = [...workers.values()];
    await Promise.all(
      all.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            const kill = setTimeout(() => w.process.kill('SIGKILL'), drainMs + STOP_GRACE_MS);
            w.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            sendTo(w, { kp: 'stop', drainMs });
          }),
      ),
    );
  };

  const closeOwner = async (): Promise<void> => {
    clearInterval(sweep);
    await blobs.close().catch(() => undefined);
    await store.close();
  };

  try {
    // One at a time for the first, so that its start log comes out whole; then the others together.
    await fork(1);
    await Promise.all(Array.from({ length: processes - 1 }, (_, i) => fork(i + 2)));
  } catch (e) {
    await stopWorkers(0);
    await closeOwner().catch(() => undefined);
    throw e;
  }
  const { port, url } = first!;
  logger.info(
    `processes: ${processes} workers (pids ${[...workers.values()].map((w) => w.process.pid).join(', ')}) serve ${url}; this primary (pid ${process.pid}) decides every registry write`,
    { processes, port, url, primaryPid: process.pid, workerPids: [...workers.values()].map((w) => w.process.pid) },
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    logger,
    workerPids: () => [...workers.entries()].sort(([a], [b]) => a - b).map(([, w]) => w.process.pid!),
    close(options = {}) {
      closing ??= (async () => {
        await stopWorkers(options.drainMs ?? 0);
        await closeOwner();
      })();
      return closing;
    },
  };
}
