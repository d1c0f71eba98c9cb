/**
 * The embedded blob store: plain files under one directory, no server.
 *
 *   <root>/staging/<id>.part                 being written
 *   <root>/staging/<id>.<sha1>.staged        written and fsynced, waiting for commit or abort
 *   <root>/blobs/<k0k1>/<k2k3>/<k>           committed; k = SHA-256 of the document uniqueId
 *
 * Durability: the staging file is fsynced before it is renamed to `.staged` and the staging
 * directory is fsynced after, so a staged blob survives power loss (the repository may need it to
 * finish a commit after a crash). Commit hard-links the staged file into place, which — unlike
 * rename — fails instead of silently replacing an existing blob, so two submissions of one
 * uniqueId cannot overwrite each other; then the blob's directory is fsynced before the commit
 * returns, so an acknowledged document survives power loss. Size comes from `stat`, so `open` costs
 * one system call. The store needs a filesystem with hard links (ext4, xfs, btrfs, APFS, NTFS).
 *
 * Removal (ITI-86) unlinks the blob and fsyncs its directory before it returns, so a removal once
 * answered stays done after power loss. Reads handed out by `open` before the removal keep their
 * bytes (pinned-reads.ts): a retrieve that is answering when the document is removed completes.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { link, mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  BlobConflictError,
  BlobStateError,
  BlobStoreError,
  type BlobSource,
  type BlobStore,
  type StageOptions,
  type StagedBlob,
  type StoredBlob,
} from '../blob-store.js';
import { measuredChunks, type Digest } from '../source.js';
import { stagedBlob } from '../staged-blob.js';
import { DirectorySyncs } from './directory-sync.js';
import { PinnedReads } from './pinned-reads.js';
import { SMALL_BLOBS_FILE, SmallBlobs } from './small-blobs.js';
import {
  BLOBS_DIR,
  STAGING_DIR,
  blobPath,
  parseStagedName,
  partialPath,
  shardDirectories,
  stagedPath,
} from './paths.js';

export interface FilesystemBlobStoreOptions {
  /** Root directory of the store (created if missing). */
  readonly directory: string;
  /**
   * Documents of at most this many bytes are kept in the store's SQLite file (small-blobs.ts)
   * instead of a file each; 0 keeps every document as a file. Default 64 KiB. Changing it later is
   * safe: every document is looked for in both places.
   */
  readonly smallDocumentBytes?: number;
}

/** Default of `smallDocumentBytes`: above it, a file's fixed system calls weigh little against its bytes. */
export const DEFAULT_SMALL_DOCUMENT_BYTES = 64 * 1024;
/** Largest `smallDocumentBytes` accepted: a small document is held in memory while it arrives and is retrieved. */
export const MAX_SMALL_DOCUMENT_BYTES = 1024 * 1024;

export async function openFilesystemBlobStore(options: FilesystemBlobStoreOptions): Promise<BlobStore> {
  const root = options.directory;
  await mkdir(join(root, STAGING_DIR), { recursive: true });
  await mkdir(join(root, BLOBS_DIR), { recursive: true });
  await fsyncDirectory(root);
  const smallDocumentBytes = options.smallDocumentBytes ?? DEFAULT_SMALL_DOCUMENT_BYTES;
  if (!Number.isSafeInteger(smallDocumentBytes) || smallDocumentBytes < 0 || smallDocumentBytes > MAX_SMALL_DOCUMENT_BYTES) {
    throw new RangeError(`smallDocumentBytes must be an integer from 0 to ${MAX_SMALL_DOCUMENT_BYTES}, got ${smallDocumentBytes}`);
  }
  // The table is opened even when the tier is off: documents it took earlier stay readable.
  const small = smallDocumentBytes > 0 || existsSync(join(root, SMALL_BLOBS_FILE)) ? SmallBlobs.open(root) : undefined;
  return new FilesystemBlobStore(root, small, smallDocumentBytes);
}

class FilesystemBlobStore implements BlobStore {
  private closed = false;
  /** Blobs handed out by `open` and not yet opened by their stream: a removal keeps them readable. */
  private readonly reads = new PinnedReads();
  /** Directory fsyncs shared by concurrent uploads (directory-sync.ts). */
  private readonly syncs = new DirectorySyncs(fsyncDirectory);
  /**
   * Shard directories known to exist: a directory is never removed by the store, so one found or
   * made once needs no `mkdir` again (one system call on the pool per commit). Should one vanish
   * all the same, the link fails with ENOENT and the commit makes it again (`commitFile`).
   */
  private readonly shards = new Set<string>();

