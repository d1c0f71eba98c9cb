/**
 * The embedded registry store (the default, no server): better-sqlite3 holds the JSON records,
 * SQL indexes preselect candidates from the filter's index hints, and mingo evaluates the full
 * Mongo filter on them, so a filter means exactly what it means to the MongoDB store.
 *
 * better-sqlite3 is synchronous, and a commit with synchronous=FULL waits for its fsync (1.6–4.5 ms
 * measured here), so commits do not run on the caller's thread: `commit` builds the batch's SQL
 * statements here and a `SqliteWriter` (sqlite-writer.ts) runs them as one IMMEDIATE transaction
 * on its worker thread's own write connection, while the event loop serves other requests. The
 * statements need nothing read back on this thread (revs, seqs and reference ids are computed in
 * SQL, see `commitPlan`), and failures come back as the failing statement's index, which maps to
 * the object that caused them. Batches are committed in the order `commit` was called; readers see
 * a batch either wholly or not at all (WAL), and once `commit` resolves every read on this
 * connection sees it. Other processes on the same file are kept apart by SQLite's own locking
 * (one writer, WAL readers). A ':memory:' store, which no second thread can open, runs the same
 * statements on its own connection (`inlineSqliteWriter`).
 *
 * Reads go through a cache of parsed records (record-cache.ts): the candidate statement returns
 * only (seq, rev) per row (all of them in one value, see `ROWS`), rows whose current rev is
 * cached are not read or parsed again, and the bodies of the others are fetched with one
 * statement in the same read transaction, so a commit of another process between the two
 * statements cannot give an answer mixing two states. The whole filter is still evaluated on
 * every candidate record, exactly as without the cache: by mingo, or by an equivalent compiled
 * test for filters made of string comparisons (simple-filter.ts). Objects returned from the cache
 * are shared between callers and deep-frozen (see `RegistryStore`); a row enters the cache on its
 * second miss (`RecordCache.admits`), and is parsed for the one read before that.
 */
import Database from 'better-sqlite3';
import type { AvailabilityStatus, RegistryObject, RegistryObjectType } from '../../model/metadata.js';
import { recordText } from '../record.js';
import { attachStoredForm } from '../stored-forms.js';
import {
  DuplicateEntryUuidError,
  UnknownEntryUuidError,
  type CommitBatch,
  type CommitOutbox,
  type FindOptions,
  type ObjectCount,
  type OutboxRecord,
  type RegistryFilter,
  type RegistryStore,
} from '../store.js';
import { deriveAlternativeHints, deriveIndexHints, type IndexHints } from './index-hints.js';
import { DEFAULT_CACHE_ENTRIES, RecordCache, parseRecord, type CachedRecord } from './record-cache.js';
import { hasStoredForm } from './record-codec.mjs';
import { prepareDatabase } from './schema.js';
import { compileFilter } from './simple-filter.js';
import { EXPECTED_CHANGES, SqliteWriteError, SqliteWriter, inlineSqliteWriter, type BatchWriter, type SqlStatement } from './sqlite-writer.js';

export interface EmbeddedStoreOptions {
  /** Database file path, or ':memory:' for a store that lives as long as the object. */
  readonly path: string;
  /**
   * Most parsed records kept in memory between reads (default `DEFAULT_CACHE_ENTRIES`, ~100 MB);
   * 0 reads and parses every returned row on every read.
   */
  readonly cacheEntries?: number;
  /**
   * The answer form to keep with an object's record (schema v7), or undefined for none:
   * registry/ebxml/write-objects.ts `leafForm`, which `openRegistryStore` passes. The store only
   * packs it and hands it back with the object (`attachStoredForm`); without this option it keeps
   * none.
   */
  readonly formOf?: (object: RegistryObject) => Uint8Array | undefined;
}

const noForm = (): undefined => undefined;

/** Rows whose bodies one statement fetches: one round for a typical answer, bounded work per limit check. */
const FETCH_CHUNK = 256;
/** Candidate (seq, rev) rows read per page of a scan (`CandidateQuery.paged`): bounded memory over a large registry. */
const CANDIDATE_PAGE = 4096;

