/**
 * `koblingspunkt write-forms`: entries registered before schema v7 (their records packed without a
 * stored LeafClass form) get their forms while the node runs, keeping their revs, and the node's
 * answers stay the same; a second run finds nothing to do.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CODEC_DEFLATE_1, CODEC_ZSTD_4, packRecordDeflated, unpackRecord } from '../../registry/store/embedded/record-codec.mjs';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { cli, SAMPLE_PDF } from './helpers.js';

const FNR = '13116900216';

describe('koblingspunkt write-forms', function () {
  this.timeout(120_000);
  let node: TestNode;

  before(async () => {
    node = await startTestNode();
    for (let i = 0; i < 3; i++) expect((await cli(['register', SAMPLE_PDF, '--patient', FNR, '--url', node.url])).code).to.equal(0);
  });
  after(async () => {
    await node?.close();
  });

  const codecs = (): number[] => {
    const db = new Database(join(node.dataDir, 'registry.sqlite'), { readonly: true });
    try {
      return (db.prepare("SELECT packed FROM objects WHERE type = 'DocumentEntry' ORDER BY seq").pluck().all() as Buffer[]).map((b) => b[0]!);
    } finally {
      db.close();
    }
  };

  it('writes the forms of entries stored without them, while the node runs, and answers stay the same', async () => {
    expect(codecs()).to.deep.equal([CODEC_ZSTD_4, CODEC_ZSTD_4, CODEC_ZSTD_4]);
    const before = await cli(['query', '--patient', FNR, '--url', node.url, '--json']);
    expect(before.code).to.equal(0);
    // What a v6 node left: the same records, packed without their forms (same revs).
    const db = new Database(join(node.dataDir, 'registry.sqlite'));
    let revs: unknown[];
    try {
      for (const [seq, packed] of db.prepare("SELECT seq, packed FROM objects WHERE type = 'DocumentEntry'").raw().all() as [number, Buffer][]) {
        db.prepare('UPDATE objects SET packed = ? WHERE seq = ?').run(packRecordDeflated(unpackRecord(packed)), seq);
      }
      revs = db.prepare('SELECT seq, rev FROM objects ORDER BY seq').raw().all();
    } finally {
      db.close();
    }
    expect(codecs()).to.deep.equal([CODEC_DEFLATE_1, CODEC_DEFLATE_1, CODEC_DEFLATE_1]);

    const res = await cli(['write-forms', '--data-dir', node.dataDir, '--batch', '2']);
    expect(res.stderr).to.equal('');
    expect(res.code).to.equal(0);
    expect(res.stdout).to.match(/^wrote the stored forms of 3 DocumentEntries in [0-9.]+ s\n$/);
    expect(codecs()).to.deep.equal([CODEC_ZSTD_4, CODEC_ZSTD_4, CODEC_ZSTD_4]);
    const check = new Database(join(node.dataDir, 'registry.sqlite'), { readonly: true });
    try {
      expect(check.prepare('SELECT seq, rev FROM objects ORDER BY seq').raw().all()).to.deep.equal(revs);
    } finally {
      check.close();
    }
    const after = await cli(['query', '--patient', FNR, '--url', node.url, '--json']);
    expect(after.stdout).to.equal(before.stdout);

    const again = await cli(['write-forms', '--data-dir', node.dataDir, '--json']);
    expect(again.code).to.equal(0);
    expect(JSON.parse(again.stdout)).to.include({ dataDir: node.dataDir, written: 0 });
  });

  it('refuses a bad batch size and a directory without a registry, without a stack trace', async () => {
    const bad = await cli(['write-forms', '--data-dir', node.dataDir, '--batch', '0']);
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.contain('--batch must be a positive integer');
    const missing = await cli(['write-forms', '--data-dir', join(node.dataDir, 'nowhere')]);
    expect(missing.code).to.not.equal(0);
    expect(missing.stderr).to.contain('no embedded store');
    expect(missing.stderr).to.not.match(/\n\s+at /);
  });
});
