/**
 * A small closed-loop load generator on undici: `connections` clients each send a request, wait
 * for the whole answer, and send the next, until the time or the request budget runs out, so a
 * run always stops by itself. Latency is measured per request from send to last byte.
 */
import { Pool } from 'undici';

export interface LoadRequest {
  /** POST (the default) sends it; a GET has none. */
  readonly body?: string | Buffer;
  readonly headers: Record<string, string>;
  /** Default POST. */
  readonly method?: 'GET' | 'POST';
  /** This request's path and query, instead of LoadOptions.path (a GET's query, e.g. an MHD search). */
  readonly path?: string;
}

export interface LoadOptions {
  /** Origin, e.g. http://127.0.0.1:8080. */
  readonly origin: string;
  readonly path: string;
  readonly connections: number;
  readonly durationMs: number;
  readonly maxRequests: number;
  /**
   * The i-th request (i counts from 0 over the run). If it throws (e.g. a line has used up the
   * objects it prepared), the run stops: no client sends another request, and runLoad rejects
   * with that error once the requests in flight are answered. Such a run is never counted.
   */
  readonly request: (i: number) => LoadRequest;
  /** Checks an answer; a returned string counts the request as an error with that reason. */
  readonly check?: (status: number, body: Buffer, i: number) => string | undefined;
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly durationMs: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly responseBytes: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(options.origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const latencies: number[] = [];
  let issued = 0;
  let errors = 0;
  let firstError: string | undefined;
  let responseBytes = 0;
  let fatal: { error: unknown } | undefined;
  const started = performance.now();
  const deadline = started + options.durationMs;

  const client = async (): Promise<void> => {
    while (fatal === undefined && issued < options.maxRequests && performance.now() < deadline) {
      const i = issued++;
      let next: LoadRequest;
      try {
        next = options.request(i);
      } catch (error) {
        fatal ??= { error };
        return;
      }
      const { body, headers, method = 'POST', path = options.path } = next;
      const t0 = performance.now();
      try {
        const res = await pool.request({ path, method, headers, ...(method === 'POST' ? { body: body ?? '' } : {}) });
        const bytes = Buffer.from(await res.body.arrayBuffer());
        latencies.push(performance.now() - t0);
        responseBytes += bytes.length;
        const problem = options.check?.(res.statusCode, bytes, i);
        if (problem !== undefined) {
          errors++;
          firstError ??= problem;
        }
      } catch (e) {
        errors++;
        firstError ??= (e as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, client));
  const durationMs = performance.now() - started;
  await pool.close();
  if (fatal !== undefined) throw fatal.error;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    durationMs,
    rps: latencies.length / (durationMs / 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    meanMs: latencies.reduce((s, x) => s + x, 0) / Math.max(1, latencies.length),
    responseBytes,
  };
}
