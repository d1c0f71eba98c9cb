/**
 * The embedded store's commits through a `SqliteWriter` (worker thread) or, for ':memory:', the
 * inline writer: the batch protocol (expectChanges, the failing statement's index), the mapping
 * of a failing statement to the store contract's errors with nothing of the batch written (no
 * object, no reference id, no rev drawn), and close() with a commit in flight.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { RegistryObject } from '../../registry/model/metadata.js';
import { openEmbeddedStore } from '../../registry/store/embedded/index.js';
import { CODEC_ZSTD_3, CODEC_ZSTD_4, unpackForm, unpackRecord } from '../../registry/store/embedded/record-codec.mjs';
import { SCHEMA_VERSION } from '../../registry/store/embedded/schema.js';
import {
  EXPECTED_CHANGES,
  SqliteWriteError,
  SqliteWriter,
  inlineSqliteWriter,
  type BatchWriter,
} from '../../registry/store/embedded/sqlite-writer.js';
import { DuplicateEntryUuidError, UnknownEntryUuidError, type CommitBatch, type RegistryStore } from '../../registry/store/store.js';
import { documentEntry, submission, uuid } from './factory.js';
import { rejection } from '../helpers/util.js';

const REFS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'].map((r) => `REF-${r}^^^&1.2.3&ISO`);
const insertOnly = (inserts: readonly RegistryObject[]): CommitBatch => ({ inserts, replacements: [] });


describe('SqliteWriter batches', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'koblingspunkt-writer-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const writers: [string, (db: Database.Database, path: string) => BatchWriter][] = [
    ['worker thread', (_db, path) => new SqliteWriter(path)],
    ['inline', (db) => inlineSqliteWriter(db)],
  ];
  for (const [name, make] of writers) {
    it(`${name}: an expectation or SQLite error rolls the batch back and names the failing statement`, async () => {
      const path = join(dir, 't.sqlite');
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
      const writer = make(db, path);
      try {
        const insert = (k: string, v: number) => ({ sql: 'INSERT INTO t (k, v) VALUES (?, ?)', params: [k, v] });
        expect(await writer.run([insert('a', 1), insert('b', 2)])).to.deep.equal([1, 2]);

        const missed = await rejection(
          writer.run([insert('c', 3), { sql: 'UPDATE t SET v = v + 1 WHERE k = ?', params: ['nope'], expectChanges: 1 }, insert('d', 4)]),
        );
        expect(missed).to.be.instanceOf(SqliteWriteError);
        expect(missed).to.include({ code: EXPECTED_CHANGES, index: 1 });

        const duplicate = await rejection(writer.run([insert('e', 5), { sql: 'UPDATE t SET v = 0', params: [], expectChanges: 3 }, insert('a', 6)]));
        expect(duplicate).to.be.instanceOf(SqliteWriteError);
        expect(duplicate).to.include({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY', index: 2 });

        // A matching expectation passes; and nothing of the two failed batches is there.
        await writer.run([{ sql: 'UPDATE t SET v = v * 10 WHERE k IN (?, ?)', params: ['a', 'b'], expectChanges: 2 }]);
        expect(db.prepare('SELECT k, v FROM t ORDER BY k').raw().all()).to.deep.equal([
          ['a', 10],
          ['b', 20],
        ]);
      } finally {
        await writer.close();
        db.close();
      }
    });
  }

  for (const [name, make] of writers) {
    it(`${name}: a statement's pack binds its record text and form packed into one value, the parameters around it as they are`, async () => {
      const path = join(dir, 'p.sqlite');
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE p (a TEXT, packed BLOB, b INTEGER)');
      const writer = make(db, path);
      try {
        const record = JSON.stringify({ type: 'DocumentEntry', title: 'Epikrise – Ærlig Øyvind' });
        const form = Buffer.from('<rim:ExtrinsicObject id="urn:uuid:1"/>');
        await writer.run([
          { sql: 'INSERT INTO p (a, packed, b) VALUES (?, ?, ?)', params: ['first', record, form, 1], pack: 1 },
          { sql: 'INSERT INTO p (a, packed, b) VALUES (?, ?, ?)', params: ['second', record, null, 2], pack: 1 },
          { sql: 'INSERT INTO p (a, packed, b) VALUES (?, ?, ?)', params: ['plain', Buffer.from('x'), 3] },
        ]);
        const rows = db.prepare('SELECT a, packed, b FROM p ORDER BY rowid').raw().all() as [string, Buffer, number][];
        expect(rows.map(([a, , b]) => [a, b])).to.deep.equal([
          ['first', 1],
          ['second', 2],
          ['plain', 3],
        ]);
        expect(rows[0]![1][0]).to.equal(CODEC_ZSTD_4);
        expect(unpackRecord(rows[0]![1])).to.equal(record);
        expect(unpackForm(rows[0]![1]).equals(form)).to.equal(true);
        expect(rows[1]![1][0]).to.equal(CODEC_ZSTD_3);
        expect(unpackRecord(rows[1]![1])).to.equal(record);
        expect(rows[2]![1].toString()).to.equal('x');
      } finally {
        await writer.close();
        db.close();
      }
    });
  }

  it('worker thread: a worker that dies fails the batches it held; after a pause the next batch starts a new one', async () => {
    const path = join(dir, 't.sqlite');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    const writer = new SqliteWriter(path);
    const insert = (k: string) => ({ sql: 'INSERT INTO t (k) VALUES (?)', params: [k] });
    try {
      await writer.run([insert('before')]);
      // The worker thread is private: reaching it is the only way to make it die as a crash would.
      const worker = (writer as unknown as { worker: { terminate(): Promise<number> } }).worker;
      // A batch that keeps the worker busy for a while, so it is surely out when the worker dies.
      const slow = {
        sql: `INSERT INTO t (k) WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 300000) SELECT 'slow' || x FROM n`,
        params: [],
      };
      const held = writer.run([slow]);
      await new Promise((r) => setTimeout(r, 20));
      await worker.terminate();
      const lost = await rejection(held);
      expect(lost).to.be.instanceOf(Error);
      // Within the pause: refused at once with the reason, no new worker yet.
      expect(await rejection(writer.run([insert('too-soon')]))).to.equal(lost);
      await new Promise((r) => setTimeout(r, 1100));
      await writer.run([insert('after')]);
      const keys = (db.prepare('SELECT k FROM t ORDER BY k').raw().all() as string[][]).map(([k]) => k);
      expect(keys).to.include.members(['before', 'after']).and.not.include('too-soon');
    } finally {
      await writer.close();
      db.close();
    }
  });
});

describe('embedded store commits through the writer', () => {
  let dir: string;
  const opened: RegistryStore[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'koblingspunkt-commit-'));
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Rows of every table the commit writes, to show a failed batch left each exactly as it was. */
  const snapshot = (path: string): unknown => {
    const db = new Database(path, { readonly: true });
    try {
      return {
        objects: db.prepare('SELECT seq, entry_uuid, rev, packed FROM objects ORDER BY seq').raw().all(),
        referenceIds: db.prepare('SELECT value, seq FROM reference_ids ORDER BY value, seq').raw().all(),
        rev: db.prepare('SELECT rev FROM meta').pluck().get(),
      };
    } finally {
      db.close();
    }
  };

  const cases: [string, () => { store: RegistryStore; state: () => unknown }][] = [
    [
      'file (worker thread)',
      () => {
        const path = join(dir, 'registry.sqlite');
        const store = openEmbeddedStore({ path });
        opened.push(store);
        return { store, state: () => snapshot(path) };
      },
    ],
    [
      ':memory: (inline)',
      () => {
        const store = openEmbeddedStore({ path: ':memory:' });
        opened.push(store);
        // No second connection can see a memory database: compare what the store answers, the
        // reference ids through their own table (a referenceIdList filter preselects there).
        return { store, state: async () => ({ all: await store.find({}), refs: await Promise.all(REFS.map((r) => store.find({ referenceIdList: r }))) }) };
      },
    ],
  ];

  for (const [name, open] of cases) {
    describe(name, () => {
      let store: RegistryStore;
      let state: () => unknown;
      let existing: RegistryObject[];
      beforeEach(async () => {
        ({ store, state } = open());
        const sub = submission([documentEntry({ referenceIdList: ['REF-A^^^&1.2.3&ISO'] }), documentEntry()]);
        existing = sub.all;
        await store.commit(insertOnly(existing));
      });

      it('a duplicate entryUuid within one batch: DuplicateEntryUuidError naming it, nothing written', async () => {
        const before = await state();
        const doc = documentEntry({ referenceIdList: ['REF-B^^^&1.2.3&ISO'] });
        const error = await rejection(store.commit(insertOnly([documentEntry({ referenceIdList: ['REF-C^^^&1.2.3&ISO'] }), doc, { ...doc, uniqueId: '1.2.3.4' }])));
        expect(error).to.be.instanceOf(DuplicateEntryUuidError);
        expect(error).to.have.property('entryUuid', doc.entryUuid);
        expect(await state()).to.deep.equal(before);
      });

      it('a duplicate of a stored entryUuid, after a replacement in the same batch: nothing written', async () => {
        const before = await state();
        const target = existing[1]!;
        const error = await rejection(
          store.commit({
            inserts: [documentEntry({ referenceIdList: ['REF-D^^^&1.2.3&ISO'] }), { ...existing[3]!, entryUuid: existing[2]!.entryUuid }],
            replacements: [{ ...target, availabilityStatus: 'Deprecated' } as RegistryObject],
          }),
        );
        expect(error).to.be.instanceOf(DuplicateEntryUuidError);
        expect(error).to.have.property('entryUuid', existing[2]!.entryUuid);
        expect(await state()).to.deep.equal(before);
      });

      it('a replacement of an unknown entryUuid: UnknownEntryUuidError naming it, nothing written', async () => {
        const before = await state();
        const unknown = documentEntry({ referenceIdList: ['REF-E^^^&1.2.3&ISO'] });
        const error = await rejection(
          store.commit({
            inserts: [documentEntry({ referenceIdList: ['REF-F^^^&1.2.3&ISO'] })],
            replacements: [{ ...existing[1]!, availabilityStatus: 'Deprecated' } as RegistryObject, unknown],
          }),
        );
        expect(error).to.be.instanceOf(UnknownEntryUuidError);
        expect(error).to.have.property('entryUuid', unknown.entryUuid);
        expect(await state()).to.deep.equal(before);
      });

      it('a deletion of an unknown entryUuid: UnknownEntryUuidError naming it, the other deletions undone', async () => {
        const before = await state();
        const missing = uuid();
        const error = await rejection(
          store.commit({ inserts: [documentEntry()], replacements: [], deletions: [existing[1]!.entryUuid, missing, existing[2]!.entryUuid] }),
        );
        expect(error).to.be.instanceOf(UnknownEntryUuidError);
        expect(error).to.have.property('entryUuid', missing);
        expect(await state()).to.deep.equal(before);
        // The same id deleted twice in one batch: the second deletion finds nothing.
        const twice = await rejection(store.commit({ inserts: [], replacements: [], deletions: [existing[1]!.entryUuid, existing[1]!.entryUuid] }));
        expect(twice).to.be.instanceOf(UnknownEntryUuidError);
        expect(await state()).to.deep.equal(before);
      });

      it('after a failed batch the next one commits, and an insert, replacement and deletion of one id in one batch apply in order', async () => {
        await rejection(store.commit(insertOnly([existing[0]!])));
        const doc = documentEntry({ referenceIdList: ['REF-G^^^&1.2.3&ISO'] });
        const replaced = { ...doc, referenceIdList: ['REF-H^^^&1.2.3&ISO'] };
        await store.commit({ inserts: [doc], replacements: [replaced] });
        expect(await store.getByUuids([doc.entryUuid])).to.deep.equal([replaced]);
        expect(await store.find({ referenceIdList: 'REF-G^^^&1.2.3&ISO' })).to.deep.equal([]);
        expect(await store.find({ referenceIdList: 'REF-H^^^&1.2.3&ISO' })).to.deep.equal([replaced]);
        await store.commit({ inserts: [], replacements: [], deletions: [doc.entryUuid] });
        expect(await store.find({ referenceIdList: 'REF-H^^^&1.2.3&ISO' })).to.deep.equal([]);
        expect(await store.count({})).to.equal(existing.length);
      });
    });
  }

  it('close() lets a commit in flight finish; a commit after close() is refused', async () => {
    const path = join(dir, 'registry.sqlite');
    const store = openEmbeddedStore({ path });
    const doc = documentEntry();
    const pending = store.commit(insertOnly([doc]));
    await store.close();
    await pending;
    expect(await rejection(store.commit(insertOnly([documentEntry()])))).to.be.instanceOf(Error);
    const again = openEmbeddedStore({ path });
    opened.push(again);
    expect(await again.getByUuids([doc.entryUuid])).to.deep.equal([doc]);
  });

  it('creates the schema on the store’s own connection, before open returns (the writer only writes rows)', () => {
    const path = join(dir, 'registry.sqlite');
    opened.push(openEmbeddedStore({ path }));
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).to.equal(SCHEMA_VERSION);
      expect(db.prepare('SELECT rev FROM meta').pluck().get()).to.equal(0);
    } finally {
      db.close();
    }
  });
});
