/** The generator's BatchingStore: pending objects read as committed, one atomic commit underneath on flush. */
import { expect } from 'chai';
import { NO_EXTRA, type RegistryObject } from '../../registry/model/metadata';
import { openEmbeddedStore } from '../../registry/store/embedded';
import { DuplicateEntryUuidError, UnknownEntryUuidError, type CommitBatch, type RegistryStore } from '../../registry/store/store';
import { BatchingStore } from '../../scripts/generate/batching-store';
import { documentEntry, PATIENT } from '../validate/fixtures';

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
      commit: async (b) => {
        commits.push(b);
        await store.commit(b);
      },
      close: () => store.close(),
    },
  };
}

describe('BatchingStore', () => {
  let base: RegistryStore;
  beforeEach(() => {
    base = openEmbeddedStore({ path: ':memory:' });
  });
  afterEach(async () => base.close());

  it('answers reads from committed and pending objects alike, and writes them in one commit on flush', async () => {
    const under = counting(base);
    const batching = new BatchingStore(under.store);
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
    const batching = new BatchingStore(base);
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
});
