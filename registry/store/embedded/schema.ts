/**
 * The embedded store's SQLite schema. Each registry object is one row: its JSON record (see
 * record.ts) in `packed` (`body` in v1, `record` until v5; packed since v6), and copies of the
 * fields queries select on in indexed columns. The columns only preselect candidates; the filter itself is always evaluated on the
 * JSON record.
 *
 * Version 2 adds `objects.rev` and the one-row `meta` counter it is drawn from, so that readers
 * can keep parsed records in memory and tell with one integer whether a row still holds the record
 * they parsed (see `record-cache.ts`).
 *
 * Version 3 makes the (type, patient_id, status) index carry seq and rev, so the candidate
 * statement of a patient's query is answered from the index alone (see `MIGRATE_V2_TO_V3`).
 *
 * Version 4 adds the `outbox` table: records written in the same transaction as a submission
 * (store.ts `OutboxRecord`), so that work owed after a commit (its audit event, committing its
 * staged documents) survives a crash right after it (see `MIGRATE_V3_TO_V4`).
 *
 * Version 5 adds `object_counts`: the number of objects per (type, status), maintained by every
 * commit, so the registry's size can be read in microseconds (see `MIGRATE_V4_TO_V5`).
 *
 * Version 6 stores records packed (record-codec.mjs: deflate against a preset dictionary, ~1/8 of
 * the JSON for a DocumentEntry) in `packed`, the renamed `record` (see `MIGRATE_V5_TO_V6`).
 *
 * Version 7 packs each DocumentEntry's LeafClass element with its record (record codec 2; codec 4
 * since v8), so that cold answers inflate it instead of writing it (see *v6 → v7* below).
 *
 * Version 8 packs records with Zstandard against the same dictionary (record codecs 3 and 4),
 * 1.5–2 × less CPU to pack and ~2 × less to read a DocumentEntry than deflate (see *v7 → v8*
 * below).
 */
import type Database from 'better-sqlite3';
import { packRecord } from './record-codec.mjs';

export const SCHEMA_VERSION = 8;

/** The v1 schema: still the first step of creating a file; exported so tests can make a v1 file. */
export const SCHEMA_V1 = `
CREATE TABLE objects (
  -- AUTOINCREMENT: a seq is never reused after a deletion, so seq order is insertion order.
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  entry_uuid TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  patient_id TEXT,
  status TEXT,
  unique_id TEXT,
  source_uuid TEXT,
  target_uuid TEXT,
  body TEXT NOT NULL
);
CREATE INDEX objects_type_patient_status ON objects (type, patient_id, status);
CREATE INDEX objects_unique_id ON objects (unique_id);
CREATE INDEX objects_source_uuid ON objects (source_uuid);
CREATE INDEX objects_target_uuid ON objects (target_uuid);

-- One row per referenceIdList value (a DocumentEntry may carry several).
CREATE TABLE reference_ids (
  value TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (value, seq)
) WITHOUT ROWID;
CREATE INDEX reference_ids_seq ON reference_ids (seq);
`;

/**
 * v1 → v2, also the second step of creating a new file (one path for both, so a migrated file
 * and a new one have the same schema).
 *
 * Every row a commit inserts, or whose record it replaces, gets a new value of the store-wide
 * counter `meta.rev` in its `rev`: the commit numbers its rows on from the counter and advances it
 * by as many, all in SQL in one transaction under the write lock (embedded-store.ts `commitPlan`,
 * run by the writer's worker thread). The counter
 * only grows and lives in the file, so (seq, rev) names one record for ever: seq is never reused
 * (AUTOINCREMENT), a replacement gets a new rev, a deletion and re-insertion a new seq and rev,
 * and a commit by another process on the same file moves the same counter. Rows of a v1 file keep
 * rev 0, which no commit gives again (numbers start at 1). One number per row rather than one per
 * commit, so that an object inserted and replaced in one batch is numbered like any other write.
 *
 * `body` becomes `record`: a v1 program still running on the file when another process migrates
 * it would write records without a new rev, and a reader would go on serving the body it cached
 * for the old rev. With the column renamed, its prepared statements no longer compile, so its
 * next read or write fails instead. (Check triggers would do the same for writers, but any
 * trigger on `objects` cost ~20 µs per written row, +40 % CPU for a 1,000-submission batch.)
 *
 * Both steps only change the schema (ADD COLUMN with a constant default, RENAME COLUMN): nothing
 * is rewritten, so migrating the 1M-entry file is instant. Exported so tests can make a v2 file.
 */
export const MIGRATE_V1_TO_V2 = `
ALTER TABLE objects RENAME COLUMN body TO record;
ALTER TABLE objects ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
CREATE TABLE meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  rev INTEGER NOT NULL
);
INSERT INTO meta (id, rev) VALUES (1, 0);
`;

