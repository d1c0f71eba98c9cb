/**
 * Schema v6: records stored packed (record-codec.mjs; Zstandard since v8, deflate before). The codec
 * round-trips every text exactly, reads what v6 and v7 wrote, its dictionary is frozen, a v5 file (JSON text rows) migrates without a rewrite and reads as
 * before, a commit packs what it writes, and `packRows` compacts the rest keeping every rev.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { RegistryObject } from '../../registry/model/metadata.js';
import { openEmbeddedStore } from '../../registry/store/embedded/index.js';
import { CODEC_DEFLATE_1, CODEC_ZSTD_3, DICTIONARY_1, packRecord, packRecordDeflated, unpackForm, unpackRecord } from '../../registry/store/embedded/record-codec.mjs';
import { SCHEMA_VERSION, packRows } from '../../registry/store/embedded/schema.js';
import { recordText } from '../../registry/store/record.js';
import { PATIENT_A, association, documentEntry, folder, submissionSet } from './factory.js';

describe('embedded store: packed records (schema v6)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'koblingspunkt-packed-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('record codec', () => {
    it('round-trips records exactly, and packs a DocumentEntry to a fraction of its JSON', () => {
      const doc = documentEntry({ title: { value: 'Epikrise – Ærlig Øyvind Åsen 🩺', lang: 'nb-NO' } });
      for (const obj of [doc, submissionSet(), folder(), association('urn:uuid:a', 'urn:uuid:b')] as RegistryObject[]) {
        const text = recordText(obj);
        const packed = packRecord(text);
        expect(packed[0]).to.equal(CODEC_ZSTD_3);
        expect(packed.readUInt32LE(1)).to.equal(Buffer.byteLength(text));
        expect(unpackRecord(packed)).to.equal(text);
        // Twice, the contexts being reused: the second unpack must not see the first.
        expect(unpackRecord(packRecord(text))).to.equal(text);
        // What v6 and v7 programs wrote (codec 1) stays readable.
        const deflated = packRecordDeflated(text);
        expect(deflated[0]).to.equal(CODEC_DEFLATE_1);
        expect(unpackRecord(deflated)).to.equal(text);
      }
      const text = recordText(doc);
      expect(packRecord(text).length).to.be.below(text.length / 3);
    });

    it('round-trips texts larger than its scratch buffers, empty ones, and any characters', () => {
      const big = JSON.stringify({ type: 'DocumentEntry', x: Array.from({ length: 30_000 }, (_, i) => `v${i}-${(i * 7919) % 1000}`) });
      expect(big.length).to.be.above(200_000);
      for (const text of [big, '', '{}', '\u0000\u{10ffff}"\\', 'æøå'.repeat(50_000)]) {
        expect(unpackRecord(packRecord(text))).to.equal(text);
        expect(unpackRecord(packRecordDeflated(text))).to.equal(text);
      }
    });

    it('reads JSON text as it is (rows as v5 wrote them), refuses an unknown codec and a cut record, and goes on after one', () => {
      expect(unpackRecord('{"type":"Folder"}')).to.equal('{"type":"Folder"}');
      expect(() => unpackRecord(Buffer.from([9, 0, 0, 0, 0]))).to.throw(/codec/);
      expect(() => unpackRecord(Buffer.from([3, 0, 0]))).to.throw(/cut short/);
      expect(() => unpackRecord(Buffer.from([0, 0, 0, 0, 0]))).to.throw(/codec/);
      // A damaged length is refused, not allocated.
      for (const packed of [packRecord('{}'), packRecordDeflated('{}')]) {
        const huge = Buffer.from(packed);
        huge.writeUInt32LE(0xffffffff, 1);
        expect(() => unpackRecord(huge)).to.throw(/damaged/);
      }
      const text = recordText(documentEntry());
      for (const packed of [packRecord(text), packRecordDeflated(text)]) {
        expect(() => unpackRecord(packed.subarray(0, packed.length - 10))).to.throw();
        const garbage = Buffer.concat([packed.subarray(0, 5), Buffer.alloc(40, 0xff)]);
        expect(() => unpackRecord(garbage)).to.throw();
        // A length that disagrees with the frame is a damaged row, not a shorter record.
        const lying = Buffer.from(packed);
        lying.writeUInt32LE(Buffer.byteLength(text) - 1, 1);
        expect(() => unpackRecord(lying)).to.throw();
        // zlib's failure destroyed its stream (the next record gets a new one); zstd's context is reused.
        expect(unpackRecord(packed)).to.equal(text);
      }
    });

    it('reads codec 3 and 4 values as v8 wrote them (the format is frozen, whatever later libzstd writes)', () => {
      const text = '{"type":"Folder","entryUuid":"urn:uuid:0f0e0d0c-0b0a-4908-8706-050403020100","title":{"value":"Løpende journal","lang":"nb-NO"}}';
      const form = '<rim:ExtrinsicObject id="urn:uuid:0f0e0d0c-0b0a-4908-8706-050403020100" status="urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"/>';
      expect(unpackRecord(Buffer.from(CODEC_3_VALUE, 'hex'))).to.equal(text);
      const value = Buffer.from(CODEC_4_VALUE, 'hex');
      expect(unpackRecord(value)).to.equal(text);
      expect(unpackForm(value).toString('utf8')).to.equal(form);
    });

    it("codec 1's dictionary is frozen: records stored with it must stay readable", () => {
      // Changing DICTIONARY_1 makes every stored record of codec 1 unreadable: a new dictionary is a new codec.
      expect(createHash('sha256').update(DICTIONARY_1).digest('hex')).to.equal(DICTIONARY_1_SHA256);
    });
  });

  it('writes every record packed', async () => {
    const path = join(dir, 'registry.sqlite');
    const store = openEmbeddedStore({ path });
    const set = submissionSet();
    const doc = documentEntry();
    await store.commit({ inserts: [set, doc, association(set.entryUuid, doc.entryUuid)], replacements: [] });
    await store.commit({ inserts: [], replacements: [{ ...doc, availabilityStatus: 'Deprecated' }] });
    await store.close();
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare('SELECT DISTINCT typeof(packed) FROM objects').pluck().all()).to.deep.equal(['blob']);
      const stored = db.prepare('SELECT packed FROM objects WHERE entry_uuid = ?').pluck().get(doc.entryUuid) as Buffer;
      expect(unpackRecord(stored)).to.equal(recordText({ ...doc, availabilityStatus: 'Deprecated' }));
    } finally {
      db.close();
    }
  });

  it('migrates a v5 file without rewriting it, reads its JSON rows, packs what commits write, and packRows compacts the rest keeping every rev', async () => {
    const path = join(dir, 'registry.sqlite');
    const first = openEmbeddedStore({ path });
    const set = submissionSet();
    const docs = [documentEntry(), documentEntry(), documentEntry()];
    const all = [set, ...docs, ...docs.map((d) => association(set.entryUuid, d.entryUuid))];
    await first.commit({ inserts: all, replacements: [] });
    await first.close();
    // What a v5 program left: JSON text in `record`.
    const v5 = new Database(path);
    for (const o of all) v5.prepare('UPDATE objects SET packed = ? WHERE entry_uuid = ?').run(recordText(o), o.entryUuid);
    v5.exec('ALTER TABLE objects RENAME COLUMN packed TO record');
    v5.pragma('user_version = 5');
    const revsBefore = v5.prepare('SELECT entry_uuid, rev FROM objects ORDER BY seq').raw().all() as [string, number][];
    v5.close();

    const store = openEmbeddedStore({ path });
    try {
      expect(await store.find({ type: 'DocumentEntry', patientId: PATIENT_A })).to.deep.equal(docs);
      const raw = new Database(path);
      try {
        expect(raw.pragma('user_version', { simple: true })).to.equal(SCHEMA_VERSION);
        expect(raw.prepare("SELECT count(*) FROM objects WHERE typeof(packed) = 'text'").pluck().get()).to.equal(all.length);
        // A v5 program's statements no longer compile: it fails instead of misreading.
        expect(() => raw.prepare('SELECT record FROM objects')).to.throw(/no such column/);

        const replaced = { ...docs[1]!, availabilityStatus: 'Deprecated' as const };
        await store.commit({ inserts: [], replacements: [replaced] });
        expect(raw.prepare('SELECT typeof(packed) FROM objects WHERE entry_uuid = ?').pluck().get(replaced.entryUuid)).to.equal('blob');

        const revs = () => raw.prepare('SELECT entry_uuid, rev FROM objects ORDER BY seq').raw().all() as [string, number][];
        const beforePacking = revs();
        expect(packRows(raw, 3)).to.equal(3);
        expect(packRows(raw, 100)).to.equal(all.length - 1 - 3);
        expect(packRows(raw, 100)).to.equal(0);
        expect(raw.prepare("SELECT count(*) FROM objects WHERE typeof(packed) = 'text'").pluck().get()).to.equal(0);
        expect(revs()).to.deep.equal(beforePacking);
        expect(beforePacking.filter(([uuid]) => uuid !== replaced.entryUuid)).to.deep.equal(revsBefore.filter(([uuid]) => uuid !== replaced.entryUuid));
      } finally {
        raw.close();
      }
      // Same answers as before the packing, from the cache and from fresh reads alike.
      const expected = [docs[0], { ...docs[1]!, availabilityStatus: 'Deprecated' }, docs[2]];
      expect(await store.find({ type: 'DocumentEntry', patientId: PATIENT_A })).to.deep.equal(expected);
      const fresh = openEmbeddedStore({ path, cacheEntries: 0 });
      try {
        expect(await fresh.find({ type: 'DocumentEntry', patientId: PATIENT_A })).to.deep.equal(expected);
        expect(await fresh.find({ sourceUuid: set.entryUuid })).to.deep.equal(all.slice(4));
      } finally {
        await fresh.close();
      }
    } finally {
      await store.close();
    }
  });
});

const DICTIONARY_1_SHA256 = '6371f0201a43b3554f44e85ee8e19b97aa51d6deabee6540aceba74f0255727a';
/** Values a v8 program wrote (record-codec.mjs `packRecord`), pinned so that no change of library or dictionary leaves them unreadable. */
const CODEC_3_VALUE =
  '038100000028b52ffd0000c50100540230663065306430632d306230612d343930382d383730362d3035303430333032303130307d04007c800884c69901e900e97786e50102';
const CODEC_4_VALUE =
  '04810000008600000028b52ffd0000250200740230663065306430632d306230612d343930382d383730362d3035303430333032303130307d2f3e07005a7625811f3f70ebaa737c804884c69901e900e97786e50102';
