/**
 * npm run bench -- [--entries 10000,1000000] [--rounds 3] [--duration 8] [--profile DIR]
 *
 * Registry benchmarks on loopback (issue 7): ITI-18 FindDocuments (LeafClass, ObjectRef),
 * GetDocuments and ITI-42 single-document registration against a node started as a child process
 * over a generated embedded store, each beside the ceiling: a bare express endpoint in its own
 * process answering the same requests with the same bytes. Every load run is bounded by time and
 * by request count. Prints a markdown table (BENCHMARKS.md, "Registry") and writes the raw
 * figures as JSON next to the cached stores.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { ACTIONS } from '../connector/soap/actions';
import { openRegistryStore } from '../registry/store/open';
import { startChild, withPeakRss, type Child } from './bench/children';
import { runLoad, type LoadResult } from './bench/load';
import { formatSummary, summarise } from './bench/profile';
import { benchPatient, contentType, findDocumentsBody, getDocumentsBody, registerOneDocument } from './bench/requests';
import { BENCH_KEY_HEADER, CEILING_PATH, type CannedResponses } from './bench/canned';
import { createWorld, type World } from './generate/patient';
import { generate, readProgress } from './generate/run';

const REGISTRY_PATH = '/xds/registry';
/** wsa:To of every request; the same bytes go to the node and to the ceiling. */
const TO = `http://127.0.0.1${REGISTRY_PATH}`;
const QUERY_PATIENTS = 32;

interface Settings {
  readonly sizes: readonly number[];
  readonly seed: number;
  readonly cacheDir: string;
  readonly rounds: number;
  readonly durationMs: number;
  readonly maxRequests: number;
  readonly queryClients: number;
  readonly registerClients: number;
  readonly only?: string;
  readonly profileDir?: string;
  readonly logLevel: string;
}

interface Scenario {
  readonly name: string;
  readonly clients: number;
  /** Keys of the distinct answers; request i uses key i mod keys.length. */
  readonly keys: readonly string[];
  readonly body: (i: number) => string;
  readonly action: string;
  /** Checks the captured answer of one key (e.g. the number of entries returned). */
  readonly verify: (key: string, text: string) => string | undefined;
}

interface Line {
  readonly entries: number;
  readonly scenario: string;
  readonly clients: number;
  readonly responseBytes: number;
  readonly node: Summary;
  readonly ceiling: Summary;
}

interface Summary {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly peakRssMb: number;
  /** CPU time of the server process per request (user + system), median over rounds. */
  readonly cpuMsPerRequest: number;
  readonly requests: number;
  readonly rounds: readonly LoadResult[];
}

function parseSettings(): Settings {
  const { values } = parseArgs({
    options: {
      entries: { type: 'string', default: '10000,1000000' },
      seed: { type: 'string', default: '1' },
      'cache-dir': { type: 'string', default: join(tmpdir(), 'koblingspunkt-bench') },
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '8' },
      'max-requests': { type: 'string', default: '200000' },
      clients: { type: 'string', default: '32' },
      'register-clients': { type: 'string', default: '8' },
      only: { type: 'string' },
      profile: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
    },
  });
  const int = (name: string, v: string) => {
    const n = Number(v.replace(/_/g, ''));
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${v}"`);
    return n;
  };
  return {
    sizes: values.entries.split(',').map((v) => int('entries', v)),
    seed: int('seed', values.seed),
    cacheDir: values['cache-dir'],
    rounds: int('rounds', values.rounds),
    durationMs: int('duration', values.duration) * 1000,
    maxRequests: int('max-requests', values['max-requests']),
    queryClients: int('clients', values.clients),
    registerClients: int('register-clients', values['register-clients']),
    ...(values.only === undefined ? {} : { only: values.only }),
    ...(values.profile === undefined ? {} : { profileDir: values.profile }),
    logLevel: values['log-level'],
  };
}

