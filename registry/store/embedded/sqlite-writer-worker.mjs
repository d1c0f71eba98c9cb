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
 *   in:  { id: number, batch: FlatBatch }  the statements of one transaction, flat (sqlite-batch.mjs `flatBatch`)
 *   out: { id: number, ok: true, rowids: number[] }  one lastInsertRowid per statement
 *        { id: number, ok: false, message: string, code?: string, index?: number }  the transaction
 *        was rolled back; `index`: the statement that failed (see sqlite-batch.mjs)
 *   in:  { id: number, close: true }  → out: { id, ok: true, rowids: [] }, then the thread ends
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { batchRunner } from './sqlite-batch.mjs';

/** @typedef {{ id: number, batch?: import('./sqlite-batch.mjs').FlatBatch, close?: boolean }} Request */

const port = parentPort;
if (port === null) throw new Error('sqlite-writer-worker must run as a worker thread');

/** @type {{ path: string }} */
const { path } = workerData;
const db = new Database(path);
db.pragma('journal_mode = WAL');
// Every commit of this connection is on disk when it returns: the durability the callers promise.
db.pragma('synchronous = FULL');
// The node's own read connection never writes, but another process on the same file (e.g. the
// generator) or a checkpoint may hold the lock briefly: wait, don't fail.
db.pragma('busy_timeout = 10000');

const run = batchRunner(db);

port.on('message', (/** @type {Request} */ request) => {
  if (request.close === true) {
    db.close();
    port.postMessage({ id: request.id, ok: true, rowids: [] });
    port.close();
    return;
  }
  port.postMessage({ id: request.id, ...run(request.batch ?? { sql: [], ops: [], params: [] }) });
});
