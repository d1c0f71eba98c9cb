/**
 * The MongoDB blob store: documents in a GridFS bucket (default `documents`), so that a node with
 * MONGODB_URI keeps registry and documents in one replicated database.
 *
 * A staged upload is a GridFS file named `staging/<stagingId>` with metadata `{ staged: true }`,
 * plus a marker in `<bucket>.staging` written *before* the first chunk. GridFS writes its files
 * document only after the last chunk, so a crash mid-upload leaves chunks that nothing else points
 * at; the marker is what lets `cleanOrphans` find them. Once all chunks are in, the marker records
 * size and SHA-1 (for `listStaged`).
 *
 * Commit is one atomic single-document update of the files document: filename and metadata become
 * the document uniqueId, guarded by `metadata.staged: true`. A unique partial index on
 * `metadata.documentUniqueId` makes a second commit of the same id fail with a duplicate key,
 * which is then resolved by comparing size and SHA-1 (identical → idempotent, else conflict).
 *
 * Durability: chunks go with the client's default write concern; the write that completes staging
 * and the commit use `{ w: 'majority', j: true }`. The oplog and the journal are ordered, so an
 * acknowledged majority+journaled write also covers every write this process made before it.
 *
 * Removal (ITI-86) deletes the files document with `{ w: 'majority', j: true }` (from then on the
 * document is gone for every node), then its chunks. A marker dated at the epoch is written first,
 * so that chunks a crash left behind are deleted by the next `cleanOrphans`. While this process
 * still streams the document (a retrieve handed it out before the removal), the chunks are kept
 * until that stream ends, so the retrieve completes; a retrieve on another node sharing the
 * database may be cut off instead (its response fails midway), which GridFS gives no way to avoid.
 */
import {
  GridFSBucket,
  MongoClient,
  MongoServerError,
  ObjectId,
  type Collection,
  type Db,
  type GridFSBucketWriteStream,
  type GridFSFile,
  type WriteConcernSettings,
} from 'mongodb';
import { finished } from 'node:stream/promises';
import { databaseInUri } from '../../../registry/store/mongo/mongo-store.js';
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
import { readChunks, type ChunkDocument } from './read-chunks.js';

export interface GridFsBlobStoreOptions {
  readonly uri: string;
  /** Default: the URI's database, else `koblingspunkt`. */
  readonly database?: string;
  /** GridFS bucket name; default `documents`. */
  readonly bucketName?: string;
}

export const DEFAULT_BUCKET = 'documents';
const DEFAULT_DATABASE = 'koblingspunkt';
/** How long a blob handed out by `open` and not streamed keeps its chunks from a removal. */
const READ_GRACE_MS = 10 * 60 * 1000;
const DURABLE: WriteConcernSettings = { w: 'majority', journal: true };

/** One marker per upload, from before the first chunk until commit or abort. */
interface StagingMarker {
  _id: ObjectId;
  stagedAt: Date;
  /** Set once every chunk and the files document are written. */
  size?: number;
  sha1?: string;
}

interface BlobMetadata {
  staged?: boolean;
  stagingId?: string;
  documentUniqueId?: string;
  sha1?: string;
}

type BlobFile = GridFSFile & { metadata?: BlobMetadata };

export async function openGridFsBlobStore(options: GridFsBlobStoreOptions): Promise<BlobStore> {
  const client = new MongoClient(options.uri);
  await client.connect();
  try {
    const db = client.db(options.database ?? databaseInUri(options.uri) ?? DEFAULT_DATABASE);
    const store = new GridFsBlobStore(client, db, options.bucketName ?? DEFAULT_BUCKET);
    await store.createIndexes();
    return store;
  } catch (e) {
    await client.close();
    throw e;
  }
}

class GridFsBlobStore implements BlobStore {
  /** Every node on the database stages into this bucket. */
  readonly sharedStaging = true;
  private readonly bucket: GridFSBucket;
  private readonly files: Collection<BlobFile>;
  private readonly chunks: Collection<ChunkDocument>;
  private readonly markers: Collection<StagingMarker>;
  private closed = false;
  /** Reads in this process by document uniqueId: handed out by `open`, or streaming. */
  private readonly reads = new Map<string, number>();
  /** Files removed while read, by document uniqueId: their chunks go when the last read ends. */
  private readonly chunksOwed = new Map<string, ObjectId[]>();
  /** The same files by id, kept from `cleanOrphans` while they are read. */
  private readonly owedFileIds = new Set<string>();

  constructor(
    private readonly client: MongoClient,
    db: Db,
    bucketName: string,
  ) {
    this.bucket = new GridFSBucket(db, { bucketName });
    this.files = db.collection<BlobFile>(`${bucketName}.files`);
    this.chunks = db.collection(`${bucketName}.chunks`);
    this.markers = db.collection<StagingMarker>(`${bucketName}.staging`);
  }

