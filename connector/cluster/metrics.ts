/**
 * `/metrics` of a multi-process node: the node's numbers, not those of whichever worker the
 * scrape's connection landed on. The worker that gets the scrape asks the primary, the primary asks
 * every worker for its metrics as prom-client JSON (`NodeMetrics.metricsJson`), adds its own
 * process metrics and its worker counts, and prom-client's `AggregatorRegistry.aggregate` combines
 * them by each metric's aggregator: counters and histograms (requests, latencies, gateway calls,
 * CPU seconds, memory) are summed; the store-wide gauges (registry objects, blob store size), which
 * every process reads from the same files, take the maximum instead of being counted N times; the
 * audit queue's oldest age is the oldest of the per-worker queues, their depths are summed.
 *
 * A worker that does not answer within `COLLECT_TIMEOUT_MS` (busy, dying) is left out of that
 * scrape rather than holding it up.
 */
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import { processMetricsJson } from '../metrics/metrics.js';

export const COLLECT_TIMEOUT_MS = 2_000;

/** The primary's own metrics: how many workers serve, and how often one had to be replaced. */
export class PrimaryMetrics {
  private readonly registry = new Registry();
  private readonly workers: Gauge;
  private readonly restarts: Counter;

  constructor() {
    this.workers = new Gauge({
      name: 'koblingspunkt_worker_processes',
      help: 'Worker processes serving requests (processes > 1; the primary, which decides registry writes, is not counted)',
      registers: [this.registry],
    });
    this.restarts = new Counter({
      name: 'koblingspunkt_worker_restarts_total',
      help: 'Worker processes that died and were replaced',
      registers: [this.registry],
    });
  }

  setWorkers(n: number): void {
    this.workers.set(n);
  }

  restarted(): void {
    this.restarts.inc();
  }

  /** The primary's share of a scrape: these two and its process metrics. */
  async json(): Promise<unknown[]> {
    return [...(await this.registry.getMetricsAsJSON()), ...(await processMetricsJson())];
  }
}

/** Combines the processes' metrics into one exposition (see the header). */
export async function aggregateExposition(perProcess: readonly unknown[][]): Promise<{ text: string; contentType: string }> {
  const registry = AggregatorRegistry.aggregate(perProcess.map((m) => m as object[]) as object[]) as Registry;
  return { text: await registry.metrics(), contentType: registry.contentType };
}
