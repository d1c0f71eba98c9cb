/**
 * Size of the filesystem blob store (committed documents: count and bytes), for the metrics gauges.
 *
 * There is no cheaper source: the BlobStore interface keeps no totals, so the committed tree
 * (`<dataDir>/documents/blobs/<2 hex>/<2 hex>/<key>`, repository/blob/filesystem/paths.ts) is walked.
 * A walk costs one stat per document, so it runs at most once per `minIntervalMs` (default one
 * minute), only when someone scrapes, never two at a time, and a scrape is answered from the last
 * walk while the next one runs. The staging area is left out: it holds uploads in flight.
 * Small documents (repository.smallDocumentBytes) are rows of `documents/small-blobs.sqlite`, beside
 * the tree: its committed rows are counted with one query (a scan of the ~150-byte rows, not of
 * the bytes). GridFS (MongoDB) is not measured here.
 */
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { FILESYSTEM_DIRECTORY } from '../../repository/blob/open.js';
import { BLOBS_DIR } from '../../repository/blob/filesystem/paths.js';
import { SMALL_BLOBS_FILE } from '../../repository/blob/filesystem/small-blobs.js';

export interface BlobStoreSize {
  readonly documents: number;
  readonly bytes: number;
  /** When the walk that produced this finished (ms since the epoch). */
  readonly at: number;
}

/** The committed-blob directory of a node whose blob store is the filesystem one. */
export function blobDirectory(dataDir: string): string {
  return join(dataDir, FILESYSTEM_DIRECTORY, BLOBS_DIR);
}

/** Names in a directory, or none when it does not exist (yet): a fresh store has no shards. */
async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Rows of the small documents' table counted per statement: a few milliseconds of the event loop each. */
const SMALL_DOCUMENTS_PER_STEP = 20_000;

/**
 * The committed rows of the small documents' table beside the blob tree `dir`, if there is one,
 * counted in steps of rowid ranges with the event loop free in between: one count(*) over a
 * table of millions of rows would hold it for seconds (better-sqlite3 reads synchronously). Like
 * the walk of the files, not a snapshot: a row committed or removed meanwhile may or may not count.
 */
async function measureSmallDocuments(dir: string): Promise<{ documents: number; bytes: number }> {
  const path = join(dirname(dir), SMALL_BLOBS_FILE);
  if (!existsSync(path)) return { documents: 0, bytes: 0 };
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const last = (db.prepare('SELECT coalesce(max(id), 0) FROM small_blobs').pluck().get() as number) ?? 0;
    const step = db.prepare('SELECT count(*) AS documents, coalesce(sum(size), 0) AS bytes FROM small_blobs WHERE id > ? AND id <= ? AND unique_id IS NOT NULL');
    let documents = 0;
    let bytes = 0;
    for (let after = 0; after < last; after += SMALL_DOCUMENTS_PER_STEP) {
      const r = step.get(after, after + SMALL_DOCUMENTS_PER_STEP) as { documents: number; bytes: number };
      documents += r.documents;
      bytes += r.bytes;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return { documents, bytes };
  } finally {
    db.close();
  }
}

/** Walks the two shard levels and sums the files, plus the small documents' table; a file removed meanwhile is simply not counted. */
export async function measureBlobDirectory(dir: string): Promise<BlobStoreSize> {
  let { documents, bytes } = await measureSmallDocuments(dir);
  for (const outer of await names(dir)) {
    for (const inner of await names(join(dir, outer))) {
      const shard = join(dir, outer, inner);
      for (const name of await names(shard)) {
        try {
          const s = await stat(join(shard, name));
          if (!s.isFile()) continue;
          documents++;
          bytes += s.size;
        } catch {
          // Removed (ITI-86) between readdir and stat: not there any more.
        }
      }
    }
  }
  return { documents, bytes, at: Date.now() };
}

/** The last measurement, refreshed at most once per interval and only on demand. */
export class BlobSizeSampler {
  private last: BlobStoreSize | undefined;
  private running: Promise<BlobStoreSize | undefined> | undefined;
  /** When the last walk started, failed or not: the interval counts from there. */
  private attemptedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly dir: string,
    private readonly minIntervalMs = 60_000,
    private readonly onError: (e: unknown) => void = () => {},
  ) {}

  /**
   * The size to report now. Until a first walk succeeded, a call waits for the walk (so that the
   * gauges exist from the first scrape); after that, calls answer from the last walk and start a new
   * one in the background when the last attempt is older than the interval.
   */
  async current(now = Date.now()): Promise<BlobStoreSize | undefined> {
    if (this.running === undefined && now - this.attemptedAt >= this.minIntervalMs) {
      this.attemptedAt = now;
      this.running = measureBlobDirectory(this.dir)
        .then(
          (size) => (this.last = size),
          (e: unknown) => {
            this.onError(e);
            return this.last;
          },
        )
        .finally(() => {
          this.running = undefined;
        });
    }
    if (this.last === undefined && this.running !== undefined) return this.running;
    return this.last;
  }
}