/**
 * v2 → v3, also the third step of creating a new file. The candidate statement of a query by
 * patient (FindDocuments and its kind: type, patient_id and status pinned) reads (seq, rev) per
 * row, in seq order. With the index on (type, patient_id, status) alone, rev lives in the table
 * row after the ~2.5 KB JSON record, so every candidate cost a table b-tree lookup. The index on
 * (type, patient_id, status, seq, rev) covers the statement, and the explicit seq keeps rows of
 * equal (type, patient_id, status) in seq order, so nothing is sorted either: for the candidate
 * rows of 32 patients (~75 each) at 1M entries, 64 → 46 µs per query read as rows (47 rows: 39 →
 * 27 µs). It replaces the old index, which is its prefix: every lookup the old one served, the
 * new one serves, and an insert still writes one index row.
 *
 * The other indexes (entry_uuid, unique_id, source_uuid, target_uuid) stay as they are. Their
 * lookups return a handful of rows or none (ITI-42's checks of fresh entryUUIDs and uniqueIds
 * miss), and a row they find is usually one whose body is wanted too, or one of a hot set whose
 * table pages SQLite has cached: (unique_id, rev) measured the same for the bench's GetDocuments
 * working set (16.5 / 17.5 µs for 5 uniqueIds) and saved only on pages out of SQLite's cache
 * (32 → 16 µs), for another full index build in the migration and wider index rows.
 *
 * Unlike the steps before, this one builds an index over every row: 16 s (8 s CPU) for the
 * 1M-entry bench store (3.2M rows, 6.5 GB) on the development machine, under the write lock;
 * readers go on meanwhile (WAL). A program that knows only v2 keeps working on a migrated file
 * (its statements are recompiled against the new index, and v3 writes rows exactly as v2 did),
 * but refuses to open one.
 */
const MIGRATE_V2_TO_V3 = `
DROP INDEX objects_type_patient_status;
CREATE INDEX objects_type_patient_status_seq_rev ON objects (type, patient_id, status, seq, rev);
`;

/**
 * v3 → v4, also the fourth step of creating a new file: the commit outbox. It only holds the
 * records whose work is not yet confirmed done (a few rows, deleted with the next commit), so
 * reading a kind's records costs an index lookup of that kind, never a pass over the registry:
 * that is what lets start-up recovery and the orphan sweep find the staged documents owed a commit
 * without looking DocumentEntries up by hash (no index has it; at 200k entries that scan took
 * seconds and blocked every request). A new, empty table: instant on any file. A v3 program still
 * writing the file never sees the table and keeps working; it refuses to open the file again.
 */
const MIGRATE_V3_TO_V4 = `
-- A rowid table, not WITHOUT ROWID: an audit event's payload (1–3 KB) is far above the ~200 bytes
-- up to which SQLite recommends keeping rows in the primary key's b-tree.
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  witness TEXT NOT NULL
);
CREATE INDEX outbox_kind ON outbox (kind);
`;

/**
 * v4 → v5, also the fifth step of creating a new file: the object counts behind
 * `RegistryStore.objectCounts` (the registry-size metric). Counting on demand is no option: a
 * `count(*)` by type walks the (type, patient_id, status, …) index, ~3.2M rows at 1M entries, on
 * the event loop (better-sqlite3 reads synchronously) at every scrape. So each commit adjusts the
 * counts in its own transaction (embedded-store.ts `commitPlan`): inserts as one upsert per
 * (type, status) group of the batch, a replaced or deleted row by one upsert that reads the row's
 * current (type, status) before it changes. Every adjustment is an upsert of a delta, so their
 * order within a batch does not matter, and a rolled-back batch leaves the counts as they were.
 * No trigger: any trigger on `objects` costs ~20 µs per written row (see `MIGRATE_V1_TO_V2`).
 *
 * Status is never NULL in the counts (`''` stands for a row without one), so that (type, status)
 * can be the primary key. The migration counts the existing rows once, under the write lock: a
 * walk of the covering index, seconds at 1M entries. A v4 program still writing the file
 * meanwhile would not adjust the counts (it refuses to open a v5 file, but one already running
 * goes on): stop every process on a file before upgrading it, as the operations guide says.
 */
const MIGRATE_V4_TO_V5 = `
CREATE TABLE object_counts (
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (type, status)
) WITHOUT ROWID;
INSERT INTO object_counts (type, status, n) SELECT type, coalesce(status, ''), count(*) FROM objects GROUP BY 1, 2;
`;

/**
 * v5 → v6, also the sixth step of creating a new file: records are written packed
 * (record-codec.mjs), into the column `record` renamed to `packed`. Measured on the bench
 * generator's records, a DocumentEntry's record goes from 2,528 bytes of JSON to 328, a
 * SubmissionSet's from 1,053 to 192, an Association's from 413 to 100; with the rows that small,
 * the file is 3.3× smaller (1.93 against 6.4 KB per entry at 1M entries) and an average patient's
 * records (~37 entries) lie on ~11 pages instead of ~50, which is what a query of a patient whose
 * records are not in the page cache reads from disk: ~30 % less time waiting for it, measured
 * (BENCHMARKS.md, "Issue 19"). Writers pack on their own thread (the writer's worker thread,
 * sqlite-batch.mjs), so the main thread does not pay for compressing; readers unpack (~4 µs per
 * DocumentEntry, against ~10 µs for the JSON.parse that follows in any case).
 *
 * The column keeps both forms: TEXT is a record as v5 wrote it, a BLOB a packed one, and the reader
 * tells them apart by type. So the migration rewrites nothing (instant on any file): the rows of a
 * migrated file stay as they are until a commit replaces them, and are read as before; a file is
 * compacted by regenerating it, or by `packRows` (below), which rewrites rows in bounded transactions.
 * The rename is what keeps a v5 program still running on the file from reading packed records as
 * JSON, or writing JSON rows a v6 program would take for new ones: its statements name `record`,
 * no longer compile, and its next read or write fails (the reasoning of `MIGRATE_V1_TO_V2`).
 */