  constructor(
    private readonly root: string,
    /** The small-document tier (small-blobs.ts); undefined when it is off and never held anything. */
    private readonly small: SmallBlobs | undefined,
    /** Documents up to this size are staged in `small`; 0: none. */
    private readonly smallDocumentBytes: number,
  ) {}

  async stage(source: BlobSource, options: StageOptions = {}): Promise<StagedBlob> {
    this.assertOpen();
    const stagedAt = new Date();
    const digest: { result?: Digest } = {};
    const chunks = measuredChunks(source, options.maxBytes, digest);
    // Held in memory until the document is known to be small (it ended) or not (it passed the limit).
    const held: Uint8Array[] = [];
    let heldBytes = 0;
    if (this.small !== undefined && this.smallDocumentBytes > 0) {
      for (;;) {
        const next = await chunks.next();
        if (next.done === true) {
          const { size, sha1 } = digest.result!;
          const bytes = contiguous(held, heldBytes);
          const stagingId = await this.small.stage(bytes, sha1, stagedAt);
          return this.smallHandle({ stagingId, size, sha1, stagedAt });
        }
        held.push(next.value);
        heldBytes += next.value.byteLength;
        if (heldBytes > this.smallDocumentBytes) break;
      }
    }
    return this.stageFile(held, chunks, digest, stagedAt);
  }

  /** Stages a document as a file: the chunks already read, then the rest of the source. */
  private async stageFile(held: readonly Uint8Array[], rest: AsyncGenerator<Uint8Array>, digest: { result?: Digest }, stagedAt: Date): Promise<StagedBlob> {
    const stagingId = randomUUID();
    const partial = partialPath(this.root, stagingId);
    let file: FileHandle;
    try {
      file = await open(partial, 'wx', 0o600);
    } catch (e) {
      // Leaving the generator destroys a Readable source, as the contract wants on failure.
      await rest.return(undefined);
      throw e;
    }
    const flusher = new BackgroundFlush(file);
    try {
      for (const chunk of held) {
        await writeFully(file, chunk);
        flusher.wrote(chunk.byteLength);
      }
      for await (const chunk of rest) {
        await writeFully(file, chunk);
        flusher.wrote(chunk.byteLength);
      }
      await flusher.settle();
      await file.sync();
    } catch (e) {
      await rest.return(undefined).catch(() => undefined);
      await flusher.settle().catch(() => undefined);
      await file.close().catch(() => undefined);
      await rm(partial, { force: true });
      throw e;
    }
    await file.close();
    const { size, sha1 } = digest.result!;
    const staged = stagedPath(this.root, stagingId, sha1);
    try {
      await rename(partial, staged);
      await this.syncs.sync(join(this.root, STAGING_DIR));
    } catch (e) {
      await rm(partial, { force: true });
      await rm(staged, { force: true });
      throw e;
    }
    return this.handle(stagingId, size, sha1, stagedAt, staged);
  }

  async open(documentUniqueId: string): Promise<StoredBlob | undefined> {
    this.assertOpen();
    const small = this.small?.open(documentUniqueId);
    if (small !== undefined) return small;
    const path = blobPath(this.root, documentUniqueId);
    // Registered before the file is looked at, so that a removal from here on keeps its bytes.
    const read = await this.reads.begin(path);
    let size: number | undefined;
    try {
      size = await fileSize(path);
    } catch (e) {
      this.reads.release(path, read);
      throw e;
    }
    if (size === undefined) {
      this.reads.release(path, read);
      return undefined;
    }
    let first = true;
    return {
      size,
      stream: () => {
        // The first stream is the one the response promised; a further one reads what is there now.
        if (!first) return createReadStream(path);
        first = false;
        return this.reads.stream(path, read);
      },
    };
  }

  async exists(documentUniqueId: string): Promise<boolean> {
    this.assertOpen();
    if (this.small?.holder(documentUniqueId) !== undefined) return true;
    return (await fileSize(blobPath(this.root, documentUniqueId))) !== undefined;
  }

  async remove(documentUniqueId: string): Promise<boolean> {
    this.assertOpen();
    // A document is in one tier; the table is asked first, without a system call.
    if (this.small !== undefined && (await this.small.remove(documentUniqueId))) return true;
    const path = blobPath(this.root, documentUniqueId);
    return this.reads.removing(path, async () => {
      try {
        await unlink(path);
      } catch (e) {
        if (errorCode(e) === 'ENOENT') return false;
        throw e;
      }
      // The unlink is durable only once the directory is: a removal answered must survive power loss.
      await this.syncs.sync(shardDirectories(this.root, documentUniqueId)[1]);
      return true;
    });
  }

