/** StoreOverlay (group commit and the generator): pending objects read as committed, one atomic commit underneath on flush. */
import { expect } from 'chai';
import { NO_EXTRA, type DocumentEntry, type RegistryObject } from '../../registry/model/metadata.js';
import { openEmbeddedStore } from '../../registry/store/embedded/index.js';
import { DuplicateEntryUuidError, UnknownEntryUuidError, type CommitBatch, type RegistryFilter, type RegistryStore } from '../../registry/store/store.js';
import { ReinsertAfterDeleteError, StoreOverlay } from '../../registry/store-overlay.js';
import { documentEntry, folder, OTHER_PATIENT, PATIENT } from '../validate/fixtures.js';

const uuid = (n: number) => `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function hasMember(n: number, source: string, target: string): RegistryObject {
  return { type: 'Association', entryUuid: uuid(n), associationType: 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember', sourceUuid: source, targetUuid: target, availabilityStatus: 'Approved', extra: NO_EXTRA };
}

/** Counts the commits that reach the store underneath. */
function counting(store: RegistryStore): { store: RegistryStore; commits: CommitBatch[] } {
  const commits: CommitBatch[] = [];
  return {
    commits,
    store: {
      find: (f, o) => store.find(f, o),
      getByUuids: (ids) => store.getByUuids(ids),
      count: (f) => store.count(f),
      objectCounts: () => store.objectCounts(),
      commit: async (b) => {
        commits.push(b);
        await store.commit(b);
      },
      close: () => store.close(),
    },
  };
}

describe('StoreOverlay', () => {
  let base: RegistryStore;
  beforeEach(() => {
    base = openEmbeddedStore({ path: ':memory:' });
  });
  afterEach(async () => base.close());

  it('answers reads from committed and pending objects alike, and writes them in one commit on flush', async () => {
    const under = counting(base);
    const batching = new StoreOverlay(under.store);
    const committed = documentEntry(uuid(1), { uniqueId: '1.2.3.1' });
    await base.commit({ inserts: [committed], replacements: [] });
    const pending = documentEntry(uuid(2), { uniqueId: '1.2.3.2' });
    await batching.commit({ inserts: [pending, hasMember(3, uuid(2), uuid(1))], replacements: [{ ...committed, availabilityStatus: 'Deprecated' }] });

    expect((await batching.find({ type: 'DocumentEntry', uniqueId: { $in: ['1.2.3.1', '1.2.3.2'] } })).map((o) => [o.entryUuid, o.availabilityStatus])).to.deep.equal([
      [uuid(1), 'Deprecated'],
      [uuid(2), 'Approved'],
    ]);
    expect(await batching.count({ type: 'Association', targetUuid: uuid(1) })).to.equal(1);
    expect((await batching.getByUuids([uuid(1), uuid(2)])).length).to.equal(2);
    expect(await base.count({ type: 'DocumentEntry', availabilityStatus: 'Approved' })).to.equal(1);
    expect(under.commits).to.have.length(0);

    await batching.flush();
    expect(under.commits).to.have.length(1);
    expect(await base.count({ patientId: PATIENT, type: 'DocumentEntry', availabilityStatus: 'Deprecated' })).to.equal(1);
    expect(await base.count({ type: 'Association' })).to.equal(1);
    expect(batching.pendingObjects).to.equal(0);
  });

  it('keeps the store contract: duplicate inserts and unknown replacements fail and change nothing', async () => {
    const batching = new StoreOverlay(base);
    await base.commit({ inserts: [documentEntry(uuid(1))], replacements: [] });
    await batching.commit({ inserts: [documentEntry(uuid(2))], replacements: [] });
    for (const dup of [uuid(1), uuid(2)]) {
      let failure: unknown;
      await batching.commit({ inserts: [documentEntry(uuid(5)), documentEntry(dup)], replacements: [] }).catch((e: unknown) => (failure = e));
      expect(failure).to.be.instanceOf(DuplicateEntryUuidError);
    }
    let failure: unknown;
    await batching.commit({ inserts: [documentEntry(uuid(6))], replacements: [documentEntry(uuid(9))] }).catch((e: unknown) => (failure = e));
    expect(failure).to.be.instanceOf(UnknownEntryUuidError);
    expect(batching.pendingObjects).to.equal(1);
    await batching.flush();
    expect((await base.find({ type: 'DocumentEntry' })).map((o) => o.entryUuid)).to.deep.equal([uuid(1), uuid(2)]);
  });

  for (const readAhead of [false, true]) {
  it(`reads exactly what the store reads after the same commits: order, limit, replacements, deletions${readAhead ? ' (with a read-ahead)' : ''}`, async () => {
    const direct = openEmbeddedStore({ path: ':memory:' });
    try {
      const overlay = new StoreOverlay(base);
      const de = (n: number, overrides: Partial<DocumentEntry> = {}) => documentEntry(uuid(n), { uniqueId: `1.2.3.${n}`, ...overrides });
      const setup: CommitBatch = {
        inserts: [de(1), de(2, { patientId: OTHER_PATIENT }), de(3), de(4), folder(uuid(5), { lastUpdateTime: '20240101120000' }), hasMember(6, uuid(5), uuid(1))],
        replacements: [],
      };
      const steps: CommitBatch[] = [
        // New objects, one sharing a committed uniqueId.
        { inserts: [de(10, { uniqueId: '1.2.3.2' }), de(11), hasMember(12, uuid(5), uuid(10))], replacements: [] },
        // A committed document enters "Deprecated" and leaves "Approved"; a pending one too.
        { inserts: [], replacements: [{ ...de(2, { patientId: OTHER_PATIENT }), availabilityStatus: 'Deprecated' }, { ...de(10, { uniqueId: '1.2.3.2' }), availabilityStatus: 'Deprecated' }] },
        // A committed and a pending object deleted.
        { inserts: [], replacements: [], deletions: [uuid(3), uuid(11)] },
        // Pending inserts whose uniqueIds interleave with earlier ones, and a folder moved.
        { inserts: [de(13, { uniqueId: '1.2.3.1' }), de(14, { uniqueId: '1.2.3.10' })], replacements: [{ ...folder(uuid(5)), lastUpdateTime: '20240101130000' }] },
        // Replaced twice: the last version counts, at its first place.
        { inserts: [], replacements: [{ ...de(4), availabilityStatus: 'Deprecated' }] },
        { inserts: [], replacements: [{ ...de(4), availabilityStatus: 'Approved', title: { value: 'v3' } }] },
      ];
      const filters: RegistryFilter[] = [
        {},
        { type: 'DocumentEntry' },
        { type: 'DocumentEntry', availabilityStatus: 'Deprecated' },
        { availabilityStatus: 'Approved' },
        { type: 'DocumentEntry', patientId: PATIENT, availabilityStatus: { $in: ['Approved', 'Deprecated'] } },
        { uniqueId: { $in: ['1.2.3.10', '1.2.3.1', '1.2.3.2'] } },
        { entryUuid: { $in: [uuid(14), uuid(4), uuid(2), uuid(3), uuid(11)] } },
        { type: 'Association', sourceUuid: uuid(5) },
        // A registration's uniqueId check (register.ts loadSnapshot), and narrower ones.
        { type: { $in: ['DocumentEntry', 'SubmissionSet', 'Folder'] }, uniqueId: { $in: ['1.2.3.2', '1.2.3.4', '1.2.3.99'] } },
        { uniqueId: '1.2.3.4', availabilityStatus: 'Approved' },
        { uniqueId: { $in: ['1.2.3.3', '1.2.3.11'] } },
        // Beyond the read-ahead: from the store.
        { uniqueId: { $in: ['1.2.3.5', '1.2.3.1'] } },
        { type: 'Folder', '_s.lastUpdateTime': { $gte: '20240101123000' } },
        { 'title.value': 'v3' },
      ];
      const plain = (objs: readonly RegistryObject[]) => JSON.parse(JSON.stringify(objs)) as unknown;
      const compare = async (reader: RegistryStore, when: string): Promise<void> => {
        for (const filter of filters) {
          for (const limit of [undefined, 0, 1, 2, 3]) {
            const options = limit === undefined ? {} : { limit };
            expect(plain(await reader.find(filter, options)), `${when}: find ${JSON.stringify(filter)} limit ${limit}`).to.deep.equal(plain(await direct.find(filter, options)));
          }
          expect(await reader.count(filter), `${when}: count ${JSON.stringify(filter)}`).to.equal(await direct.count(filter));
        }
        const ids = Array.from({ length: 15 }, (_, i) => uuid(i));
        const byId = (objs: readonly RegistryObject[]) => plain([...objs].sort((a, b) => a.entryUuid.localeCompare(b.entryUuid)));
        expect(byId(await reader.getByUuids(ids)), `${when}: getByUuids`).to.deep.equal(byId(await direct.getByUuids(ids)));
      };

      await base.commit(setup);
      await direct.commit(setup);
      if (readAhead) {
        await overlay.readAhead({
          entryUuids: [uuid(1), uuid(2), uuid(3), uuid(6), uuid(11), uuid(99)],
          uniqueIds: ['1.2.3.1', '1.2.3.2', '1.2.3.3', '1.2.3.4', '1.2.3.10', '1.2.3.11', '1.2.3.99'],
        });
      }
      for (const [i, step] of steps.entries()) {
        await overlay.commit(step);
        await direct.commit(step);
        await compare(overlay, `after step ${i}`);
      }
      await overlay.flush();
      await compare(base, 'after flush');
      // A flush forgets the read-ahead: what it read is no longer the store underneath.
      await compare(overlay, 'the overlay after flush');
    } finally {
      await direct.close();
    }
  });
  }

  it('reads the same while its own batch reaches the store before the overlay forgets it', async () => {
    const earlier = documentEntry(uuid(1), { uniqueId: '1.2.3.1' });
    const replaced = documentEntry(uuid(2), { uniqueId: '1.2.3.2' });
    const gone = documentEntry(uuid(3), { uniqueId: '1.2.3.3' });
    await base.commit({ inserts: [earlier, replaced, gone], replacements: [] });
    const overlay = new StoreOverlay(base);
    await overlay.commit({
      inserts: [documentEntry(uuid(4), { uniqueId: '1.2.3.4' }), documentEntry(uuid(5), { uniqueId: '1.2.3.5' })],
      replacements: [{ ...replaced, availabilityStatus: 'Deprecated' }],
      deletions: [uuid(3)],
    });
    const filters: RegistryFilter[] = [{ type: 'DocumentEntry' }, { type: 'DocumentEntry', availabilityStatus: 'Approved' }, { uniqueId: { $in: ['1.2.3.4', '1.2.3.2'] } }];
    const reads = async () => ({
      found: await Promise.all(filters.map(async (f) => (await overlay.find(f)).map((o) => [o.entryUuid, o.availabilityStatus]))),
      limited: await Promise.all([1, 2, 3].map(async (limit) => (await overlay.find({ type: 'DocumentEntry' }, { limit })).map((o) => o.entryUuid))),
      counted: await Promise.all(filters.map((f) => overlay.count(f))),
      byUuid: (await overlay.getByUuids([uuid(1), uuid(2), uuid(3), uuid(4)])).map((o) => o.entryUuid).sort(),
    });
    const before = await reads();
    // What flush does, without the overlay's forgetting: the store holds the batch, the overlay still too.
    await base.commit(overlay.batch());
    expect(await reads()).to.deep.equal(before);
    expect(before.found[0]).to.deep.equal([
      [uuid(1), 'Approved'],
      [uuid(2), 'Deprecated'],
      [uuid(4), 'Approved'],
      [uuid(5), 'Approved'],
    ]);
  });

  it('answers the lookups it read ahead without asking the store again', async () => {
    await base.commit({ inserts: [documentEntry(uuid(1), { uniqueId: '1.2.3.1' })], replacements: [] });
    const reads: string[] = [];
    const overlay = new StoreOverlay({
      ...counting(base).store,
      find: (f, o) => (reads.push(`find ${JSON.stringify(f)}`), base.find(f, o)),
      getByUuids: (ids) => (reads.push(`getByUuids ${ids.length}`), base.getByUuids(ids)),
    });
    await overlay.readAhead({ entryUuids: [uuid(1), uuid(2)], uniqueIds: ['1.2.3.1', '1.2.3.2'] });
    expect(reads).to.have.length(2);
    const registrationCheck = { type: { $in: ['DocumentEntry', 'SubmissionSet', 'Folder'] }, uniqueId: { $in: ['1.2.3.2', '1.2.3.1'] } };
    expect((await overlay.find(registrationCheck)).map((o) => o.entryUuid)).to.deep.equal([uuid(1)]);
    expect((await overlay.getByUuids([uuid(2), uuid(1)])).map((o) => o.entryUuid)).to.deep.equal([uuid(1)]);
    await overlay.commit({ inserts: [documentEntry(uuid(2), { uniqueId: '1.2.3.1' })], replacements: [] }, { insertsChecked: true });
    expect((await overlay.find(registrationCheck)).map((o) => o.entryUuid)).to.deep.equal([uuid(1), uuid(2)]);
    expect(reads).to.have.length(2);
    // Not read ahead: from the store.
    await overlay.find({ uniqueId: '1.2.3.3' });
    await overlay.getByUuids([uuid(3)]);
    expect(reads).to.have.length(4);
  });

  it('refuses to insert again an entryUUID it deleted, rather than fail at flush', async () => {
    await base.commit({ inserts: [documentEntry(uuid(1))], replacements: [] });
    const overlay = new StoreOverlay(base);
    await overlay.commit({ inserts: [], replacements: [], deletions: [uuid(1)] });
    let failure: unknown;
    await overlay.commit({ inserts: [documentEntry(uuid(1))], replacements: [] }).catch((e: unknown) => (failure = e));
    expect(failure).to.be.instanceOf(ReinsertAfterDeleteError);
    await overlay.flush();
    expect(await base.count({})).to.equal(0);
  });

  it('with insertsChecked, does not look the inserts up in the store; the store still refuses a duplicate at flush', async () => {
    await base.commit({ inserts: [documentEntry(uuid(1))], replacements: [] });
    const lookedUp: string[][] = [];
    const watched: RegistryStore = { ...counting(base).store, getByUuids: (ids) => (lookedUp.push([...ids]), base.getByUuids(ids)) };
    const overlay = new StoreOverlay(watched);
    await overlay.commit({ inserts: [documentEntry(uuid(2))], replacements: [] }, { insertsChecked: true });
    expect(lookedUp).to.deep.equal([]);
    // Checks within the overlay are still made.
    let failure: unknown;
    await overlay.commit({ inserts: [documentEntry(uuid(2))], replacements: [] }, { insertsChecked: true }).catch((e: unknown) => (failure = e));
    expect(failure).to.be.instanceOf(DuplicateEntryUuidError);
    // Without the option the store is asked, and a committed entryUUID is refused at once.
    failure = undefined;
    await overlay.commit({ inserts: [documentEntry(uuid(1))], replacements: [] }).catch((e: unknown) => (failure = e));
    expect(lookedUp).to.deep.equal([[uuid(1)]]);
    expect(failure).to.be.instanceOf(DuplicateEntryUuidError);
    // A caller that was wrong: the commit underneath refuses the batch whole.
    await overlay.commit({ inserts: [documentEntry(uuid(1))], replacements: [] }, { insertsChecked: true });
    failure = undefined;
    await overlay.flush().catch((e: unknown) => (failure = e));
    expect(failure).to.be.instanceOf(DuplicateEntryUuidError);
    expect((await base.find({})).map((o) => o.entryUuid)).to.deep.equal([uuid(1)]);
  });
});
