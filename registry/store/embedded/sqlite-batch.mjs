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
 */

/** @typedef {{ sql: string, params: readonly unknown[], expectChanges?: number }} Statement */
/** @typedef {{ ok: true, rowids: number[] } | { ok: false, message: string, code?: string, index?: number }} BatchResult */

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
 * A function that runs each batch it is given as one IMMEDIATE transaction on `db` (statements
 * prepared once per SQL text) and reports the outcome instead of throwing.
 * @param {import('better-sqlite3').Database} db
 * @returns {(statements: readonly Statement[]) => BatchResult}
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
    /** @param {readonly Statement[]} statements */
    (statements) => {
      /** @type {number[]} */
      const rowids = [];
      for (let i = 0; i < statements.length; i++) {
        current = i;
        const s = /** @type {Statement} */ (statements[i]);
        const info = statement(s.sql).run(...s.params);
        if (s.expectChanges !== undefined && info.changes !== s.expectChanges) throw new ExpectationFailed(s.expectChanges, info.changes);
        rowids.push(Number(info.lastInsertRowid));
      }
      current = -1;
      return rowids;
    },
  );

  return (statements) => {
    current = -1;
    try {
      // IMMEDIATE: take the write lock before the first statement, so a batch never fails halfway on a busy lock.
      return { ok: true, rowids: runAll.immediate(statements) };
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
