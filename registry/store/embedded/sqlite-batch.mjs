// @ts-check
/**
 * How one batch of statements runs as one transaction: shared by the writer's worker thread
 * (sqlite-writer-worker.mjs) and by the in-process writer of a ':memory:' database
 * (sqlite-writer.ts `inlineSqliteWriter`), so both give a batch exactly the same meaning.
 *
 * Plain JavaScript because the worker thread imports it (tsx's hooks do not reach worker threads
 * on Node 20); TypeScript callers take its types from the JSDoc below (checkJs), and the build
 * emits it into dist/ beside them.
 *
 * A statement may carry `expectChanges`: the number of rows it must change (e.g. 1 for an UPDATE
 * or DELETE of one row by its key). Any other count rolls the whole batch back, and the result
 * names the statement (`index`) with code 'EXPECTED_CHANGES', so the caller can say which of its
 * objects was missing. On a SQLite error in a statement the result names that statement too (a
 * UNIQUE violation of an INSERT maps back to the row it tried to insert); an error outside any
 * statement (BEGIN, COMMIT) has no index.
 *
 * A statement may carry `pack`: the index of a parameter that is a record's JSON text, followed by
 * its stored form (or null); the runner packs the two (record-codec.mjs `packRecord`) into the one
 * value it binds there. Why not the SQL function `pack_record(?, ?)`: better-sqlite3 hands a SQL
 * function's arguments to JavaScript as new strings and buffers (the text bound as UTF-8, decoded
 * again, then encoded again by the codec) and copies its result back, which measured 53.6–61.0
 * against 45.5 µs per DocumentEntry packed and inserted (BENCHMARKS.md, issue 19, ninth session).
 */
import { packRecord } from './record-codec.mjs';

/** @typedef {{ sql: string, params: readonly unknown[], expectChanges?: number, pack?: number }} Statement */
/** @typedef {{ ok: true, rowids: number[] } | { ok: false, message: string, code?: string, index?: number }} BatchResult */
/**
 * A batch as it crosses to the writer's thread (`flatBatch`): each distinct SQL text once, and per
 * statement four numbers in `ops` (the index of its SQL in `sql`, its number of parameters, its
 * expected changes or -1, the index of its record text to pack or -1), its parameters one after
 * another in `params`. Why: postMessage's
 * structured clone costs per object and per property, and an object per statement with its own
 * copy of the SQL text made the clone of an ITI-42 group (32 registrations, ~130 statements) the
 * main thread's largest single cost after parsing; flat, the clone is ~4 × cheaper (measured, see
 * BENCHMARKS.md, issue 19: ITI-42 and the generator).
 * @typedef {{ sql: string[], ops: number[], params: unknown[] }} FlatBatch
 */

/**
 * The flat form of `statements` (see FlatBatch); the statements mean the same in either form.
 * @param {readonly Statement[]} statements
 * @returns {FlatBatch}
 */
export function flatBatch(statements) {
  /** @type {string[]} */
  const sql = [];
  /** @type {number[]} */
  const ops = [];
  /** @type {unknown[]} */
  const params = [];
  // Few distinct texts per batch (≤ ~10): a linear search beats a Map.
  let last = -1;
  for (let i = 0; i < statements.length; i++) {
    const s = /** @type {Statement} */ (statements[i]);
    let k = last >= 0 && sql[last] === s.sql ? last : sql.indexOf(s.sql);
    if (k < 0) k = sql.push(s.sql) - 1;
    last = k;
    const p = s.params;
    ops.push(k, p.length, s.expectChanges ?? -1, s.pack ?? -1);
    for (let j = 0; j < p.length; j++) params.push(p[j]);
  }
  return { sql, ops, params };
}

/** How many numbers of `ops` describe one statement. */
const OP_FIELDS = 4;

/** @type {'EXPECTED_CHANGES'} */
export const EXPECTED_CHANGES = 'EXPECTED_CHANGES';

class ExpectationFailed extends Error {
  /**
   * @param {number} expected
   * @param {number} changes
   */
  constructor(expected, changes) {
    super(`expected ${expected} changed row(s), the statement changed ${changes}`);
    this.code = EXPECTED_CHANGES;
  }
}

/**
 * A function that runs each batch it is given (flat, see `flatBatch`) as one IMMEDIATE transaction
 * on `db` (statements prepared once per SQL text) and reports the outcome instead of throwing.
 * @param {import('better-sqlite3').Database} db
 * @returns {(batch: FlatBatch) => BatchResult}
 */
export function batchRunner(db) {
  /** @type {Map<string, import('better-sqlite3').Statement>} */
  const prepared = new Map();
  /** The statement running, while one is: the index a failure is reported with. */
  let current = -1;

  /** @param {string} sql */
  const statement = (sql) => {
    let stmt = prepared.get(sql);
    if (stmt === undefined) {
      stmt = db.prepare(sql);
      prepared.set(sql, stmt);
    }
    return stmt;
  };

  const runAll = db.transaction(
    /** @param {FlatBatch} batch */
    (batch) => {
      const { ops, params } = batch;
      const stmts = batch.sql.map(statement);
      /** @type {number[]} */
      const rowids = [];
      let p = 0;
      for (let i = 0, o = 0; o < ops.length; i++, o += OP_FIELDS) {
        current = i;
        const n = /** @type {number} */ (ops[o + 1]);
        const expectChanges = /** @type {number} */ (ops[o + 2]);
        const pack = /** @type {number} */ (ops[o + 3]);
        const args = params.slice(p, p + n);
        if (pack >= 0) args.splice(pack, 2, packRecord(/** @type {string} */ (args[pack]), /** @type {string | Uint8Array | null} */ (args[pack + 1])));
        const info = /** @type {import('better-sqlite3').Statement} */ (stmts[/** @type {number} */ (ops[o])]).run(args);
        p += n;
        if (expectChanges >= 0 && info.changes !== expectChanges) throw new ExpectationFailed(expectChanges, info.changes);
        rowids.push(Number(info.lastInsertRowid));
      }
      current = -1;
      return rowids;
    },
  );

  return (batch) => {
    current = -1;
    try {
      // IMMEDIATE: take the write lock before the first statement, so a batch never fails halfway on a busy lock.
      return { ok: true, rowids: runAll.immediate(batch) };
    } catch (e) {
      const error = /** @type {{ message?: unknown, code?: unknown }} */ (e);
      return {
        ok: false,
        message: typeof error.message === 'string' ? error.message : String(e),
        ...(typeof error.code === 'string' ? { code: error.code } : {}),
        ...(current >= 0 ? { index: current } : {}),
      };
    } finally {
      current = -1;
    }
  };
}