const ALL_TYPES: readonly RegistryObject['type'][] = ['DocumentEntry', 'SubmissionSet', 'Folder', 'Association'];

/**
 * How long finished outbox records wait for a commit to take their deletion along before they are
 * deleted on their own. Under load every group commit takes them (no fsync of their own); idle, one
 * small write a second at most.
 */
const OUTBOX_DELETE_DELAY_MS = 1000;

export function openEmbeddedStore(options: EmbeddedStoreOptions): RegistryStore {
  const db = new Database(options.path);
  try {
    // Schema creation and migration on this connection, before the writer exists: it only ever writes rows.
    prepareDatabase(db);
  } catch (e) {
    db.close();
    throw e;
  }
  const writer = options.path === ':memory:' ? inlineSqliteWriter(db) : new SqliteWriter(options.path);
  return new EmbeddedRegistryStore(db, writer, new RecordCache(options.cacheEntries ?? DEFAULT_CACHE_ENTRIES), options.formOf ?? noForm);
}

/** Candidate rows, the i-th row's seq and rev (see schema.ts) at index i, in the statement's order. */
export interface Rows {
  readonly seqs: readonly number[];
  readonly revs: readonly number[];
}

/**
 * A candidate query: SQL text (also the statement-cache key) and its parameters. The statement
 * returns the candidate rows as one value (`ROWS`), in no promised order (`inSeqOrder`).
 */
interface CandidateQuery {
  readonly sql: string;
  readonly params: readonly string[];
  /**
   * A scan by type alone or of everything, which can hold most of the registry: read in keyset
   * pages, the caller appending the seq to read after and the page size. Selective queries (by
   * id, patient, reference) are read whole: their `LIMIT` would cost ~10 µs per query (measured,
   * ~45-row FindDocuments: 36 → 46 µs) for nothing.
   */
  readonly paged: boolean;
}

class EmbeddedRegistryStore implements RegistryStore {
  private readonly statements = new Map<string, Database.Statement>();
  private readonly fetchBody: Database.Statement;
  private readonly fetchBodies: Database.Statement;
  /** (seq, rev) of the rows of a JSON list of entryUuids, in one value (`ROWS`). */
  private readonly rowsByUuids: Database.Statement;
  /** Runs a read in one (deferred, so shared) transaction: every statement in it sees one snapshot. */
  private readonly inReadTransaction: Database.Transaction<(read: () => void) => void>;
  private readonly outboxOfKind: Database.Statement;
  private readonly outboxIds: Database.Statement;
  private readonly objectCountRows: Database.Statement;
  /**
   * Outbox records this store's own commits wrote and no write has deleted yet: confirming one of
   * them needs no lookup (a lookup per registration was ~1 % of the main thread under ITI-42, and
   * 1–2 % under ITI-41). Records from before a restart, or written by another process's store,
   * are looked up (`unchecked`).
   */
  private readonly committedHere = new Set<string>();
  /**
   * Ids confirmed done that this store did not see committed, not yet looked up: one lookup for
   * every such id confirmed in a turn of the event loop.
   */
  private unchecked = new Set<string>();
  /** Outbox records whose work is done and whose deletion no write has taken yet. */
  private finished = new Set<string>();
  /** Finished records whose deletion is in a write on its way (not pending, not yet deleted). */
  private readonly finishing = new Set<string>();
  private finishTimer: NodeJS.Timeout | undefined;
  readonly outbox: CommitOutbox;
  /** Texts of objects a commit is about to write, made ahead by `prepare`. */
  private readonly prepared = new WeakMap<RegistryObject, StoredTexts>();

