/**
 * The small-document tier of the filesystem store: documents up to `smallDocumentBytes` (64 KiB by
 * default) live as rows of one SQLite file, `<root>/small-blobs.sqlite`, instead of one file each.
 *
 * Why: a 20 KB document stored as a file cost ~100 system calls and ~3.7 fsyncs (the file, the
 * staging directory, the shard directory) on the libuv pool, a third of ITI-41's CPU (BENCHMARKS.md,
 * "Issue 19: ITI-41 …"). As rows, a document's two durable phases are two SQLite transactions that
 * concurrent uploads share (grouped-writes.ts): one WAL fsync per group for all the stages, one for
 * all the commits, written by a worker thread (registry/store/embedded/sqlite-writer.ts) so that
 * neither the event loop nor the libuv pool waits for them.
 *
 * The same two phases and crash semantics as the files (blob-store.ts):
 *   stage   INSERT the bytes and a row with `unique_id` NULL, durable before `stage` returns
 *   commit  UPDATE the row's `unique_id`, durable before `commit` returns (the UNIQUE index, not a
 *           check, keeps two stagings from taking one uniqueId)
 *   abort, orphan cleaning, remove (ITI-86)  DELETE, durable before they return
 * Staged rows are those with `unique_id` NULL (a partial index finds them without scanning the
 * committed ones); a crash leaves them for `listStaged`, and recovery commits or removes them as
 * it does staged files. A row is written in one transaction, so there is no partial upload.
 *
 * The bytes are in their own table so that the commit's UPDATE rewrites a ~150-byte row, not the
 * document. Reads go through the caller's own connection (WAL: it sees every committed transaction,
 * never a partial one); a document is read whole at `open` (it is small), so a removal after `open`
 * cannot take the bytes of a retrieve that is answering, as pinned-reads.ts ensures for files.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { SqliteWriter, type SqlStatement } from '../../../registry/store/embedded/sqlite-writer.js';
import type { StoredBlob } from '../blob-store.js';
import { GroupedWrites } from './grouped-writes.js';

export const SMALL_BLOBS_FILE = 'small-blobs.sqlite';

/** A staged row as `listStaged` reports it. */
export interface SmallStagedRow {
  readonly stagingId: string;
  readonly size: number;
  readonly sha1: string;
  readonly stagedAt: Date;
}

/** What committing a staged row under a uniqueId found. */
export type SmallCommitResult =
  | { readonly kind: 'committed' }
  /** The uniqueId already holds a document (sha1, size); the staged row is untouched. */
  | { readonly kind: 'taken'; readonly sha1: string; readonly size: number }
  /** The staged row is gone (aborted, cleaned as an orphan) or was committed under another id. */
  | { readonly kind: 'missing' };

/** Exported so that tests can make a table of many rows without staging each. */
export const SMALL_BLOBS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS small_blob_bytes (id INTEGER PRIMARY KEY, bytes BLOB NOT NULL);
  CREATE TABLE IF NOT EXISTS small_blobs (
    id INTEGER PRIMARY KEY,          -- = small_blob_bytes.id
    staging_id TEXT NOT NULL UNIQUE,
    unique_id TEXT UNIQUE,           -- NULL while staged
    sha1 TEXT NOT NULL,
    size INTEGER NOT NULL,
    staged_at INTEGER NOT NULL       -- ms since the epoch
  );
  CREATE INDEX IF NOT EXISTS small_blobs_staged ON small_blobs (staged_at) WHERE unique_id IS NULL;
