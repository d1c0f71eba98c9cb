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
import { createReadStream } from 'node:fs';
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
}

export async function openFilesystemBlobStore(options: FilesystemBlobStoreOptions): Promise<BlobStore> {
  const root = options.directory;
  await mkdir(join(root, STAGING_DIR), { recursive: true });
  await mkdir(join(root, BLOBS_DIR), { recursive: true });
  await fsyncDirectory(root);
  return new FilesystemBlobStore(root);
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

  constructor(private readonly root: string) {}

  async stage(source: BlobSource, options: StageOptions = {}): Promise<StagedBlob> {
    this.assertOpen();
    const stagingId = randomUUID();
    const stagedAt = new Date();
    const partial = partialPath(this.root, stagingId);
    const file = await open(partial, 'wx', 0o600);
    const digest: { result?: Digest } = {};
    const flusher = new BackgroundFlush(file);
    try {
      for await (const chunk of measuredChunks(source, options.maxBytes, digest)) {
        await writeFully(file, chunk);
        flusher.wrote(chunk.byteLength);
      }
      await flusher.settle();
      await file.sync();
    } catch (e) {
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
    return (await fileSize(blobPath(this.root, documentUniqueId))) !== undefined;
  }

  async remove(documentUniqueId: string): Promise<boolean> {
    this.assertOpen();
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
    const found: StagedBlob[] = [];
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
    let removed = 0;
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
    this.closed = true;
    this.reads.releaseAll();
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
