/**
 * `npm run bench:cold -- [--entries 1000000] [--patients 400] [--from 0] [--drop] [--repeat] [--floor]`
 *
 * The cold FindDocuments LeafClass path in one process, one query at a time, without HTTP: what a
 * kjernejournal lookup of a patient nobody asked for lately costs the registry. It opens the bench's
 * cached store (`npm run bench` generates it; `--data-dir` for another), asks FindDocuments for
 * `--patients` patients of the bench's cold walk (scripts/bench/requests.ts `coldPatients`) from
 * position `--from`, and turns each result into the answer's bytes as the ITI-18 endpoint does
 * (`runStoredQuery` → `adhocQueryResponse` → `serializeXmlChunks`).
 *
 * - `--drop` first drops the store file from the OS page cache (`dd iflag=nocache`), so that the
 *   queries read from disk as on a node whose store is larger than its memory.
 * - `--warmup N` (default 200) first asks N patients from the far end of the walk, unmeasured, so
 *   that the measured queries run optimised code.
 * - `--repeat` asks the same patients a second time and reports that too: the warm figures of the
 *   same answers, from the read cache, for comparison.
 * - `--floor` then does for the same patients only what no cold answer can avoid, on a connection
 *   of its own: read each patient's Approved DocumentEntries' packed rows (one statement for the
 *   candidates, one for the rows, as the store reads them), and then also decompress each row's
 *   record and stored form once. It reports µs of CPU per entry for both (medians of five passes
 *   each, alternated), beside the cold pass's: how far a miss is from its floor (BENCHMARKS.md,
 *   issue 19, eleventh session).
 *
 * Per query it reports the process's CPU (user + system, all threads: the store reads on the main
 * thread) and wall time, medians over the patients, and a SHA-256 over all answers' bytes, which
 * must not change between two trees that should give the same answers (compare `--from`/`--patients`
 * alike). Run it with `node --cpu-prof` (NODE_OPTIONS) for a profile of the cold path alone.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { adhocQueryResponse } from '../registry/ebxml/index.js';
import { STORED_QUERY_ID } from '../registry/model/query.js';
import { runStoredQuery } from '../registry/query/index.js';
import { EMBEDDED_FILE_NAME, openRegistryStore } from '../registry/store/open.js';
import { unpackForm } from '../registry/store/embedded/record-codec.mjs';
import { serializeXmlChunks } from '../registry/xml/serialize.js';
import { APPROVED, benchPatient, coldPatients } from './bench/requests.js';
import { createWorld, GENERATOR_VERSION } from './generate/patient.js';
import { readProgress } from './generate/run.js';

const { values: args } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    'data-dir': { type: 'string' },
    'cache-dir': { type: 'string', default: join(tmpdir(), 'koblingspunkt-bench') },
    seed: { type: 'string', default: '1' },
    patients: { type: 'string', default: '400' },
    from: { type: 'string', default: '0' },
    walk: { type: 'string', default: '5000' },
    drop: { type: 'boolean', default: false },
    repeat: { type: 'boolean', default: false },
    floor: { type: 'boolean', default: false },
    'cache-entries': { type: 'string' },
    warmup: { type: 'string', default: '200' },
    'home-community-id': { type: 'string', default: 'urn:oid:2.16.578.1.12.4.5.100.1' },
  },
});

const dataDir = args['data-dir'] ?? join(args['cache-dir'], `entries-${args.entries}-seed-${args.seed}-v${GENERATOR_VERSION}`);
const progress = readProgress(dataDir);
if (progress === undefined) throw new Error(`no generated store in ${dataDir}: run \`npm run bench -- --entries ${args.entries} --only cold\` first`);

const world = createWorld(Number(args.seed));
const from = Number(args.from);
const walk = coldPatients(progress.patient, Number(args.walk)).slice(from, from + Number(args.patients));
const patients = walk.map((i) => benchPatient(world, i).patientId);
// Patients from the far end of the store's walk, asked first so that the measured queries run
// compiled code, as on a node that has served for a while (the first hundred queries of a process
// cost several times the later ones).
const all = coldPatients(progress.patient, progress.patient);
const warmupPatients = all.slice(all.length - Number(args.warmup)).map((i) => benchPatient(world, i).patientId);

function dropPageCache(): void {
  const r = spawnSync('dd', [`if=${join(dataDir, EMBEDDED_FILE_NAME)}`, 'iflag=nocache', 'count=0'], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error('dd could not drop the store file from the page cache');
}

const store = await openRegistryStore({ dataDir, ...(args['cache-entries'] === undefined ? {} : { cacheEntries: Number(args['cache-entries']) }) });

/** CPU seconds of the main thread so far (Linux: /proc, in clock ticks of 10 ms; Node 20 has no threadCpuUsage). */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/${process.pid}/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

interface Pass {
  readonly cpuMs: number[];
  readonly systemMs: number[];
  readonly wallMs: number[];
  bytes: number;
  entries: number;
  readonly digest: ReturnType<typeof createHash>;
  /** CPU of the main thread over the whole pass (the rest of `cpuMs` is V8's and libuv's threads). */
  mainThreadMs: number;
}