  constructor(
    private readonly db: Database.Database,
    private readonly writer: BatchWriter,
    private readonly cache: RecordCache,
    private readonly formOf: (object: RegistryObject) => Uint8Array | undefined,
  ) {
    this.outboxOfKind = db.prepare('SELECT id, kind, payload, witness FROM outbox WHERE kind = ?');
    this.objectCountRows = db.prepare(OBJECT_COUNTS);
    this.outboxIds = db.prepare('SELECT id FROM outbox WHERE id IN (SELECT value FROM json_each(?))').pluck(true);
    this.outbox = {
      pending: async (kind) =>
        (this.outboxOfKind.all(kind) as OutboxRecord[]).filter((r) => !this.unchecked.has(r.id) && !this.finished.has(r.id) && !this.finishing.has(r.id)),
      done: (ids) => this.finish(ids),
    };
    this.fetchBody = db.prepare('SELECT seq, rev, packed FROM objects WHERE seq = ?').raw(true);
    this.fetchBodies = db.prepare('SELECT seq, rev, packed FROM objects WHERE seq IN (SELECT value FROM json_each(?))').raw(true);
    this.rowsByUuids = db.prepare(`SELECT ${ROWS} FROM objects WHERE entry_uuid IN (SELECT value FROM json_each(?))`).pluck(true);
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
      // In no particular order (the contract's), so the rows are taken as they come.
      const rows = parseRows(this.rowsByUuids.get(JSON.stringify([...new Set(entryUuids)])));
      this.resolve(rows, (entry) => {
        results.push(entry.object);
        return true;
      });
    });
    return results;
  }

  async count(filter: RegistryFilter): Promise<number> {
    if (Object.keys(filter).length === 0) {
      return this.statement('SELECT count(*) FROM objects').get() as number;
    }
    let n = 0;
    this.matching(filter, () => {
      n++;
      return true;
    });
    return n;
  }

  async objectCounts(): Promise<ObjectCount[]> {
    const rows = this.objectCountRows.all() as { type: RegistryObjectType; status: string; n: number }[];
    return rows.map((r) => ({ type: r.type, availabilityStatus: r.status as AvailabilityStatus, count: r.n }));
  }

  prepare(objects: readonly RegistryObject[]): void {
    for (const obj of objects) if (!this.prepared.has(obj)) this.prepared.set(obj, this.written(obj));
  }

  /** What a commit writes of an object: prepared ahead (taken once), or made now. */
  private textsOf(obj: RegistryObject): StoredTexts {
    const prepared = this.prepared.get(obj);
    if (prepared === undefined) return this.written(obj);
    this.prepared.delete(obj);
    return prepared;
  }

  private written(obj: RegistryObject): StoredTexts {
    return { record: recordText(obj), form: this.formOf(obj) ?? null };
  }

  async commit(batch: CommitBatch): Promise<void> {
    // Finished outbox records are deleted by this commit's transaction: no write of their own.
    const finished = this.takeFinished();
    const { written, subjects } = this.send(commitPlan(batch, (obj) => this.textsOf(obj), finished));
    if (written === undefined) return;
    try {
      await written;
      for (const r of batch.outbox ?? []) this.committedHere.add(r.id);
      this.settleFinished(finished, true);
    } catch (e) {
      this.settleFinished(finished, false);
      throw contractError(e, subjects) ?? e;
    }
  }

  /**
   * Hands the plan's statements to the writer; what the commit keeps while it waits is only the
   * subjects. The statements hold every record's text (~4.5 KB per generated entry), which the
   * writer has already been sent a copy of: kept alive across the wait, they outlived young-
   * generation collections and were copied and promoted (the generator's GC, BENCHMARKS.md issue 19,
   * fifth session).
   */
  private send(plan: CommitPlan): { written: Promise<number[]> | undefined; subjects: CommitPlan['subjects'] } {
    return { written: plan.statements.length === 0 ? undefined : this.writer.run(plan.statements), subjects: plan.subjects };
  }

  async close(): Promise<void> {
    clearTimeout(this.finishTimer);
    // What is finished is deleted now if it can be; if not, the records come back at the next
    // start and their (idempotent) work is done again.
    const finished = this.takeFinished();
    if (finished.length > 0) await this.writer.run([deleteOutbox(finished)]).catch(() => undefined);
    // The writer first: a commit still in flight finishes (or fails) before the store is gone.
    await this.writer.close();
    if (this.db.open) this.db.close();
  }

  /** Marks outbox records done: their deletion goes with the next commit, or on its own after a delay. */
  private finish(ids: readonly string[]): void {
    if (ids.length === 0) return;
    const first = this.unchecked.size === 0;
    let known = false;
    for (const id of ids) {
      // Committed here and not deleted since: it is there (done is called after its commit resolved).
      if (this.committedHere.has(id)) {
        this.finished.add(id);
        known = true;
      } else this.unchecked.add(id);
    }
    if (known) this.armFinishTimer();
    if (first && this.unchecked.size > 0) setImmediate(() => this.checkFinished());
  }

  /** Moves the confirmed ids that are in the outbox to `finished`, and arms the timer that deletes them. */
  private checkFinished(): void {
    if (this.unchecked.size === 0 || !this.db.open) return;
    const ids = [...this.unchecked];
    this.unchecked = new Set();
    // Only ids that are there: a caller may confirm work no commit of this store recorded (an ITI-41
    // event when the registry is remote), which must not cost a write. Done is called after the
    // record's commit resolved, so this connection sees every record there is.
    const present = this.outboxIds.all(JSON.stringify(ids)) as string[];
    for (const id of present) this.finished.add(id);
    this.armFinishTimer();
  }

  /** Deletes the finished records after a delay, unless a commit takes them along first. */
  private armFinishTimer(): void {
    if (this.finished.size === 0 || this.finishTimer !== undefined) return;
    this.finishTimer = setTimeout(() => {
      this.finishTimer = undefined;
      const finished = this.takeFinished();
      if (finished.length === 0) return;
      this.writer.run([deleteOutbox(finished)]).then(
        () => this.settleFinished(finished, true),
        () => this.settleFinished(finished, false),
      );
    }, OUTBOX_DELETE_DELAY_MS);
    this.finishTimer.unref();
  }

  private takeFinished(): string[] {
    // Ids confirmed in this turn go with this write too.
    this.checkFinished();
    if (this.finished.size === 0) return [];
    const ids = [...this.finished];
    this.finished = new Set();
    for (const id of ids) this.finishing.add(id);
    return ids;
  }

  /** A write that carried these deletions ended; when it failed they wait for the next one. */
  private settleFinished(ids: readonly string[], deleted: boolean): void {
    for (const id of ids) this.finishing.delete(id);
    if (deleted) for (const id of ids) this.committedHere.delete(id);
    if (!deleted && ids.length > 0) this.finish(ids);
  }

  /**
   * Calls `visit` with each record matching the filter, in insertion order, until it returns
   * false; bodies are fetched chunk by chunk, so a limit stops the reading early.
   */
  private matching(filter: RegistryFilter, visit: (entry: CachedRecord) => boolean): void {
    const candidates = candidateQueryFor(filter);
    if (candidates === undefined) return;
    // The filter is tested on every candidate, also the conditions the SQL has already applied:
    // a column equal to a string does not prove the record's field equal to it (a record whose
    // patientId were the number 5 has the TEXT column '5.0'; associations have NULL patient_id
    // and unique_id, see `columns`), and a compiled string test costs a few comparisons per
    // record. FindDocuments-like filters name objectType, which no column holds anyway.
    const test = compileFilter(filter);
    const page = this.statement(candidates.sql);
    this.inReadTransaction(() => {
      if (!candidates.paged) {
        this.resolve(inSeqOrder(parseRows(page.get(...candidates.params))), (entry) => !test(entry.record) || visit(entry));
        return;
      }
      // Keyset pages (seq after the last one seen), all in one read transaction: one snapshot.
      let after = 0;
      for (let first = true; ; first = false) {
        const rows = inSeqOrder(parseRows(page.get(...candidates.params, after, CANDIDATE_PAGE)));
        const n = rows.seqs.length;
        const whole = first && n < CANDIDATE_PAGE;
        let more = true;
        this.resolve(rows, (entry) => !test(entry.record) || (more = visit(entry)), whole);
        if (!more || n < CANDIDATE_PAGE) return;
        after = rows.seqs[n - 1]!;
      }
    });
  }

  /**
   * The cached or freshly parsed record of each (seq, rev) row, in the rows' order, until `visit`
   * returns false. Must run in the read transaction that produced `rows`: the bodies fetched here
   * are then those of the same snapshot.
   */
  private resolve(rows: Rows, visit: (entry: CachedRecord) => boolean, whole = true): void {
    const { seqs, revs } = rows;
    // A scan larger than the cache (or than one candidate page: its size is not known) would only
    // push the hot records out: use, but do not fill.
    const fill = whole && this.cache.capacity > 0 && seqs.length <= this.cache.capacity / 2;
    const chunk: (CachedRecord | undefined)[] = [];
    for (let start = 0; start < seqs.length; start += FETCH_CHUNK) {
      const end = Math.min(seqs.length, start + FETCH_CHUNK);
      chunk.length = 0;
      const missing: number[] = [];
      for (let i = start; i < end; i++) {
        const seq = seqs[i]!;
        const entry = this.cache.get(seq, revs[i]!);
        chunk.push(entry);
        if (entry === undefined) missing.push(seq);
      }
      if (missing.length > 0) {
        const fetched = new Map<number, CachedRecord>();
        const bodies = (missing.length === 1 ? this.fetchBody.all(missing[0]) : this.fetchBodies.all(JSON.stringify(missing))) as [
          number,
          number,
          string | Buffer,
        ][];
        for (const [seq, rev, body] of bodies) {
          const admit = fill && this.cache.admits(seq);
          const entry = parseRecord(rev, body, admit);
          // The object keeps its body packed until an answer writes its form: a cached one once
          // (the answer's fragment is remembered for a shared object), one read for this answer
          // straight into the answer's memory (write-objects.ts `registryObjectNode`).
          if (hasStoredForm(body)) attachStoredForm(entry.object, body as Buffer);
          fetched.set(seq, entry);
          if (admit) this.cache.set(seq, entry);
        }
        for (let i = start; i < end; i++) {
          if (chunk[i - start] !== undefined) continue;
          const seq = seqs[i]!;
          const entry = fetched.get(seq);
          // Same transaction, same snapshot: the row cannot have changed or gone in between.
          if (entry === undefined || entry.rev !== revs[i]) throw new Error(`registry row ${seq} changed inside a read transaction`);
          chunk[i - start] = entry;
        }
      }
      for (const entry of chunk) if (!visit(entry!)) return;
    }
  }

  /** A cached candidate (`ROWS`) or count statement: one row of one value, which `get` returns. */
  private statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql).pluck(true);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }
}

