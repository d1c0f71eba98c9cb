/**
 * The fuzz run: starts a node (temporary embedded store, silent), generates the cases from the
 * seed, sends them with bounded concurrency and a per-request deadline, judges every answer,
 * checks /health between batches and samples the process's RSS. Stops by itself at the case
 * count or the time budget, whichever comes first.
 *
 * The node runs in this process, so an exception escaping the node's code reaches this process's
 * uncaughtException / unhandledRejection handlers: those are counted as crashes.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../connector/config.js';
import { startNode, type RunningNode } from '../../connector/node.js';
import { makeAssertionKit } from './assertions.js';
import { judge } from './judge.js';
import { ENDPOINTS, FUZZ_HOME, FUZZ_REPOSITORY_ID, makeCase, MUTATIONS, type CaseContext, type Endpoint, type FuzzCase, type Mutation } from './mutate.js';
import { Rng } from './random.js';
import { loadSeeds, type Seed } from './seeds.js';
import { send } from './send.js';

export interface FuzzOptions {
  readonly cases: number;
  readonly seconds: number;
  readonly seed: number;
  /** Requests in flight at once. */
  readonly concurrency?: number;
  /** A request without an answer after this long is a hang. */
  readonly requestTimeoutMs?: number;
  /** Cases between two health checks. */
  readonly batchSize?: number;
  /** Seeds to use (default: the NIST testkit and NHN samples). */
  readonly seeds?: readonly Seed[];
  /** Progress lines (one per batch). */
  readonly progress?: (line: string) => void;
}

export interface Finding {
  readonly case: number;
  readonly problem: string;
  readonly mutation: Mutation;
  readonly variant: string;
  readonly endpoint: Endpoint;
  readonly seed: string;
  readonly detail: string;
}

export interface FuzzSummary {
  readonly seed: number;
  readonly cases: number;
  readonly durationMs: number;
  readonly casesByMutation: Readonly<Record<string, number>>;
  readonly faultsByCode: Readonly<Record<string, number>>;
  /** Responses (RegistryResponse, AdhocQueryResponse, RetrieveDocumentSetResponse) by status. */
  readonly responsesByStatus: Readonly<Record<string, number>>;
  readonly registryErrorsByCode: Readonly<Record<string, number>>;
  readonly crashes: number;
  readonly hangs: number;
  readonly unexplained5xx: number;
  readonly unparseable: number;
  readonly leaks: number;
  readonly connectionErrors: number;
  readonly healthChecks: number;
  readonly healthFailures: number;
  readonly peakRssBytes: number;
  readonly startRssBytes: number;
  readonly endRssBytes: number;
  readonly slowestMs: number;
  readonly findings: readonly Finding[];
}

const MAX_REQUEST_BYTES = 8 * 1024 * 1024;
const MAX_XML_DEPTH = 200;