  async listStaged(): Promise<StagedBlob[]> {
    this.assertOpen();
    const found: StagedBlob[] = (this.small?.listStaged() ?? []).map((row) => this.smallHandle(row));
    for (const name of await readdir(join(this.root, STAGING_DIR))) {
      const parsed = parseStagedName(name);
      if (!parsed) continue;
      const path = join(this.root, STAGING_DIR, name);
      const info = await statOrUndefined(path);
      // The mtime is when the last byte was written; rename keeps it.
      if (info) found.push(this.handle(parsed.stagingId, info.size, parsed.sha1, info.mtime, path));
    }
    return found.sort((a, b) => a.stagedAt.getTime() - b.stagedAt.getTime());
  }

  async cleanOrphans(olderThanMs: number, options: { readonly keep?: ReadonlySet<string> } = {}): Promise<number> {
    this.assertOpen();
    const threshold = Date.now() - olderThanMs;
    let removed = (await this.small?.cleanOrphans(threshold, options.keep)) ?? 0;
    for (const name of await readdir(join(this.root, STAGING_DIR))) {
      const stagingId = parseStagedName(name)?.stagingId;
      if (stagingId !== undefined && options.keep?.has(stagingId)) continue;
      const path = join(this.root, STAGING_DIR, name);
      const info = await statOrUndefined(path);
      // An upload in progress touches its .part file with every write, so the age guard spares it.
      if (!info || info.mtimeMs >= threshold) continue;
      await rm(path, { force: true });
      removed++;
    }
    return removed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reads.releaseAll();
    await this.small?.close();
  }

  /** A staged small document: its commit and abort are statements of the shared transactions. */
  private smallHandle(info: { stagingId: string; size: number; sha1: string; stagedAt: Date }): StagedBlob {
    const small = this.small!;
    return stagedBlob(info, {
      commit: async (documentUniqueId) => {
        this.assertOpen();
        // A document kept as a file under this uniqueId (before the tier, or larger): same rule as two files.
        const existing = await this.committedFile(documentUniqueId);
        if (existing !== undefined) {
          await this.identicalOrConflict(existing, info, documentUniqueId);
          await small.dropStaged([info.stagingId]);
          return;
        }
        const result = await small.commit(info.stagingId, documentUniqueId);
        if (result.kind === 'missing') throw new BlobStateError(`staged blob ${info.stagingId} no longer exists (aborted or cleaned as an orphan)`);
        if (result.kind === 'taken') {
          await this.identicalOrConflict(result, info, documentUniqueId);
          // A retried submission: the bytes are stored once; the staged copy goes.
          await small.dropStaged([info.stagingId]);
        }
      },
      abort: async () => {
        // After close (a request released while the node stops) the row stays: an orphan, which
        // the next start removes, as it would a staged file whose removal was cut short.
        if (this.closed) return;
        await small.dropStaged([info.stagingId]);
      },
    });
  }

  /** Succeeds when the committed document is the staged one's bytes (same size and SHA-1); else BlobConflictError. */
  private async identicalOrConflict(existing: Digest, staged: Digest, documentUniqueId: string): Promise<void> {
    if (existing.size !== staged.size || existing.sha1 !== staged.sha1) throw new BlobConflictError(documentUniqueId, existing.sha1, staged.sha1);
  }

  /** Size and SHA-1 of the document's file, if it is committed as a file. */
  private async committedFile(documentUniqueId: string): Promise<Digest | undefined> {
    const path = blobPath(this.root, documentUniqueId);
    // A synchronous stat: every small document's commit asks, and the answer is almost always "no
    // such file" (a new uniqueId), which the kernel's dentry cache gives in a microsecond or two.
    // The promise version sent each commit through the thread pool (a worker woken, the loop woken
    // again): ~5 % of the main thread's samples under the bench's ITI-41 20 KB line. The data
    // directory is a local filesystem by requirement (docs/operations.md); the stores' SQLite files
    // are read on this thread too.
    if (statSync(path, { throwIfNoEntry: false }) === undefined) return undefined;
    try {
      return await fileDigest(path);
    } catch (e) {
      if (errorCode(e) === 'ENOENT') return undefined;
      throw e;
    }
  }

  private handle(stagingId: string, size: number, sha1: string, stagedAt: Date, staged: string): StagedBlob {
    return stagedBlob(
      { stagingId, size, sha1, stagedAt },
      {
        commit: async (documentUniqueId) => {
          this.assertOpen();
          await this.commitFile(staged, stagingId, size, sha1, documentUniqueId);
        },
        abort: async () => {
          await rm(staged, { force: true });
        },
      },
    );
  }

