/**
 * Gives the DocumentEntries written before schema v7 their stored LeafClass forms (schema.ts
 * `MIGRATE_V6_TO_V7`): until then they are answered as before, from the parsed record, only slower
 * when cold. Each row's record is packed again with its form (record codec 2), keeping its rev: the
 * record is the same, so every reader's cached parse of it stays valid. (Since schema v8 a record is
 * packed with codec 4; a form packed before with codec 2 is kept as it is.) Runs on a connection of
 * its own, in short IMMEDIATE transactions, so a node serving the same file goes on meanwhile (its
 * commits wait for at most one batch).
 */
import type Database from 'better-sqlite3';
import type { RegistryObject } from '../../model/metadata.js';
import { fromRecord } from '../record.js';
import { CODEC_DEFLATE_2, CODEC_ZSTD_4, packRecord, unpackRecord } from './record-codec.mjs';

/** The first bytes of records that already hold their forms. */
const WITH_FORM = [Buffer.from([CODEC_DEFLATE_2]), Buffer.from([CODEC_ZSTD_4])];

/**
 * Writes the forms of every DocumentEntry that has none, `batchSize` entries per IMMEDIATE
 * transaction (read and written under the write lock, so no commit changes a row in between);
 * `progress` after each batch with the forms written so far and the last seq examined. An entry
 * `formOf` gives no form (one with a home of its own) stays without, and is passed over. Returns
 * how many forms were written.
 */
export function writeForms(
  db: Database.Database,
  formOf: (object: RegistryObject) => Uint8Array | undefined,
  progress: (written: number, last: number) => void = () => undefined,
  batchSize = 512,
): number {
  // A walk of the table in seq order (`+type`: not through the index on type, whose rows would
  // then have to be sorted), so a batch reads the next `batchSize` rows of the file and no more.
  const select = db
    .prepare(`SELECT seq, packed FROM objects WHERE seq > ? AND +type = 'DocumentEntry' AND substr(packed, 1, 1) NOT IN (?, ?) ORDER BY seq LIMIT ?`)
    .raw(true);
  const update = db.prepare('UPDATE objects SET packed = ? WHERE seq = ?');
  /** One batch after seq `after`: the forms it wrote and the rows it examined. */
  const batch = db.transaction((after: number): { written: number; rows: [number, string | Buffer][] } => {
    const rows = select.all(after, ...WITH_FORM, batchSize) as [number, string | Buffer][];
    let written = 0;
    for (const [seq, packed] of rows) {
      const text = unpackRecord(packed);
      const form = formOf(fromRecord(JSON.parse(text) as Record<string, unknown>));
      if (form === undefined) continue;
      update.run(packRecord(text, form), seq);
      written++;
    }
    return { written, rows };
  });
  let total = 0;
  for (let after = 0; ; ) {
    const { written, rows } = batch.immediate(after);
    total += written;
    if (rows.length < batchSize) return total;
    after = rows[rows.length - 1]![0];
    progress(total, after);
  }
}
