/**
 * Which copy of a generated store a benchmark run measures on.
 *
 * The write lines (ITI-41, ITI-42, ITI-57, the registrations ITI-62 and ITI-57 prepare) add
 * thousands of objects per run, and the node adds an audit event per request, all into the store
 * it runs on. Measured in place, the cached 10,000-entry store had grown over one day of runs to
 * 189,000 DocumentEntries and a 2 GB audit store: its "10k" lines measured neither 10k entries nor
 * the same store twice (its ITI-42 line was slower than the 10M store's). So the generated store is
 * kept as the generator left it, and a run measures on a fresh copy of its files (the registry and
 * the documents; no audit store), made again for every run: a second or so for 10k entries, ~5 s
 * for 1M (~2 GB). A store larger than the copy limit (10M: ~20 GB, more than a development machine
 * can copy each run, or hold twice) is measured in place, and the run says how far it has grown.
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { EMBEDDED_FILE_NAME } from '../../registry/store/open.js';

/** Written beside a store by the bench once the generator has filled it: what it held then. */
const GENERATED_FILE = 'bench-generated.json';

/** Default --copy-limit: the 1M store (~2.4 GB with its documents) is copied, the 10M one (~20 GB) is not. */
export const DEFAULT_COPY_LIMIT_BYTES = 4 * 2 ** 30;

/** DocumentEntries (any status) and all registry objects of a store, from its object counts. */
export interface StoreCounts {
  readonly documentEntries: number;
  readonly objects: number;
}

export function storeCounts(dataDir: string): StoreCounts {
  const db = new Database(join(dataDir, EMBEDDED_FILE_NAME), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT type, n FROM object_counts').all() as { type: string; n: number }[];
    let documentEntries = 0;
    let objects = 0;
    for (const r of rows) {
      objects += r.n;
      if (r.type === 'DocumentEntry') documentEntries += r.n;
    }
    return { documentEntries, objects };
  } finally {
    db.close();
  }
}

/** Notes what the generator left in a store it has just filled (`generatedCounts` reads it back). */
export function markGenerated(dataDir: string): void {
  writeFileSync(join(dataDir, GENERATED_FILE), `${JSON.stringify(storeCounts(dataDir))}\n`);
}

/** What the store held when the generator had filled it; undefined for a store generated before the bench noted it. */
export function generatedCounts(dataDir: string): StoreCounts | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, GENERATED_FILE), 'utf8')) as StoreCounts;
  } catch {
    return undefined;
  }
}

/** Bytes a working copy of the store takes: everything but its audit store. */
export function copyBytes(dataDir: string): number {
  let total = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && isCopied(path)) total += statSync(path).size;
    }
  };
  walk(dataDir);
  return total;
}

/**
 * The audit store and its queue are the node's own record of earlier runs: never copied. Nor is a
 * SQLite file's shared-memory index (`-shm`): it describes the connections of the process that made
 * it, and the first connection to the copy builds its own from the file and its WAL (which is
 * copied: it may hold committed transactions not yet checkpointed into the file).
 */
function isCopied(path: string): boolean {
  const name = basename(path);
  return !/^audit(-queue)?\.sqlite(-wal|-shm)?$/.test(name) && !name.endsWith('.sqlite-shm');
}

export interface WorkingStore {
  /** The data directory the run's nodes use. */
  readonly dataDir: string;
  /** A fresh copy (true), or the generated store itself (too large to copy). */
  readonly copied: boolean;
  /** What the registry held when the run began. */
  readonly atStart: StoreCounts;
}

/**
 * The data directory for one run over the generated store `generatedDir`: a fresh copy beside it
 * (`<dir>.run`, replacing the previous run's) when the store's files are at most `copyLimitBytes`,
 * else the store itself. Call it once per run and size, before any node opens the store.
 */
export function workingStore(generatedDir: string, copyLimitBytes: number): WorkingStore {
  if (copyBytes(generatedDir) > copyLimitBytes) return { dataDir: generatedDir, copied: false, atStart: storeCounts(generatedDir) };
  const dataDir = `${generatedDir}.run`;
  rmSync(dataDir, { recursive: true, force: true });
  cpSync(generatedDir, dataDir, { recursive: true, filter: (source) => isCopied(source) });
  return { dataDir, copied: true, atStart: storeCounts(dataDir) };
}

/**
 * Whether a cached store can be trusted to hold only what the generator wrote: it was noted as
 * generated (and runs since have measured on copies), or it is too large to have been copied, in
 * which case runs measured on it in place and `workingStore` reports its growth. A small store with
 * no note comes from before the bench copied: its runs wrote into it, and it is generated anew.
 */
export function isPristine(generatedDir: string, copyLimitBytes: number): boolean {
  if (!existsSync(join(generatedDir, EMBEDDED_FILE_NAME))) return true;
  return generatedCounts(generatedDir) !== undefined || copyBytes(generatedDir) > copyLimitBytes;
}