  private async commitFile(staged: string, stagingId: string, size: number, sha1: string, documentUniqueId: string, again = false): Promise<void> {
    const [, inner] = shardDirectories(this.root, documentUniqueId);
    const target = blobPath(this.root, documentUniqueId);
    // A document kept in the table under this uniqueId: the same rule as a file already linked.
    const inTable = this.small?.holder(documentUniqueId);
    if (inTable !== undefined) {
      await this.identicalOrConflict(inTable, { size, sha1 }, documentUniqueId);
      if (!(await exists(staged))) throw new BlobStateError(`staged blob ${stagingId} no longer exists (aborted or cleaned as an orphan)`);
      await unlink(staged).catch((e: unknown) => {
        if (errorCode(e) !== 'ENOENT') throw e;
      });
      return;
    }
    if (!this.shards.has(inner)) await this.makeShard(documentUniqueId);
    try {
      await link(staged, target);
    } catch (e) {
      const code = errorCode(e);
      if (code === 'ENOENT' && !(await exists(staged))) throw new BlobStateError(`staged blob ${stagingId} no longer exists (aborted or cleaned as an orphan)`);
      if (code === 'ENOENT' && !again) {
        // The staged file is there, so the shard directory is not: made again, linked again.
        this.shards.delete(inner);
        await this.makeShard(documentUniqueId);
        await this.commitFile(staged, stagingId, size, sha1, documentUniqueId, true);
        return;
      }
      if (code !== 'EEXIST') throw e;
      const existing = await fileDigest(target);
      if (existing.size !== size || existing.sha1 !== sha1) throw new BlobConflictError(documentUniqueId, existing.sha1, sha1);
    }
    await this.syncs.sync(inner);
    // The blob has its own link now; a crash before this unlink leaves a staged twin that
    // recovery commits idempotently or cleans as an orphan, without touching the blob.
    await unlink(staged).catch((e: unknown) => {
      if (errorCode(e) !== 'ENOENT') throw e;
    });
  }

  /** Makes a blob's shard directories, durably, and remembers them. */
  private async makeShard(documentUniqueId: string): Promise<void> {
    const [outer, inner] = shardDirectories(this.root, documentUniqueId);
    const created = await mkdir(inner, { recursive: true });
    if (created !== undefined) {
      // New directory entries are durable only once their parent directories are fsynced.
      await this.syncs.sync(join(this.root, BLOBS_DIR));
      await this.syncs.sync(outer);
    }
    this.shards.add(inner);
  }

  private assertOpen(): void {
    if (this.closed) throw new BlobStoreError('blob store is closed');
  }
}

/**
 * Flushes a large upload to disk while it is still arriving. Without it the whole document sits in
 * the page cache until the final fsync, which then waits for all of it (~25 ms for 20 MiB on the
 * development machine, a sixth of the request). With an fdatasync started in the background after
 * every FLUSH_EVERY_BYTES written (one at a time, on the libuv pool, never awaited by the write
 * loop), the disk writes overlap the network receive and the final fsync finds little left to do
 * (~5 ms). Durability is unchanged: the final fsync after the last write still covers every byte;
 * a background flush only makes it cheaper. Its failure fails the stage like the final one would.
 */
const FLUSH_EVERY_BYTES = 4 * 1024 * 1024;

class BackgroundFlush {
  private unflushed = 0;
  private inFlight: Promise<void> | undefined;
  private failure: unknown;

  constructor(private readonly file: FileHandle) {}

  wrote(bytes: number): void {
    this.unflushed += bytes;
    if (this.unflushed < FLUSH_EVERY_BYTES || this.inFlight !== undefined) return;
    this.unflushed = 0;
    this.inFlight = this.file.datasync().then(
      () => {
        this.inFlight = undefined;
      },
      (e: unknown) => {
        this.failure ??= e;
        this.inFlight = undefined;
      },
    );
  }

  /** Waits for the flush in flight; rejects if any background flush failed. */
  async settle(): Promise<void> {
    if (this.inFlight !== undefined) await this.inFlight;
    if (this.failure !== undefined) throw this.failure;
  }
}

async function writeFully(file: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

async function fsyncDirectory(path: string): Promise<void> {
  // Windows cannot open a directory for fsync; its filesystem journals metadata itself.
  if (process.platform === 'win32') return;
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

async function fileDigest(path: string): Promise<Digest> {
  const hash = createHash('sha1');
  let size = 0;
  await pipeline(createReadStream(path), async function (chunks: AsyncIterable<Buffer>) {
    for await (const chunk of chunks) {
      size += chunk.byteLength;
      hash.update(chunk);
    }
  });
  return { size, sha1: hash.digest('hex') };
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  return (await statOrUndefined(path)) !== undefined;
}

async function fileSize(path: string): Promise<number | undefined> {
  return (await statOrUndefined(path))?.size;
}

function errorCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

/** The chunks as one buffer of its own (a chunk may be a view into a larger one, which a worker message would copy whole). */
function contiguous(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
