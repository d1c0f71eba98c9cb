/**
 * `npm run bench:paired -- --other DIR [--line iti42|iti41|cold] [--entries 10000] [--cache-dir DIR] [--rounds 12] [--seconds 3] [--clients 32]
 *   [--flags=--single-threaded-gc]` (the `=` form: the value starts with a dash)
 * (--cache-dir: the bench's, `npm run bench`'s default unless given)
 *
 * Two trees' nodes measured at the same time, for a machine shared with other work: the node of
 * this tree and the node of the worktree `--other` (another commit of this repository, with its
 * own node_modules link), each on its own fresh copy of the bench's generated 10k store, both
 * started at once and loaded in turns (`--seconds` each, this tree first in odd rounds, the other
 * first in even ones). Whatever else the machine runs then weighs on both alike, which the
 * alternating runs of `npm run bench` (minutes apart) cannot give: there the same code's CPU per
 * request moved by 40 % from one run to the next under other agents' load.
 *
 * Per round and node: requests/s and the node's CPU ms per request (/proc, all its threads);
 * printed at the end: each node's CPU over the measured rounds thread by thread (the main thread,
 * the SQLite writers' worker threads, V8's helpers), the medians, and the median of the per-round
 * ratios (this tree / other).
 * Every answer must be Success. The lines are the bench's: `iti42` (ITI-42 one document, fresh
 * uniqueIds, a patient outside the store), `iti41` (ITI-41 with a 20 KB document, MTOM) and `cold`
 * (FindDocuments LeafClass, each request the next patient of the bench's cold walk, on nodes whose
 * registry read cache is off, as the bench's cold line runs: every answer a miss; in each round
 * both nodes answer the same 800 patients, `--seconds` does not apply).
 *
 * `--flags` adds V8/Node flags to this tree's node only: a runtime setting measured against the
 * same code (give `--other` a worktree of the same commit).
 *
 * The store is `<cache-dir>/entries-<entries>-seed-1-v3` (`npm run bench -- --entries 10000
 * --cache-dir DIR` generates it); the cold line wants one of many patients (200000 entries: 5,242).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ACTIONS } from '../connector/soap/actions.js';
import { NODE_RUNTIME_FLAGS } from './bench/children.js';
import { benchDocument, provideRequest } from './bench/documents.js';
import { runLoad, type LoadRequest } from './bench/load.js';
import { benchPatient, coldPatients, contentType, findDocumentsBody, registerOneDocument } from './bench/requests.js';
import { MAX_UNIQUE_PATIENTS } from './generate/norway.js';
import { createWorld } from './generate/patient.js';
import { readProgress } from './generate/run.js';

const { values } = parseArgs({
  options: {
    other: { type: 'string' },
    line: { type: 'string', default: 'iti42' },
    entries: { type: 'string', default: '10000' },
    'cache-dir': { type: 'string', default: join(tmpdir(), 'koblingspunkt-bench') },
    rounds: { type: 'string', default: '12' },
    seconds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '32' },
    flags: { type: 'string', default: '' },
  },
});
if (values.other === undefined) throw new Error('--other DIR: the worktree to compare with');
const line = values.line;
if (line !== 'iti42' && line !== 'iti41' && line !== 'cold') throw new Error(`--line ${line}: iti42, iti41 or cold`);
const rounds = Number(values.rounds);
const durationMs = Number(values.seconds) * 1000;
const clients = Number(values.clients);
const here = fileURLToPath(new URL('..', import.meta.url));
const trees = [
  { name: 'this', root: here, flags: values.flags.split(/\s+/).filter((f) => f !== '') },
  { name: 'other', root: resolve(values.other), flags: [] },
];
const generated = join(values['cache-dir'], `entries-${values.entries}-seed-1-v3`);
/** The cold line's nodes read every answer from the store (registry.cacheEntries 0), as the bench's cold node does. */
const cacheArg = line === 'cold' ? ['0'] : [];
const SUCCESS = Buffer.from('urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success');

