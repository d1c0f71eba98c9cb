// @ts-check
/**
 * The worker thread behind `SqliteWriter` (sqlite-writer.ts): owns one write connection to one
 * SQLite file and runs each batch of statements it is sent as one transaction, so the commit's
 * fsync blocks this thread and not the node's event loop.
 *
 * JavaScript, not TypeScript, on purpose: tsx's module hooks do not reach worker threads on
 * Node 20, so a .ts worker would need its own loader bootstrap (~0.4 s per start); this file needs
 * none and is type-checked through JSDoc (`checkJs`).
 *
 * Protocol (messages on parentPort):
 *   in:  { id: number, statements: { sql: string, params: unknown[] }[] }
 *   out: { id: number, ok: true, rowids: number[] }  one lastInsertRowid per statement
 *        { id: number, ok: false, message: string, code?: string }  the transaction was rolled back
 *   in:  { id: number, close: true }  → out: { id, ok: true, rowids: [] }, then the thread ends
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** @typedef {{ sql: string, params: unknown[] }} Statement */
/** @typedef {{ id: number, statements?: Statement[], close?: boolean }} Request */

const port = parentPort;
if (port === null) throw new Error('sqlite-writer-worker must run as a worker thread');

/** @type {{ path: string }} */
const { path } = workerData;
const db = new Database(path);
db.pragma('journal_mode = WAL');
// Every commit of this connection is on disk when it returns: the durability the callers promise.
db.pragma('synchronous = FULL');
// The node's own read connection never writes, but another process (a second node on the same
// data directory is refused elsewhere) or a checkpoint may hold the lock briefly: wait, don't fail.
db.pragma('busy_timeout = 10000');

/** @type {Map<string, import('better-sqlite3').Statement>} */
const prepared = new Map();

/** @param {string} sql */
function statement(sql) {
  let stmt = prepared.get(sql);
  if (stmt === undefined) {
    stmt = db.prepare(sql);
    prepared.set(sql, stmt);
  }
  return stmt;
}

const runAll = db.transaction(
  /** @param {Statement[]} statements */
  (statements) => statements.map((s) => Number(statement(s.sql).run(...s.params).lastInsertRowid)),
);

port.on('message', (/** @type {Request} */ request) => {
  if (request.close === true) {
    db.close();
    port.postMessage({ id: request.id, ok: true, rowids: [] });
    port.close();
    return;
  }
  try {
    // IMMEDIATE: take the write lock before the first statement, so a batch never fails halfway on a busy lock.
    const rowids = runAll.immediate(request.statements ?? []);
    port.postMessage({ id: request.id, ok: true, rowids });
  } catch (e) {
    const error = /** @type {{ message?: unknown, code?: unknown }} */ (e);
    port.postMessage({
      id: request.id,
      ok: false,
      message: typeof error.message === 'string' ? error.message : String(e),
      ...(typeof error.code === 'string' ? { code: error.code } : {}),
    });
  }
});
