/**
 * The embedded registry store (the default, no server): better-sqlite3 holds the JSON records,
 * SQL indexes preselect candidates from the filter's index hints, and mingo evaluates the full
 * Mongo filter on them, so a filter means exactly what it means to the MongoDB store.
 *
 * better-sqlite3 is synchronous: each call runs to completion on the event loop, so commits from
 * one process never interleave, and readers see a batch either wholly or not at all. Other
 * processes on the same file are kept apart by SQLite's own locking (one writer, WAL readers).
 *
 * Reads go through a cache of parsed records (record-cache.ts): the candidate statement returns
 * only (seq, rev) per row, rows whose current rev is cached are not read or parsed again, and the
 * bodies of the others are fetched with one statement in the same read transaction, so a commit
 * of another process between the two statements cannot give an answer mixing two states. mingo
 * still evaluates the whole filter on every candidate record, exactly as without the cache.
 * Objects returned from the cache are shared between callers and deep-frozen (see `RegistryStore`).
 */
import Database from 'better-sqlite3';
import { Query } from 'mingo';
import type { RegistryObject } from '../../model/metadata';
import { toRecord, type StoredRecord } from '../record';
import {
  DuplicateEntryUuidError,
  UnknownEntryUuidError,
  type CommitBatch,
  type FindOptions,
  type RegistryFilter,
  type RegistryStore,
} from '../store';
import { deriveIndexHints, type IndexHints } from './index-hints';
import { DEFAULT_CACHE_ENTRIES, RecordCache, parseRecord, type CachedRecord } from './record-cache';
import { prepareDatabase } from './schema';

export interface EmbeddedStoreOptions {
  /** Database file path, or ':memory:' for a store that lives as long as the object. */
  readonly path: string;
  /**
   * Most parsed records kept in memory between reads (default `DEFAULT_CACHE_ENTRIES`, ~100 MB);
   * 0 reads and parses every returned row on every read.
   */
  readonly cacheEntries?: number;
}

/** Rows whose bodies one statement fetches: one round for a typical answer, bounded work per limit check. */
const FETCH_CHUNK = 256;

const ALL_TYPES: readonly RegistryObject['type'][] = ['DocumentEntry', 'SubmissionSet', 'Folder', 'Association'];

export function openEmbeddedStore(options: EmbeddedStoreOptions): RegistryStore {
  const db = new Database(options.path);
  try {
    prepareDatabase(db);
  } catch (e) {
    db.close();
    throw e;
  }
  return new EmbeddedRegistryStore(db, new RecordCache(options.cacheEntries ?? DEFAULT_CACHE_ENTRIES));
}

/** A candidate row: its seq and rev (see schema.ts), as a raw statement returns them. */
type Row = readonly [seq: number, rev: number];

/** A candidate query: SQL text (also the statement-cache key) and its parameters. */
interface CandidateQuery {
  readonly sql: string;
  readonly params: readonly string[];
}

class EmbeddedRegistryStore implements RegistryStore {
  private readonly statements = new Map<string, Database.Statement>();
  private readonly insertObject: Database.Statement;
  private readonly replaceObject: Database.Statement;
  private readonly deleteObject: Database.Statement;
  private readonly insertReferenceId: Database.Statement;
  private readonly deleteReferenceIds: Database.Statement;
  private readonly readRev: Database.Statement;
  private readonly writeRev: Database.Statement;
  private readonly applyBatch: Database.Transaction<(batch: CommitBatch) => void>;
  private readonly fetchBody: Database.Statement;
  private readonly fetchBodies: Database.Statement;
  private readonly rowsByUuids: Database.Statement;
  /** Runs a read in one (deferred, so shared) transaction: every statement in it sees one snapshot. */
  private readonly inReadTransaction: Database.Transaction<(read: () => void) => void>;

  constructor(
    private readonly db: Database.Database,
    private readonly cache: RecordCache,
  ) {
    this.insertObject = db.prepare(
      `INSERT INTO objects (entry_uuid, type, patient_id, status, unique_id, source_uuid, target_uuid, record, rev)
       VALUES (@entryUuid, @type, @patientId, @status, @uniqueId, @sourceUuid, @targetUuid, @record, @rev)`,
    );
    this.replaceObject = db.prepare(
      `UPDATE objects SET type = @type, patient_id = @patientId, status = @status, unique_id = @uniqueId,
         source_uuid = @sourceUuid, target_uuid = @targetUuid, record = @record, rev = @rev
       WHERE entry_uuid = @entryUuid RETURNING seq`,
    );
    this.deleteObject = db.prepare('DELETE FROM objects WHERE entry_uuid = ? RETURNING seq');
    this.insertReferenceId = db.prepare('INSERT OR IGNORE INTO reference_ids (value, seq) VALUES (?, ?)');
    this.deleteReferenceIds = db.prepare('DELETE FROM reference_ids WHERE seq = ?');
    this.readRev = db.prepare('SELECT rev FROM meta WHERE id = 1').pluck(true);
    this.writeRev = db.prepare('UPDATE meta SET rev = ? WHERE id = 1');
    this.applyBatch = db.transaction((batch: CommitBatch) => this.apply(batch));
    this.fetchBody = db.prepare('SELECT seq, rev, record FROM objects WHERE seq = ?').raw(true);
    this.fetchBodies = db.prepare('SELECT seq, rev, record FROM objects WHERE seq IN (SELECT value FROM json_each(?))').raw(true);
    this.rowsByUuids = db.prepare('SELECT seq, rev FROM objects WHERE entry_uuid IN (SELECT value FROM json_each(?))').raw(true);
    this.inReadTransaction = db.transaction((read: () => void) => read());
  }

