/**
 * The embedded registry store (the default, no server): better-sqlite3 holds the JSON records,
 * SQL indexes preselect candidates from the filter's index hints, and mingo evaluates the full
 * Mongo filter on them, so a filter means exactly what it means to the MongoDB store.
 *
 * better-sqlite3 is synchronous: each call runs to completion on the event loop, so commits from
 * one process never interleave, and readers see a batch either wholly or not at all. Other
 * processes on the same file are kept apart by SQLite's own locking (one writer, WAL readers).
 */
import Database from 'better-sqlite3';
import { Query } from 'mingo';
import type { RegistryObject } from '../../model/metadata';
import { fromRecord, toRecord, type StoredRecord } from '../record';
import {
  DuplicateEntryUuidError,
  UnknownEntryUuidError,
  type CommitBatch,
  type FindOptions,
  type RegistryFilter,
  type RegistryStore,
} from '../store';
import { deriveIndexHints, type IndexHints } from './index-hints';
import { prepareDatabase } from './schema';

export interface EmbeddedStoreOptions {
  /** Database file path, or ':memory:' for a store that lives as long as the object. */
  readonly path: string;
}

const ALL_TYPES: readonly RegistryObject['type'][] = ['DocumentEntry', 'SubmissionSet', 'Folder', 'Association'];

export function openEmbeddedStore(options: EmbeddedStoreOptions): RegistryStore {
  const db = new Database(options.path);
  try {
    prepareDatabase(db);
  } catch (e) {
    db.close();
    throw e;
  }
  return new EmbeddedRegistryStore(db);
}

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
  private readonly applyBatch: Database.Transaction<(batch: CommitBatch) => void>;

  constructor(private readonly db: Database.Database) {
    this.insertObject = db.prepare(
      `INSERT INTO objects (entry_uuid, type, patient_id, status, unique_id, source_uuid, target_uuid, body)
       VALUES (@entryUuid, @type, @patientId, @status, @uniqueId, @sourceUuid, @targetUuid, @body)`,
    );
    this.replaceObject = db.prepare(
      `UPDATE objects SET type = @type, patient_id = @patientId, status = @status, unique_id = @uniqueId,
         source_uuid = @sourceUuid, target_uuid = @targetUuid, body = @body
       WHERE entry_uuid = @entryUuid RETURNING seq`,
    );
    this.deleteObject = db.prepare('DELETE FROM objects WHERE entry_uuid = ? RETURNING seq');
    this.insertReferenceId = db.prepare('INSERT OR IGNORE INTO reference_ids (value, seq) VALUES (?, ?)');
    this.deleteReferenceIds = db.prepare('DELETE FROM reference_ids WHERE seq = ?');
    this.applyBatch = db.transaction((batch: CommitBatch) => this.apply(batch));
  }

  async find(filter: RegistryFilter, options: FindOptions = {}): Promise<RegistryObject[]> {
    const limit = options.limit ?? Infinity;
    const results: RegistryObject[] = [];
    if (limit <= 0) return results;
    for (const record of this.matching(filter)) {
      results.push(fromRecord(record));
      if (results.length >= limit) break;
    }
    return results;
  }

  async getByUuids(entryUuids: readonly string[]): Promise<RegistryObject[]> {
    if (entryUuids.length === 0) return [];
    const rows = this.statement('SELECT body FROM objects WHERE entry_uuid IN (SELECT value FROM json_each(?))').all(
      JSON.stringify([...new Set(entryUuids)]),
    ) as { body: string }[];
    return rows.map((row) => fromRecord(JSON.parse(row.body) as Record<string, unknown>));
  }

  async count(filter: RegistryFilter): Promise<number> {
    if (Object.keys(filter).length === 0) {
      return (this.statement('SELECT count(*) AS n FROM objects').get() as { n: number }).n;
    }
    let n = 0;
    for (const _ of this.matching(filter)) n++;
    return n;
  }

  async commit(batch: CommitBatch): Promise<void> {
    // IMMEDIATE takes the write lock up front, so a second process never fails halfway through.
    this.applyBatch.immediate(batch);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** Records matching the filter, in insertion order, parsed lazily so a limit stops early. */
  private *matching(filter: RegistryFilter): Generator<Record<string, unknown>> {
    const candidates = candidateQuery(deriveIndexHints(filter));
    if (candidates === undefined) return;
    const query = new Query(filter);
    const rows = this.statement(candidates.sql).iterate(...candidates.params) as IterableIterator<{ body: string }>;
    for (const row of rows) {
      const record = JSON.parse(row.body) as Record<string, unknown>;
      if (query.test(record)) yield record;
    }
  }

  private apply(batch: CommitBatch): void {
    for (const obj of batch.inserts) {
      const record = toRecord(obj);
      let seq: number | bigint;
      try {
        seq = this.insertObject.run(columns(record)).lastInsertRowid;
      } catch (e) {
        if (isUniqueViolation(e)) throw new DuplicateEntryUuidError(obj.entryUuid);
        throw e;
      }
      this.writeReferenceIds(record, seq);
    }
    for (const obj of batch.replacements) {
      const record = toRecord(obj);
      const row = this.replaceObject.get(columns(record)) as { seq: number } | undefined;
      if (row === undefined) throw new UnknownEntryUuidError(obj.entryUuid);
      this.deleteReferenceIds.run(row.seq);
      this.writeReferenceIds(record, row.seq);
    }
    for (const entryUuid of batch.deletions ?? []) {
      const row = this.deleteObject.get(entryUuid) as { seq: number } | undefined;
      if (row === undefined) throw new UnknownEntryUuidError(entryUuid);
      this.deleteReferenceIds.run(row.seq);
    }
  }

  private writeReferenceIds(record: StoredRecord, seq: number | bigint): void {
    if (record.type !== 'DocumentEntry') return;
    for (const value of record.referenceIdList ?? []) this.insertReferenceId.run(value, seq);
  }

  private statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
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
    body: JSON.stringify(record),
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
  return { sql: `SELECT body FROM objects${clause} ORDER BY seq`, params };
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
