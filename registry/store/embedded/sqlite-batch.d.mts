/** Types of sqlite-batch.mjs (plain JavaScript, see there why) for its TypeScript callers. */
import type Database from 'better-sqlite3';

export interface Statement {
  readonly sql: string;
  readonly params: readonly unknown[];
  /** Rows the statement must change; any other count rolls the batch back with code EXPECTED_CHANGES. */
  readonly expectChanges?: number;
}

export type BatchResult =
  | { ok: true; rowids: number[] }
  | { ok: false; message: string; code?: string; index?: number };

export declare const EXPECTED_CHANGES: 'EXPECTED_CHANGES';

export declare function batchRunner(db: Database.Database): (statements: readonly Statement[]) => BatchResult;