  async find(filter: RegistryFilter, options: FindOptions = {}): Promise<RegistryObject[]> {
    const limit = options.limit ?? Infinity;
    const results: RegistryObject[] = [];
    if (limit <= 0) return results;
    this.matching(filter, (entry) => {
      results.push(entry.object);
      return results.length < limit;
    });
    return results;
  }

  async getByUuids(entryUuids: readonly string[]): Promise<RegistryObject[]> {
    if (entryUuids.length === 0) return [];
    const results: RegistryObject[] = [];
    this.inReadTransaction(() => {
      const rows = this.rowsByUuids.all(JSON.stringify([...new Set(entryUuids)])) as Row[];
      this.resolve(rows, (entry) => {
        results.push(entry.object);
        return true;
      });
    });
    return results;
  }

  async count(filter: RegistryFilter): Promise<number> {
    if (Object.keys(filter).length === 0) {
      return (this.statement('SELECT count(*) FROM objects').get() as [number])[0];
    }
    let n = 0;
    this.matching(filter, () => {
      n++;
      return true;
    });
    return n;
  }

  async commit(batch: CommitBatch): Promise<void> {
    // IMMEDIATE takes the write lock up front, so a second process never fails halfway through.
    this.applyBatch.immediate(batch);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /**
   * Calls `visit` with each record matching the filter, in insertion order, until it returns
   * false; bodies are fetched chunk by chunk, so a limit stops the reading early.
   */
  private matching(filter: RegistryFilter, visit: (entry: CachedRecord) => boolean): void {
    const candidates = candidateQuery(deriveIndexHints(filter));
    if (candidates === undefined) return;
    // mingo runs even where the SQL preselection alone might decide: for a ~47-entry FindDocuments
    // answer it costs ~0.06 ms (of ~0.15 ms for the whole find once the records are cached), and
    // those filters always name objectType, which no column holds, so the preselection never
    // implies them; an exactness proof per filter shape would buy little and risk a wrong answer.
    const query = new Query(filter);
    this.inReadTransaction(() => {
      const rows = this.statement(candidates.sql).all(...candidates.params) as Row[];
      this.resolve(rows, (entry) => !query.test(entry.record) || visit(entry));
    });
  }

  /**
   * The cached or freshly parsed record of each (seq, rev) row, in the rows' order, until `visit`
   * returns false. Must run in the read transaction that produced `rows`: the bodies fetched here
   * are then those of the same snapshot.
   */
  private resolve(rows: readonly Row[], visit: (entry: CachedRecord) => boolean): void {
    // A scan larger than the cache would only push the hot records out: use, but do not fill.
    const fill = this.cache.capacity > 0 && rows.length <= this.cache.capacity / 2;
    const chunk: (CachedRecord | undefined)[] = [];
    for (let start = 0; start < rows.length; start += FETCH_CHUNK) {
      const end = Math.min(rows.length, start + FETCH_CHUNK);
      chunk.length = 0;
      const missing: number[] = [];
      for (let i = start; i < end; i++) {
        const [seq, rev] = rows[i]!;
        const entry = this.cache.get(seq, rev);
        chunk.push(entry);
        if (entry === undefined) missing.push(seq);
      }
      if (missing.length > 0) {
        const fetched = new Map<number, CachedRecord>();
        const bodies = (missing.length === 1 ? this.fetchBody.all(missing[0]) : this.fetchBodies.all(JSON.stringify(missing))) as [
          number,
          number,
          string,
        ][];
        for (const [seq, rev, body] of bodies) {
          const entry = parseRecord(rev, body, fill);
          fetched.set(seq, entry);
          if (fill) this.cache.set(seq, entry);
        }
        for (let i = start; i < end; i++) {
          if (chunk[i - start] !== undefined) continue;
          const [seq, rev] = rows[i]!;
          const entry = fetched.get(seq);
          // Same transaction, same snapshot: the row cannot have changed or gone in between.
          if (entry === undefined || entry.rev !== rev) throw new Error(`registry row ${seq} changed inside a read transaction`);
          chunk[i - start] = entry;
        }
      }
      for (const entry of chunk) if (!visit(entry!)) return;
    }
  }

  /** Runs in the commit's IMMEDIATE transaction: the rev numbering below holds the write lock. */
  private apply(batch: CommitBatch): void {
    // Each written row takes the next rev (see schema.ts); the last one is stored back at the end.
    const firstRev = this.readRev.get() as number;
    let rev = firstRev;
    for (const obj of batch.inserts) {
      const record = toRecord(obj);
      let seq: number | bigint;
      try {
        seq = this.insertObject.run({ ...columns(record), rev: ++rev }).lastInsertRowid;
      } catch (e) {
        if (isUniqueViolation(e)) throw new DuplicateEntryUuidError(obj.entryUuid);
        throw e;
      }
      this.writeReferenceIds(record, seq);
    }
    for (const obj of batch.replacements) {
      const record = toRecord(obj);
      const row = this.replaceObject.get({ ...columns(record), rev: ++rev }) as { seq: number } | undefined;
      if (row === undefined) throw new UnknownEntryUuidError(obj.entryUuid);
      this.deleteReferenceIds.run(row.seq);
      this.writeReferenceIds(record, row.seq);
    }
    for (const entryUuid of batch.deletions ?? []) {
      const row = this.deleteObject.get(entryUuid) as { seq: number } | undefined;
      if (row === undefined) throw new UnknownEntryUuidError(entryUuid);
      this.deleteReferenceIds.run(row.seq);
    }
    if (rev !== firstRev) this.writeRev.run(rev);
  }

  private writeReferenceIds(record: StoredRecord, seq: number | bigint): void {
    if (record.type !== 'DocumentEntry') return;
    for (const value of record.referenceIdList ?? []) this.insertReferenceId.run(value, seq);
  }

  /** A cached candidate or count statement; rows come back as arrays (`Row` for candidates). */
  private statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql).raw(true);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }
}