/** An object's record text and its stored form's text (null: none), as a commit writes them. */
interface StoredTexts {
  readonly record: string;
  readonly form: Uint8Array | null;
}

/** What a statement of a commit plan does to which object: the error its failure means. */
type Subject = { readonly entryUuid: string; readonly op: 'insert' | 'replace' | 'delete' };

/** A batch's statements, and per statement the object whose failure it would report. */
interface CommitPlan {
  readonly statements: SqlStatement[];
  readonly subjects: (Subject | undefined)[];
}

/** The current counter (see schema.ts); read inside the writer's IMMEDIATE transaction, under the write lock. */
const CURRENT_REV = '(SELECT rev FROM meta WHERE id = 1)';
const SEQ_OF = '(SELECT seq FROM objects WHERE entry_uuid = ?)';

/**
 * The writer packs the record's text, and with it the object's stored LeafClass form if it has one,
 * on its own thread (a statement's `pack`, sqlite-batch.mjs; record-codec.mjs; schema.ts v6–v8):
 * one value, so no row holds the form of another version of its object.
 */
const INSERT_OBJECT = `INSERT INTO objects (entry_uuid, type, patient_id, status, unique_id, source_uuid, target_uuid, packed, rev)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ${CURRENT_REV} + ?)`;
const REPLACE_OBJECT = `UPDATE objects SET type = ?, patient_id = ?, status = ?, unique_id = ?, source_uuid = ?, target_uuid = ?,
  packed = ?, rev = ${CURRENT_REV} + ? WHERE entry_uuid = ?`;
