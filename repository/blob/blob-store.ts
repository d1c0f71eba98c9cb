/**
 * Storage of document bytes for the Document Repository (ITI-41 stores, ITI-43 retrieves, ITI-86
 * removes). Implementations: `filesystem/` (embedded default) and `gridfs/` (MongoDB). Both pass
 * `test/blob/contract.ts`.
 *
 * Two phases, so that a document becomes visible together with its registry metadata:
 *   1. `stage(source)` streams the bytes to durable storage while computing size and SHA-1; the
 *      staged blob is invisible to `open`/`exists`.
 *   2. After the registry commit succeeded, `staged.commit(documentUniqueId)` makes it addressable
 *      by the document's uniqueId; on any failure before that, `staged.abort()` removes it.
 * A crash between the phases leaves staged blobs behind. At start the repository lists them with
 * `listStaged()`: a staged blob the registry's commit named (repository/registry-port.ts, commit
 * records by stagingId) is committed under its uniqueId; all others are orphans and are removed,
 * with `cleanOrphans(ageMs, { keep })`.
 */
import type { Readable } from 'node:stream';

/** Document bytes as they arrive: an MTOM part, an HTTP request, a file stream, a generator. */
export type BlobSource = AsyncIterable<Uint8Array> | NodeJS.ReadableStream;

export interface StageOptions {
  /** Reject with `BlobTooLargeError` as soon as more than this many bytes have arrived. */
  readonly maxBytes?: number;
}

/** A blob written durably but not yet addressable by a document uniqueId. */
export interface StagedBlob {
  readonly stagingId: string;
  /** Size in bytes. */
  readonly size: number;
  /** SHA-1 of the bytes, lower-case hex (as XDS `hash` wants it). */
  readonly sha1: string;
  /** When staging started (for orphan age). */
  readonly stagedAt: Date;
  /**
   * Makes the blob readable under `documentUniqueId`, durably. Committing the same id again is a
   * no-op. If the id already holds identical bytes (a retried submission) the staged copy is
   * dropped and the call succeeds; different bytes → `BlobConflictError` and the blob stays staged
   * (abort it). `BlobStateError` if it was aborted, committed under another id, or cleaned away.
   */
  commit(documentUniqueId: string): Promise<void>;
  /** Removes the staged bytes. No-op after commit or a previous abort. */
  abort(): Promise<void>;
}

/** A committed blob, opened for reading. */
export interface StoredBlob {
  readonly size: number;
  /** A fresh stream over the bytes; call once per response, pipe it, never buffer it whole. */
  stream(): Readable;
}

export interface BlobStore {
  /**
   * Streams `source` into durable staging storage. The source is consumed completely; on failure
   * (size limit, source error, storage error) nothing is left behind and the source is destroyed.
   */
  stage(source: BlobSource, options?: StageOptions): Promise<StagedBlob>;
  /** The committed blob of a document, or undefined. Staged blobs are never returned. */
  open(documentUniqueId: string): Promise<StoredBlob | undefined>;
  exists(documentUniqueId: string): Promise<boolean>;
  /** Deletes a committed blob (ITI-86); true if it existed. */
  remove(documentUniqueId: string): Promise<boolean>;
  /** Staged blobs that were fully written and are neither committed nor aborted, oldest first. */
  listStaged(): Promise<StagedBlob[]>;
  /**
   * Removes staging leftovers (complete or partial) started more than `olderThanMs` ago, except the
   * staged blobs in `keep` (stagingIds: registered documents whose commit must be retried), and
   * returns how many were removed. The age guard protects uploads in progress, including those of
   * other nodes sharing the storage.
   */
  cleanOrphans(olderThanMs: number, options?: { readonly keep?: ReadonlySet<string> }): Promise<number>;
  /**
   * True when other nodes may stage into the same storage (GridFS in a shared database): at start
   * a node cannot take what is staged for leftovers of its own, and removes only what is older
   * than the orphan age.
   */
  readonly sharedStaging?: boolean;
  close(): Promise<void>;
}

export class BlobStoreError extends Error {
  override name = 'BlobStoreError';
}

/** The document is larger than the configured limit; nothing of it was kept. */
export class BlobTooLargeError extends BlobStoreError {
  override name = 'BlobTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`document exceeds the size limit of ${maxBytes} bytes`);
  }
}

/** The document uniqueId already holds different bytes. */
export class BlobConflictError extends BlobStoreError {
  override name = 'BlobConflictError';
  constructor(
    readonly documentUniqueId: string,
    readonly existingSha1: string,
    readonly stagedSha1: string,
  ) {
    super(`document ${documentUniqueId} is already stored with different content (sha1 ${existingSha1}, new ${stagedSha1})`);
  }
}

/** A staged blob used out of order: aborted, committed under another id, or removed as an orphan. */
export class BlobStateError extends BlobStoreError {
  override name = 'BlobStateError';
}

/**
 * Whether a storage error means the disk (or quota) is full: ENOSPC / EDQUOT from the file system,
 * MongoDB's OutOfDiskSpace (GridFS), SQLITE_FULL from the filesystem store's small-document table. Nothing of the blob was kept; ITI-41 answers
 * XDSRepositoryOutOfResources rather than an internal error.
 */
export function isOutOfSpace(e: unknown): boolean {
  for (let cause: unknown = e, depth = 0; typeof cause === 'object' && cause !== null && depth < 5; depth++) {
    const c = cause as { code?: unknown; codeName?: unknown; cause?: unknown };
    if (c.code === 'ENOSPC' || c.code === 'EDQUOT' || c.codeName === 'OutOfDiskSpace' || c.code === 14031 || c.code === 'SQLITE_FULL') return true;
    cause = c.cause;
  }
  return false;
}