  async createIndexes(): Promise<void> {
    // GridFS creates its two indexes lazily on the first upload; create them now, because the
    // cleanup paths delete chunks by files_id before any upload may have happened.
    await this.chunks.createIndex({ files_id: 1, n: 1 }, { unique: true });
    await this.files.createIndex({ filename: 1, uploadDate: 1 });
    await this.files.createIndex(
      { 'metadata.documentUniqueId': 1 },
      { name: 'documentUniqueId_1', unique: true, partialFilterExpression: { 'metadata.documentUniqueId': { $exists: true } } },
    );
    await this.markers.createIndex({ stagedAt: 1 });
  }

  async stage(source: BlobSource, options: StageOptions = {}): Promise<StagedBlob> {
    this.assertOpen();
    const fileId = new ObjectId();
    const stagingId = fileId.toHexString();
    const stagedAt = new Date();
    await this.markers.insertOne({ _id: fileId, stagedAt });
    const upload = this.bucket.openUploadStream(`staging/${stagingId}`, {
      id: fileId,
      metadata: { staged: true, stagingId } satisfies BlobMetadata,
    });
    // Failures reach us through write callbacks and `finished`; without a listener the stream's
    // 'error' event would also be thrown as an uncaught exception.
    upload.on('error', () => undefined);
    const digest: { result?: Digest } = {};
    try {
      for await (const chunk of measuredChunks(source, options.maxBytes, digest)) await writeChunk(upload, chunk);
      upload.end();
      await finished(upload);
    } catch (e) {
      await upload.abort().catch(() => undefined);
      await this.deleteStagedFile(fileId);
      throw e;
    }
    const { size, sha1 } = digest.result!;
    const completed = await this.markers.updateOne({ _id: fileId }, { $set: { size, sha1 } }, { writeConcern: DURABLE });
    if (completed.matchedCount === 0) {
      // Cleaned as an orphan while uploading (a threshold shorter than the upload took).
      await this.deleteStagedFile(fileId);
      throw new BlobStateError(`staged blob ${stagingId} was removed as an orphan before its upload finished`);
    }
    return this.handle(fileId, size, sha1, stagedAt);
  }

  async open(documentUniqueId: string): Promise<StoredBlob | undefined> {
    this.assertOpen();
    // Held before the file is looked up: a removal that finds the files document after this keeps the chunks.
    const claim = this.hold(documentUniqueId);
    let file: Pick<GridFSFile, '_id' | 'length' | 'chunkSize'> | null;
    try {
      file = await this.files.findOne(
        { 'metadata.documentUniqueId': documentUniqueId },
        { projection: { _id: 1, length: 1, chunkSize: 1 } },
      );
    } catch (e) {
      claim();
      throw e;
    }
    if (!file) {
      claim();
      return undefined;
    }
    const found = file;
    // A document handed out and never streamed (kept back by the policy) lets go after a while.
    const timer = setTimeout(claim, READ_GRACE_MS);
    timer.unref();
    return {
      size: found.length,
      stream: () => {
        const release = this.hold(documentUniqueId);
        clearTimeout(timer);
        claim();
        const stream = readChunks(this.chunks, found);
        stream.once('close', release);
        return stream;
      },
    };
  }

  async exists(documentUniqueId: string): Promise<boolean> {
    this.assertOpen();
    return (await this.files.findOne({ 'metadata.documentUniqueId': documentUniqueId }, { projection: { _id: 1 } })) !== null;
  }

  async remove(documentUniqueId: string): Promise<boolean> {
    this.assertOpen();
    const file = await this.files.findOne({ 'metadata.documentUniqueId': documentUniqueId }, { projection: { _id: 1 } });
    if (!file) return false;
    // A marker dated at the epoch first: should the process die between deleting the files
    // document and its chunks, the next cleanOrphans finishes the job.
    await this.markers.updateOne({ _id: file._id }, { $set: { stagedAt: new Date(0) } }, { upsert: true });
    const deleted = await this.files.deleteOne({ _id: file._id }, { writeConcern: DURABLE });
    if (this.reads.has(documentUniqueId)) {
      // A retrieve of this process is still to stream it: the chunks go when it is done.
      const owed = this.chunksOwed.get(documentUniqueId) ?? [];
      owed.push(file._id);
      this.chunksOwed.set(documentUniqueId, owed);
      this.owedFileIds.add(file._id.toHexString());
    } else {
      await this.deleteRemovedChunks(file._id);
    }
    return deleted.deletedCount === 1;
  }

