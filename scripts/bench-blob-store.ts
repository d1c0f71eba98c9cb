/**
 * npx tsx scripts/bench-blob-store.ts [--documents 4000] [--size 20000] [--concurrency 32] [--small-document-bytes 65536] [--dir DIR]
 *
 * The filesystem blob store alone, as ITI-41 uses it: each of --concurrency workers stages a
 * document of --size bytes (two chunks, as an MTOM part arrives), commits it under a fresh
 * uniqueId, and goes on. Prints documents per second and CPU per document of the main thread and
 * of the other threads together (libuv pool, SQLite writer, GC helpers), from /proc (Linux), so the
 * two tiers (--small-document-bytes 0: every document a file) can be compared without HTTP, XML or
 * the registry. Issue 19 (BENCHMARKS.md, "Issue 19: ITI-41 …").
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openFilesystemBlobStore } from '../repository/blob/filesystem/index.js';

const { values } = parseArgs({
  options: {
    documents: { type: 'string', default: '4000' },
    size: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '32' },
    'small-document-bytes': { type: 'string', default: String(64 * 1024) },
    dir: { type: 'string' },
  },
});
const documents = Number(values.documents);
const size = Number(values.size);
const concurrency = Number(values.concurrency);

/** CPU ms (user + system) of each thread of this process, by thread id. */
function threadCpu(): Map<string, number> {
  const cpu = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpu.set(tid, (Number(f[11]) + Number(f[12])) * 10);
    } catch {
      // ended meanwhile
    }
  }
  return cpu;
}

async function* twoChunks(bytes: Buffer): AsyncGenerator<Uint8Array> {
  yield bytes.subarray(0, bytes.byteLength >> 1);
  yield bytes.subarray(bytes.byteLength >> 1);
}

const base = values.dir ?? mkdtempSync(join(tmpdir(), 'kp-bench-blob-'));
const store = await openFilesystemBlobStore({ directory: join(base, 'documents'), smallDocumentBytes: Number(values['small-document-bytes']) });
const payload = randomBytes(size);
/** Stages and commits documents number `from` … `to` − 1, --concurrency at a time, each under its own uniqueId. */
async function upload(from: number, to: number): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < to) {
        const n = next++;
        const bytes = Buffer.from(payload);
        bytes.writeUInt32BE(n, 0);
        const staged = await store.stage(twoChunks(bytes));
        await staged.commit(`2.16.578.1.12.4.5.100.1.${process.pid}.${n}`);
      }
    }),
  );
}
// A warm-up (the last numbers), so that module loading and the first shard directories are not measured.
const warm = Math.min(200, documents);
await upload(documents - warm, documents);
const done = documents - warm;
const before = threadCpu();
const started = process.hrtime.bigint();
await upload(0, done);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const after = threadCpu();
const main = String(process.pid);
let mainMs = 0;
let otherMs = 0;
for (const [tid, ms] of after) {
  const d = ms - (before.get(tid) ?? 0);
  if (tid === main) mainMs += d;
  else otherMs += d;
}
await store.close();
if (values.dir === undefined) rmSync(base, { recursive: true, force: true });
console.log(
  `${done} documents of ${size} bytes, smallDocumentBytes ${values['small-document-bytes']}, ${concurrency} at once: ${(done / seconds).toFixed(0)} documents/s; ` +
    `CPU per document: main thread ${(mainMs / done).toFixed(3)} ms, other threads ${(otherMs / done).toFixed(3)} ms, all ${((mainMs + otherMs) / done).toFixed(3)} ms`,
);