/** Where INSERT_OBJECT's and REPLACE_OBJECT's parameters hold the record's text and form, which the writer packs into `packed`. */
const INSERT_PACK = 7;
const REPLACE_PACK = 6;
const DELETE_OBJECT = 'DELETE FROM objects WHERE entry_uuid = ?';
const INSERT_REFERENCE_IDS = `INSERT OR IGNORE INTO reference_ids (value, seq) SELECT value, ${SEQ_OF} FROM json_each(?)`;
const DELETE_REFERENCE_IDS = `DELETE FROM reference_ids WHERE seq = ${SEQ_OF}`;
const ADVANCE_REV = 'UPDATE meta SET rev = rev + ? WHERE id = 1';
const INSERT_OUTBOX = 'INSERT OR REPLACE INTO outbox (id, kind, payload, witness) VALUES (?, ?, ?, ?)';
const DELETE_OUTBOX = 'DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?))';
/** Adds a delta to one (type, status) count (see schema.ts `MIGRATE_V4_TO_V5`). */
const ADJUST_COUNT = `INSERT INTO object_counts (type, status, n) VALUES (?, ?, ?)
  ON CONFLICT (type, status) DO UPDATE SET n = n + excluded.n`;
/**
 * Takes one from the count of a row's current (type, status), read before the row is replaced or
 * deleted. An unknown entryUuid selects nothing and changes no count; its replacement or deletion
 * then fails `expectChanges` and the batch rolls back anyway. (`WHERE` before `ON CONFLICT`: SQLite
 * needs it to parse an upsert over a SELECT.)
 */