/** The data directory of a store of `entries` entries, generated (or completed) if needed. */
async function ensureStore(s: Settings, entries: number): Promise<{ dataDir: string; entriesPerSecond: number; generationSeconds: number }> {
  const dataDir = join(s.cacheDir, `entries-${entries}-seed-${s.seed}`);
  mkdirSync(dataDir, { recursive: true });
  if ((readProgress(dataDir)?.entries ?? 0) < entries) {
    process.stderr.write(`generating ${entries} entries into ${dataDir} …\n`);
    const store = await openRegistryStore({ dataDir });
    try {
      let shown = 0;
      await generate({
        store,
        dataDir,
        entries,
        seed: s.seed,
        onProgress: (p) => {
          if (p.entries - shown >= entries / 10) {
            shown = p.entries;
            process.stderr.write(`  ${p.entries} entries, ${Math.round(p.entries / (p.elapsedMs / 1000))} entries/s\n`);
          }
        },
      });
    } finally {
      await store.close();
    }
  }
  const p = readProgress(dataDir)!;
  return { dataDir, entriesPerSecond: p.entries / (p.elapsedMs / 1000), generationSeconds: p.elapsedMs / 1000 };
}

function countMatches(text: string, local: string): number {
  return text.match(new RegExp(`<(?:[A-Za-z0-9_]+:)?${local}[\\s>/]`, 'g'))?.length ?? 0;
}

function scenarios(s: Settings, world: World): Scenario[] {
  const patients = Array.from({ length: QUERY_PATIENTS }, (_, i) => benchPatient(world, i));
  const keys = patients.map((p) => `p${p.index}`);
  const byKey = new Map(patients.map((p) => [`p${p.index}`, p]));
  const expectCount = (local: string, count: (key: string) => number) => (key: string, text: string) => {
    if (!text.includes('ResponseStatusType:Success')) return `answer for ${key} is not Success: ${text.slice(0, 400)}`;
    const n = countMatches(text, local);
    return n === count(key) ? undefined : `answer for ${key} has ${n} ${local}, expected ${count(key)}`;
  };
  const approved = (key: string) => byKey.get(key)!.approvedUniqueIds.length;
  const getDocumentsIds = (key: string) => byKey.get(key)!.approvedUniqueIds.slice(0, 5);
  const findBodies = (rt: 'LeafClass' | 'ObjectRef') => patients.map((p) => findDocumentsBody(TO, p, rt));
  const leaf = findBodies('LeafClass');
  const refs = findBodies('ObjectRef');
  const gets = keys.map((k) => getDocumentsBody(TO, getDocumentsIds(k)));
  // A patient far beyond any generated store, so registrations never change what the queries return.
  const register = registerOneDocument(world, TO, 50_000_000, String(Date.now()));
  const all: Scenario[] = [
    { name: 'ITI-18 FindDocuments LeafClass', clients: s.queryClients, keys, body: (i) => leaf[i % leaf.length]!, action: ACTIONS.iti18.request, verify: expectCount('ExtrinsicObject', approved) },
    { name: 'ITI-18 FindDocuments ObjectRef', clients: s.queryClients, keys, body: (i) => refs[i % refs.length]!, action: ACTIONS.iti18.request, verify: expectCount('ObjectRef', approved) },
    { name: 'ITI-18 GetDocuments (≤ 5 uniqueIds)', clients: s.queryClients, keys, body: (i) => gets[i % gets.length]!, action: ACTIONS.iti18.request, verify: expectCount('ExtrinsicObject', (k) => getDocumentsIds(k).length) },
    { name: 'ITI-42 one document', clients: s.registerClients, keys: ['iti42'], body: register, action: ACTIONS.iti42.request, verify: (_k, text) => (text.includes('ResponseStatusType:Success') ? undefined : `ITI-42 failed: ${text.slice(0, 600)}`) },
  ];
  return s.only === undefined ? all : all.filter((sc) => sc.name.toLowerCase().includes(s.only!.toLowerCase()));
}

/** The key of the answer to request number j (the same j that `body` takes). */
function keyOf(sc: Scenario, j: number): string {
  return sc.keys[j % sc.keys.length]!;
}

/** One answer per key from the node, checked, as the ceiling's canned bytes. */
async function capture(node: Child, sc: Scenario, offset: number): Promise<CannedResponses> {
  const canned: Record<string, { contentType: string; base64: string }> = {};
  for (let j = offset; j < offset + sc.keys.length; j++) {
    const key = keyOf(sc, j);
    const res = await request(`${node.url}${REGISTRY_PATH}`, { method: 'POST', headers: { 'content-type': contentType(sc.action) }, body: sc.body(j) });
    const bytes = Buffer.from(await res.body.arrayBuffer());
    const problem = res.statusCode === 200 ? sc.verify(key, bytes.toString('utf8')) : `HTTP ${res.statusCode}: ${bytes.toString("utf8").replace(/^.*<soap:Body>/s, "").slice(0, 1500)}`;
    if (problem !== undefined) throw new Error(`${sc.name}: ${problem}`);
    canned[key] = { contentType: String(res.headers['content-type']), base64: bytes.toString('base64') };
  }
  return canned;
}

