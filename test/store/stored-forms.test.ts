/**
 * Schema v7: each DocumentEntry's LeafClass element is packed with its record (record codec 4 since
 * v8, codec 2 before) when
 * it is committed, and a LeafClass answer inflates it instead of writing the element from the
 * record. The answer must not change by a byte: with our homeCommunityId put back into the form,
 * from the cache and from fresh reads, after a status change, for a file written before v7 and
 * after its forms were written by `writeForms`, and when a form is damaged.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { leafForm, registryObjectNode } from '../../registry/ebxml/write-objects.js';
import type { DocumentEntry, RegistryObject } from '../../registry/model/metadata.js';
import { STORED_QUERY_ID } from '../../registry/model/query.js';
import { runStoredQuery } from '../../registry/query/index.js';
import { writeForms } from '../../registry/store/embedded/backfill-forms.js';
import { openEmbeddedStore } from '../../registry/store/embedded/index.js';
import {
  CODEC_DEFLATE_1,
  CODEC_DEFLATE_2,
  CODEC_ZSTD_3,
  CODEC_ZSTD_4,
  DICTIONARY_2,
  hasStoredForm,
  packRecord,
  packRecordDeflated,
  unpackForm,
  unpackRecord,
} from '../../registry/store/embedded/record-codec.mjs';
import { SCHEMA_VERSION } from '../../registry/store/embedded/schema.js';
import { recordText } from '../../registry/store/record.js';
import type { RegistryStore } from '../../registry/store/store.js';
import { attachStoredForm, storedFormText } from '../../registry/store/stored-forms.js';
import type { XmlFragment } from '../../registry/xml/serialize.js';
import { richSubmission } from '../ebxml/fixtures.js';
import { association, documentEntry, submissionSet } from './factory.js';

const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1';

/** The objects of a rich submission as a registry stores them: no homeCommunityId of their own. */
function stored(): { inserts: RegistryObject[]; entries: DocumentEntry[] } {
  const s = richSubmission();
  const strip = <T extends RegistryObject>(o: T): T => {
    const { homeCommunityId: _, ...rest } = o as T & { homeCommunityId?: string };
    return rest as T;
  };
  const entries = s.documentEntries.map(strip);
  return { inserts: [strip(s.submissionSet), ...entries, ...s.associations.map(strip)], entries };
}

/** The text of an object's LeafClass element as the answer writes it. */
const leafText = (o: RegistryObject): string => (registryObjectNode(o) as XmlFragment).xml;

/** The same, written from the object's fields: a copy is a new object, which has no stored form. */
const writtenText = (o: RegistryObject): string => leafText({ ...o });

async function getDocuments(store: RegistryStore, entryUuids: readonly string[]): Promise<readonly RegistryObject[]> {
  const result = await runStoredQuery(
    store,
    {
      queryId: STORED_QUERY_ID.GetDocuments,
      returnType: 'LeafClass',
      parameters: [{ name: '$XDSDocumentEntryEntryUUID', values: [`(${entryUuids.map((u) => `'${u}'`).join(',')})`] }],
    },
    { maxResults: 100, homeCommunityId: HOME },
  );
  expect(result.errors).to.deep.equal([]);
  return result.objects;
}