async function pass(asked: readonly string[] = patients): Promise<Pass> {
  const p: Pass = { cpuMs: [], systemMs: [], wallMs: [], bytes: 0, entries: 0, digest: createHash('sha256'), mainThreadMs: 0 };
  const mainAtStart = mainThreadCpuMs();
  for (const patientId of asked) {
    const cpu = process.cpuUsage();
    const t = process.hrtime.bigint();
    const result = await runStoredQuery(
      store,
      {
        queryId: STORED_QUERY_ID.FindDocuments,
        returnType: 'LeafClass',
        parameters: [
          { name: '$XDSDocumentEntryPatientId', values: [`'${patientId}'`] },
          { name: '$XDSDocumentEntryStatus', values: [`('${APPROVED}')`] },
        ],
      },
      { maxResults: 5000, homeCommunityId: args['home-community-id'] },
    );
    const chunks = serializeXmlChunks(adhocQueryResponse(result));
    const wall = Number(process.hrtime.bigint() - t) / 1e6;
    const used = process.cpuUsage(cpu);
    if (result.status !== 'Success') throw new Error(`FindDocuments for ${patientId}: ${result.status} ${JSON.stringify(result.errors)}`);
    p.cpuMs.push((used.user + used.system) / 1000);
    p.systemMs.push(used.system / 1000);
    p.wallMs.push(wall);
    p.entries += result.objects.length;
    for (const c of chunks) {
      p.bytes += c.length;
      p.digest.update(c);
    }
  }
  p.mainThreadMs = mainThreadCpuMs() - mainAtStart;
  return p;
}

const quantile = (xs: readonly number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const median = (xs: readonly number[]) => quantile(xs, 0.5);
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function report(label: string, p: Pass): void {
  const n = patients.length;
  process.stdout.write(
    `${label}: ${n} queries, ${(p.entries / n).toFixed(1)} entries and ${(p.bytes / n / 1024).toFixed(1)} KB per answer; ` +
      `CPU ms/query median ${median(p.cpuMs).toFixed(2)} (system ${median(p.systemMs).toFixed(2)}), mean ${(sum(p.cpuMs) / n).toFixed(2)}; ` +
      `p90 ${quantile(p.cpuMs, 0.9).toFixed(2)}; wall ms median ${median(p.wallMs).toFixed(2)}, mean ${(sum(p.wallMs) / n).toFixed(2)}; ` +
      `µs CPU per entry ${((sum(p.cpuMs) * 1000) / Math.max(1, p.entries)).toFixed(1)}; main thread ${(p.mainThreadMs / n).toFixed(2)} ms/query; answers sha256 ${p.digest.digest('hex').slice(0, 16)}\n`,
  );
}

/**
 * The floor of a miss (`--floor`): CPU per entry of reading the patients' packed rows, and of
 * reading and decompressing them, on a read-only connection of its own.
 */
function floor(asked: readonly string[]): { readUs: number; decompressUs: number } {
  const db = new Database(join(dataDir, EMBEDDED_FILE_NAME), { readonly: true });
  try {
    const candidates = db.prepare("SELECT seq FROM objects WHERE type = 'DocumentEntry' AND patient_id = ? AND status = 'Approved' ORDER BY seq").pluck(true);
    const rows = db.prepare('SELECT seq, rev, packed FROM objects WHERE seq IN (SELECT value FROM json_each(?))').raw(true);
    const measure = (decompress: boolean): number => {
      let entries = 0;
      const cpu = process.cpuUsage();
      for (const patientId of asked) {
        for (const row of rows.all(JSON.stringify(candidates.all(patientId))) as [number, number, Buffer][]) {
          entries++;
          if (decompress) unpackForm(row[2]);
        }
      }
      const used = process.cpuUsage(cpu);
      return (used.user + used.system) / Math.max(1, entries);
    };
    // Alternated, medians of five: this machine's speed drifts within seconds.
    measure(true);
    const read: number[] = [];
    const decompressed: number[] = [];
    for (let i = 0; i < 5; i++) {
      read.push(measure(false));
      decompressed.push(measure(true));
    }
    return { readUs: median(read), decompressUs: median(decompressed) };
  } finally {
    db.close();
  }
}

process.stdout.write(`store ${dataDir} (${progress.entries} entries, ${progress.patient} patients), walk positions ${from}–${from + patients.length - 1}${args.drop ? ', page cache dropped' : ''}\n`);
await pass(warmupPatients);
if (args.drop) dropPageCache();
const cold = await pass();
report('cold', cold);
if (args.repeat) report('warm', await pass());
if (args.floor) {
  const f = floor(patients);
  process.stdout.write(
    `floor: reading the rows ${f.readUs.toFixed(1)} µs CPU per entry, reading and decompressing them ${f.decompressUs.toFixed(1)}; ` +
      `the cold pass ${((sum(cold.cpuMs) * 1000) / Math.max(1, cold.entries)).toFixed(1)}\n`,
  );
}
await store.close();