interface Node {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly dataDir: string;
}

/** The CPU time (user + system) of a process and its threads so far, in ms. */
function cpuMs(pid: number, file = `/proc/${pid}/stat`): number {
  const stat = readFileSync(file, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Starts a tree's bench server as `npm run bench` does (scripts/bench/server.ts node DIR info 1), on a fresh copy of the store. */
async function start(name: string, root: string, extraFlags: readonly string[] = []): Promise<Node> {
  const dataDir = `${generated}.paired-${name}`;
  rmSync(dataDir, { recursive: true, force: true });
  cpSync(generated, dataDir, { recursive: true, filter: (source) => !/audit|\.run|-shm$/.test(source.slice(generated.length)) });
  const child = spawn(process.execPath, [...NODE_RUNTIME_FLAGS, ...extraFlags, '--import', 'tsx', join(root, 'scripts/bench/server.ts'), 'node', dataDir, 'info', '1', ...cacheArg], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((ok, fail) => {
    child.once('message', (m) => ok((m as { url: string }).url));
    child.once('exit', (code) => fail(new Error(`${name}'s node exited with ${code} before listening`)));
  });
  return { name, url, pid: child.pid!, child, dataDir };
}

async function stop(node: Node): Promise<void> {
  await new Promise<void>((ok) => {
    if (node.child.exitCode !== null) return ok();
    node.child.once('exit', () => ok());
    node.child.send('stop');
  });
  rmSync(node.dataDir, { recursive: true, force: true });
}

const world = createWorld(1);
const requests = new Map<string, (i: number) => LoadRequest>();
function requestsFor(node: Node): (i: number) => LoadRequest {
  let make = requests.get(node.name);
  if (make !== undefined) return make;
  if (line === 'cold') {
    const progress = readProgress(generated);
    if (progress === undefined) throw new Error(`no generated store in ${generated}`);
    const bodies = coldPatients(progress.patient, 5000).map((i) => findDocumentsBody('http://127.0.0.1/xds/registry', benchPatient(world, i), 'LeafClass'));
    // Both nodes walk the same patients in the same order (each its own position in the walk).
    make = (i) => ({ body: bodies[i % bodies.length]!, headers: { 'content-type': contentType(ACTIONS.iti18.request) } });
  } else if (line === 'iti42') {
    const register = registerOneDocument(world, 'http://127.0.0.1/xds/registry', MAX_UNIQUE_PATIENTS - 1, `${Date.now()}${node.name === "this" ? 1 : 2}`);
    make = (i) => ({ body: register(i), headers: { 'content-type': contentType(ACTIONS.iti42.request) } });
  } else {
    const patient = benchPatient(world, MAX_UNIQUE_PATIENTS - 2).patientId;
    const document = benchDocument(20 * 1024);
    make = () => {
      const p = provideRequest('http://127.0.0.1/xds/repository', patient, document);
      return { body: p.body, headers: { 'content-type': p.contentType } };
    };
  }
  requests.set(node.name, make);
  return make;
}

/**
 * The cold line's answers differ in size from patient to patient (1 to ~150 entries), so its two
 * nodes answer the same requests in a round: the same `COLD_REQUESTS` patients of the walk, from
 * the same position (~2–3 s here), rather than as many as each serves in the round's seconds.
 */
const COLD_REQUESTS = 800;
const offsets = new Map<string, number>();
let coldFrom = 0;
async function load(node: Node, ms: number): Promise<{ rps: number; cpuPerRequest: number }> {
  const make = requestsFor(node);
  const from = line === 'cold' ? coldFrom : (offsets.get(node.name) ?? 0);
  const cpu0 = cpuMs(node.pid);
  const result = await runLoad({
    origin: node.url,
    path: line === 'iti41' ? '/xds/repository' : '/xds/registry',
    connections: clients,
    durationMs: line === 'cold' ? 120_000 : ms,
    maxRequests: line === 'cold' ? COLD_REQUESTS : 1_000_000,
    request: (i) => make(from + i),
    check: (status, body) => (status === 200 && body.subarray(0, 16_384).includes(SUCCESS) ? undefined : `HTTP ${status}: ${body.toString('utf8').slice(0, 300)}`),
  });
  offsets.set(node.name, from + result.requests);
  if (result.errors > 0) throw new Error(`${node.name}: ${result.errors} requests failed, first: ${result.firstError}`);
  return { rps: result.rps, cpuPerRequest: (cpuMs(node.pid) - cpu0) / result.requests };
}

/** CPU ms so far of each thread of a process, by thread (its name and id). */
function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(`${tid === String(pid) ? 'main' : name} ${tid}`, cpuMs(Number(tid), `/proc/${pid}/task/${tid}/stat`));
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const nodes = await Promise.all(trees.map((t) => start(t.name, t.root, t.flags)));
try {
  // Warm-up: JIT, caches, the writer threads.
  for (const n of nodes) await load(n, 2000);
  coldFrom += COLD_REQUESTS;
  const figures = new Map(nodes.map((n) => [n.name, { rps: [] as number[], cpu: [] as number[] }]));
  const ratios: number[] = [];
  const threadsAtStart = nodes.map((n) => threadCpuMs(n.pid));
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? nodes : [...nodes].reverse();
    const got = new Map<string, { rps: number; cpuPerRequest: number }>();
    for (const n of order) got.set(n.name, await load(n, durationMs));
    coldFrom += COLD_REQUESTS;
    for (const [name, r] of got) {
      figures.get(name)!.rps.push(r.rps);
      figures.get(name)!.cpu.push(r.cpuPerRequest);
    }
    const ratio = got.get('this')!.cpuPerRequest / got.get('other')!.cpuPerRequest;
    ratios.push(ratio);
    process.stdout.write(
      `round ${round}: ${[...got].map(([name, r]) => `${name} ${r.rps.toFixed(0)} req/s ${r.cpuPerRequest.toFixed(3)} ms`).join(', ')}, this/other ${ratio.toFixed(3)}\n`,
    );
  }
  // Where each node's CPU went over the measured rounds, thread by thread (name and id).
  nodes.forEach((n, k) => {
    const byName = new Map<string, number>();
    for (const [thread, ms] of threadCpuMs(n.pid)) {
      byName.set(thread, ms - (threadsAtStart[k]!.get(thread) ?? 0));
    }
    const total = [...byName.values()].reduce((a, b) => a + b, 0);
    process.stdout.write(`${n.name}'s threads: ${[...byName].sort((a, b) => b[1] - a[1]).filter(([, ms]) => ms > 0).map(([name, ms]) => `${name} ${((100 * ms) / total).toFixed(1)} %`).join(', ')}\n`);
  });
  for (const [name, f] of figures) {
    process.stdout.write(`${name} (${trees.find((t) => t.name === name)!.root}): median ${median(f.rps).toFixed(0)} req/s, ${median(f.cpu).toFixed(3)} CPU ms per request\n`);
  }
  process.stdout.write(`this/other CPU per request, median of the rounds' ratios: ${median(ratios).toFixed(3)} (lowest ${Math.min(...ratios).toFixed(3)}, highest ${Math.max(...ratios).toFixed(3)})\n`);
  // A round's first node was seen to cost less than its second (the cold line: up to ~15 %); two
  // consecutive rounds, one of each order, cancel that in their geometric mean.
  const pairs: number[] = [];
  for (let r = 0; r + 1 < ratios.length; r += 2) pairs.push(Math.sqrt(ratios[r]! * ratios[r + 1]!));
  if (pairs.length > 0) {
    process.stdout.write(`this/other, median over pairs of rounds (one of each order, geometric mean): ${median(pairs).toFixed(3)} (${pairs.map((p) => p.toFixed(3)).join(', ')})\n`);
  }
} finally {
  await Promise.all(nodes.map(stop));
}
