/**
 * npm run bench -- [--entries 10000,1000000] [--rounds 3] [--duration 8] [--only NAME[,NAME…]]
 *                  [--mb 20] [--runs 5] [--concurrency 4] [--cold-patients 5000] [--prepared-rate 3000]
 *                  [--profile DIR] [--processes N] [--copy-limit-mb 4096]
 *
 * Benchmarks of every transaction on loopback (issue 7), against a node started as a child process
 * over a generated embedded store of each size, each line beside its ceiling: a bare express
 * endpoint in its own process that reads the same requests and answers with the exact bytes the
 * node answered (captured and checked first). Every load run is bounded by time and by request
 * count. The lines (`--only` selects by case-insensitive substrings of these names; `^` and `$`
 * anchor one to the start and end of a name: `^ITI-18 FindDocuments LeafClass$` is that line
 * without the cold line and ITI-38):
 *
 *   - ITI-18 FindDocuments LeafClass / ObjectRef: the first 32 generated patients in turn,
 *     Approved entries; every answer must hold exactly the patient's Approved entries (capture)
 *     and have the captured length (run). 32 clients.
 *   - ITI-67 FindDocumentReferences: the same patients and the same FindDocuments as the LeafClass
 *     line, through MHD (GET /fhir/DocumentReference?patient.identifier=urn:oid:<authority>|<id>
 *     &status=current), answered as a searchset Bundle; every answer must list exactly the
 *     patient's Approved entries (as many DocumentReferences, and total, as the LeafClass answer
 *     has ExtrinsicObjects) and have the captured length. The ceiling is sent the same GET (path
 *     /ceiling, the same query string). 32 clients.
 *   - ITI-18 GetDocuments (≤ 5 uniqueIds) of those patients. 32 clients.
 *   - ITI-18 FindDocuments LeafClass, cold: each request a different patient, walking the whole
 *     store with a stride (coldPatients), at most --cold-patients distinct ones before it repeats,
 *     on a node of its own with the registry's read cache off (registry.cacheEntries 0), so every
 *     request is a miss at every size: a small store's walk repeats (265 patients at 10k), and
 *     with the cache on it was answered from the cache. Every answer is checked
 *     against the generator's count of the patient's Approved entries; the answers are captured
 *     only after the node's runs (a first pass would warm what the line measures), and the ceiling
 *     answers 256 of them spread over the walk (the note under the table compares the mean answer
 *     sizes). 32 clients.
 *   - ITI-38 Cross Gateway Query FindDocuments LeafClass, the ITI-18 patients, through the
 *     responding gateway (/xca/responding, `home` naming the node's community). 32 clients.
 *   - ITI-42 one document: fresh uniqueIds per request, a patient outside the store. 32 clients
 *     (--register-clients): the registry commits concurrent registrations in groups (one fsync per
 *     group), so concurrency is what a region's many submitting systems give it; 8 gives less.
 *   - ITI-62 delete one submission: each request removes one whole one-document submission (its
 *     SubmissionSet, DocumentEntry and HasMember Association: three ObjectRefs) that no earlier
 *     request removed. The line's prepare registers them beforehand through ITI-42 with urn:uuid
 *     entryUUIDs of its own (the registry keeps a submitter's UUIDs), on a patient outside the
 *     store: --prepared-rate × (warm-up + --rounds × --duration) of them, and the run fails
 *     (uncounted) if the node removes faster than that. Every answer must be Success; the ceiling
 *     answers the captured Success. --register-clients clients: a removal takes the registration's
 *     group-committing write queue (registry/write-queue.ts).
 *   - ITI-57 update one DocumentEntry: each request makes version 2 of the DocumentEntry of one
 *     one-document submission that no earlier request updated (lid = its entryUUID, a new
 *     entryUUID, the same uniqueId, a changed title; the SubmissionSet HasMember carries
 *     PreviousVersion 1), registered beforehand as ITI-62's are (its own --prepared-rate × … of
 *     them); the registry deprecates version 1. Every answer must be Success. --register-clients
 *     clients: the same write queue.
 *   - ITI-41 Provide and Register, 20 KB document: MTOM (CXF shape), fresh uniqueIds per request,
 *     a patient outside the store; the ceiling reads the whole request. --register-clients clients.
 *   - ITI-43 Retrieve, 20 KB document (MTOM answer, checked to carry the document's bytes). 32 clients.
 *   - ITI-41 Provide and Register / ITI-43 Retrieve, 20 MB document (--mb): each in a fresh node
 *     process, one request at a time (--runs per round), so MB/s = document size / median latency;
 *     peak RSS is the kernel's high-water mark (VmHWM), reset after a warm-up with a 20 KB document, and
 *     its growth over the RSS at that point is compared with the document size (target: ≥ 150
 *     MB/s, growth ≤ 3 × the document); the growth over the freshly started process is shown
 *     beside it (it adds ~50 MB of one-time start-up: worker threads, compiled code); then
 *     --concurrency simultaneous requests. The ceiling streams: the upload to a file while hashed,
 *     the captured answer from a file. (`npm run bench:retrieve` runs just these.)
 *
 * Each run measures on a fresh copy of the generated store (its registry and documents, no audit
 * store), made anew for every run and deleted after it, so the write lines of one run never change
 * what the next one measures; a store larger than --copy-limit-mb (default 4096: the 10M store,
 * ~20 GB, is larger) is measured in place, keeps what every run registered and the audit events of
 * every run, and the output says how many DocumentEntries it held at the start (bench/stores.ts).
 * Figures are medians of --rounds rounds after a warm-up; each node round is followed at once by
 * the same load on the line's ceiling, and a line's share of the ceiling is the median of those
 * pairs' ratios (the machine's speed drifts over minutes: see `measureShared`). The server's CPU
 * ms per request (/proc, user + system) is the robust figure on a shared machine. Prints markdown tables
 * (BENCHMARKS.md) and writes the raw figures as JSON next to the cached stores. Within a run, what
 * a write line registers stays for the lines after it (on patients the query lines never ask for),
 * and so do the submissions ITI-62 and ITI-57 registered but did not get to use (and the versions
 * ITI-57 made).
 *
 * --report FILE prints the tables of an earlier run again from the results file it wrote, and
 * measures nothing.
 *
 * --processes N (default 1) runs the measured node as a multi-process node (`processes: N`,
 * connector/cluster: a primary that decides the registry writes and N workers sharing the port);
 * its CPU ms per request and RSS are those of all its processes together (children.ts). The
 * ceiling, the preparing node and --profile stay single processes.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { request } from 'undici';
import { ACTIONS } from '../connector/soap/actions.js';
import { leafForm } from '../registry/ebxml/write-objects.js';
import { writeForms } from '../registry/store/embedded/backfill-forms.js';
import { prepareDatabase } from '../registry/store/embedded/schema.js';
import { EMBEDDED_FILE_NAME, openRegistryStore } from '../registry/store/open.js';
import { startChild, withPeakRss, type Child } from './bench/children.js';
import { DEFAULT_COPY_LIMIT_BYTES, generatedCounts, isPristine, markGenerated, workingStore, type StoreCounts, type WorkingStore } from './bench/stores.js';
import { runLoad, type LoadResult } from './bench/load.js';
import { formatSummary, profileClockUs, summarise, type ProfileWindow } from './bench/profile.js';
import {
  benchPatient,
  coldPatients,
  contentType,
  countOpenTags,
  findDocumentsBody,
  getDocumentsBody,
  preparedSubmissions,
  registerOneDocument,
  removeObjects,
  updateDocumentEntry,
  type BenchPatient,
  type PreparedSubmission,
} from './bench/requests.js';
import { benchDocument, provideRequest, retrieveRequest } from './bench/documents.js';
import { BENCH_HOME_COMMUNITY_ID, BENCH_KEY_HEADER, CEILING_PATH, type CannedAnswer, type CannedResponses, type CeilingSpec } from './bench/canned.js';
import { createWorld, GENERATOR_VERSION, type World } from './generate/patient.js';
import { MAX_UNIQUE_PATIENTS } from './generate/norway.js';
import { generate, readProgress } from './generate/run.js';

const PATHS = { registry: '/xds/registry', repository: '/xds/repository', responding: '/xca/responding', mhd: '/fhir/DocumentReference' } as const;
type Endpoint = keyof typeof PATHS;
/** wsa:To of every request; the same bytes go to the node and to the ceiling. */
const to = (endpoint: Endpoint) => `http://127.0.0.1${PATHS[endpoint]}`;
const QUERY_PATIENTS = 32;
const COLD_CEILING_SAMPLE = 256;
/** Answers of the large-document lines larger than this are handed to the ceiling as files and streamed from there. */
const FILE_ANSWER_BYTES = 2 ** 20;
/**
 * Patients outside any generated store (the last two the generator can number, far beyond the
 * ~268,000 patients of its largest store): registrations never change what the query lines return.
 */