type Run = { result: LoadResult; peakRss: number; cpuMs: number };

async function load(s: Settings, target: Child, path: string, sc: Scenario, canned: CannedResponses, offset: number, durationMs = s.durationMs): Promise<Run> {
  const lengths = new Map(Object.entries(canned).map(([k, v]) => [k, Buffer.from(v.base64, 'base64').length]));
  return withPeakRss(target, async () => {
    const result = await runLoad({
      origin: target.url,
      path,
      connections: sc.clients,
      durationMs,
      maxRequests: s.maxRequests,
      request: (i) => ({ body: sc.body(offset + i), headers: { 'content-type': contentType(sc.action), [BENCH_KEY_HEADER]: keyOf(sc, offset + i) } }),
      // Same length as the captured answer: the same entries came back (ids and timestamps have fixed widths).
      check: (status, body, i) => {
        if (status !== 200) return `HTTP ${status}`;
        const expected = lengths.get(keyOf(sc, offset + i));
        return body.length === expected ? undefined : `answer of ${body.length} bytes, expected ${expected}`;
      },
    });
    if (result.errors > 0) throw new Error(`${sc.name} against ${target.url}: ${result.errors} failed requests, first: ${result.firstError}`);
    return result;
  });
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function summary(runs: readonly Run[]): Summary {
  return {
    rps: median(runs.map((r) => r.result.rps)),
    p50Ms: median(runs.map((r) => r.result.p50Ms)),
    p99Ms: median(runs.map((r) => r.result.p99Ms)),
    peakRssMb: Math.max(...runs.map((r) => r.peakRss)) / 2 ** 20,
    cpuMsPerRequest: median(runs.map((r) => r.cpuMs / Math.max(1, r.result.requests))),
    requests: runs.reduce((n, r) => n + r.result.requests, 0),
    rounds: runs.map((r) => r.result),
  };
}

async function measureSize(s: Settings, world: World, entries: number, dataDir: string): Promise<Line[]> {
  const list = scenarios(s, world);
  const node = await startChild(['node', dataDir, s.logLevel]);
  const canned: CannedResponses[] = [];
  const nodeRuns: Run[][] = list.map(() => []);
  // Each ITI-42 request needs fresh uniqueIds: every run continues the request numbering.
  let offset = 0;
  try {
    for (const sc of list) {
      canned.push(await capture(node, sc, offset));
      offset += sc.keys.length;
      // Warm-up: JIT, SQLite page cache, connection pool.
      offset += (await load(s, node, REGISTRY_PATH, sc, canned[canned.length - 1]!, offset, Math.min(2000, s.durationMs))).result.requests + sc.clients;
    }
    for (let r = 0; r < s.rounds; r++) {
      for (const [i, sc] of list.entries()) {
        const run = await load(s, node, REGISTRY_PATH, sc, canned[i]!, offset);
        offset += run.result.requests + sc.clients;
        nodeRuns[i]!.push(run);
        process.stderr.write(
          `  ${entries} ${sc.name}: ${run.result.rps.toFixed(0)} req/s, p99 ${run.result.p99Ms.toFixed(1)} ms, ${(run.cpuMs / Math.max(1, run.result.requests)).toFixed(2)} CPU ms/req\n`,
        );
      }
    }
  } finally {
    await node.stop();
  }
  const lines: Line[] = [];
  for (const [i, sc] of list.entries()) {
    const file = join(s.cacheDir, `ceiling-${i}.json`);
    writeFileSync(file, JSON.stringify(canned[i]));
    const ceiling = await startChild(['ceiling', file]);
    const runs: Run[] = [];
    try {
      await load(s, ceiling, CEILING_PATH, sc, canned[i]!, 0, Math.min(2000, s.durationMs));
      for (let r = 0; r < s.rounds; r++) runs.push(await load(s, ceiling, CEILING_PATH, sc, canned[i]!, r * s.maxRequests));
    } finally {
      await ceiling.stop();
    }
    const sizes = Object.values(canned[i]!).map((c) => Buffer.from(c.base64, 'base64').length);
    lines.push({
      entries,
      scenario: sc.name,
      clients: sc.clients,
      responseBytes: sizes.reduce((a, b) => a + b, 0) / sizes.length,
      node: summary(nodeRuns[i]!),
      ceiling: summary(runs),
    });
  }
  return lines;
}

async function profile(s: Settings, world: World, dataDir: string, dir: string): Promise<void> {
  for (const sc of scenarios(s, world).filter((x) => /LeafClass|ObjectRef|ITI-42/.test(x.name))) {
    const out = join(dir, sc.name.replace(/[^A-Za-z0-9]+/g, '-'));
    mkdirSync(out, { recursive: true });
    const node = await startChild(['node', dataDir, s.logLevel], { cpuProfileDir: out });
    try {
      const canned = await capture(node, sc, 0);
      const run = await load(s, node, REGISTRY_PATH, sc, canned, sc.keys.length);
      process.stdout.write(`\n## ${sc.name}: ${run.result.rps.toFixed(0)} req/s, p99 ${run.result.p99Ms.toFixed(1)} ms (profiled)\n`);
    } finally {
      await node.stop();
    }
    // The largest profile is the main thread's (tsx's loader thread writes a small one too).
    const file = readdirSync(out)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(out, f))
      .sort((a, b) => statSync(b).size - statSync(a).size)[0];
    if (file) process.stdout.write(`${formatSummary(summarise(JSON.parse(readFileSync(file, 'utf8'))), 25)}\n(${file})\n`);
  }
}