`;

const INSERT_BYTES = 'INSERT INTO small_blob_bytes (bytes) VALUES (?)';
// Same connection, same transaction: last_insert_rowid() is the bytes row just inserted.
const INSERT_ROW = 'INSERT INTO small_blobs (id, staging_id, sha1, size, staged_at) VALUES (last_insert_rowid(), ?, ?, ?, ?)';
// OR IGNORE: a uniqueId already taken leaves this row staged instead of failing the whole group;
// the caller reads back what happened (`commit`).
const COMMIT = 'UPDATE OR IGNORE small_blobs SET unique_id = ? WHERE staging_id = ? AND unique_id IS NULL';
const DELETE_STAGED_BYTES = 'DELETE FROM small_blob_bytes WHERE id = (SELECT id FROM small_blobs WHERE staging_id = ? AND unique_id IS NULL)';
const DELETE_STAGED_ROW = 'DELETE FROM small_blobs WHERE staging_id = ? AND unique_id IS NULL';
const DELETE_COMMITTED_BYTES = 'DELETE FROM small_blob_bytes WHERE id = (SELECT id FROM small_blobs WHERE unique_id = ?)';
const DELETE_COMMITTED_ROW = 'DELETE FROM small_blobs WHERE unique_id = ?';

export class SmallBlobs {
  private readonly byStagingId: Database.Statement;
  private readonly byUniqueId: Database.Statement;
  private readonly bytesOf: Database.Statement;
  private readonly staged: Database.Statement;
  private readonly stagedBefore: Database.Statement;
  /** Removals in progress by uniqueId: a second removal of the same document waits and finds it gone. */
  private readonly removing = new Map<string, Promise<boolean>>();

  private constructor(
    private readonly db: Database.Database,
    private readonly writes: GroupedWrites,
    private readonly writer: SqliteWriter,
  ) {
    this.byStagingId = db.prepare('SELECT unique_id AS uniqueId FROM small_blobs WHERE staging_id = ?');
    this.byUniqueId = db.prepare('SELECT sha1, size FROM small_blobs WHERE unique_id = ?');
    this.bytesOf = db.prepare('SELECT b.bytes AS bytes FROM small_blobs s JOIN small_blob_bytes b ON b.id = s.id WHERE s.unique_id = ?');
    this.staged = db.prepare('SELECT staging_id AS stagingId, sha1, size, staged_at AS stagedAt FROM small_blobs WHERE unique_id IS NULL ORDER BY staged_at');
    this.stagedBefore = db.prepare('SELECT staging_id AS stagingId FROM small_blobs WHERE unique_id IS NULL AND staged_at < ?');
  }

  static open(root: string): SmallBlobs {
    const path = join(root, SMALL_BLOBS_FILE);
    const db = new Database(path);
    // Other processes of a multi-process node open and write the same file (their own writer
    // threads): wait for their locks, from the first statement on (switching to WAL takes one).
    db.pragma('busy_timeout = 10000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(SMALL_BLOBS_SCHEMA);
    const writer = new SqliteWriter(path);
    return new SmallBlobs(db, new GroupedWrites(writer), writer);
  }

  /**
   * Writes `bytes` as a staged row, durably; resolves with its stagingId. The bytes' buffer is moved
   * to the writer thread, not copied: `bytes` must own it whole and is unusable afterwards.
   */
  async stage(bytes: Uint8Array, sha1: string, stagedAt: Date): Promise<string> {
    const stagingId = randomUUID();
    const size = bytes.byteLength;
    await this.writes.run(
      [
        { sql: INSERT_BYTES, params: [bytes] },
        { sql: INSERT_ROW, params: [stagingId, sha1, size, stagedAt.getTime()] },
      ],
      [bytes.buffer as ArrayBuffer],
    );
    return stagingId;
  }

  /** Gives the staged row `stagingId` the uniqueId, durably, unless the uniqueId is taken. */
  async commit(stagingId: string, documentUniqueId: string): Promise<SmallCommitResult> {
    await this.writes.run([{ sql: COMMIT, params: [documentUniqueId, stagingId] }]);
    const row = this.byStagingId.get(stagingId) as { uniqueId: string | null } | undefined;
    if (row?.uniqueId === documentUniqueId) return { kind: 'committed' };
    if (row === undefined || row.uniqueId !== null) return { kind: 'missing' };
    const holder = this.holder(documentUniqueId);
    // Ignored for another reason than the uniqueId (none known): report it as the state it left.
    return holder === undefined ? { kind: 'missing' } : { kind: 'taken', ...holder };
  }

  /** Deletes a staged row (abort, orphan cleaning); no-op when it is gone or committed. */
  async dropStaged(stagingIds: readonly string[]): Promise<void> {
    if (stagingIds.length === 0) return;
    await this.writes.run(stagingIds.flatMap((id): SqlStatement[] => [
      { sql: DELETE_STAGED_BYTES, params: [id] },
      { sql: DELETE_STAGED_ROW, params: [id] },
    ]));
  }

  /** The committed document's sha1 and size, if the uniqueId is held here. */
  holder(documentUniqueId: string): { sha1: string; size: number } | undefined {
    return this.byUniqueId.get(documentUniqueId) as { sha1: string; size: number } | undefined;
  }

  /** The committed document, read whole (it is small). */
  open(documentUniqueId: string): StoredBlob | undefined {
    const row = this.bytesOf.get(documentUniqueId) as { bytes: Buffer } | undefined;
    if (row === undefined) return undefined;
    const bytes = row.bytes;
    return { size: bytes.byteLength, stream: () => Readable.from([bytes], { objectMode: false }) };
  }

  /** Deletes the committed document (ITI-86), durably; true if it was here. */
  remove(documentUniqueId: string): Promise<boolean> {
    const running = this.removing.get(documentUniqueId);
    if (running !== undefined) return running.then(() => false);
    if (this.holder(documentUniqueId) === undefined) return Promise.resolve(false);
    const removal = this.writes
      .run([
        { sql: DELETE_COMMITTED_BYTES, params: [documentUniqueId] },
        { sql: DELETE_COMMITTED_ROW, params: [documentUniqueId] },
      ])
      .then(() => true)
      .finally(() => this.removing.delete(documentUniqueId));
    this.removing.set(documentUniqueId, removal);
    return removal;
  }

  listStaged(): SmallStagedRow[] {
    const rows = this.staged.all() as { stagingId: string; sha1: string; size: number; stagedAt: number }[];
    return rows.map((r) => ({ stagingId: r.stagingId, sha1: r.sha1, size: r.size, stagedAt: new Date(r.stagedAt) }));
  }

  /** Removes staged rows staged before `threshold` (ms since the epoch), except `keep`; how many. */
  async cleanOrphans(threshold: number, keep: ReadonlySet<string> | undefined): Promise<number> {
    const ids = (this.stagedBefore.all(threshold) as { stagingId: string }[]).map((r) => r.stagingId).filter((id) => !keep?.has(id));
    await this.dropStaged(ids);
    return ids.length;
  }

  async close(): Promise<void> {
    await this.writes.drain();
    await this.writer.close();
    this.db.close();
  }
}