const UNCOUNT_ROW = `INSERT INTO object_counts (type, status, n) SELECT type, coalesce(status, ''), -1 FROM objects WHERE entry_uuid = ?
  ON CONFLICT (type, status) DO UPDATE SET n = n + excluded.n`;
const OBJECT_COUNTS = 'SELECT type, status, n FROM object_counts WHERE n <> 0';

function deleteOutbox(ids: readonly string[]): SqlStatement {
  return { sql: DELETE_OUTBOX, params: [JSON.stringify(ids)] };
}

/**
 * The statements that apply a batch: inserts, then replacements, then deletions, in the batch's
 * order. Each written row takes the next rev (see schema.ts): the k-th written row of the batch
 * gets the counter plus k, and the last statement advances the counter by the number of rows
 * written; the whole batch runs in one IMMEDIATE transaction, so no other commit moves the counter
 * in between. A replacement or deletion must change exactly one row (`expectChanges`), else the
 * entryUuid is unknown and the batch rolls back; a repeated entryUuid fails its INSERT on the
 * UNIQUE column. Reference ids are written by entryUuid, so no seq needs to be read back here.
 * The batch's outbox records go into the same transaction; `finished` outbox records are deleted
 * first (a finished id is never written again, but a new record must not be deleted with it).
 * The object counts follow in the same transaction: a replaced or deleted row is uncounted from
 * what it holds before the change, and the written objects' (type, status) groups are counted up
 * in one statement per group at the end (deltas, so the order does not matter).
 */
function commitPlan(batch: CommitBatch, textsOf: (object: RegistryObject) => StoredTexts, finished: readonly string[] = []): CommitPlan {
  const statements: SqlStatement[] = [];
  const subjects: (Subject | undefined)[] = [];
  const add = (statement: SqlStatement, subject?: Subject): void => {
    statements.push(statement);
    subjects.push(subject);
  };
  if (finished.length > 0) add(deleteOutbox(finished));
  let written = 0;
  const counted = new Map<string, { type: string; status: string; n: number }>();
  const count = (c: { type: string; status: string | null }): void => {
    const status = c.status ?? '';
    const key = `${c.type}\n${status}`;
    const group = counted.get(key);
    if (group === undefined) counted.set(key, { type: c.type, status, n: 1 });
    else group.n++;
  };
  for (const obj of batch.inserts) {
    const c = columns(obj, textsOf(obj));
    count(c);
    add(
      {
        sql: INSERT_OBJECT,
        params: [obj.entryUuid, c.type, c.patientId, c.status, c.uniqueId, c.sourceUuid, c.targetUuid, c.record, c.form, ++written],
        pack: INSERT_PACK,
      },
      { entryUuid: obj.entryUuid, op: 'insert' },
    );
    addReferenceIds(add, obj);
  }
  for (const obj of batch.replacements) {
    const c = columns(obj, textsOf(obj));
    add({ sql: UNCOUNT_ROW, params: [obj.entryUuid] });
    count(c);
    add(
      {
        sql: REPLACE_OBJECT,
        params: [c.type, c.patientId, c.status, c.uniqueId, c.sourceUuid, c.targetUuid, c.record, c.form, ++written, obj.entryUuid],
        pack: REPLACE_PACK,
        expectChanges: 1,
      },
      { entryUuid: obj.entryUuid, op: 'replace' },
    );
    add({ sql: DELETE_REFERENCE_IDS, params: [obj.entryUuid] });
    addReferenceIds(add, obj);
  }
  for (const entryUuid of batch.deletions ?? []) {
    add({ sql: DELETE_REFERENCE_IDS, params: [entryUuid] });
    add({ sql: UNCOUNT_ROW, params: [entryUuid] });
    add({ sql: DELETE_OBJECT, params: [entryUuid], expectChanges: 1 }, { entryUuid, op: 'delete' });
  }
  if (written > 0) add({ sql: ADVANCE_REV, params: [written], expectChanges: 1 });
  for (const g of counted.values()) add({ sql: ADJUST_COUNT, params: [g.type, g.status, g.n] });
  for (const r of batch.outbox ?? []) add({ sql: INSERT_OUTBOX, params: [r.id, r.kind, r.payload, r.witness] });
  return { statements, subjects };
}