const ITI42_PATIENT = MAX_UNIQUE_PATIENTS - 1;
const ITI41_PATIENT = MAX_UNIQUE_PATIENTS - 2;
/** The patient of the submissions that the lines consuming one per request (ITI-62, ITI-57) register beforehand. */
const PREPARED_PATIENT = MAX_UNIQUE_PATIENTS - 3;
/** The node's warm-up before a shared line's rounds (JIT, SQLite page cache, connection pool). */
const warmUpMs = (s: Settings) => Math.min(2000, s.durationMs);
/**
 * Default --prepared-rate: twice what ITI-42 registers on the quiet development machine (~1,500/s,
 * BENCHMARKS.md); ITI-62 removed up to 1,435/s per round there (1M, load ~3), at ~0.9 × a
 * registration's CPU. Room for a faster machine or a quieter hour; a faster node fails the line.
 */
const PREPARED_RATE = 3000;

interface Settings {
  readonly sizes: readonly number[];
  readonly seed: number;
  readonly cacheDir: string;
  readonly rounds: number;
  readonly durationMs: number;
  readonly maxRequests: number;
  readonly queryClients: number;
  readonly registerClients: number;
  /** Size of the large document, in MiB. */
  readonly largeMb: number;
  /** Sequential requests per round of a large-document line. */
  readonly largeRuns: number;
  /** Simultaneous requests of the large-document lines' memory check. */
  readonly largeConcurrency: number;
  readonly coldPatients: number;
  /**
   * Requests per second that a line consuming one prepared submission per request (ITI-62, ITI-57) is
   * registered for: its prepare registers this × (warm-up + rounds × duration) submissions, and
   * the line fails, uncounted, if the node goes faster than that.
   */
  readonly preparedRate: number;
  readonly only?: readonly string[];
  readonly profileDir?: string;
  readonly logLevel: string;
  /** Processes of the measured node (--processes; 1: a single process, as by default). */
  readonly processes: number;
  /** A generated store whose files (the audit store aside) are at most this large is measured on a fresh copy (--copy-limit-mb, see bench/stores.ts). */
  readonly copyLimitBytes: number;
}

/** A SOAP request (POST), or an MHD search (GET: the query string, nothing else). */
type Req = { readonly body: string | Buffer; readonly contentType: string } | { readonly get: string };

/** What runLoad and `capture` send for `r` to `path` (the node's endpoint or the ceiling's). */
const sent = (r: Req, path: string): { method: 'GET' | 'POST'; path: string; body?: string | Buffer; headers: Record<string, string> } =>
  'get' in r ? { method: 'GET', path: `${path}?${r.get}`, headers: {} } : { method: 'POST', path, body: r.body, headers: { 'content-type': r.contentType } };

/** How one side (node or ceiling) is asked: request j names answer key(j). */
interface Driver {
  key(j: number): string;
  request(j: number): Req;
  /** Whether every answer must have the captured answer's length (same entries, fixed-width ids). */
  readonly sameLength: boolean;
  /** A further check of an answer; a string is the reason it is wrong. */
  check?(j: number, body: Buffer): string | undefined;
}

interface Scenario {
  readonly name: string;
  readonly endpoint: Endpoint;
  readonly clients: number;
  readonly node: Driver;
  /** What the ceiling is asked (default: the same as the node). */
  readonly ceiling?: Driver;
  /** The answers to capture (the ceiling's canned bytes), one request each. */
  captures(): readonly { key: string; request: Req }[];
  /** Checks a captured answer. */
  verify(key: string, bytes: Buffer): string | undefined;
  /** Runs once against a fresh node before anything else (e.g. stores the document ITI-43 retrieves). */
  prepare?(node: Child): Promise<void>;
  /** Capture after the node's runs, not before (the cold line: a first pass would warm it). */
  readonly captureAfterRuns?: boolean;
  /** The cold line: how many distinct patients its walk holds before it repeats. */
  readonly walkLength?: number;
  /**
   * Runs on a node of its own whose registry read cache is off (registry.cacheEntries 0): the cold
   * line, so that every request misses at every size. With the cache on, the 10k store's walk
   * (265 patients) repeats and was answered from the cache after its second pass, so the line
   * compared hits at 10k with misses at 10M.
   */
  readonly readCacheOff?: boolean;
  readonly ceilingRequestBody: CeilingSpec['requestBody'];
  /** The document a request carries or retrieves, in bytes. */
  readonly documentBytes?: number;
  /** Large document: its own node process, one request at a time, memory compared with the document. */
  readonly large?: boolean;
  /**
   * Large lines: requests of the same transactions with a small document, run on the fresh node
   * before its memory baseline is taken, so that one-time start-up (worker threads, compiled code,
   * pools) is not counted as the document's.
   */
  warmUp?(node: Child): Promise<void>;
}

interface Line {
  readonly entries: number;
  readonly scenario: string;
  readonly clients: number;
  readonly responseBytes: number;
  readonly documentBytes?: number;
  readonly node: Summary;
  readonly ceiling: Summary;
  readonly memory?: { readonly node: Memory; readonly ceiling: Memory };
  readonly note?: string;
  /** The node's share of the ceiling, by req/s and by CPU per request. */
  readonly share: Share;
}

/** A share of the ceiling: paired (median of back-to-back rounds' ratios) or the ratio of the medians. */
interface Share {
  readonly rps: number;
  readonly cpu: number;
  readonly paired: boolean;
}

/** A large-document line's process memory, in bytes. */
interface Memory {
  /** Right after start, before any request. */
  readonly idle: number;
  /**
   * The baseline: the node after its warm-up with a small document (worker threads started, code
   * compiled, pools allocated: ~50 MB whatever the document's size), with the kernel's peak reset
   * there, so the growth over it is what the large document costs, its first request included.
   * The ceiling has no warm-up: its baseline is its start.
   */
  readonly warm: number;
  readonly peakSequential: number;
  readonly peakConcurrent: number;
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

/**
 * How many submissions a consuming line (ITI-62, ITI-57) registers beforehand: one per request of its
 * warm-up and rounds at --prepared-rate (at most what the request bounds allow), plus the capture's.
 */
function preparedCount(s: Settings): number {
  const seconds = (warmUpMs(s) + s.rounds * s.durationMs) / 1000;
  return Math.min(Math.ceil(s.preparedRate * seconds), (s.rounds + 1) * s.maxRequests) + 1;
}

/** `--report FILE`: print the tables of an earlier run's results file instead of measuring. */
function reportFile(): string | undefined {
  const { values } = parseArgs({ options: { report: { type: 'string' } }, strict: false });
  return typeof values.report === 'string' ? values.report : undefined;
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
      'register-clients': { type: 'string', default: '32' },
      mb: { type: 'string', default: '20' },
      runs: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '4' },
      'cold-patients': { type: 'string', default: '5000' },
      'prepared-rate': { type: 'string', default: String(PREPARED_RATE) },
      only: { type: 'string' },
      profile: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      processes: { type: 'string', default: '1' },
      'copy-limit-mb': { type: 'string', default: String(DEFAULT_COPY_LIMIT_BYTES / 2 ** 20) },
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
    largeMb: int('mb', values.mb),
    largeRuns: int('runs', values.runs),
    largeConcurrency: int('concurrency', values.concurrency),
    coldPatients: int('cold-patients', values['cold-patients']),
    preparedRate: int('prepared-rate', values['prepared-rate']),
    ...(values.only === undefined ? {} : { only: values.only.split(',').map((x) => x.trim().toLowerCase()).filter((x) => x !== '') }),
    ...(values.profile === undefined ? {} : { profileDir: values.profile }),
    logLevel: values['log-level'],
    processes: int('processes', values.processes),
    copyLimitBytes: int('copy-limit-mb', values['copy-limit-mb']) * 2 ** 20,
  };
}