  /** Counts a read of a document; the returned function (idempotent) ends it. */
  private hold(documentUniqueId: string): () => void {
    this.reads.set(documentUniqueId, (this.reads.get(documentUniqueId) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const left = (this.reads.get(documentUniqueId) ?? 1) - 1;
      if (left > 0) {
        this.reads.set(documentUniqueId, left);
        return;
      }
      this.reads.delete(documentUniqueId);
      const owed = this.chunksOwed.get(documentUniqueId);
      if (owed === undefined) return;
      this.chunksOwed.delete(documentUniqueId);
      for (const fileId of owed) {
        this.owedFileIds.delete(fileId.toHexString());
        // A failure here leaves the epoch-dated marker: the next cleanOrphans deletes the chunks.
        if (!this.closed) void this.deleteRemovedChunks(fileId).catch(() => undefined);
      }
    };
  }

  /** The chunks and the marker of a removed file (its files document is already gone). */
  private async deleteRemovedChunks(fileId: ObjectId): Promise<void> {
    await this.chunks.deleteMany({ files_id: fileId });
    await this.markers.deleteOne({ _id: fileId });
  }

  async listStaged(): Promise<StagedBlob[]> {
    this.assertOpen();
    const markers = await this.markers.find({ sha1: { $exists: true } }).sort({ stagedAt: 1, _id: 1 }).toArray();
    if (markers.length === 0) return [];
    const staged = new Set(
      (await this.files.find({ _id: { $in: markers.map((m) => m._id) }, 'metadata.staged': true }, { projection: { _id: 1 } }).toArray()).map(
        (f) => f._id.toHexString(),
      ),
    );
    return markers
      .filter((m) => staged.has(m._id.toHexString()))
      .map((m) => this.handle(m._id, m.size!, m.sha1!, m.stagedAt));
  }

  async cleanOrphans(olderThanMs: number, options: { readonly keep?: ReadonlySet<string> } = {}): Promise<number> {
    this.assertOpen();
    const threshold = new Date(Date.now() - olderThanMs);
    let removed = 0;
    for await (const marker of this.markers.find({ stagedAt: { $lt: threshold } }, { projection: { _id: 1 } })) {
      if (options.keep?.has(marker._id.toHexString())) continue;
      // A removed document still streamed here: its chunks go when the stream ends.
      if (this.owedFileIds.has(marker._id.toHexString())) continue;
      if (await this.deleteStagedFile(marker._id)) removed++;
    }
    return removed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.close();
  }

  private handle(fileId: ObjectId, size: number, sha1: string, stagedAt: Date): StagedBlob {
    return stagedBlob(
      { stagingId: fileId.toHexString(), size, sha1, stagedAt },
      {
        commit: async (documentUniqueId) => {
          this.assertOpen();
          await this.commitFile(fileId, size, sha1, documentUniqueId);
        },
        abort: async () => {
          this.assertOpen();
          await this.deleteStagedFile(fileId);
        },
      },
    );
  }

  private async commitFile(fileId: ObjectId, size: number, sha1: string, documentUniqueId: string): Promise<void> {
    try {
      const updated = await this.files.updateOne(
        { _id: fileId, 'metadata.staged': true },
        { $set: { filename: documentUniqueId, metadata: { documentUniqueId, sha1 } satisfies BlobMetadata } },
        { writeConcern: DURABLE },
      );
      if (updated.matchedCount === 0) {
        const file = await this.files.findOne({ _id: fileId }, { projection: { metadata: 1 } });
        // Committed under this id already (a commit whose reply was lost, or recovery).
        if (file?.metadata?.documentUniqueId !== documentUniqueId) {
          throw new BlobStateError(`staged blob ${fileId.toHexString()} no longer exists (aborted or cleaned as an orphan)`);
        }
      }
    } catch (e) {
      if (!(e instanceof MongoServerError && e.code === 11000)) throw e;
      const existing = await this.files.findOne(
        { 'metadata.documentUniqueId': documentUniqueId },
        { projection: { length: 1, metadata: 1 } },
      );
      if (!existing) throw e; // removed meanwhile: let the caller retry rather than guess
      const existingSha1 = existing.metadata?.sha1 ?? '';
      if (existing.length !== size || existingSha1 !== sha1) throw new BlobConflictError(documentUniqueId, existingSha1, sha1);
      // Identical bytes are already stored: this staged copy is redundant.
      await this.deleteStagedFile(fileId);
      return;
    }
    await this.markers.deleteOne({ _id: fileId });
  }

  /**
   * Deletes an uncommitted upload: its files document (if written), chunks and marker. Never
   * touches a committed file. Returns whether a staged upload was removed.
   */
  private async deleteStagedFile(fileId: ObjectId): Promise<boolean> {
    const file = await this.files.findOne({ _id: fileId }, { projection: { metadata: 1 } });
    if (file && file.metadata?.staged !== true) {
      await this.markers.deleteOne({ _id: fileId }); // a leftover of an interrupted commit
      return false;
    }
    if (file) {
      const deleted = await this.files.deleteOne({ _id: fileId, 'metadata.staged': true });
      if (deleted.deletedCount === 0) return this.deleteStagedFile(fileId); // committed or deleted concurrently
    }
    await this.chunks.deleteMany({ files_id: fileId });
    const marker = await this.markers.deleteOne({ _id: fileId });
    return file !== null || marker.deletedCount === 1;
  }

  private assertOpen(): void {
    if (this.closed) throw new BlobStoreError('blob store is closed');
  }
}

/** Writes one chunk and waits until GridFS has taken it (copied, and flushed if a chunk filled up). */
function writeChunk(upload: GridFSBucketWriteStream, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    upload.write(chunk, (error) => (error ? reject(error) : resolve()));
  });
}