function addReferenceIds(add: (statement: SqlStatement) => void, obj: RegistryObject): void {
  if (obj.type !== 'DocumentEntry' || !obj.referenceIdList?.length) return;
  add({ sql: INSERT_REFERENCE_IDS, params: [obj.entryUuid, JSON.stringify(obj.referenceIdList)] });
}

/**
 * The store contract's error for a failed batch, from the statement the writer names: a UNIQUE
 * violation of an object's INSERT is a duplicate entryUuid, a replacement or deletion that
 * changed no row an unknown one. Anything else (I/O, a busy lock past the timeout) is not the
 * caller's doing and is passed on as it is.
 */
function contractError(e: unknown, subjects: CommitPlan['subjects']): Error | undefined {
  if (!(e instanceof SqliteWriteError) || e.index === undefined) return undefined;
  const subject = subjects[e.index];
  if (subject === undefined) return undefined;
  if (subject.op === 'insert' && e.code === 'SQLITE_CONSTRAINT_UNIQUE') return new DuplicateEntryUuidError(subject.entryUuid);
  if (subject.op !== 'insert' && e.code === EXPECTED_CHANGES) return new UnknownEntryUuidError(subject.entryUuid);
  return undefined;
}

/**
 * The indexed column values of an object's record, as the insert/update statements bind them. Read
 * from the object itself: its record (`recordText`) holds the same strings. `form`: its stored
 * LeafClass form's text, if it has one.
 */
function columns(
  obj: RegistryObject,
  texts: StoredTexts,
): {
  type: string;
  patientId: string | null;
  status: string | null;
  uniqueId: string | null;
  sourceUuid: string | null;
  targetUuid: string | null;
  record: string;
  form: Uint8Array | null;
} {
  const isAssociation = obj.type === 'Association';
  return {
    type: obj.type,
    patientId: isAssociation ? null : (obj.patientId ?? null),
    status: obj.availabilityStatus ?? null,
    uniqueId: isAssociation ? null : (obj.uniqueId ?? null),
    sourceUuid: isAssociation ? obj.sourceUuid : null,
    targetUuid: isAssociation ? obj.targetUuid : null,
    record: texts.record,
    form: texts.form,
  };
}

/**
 * The rows of a statement over `objects` as one value, `[[seq, …], [rev, …]]` (`[[], []]` for
 * none), which `parseRows` reads with one JSON.parse. better-sqlite3 builds a JS array per
 * returned row (~0.4 µs each): the candidate query of a ~75-entry FindDocuments at 1M entries
 * (covering index, see schema.ts) cost 46 µs read as rows, 25 µs as one value, parse included.
 * The rows come in the order SQLite reads them, which is seq order on the covering index when
 * type, patient and status are pinned, and may be another otherwise; `inSeqOrder` restores it
 * (an `ORDER BY seq` would make SQLite sort in a subquery: +3.5 µs for the same query, where the
 * JS check is one comparison per row).
 */
const ROWS = 'json_array(json_group_array(seq), json_group_array(rev))';