/**
 * Whether an --only item selects a line: a case-insensitive substring of its name, or anchored with
 * `^` (the name starts with it) and/or `$` (ends with it); `^ITI-18 FindDocuments LeafClass$` is
 * that line alone, without the cold line and ITI-38, whose names contain it.
 */
function onlyMatches(item: string, name: string): boolean {
  const start = item.startsWith('^');
  const end = item.endsWith('$') && item.length > (start ? 1 : 0);
  const core = item.slice(start ? 1 : 0, end ? -1 : undefined);
  if (start && end) return name === core;
  if (start) return name.startsWith(core);
  if (end) return name.endsWith(core);
  return name.includes(core);
}

/** The data directory of a store of `entries` entries, generated (or completed) if needed. */
async function ensureStore(s: Settings, entries: number): Promise<{ dataDir: string; entriesPerSecond: number; generationSeconds: number }> {
  const dataDir = join(s.cacheDir, `entries-${entries}-seed-${s.seed}-v${GENERATOR_VERSION}`);
  if (!isPristine(dataDir, s.copyLimitBytes)) {
    // Written into by runs from before the bench measured on copies (bench/stores.ts).
    process.stderr.write(`${dataDir} holds what earlier runs registered; generating it anew\n`);
    rmSync(dataDir, { recursive: true, force: true });
  }
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
    markGenerated(dataDir);
  }
  ensureForms(dataDir);
  const p = readProgress(dataDir)!;
  return { dataDir, entriesPerSecond: p.entries / (p.elapsedMs / 1000), generationSeconds: p.elapsedMs / 1000 };
}

/**
 * Gives a store generated before schema v7 its DocumentEntries' stored LeafClass forms, as
 * `koblingspunkt write-forms` does (once: noted in FORMS_FILE), so that every size is measured with
 * them. A store the generator wrote since has them, and the walk finds nothing to write.
 */
function ensureForms(dataDir: string): void {
  const noted = join(dataDir, FORMS_FILE);
  if (existsSync(noted)) return;
  process.stderr.write(`writing the stored forms of ${dataDir} …\n`);
  const started = Date.now();
  const db = new Database(join(dataDir, EMBEDDED_FILE_NAME));
  let written: number;
  try {
    prepareDatabase(db);
    written = writeForms(db, leafForm, (n) => {
      if (n % 1_000_000 < 512) process.stderr.write(`  ${n} forms\n`);
    });
  } finally {
    db.close();
  }
  writeFileSync(noted, `${JSON.stringify({ written, seconds: (Date.now() - started) / 1000 })}\n`);
}

/** Noted in a generated store's directory once its entries have their stored forms (`ensureForms`). */
const FORMS_FILE = 'bench-forms.json';

function countMatches(text: string, local: string): number {
  return text.match(new RegExp(`<(?:[A-Za-z0-9_]+:)?${local}[\\s>/]`, 'g'))?.length ?? 0;
}

/**
 * The query string of ITI-67 FindDocumentReferences for a CX's patient (`id^^^&authority&ISO`):
 * patient.identifier as a token (`urn:oid:authority|id`), current entries only (ITI-18's Approved).
 */
function mhdSearch(cx: string): string {
  const [id, , , assigning] = cx.split('^');
  const authority = assigning?.split('&')[1];
  if (id === undefined || id === '' || authority === undefined || authority === '') throw new Error(`patient id "${cx}" is no CX with an assigning authority`);
  return `patient.identifier=${encodeURIComponent(`urn:oid:${authority}|${id}`)}&status=current`;
}

const SUCCESS = 'ResponseStatusType:Success';
/** The status is in the SOAP part, which comes first also in an MTOM answer. */
const succeeded = (body: Buffer) => body.subarray(0, 16_384).includes(SUCCESS);

const soap = (action: string, body: string): Req => ({ body, contentType: contentType(action) });

/** Request j names captured answer keys[j mod keys.length]. */
function cycling(keys: readonly string[], request: (j: number) => Req, check?: Driver['check']): Driver {
  return { key: (j) => keys[j % keys.length]!, request, sameLength: true, ...(check ? { check } : {}) };
}

function capturesOf(d: Driver, count: number): { key: string; request: Req }[] {
  return Array.from({ length: count }, (_, j) => ({ key: d.key(j), request: d.request(j) }));
}

/**
 * Approved entries per patient id over all `patients` complete patients of the store, computed
 * from the generator's plans once per store (~35 s for the 1M store) and kept beside it.
 */
function approvedByPatientId(world: World, patients: number, dataDir: string): Map<string, number> {
  const file = join(dataDir, `bench-approved-${patients}.json`);
  try {
    return new Map(Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>));
  } catch {
    const out = new Map<string, number>();
    for (let i = 0; i < patients; i++) {
      const p = benchPatient(world, i);
      out.set(p.patientId, (out.get(p.patientId) ?? 0) + p.approvedUniqueIds.length);
    }
    writeFileSync(file, JSON.stringify(Object.fromEntries(out)));
    return out;
  }
}

