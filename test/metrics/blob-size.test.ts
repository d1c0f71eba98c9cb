/**
 * The blob-store size metric counts the small documents' table in steps, with the event loop free
 * in between (connector/metrics/blob-size.ts): the counts must be those of one count(*).
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { measureBlobDirectory } from '../../connector/metrics/blob-size.js';
import { SMALL_BLOBS_FILE, SMALL_BLOBS_SCHEMA } from '../../repository/blob/filesystem/small-blobs.js';

describe('blob store size metric', () => {
  let root: string;
  before(() => (root = mkdtempSync(join(tmpdir(), 'kp-blob-size-'))));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('counts committed small documents over many steps, leaves staged ones out, and adds the files', async () => {
    const documents = join(root, 'documents');
    const blobs = join(documents, 'blobs');
    mkdirSync(join(blobs, 'ab', 'cd'), { recursive: true });
    writeFileSync(join(blobs, 'ab', 'cd', 'abcd'), Buffer.alloc(100_000));
    const db = new Database(join(documents, SMALL_BLOBS_FILE));
    db.exec(SMALL_BLOBS_SCHEMA);
    const insert = db.prepare('INSERT INTO small_blobs (id, staging_id, unique_id, sha1, size, staged_at) VALUES (?, ?, ?, ?, ?, 0)');
    db.transaction(() => {
      // Ids with gaps, past two steps of 20,000; every tenth row still staged.
      for (let i = 1; i <= 45_000; i++) insert.run(i * 3, `s${i}`, i % 10 === 0 ? null : `u${i}`, 'x', i % 7);
    })();
    const expected = db.prepare('SELECT count(*) AS documents, sum(size) AS bytes FROM small_blobs WHERE unique_id IS NOT NULL').get() as { documents: number; bytes: number };
    db.close();

    const size = await measureBlobDirectory(blobs);
    expect(size.documents).to.equal(expected.documents + 1);
    expect(size.bytes).to.equal(expected.bytes + 100_000);
  });
});
