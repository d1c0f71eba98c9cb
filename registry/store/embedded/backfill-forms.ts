/**
 * Gives the DocumentEntries written before schema v7 their stored LeafClass forms (schema.ts
 * `MIGRATE_V6_TO_V7`): until then they are answered as before, from the parsed record, only slower
 * when cold. Each row's record is packed again with its form (record codec 2), keeping its rev: the
 * record is the same, so every reader's cached parse of it stays valid. Runs on a connection of
 * its own, in short IMMEDIATE transactions, so a node serving the same file goes on meanwhile (its
 * commits wait for at most one batch).
 */
import type Database from 'better-sqlite3';
import type { RegistryObject } from '../../model/metadata.js';
import { fromRecord } from '../record.js';
import { CODEC_DEFLATE_2, packRecord, unpackRecord } from './record-codec.mjs';

/** The first byte of a record that already holds its form. */
const CODEC_2_BYTE = Buffer.from([CODEC_DEFLATE_2]);

export interface FormBatch {
  /** Rows given a form in this batch. */
  readonly written: number;
  /** The last seq examined: where the next batch goes on (undefined: none left after `after`). */
  readonly last: number | undefined;
}

/**
 * Writes the forms of up to `limit` DocumentEntries after seq `after` that have none, in one
 * IMMEDIATE transaction (read and written under the write lock, so no commit changes a row in
 * between). An entry `formOf` gives no form (one with a home of its own) stays without, and is
 * passed over. Call it again from `last` until `last` is undefined.
 */
export function writeFormsAfter(
  db: Database.Database,
  formOf: (object: RegistryObject) => Uint8Array | undefined,
  after: number,
  limit: number,
): FormBatch {
  // A walk of the table in seq order (`+type`: not through the index on type, whose rows would
  // then have to be sorted), so a batch reads the next `limit` rows of the file and no more.
  const select = db
    .prepare(`SELECT seq, packed FROM objects WHERE seq > ? AND +type = 'DocumentEntry' AND substr(packed, 1, 1) <> ? ORDER BY seq LIMIT ?`)
    .raw(true);
  const update = db.prepare('UPDATE objects SET packed = ? WHERE seq = ?');
  return db
    .transaction((): FormBatch => {
      const rows = select.all(after, CODEC_2_BYTE, limit) as [number, string | Buffer][];
      let written = 0;
      for (const [seq, packed] of rows) {
        const text = unpackRecord(packed);
        const form = formOf(fromRecord(JSON.parse(text) as Record<string, unknown>));
        if (form === undefined) continue;
        update.run(packRecord(text, form), seq);
        written++;
      }
      return { written, last: rows.length < limit ? undefined : rows[rows.length - 1]![0] };
    })
    .immediate();
}

/** Every row's form, batch after batch; `progress` after each batch. Returns how many were written. */
export function writeForms(
  db: Database.Database,
  formOf: (object: RegistryObject) => Uint8Array | undefined,
  progress: (written: number, last: number) => void = () => undefined,
  batchSize = 512,
): number {
  let total = 0;
  for (let after = 0; ; ) {
    const batch = writeFormsAfter(db, formOf, after, batchSize);
    total += batch.written;
    if (batch.last === undefined) return total;
    after = batch.last;
    progress(total, after);
  }
}