/** @param figuresDir where per-store figures computed from the generator's plans are cached (the generated store's directory) */
function scenarios(s: Settings, world: World, storePatients: number, figuresDir: string): Scenario[] {
  const selected = (name: string) => s.only === undefined || s.only.some((o) => onlyMatches(o, name.toLowerCase()));
  const patients = Array.from({ length: QUERY_PATIENTS }, (_, i) => benchPatient(world, i));
  const keys = patients.map((p) => `p${p.index}`);
  const byKey = new Map(patients.map((p) => [`p${p.index}`, p]));
  const expectCount = (local: string, count: (key: string) => number) => (key: string, bytes: Buffer) => {
    const text = bytes.toString('utf8');
    if (!text.includes(SUCCESS)) return `answer for ${key} is not Success: ${text.slice(0, 400)}`;
    const n = countMatches(text, local);
    return n === count(key) ? undefined : `answer for ${key} has ${n} ${local}, expected ${count(key)}`;
  };
  const approved = (key: string) => byKey.get(key)!.approvedUniqueIds.length;
  const getDocumentsIds = (key: string) => byKey.get(key)!.approvedUniqueIds.slice(0, 5);
  const perPatient = (body: (p: BenchPatient) => string, action: string): Driver => {
    const bodies = patients.map(body);
    return cycling(keys, (j) => soap(action, bodies[j % bodies.length]!));
  };
  const query = (name: string, endpoint: Endpoint, node: Driver, verify: Scenario['verify']): Scenario => ({
    name,
    endpoint,
    clients: s.queryClients,
    node,
    captures: () => capturesOf(node, keys.length),
    verify,
    ceilingRequestBody: 'buffer',
  });
  const all: (() => Scenario)[] = [];
  const add = (name: string, make: (name: string) => Scenario) => {
    if (selected(name)) all.push(() => make(name));
  };

  add('ITI-18 FindDocuments LeafClass', (name) =>
    query(name, 'registry', perPatient((p) => findDocumentsBody(to('registry'), p, 'LeafClass'), ACTIONS.iti18.request), expectCount('ExtrinsicObject', approved)),
  );
  add('ITI-67 FindDocumentReferences', (name) => {
    // The same patients and the same FindDocuments (Approved entries) as the LeafClass line, asked
    // through MHD: GET /fhir/DocumentReference?patient.identifier=urn:oid:<authority>|<id>&status=current.
    const searches = patients.map((p) => mhdSearch(p.patientId));
    const node = cycling(keys, (j) => ({ get: searches[j % searches.length]! }));
    return query(name, 'mhd', node, (key, bytes) => {
      const text = bytes.toString('utf8');
      if (!text.startsWith('{"resourceType":"Bundle","type":"searchset"')) return `answer for ${key} is not a searchset Bundle: ${text.slice(0, 400)}`;
      // As many DocumentReferences as the ITI-18 LeafClass answer has ExtrinsicObjects (the patient's Approved entries).
      const n = text.split('"resourceType":"DocumentReference"').length - 1;
      const total = /"total":(\d+)/.exec(text)?.[1];
      return n === approved(key) && total === String(n) ? undefined : `answer for ${key} has ${n} DocumentReferences (total ${total}), expected ${approved(key)}`;
    });
  });
  add('ITI-18 FindDocuments ObjectRef', (name) =>
    query(name, 'registry', perPatient((p) => findDocumentsBody(to('registry'), p, 'ObjectRef'), ACTIONS.iti18.request), expectCount('ObjectRef', approved)),
  );
  add('ITI-18 GetDocuments (≤ 5 uniqueIds)', (name) =>
    query(
      name,
      'registry',
      perPatient((p) => getDocumentsBody(to('registry'), getDocumentsIds(`p${p.index}`)), ACTIONS.iti18.request),
      expectCount('ExtrinsicObject', (k) => getDocumentsIds(k).length),
    ),
  );
  add(`ITI-18 FindDocuments LeafClass, cold (≤ ${s.coldPatients} patients)`, (name) => {
    const walk = coldPatients(storePatients, s.coldPatients).map((i) => benchPatient(world, i));
    // Counted per patient id, not per generated patient: generator version 1 gave a few patients of
    // a large store the same fødselsnummer (30 pairs at 1M), whose query rightly returns both; since
    // version 2 every id is a patient's own, and the count is the same either way.
    const approvedById = approvedByPatientId(world, storePatients, figuresDir);
    const counts = new Map(walk.map((p) => [`p${p.index}`, approvedById.get(p.patientId)!]));
    const bodies = walk.map((p) => findDocumentsBody(to('registry'), p, 'LeafClass'));
    const node: Driver = {
      key: (j) => `p${walk[j % walk.length]!.index}`,
      request: (j) => soap(ACTIONS.iti18.request, bodies[j % bodies.length]!),
      // Lengths are captured only after the run: count the entries instead.
      sameLength: false,
      check: (j, body) => {
        const key = node.key(j);
        if (!succeeded(body)) return `answer for ${key} is not Success`;
        const n = countOpenTags(body, 'ExtrinsicObject');
        return n === counts.get(key) ? undefined : `answer for ${key} has ${n} ExtrinsicObject, expected ${counts.get(key)}`;
      },
    };
    // The ceiling answers a sample spread over the walk, large enough that its mean answer is the node's.
    const sampled = Math.min(COLD_CEILING_SAMPLE, walk.length);
    const sample = Array.from({ length: sampled }, (_, t) => Math.floor((t * walk.length) / sampled));
    const ceiling = cycling(
      sample.map((w) => `p${walk[w]!.index}`),
      (j) => soap(ACTIONS.iti18.request, bodies[sample[j % sample.length]!]!),
    );
    return {
      name,
      endpoint: 'registry',
      clients: s.queryClients,
      node,
      ceiling,
      captures: () => capturesOf(ceiling, sample.length),
      verify: expectCount('ExtrinsicObject', (k) => counts.get(k)!),
      captureAfterRuns: true,
      walkLength: walk.length,
      readCacheOff: true,
      ceilingRequestBody: 'buffer',
    };
  });
  add('ITI-38 Cross Gateway Query FindDocuments LeafClass', (name) =>
    query(
      name,
      'responding',
      perPatient((p) => findDocumentsBody(to('responding'), p, 'LeafClass', { homeCommunityId: BENCH_HOME_COMMUNITY_ID }), ACTIONS.iti38.request),
      expectCount('ExtrinsicObject', approved),
    ),
  );
  /**
   * A line whose every request uses up one submission that its prepare registered (through ITI-42,
   * with entryUUIDs chosen here, --register-clients at a time): enough for every request of the
   * warm-up and the rounds at --prepared-rate. Each request takes the next unused submission by the
   * line's own counter (never by request number: the harness's numbers are for uniqueIds), so no
   * two requests of any round name the same one; when they run out the run stops with an error
   * (runLoad), so a line that outran its pool is never reported. The capture uses the first one;
   * the ceiling is sent requests of the same length naming it again (it answers the captured
   * Success without reading them) and uses up nothing. ITI-62 and ITI-57 are such lines, each with
   * its own request builder and its own submissions.
   */
  let consumingLines = 0;
  const consuming = (name: string, key: string, action: string, body: (p: PreparedSubmission) => string): Scenario => {
    const count = preparedCount(s);
    // Per line: its own uniqueId arc, so two consuming lines of one run never register the same uniqueId.
    const prepared = preparedSubmissions(world, to('registry'), PREPARED_PATIENT, `${Date.now()}${++consumingLines}`, count);
    let registered = false;
    let next = 0;
    const take = (): PreparedSubmission => {
      if (!registered) throw new Error(`${name}: a request before the line's submissions were registered`);
      const p = next < count ? prepared.submission(next) : undefined;
      if (p === undefined) {
        throw new Error(
          `${name}: all ${count} prepared submissions are used up (--prepared-rate ${s.preparedRate}/s over the warm-up and ${s.rounds} × ${s.durationMs / 1000} s); the node is faster than that: raise --prepared-rate`,
        );
      }
      next++;
      return p;
    };
    const notSuccess = (bytes: Buffer) => `${name} failed: ${bytes.toString('utf8').replace(/^.*<soap:Body>/s, '').slice(0, 600)}`;
    const node: Driver = {
      key: () => key,
      request: () => soap(action, body(take())),
      sameLength: true,
      check: (_j, bytes) => (succeeded(bytes) ? undefined : notSuccess(bytes)),
    };
    const ceiling = cycling([key], () => soap(action, body(prepared.submission(0)!)));
    let captured: ReturnType<typeof capturesOf> | undefined;
    return {
      name,
      endpoint: 'registry',
      clients: s.registerClients,
      node,
      ceiling,
      // Once: each call of the node's request uses up a submission.
      captures: () => (captured ??= capturesOf(node, 1)),
      verify: (_k, bytes) => (succeeded(bytes) ? undefined : notSuccess(bytes)),
      async prepare(target) {
        if (registered) throw new Error(`${name}: prepared twice`);
        const t0 = performance.now();
        const result = await runLoad({
          origin: target.url,
          path: PATHS.registry,
          connections: s.registerClients,
          // Bounded by count; the time is only a backstop (≥ 50 registrations/s).
          durationMs: Math.max(60_000, count * 20),
          maxRequests: count,
          request: (i) => ({ body: prepared.register(i), headers: { 'content-type': contentType(ACTIONS.iti42.request) } }),
          check: (status, bytes) => (status === 200 && succeeded(bytes) ? undefined : `HTTP ${status}: ${bytes.toString('utf8').replace(/^.*<soap:Body>/s, '').slice(0, 600)}`),
        });
        if (result.errors > 0 || result.requests !== count) {
          throw new Error(`${name}: registering its ${count} submissions: ${result.requests} answered, ${result.errors} failed, first: ${result.firstError}`);
        }
        registered = true;
        process.stderr.write(`  ${name}: registered ${count} submissions to use up (ITI-42, ${s.registerClients} clients) in ${f1((performance.now() - t0) / 1000)} s\n`);
      },
      ceilingRequestBody: 'buffer',
    };
  };
  const removeSubmission = removeObjects(to('registry'), 3);
  add('ITI-42 one document', (name) => {
    const register = registerOneDocument(world, to('registry'), ITI42_PATIENT, String(Date.now()));
    const node = cycling(['iti42'], (j) => soap(ACTIONS.iti42.request, register(j)), (_j, body) => (succeeded(body) ? undefined : 'not Success'));
    return {
      name,
      endpoint: 'registry',
      clients: s.registerClients,
      node,
      captures: () => capturesOf(node, 1),
      verify: (_k, bytes) => (succeeded(bytes) ? undefined : `ITI-42 failed: ${bytes.toString('utf8').slice(0, 600)}`),
      ceilingRequestBody: 'buffer',
    };
  });
  add('ITI-62 delete one submission', (name) =>
    consuming(name, 'iti62', ACTIONS.iti62.request, (p) => removeSubmission([p.submissionSet, p.documentEntry, p.association])),
  );
  add('ITI-57 update one DocumentEntry', (name) => consuming(name, 'iti57', ACTIONS.iti57.request, updateDocumentEntry(world, to('registry'), PREPARED_PATIENT)));
  const iti41Patient = benchPatient(world, ITI41_PATIENT).patientId;
  /** One ITI-41 and one ITI-43 of a 20 KB document: every code path and thread the large lines use, started. */
  const warmUp = async (target: Child): Promise<void> => {
    const p = provideRequest(to('repository'), iti41Patient, benchDocument(20 * 1024));
    const stored = await request(`${target.url}${PATHS.repository}`, { method: 'POST', headers: { 'content-type': p.contentType }, body: p.body });
    const storedText = Buffer.from(await stored.body.arrayBuffer());
    if (stored.statusCode !== 200 || !succeeded(storedText)) throw new Error(`warm-up ITI-41 failed: HTTP ${stored.statusCode} ${storedText.toString('utf8').slice(0, 600)}`);
    const got = await request(`${target.url}${PATHS.repository}`, {
      method: 'POST',
      headers: { 'content-type': contentType(ACTIONS.iti43.request) },
      body: retrieveRequest(to('repository'), p.documentUniqueId),
    });
    const gotBytes = Buffer.from(await got.body.arrayBuffer());
    if (got.statusCode !== 200 || !succeeded(gotBytes)) throw new Error(`warm-up ITI-43 failed: HTTP ${got.statusCode}`);
  };
  const provide = (name: string, documentBytes: number, large: boolean): Scenario => {
    const document = benchDocument(documentBytes);
    const node = cycling(
      ['iti41'],
      () => provideRequest(to('repository'), iti41Patient, document),
      (_j, body) => (succeeded(body) ? undefined : 'not Success'),
    );
    return {
      name,
      endpoint: 'repository',
      clients: large ? 1 : s.registerClients,
      node,
      captures: () => capturesOf(node, 1),
      verify: (_k, bytes) => (succeeded(bytes) ? undefined : `ITI-41 failed: ${bytes.toString('utf8').slice(0, 600)}`),
      ceilingRequestBody: large ? 'file' : 'buffer',
      documentBytes,
      ...(large ? { large, warmUp } : {}),
    };
  };
  const retrieve = (name: string, documentBytes: number, large: boolean): Scenario => {
    const document = benchDocument(documentBytes);
    let body: string | undefined;
    /** Where the document's bytes sit in the captured answer (MIME headers have fixed widths). */
    let at = -1;
    const carries = (answer: Buffer) => (at >= 0 && answer.subarray(at, at + document.length).equals(document)) || answer.indexOf(document) >= 0;
    const node = cycling(
      ['iti43'],
      () => soap(ACTIONS.iti43.request, body!),
      (_j, answer) => (!succeeded(answer) ? 'not Success' : carries(answer) ? undefined : 'the answer does not carry the document'),
    );
    return {
      name,
      endpoint: 'repository',
      clients: large ? 1 : s.queryClients,
      node,
      async prepare(target) {
        const p = provideRequest(to('repository'), iti41Patient, document);
        const res = await request(`${target.url}${PATHS.repository}`, { method: 'POST', headers: { 'content-type': p.contentType }, body: p.body });
        const text = Buffer.from(await res.body.arrayBuffer());
        if (res.statusCode !== 200 || !succeeded(text)) throw new Error(`${name}: storing the document failed: HTTP ${res.statusCode} ${text.toString('utf8').slice(0, 600)}`);
        body = retrieveRequest(to('repository'), p.documentUniqueId);
      },
      captures: () => capturesOf(node, 1),
      verify: (_k, bytes) => {
        if (!succeeded(bytes)) return `ITI-43 failed: ${bytes.subarray(0, 600).toString('utf8')}`;
        at = bytes.indexOf(document);
        return at >= 0 ? undefined : 'the answer does not carry the document';
      },
      ceilingRequestBody: 'buffer',
      documentBytes,
      ...(large ? { large, warmUp } : {}),
    };
  };
  add('ITI-41 Provide and Register, 20 KB document', (name) => provide(name, 20 * 1024, false));
  add('ITI-43 Retrieve, 20 KB document', (name) => retrieve(name, 20 * 1024, false));
  add(`ITI-41 Provide and Register, ${s.largeMb} MB document`, (name) => provide(name, s.largeMb * 2 ** 20, true));
  add(`ITI-43 Retrieve, ${s.largeMb} MB document`, (name) => retrieve(name, s.largeMb * 2 ** 20, true));
  return all.map((make) => make());
}