function table(lines: readonly Line[]): string {
  const f0 = (x: number) => x.toFixed(0);
  const f1 = (x: number) => x.toFixed(1);
  const rows = lines.map((l) =>
    [
      l.entries.toLocaleString('en-US'),
      l.scenario,
      l.clients,
      f1(l.responseBytes / 1024),
      f0(l.node.rps),
      f1(l.node.p50Ms),
      f1(l.node.p99Ms),
      f0(l.node.peakRssMb),
      f0(l.ceiling.rps),
      f1(l.ceiling.p99Ms),
      `${f0((100 * l.node.rps) / l.ceiling.rps)} %`,
      l.node.cpuMsPerRequest.toFixed(2),
      l.ceiling.cpuMsPerRequest.toFixed(2),
      `${f0((100 * l.ceiling.cpuMsPerRequest) / l.node.cpuMsPerRequest)} %`,
    ].join(' | '),
  );
  return [
    '| entries | transaction | clients | answer KB | req/s | p50 ms | p99 ms | peak RSS MB | ceiling req/s | ceiling p99 ms | of ceiling | CPU ms/req | ceiling CPU ms/req | of ceiling (CPU) |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}

async function main(): Promise<void> {
  const s = parseSettings();
  mkdirSync(s.cacheDir, { recursive: true });
  const world = createWorld(s.seed);
  if (s.profileDir !== undefined) {
    const { dataDir } = await ensureStore(s, Math.max(...s.sizes));
    await profile(s, world, dataDir, s.profileDir);
    return;
  }
  const lines: Line[] = [];
  const generation: Record<number, { entriesPerSecond: number; seconds: number }> = {};
  for (const entries of s.sizes) {
    const store = await ensureStore(s, entries);
    generation[entries] = { entriesPerSecond: store.entriesPerSecond, seconds: store.generationSeconds };
    lines.push(...(await measureSize(s, world, entries, store.dataDir)));
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  // Other processes on the machine take CPU from both the node and the load generator: say how busy it was.
  const load = loadavg().map((x) => x.toFixed(1)).join(' / ');
  const file = join(s.cacheDir, `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ machine, loadAverage: load, settings: s, generation, lines }, null, 2));
  process.stdout.write(`\nmachine: ${machine}; load average at the end (1/5/15 min): ${load}\n`);
  for (const [n, g] of Object.entries(generation)) process.stdout.write(`store of ${n} entries: generated at ${g.entriesPerSecond.toFixed(0)} entries/s (${g.seconds.toFixed(0)} s)\n`);
  process.stdout.write(`rounds: ${s.rounds} × ${s.durationMs / 1000} s per line (medians), at most ${s.maxRequests} requests per run\n\n${table(lines)}\n\nraw figures: ${file}\n`);
}

await main();