/**
 * The statement that preselects candidate rows for these hints, through one index
 * (`candidateConditions`); undefined when a hint proves that nothing can match.
 */
export function candidateQuery(hints: IndexHints): CandidateQuery | undefined {
  const c = candidateConditions(hints);
  return c === undefined ? undefined : queryOf(c);
}

/** The statement of one set of conditions; a paged one's page is chosen in SQL (`ORDER BY seq` in a subquery). */
function queryOf(c: Conditions): CandidateQuery {
  if (c.paged) return { sql: `SELECT ${ROWS} FROM (SELECT seq, rev FROM objects WHERE ${c.where} ORDER BY seq LIMIT ?)`, params: c.params, paged: true };
  return { sql: `SELECT ${ROWS} FROM objects WHERE ${c.where}`, params: c.params, paged: false };
}

/**
 * The candidate query of a filter: that of its hints (`deriveIndexHints`), unless those only give a
 * scan and its top-level `$or` gives alternatives that each go through an index
 * (`deriveAlternativeHints`): then the union of the alternatives' rows. Without it, the registry's
 * write overlay, which asks `{ $or: [filter, { entryUuid: { $in: … } }] }` when a replacement
 * pending in the group may newly match, read every row of the registry (1.8 s at 10,000 entries,
 * hours at 10 million) while the group's writes waited.
 */
export function candidateQueryFor(filter: RegistryFilter): CandidateQuery | undefined {
  const plain = candidateQuery(deriveIndexHints(filter));
  if (plain === undefined || !plain.paged) return plain;
  const alternatives = deriveAlternativeHints(filter);
  if (alternatives === undefined) return plain;
  const selective: Conditions[] = [];
  for (const hints of alternatives) {
    const c = candidateConditions(hints);
    if (c === undefined) continue; // this alternative matches nothing
    if (c.paged) return plain;
    selective.push(c);
  }
  if (selective.length === 0) return undefined;
  if (selective.length === 1) return queryOf(selective[0]!);
  // UNION, not UNION ALL: a row two alternatives select is one candidate.
  const union = selective.map((c) => `SELECT seq, rev FROM objects WHERE ${c.where}`).join(' UNION ');
  return { sql: `SELECT ${ROWS} FROM (${union})`, params: selective.flatMap((c) => c.params), paged: false };
}

/** A candidate query's WHERE clause and parameters (`paged`: see CandidateQuery). */
interface Conditions {
  readonly where: string;
  readonly params: readonly string[];
  readonly paged: boolean;
}

/**
 * The conditions that preselect candidate rows through one index, chosen by selectivity:
 * entryUuid, uniqueId, referenceIdList, sourceUuid, targetUuid, then (type, patientId, status),
 * then type, else a full scan (`paged`, with `seq > ?` for the caller's keyset). Undefined when a
 * hint proves that nothing can match.
 */
function candidateConditions(hints: IndexHints): Conditions | undefined {
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
  } else {
    // By type alone, or everything: possibly most of the registry, so read in pages.
    if (hints.type) constrain('type', hints.type);
    where.push('seq > ?');
    return { where: where.join(' AND '), params, paged: true };
  }
  return { where: where.join(' AND '), params, paged: false };
}

/** The value of a `ROWS` statement. */
function parseRows(value: unknown): Rows {
  const [seqs, revs] = JSON.parse(value as string) as [number[], number[]];
  return { seqs, revs };
}

/**
 * The rows in ascending seq order: answers are in insertion order, and keyset paging reads on
 * after the last seq. Mostly they come so already (see `ROWS`; a paged scan's subquery sorts, and
 * SQLite hands the aggregate its rows in that order, though it does not promise to), so the order
 * is checked first, one comparison per row, and the rows are sorted only if it is not.
 */
export function inSeqOrder(rows: Rows): Rows {
  const { seqs, revs } = rows;
  let sorted = true;
  for (let i = 1; i < seqs.length && sorted; i++) sorted = seqs[i - 1]! < seqs[i]!;
  if (sorted) return rows;
  const order = seqs.map((_, i) => i).sort((a, b) => seqs[a]! - seqs[b]!);
  return { seqs: order.map((i) => seqs[i]!), revs: order.map((i) => revs[i]!) };
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