/** One answer per capture from the node, checked, as the ceiling's canned bytes (large ones as files). */
async function capture(node: Child, sc: Scenario, fileStem: string): Promise<CannedResponses> {
  const canned: Record<string, CannedAnswer> = {};
  for (const [n, { key, request: req }] of sc.captures().entries()) {
    const out = sent(req, PATHS[sc.endpoint]);
    const res = await request(`${node.url}${out.path}`, { method: out.method, headers: out.headers, ...(out.body === undefined ? {} : { body: out.body }) });
    const bytes = Buffer.from(await res.body.arrayBuffer());
    const problem = res.statusCode === 200 ? sc.verify(key, bytes) : `HTTP ${res.statusCode}: ${bytes.toString('utf8').replace(/^.*<soap:Body>/s, '').slice(0, 1500)}`;
    if (problem !== undefined) throw new Error(`${sc.name}: ${problem}`);
    const type = String(res.headers['content-type']);
    if (sc.large && bytes.length > FILE_ANSWER_BYTES) {
      const file = `${fileStem}-${n}.bin`;
      writeFileSync(file, bytes);
      canned[key] = { contentType: type, file };
    } else {
      canned[key] = { contentType: type, base64: bytes.toString('base64') };
    }
  }
  return canned;
}

function answerLength(a: CannedAnswer): number {
  return 'file' in a ? statSync(a.file).size : Buffer.from(a.base64, 'base64').length;
}

type Run = { result: LoadResult; peakRss: number; cpuMs: number };

interface LoadShape {
  readonly connections: number;
  readonly maxRequests: number;
  readonly durationMs: number;
}

