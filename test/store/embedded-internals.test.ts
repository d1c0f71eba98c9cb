/** Embedded-store behaviour beyond the shared contract: hint soundness, index use, files, processes. */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { Query } from 'mingo';
import type { RegistryObject } from '../../registry/model/metadata.js';
import { candidateQuery, candidateQueryFor } from '../../registry/store/embedded/embedded-store.js';
import { openEmbeddedStore } from '../../registry/store/embedded/index.js';
import { deriveIndexHints } from '../../registry/store/embedded/index-hints.js';
import { SCHEMA_VERSION, prepareDatabase } from '../../registry/store/embedded/schema.js';
import { EMBEDDED_FILE_NAME, openRegistryStore } from '../../registry/store/open.js';
import { toRecord } from '../../registry/store/record.js';
import type { RegistryFilter } from '../../registry/store/store.js';
import { PATIENT_A, PATIENT_B, association, documentEntry, folder, submissionSet } from './factory.js';

const run = promisify(execFile);

describe('embedded store internals', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'koblingspunkt-embedded-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('returns exactly what mingo returns over all records, for filters with and without hints', async () => {
    const objects: RegistryObject[] = [];
    for (let i = 0; i < 60; i++) {
      const patient = i % 3 === 0 ? PATIENT_B : PATIENT_A;
      const doc = documentEntry({
        patientId: patient,
        availabilityStatus: i % 4 === 0 ? 'Deprecated' : 'Approved',
        referenceIdList: i % 5 === 0 ? [`R${i % 2}`, 'SHARED'] : [],
      });
      const set = submissionSet({ patientId: patient });
      objects.push(doc, set, association(set.entryUuid, doc.entryUuid), folder({ patientId: patient }));
    }
    const some = (type: string) => objects.filter((o) => o.type === type);
    const filters: RegistryFilter[] = [
      {},
      { type: 'DocumentEntry' },
      { patientId: PATIENT_B },
      { patientId: { $in: [PATIENT_A, PATIENT_B] }, availabilityStatus: 'Deprecated' },
      { type: { $in: ['Folder', 'SubmissionSet'] }, patientId: PATIENT_A },
      { entryUuid: { $in: some('Folder').slice(0, 5).map((o) => o.entryUuid) } },
      { uniqueId: (some('DocumentEntry')[7] as { uniqueId: string }).uniqueId },
      { sourceUuid: { $in: some('SubmissionSet').slice(3, 9).map((o) => o.entryUuid) } },
      { targetUuid: some('DocumentEntry')[2]!.entryUuid, type: 'Association' },
      { referenceIdList: 'SHARED' },
      { referenceIdList: { $in: ['R1', 'nothing'] }, availabilityStatus: { $in: ['Approved', 'Deprecated'] } },
      { $and: [{ patientId: PATIENT_A }, { $or: [{ type: 'Folder' }, { availabilityStatus: 'Deprecated' }] }] },
      { $or: [{ patientId: PATIENT_B }, { referenceIdList: 'R0' }] },
      { patientId: null },
      { patientId: { $exists: false } },
      { availabilityStatus: { $nin: ['Approved'] }, type: 'DocumentEntry' },
      { $and: [{ type: 'DocumentEntry' }, { type: 'Folder' }] },
    ];
    const store = openEmbeddedStore({ path: ':memory:' });
    try {
      await store.commit({ inserts: objects, replacements: [] });
      const records = objects.map(toRecord);
      for (const filter of filters) {
        const query = new Query(filter);
        const expected = records.filter((r) => query.test(r as unknown as Record<string, unknown>)).map((r) => r.entryUuid);
        const found = (await store.find(filter)).map((o) => o.entryUuid);
        expect(found, JSON.stringify(filter)).to.deep.equal(expected);
        expect(await store.count(filter), JSON.stringify(filter)).to.equal(expected.length);
      }
    } finally {
      await store.close();
    }
  });

  it('reads scans in pages: finds, limits and counts over more rows than one page stay exact and in order', async () => {
    const store = openEmbeddedStore({ path: ':memory:' });
    try {
      // More than two candidate pages (4,096 rows each), with every 7th entry Deprecated.
      const docs = Array.from({ length: 9000 }, (_, i) => documentEntry({ availabilityStatus: i % 7 === 0 ? 'Deprecated' : 'Approved' }));
      for (let i = 0; i < docs.length; i += 1000) await store.commit({ inserts: docs.slice(i, i + 1000), replacements: [] });
      const ids = (objects: readonly RegistryObject[]) => objects.map((o) => o.entryUuid);
      const approved = docs.filter((d) => d.availabilityStatus === 'Approved');

      expect(ids(await store.find({ type: 'DocumentEntry', patientId: PATIENT_A }))).to.deep.equal(ids(docs));
      expect(ids(await store.find({ type: 'DocumentEntry', patientId: PATIENT_A, availabilityStatus: 'Approved' }))).to.deep.equal(ids(approved));
      // A full scan (no usable hint) and a filter mingo decides: pages through everything.
      expect(ids(await store.find({ mimeType: 'application/pdf' }))).to.deep.equal(ids(docs));
      expect(await store.count({ type: 'DocumentEntry', availabilityStatus: 'Deprecated' })).to.equal(docs.length - approved.length);
      // A scan by type is read in pages: a limit that ends inside the second page, and one that
      // ends exactly at a page's end.
      expect(ids(await store.find({ type: 'DocumentEntry' }, { limit: 5000 }))).to.deep.equal(ids(docs.slice(0, 5000)));
      expect(ids(await store.find({ type: 'DocumentEntry' }, { limit: 4096 }))).to.deep.equal(ids(docs.slice(0, 4096)));
      expect(ids(await store.find({ type: 'DocumentEntry', availabilityStatus: 'Approved' }))).to.deep.equal(ids(approved));
      // A match only on the last page.
      const last = docs[docs.length - 1]!;
      expect(ids(await store.find({ uniqueId: { $regex: `^${last.uniqueId!.replace(/[.^]/g, '\\$&')}$` } }))).to.deep.equal([last.entryUuid]);
    } finally {
      await store.close();
    }
  });

  it('preselects through the intended SQLite index', async () => {
    const path = join(dir, 'plan.sqlite');
    await (openEmbeddedStore({ path })).close();
    const db = new Database(path, { readonly: true });
    const plan = (filter: RegistryFilter): string => {
      const q = candidateQueryFor(filter)!;
      // A paged scan takes two more parameters: after seq 0, one page. (Its index may also narrow by rowid > ?.)
      const paging = q.paged ? [0, 4096] : [];
      return (db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...q.params, ...paging) as { detail: string }[]).map((r) => r.detail).join(' | ');
    };
    try {
      // A patient's query is answered from the covering index alone, in seq order: SQLite sorts nothing.
      const byPatient = plan({ type: 'DocumentEntry', patientId: 'P', availabilityStatus: { $in: ['Approved'] } });
      expect(byPatient).to.contain('SEARCH objects USING COVERING INDEX objects_type_patient_status_seq_rev (type=? AND patient_id=? AND status=?)');
      expect(byPatient).not.to.contain('TEMP B-TREE');
      expect(plan({ patientId: { $in: ['P', 'Q'] } })).to.contain('USING COVERING INDEX objects_type_patient_status_seq_rev (type=? AND patient_id=?');
      expect(plan({ uniqueId: 'U', type: 'DocumentEntry' })).to.contain('USING INDEX objects_unique_id');
      expect(plan({ entryUuid: { $in: ['A', 'B'] } })).to.contain('USING INDEX sqlite_autoindex_objects_1 (entry_uuid=?');
      expect(plan({ sourceUuid: 'S' })).to.contain('USING INDEX objects_source_uuid');
      expect(plan({ targetUuid: { $in: ['A', 'B'] } })).to.contain('USING INDEX objects_target_uuid');
      expect(plan({ referenceIdList: 'R' })).to.match(/SEARCH reference_ids USING PRIMARY KEY \(value=\?\)/);
      expect(plan({ type: 'Folder' })).to.contain('USING COVERING INDEX objects_type_patient_status_seq_rev (type=?');
      // The write overlay's form: each alternative through its index, never a scan of objects.
      const overlay = plan({ $or: [{ type: 'DocumentEntry', uniqueId: 'U', availabilityStatus: 'Approved' }, { entryUuid: { $in: ['A', 'B'] } }] });
      expect(overlay).to.contain('USING INDEX objects_unique_id (unique_id=?)');
      expect(overlay).to.contain('USING INDEX sqlite_autoindex_objects_1 (entry_uuid=?)');
      expect(overlay).not.to.match(/SCAN objects/);
    } finally {
      db.close();
    }
  });

  it('reads a patient\'s candidates from the covering index in seq order, and puts other candidates in seq order itself', async () => {
    const path = join(dir, 'order.sqlite');
    const store = openEmbeddedStore({ path });
    // Two patients' entries interleaved, one of A's replaced (same seq, new rev) after B's were written.
    const docs = Array.from({ length: 12 }, (_, i) => documentEntry({ patientId: i % 2 === 0 ? PATIENT_A : PATIENT_B }));
    try {
      await store.commit({ inserts: docs, replacements: [] });
      await store.commit({ inserts: [], replacements: [{ ...docs[0]!, title: { value: 'Ny' } }] });
      const db = new Database(path, { readonly: true });
      const seqsFromSql = (filter: RegistryFilter): number[] => {
        const q = candidateQuery(deriveIndexHints(filter))!;
        return (JSON.parse(db.prepare(q.sql).pluck().get(...q.params) as string) as number[][])[0]!;
      };
      const ascending = (seqs: number[]) => seqs.every((s, i) => i === 0 || seqs[i - 1]! < s);
      try {
        const ofA = seqsFromSql({ type: 'DocumentEntry', patientId: PATIENT_A, availabilityStatus: 'Approved' });
        expect(ofA).to.have.length(6);
        expect(ascending(ofA), 'no sort needed for a patient').to.equal(true);
        // Two patients: SQLite reads the index patient by patient, so the store sorts.
        const ofBoth = seqsFromSql({ type: 'DocumentEntry', patientId: { $in: [PATIENT_B, PATIENT_A] } });
        expect(ofBoth).to.have.length(12);
        expect(ascending(ofBoth)).to.equal(false);
      } finally {
        db.close();
      }
      const ids = (objects: readonly RegistryObject[]) => objects.map((o) => o.entryUuid);
      expect(ids(await store.find({ type: 'DocumentEntry', patientId: { $in: [PATIENT_B, PATIENT_A] } }))).to.deep.equal(ids(docs));
      expect(ids(await store.find({ entryUuid: { $in: ids(docs).reverse() } }))).to.deep.equal(ids(docs));
    } finally {
      await store.close();
    }
  });

  it('uses WAL and synchronous=FULL (fsync on commit) on a file', () => {
    const db = new Database(join(dir, 'pragmas.sqlite'));
    try {
      prepareDatabase(db);
      expect(db.pragma('journal_mode', { simple: true })).to.equal('wal');
      expect(db.pragma('synchronous', { simple: true })).to.equal(2); // 2 = FULL
      expect(db.pragma('user_version', { simple: true })).to.equal(SCHEMA_VERSION);
      // Preparing an existing database again is harmless (another process, a restart).
      prepareDatabase(db);
    } finally {
      db.close();
    }
  });

  it('migrating a v4 file counts the objects it holds, and later commits move the counts', async () => {
    const path = join(dir, 'v4.sqlite');
    const first = openEmbeddedStore({ path });
    const set = submissionSet();
    const docs = [documentEntry(), documentEntry({ availabilityStatus: 'Deprecated' })];
    await first.commit({ inserts: [set, ...docs, ...docs.map((d) => association(set.entryUuid, d.entryUuid))], replacements: [] });
    await first.close();
    // What a v4 program left: no counts table, records in `record` (as JSON text: see embedded-packed.test.ts).
    const db = new Database(path);
    db.exec('DROP TABLE object_counts; ALTER TABLE objects RENAME COLUMN packed TO record');
    db.pragma('user_version = 4');
    db.close();

    const store = openEmbeddedStore({ path });
    try {
      const tally = async () => Object.fromEntries((await store.objectCounts()).map((c) => [`${c.type} ${c.availabilityStatus}`, c.count]));
      expect(await tally()).to.deep.equal({
        'SubmissionSet Approved': 1,
        'DocumentEntry Approved': 1,
        'DocumentEntry Deprecated': 1,
        'Association Approved': 2,
      });
      await store.commit({ inserts: [], replacements: [{ ...docs[0]!, availabilityStatus: 'Deprecated' }] });
      expect((await tally())['DocumentEntry Deprecated']).to.equal(2);
      expect(await tally()).to.not.have.property('DocumentEntry Approved');
    } finally {
      await store.close();
    }
  });

  it('refuses a database of an unknown schema version', () => {
    const path = join(dir, 'future.sqlite');
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => openEmbeddedStore({ path })).to.throw(/schema version 99/);
  });

  it('openRegistryStore without a MongoDB URI opens <dataDir>/registry.sqlite, creating the directory', async () => {
    const dataDir = join(dir, 'nested', 'data');
    const store = await openRegistryStore({ dataDir });
    const doc = documentEntry();
    await store.commit({ inserts: [doc], replacements: [] });
    await store.close();
    const again = openEmbeddedStore({ path: join(dataDir, EMBEDDED_FILE_NAME) });
    try {
      expect(await again.getByUuids([doc.entryUuid])).to.deep.equal([doc]);
    } finally {
      await again.close();
    }
  });

  it('keeps commits of concurrent processes whole', async function () {
    this.timeout(60000);
    const path = join(dir, 'shared.sqlite');
    await openEmbeddedStore({ path }).close();
    const worker = join(import.meta.dirname, 'workers', 'commit-worker.ts');
    const perProcess = 40;
    await Promise.all(
      ['nb-NO', 'nn-NO', 'se-NO'].map((tag) => run(process.execPath, ['--import', 'tsx', worker, path, tag, String(perProcess)])),
    );
    const store = openEmbeddedStore({ path });
    try {
      const all = await store.find({});
      expect(all).to.have.length(3 * perProcess * 5);
      // Each submission (set, 2 documents, 2 associations) is contiguous in insertion order.
      for (let i = 0; i < all.length; i += 5) {
        const [set, d1, d2, a1, a2] = all.slice(i, i + 5);
        expect(set?.type).to.equal('SubmissionSet');
        const tag = set?.type === 'SubmissionSet' ? set.sourceId : undefined;
        for (const d of [d1, d2]) expect(d?.type === 'DocumentEntry' && d.languageCode).to.equal(tag);
        for (const a of [a1, a2]) expect(a?.type === 'Association' && a.sourceUuid).to.equal(set?.entryUuid);
      }
    } finally {
      await store.close();
    }
  });
});
