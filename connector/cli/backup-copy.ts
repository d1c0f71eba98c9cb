/**
 * An online, consistent copy of a node's embedded store, taken while the node runs.
 *
 * The databases: SQLite's online backup API (better-sqlite3 `db.backup()`), which copies a
 * database page by page through SQLite itself — the WAL included, with the locking a reader uses —
 * so the copy is a database exactly as some committed transaction left it, never a torn file (a
 * plain `cp` of a database in use, or of the file without its `-wal`, can be either). The whole
 * database is copied in one step, i.e. within one read transaction: copied in small steps, a
 * write by the node between two steps would restart the backup, and under steady load it might
 * never end.
 *
 * The documents: after the databases, by file copy. This is consistent with the registry copy
 * because of the order in which the repository writes (README "Document Repository",
 * Atomicity): a document is staged (written, fsynced) before its registration commits, and the
 * registry's commit records, in the same transaction, which staged file is owed a commit under
 * which uniqueId; committing then hard-links it into blobs/, where a document is never changed or
 * removed, and only then is the record dropped. So for every DocumentEntry in the registry copy,
 * either its document was committed before the database copy — and is in blobs/ when they are
 * copied afterwards — or the copy holds its commit record, and its staged file is still in
 * staging/ or already in blobs/. Staging is copied before blobs/ so that a document committed
 * in between is caught in one of the two. At the restored node's start, recovery commits each
 * staged document its record names and removes the other staged files (repository.recover).
 *
 * Small documents (repository.smallDocumentBytes) are rows of `documents/small-blobs.sqlite`, staged
 * and committed ones in one file: it is copied like the databases, in one read transaction, after
 * the registry, so it holds every small document of the registry copy, staged or committed.
 *
 * Documents registered after the database copy may also be copied: without a registry entry they
 * are never served, and are harmless.
 */
import { constants, existsSync } from 'node:fs';
import { copyFile, mkdir, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DOCUMENTS, type StoreDatabase } from './store-files.js';

export interface CopiedDatabase {
  readonly name: string;
  readonly what: string;
  readonly bytes: number;
  /** `ok`, or what PRAGMA integrity_check found (only with verify). */
  readonly integrity?: string;
}

/**
 * Copies one SQLite database online to `target` (a new file). The copy is then made a plain
 * rollback-journal database (the node's files are WAL, and the page copy keeps that mode): one
 * self-contained file, with no `-wal` or `-shm` beside it, readable even from read-only media. The
 * node turns WAL back on when it opens a restored file.
 */
export async function backupDatabase(source: StoreDatabase, target: string, verify: boolean): Promise<CopiedDatabase> {
  // Read-only: the backup never writes to the node's file, and closing this connection (not the
  // last one while the node runs) checkpoints nothing.
  const db = openSource(source.path);
  try {
    // Return all remaining pages for the next step: the copy is one read transaction (see above).
    await db.backup(target, { progress: ({ remainingPages }) => Math.max(remainingPages, 1) });
  } finally {
    db.close();
  }
  const copy = new Database(target, { fileMustExist: true });
  let integrity: string | undefined;
  try {
    copy.pragma('journal_mode = DELETE');
    if (verify) integrity = (copy.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
  } finally {
    copy.close();
  }
  const bytes = (await stat(target)).size;
  return { name: source.name, what: source.what, bytes, ...(integrity !== undefined ? { integrity } : {}) };
}

/**
 * A read-only connection. A database the node has closed cleanly has no `-shm` file, which a
 * read-only connection to a WAL database cannot create; such a file is opened for writing instead
 * (nothing is written: the backup only reads).
 */
function openSource(path: string): Database.Database {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('schema_version');
    return db;
  } catch {
    return new Database(path, { fileMustExist: true });
  }
}

export interface CopiedDocuments {
  /** Committed documents: files in blobs/ and rows of the small documents' table. */
  readonly blobs: number;
  readonly staged: number;
  readonly bytes: number;
}

/** Copies the blob directory (staging first, see above) from `source` to `target`, fsyncing what it writes. */
export async function copyDocuments(source: string, target: string): Promise<CopiedDocuments> {
  let bytes = 0;
  let blobs = 0;
  let staged = 0;
  const table = join(source, DOCUMENTS.smallBlobs);
  if (existsSync(table)) {
    await mkdir(target, { recursive: true });
    const copy = join(target, DOCUMENTS.smallBlobs);
    bytes += (await backupDatabase({ name: DOCUMENTS.smallBlobs, path: table, what: 'small documents' }, copy, false)).bytes;
    const db = new Database(copy, { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT count(unique_id) AS committed, count(*) - count(unique_id) AS staged FROM small_blobs').get() as { committed: number; staged: number };
      blobs += rows.committed;
      staged += rows.staged;
    } finally {
      db.close();
    }
  }
  const staging = join(source, DOCUMENTS.staging);
  await mkdir(join(target, DOCUMENTS.staging), { recursive: true });
  for (const name of await listOrNothing(staging)) {
    // Files still being written (.part) are not documents yet; recovery would remove them anyway.
    if (!name.endsWith(DOCUMENTS.stagedSuffix)) continue;
    const copied = await copyIfPresent(join(staging, name), join(target, DOCUMENTS.staging, name));
    if (copied !== undefined) {
      staged++;
      bytes += copied;
    }
  }
  await fsyncDirectory(join(target, DOCUMENTS.staging));
  const walk = async (from: string, to: string): Promise<void> => {
    await mkdir(to, { recursive: true });
    for (const entry of await readdir(from, { withFileTypes: true })) {
      if (entry.isDirectory()) await walk(join(from, entry.name), join(to, entry.name));
      else if (entry.isFile()) {
        const copied = await copyIfPresent(join(from, entry.name), join(to, entry.name));
        if (copied !== undefined) {
          blobs++;
          bytes += copied;
        }
      }
    }
    await fsyncDirectory(to);
  };
  const blobDir = join(source, DOCUMENTS.blobs);
  if ((await listOrNothing(blobDir)).length > 0) await walk(blobDir, join(target, DOCUMENTS.blobs));
  else await mkdir(join(target, DOCUMENTS.blobs), { recursive: true });
  await fsyncDirectory(target);
  return { blobs, staged, bytes };
}

async function listOrNothing(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Copies a file (a reflink where the file system can) and fsyncs it; undefined when it vanished meanwhile (a staged file the node committed). */
async function copyIfPresent(from: string, to: string): Promise<number | undefined> {
  try {
    await copyFile(from, to, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const handle = await open(to, 'r');
  try {
    await handle.sync();
    return (await handle.stat()).size;
  } finally {
    await handle.close();
  }
}

export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