async function load(target: Child, side: 'node' | 'ceiling', sc: Scenario, canned: CannedResponses, offset: number, shape: LoadShape): Promise<Run> {
  const d = side === 'ceiling' ? (sc.ceiling ?? sc.node) : sc.node;
  const lengths = new Map(Object.entries(canned).map(([k, v]) => [k, answerLength(v)]));
  const path = side === 'ceiling' ? CEILING_PATH : PATHS[sc.endpoint];
  return withPeakRss(target, async () => {
    const result = await runLoad({
      origin: target.url,
      path,
      connections: shape.connections,
      durationMs: shape.durationMs,
      maxRequests: shape.maxRequests,
      request: (i) => {
        const out = sent(d.request(offset + i), path);
        return { ...out, headers: { ...out.headers, [BENCH_KEY_HEADER]: d.key(offset + i) } };
      },
      check: (status, body, i) => {
        if (status !== 200) return `HTTP ${status}: ${body.toString("utf8").replace(/^.*<soap:Body>/s, "").slice(0, 600)}`;
        if (d.sameLength) {
          // Same length as the captured answer: the same entries came back (ids and timestamps have fixed widths).
          const expected = lengths.get(d.key(offset + i));
          if (body.length !== expected) return `answer of ${body.length} bytes, expected ${expected}${body.length < 4096 ? `: ${body.toString('utf8').replace(/^.*<soap:Body>/s, '')}` : ''}`;
        }
        return d.check?.(offset + i, body);
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
    cpuMsPerRequest: median(runs.map(cpuPerRequest)),
    requests: runs.reduce((n, r) => n + r.result.requests, 0),
    rounds: runs.map((r) => r.result),
  };
}

const progressLine = (entries: number, who: string, run: Run) =>
  process.stderr.write(
    `  ${entries} ${who}: ${run.result.rps.toFixed(run.result.rps < 100 ? 1 : 0)} req/s, p50 ${run.result.p50Ms.toFixed(1)} ms, p99 ${run.result.p99Ms.toFixed(1)} ms, ${cpuPerRequest(run).toFixed(2)} CPU ms/req\n`,
  );

/** A ceiling process serving a line's captured answers; `stop` ends it and removes its spec file. */
interface Ceiling {
  readonly child: Child;
  stop(): Promise<void>;
}

/** Writes the ceiling's spec and starts a ceiling process on it. */
async function startCeiling(sc: Scenario, canned: CannedResponses, stem: string): Promise<Ceiling> {
  const file = `${stem}.json`;
  const spec: CeilingSpec = { requestBody: sc.ceilingRequestBody, answers: canned };
  writeFileSync(file, JSON.stringify(spec));
  let child: Child;
  try {
    child = await startChild(['ceiling', file]);
  } catch (e) {
    rmSync(file, { force: true });
    throw e;
  }
  return {
    child,
    async stop() {
      try {
        await child.stop();
      } finally {
        rmSync(file, { force: true });
      }
    },
  };
}

/** Runs `work` against a ceiling process for the line, then stops it. */
async function withCeiling<T>(sc: Scenario, canned: CannedResponses, stem: string, work: (c: Child) => Promise<T>): Promise<T> {
  const ceiling = await startCeiling(sc, canned, stem);
  try {
    return await work(ceiling.child);
  } finally {
    await ceiling.stop();
  }
}

function discard(canned: CannedResponses): void {
  for (const a of Object.values(canned)) if ('file' in a) rmSync(a.file, { force: true });
}

function line(
  entries: number,
  sc: Scenario,
  canned: CannedResponses,
  node: Summary,
  ceiling: Summary,
  memory?: Line['memory'],
  note?: string,
  share: Share = { rps: node.rps / ceiling.rps, cpu: ceiling.cpuMsPerRequest / node.cpuMsPerRequest, paired: false },
): Line {
  const sizes = Object.values(canned).map(answerLength);
  return {
    share,
    entries,
    scenario: sc.name,
    clients: sc.large ? 1 : sc.clients,
    // The node's own mean where it differs from the captured sample (the cold line).
    responseBytes: sc.captureAfterRuns ? node.rounds.reduce((n, r) => n + r.responseBytes, 0) / Math.max(1, node.requests) : sizes.reduce((a, b) => a + b, 0) / sizes.length,
    ...(sc.documentBytes === undefined ? {} : { documentBytes: sc.documentBytes }),
    node,
    ceiling,
    ...(memory ? { memory } : {}),
    ...(sc.captureAfterRuns
      ? { note: `${note ?? ''}; the ceiling answers ${sizes.length} of them, captured afterwards (mean ${(sizes.reduce((a, b) => a + b, 0) / sizes.length / 1024).toFixed(1)} KB)` }
      : {}),
  };
}

/**
 * The lines that share one node process, interleaved round by round, each node run followed at
 * once by the same load against the line's ceiling (kept running beside the node, idle while the
 * node is measured). The machine's speed drifts by tens of percent over minutes (the ceiling's CPU
 * per request was seen at 0.25 and at 0.43 ms on one quiet machine on one afternoon), so a share of
 * the ceiling is only sound between runs made seconds apart: each round gives one pair, and the
 * line reports the median of the pairs' ratios. The cold line is the exception: its ceiling can
 * only serve what the node answered, which is captured after the node's runs, so its ceiling runs
 * afterwards and its share is the ratio of the medians.
 */
async function measureShared(s: Settings, list: readonly Scenario[], entries: number, dataDir: string, options: { cacheOff?: boolean } = {}): Promise<Line[]> {
  if (list.length === 0) return [];
  const stem = join(s.cacheDir, `ceiling-${process.pid}${options.cacheOff ? '-uncached' : ''}`);
  const node = await startChild(nodeArgs(s, dataDir, options.cacheOff === true));
  const canned: (CannedResponses | undefined)[] = list.map(() => undefined);
  const ceilings: (Ceiling | undefined)[] = list.map(() => undefined);
  const nodeRuns: Run[][] = list.map(() => []);
  const ceilingRuns: Run[][] = list.map(() => []);
  // Each line numbers its requests on from run to run: fresh uniqueIds (ITI-41/42), the cold walk goes on.
  const offsets = list.map(() => 0);
  const notes: (string | undefined)[] = list.map(() => undefined);
  const shape = (sc: Scenario, durationMs = s.durationMs): LoadShape => ({ connections: sc.clients, maxRequests: s.maxRequests, durationMs });
  const warmUp = (sc: Scenario) => shape(sc, warmUpMs(s));
  try {
    try {
      for (const [i, sc] of list.entries()) {
        await sc.prepare?.(node);
        if (!sc.captureAfterRuns) {
          canned[i] = await capture(node, sc, `${stem}-${i}`);
          offsets[i] = sc.captures().length;
          ceilings[i] = await startCeiling(sc, canned[i]!, `${stem}-${i}`);
          await load(ceilings[i]!.child, 'ceiling', sc, canned[i]!, 0, warmUp(sc));
        }
        // Warm-up: JIT, SQLite page cache, connection pool.
        const warm = await load(node, 'node', sc, canned[i] ?? {}, offsets[i]!, warmUp(sc));
        offsets[i]! += warm.result.requests + sc.clients;
      }
      for (let r = 0; r < s.rounds; r++) {
        for (const [i, sc] of list.entries()) {
          const run = await load(node, 'node', sc, canned[i] ?? {}, offsets[i]!, shape(sc));
          offsets[i]! += run.result.requests + sc.clients;
          nodeRuns[i]!.push(run);
          progressLine(entries, sc.name, run);
          const ceiling = ceilings[i];
          if (ceiling === undefined) continue;
          const paired = await load(ceiling.child, 'ceiling', sc, canned[i]!, r * s.maxRequests, shape(sc));
          ceilingRuns[i]!.push(paired);
          progressLine(entries, `ceiling of ${sc.name}`, paired);
        }
      }
    } finally {
      for (const c of ceilings) await c?.stop();
    }
    for (const [i, sc] of list.entries()) {
      if (!sc.captureAfterRuns) continue;
      canned[i] = await capture(node, sc, `${stem}-${i}`);
      notes[i] = `${offsets[i]} requests (warm-up included) over a walk of ${sc.walkLength} distinct patients${offsets[i]! > sc.walkLength! ? ', so some were asked twice' : ', none asked twice'}`;
      process.stderr.write(`  ${entries} ${sc.name}: ${notes[i]}\n`);
    }
  } finally {
    await node.stop();
  }
  const lines: Line[] = [];
  for (const [i, sc] of list.entries()) {
    if (sc.captureAfterRuns) {
      ceilingRuns[i] = await withCeiling(sc, canned[i]!, `${stem}-${i}`, async (ceiling) => {
        await load(ceiling, 'ceiling', sc, canned[i]!, 0, warmUp(sc));
        const out: Run[] = [];
        for (let r = 0; r < s.rounds; r++) out.push(await load(ceiling, 'ceiling', sc, canned[i]!, r * s.maxRequests, shape(sc)));
        return out;
      });
    }
    const share = sc.captureAfterRuns ? undefined : pairedShare(nodeRuns[i]!, ceilingRuns[i]!);
    lines.push(line(entries, sc, canned[i]!, summary(nodeRuns[i]!), summary(ceilingRuns[i]!), undefined, notes[i], share));
    discard(canned[i]!);
  }
  return lines;
}

/** The arguments of a measured node (scripts/bench/server.ts); `cacheOff`: its registry read cache off. */
function nodeArgs(s: Settings, dataDir: string, cacheOff: boolean, processes = s.processes): string[] {
  return ['node', dataDir, s.logLevel, String(processes), ...(cacheOff ? ['0'] : [])];
}

/** Per-run CPU time per request. */
const cpuPerRequest = (r: Run) => r.cpuMs / Math.max(1, r.result.requests);

/** The medians of the per-round ratios node : ceiling of runs made back to back. */
function pairedShare(node: readonly Run[], ceiling: readonly Run[]): Share {
  const pairs = node.map((n, r) => [n, ceiling[r]!] as const);
  return {
    rps: median(pairs.map(([n, c]) => n.result.rps / c.result.rps)),
    cpu: median(pairs.map(([n, c]) => cpuPerRequest(c) / cpuPerRequest(n))),
    paired: true,
  };
}

/**
 * A large-document line in a process of its own (node, then ceiling), so that its memory is the
 * document's doing: idle RSS after start, the high-water mark after the sequential rounds and
 * after --concurrency simultaneous requests.
 */
async function measureLarge(s: Settings, sc: Scenario, entries: number, dataDir: string): Promise<Line> {
  const stem = join(s.cacheDir, `ceiling-${process.pid}-large`);
  const sequential: LoadShape = { connections: 1, maxRequests: s.largeRuns, durationMs: s.durationMs };
  const concurrent: LoadShape = { connections: s.largeConcurrency, maxRequests: s.largeConcurrency, durationMs: s.durationMs };
  const side = async (target: Child, who: 'node' | 'ceiling', canned: () => CannedResponses, offset: number) => {
    await load(target, who, sc, canned(), offset, { ...sequential, maxRequests: 1 });
    const runs: Run[] = [];
    for (let r = 0; r < s.rounds; r++) {
      const run = await load(target, who, sc, canned(), offset + 1 + r * s.largeRuns, sequential);
      runs.push(run);
      progressLine(entries, `${who === 'ceiling' ? 'ceiling of ' : ''}${sc.name}`, run);
    }
    const peakSequential = target.peakRss();
    await load(target, who, sc, canned(), offset + 1 + s.rounds * s.largeRuns, concurrent);
    return { runs, peakSequential, peakConcurrent: target.peakRss() };
  };
  const node = await startChild(['node', dataDir, s.logLevel, String(s.processes)]);
  let canned: CannedResponses = {};
  let nodeSide: { runs: Run[]; memory: Memory };
  try {
    // The baseline is taken before the document is stored (prepare): the line's whole effect counts.
    const idle = node.rss();
    await sc.warmUp?.(node);
    const warm = node.rss();
    node.resetPeakRss();
    await sc.prepare?.(node);
    canned = await capture(node, sc, stem);
    const measured = await side(node, 'node', () => canned, sc.captures().length);
    nodeSide = { runs: measured.runs, memory: { idle, warm, peakSequential: measured.peakSequential, peakConcurrent: measured.peakConcurrent } };
  } finally {
    await node.stop();
  }
  try {
    const ceilingSide = await withCeiling(sc, canned, stem, async (ceiling) => {
      const start = ceiling.rss();
      const measured = await side(ceiling, 'ceiling', () => canned, 0);
      return { runs: measured.runs, memory: { idle: start, warm: start, peakSequential: measured.peakSequential, peakConcurrent: measured.peakConcurrent } };
    });
    return line(entries, sc, canned, summary(nodeSide.runs), summary(ceilingSide.runs), { node: nodeSide.memory, ceiling: ceilingSide.memory });
  } finally {
    discard(canned);
  }
}

/** @param generatedDir the generated store `dataDir` is a working copy of (or is), where per-store figures are cached */
async function measureSize(s: Settings, world: World, entries: number, dataDir: string, generatedDir: string): Promise<Line[]> {
  const list = scenarios(s, world, readProgress(dataDir)!.patient, generatedDir);
  const shared = await measureShared(s, list.filter((sc) => !sc.large && !sc.readCacheOff), entries, dataDir);
  const uncached = await measureShared(s, list.filter((sc) => !sc.large && sc.readCacheOff === true), entries, dataDir, { cacheOff: true });
  // In the order the lines are listed in (the cold line among the queries).
  const lines = list.filter((sc) => !sc.large).map((sc) => [...shared, ...uncached].find((l) => l.scenario === sc.name)!);
  for (const sc of list.filter((x) => x.large)) lines.push(await measureLarge(s, sc, entries, dataDir));
  return lines;
}

async function profile(s: Settings, world: World, dataDir: string, dir: string, generatedDir: string): Promise<void> {
  const list = scenarios(s, world, readProgress(dataDir)!.patient, generatedDir).filter((x) => !x.large && (s.only !== undefined || /LeafClass|ObjectRef|ITI-42|ITI-62/.test(x.name)));
  for (const sc of list) {
    const out = join(dir, sc.name.replace(/[^A-Za-z0-9]+/g, '-'));
    mkdirSync(out, { recursive: true });
    if (sc.prepare !== undefined) {
      // On a node of its own: what it stores stays in the store, and its work (ITI-62's thousands of
      // registrations) stays out of the profile.
      const preparer = await startChild(nodeArgs(s, dataDir, false, 1));
      try {
        await sc.prepare(preparer);
      } finally {
        await preparer.stop();
      }
    }
    const node = await startChild(nodeArgs(s, dataDir, sc.readCacheOff === true, 1), { cpuProfileDir: out });
    let window: ProfileWindow;
    try {
      const stem = join(s.cacheDir, `ceiling-${process.pid}-profile`);
      const canned = sc.captureAfterRuns ? {} : await capture(node, sc, stem);
      // The summary is of the load run only: start-up (FHIR definitions, module loading) and the capture left out.
      const fromUs = profileClockUs();
      const run = await load(node, 'node', sc, canned, sc.captures().length, { connections: sc.clients, maxRequests: s.maxRequests, durationMs: s.durationMs });
      window = { fromUs, toUs: profileClockUs() };
      discard(canned);
      process.stdout.write(`\n## ${sc.name}: ${run.result.rps.toFixed(0)} req/s, p99 ${run.result.p99Ms.toFixed(1)} ms (profiled)\n`);
    } finally {
      await node.stop();
    }
    // The largest profile is the main thread's (tsx's loader thread writes a small one too).
    const file = readdirSync(out)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(out, f))
      .sort((a, b) => statSync(b).size - statSync(a).size)[0];
    if (file) process.stdout.write(`${formatSummary(summarise(JSON.parse(readFileSync(file, 'utf8')), window), 25)}\n(${file})\n`);
  }
}

const f0 = (x: number) => x.toFixed(0);
const f1 = (x: number) => x.toFixed(1);
const MB = 2 ** 20;

function table(lines: readonly Line[]): string {
  const rows = lines.map((l) =>
    [
      l.entries.toLocaleString('en-US'),
      l.scenario,
      l.clients,
      f1(l.responseBytes / 1024),
      l.node.rps < 100 ? f1(l.node.rps) : f0(l.node.rps),
      f1(l.node.p50Ms),
      f1(l.node.p99Ms),
      f0(l.node.peakRssMb),
      l.ceiling.rps < 100 ? f1(l.ceiling.rps) : f0(l.ceiling.rps),
      f1(l.ceiling.p99Ms),
      `${f0(100 * l.share.rps)} %${l.share.paired ? '' : ' †'}`,
      l.node.cpuMsPerRequest.toFixed(2),
      l.ceiling.cpuMsPerRequest.toFixed(2),
      `${f0(100 * l.share.cpu)} %${l.share.paired ? '' : ' †'}`,
    ].join(' | '),
  );
  return [
    '| entries | transaction | clients | answer KB | req/s | p50 ms | p99 ms | peak RSS MB | ceiling req/s | ceiling p99 ms | of ceiling | CPU ms/req | ceiling CPU ms/req | of ceiling (CPU) |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r} |`),
    '',
    'Shares of the ceiling are medians of the ratios of back-to-back rounds (node run, then the same load on the ceiling); † marks the ratio of the medians, where the ceiling could only run after the node (the cold line, whose answers are captured afterwards; the large documents, measured one process at a time).',
  ].join('\n');
}

/**
 * How latency grows from the smallest to the largest store, line by line: the p50 ratio as measured
 * and as a ratio of each size's p50 relative to its own ceiling (median over the paired rounds),
 * which takes out the machine's drift between the two sizes' runs (minutes apart).
 */
function scalingTable(lines: readonly Line[]): string {
  const sizes = [...new Set(lines.map((l) => l.entries))].sort((a, b) => a - b);
  if (sizes.length < 2) return '';
  const small = sizes[0]!;
  const large = sizes[sizes.length - 1]!;
  const relative = (l: Line) =>
    l.share.paired ? median(l.node.rounds.map((r, i) => r.p50Ms / l.ceiling.rounds[i]!.p50Ms)) : l.node.p50Ms / l.ceiling.p50Ms;
  const rows: string[] = [];
  for (const l of lines.filter((x) => x.entries === large && x.memory === undefined)) {
    const base = lines.find((x) => x.entries === small && x.scenario === l.scenario);
    if (base === undefined) continue;
    rows.push(
      [
        l.scenario,
        f1(base.node.p50Ms),
        f1(l.node.p50Ms),
        `${(l.node.p50Ms / base.node.p50Ms).toFixed(2)} ×`,
        `${(relative(l) / relative(base)).toFixed(2)} ×${l.share.paired && base.share.paired ? '' : ' †'}`,
      ].join(' | '),
    );
  }
  if (rows.length === 0) return '';
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    `| transaction | p50 ms at ${n(small)} | p50 ms at ${n(large)} | ratio | ratio, each relative to its ceiling |`,
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}

/** The large-document lines against the targets: MB/s of document (size / median latency) and memory growth. */
function documentTable(lines: readonly Line[], s: Settings): string {
  const rows = lines
    .filter((l) => l.memory !== undefined && l.documentBytes !== undefined)
    .map((l) => {
      const doc = l.documentBytes!;
      const rate = (x: Summary) => doc / MB / (x.p50Ms / 1000);
      const growth = l.memory!.node.peakSequential - l.memory!.node.warm;
      const fromStart = l.memory!.node.peakSequential - l.memory!.node.idle;
      return [
        l.entries.toLocaleString('en-US'),
        l.scenario,
        f0(rate(l.node)),
        f0(rate(l.ceiling)),
        `${f0((100 * rate(l.node)) / rate(l.ceiling))} %`,
        f0(l.memory!.node.idle / MB),
        f0(l.memory!.node.warm / MB),
        f0(l.memory!.node.peakSequential / MB),
        `${f0(growth / MB)} (${(growth / doc).toFixed(1)} ×)`,
        f0(fromStart / MB),
        f0(l.memory!.node.peakConcurrent / MB),
        `${f0(l.memory!.ceiling.idle / MB)} → ${f0(l.memory!.ceiling.peakSequential / MB)} / ${f0(l.memory!.ceiling.peakConcurrent / MB)}`,
        rate(l.node) >= 150 && growth <= 3 * doc ? 'met' : 'not met',
      ].join(' | ');
    });
  if (rows.length === 0) return '';
  return [
    `| entries | transaction | MB/s | ceiling MB/s | of ceiling | RSS at start MB | RSS after warm-up (20 KB) MB | peak RSS MB | growth over warm-up MB (× document) | growth over start MB | peak with ${s.largeConcurrency} at once MB | ceiling RSS start → peak / at once MB | target ≥ 150 MB/s, growth ≤ 3 × |`,
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}

/**
 * The audit store a cached store brings to a run: it keeps every event of every earlier run, so
 * runs report its size. One A/B once suggested that a large one made each request's append dearer;
 * repeated A/B runs and `npm run bench:audit -- --store FILE --patients N` did not confirm it
 * (BENCHMARKS.md), but a reader of old and new figures should be able to check.
 */
interface AuditStoreSize {
  readonly events: number;
  readonly bytes: number;
}

function auditStoreSize(dataDir: string): AuditStoreSize {
  const file = join(dataDir, 'audit.sqlite');
  let bytes: number;
  try {
    bytes = statSync(file).size;
  } catch {
    return { events: 0, bytes: 0 };
  }
  const db = new Database(file, { readonly: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_events'").get();
    const events = table === undefined ? 0 : (db.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
    return { events, bytes };
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const report = reportFile();
  if (report !== undefined) {
    printReport(JSON.parse(readFileSync(report, 'utf8')) as Results, report);
    return;
  }
  const s = parseSettings();
  mkdirSync(s.cacheDir, { recursive: true });
  const world = createWorld(s.seed);
  if (s.profileDir !== undefined) {
    const { dataDir } = await ensureStore(s, Math.max(...s.sizes));
    const work = workingStore(dataDir, s.copyLimitBytes);
    try {
      await profile(s, world, work.dataDir, s.profileDir, dataDir);
    } finally {
      if (work.copied) rmSync(work.dataDir, { recursive: true, force: true });
    }
    return;
  }
  const started = Date.now();
  const lines: Line[] = [];
  const generation: Record<number, { entriesPerSecond: number; seconds: number }> = {};
  const auditStores: Record<number, AuditStoreSize> = {};
  const stores: Record<number, WorkingStore & { generated: StoreCounts | undefined }> = {};
  for (const entries of s.sizes) {
    const store = await ensureStore(s, entries);
    generation[entries] = { entriesPerSecond: store.entriesPerSecond, seconds: store.generationSeconds };
    const work = workingStore(store.dataDir, s.copyLimitBytes);
    stores[entries] = { ...work, generated: generatedCounts(store.dataDir) };
    auditStores[entries] = auditStoreSize(work.dataDir);
    try {
      lines.push(...(await measureSize(s, world, entries, work.dataDir, store.dataDir)));
    } finally {
      if (work.copied) rmSync(work.dataDir, { recursive: true, force: true });
    }
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  // Other processes on the machine take CPU from both the node and the load generator: say how busy it was.
  const load = loadavg().map((x) => x.toFixed(1)).join(' / ');
  const file = join(s.cacheDir, `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const results: Results = { machine, loadAverage: load, settings: s, generation, stores, auditStores, lines, minutes: (Date.now() - started) / 60_000 };
  writeFileSync(file, JSON.stringify(results, null, 2));
  printReport(results, file);
}

/** What one run measured, as written to its results file and read back by --report. */
interface Results {
  readonly machine: string;
  readonly loadAverage: string;
  readonly settings: Settings;
  readonly generation: Record<number, { entriesPerSecond: number; seconds: number }>;
  readonly stores: Record<number, WorkingStore & { generated: StoreCounts | undefined }>;
  readonly auditStores: Record<number, AuditStoreSize>;
  readonly lines: readonly Line[];
  /** How long the run took; absent in files written before --report existed. */
  readonly minutes?: number;
}

/** The run's markdown tables and notes, as BENCHMARKS.md quotes them. */
function printReport(r: Results, file: string): void {
  const s = r.settings;
  const took = r.minutes === undefined ? '' : `; the run took ${f1(r.minutes)} min`;
  process.stdout.write(`\nmachine: ${r.machine}; node processes: ${s.processes}${s.processes > 1 ? ' workers + 1 primary' : ''}; load average at the end (1/5/15 min): ${r.loadAverage}${took}\n`);
  for (const [n, g] of Object.entries(r.generation)) process.stdout.write(`store of ${n} entries: generated at ${g.entriesPerSecond.toFixed(0)} entries/s (${g.seconds.toFixed(0)} s)\n`);
  for (const [n, w] of Object.entries(r.stores)) {
    const generated = w.generated === undefined ? 'what the generator wrote was not noted' : `${w.generated.documentEntries.toLocaleString('en-US')} generated`;
    process.stdout.write(
      `registry of the ${n}-entry store at the start: ${w.atStart.documentEntries.toLocaleString('en-US')} DocumentEntries (${generated}), ` +
        `${w.copied ? 'measured on a fresh copy' : 'measured in place: larger than --copy-limit-mb, so earlier runs\' registrations are in it'}\n`,
    );
  }
  for (const [n, a] of Object.entries(r.auditStores)) {
    process.stdout.write(`audit store of the ${n}-entry store at the start: ${a.events.toLocaleString('en-US')} events, ${f0(a.bytes / MB)} MB\n`);
  }
  process.stdout.write(
    `rounds: ${s.rounds} × ${s.durationMs / 1000} s per line (medians), at most ${s.maxRequests} requests per run; large documents: ${s.largeRuns} sequential requests per round\n\n${table(r.lines)}\n`,
  );
  const documents = documentTable(r.lines, s);
  if (documents !== '') process.stdout.write(`\n${documents}\n`);
  const scaling = scalingTable(r.lines);
  if (scaling !== '') process.stdout.write(`\n${scaling}\n`);
  for (const l of r.lines) if (l.note !== undefined) process.stdout.write(`\n${l.entries.toLocaleString('en-US')} ${l.scenario}: ${l.note}`);
  process.stdout.write(`\n\nraw figures: ${file}\n`);
}

await main();