function bump(map: Record<string, number>, key: string, n = 1): void {
  map[key] = (map[key] ?? 0) + n;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const started = Date.now();
  const deadline = started + options.seconds * 1000;
  const concurrency = options.concurrency ?? 8;
  const timeoutMs = options.requestTimeoutMs ?? 20_000;
  const batchSize = options.batchSize ?? 100;
  const rng = new Rng(options.seed);
  const seeds = options.seeds ?? loadSeeds();
  const ctx: CaseContext = {
    seeds,
    nhnSeeds: seeds.filter((s) => s.source.startsWith('nhn-samples/')).length > 0 ? seeds.filter((s) => s.source.startsWith('nhn-samples/')) : seeds,
    assertions: makeAssertionKit(rng),
    maxRequestBytes: MAX_REQUEST_BYTES,
    maxXmlDepth: MAX_XML_DEPTH,
  };

  let crashes = 0;
  const findings: Finding[] = [];
  const crashFinding = (kind: string) => (e: unknown) => {
    crashes++;
    findings.push({ case: -1, problem: 'crash', mutation: 'none', variant: kind, endpoint: 'registry', seed: '', detail: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) });
  };
  const onUncaught = crashFinding('uncaughtException');
  const onRejection = crashFinding('unhandledRejection');
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onRejection);

  const dataDir = mkdtempSync(join(tmpdir(), 'kp-fuzz-'));
  let node: RunningNode | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const startRss = process.memoryUsage().rss;
  let peakRss = startRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  sampler.unref();

  const casesByMutation: Record<string, number> = Object.fromEntries(MUTATIONS.map((m) => [m, 0]));
  const faultsByCode: Record<string, number> = {};
  const responsesByStatus: Record<string, number> = {};
  const registryErrorsByCode: Record<string, number> = {};
  let hangs = 0;
  let unexplained5xx = 0;
  let unparseable = 0;
  let leaks = 0;
  let connectionErrors = 0;
  let healthChecks = 0;
  let healthFailures = 0;
  let slowestMs = 0;
  let done = 0;

  const record = (c: FuzzCase, problem: string, detail: string): void => {
    if (findings.length < 200) findings.push({ case: c.index, problem, mutation: c.mutation, variant: c.variant, endpoint: c.endpoint, seed: c.seed, detail });
  };

  try {
    node = await startNode(
      parseConfig({
        port: 0,
        host: '127.0.0.1',
        dataDir,
        silent: true,
        homeCommunityId: FUZZ_HOME,
        limits: { maxRequestBytes: MAX_REQUEST_BYTES, maxXmlDepth: MAX_XML_DEPTH },
        repository: { repositoryUniqueId: FUZZ_REPOSITORY_ID },
        registry: { patientIds: { acceptedAssigningAuthorities: ['1.3.6.1.4.1.21367.2005.13.20.1000'] } },
      }),
    );
    const urls: Record<Endpoint, string> = Object.fromEntries(
      ENDPOINTS.map((e) => [e, `${node!.url}${node!.config.endpoints[e]}`]),
    ) as Record<Endpoint, string>;

    const health = async (): Promise<boolean> => {
      healthChecks++;
      try {
        const r = await fetch(`${node!.url}/health`, { signal: AbortSignal.timeout(5000) });
        return r.status === 200;
      } catch {
        return false;
      }
    };

    let next = 0;
    while (next < options.cases && Date.now() < deadline) {
      const batchEnd = Math.min(options.cases, next + batchSize);
      // Cases are generated in order from the one Rng before sending, so concurrency and timing
      // never change which bytes a case number gets.
      const batch: FuzzCase[] = [];
      for (let i = next; i < batchEnd; i++) batch.push(makeCase(i, rng, ctx));
      next = batchEnd;
      let cursor = 0;
      const worker = async (): Promise<void> => {
        while (cursor < batch.length && Date.now() < deadline) {
          const c = batch[cursor++]!;
          casesByMutation[c.mutation] = (casesByMutation[c.mutation] ?? 0) + 1;
          const result = await send(urls[c.endpoint], c.contentType, c.body, timeoutMs, agent);
          done++;
          slowestMs = Math.max(slowestMs, result.ms);
          if (result.kind === 'timeout') {
            hangs++;
            record(c, 'hang', `no answer within ${timeoutMs} ms`);
            continue;
          }
          if (result.kind === 'connection') {
            connectionErrors++;
            record(c, 'connection', result.error);
            continue;
          }
          const v = judge(result.answer);
          if (v.ok && v.kind === 'fault') bump(faultsByCode, v.code);
          else if (v.ok) {
            bump(responsesByStatus, `${v.element} ${v.status}`);
            for (const code of v.errorCodes) bump(registryErrorsByCode, code);
          } else {
            if (v.problem === 'unexplained-5xx') unexplained5xx++;
            else if (v.problem === 'leak') leaks++;
            else unparseable++;
            record(c, v.problem, v.detail);
          }
          if (v.ok && v.kind === 'fault' && v.code.startsWith('Receiver')) record(c, 'receiver-fault', v.reason);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, () => worker()));
      if (!(await health())) {
        healthFailures++;
        record(batch[batch.length - 1]!, 'health', 'the node did not answer /health with 200 within 5 s');
        break;
      }
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      options.progress?.(
        `${done} cases, ${Math.round((Date.now() - started) / 1000)} s, rss ${Math.round(process.memoryUsage().rss / 1048576)} MiB, problems ${hangs + unexplained5xx + unparseable + leaks + connectionErrors + crashes}`,
      );
    }
  } finally {
    clearInterval(sampler);
    agent.destroy();
    await node?.close();
    rmSync(dataDir, { recursive: true, force: true });
    // Let late errors from closing surface before the handlers go.
    await new Promise((r) => setImmediate(r));
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onRejection);
  }

  return {
    seed: options.seed,
    cases: done,
    durationMs: Date.now() - started,
    casesByMutation,
    faultsByCode,
    responsesByStatus,
    registryErrorsByCode,
    crashes,
    hangs,
    unexplained5xx,
    unparseable,
    leaks,
    connectionErrors,
    healthChecks,
    healthFailures,
    peakRssBytes: peakRss,
    startRssBytes: startRss,
    endRssBytes: process.memoryUsage().rss,
    slowestMs,
    findings,
  };
}

/** Whether a run found nothing wrong. Receiver faults are listed as findings but are answers, not failures. */
export function clean(s: FuzzSummary): boolean {
  return s.crashes + s.hangs + s.unexplained5xx + s.unparseable + s.leaks + s.connectionErrors + s.healthFailures === 0;
}

function table(title: string, counts: Readonly<Record<string, number>>): string {
  const rows = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (rows.length === 0) return `${title}: none\n`;
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${title}:\n${rows.map(([k, n]) => `  ${k.padEnd(width)}  ${n}`).join('\n')}\n`;
}

export function formatSummary(s: FuzzSummary): string {
  const mib = (b: number): string => `${(b / 1048576).toFixed(0)} MiB`;
  return (
    `fuzz: seed ${s.seed}, ${s.cases} cases in ${(s.durationMs / 1000).toFixed(1)} s\n` +
    `crashes ${s.crashes}, hangs ${s.hangs}, unexplained 5xx ${s.unexplained5xx}, unparseable ${s.unparseable}, ` +
    `leaks ${s.leaks}, connection errors ${s.connectionErrors}, health ${s.healthChecks - s.healthFailures}/${s.healthChecks} ok\n` +
    `RSS: start ${mib(s.startRssBytes)}, peak ${mib(s.peakRssBytes)}, end ${mib(s.endRssBytes)}; slowest answer ${s.slowestMs} ms\n` +
    table('cases by mutation', s.casesByMutation) +
    table('faults by code', s.faultsByCode) +
    table('responses by status', s.responsesByStatus) +
    table('registry errors by code', s.registryErrorsByCode) +
    (s.findings.length > 0
      ? `findings (first ${Math.min(s.findings.length, 30)} of ${s.findings.length}):\n` +
        s.findings
          .slice(0, 30)
          .map((f) => `  #${f.case} ${f.problem} ${f.mutation}/${f.variant} → ${f.endpoint} (${f.seed}): ${f.detail.split('\n')[0]}`)
          .join('\n') +
        '\n'
      : '')
  );
}
