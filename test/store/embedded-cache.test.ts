/**
 * The embedded store's read cache (record-cache.ts) and the schema v2 `rev` it is validated by:
 * shared frozen objects, every kind of change seen on the next read (also by another connection
 * and by a writer that knows nothing of `rev`), the v1 → v2 and v2 → v3 migrations, and the size
 * bound and recency order.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Query } from 'mingo';
import type { DocumentEntry, RegistryObject } from '../../registry/model/metadata.js';
import { openEmbeddedStore } from '../../registry/store/embedded/index.js';
import { RecordCache, parseRecord } from '../../registry/store/embedded/record-cache.js';
import { MIGRATE_V1_TO_V2, SCHEMA_V1, SCHEMA_VERSION } from '../../registry/store/embedded/schema.js';
import { openRegistryStore } from '../../registry/store/open.js';
import { parseConfig } from '../../connector/config.js';
import { toRecord } from '../../registry/store/record.js';
import type { RegistryFilter, RegistryStore } from '../../registry/store/store.js';
import { PATIENT_A, PATIENT_B, association, documentEntry, folder, submission, submissionSet } from './factory.js';

const insertOnly = (inserts: readonly RegistryObject[]) => ({ inserts, replacements: [] });

describe('embedded store read cache', () => {
  let dir: string;
  const opened: RegistryStore[] = [];
  const open = (options: { cacheEntries?: number } = {}, path = join(dir, 'registry.sqlite')): RegistryStore => {
    const store = openEmbeddedStore({ path, ...options });
    opened.push(store);
    return store;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'koblingspunkt-cache-'));
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns the same deep-frozen object on every read of an unchanged row, equal to what was committed', async () => {
    const store = open();
    const doc = documentEntry();
    await store.commit(insertOnly([doc]));
    await store.find({ entryUuid: doc.entryUuid }); // a first miss only notes the row (RecordCache.admits)
    const [first] = await store.find({ type: 'DocumentEntry', patientId: PATIENT_A });
    const [second] = await store.find({ entryUuid: doc.entryUuid });
    const [third] = await store.getByUuids([doc.entryUuid]);
    expect(first).to.deep.equal(doc);
    expect(second).to.equal(first);
    expect(third).to.equal(first);
    expect(first).not.to.have.property('_s');
    const d = first as DocumentEntry;
    expect(Object.isFrozen(d)).to.equal(true);
    expect(Object.isFrozen(d.authors)).to.equal(true);
    expect(Object.isFrozen(d.authors![0])).to.equal(true);
    expect(Object.isFrozen(d.classCode)).to.equal(true);
    expect(() => {
      (d as { availabilityStatus: string }).availabilityStatus = 'Deprecated';
    }).to.throw(TypeError);
    expect(() => (d.authors as unknown as unknown[]).push({})).to.throw(TypeError);
    // A caller's attempt left nothing behind: the store still matches and returns the original.
    expect(await store.find({ entryUuid: doc.entryUuid, availabilityStatus: 'Approved' })).to.deep.equal([doc]);
  });

  it('sees a replacement (new rev) on the next read; an object returned earlier keeps its old values', async () => {
    const store = open();
    const doc = documentEntry();
    await store.commit(insertOnly([doc]));
    const [before] = await store.find({ entryUuid: doc.entryUuid });
    const deprecated: DocumentEntry = { ...doc, availabilityStatus: 'Deprecated', title: { value: 'Ny tittel' } };
    await store.commit({ inserts: [], replacements: [deprecated] });
    expect(await store.find({ entryUuid: doc.entryUuid })).to.deep.equal([deprecated]);
    expect(await store.getByUuids([doc.entryUuid])).to.deep.equal([deprecated]);
    expect(await store.find({ type: 'DocumentEntry', patientId: PATIENT_A, availabilityStatus: 'Approved' })).to.deep.equal([]);
    expect(before).to.deep.equal(doc);
  });

  it('sees a deletion on the next read', async () => {
    const store = open();
    const sub = submission([documentEntry(), documentEntry()]);
    await store.commit(insertOnly(sub.all));
    expect(await store.find({ patientId: PATIENT_A })).to.have.length(3);
    await store.commit({ inserts: [], replacements: [], deletions: [sub.documents[0]!.entryUuid] });
    expect((await store.find({ patientId: PATIENT_A })).map((o) => o.entryUuid)).to.deep.equal([sub.set.entryUuid, sub.documents[1]!.entryUuid]);
    expect(await store.getByUuids([sub.documents[0]!.entryUuid])).to.deep.equal([]);
    expect(await store.count({ type: 'DocumentEntry' })).to.equal(1);
  });

  it('sees what a second connection to the same file writes: replacement, deletion, deletion and re-insertion', async () => {
    const reader = open();
    const writer = open();
    const [kept, gone, reborn] = [documentEntry(), documentEntry(), documentEntry()];
    await writer.commit(insertOnly([kept, gone, reborn]));
    expect(await reader.find({ type: 'DocumentEntry' })).to.deep.equal([kept, gone, reborn]);

    const keptNew: DocumentEntry = { ...kept, availabilityStatus: 'Deprecated' };
    const rebornNew: DocumentEntry = { ...reborn, title: { value: 'Samme entryUUID, ny rad' } };
    await writer.commit({ inserts: [], replacements: [keptNew], deletions: [gone.entryUuid, reborn.entryUuid] });
    await writer.commit(insertOnly([rebornNew]));

    expect(await reader.find({ type: 'DocumentEntry' })).to.deep.equal([keptNew, rebornNew]);
    expect(await reader.getByUuids([kept.entryUuid, gone.entryUuid, reborn.entryUuid])).to.have.deep.members([keptNew, rebornNew]);
    expect(await reader.count({ availabilityStatus: 'Approved' })).to.equal(1);
  });

  it('makes a v1 program still open on a file being migrated fail, instead of writing records without a new rev', async () => {
    const path = join(dir, 'v1.sqlite');
    const doc = documentEntry();
    writeV1File(path, [doc]);
    // The v1 program: its connection and statements were prepared before the migration.
    const v1 = new Database(path);
    try {
      const v1Replace = v1.prepare('UPDATE objects SET body = ? WHERE entry_uuid = ?');
      const v1Insert = v1.prepare('INSERT INTO objects (entry_uuid, type, patient_id, status, unique_id, body) VALUES (?, ?, ?, ?, ?, ?)');
      const v1Read = v1.prepare('SELECT body FROM objects WHERE entry_uuid = ?').pluck();
      expect(JSON.parse(v1Read.get(doc.entryUuid) as string)).to.deep.equal(toRecord(doc));

      const store = open({}, path);
      expect(await store.find({ entryUuid: doc.entryUuid })).to.deep.equal([doc]);
      const changed = JSON.stringify(toRecord({ ...doc, title: { value: 'Endret av v1' } }));
      expect(() => v1Replace.run(changed, doc.entryUuid)).to.throw(/no such column: body/);
      const other = documentEntry();
      expect(() => v1Insert.run(other.entryUuid, other.type, other.patientId, other.availabilityStatus, other.uniqueId, JSON.stringify(toRecord(other)))).to.throw(
        /has no column named body/,
      );
      expect(() => v1Read.get(doc.entryUuid)).to.throw(/no such column: body/);
      expect(await store.find({ type: 'DocumentEntry' })).to.deep.equal([doc]);
    } finally {
      v1.close();
    }
  });

  it('numbers every written row with a new rev, also an object inserted and replaced in one batch', async () => {
    const path = join(dir, 'registry.sqlite');
    const store = open({}, path);
    const doc = documentEntry();
    const set = submissionSet();
    await store.commit(insertOnly([set]));
    await store.commit({ inserts: [doc], replacements: [{ ...doc, availabilityStatus: 'Deprecated' }, { ...set, availabilityStatus: 'Deprecated' }] });
    await store.commit({ inserts: [], replacements: [], deletions: [doc.entryUuid] });
    const raw = new Database(path, { readonly: true });
    try {
      const revs = raw.prepare('SELECT rev FROM objects ORDER BY seq').pluck().all() as number[];
      expect(revs).to.deep.equal([4]); // set: 1 (insert), 4 (replacement); doc: 2 (insert), 3 (replacement), deleted
      expect(raw.prepare('SELECT rev FROM meta').pluck().get()).to.equal(4);
    } finally {
      raw.close();
    }
    expect(await store.find({})).to.deep.equal([{ ...set, availabilityStatus: 'Deprecated' }]);
  });

  it('migrates a v1 file in place: every row, its order and every query result are kept, and writes work after', async () => {
    const path = join(dir, 'v1.sqlite');
    const objects: RegistryObject[] = [];
    for (let i = 0; i < 20; i++) {
      const patient = i % 3 === 0 ? PATIENT_B : PATIENT_A;
      const doc = documentEntry({ patientId: patient, availabilityStatus: i % 4 === 0 ? 'Deprecated' : 'Approved', referenceIdList: i % 5 === 0 ? ['R1'] : [] });
      const set = submissionSet({ patientId: patient });
      objects.push(set, doc, association(set.entryUuid, doc.entryUuid), folder({ patientId: patient }));
    }
    writeV1File(path, objects);

    const store = open({}, path);
    const check = new Database(path, { readonly: true });
    try {
      expect(check.pragma('user_version', { simple: true })).to.equal(SCHEMA_VERSION);
      expect(check.prepare('SELECT count(*) FROM objects WHERE rev = 0').pluck().get()).to.equal(objects.length);
    } finally {
      check.close();
    }
    const records = objects.map(toRecord);
    const filters: RegistryFilter[] = [
      {},
      { type: 'DocumentEntry', patientId: PATIENT_B, availabilityStatus: 'Approved' },
      { referenceIdList: 'R1' },
      { sourceUuid: objects[0]!.entryUuid },
      { uniqueId: (objects[5] as DocumentEntry).uniqueId },
      { '_s.classCode': { $in: ['A00-1^^2.16.578.1.12.4.1.1.9602'] }, type: 'DocumentEntry' },
    ];
    for (const filter of filters) {
      const query = new Query(filter);
      const expected = records.filter((r) => query.test(r as unknown as Record<string, unknown>)).map((r) => r.entryUuid);
      expect((await store.find(filter)).map((o) => o.entryUuid), JSON.stringify(filter)).to.deep.equal(expected);
      expect(await store.count(filter)).to.equal(expected.length);
    }
    expect(await store.find({})).to.deep.equal(objects);

    // Writes after the migration: a replacement of a v1 row and a new submission.
    const replaced: DocumentEntry = { ...(objects[1] as DocumentEntry), availabilityStatus: 'Deprecated' };
    const added = submission([documentEntry()]);
    await store.commit({ inserts: added.all, replacements: [replaced] });
    expect(await store.getByUuids([replaced.entryUuid])).to.deep.equal([replaced]);
    expect((await store.find({})).slice(objects.length)).to.deep.equal(added.all);

    // Opening it again (a restart, another process) leaves a v2 file as it is.
    await store.close();
    const again = open({}, path);
    expect(await again.find({})).to.deep.equal([objects[0], replaced, ...objects.slice(2), ...added.all]);
  });

  it('migrates a v2 file in place to the covering index, with the schema of a new file, and answers as before', async () => {
    const path = join(dir, 'v2.sqlite');
    const objects: RegistryObject[] = [];
    for (let i = 0; i < 12; i++) {
      const patient = i % 3 === 0 ? PATIENT_B : PATIENT_A;
      const doc = documentEntry({ patientId: patient, availabilityStatus: i % 4 === 0 ? 'Deprecated' : 'Approved' });
      const set = submissionSet({ patientId: patient });
      objects.push(set, doc, association(set.entryUuid, doc.entryUuid));
    }
    writeV1File(path, objects);
    const v2 = new Database(path);
    try {
      v2.exec(MIGRATE_V1_TO_V2);
      v2.pragma('user_version = 2');
      // Rows a v2 program wrote: numbered revs.
      v2.exec('UPDATE objects SET rev = seq + 10; UPDATE meta SET rev = (SELECT max(rev) FROM objects)');
    } finally {
      v2.close();
    }

    const store = open({}, path);
    const schemaOf = (file: string): unknown[] => {
      const db = new Database(file, { readonly: true });
      try {
        expect(db.pragma('user_version', { simple: true })).to.equal(SCHEMA_VERSION);
        return db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all();
      } finally {
        db.close();
      }
    };
    const fresh = join(dir, 'fresh.sqlite');
    await open({}, fresh).close();
    const migrated = schemaOf(path);
    expect(migrated).to.deep.equal(schemaOf(fresh));
    expect(migrated.map((row) => (row as { name: string }).name))
      .to.include('objects_type_patient_status_seq_rev')
      .and.not.to.include('objects_type_patient_status');

    const records = objects.map(toRecord);
    for (const filter of [
      { type: 'DocumentEntry', patientId: PATIENT_A, availabilityStatus: 'Approved' },
      { patientId: PATIENT_B },
      { type: 'Association' },
    ] as RegistryFilter[]) {
      const query = new Query(filter);
      const expected = records.filter((r) => query.test(r as unknown as Record<string, unknown>)).map((r) => r.entryUuid);
      expect((await store.find(filter)).map((o) => o.entryUuid), JSON.stringify(filter)).to.deep.equal(expected);
    }
    // Writes after the migration reach the new index: a new submission, an Approved entry deprecated.
    const deprecatedOfA = { type: 'DocumentEntry', patientId: PATIENT_A, availabilityStatus: 'Deprecated' };
    const before = await store.count(deprecatedOfA);
    const approved = objects[4] as DocumentEntry;
    expect([approved.patientId, approved.availabilityStatus]).to.deep.equal([PATIENT_A, 'Approved']);
    const added = submission([documentEntry()]);
    await store.commit({ inserts: added.all, replacements: [{ ...approved, availabilityStatus: 'Deprecated' }] });
    expect((await store.find({})).slice(objects.length)).to.deep.equal(added.all);
    expect(await store.count(deprecatedOfA)).to.equal(before + 1);
  });

  it('keeps at most cacheEntries objects, least recently used out first', async () => {
    const store = open({ cacheEntries: 3 });
    const docs = [documentEntry(), documentEntry(), documentEntry(), documentEntry()];
    await store.commit(insertOnly(docs));
    const read = async (d: DocumentEntry) => (await store.getByUuids([d.entryUuid]))[0];
    for (const d of docs) await read(d); // first misses: noted, not taken
    const a = await read(docs[0]!);
    const b = await read(docs[1]!);
    const c = await read(docs[2]!);
    expect(await read(docs[0]!)).to.equal(a); // a is now the most recently used
    await read(docs[3]!); // its second miss: taken, and evicts b, the least recently used
    expect(await read(docs[2]!)).to.equal(c);
    expect(await read(docs[0]!)).to.equal(a);
    const b2 = await read(docs[1]!);
    expect(b2).not.to.equal(b);
    expect(b2).to.deep.equal(docs[1]);
  });

  it('does not let a scan larger than half the cache push the cached records out', async () => {
    const store = open({ cacheEntries: 4 });
    const hot = documentEntry({ patientId: PATIENT_B });
    const many = Array.from({ length: 10 }, () => documentEntry());
    await store.commit(insertOnly([hot, ...many]));
    await store.find({ patientId: PATIENT_B });
    const [cached] = await store.find({ patientId: PATIENT_B });
    const scanned = await store.find({ patientId: PATIENT_A });
    expect(scanned).to.deep.equal(many);
    expect(Object.isFrozen(scanned[0])).to.equal(false); // parsed for this read only
    expect((await store.find({ patientId: PATIENT_B }))[0]).to.equal(cached);
    expect(Object.isFrozen(cached)).to.equal(true);
  });

  it('takes a row on its second miss: a patient asked for once leaves nothing in the cache', async () => {
    const store = open({ cacheEntries: 100 });
    const docs = [documentEntry(), documentEntry()];
    await store.commit(insertOnly(docs));
    const once = await store.find({ patientId: PATIENT_A });
    expect(once).to.deep.equal(docs);
    expect(once.some((o) => Object.isFrozen(o))).to.equal(false); // parsed for this read only
    const again = await store.find({ patientId: PATIENT_A });
    expect(again).to.deep.equal(docs);
    expect(again.every((o) => Object.isFrozen(o))).to.equal(true); // second miss: taken, frozen
    const third = await store.find({ patientId: PATIENT_A });
    third.forEach((o, i) => expect(o).to.equal(again[i]));
  });

  it('notes at most two capacities of missed rows: a row missed long ago counts as never missed', () => {
    const cache = new RecordCache(2);
    expect(cache.admits(1)).to.equal(false);
    expect(cache.admits(1)).to.equal(true);
    for (const seq of [2, 3, 4, 5]) expect(cache.admits(seq)).to.equal(false);
    expect(cache.admits(1)).to.equal(false); // forgotten: two generations of two have passed
    expect(cache.admits(5)).to.equal(true);
    expect(new RecordCache(0).admits(1)).to.equal(false);
  });

  it('with cacheEntries 0 parses on every read and returns each caller its own object', async () => {
    const store = open({ cacheEntries: 0 });
    const doc = documentEntry();
    await store.commit(insertOnly([doc]));
    const [first] = await store.find({ entryUuid: doc.entryUuid });
    const [second] = await store.find({ entryUuid: doc.entryUuid });
    expect(second).not.to.equal(first);
    expect(second).to.deep.equal(doc);
    // Nobody else holds it, so it is not frozen, and changing it changes nothing in the store.
    (first as { availabilityStatus: string }).availabilityStatus = 'Deprecated';
    expect(await store.find({ entryUuid: doc.entryUuid, availabilityStatus: 'Approved' })).to.deep.equal([doc]);
  });

  it('registry.cacheEntries is validated by the node configuration and reaches the embedded store', async () => {
    expect(parseConfig({}).registry.cacheEntries).to.equal(undefined);
    expect(parseConfig({ registry: { cacheEntries: 0 } }).registry.cacheEntries).to.equal(0);
    expect(() => parseConfig({ registry: { cacheEntries: -1 } })).to.throw(/cacheEntries/);
    expect(() => parseConfig({ registry: { cacheEntries: 1.5 } })).to.throw(/cacheEntries/);
    const uncached = await openRegistryStore({ dataDir: join(dir, 'uncached'), cacheEntries: 0 });
    const cached = await openRegistryStore({ dataDir: join(dir, 'cached') });
    opened.push(uncached, cached);
    const doc = documentEntry();
    for (const store of [uncached, cached]) await store.commit(insertOnly([doc]));
    // The cached store takes the row on its second miss; the third read is a hit.
    const twice = async (store: RegistryStore) => {
      await store.getByUuids([doc.entryUuid]);
      return [(await store.getByUuids([doc.entryUuid]))[0], (await store.getByUuids([doc.entryUuid]))[0]];
    };
    const [u1, u2] = await twice(uncached);
    const [c1, c2] = await twice(cached);
    expect(u1).not.to.equal(u2);
    expect(c1).to.equal(c2);
  });

  it('stops fetching at the limit, also over more candidates than one fetch round', async () => {
    const store = open();
    const docs = Array.from({ length: 600 }, (_, i) => documentEntry({ availabilityStatus: i % 2 === 0 ? 'Approved' : 'Deprecated' }));
    await store.commit(insertOnly(docs));
    const approved = docs.filter((d) => d.availabilityStatus === 'Approved');
    expect(await store.find({ type: 'DocumentEntry', availabilityStatus: 'Approved' }, { limit: 260 })).to.deep.equal(approved.slice(0, 260));
    expect(await store.find({ type: 'DocumentEntry', availabilityStatus: 'Approved' })).to.deep.equal(approved);
    expect(await store.count({ patientId: PATIENT_A, availabilityStatus: 'Deprecated' })).to.equal(300);
  });
});

describe('RecordCache', () => {
  const entry = (rev: number) => parseRecord(rev, JSON.stringify(toRecord(documentEntry())));

  it('answers only for the cached rev, and drops an entry whose row has moved on', () => {
    const cache = new RecordCache(10);
    const e = entry(5);
    cache.set(1, e);
    expect(cache.get(1, 5)).to.equal(e);
    expect(cache.get(1, 6)).to.equal(undefined);
    expect(cache.get(1, 5)).to.equal(undefined);
    expect(cache.size).to.equal(0);
  });

  it('is bounded by its capacity, and capacity 0 holds nothing', () => {
    const cache = new RecordCache(2);
    for (let seq = 1; seq <= 5; seq++) cache.set(seq, entry(1));
    expect(cache.size).to.equal(2);
    expect(cache.get(3, 1)).to.equal(undefined);
    expect(cache.get(5, 1)).not.to.equal(undefined);
    const none = new RecordCache(0);
    none.set(1, entry(1));
    expect(none.size).to.equal(0);
    expect(() => new RecordCache(-1)).to.throw(RangeError);
  });

  it('evicts exactly as a least-recently-used list would, over generated gets, sets and rev changes', () => {
    // The reference: a Map in recency order, re-inserted on every hit (what the cache did before).
    const reference = new Map<number, ReturnType<typeof entry>>();
    const refGet = (seq: number, rev: number) => {
      const e = reference.get(seq);
      if (e === undefined) return undefined;
      reference.delete(seq);
      if (e.rev !== rev) return undefined;
      reference.set(seq, e);
      return e;
    };
    const refSet = (seq: number, e: ReturnType<typeof entry>, capacity: number) => {
      reference.delete(seq);
      reference.set(seq, e);
      if (reference.size > capacity) reference.delete(reference.keys().next().value!);
    };
    const entries = [1, 2, 3].map(entry);
    let state = 12345;
    const next = (n: number) => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return (state >>> 8) % n;
    };
    for (const capacity of [1, 2, 5]) {
      reference.clear();
      const cache = new RecordCache(capacity);
      for (let i = 0; i < 5000; i++) {
        const seq = next(8);
        const e = entries[next(3)]!;
        if (next(3) === 0) {
          cache.set(seq, e);
          refSet(seq, e, capacity);
        } else {
          expect(cache.get(seq, e.rev), `step ${i}`).to.equal(refGet(seq, e.rev));
        }
        expect(cache.size).to.equal(reference.size);
      }
      cache.clear();
      expect(cache.size).to.equal(0);
      expect(cache.get(entries.length, 1)).to.equal(undefined);
    }
  });

  it('parses a body into a frozen record with _s and a frozen model object without it', () => {
    const doc = documentEntry();
    const e = parseRecord(1, JSON.stringify(toRecord(doc)));
    expect(e.object).to.deep.equal(doc);
    expect(e.record).to.have.property('_s');
    expect(Object.isFrozen(e.record) && Object.isFrozen(e.record._s) && Object.isFrozen(e.object)).to.equal(true);
  });
});

/** A registry file as the v1 program wrote it: v1 schema, user_version 1, v1 insert statements. */
function writeV1File(path: string, objects: readonly RegistryObject[]): void {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(SCHEMA_V1);
    db.pragma('user_version = 1');
    const insert = db.prepare(
      `INSERT INTO objects (entry_uuid, type, patient_id, status, unique_id, source_uuid, target_uuid, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertRef = db.prepare('INSERT INTO reference_ids (value, seq) VALUES (?, ?)');
    db.transaction(() => {
      for (const obj of objects) {
        const rec = toRecord(obj);
        const assoc = rec.type === 'Association';
        const seq = insert.run(
          rec.entryUuid,
          rec.type,
          assoc ? null : rec.patientId,
          rec.availabilityStatus ?? null,
          assoc ? null : rec.uniqueId,
          assoc ? rec.sourceUuid : null,
          assoc ? rec.targetUuid : null,
          JSON.stringify(rec),
        ).lastInsertRowid;
        if (rec.type === 'DocumentEntry') for (const r of rec.referenceIdList ?? []) insertRef.run(r, seq);
      }
    })();
  } finally {
    db.close();
  }
}