/** The indexed column values of a record, as named parameters of the insert/update statements. */
function columns(record: StoredRecord): Record<string, string | null> {
  const isAssociation = record.type === 'Association';
  return {
    entryUuid: record.entryUuid,
    type: record.type,
    patientId: isAssociation ? null : (record.patientId ?? null),
    status: record.availabilityStatus ?? null,
    uniqueId: isAssociation ? null : (record.uniqueId ?? null),
    sourceUuid: isAssociation ? record.sourceUuid : null,
    targetUuid: isAssociation ? record.targetUuid : null,
    record: JSON.stringify(record),
  };
}

/**
 * The SQL that preselects candidate rows through one index, chosen by selectivity: entryUuid,
 * uniqueId, referenceIdList, sourceUuid, targetUuid, then (type, patientId, status), then type,
 * else a full scan. Undefined when a hint proves that nothing can match.
 */
export function candidateQuery(hints: IndexHints): CandidateQuery | undefined {
  if (Object.values(hints).some((values) => values.length === 0)) return undefined;
  const where: string[] = [];
  const params: string[] = [];
  const constrain = (column: string, values: readonly string[]): void => constrainInto(where, params, column, values);

  if (hints.entryUuid) constrain('entry_uuid', hints.entryUuid);
  else if (hints.uniqueId) constrain('unique_id', hints.uniqueId);
  else if (hints.referenceIdList) {
    const inner: string[] = [];
    constrainInto(inner, params, 'value', hints.referenceIdList);
    where.push(`seq IN (SELECT seq FROM reference_ids WHERE ${inner[0]})`);
  } else if (hints.sourceUuid) constrain('source_uuid', hints.sourceUuid);
  else if (hints.targetUuid) constrain('target_uuid', hints.targetUuid);
  else if (hints.patientId) {
    // Naming every type when the filter names none keeps the (type, patient_id, status) index usable.
    constrain('type', hints.type ?? ALL_TYPES);
    constrain('patient_id', hints.patientId);
    if (hints.availabilityStatus) constrain('status', hints.availabilityStatus);
  } else if (hints.type) {
    constrain('type', hints.type);
  }
  const clause = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  return { sql: `SELECT seq, rev FROM objects${clause} ORDER BY seq`, params };
}

/** Adds `column = ?` for one value, `column IN (json list)` for several (one statement shape for any count). */
function constrainInto(where: string[], params: string[], column: string, values: readonly string[]): void {
  if (values.length === 1) {
    where.push(`${column} = ?`);
    params.push(values[0]!);
  } else {
    where.push(`${column} IN (SELECT value FROM json_each(?))`);
    params.push(JSON.stringify(values));
  }
}

function isUniqueViolation(e: unknown): boolean {
  return e instanceof Error && (e as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}