describe('embedded store: stored LeafClass forms (schema v7)', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'koblingspunkt-forms-'));
    path = join(dir, 'registry.sqlite');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('record codecs 4 and 2', () => {
    it('packs a record with its form in one value, and gives back each exactly', () => {
      const doc = documentEntry({ title: { value: 'Epikrise – Ærlig Øyvind Åsen 🩺', lang: 'nb-NO' } });
      const text = recordText(doc);
      const form = leafForm(doc)!;
      for (const [pack, withForm, without] of [
        [packRecord, CODEC_ZSTD_4, CODEC_ZSTD_3],
        [packRecordDeflated, CODEC_DEFLATE_2, CODEC_DEFLATE_1],
      ] as const) {
        const packed = pack(text, form);
        expect(packed[0]).to.equal(withForm);
        expect(hasStoredForm(packed)).to.equal(true);
        expect(unpackRecord(packed)).to.equal(text);
        expect(Buffer.from(unpackForm(packed)).equals(form)).to.equal(true);
        expect(unpackRecord(packed)).to.equal(text);
        expect(unpackForm(packed).equals(form)).to.equal(true);
        // The form after its record, whose values it repeats, costs a fraction of its text.
        expect(packed.length - pack(text).length).to.be.below(form.length / 5);
        const plain = pack(text);
        expect(plain[0]).to.equal(without);
        expect(hasStoredForm(plain)).to.equal(false);
        expect(() => unpackForm(plain)).to.throw(/no form/);
      }
    });

    it('reads the record of a codec 2 value whose form part is damaged, and refuses the form', () => {
      const doc = documentEntry();
      const text = recordText(doc);
      const packed = packRecordDeflated(text, leafForm(doc)!);
      const cut = packed.subarray(0, packed.length - 40);
      expect(unpackRecord(cut)).to.equal(text);
      expect(() => unpackForm(cut)).to.throw();
      // The handles are made again after a failure.
      expect(unpackRecord(packed)).to.equal(text);
      expect(unpackForm(packed).length).to.equal(leafForm(doc)!.length);
    });

    it('refuses a damaged codec 4 value whole (one frame: its record cannot be told apart), and reads the next', () => {
      const doc = documentEntry();
      const text = recordText(doc);
      const packed = packRecord(text, leafForm(doc)!);
      const cut = packed.subarray(0, packed.length - 40);
      expect(() => unpackRecord(cut)).to.throw();
      expect(() => unpackForm(cut)).to.throw();
      expect(unpackRecord(packed)).to.equal(text);
      expect(unpackForm(packed).length).to.equal(leafForm(doc)!.length);
    });

    it("codec 2's dictionary is frozen: records stored with it must stay readable", () => {
      expect(createHash('sha256').update(DICTIONARY_2).digest('hex')).to.equal(DICTIONARY_2_SHA256);
    });

    it('keeps a form only for DocumentEntries without a home of their own', () => {
      expect(leafForm(documentEntry())).to.be.instanceOf(Buffer);
      expect(leafForm({ ...documentEntry(), homeCommunityId: HOME })).to.equal(undefined);
      expect(leafForm(submissionSet())).to.equal(undefined);
      expect(leafForm(association('urn:uuid:a', 'urn:uuid:b'))).to.equal(undefined);
    });
  });

  for (const cacheEntries of [0, 1000]) {
    it(`answers LeafClass from the stored forms byte for byte as written from the fields (read cache ${cacheEntries === 0 ? 'off' : 'on'})`, async () => {
      const store = openEmbeddedStore({ path, cacheEntries, formOf: leafForm });
      try {
        const { inserts, entries } = stored();
        await store.commit({ inserts, replacements: [] });
        const uuids = entries.map((e) => e.entryUuid);
        // Three times: a miss, the second miss that admits the rows to the cache, a hit.
        for (let round = 0; round < 3; round++) {
          const answered = await getDocuments(store, uuids);
          expect(answered.map((o) => o.entryUuid)).to.deep.equal(uuids);
          for (const o of answered) {
            expect(o.homeCommunityId).to.equal(HOME);
            // A cached object's element, once made from its form, is remembered (and the packed
            // value let go): only its first answer, and every answer of an uncached one, uses the form.
            const remembered = cacheEntries > 0 && round === 2;
            expect(storedFormText(o) !== undefined, 'the answer used the stored form').to.equal(!remembered);
            const text = leafText(o);
            expect(text).to.equal(writtenText(o));
            expect(text).to.contain(` home="${HOME}"`);
            if (Object.isFrozen(o)) expect(storedFormText(o), 'let go once remembered').to.equal(undefined);
          }
        }
        // A status change writes the row, and its form, anew.
        const deprecated = { ...entries[0]!, availabilityStatus: 'Deprecated' as const };
        await store.commit({ inserts: [], replacements: [deprecated] });
        const [after] = await getDocuments(store, [deprecated.entryUuid]);
        expect(storedFormText(after!)).to.not.equal(undefined);
        expect(leafText(after!)).to.equal(writtenText(after!));
        expect(leafText(after!)).to.contain('StatusType:Deprecated');
      } finally {
        await store.close();
      }
    });
  }

  it('writes the same values for objects prepared ahead of their commit as for objects not prepared', async () => {
    const { inserts } = stored();
    const rows = async (file: string, prepare: boolean): Promise<unknown[]> => {
      const store = openEmbeddedStore({ path: join(dir, file), formOf: leafForm });
      try {
        if (prepare) store.prepare!(inserts);
        await store.commit({ inserts, replacements: [] });
        // Taken once: a replacement of the same object identity is written from it again.
        const replaced = inserts.find((o) => o.type === 'DocumentEntry')!;
        if (prepare) store.prepare!([replaced]);
        await store.commit({ inserts: [], replacements: [replaced] });
        await store.commit({ inserts: [], replacements: [replaced] });
      } finally {
        await store.close();
      }
      const db = new Database(join(dir, file), { readonly: true });
      try {
        return db.prepare('SELECT entry_uuid, packed, rev FROM objects ORDER BY seq').raw().all();
      } finally {
        db.close();
      }
    };
    expect(await rows('prepared.sqlite', true)).to.deep.equal(await rows('plain.sqlite', false));
  });

  it('answers an entry registered with a home of its own, and a store opened without forms, from the fields', async () => {
    const store = openEmbeddedStore({ path, formOf: leafForm });
    const other = { ...documentEntry(), homeCommunityId: 'urn:oid:1.2.3' };
    await store.commit({ inserts: [other], replacements: [] });
    const [found] = await store.find({ entryUuid: other.entryUuid });
    expect(storedFormText(found!)).to.equal(undefined);
    await store.close();
    const plain = openEmbeddedStore({ path: join(dir, 'plain.sqlite') });
    try {
      const doc = documentEntry();
      await plain.commit({ inserts: [doc], replacements: [] });
      const [answered] = await getDocuments(plain, [doc.entryUuid]);
      expect(storedFormText(answered!)).to.equal(undefined);
      expect(leafText(answered!)).to.equal(writtenText(answered!));
    } finally {
      await plain.close();
    }
  });

  it('writes the element from the fields when a stored form is damaged', () => {
    const doc = { ...documentEntry(), homeCommunityId: HOME };
    const { homeCommunityId: _, ...asCommitted } = doc;
    const packed = packRecord(recordText(asCommitted), leafForm(asCommitted)!);
    const damaged = Buffer.concat([packed.subarray(0, 9), Buffer.alloc(packed.length - 9, 0x5a)]);
    attachStoredForm(doc, damaged);
    expect(leafText(doc)).to.equal(writtenText(doc));
    expect(storedFormText(doc)).to.equal(undefined);
  });

  it('answers an entry whose stored codec 2 value has a damaged form part from its record', async () => {
    const store = openEmbeddedStore({ path, cacheEntries: 0, formOf: leafForm });
    try {
      const { inserts, entries } = stored();
      await store.commit({ inserts, replacements: [] });
      const expected = (await getDocuments(store, [entries[0]!.entryUuid])).map(leafText);
      const raw = new Database(path);
      try {
        // A value as v7 wrote it (codec 2), whose record part is intact and form part damaged.
        const packed = raw.prepare('SELECT packed FROM objects WHERE entry_uuid = ?').pluck().get(entries[0]!.entryUuid) as Buffer;
        const deflated = packRecordDeflated(unpackRecord(packed), Buffer.from(unpackForm(packed)));
        raw.prepare('UPDATE objects SET packed = ? WHERE entry_uuid = ?').run(deflated.subarray(0, deflated.length - 40), entries[0]!.entryUuid);
      } finally {
        raw.close();
      }
      const [answered] = await getDocuments(store, [entries[0]!.entryUuid]);
      expect(storedFormText(answered!)).to.equal(undefined);
      expect([leafText(answered!)]).to.deep.equal(expected);
    } finally {
      await store.close();
    }
  });

  it('writes the element from the fields when a stored form inflates but is not one the writer wrote', () => {
    // Unfrozen (read for one answer: inflated as the answer is written) and frozen (a cached object's).
    for (const freeze of [false, true]) {
      const doc = { ...documentEntry(), homeCommunityId: HOME };
      attachStoredForm(doc, packRecord(recordText(doc), Buffer.from('<rim:ExtrinsicObject id="x"/>')));
      if (freeze) Object.freeze(doc);
      expect(leafText(doc)).to.equal(writtenText(doc));
    }
  });

  it('migrates a v6 file without rewriting it, and writeForms gives its entries their forms keeping every rev', async () => {
    // What a v6 program left: records of codec 1 only.
    const v6 = openEmbeddedStore({ path });
    const { inserts, entries } = stored();
    await v6.commit({ inserts, replacements: [] });
    await v6.close();
    const raw = new Database(path);
    try {
      for (const [seq, packed] of raw.prepare('SELECT seq, packed FROM objects').raw().all() as [number, Buffer][]) {
        raw.prepare('UPDATE objects SET packed = ? WHERE seq = ?').run(packRecordDeflated(unpackRecord(packed)), seq);
      }
      raw.pragma('user_version = 6');
      const revs = () => raw.prepare('SELECT entry_uuid, rev FROM objects ORDER BY seq').raw().all();
      const before = revs();
      const store = openEmbeddedStore({ path, formOf: leafForm });
      try {
        expect(raw.pragma('user_version', { simple: true })).to.equal(SCHEMA_VERSION);
        const uuids = entries.map((e) => e.entryUuid);
        const old = await getDocuments(store, uuids);
        for (const o of old) expect(storedFormText(o)).to.equal(undefined);
        const oldTexts = old.map(leafText);

        expect(writeForms(raw, leafForm, () => undefined, 1)).to.equal(entries.length);
        expect(writeForms(raw, leafForm)).to.equal(0);
        expect(revs()).to.deep.equal(before);
        const codecs = raw.prepare('SELECT type, unicode(substr(packed, 1, 1)) FROM objects ORDER BY seq').raw().all() as [string, number][];
        for (const [type, codec] of codecs) expect(codec).to.equal(type === 'DocumentEntry' ? CODEC_ZSTD_4 : CODEC_DEFLATE_1);

        // Same rev, so a cached parse stays; a fresh read gets the form. Same answer either way.
        const fresh = openEmbeddedStore({ path, cacheEntries: 0, formOf: leafForm });
        try {
          const now = await getDocuments(fresh, uuids);
          for (const o of now) expect(storedFormText(o)).to.not.equal(undefined);
          expect(now.map(leafText)).to.deep.equal(oldTexts);
        } finally {
          await fresh.close();
        }
        expect((await getDocuments(store, uuids)).map(leafText)).to.deep.equal(oldTexts);
      } finally {
        await store.close();
      }
    } finally {
      raw.close();
    }
  });
});

const DICTIONARY_2_SHA256 = '6b3a9221968a8782f1ab32f4e512d2b4f73c849f1806700541e4b46518bd8f78';