const MIGRATE_V5_TO_V6 = `
ALTER TABLE objects RENAME COLUMN record TO packed;
`;

/*
 * v6 → v7, also the seventh step of creating a new file: a DocumentEntry's record is packed
 * together with its stored LeafClass form (record-codec.mjs codec 2; registry/ebxml/write-objects.ts
 * `leafForm`), the `rim:ExtrinsicObject` element a LeafClass answer carries for it, written by
 * every commit that writes the entry's row, in the same value as its record: a status change
 * rewrites both. A cold FindDocuments answer inflates the form (~5 µs per entry) instead of
 * writing the element from the parsed record (~36 µs; BENCHMARKS.md, issue 19, eighth session),
 * for ~0.4 KB more per DocumentEntry on disk (the form after its record, whose values it repeats).
 * Other objects, and entries that came with a homeCommunityId of their own, stay codec 1 and are
 * written from their fields as before.
 *
 * Nothing in the file changes (instant on any file): rows written before stay codec 1 and are
 * answered as before until `writeForms` (backfill-forms.ts) packs them again with their forms. The
 * version is what keeps a v6 program from opening a file that may hold codec 2 records, which it
 * cannot read; one still running on the file when it is migrated fails on the first such record it
 * reads (unknown codec), and a record it writes is codec 1, without a form, never a stale one.
 */

/*
 * v7 → v8, also the eighth step of creating a new file: records are packed with Zstandard against
 * DICTIONARY_2 (record-codec.mjs codecs 3 and 4) instead of deflate (codecs 1 and 2), whose reset
 * per record sets the 20.6 KB dictionary again each time (the writer thread's largest cost while
 * the generator fills a store; measured in BENCHMARKS.md, issue 19, ninth session).
 *
 * Nothing in the file changes (instant on any file): rows written before keep codecs 1 and 2 and
 * are read as before; a commit that replaces a row writes codec 3 or 4. The version keeps a v7
 * program from opening a file that may hold codec 3 and 4 records, which it cannot read; one still
 * running on the file when it is migrated fails on the first such record it reads (unknown codec).
 */

/**
 * Rewrites up to `limit` rows still holding a v5 JSON record (TEXT) as packed ones, in one IMMEDIATE
 * transaction; returns how many it rewrote (0: none left). A rewritten row keeps its rev: the record
 * it holds is the same, only its stored form changed, so every reader's cached parse of it stays
 * valid. Run it in a loop, each call a short write (readers go on meanwhile), to compact a migrated
 * file in place; the freed pages are reused by later rows (VACUUM returns them to the file system).
 */
export function packRows(db: Database.Database, limit: number): number {
  return db
    .transaction(() => {
      const rows = db.prepare("SELECT seq, packed FROM objects WHERE typeof(packed) = 'text' LIMIT ?").raw().all(limit) as [number, string][];
      const update = db.prepare('UPDATE objects SET packed = ? WHERE seq = ?');
      for (const [seq, text] of rows) update.run(packRecord(text), seq);
      return rows.length;
    })
    .immediate();
}

/**
 * Sets the connection pragmas, creates the schema in a new file and migrates a file of any earlier version. WAL
 * lets readers run beside the writer; synchronous=FULL fsyncs the WAL on every commit, so an
 * acknowledged submission survives a power loss, as the design requires.
 */
export function prepareDatabase(db: Database.Database): void {
  if (db.name !== ':memory:') db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // Another process writing the same file holds the lock only for one commit: wait, don't fail.
  db.pragma('busy_timeout = 10000');
  if (schemaVersion(db) === SCHEMA_VERSION) return;
  // Checked again under the write lock: another process may have created the schema meanwhile.
  db.transaction(() => {
    const version = schemaVersion(db);
    if (version === SCHEMA_VERSION) return;
    if (!Number.isInteger(version) || version < 0 || version > SCHEMA_VERSION) {
      throw new Error(`registry database ${db.name} has schema version ${version}; this program knows ${SCHEMA_VERSION}`);
    }
    if (version === 0) db.exec(SCHEMA_V1);
    if (version <= 1) db.exec(MIGRATE_V1_TO_V2);
    if (version <= 2) db.exec(MIGRATE_V2_TO_V3);
    if (version <= 3) db.exec(MIGRATE_V3_TO_V4);
    if (version <= 4) db.exec(MIGRATE_V4_TO_V5);
    if (version <= 5) db.exec(MIGRATE_V5_TO_V6);
    // v6 → v7 and v7 → v8 change nothing in the file (see above): the version alone.
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}
