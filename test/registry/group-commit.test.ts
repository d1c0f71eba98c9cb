/**
 * ITI-42 group commit: concurrent registrations on one store are decided in arrival order against
 * one overlay and written in one commit, with the answers a serial registry gives.
 */
import { expect } from 'chai';
import { type Association, type DocumentEntry, type Folder, type Submission } from '../../registry/model/metadata.js';
import type { RegisterOutcome } from '../../registry/register.js';
import { MAX_GROUP_WRITES } from '../../registry/write-queue.js';
import { DocumentRegistry } from '../../registry/registry.js';
import { openEmbeddedStore } from '../../registry/store/embedded/index.js';
import { DuplicateEntryUuidError, type CommitBatch, type RegistryStore } from '../../registry/store/store.js';
import { association, documentEntry, folder, policy, singleDocument } from '../validate/fixtures.js';

const NOW = Date.UTC(2024, 5, 1, 10, 0, 0);
const uuid = (n: number) => `urn:uuid:6a1f0c3e-1b2d-4e5f-8a9b-${String(n).padStart(12, '0')}`;

/** Wraps a store: records every commit that reaches it, and lets a test make the next commit fail. */
class CountingStore implements RegistryStore {
  readonly commits: CommitBatch[] = [];
  /** Runs instead of the commit's first attempt when set (once). */
  failNext: ((batch: CommitBatch) => Promise<void>) | undefined;

  constructor(readonly base: RegistryStore) {}

  find: RegistryStore['find'] = (f, o) => this.base.find(f, o);
  getByUuids: RegistryStore['getByUuids'] = (ids) => this.base.getByUuids(ids);
  count: RegistryStore['count'] = (f) => this.base.count(f);
  objectCounts: RegistryStore['objectCounts'] = () => this.base.objectCounts();
  close: RegistryStore['close'] = () => this.base.close();

  async commit(batch: CommitBatch): Promise<void> {
    this.commits.push(batch);
    const fail = this.failNext;
    this.failNext = undefined;
    if (fail !== undefined) return fail(batch);
    return this.base.commit(batch);
  }

  /** The SubmissionSet uniqueIds of each commit that reached the store. */
  submissionSetsPerCommit(): string[][] {
    return this.commits.map((b) => b.inserts.flatMap((o) => (o.type === 'SubmissionSet' ? [o.uniqueId!] : [])));
  }
}

function registryOver(store: RegistryStore): DocumentRegistry {
  return new DocumentRegistry(store, { queryResultLimit: 1000, patientIds: policy, now: () => new Date(NOW) });
}

/** Document01 with a pre-assigned entryUUID, so that other submissions can name it. */
function documentWithUuid(id: string, overrides: Partial<DocumentEntry> = {}): Submission {
  const sub = singleDocument(overrides);
  return {
    ...sub,
    documentEntries: [documentEntry(id, overrides)],
    associations: [association('Assoc01', 'HasMember', 'SubmissionSet01', id, { submissionSetStatus: 'Original' })],
  };
}

function replacing(target: string): Submission {
  const sub = singleDocument();
  return { ...sub, associations: [...sub.associations, association('Rplc01', 'RPLC', 'Document01', target)] };
}

function unknownPatient(): Submission {
  const bad = '13116900217^^^&2.16.578.1.12.4.1.4.1&ISO';
  const sub = singleDocument({ patientId: bad });
  return { ...sub, submissionSet: { ...sub.submissionSet, patientId: bad } };
}

/** An outcome without its messages (they may name the random entryUUID a registered object got). */
function judged(outcomes: readonly RegisterOutcome[]): unknown[] {
  return outcomes.map((o) => ({ status: o.status, errors: o.errors.map((e) => [e.code, e.severity, e.location]) }));
}

/** Registers the submissions one after another on a fresh store: the answers a serial registry gives. */
async function serially(subs: readonly Submission[]): Promise<RegisterOutcome[]> {
  const store = openEmbeddedStore({ path: ':memory:' });
  const registry = registryOver(store);
  const out: RegisterOutcome[] = [];
  for (const sub of subs) out.push(await registry.register(sub));
  await store.close();
  return out;
}

describe('ITI-42 group commit', () => {
  let base: RegistryStore;
  let store: CountingStore;
  let registry: DocumentRegistry;
  beforeEach(() => {
    base = openEmbeddedStore({ path: ':memory:' });
    store = new CountingStore(base);
    registry = registryOver(store);
  });
  afterEach(() => base.close());

  it('writes concurrent registrations in fewer commits than submissions, and stores them all', async () => {
    const subs = Array.from({ length: 12 }, () => singleDocument());
    const outcomes = await Promise.all(subs.map((s) => registry.register(s)));
    expect(outcomes.map((o) => o.status)).to.deep.equal(subs.map(() => 'Success'));
    expect(store.commits.length).to.be.greaterThan(0).and.lessThan(subs.length);
    for (const sub of subs) {
      expect(await base.count({ type: 'DocumentEntry', uniqueId: sub.documentEntries[0]!.uniqueId! })).to.equal(1);
      expect(await base.count({ type: 'SubmissionSet', uniqueId: sub.submissionSet.uniqueId! })).to.equal(1);
    }
    expect(await base.count({ type: 'Association' })).to.equal(subs.length);
  });

  it('fails a bad submission of a group alone, with its IHE error code', async () => {
    const subs = [singleDocument(), unknownPatient(), singleDocument()];
    const outcomes = await Promise.all(subs.map((s) => registry.register(s)));
    expect(outcomes.map((o) => o.status)).to.deep.equal(['Success', 'Failure', 'Success']);
    expect(outcomes[1]!.errors.map((e) => e.code)).to.include('XDSUnknownPatientId');
    expect(outcomes[1]).to.deep.equal((await serially([subs[1]!]))[0]);
    expect(store.commits).to.have.length(1);
    expect(await base.count({ type: 'DocumentEntry' })).to.equal(2);
    expect(await base.count({ type: 'SubmissionSet', uniqueId: subs[1]!.submissionSet.uniqueId! })).to.equal(0);
  });

  it('judges a uniqueId repeated within a group as the serial registry does (NIST 12004)', async () => {
    const first = singleDocument();
    const uid = first.documentEntries[0]!.uniqueId!;
    const subs = [
      first,
      singleDocument({ uniqueId: uid, hash: 'ffffffffffffffffffffffffffffffffffffffff' }),
      singleDocument({ uniqueId: uid }),
    ];
    const outcomes = await Promise.all(subs.map((s) => registry.register(s)));
    expect(outcomes.map((o) => o.status)).to.deep.equal(['Success', 'Failure', 'Success']);
    expect(outcomes[1]!.errors.map((e) => e.code)).to.include('XDSNonIdenticalHash');
    expect(judged(outcomes)).to.deep.equal(judged(await serially(subs)));
    expect(store.commits).to.have.length(1);
    expect(await base.count({ type: 'DocumentEntry', uniqueId: uid })).to.equal(2);
  });

  it('rejects an entryUUID pre-assigned twice within a group as the serial registry does (NIST 15806)', async () => {
    const subs = [documentWithUuid(uuid(1)), documentWithUuid(uuid(1))];
    const outcomes = await Promise.all(subs.map((s) => registry.register(s)));
    expect(outcomes[0]!.status).to.equal('Success');
    expect(outcomes[1]!.errors.map((e) => [e.code, e.location])).to.deep.include(['XDSRegistryMetadataError', uuid(1)]);
    expect(outcomes).to.deep.equal(await serially(subs));
    expect(await base.count({ type: 'DocumentEntry' })).to.equal(1);
  });

  it('replaces a document submitted earlier in the same group (RPLC)', async () => {
    const original = documentWithUuid(uuid(2));
    const replacement = replacing(uuid(2));
    const outcomes = await Promise.all([registry.register(original), registry.register(replacement)]);
    expect(outcomes.map((o) => o.status), JSON.stringify(outcomes)).to.deep.equal(['Success', 'Success']);
    expect(store.commits).to.have.length(1);
    const [stored] = (await base.getByUuids([uuid(2)])) as DocumentEntry[];
    expect(stored!.availabilityStatus).to.equal('Deprecated');
    const [newer] = (await base.find({ type: 'DocumentEntry', uniqueId: replacement.documentEntries[0]!.uniqueId! })) as DocumentEntry[];
    expect(newer!.availabilityStatus).to.equal('Approved');
    const rplc = (await base.find({ type: 'Association', targetUuid: uuid(2), sourceUuid: newer!.entryUuid })) as Association[];
    expect(rplc).to.have.length(1);
  });

  it('moves a folder’s lastUpdateTime forward for each submission of a group that adds to it (NIST 12323)', async () => {
    const created = singleDocument();
    const createFolder: Submission = {
      ...created,
      folders: [folder(uuid(3))],
      associations: [
        ...created.associations,
        association('Assoc02', 'HasMember', 'SubmissionSet01', uuid(3)),
        association('Assoc03', 'HasMember', uuid(3), 'Document01'),
        association('Assoc04', 'HasMember', 'SubmissionSet01', 'Assoc03'),
      ],
    };
    const addToFolder = (): Submission => {
      const sub = singleDocument();
      return {
        ...sub,
        associations: [...sub.associations, association('Add01', 'HasMember', uuid(3), 'Document01'), association('Assoc09', 'HasMember', 'SubmissionSet01', 'Add01')],
        objectRefs: [uuid(3)],
      };
    };
    const subs = [createFolder, addToFolder(), addToFolder()];
    const outcomes = await Promise.all(subs.map((s) => registry.register(s)));
    expect(outcomes.map((o) => o.status), JSON.stringify(outcomes)).to.deep.equal(['Success', 'Success', 'Success']);
    expect(store.commits).to.have.length(1);
    const [f] = (await base.getByUuids([uuid(3)])) as Folder[];
    // The clock stands still: created at 10:00:00, then one second later for each addition.
    expect(f!.lastUpdateTime).to.equal('20240601100002');
    expect(await base.count({ type: 'Association', sourceUuid: uuid(3) })).to.equal(3);
  });

  it('fails every submission of a group whose commit throws, stores none of them, and decides the rejected ones again', async () => {
    const subs = [singleDocument(), documentWithUuid(uuid(4)), replacing(uuid(4)), unknownPatient()];
    const diskFull = new Error('disk I/O error');
    store.failNext = () => Promise.reject(diskFull);
    const settled = await Promise.allSettled(subs.map((s) => registry.register(s)));
    expect(settled.slice(0, 3).map((s) => (s.status === 'rejected' ? s.reason : s.value))).to.deep.equal([diskFull, diskFull, diskFull]);
    expect(settled[3]).to.deep.include({ status: 'fulfilled' });
    expect((settled[3] as PromiseFulfilledResult<RegisterOutcome>).value.errors.map((e) => e.code)).to.include('XDSUnknownPatientId');
    expect(await base.count({})).to.equal(0);

    // The store works again: the next registration is decided and committed normally.
    expect((await registry.register(singleDocument())).status).to.equal('Success');
    expect(await base.count({ type: 'DocumentEntry' })).to.equal(1);
  });

  it('decides a rejected submission again when the commit its verdict rested on failed', async () => {
    const original = documentWithUuid(uuid(5));
    // Alone (without the original) this is valid; with the original in the group it is a duplicate entryUUID.
    const sameUuid = documentWithUuid(uuid(5));
    store.failNext = () => Promise.reject(new Error('disk I/O error'));
    const settled = await Promise.allSettled([registry.register(original), registry.register(sameUuid)]);
    expect(settled[0]!.status).to.equal('rejected');
    expect(settled[1]).to.deep.include({ status: 'fulfilled' });
    expect((settled[1] as PromiseFulfilledResult<RegisterOutcome>).value.status).to.equal('Success');
    expect(await base.count({ type: 'DocumentEntry' })).to.equal(1);
    expect(store.commits).to.have.length(2);
  });

  it('fails only the owner of an entryUUID another writer stored meanwhile; the rest of its group is committed', async () => {
    const subs = [singleDocument(), documentWithUuid(uuid(6)), singleDocument()];
    store.failNext = async (batch) => {
      // Another process registers a document with the same pre-assigned entryUUID first.
      await base.commit({ inserts: [documentEntry(uuid(6))], replacements: [] });
      await base.commit(batch);
    };
    const outcomes = await Promise.all(subs.map((s) => registry.register(s)));
    expect(outcomes.map((o) => o.status)).to.deep.equal(['Success', 'Failure', 'Success']);
    expect(outcomes[1]!.errors.map((e) => [e.code, e.location])).to.deep.equal([['XDSRegistryMetadataError', uuid(6)]]);
    expect(store.commits).to.have.length(2);
    for (const i of [0, 2]) {
      expect(await base.count({ type: 'SubmissionSet', uniqueId: subs[i]!.submissionSet.uniqueId! })).to.equal(1);
    }
    expect(await base.count({ type: 'SubmissionSet', uniqueId: subs[1]!.submissionSet.uniqueId! })).to.equal(0);
  });

  it('answers a clash it cannot attribute as a failed single commit does', async () => {
    const subs = [singleDocument(), singleDocument()];
    store.failNext = () => Promise.reject(new DuplicateEntryUuidError(uuid(7)));
    const outcomes = await Promise.all(subs.map((s) => registry.register(s)));
    for (const o of outcomes) expect(o).to.deep.include({ status: 'Failure' });
    for (const o of outcomes) expect(o.errors.map((e) => [e.code, e.location])).to.deep.equal([['XDSRegistryMetadataError', uuid(7)]]);
    expect(await base.count({})).to.equal(0);
  });

  it('reads a group\'s uniqueIds ahead in one lookup; a failed read-ahead leaves each write to read, and fail, alone', async () => {
    const finds: unknown[] = [];
    store.find = (f, o) => (finds.push(f), base.find(f, o));
    const subs = Array.from({ length: 8 }, () => singleDocument());
    const outcomes = await Promise.all(subs.map((s) => registry.register(s)));
    expect(outcomes.map((o) => o.status)).to.deep.equal(subs.map(() => 'Success'));
    // One find per group (the read-ahead), not one per registration.
    expect(finds.length).to.equal(store.commits.length);

    // The store's reads fail once (the next group's read-ahead): the group is decided as before.
    let failures = 1;
    store.find = (f, o) => (failures-- > 0 ? Promise.reject(new Error('read failed')) : base.find(f, o));
    const again = await Promise.all([singleDocument(), singleDocument()].map((s) => registry.register(s)));
    expect(again.map((o) => o.status)).to.deep.equal(['Success', 'Success']);

    // Reads that always fail fail every write with the store's error, as before: nothing hangs.
    store.find = () => Promise.reject(new Error('read failed'));
    const failed = await Promise.allSettled([singleDocument(), singleDocument()].map((s) => registry.register(s)));
    expect(failed.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : r.status))).to.deep.equal(['read failed', 'read failed']);
  });

  it('commits in arrival order, in bounded groups', async () => {
    const answered: number[] = [];
    const subs = Array.from({ length: MAX_GROUP_WRITES + 8 }, () => singleDocument());
    const pending: Promise<RegisterOutcome>[] = [];
    for (const [i, sub] of subs.entries()) {
      pending.push(registry.register(sub).then((o) => (answered.push(i), o)));
      // Some arrive while a group is already being decided.
      if (i % 10 === 9) await new Promise((r) => setImmediate(r));
    }
    const outcomes = await Promise.all(pending);
    expect(outcomes.every((o) => o.status === 'Success')).to.equal(true);
    const perCommit = store.submissionSetsPerCommit();
    expect(perCommit.flat()).to.deep.equal(subs.map((s) => s.submissionSet.uniqueId));
    expect(perCommit.length).to.be.lessThan(subs.length);
    for (const group of perCommit) expect(group.length).to.be.at.most(MAX_GROUP_WRITES);
    expect(answered).to.deep.equal(subs.map((_, i) => i));
    // Insertion order in the store is arrival order.
    const stored = await base.find({ type: 'SubmissionSet' });
    expect(stored.map((o) => (o as { uniqueId?: string }).uniqueId)).to.deep.equal(subs.map((s) => s.submissionSet.uniqueId));
  });

  it('registers a submission arriving while the previous group commits in the next group', async () => {
    const first = singleDocument();
    const second = singleDocument();
    let secondCall: Promise<RegisterOutcome> | undefined;
    store.failNext = async (batch) => {
      secondCall = registry.register(second);
      await base.commit(batch);
    };
    expect((await registry.register(first)).status).to.equal('Success');
    expect((await secondCall!).status).to.equal('Success');
    expect(store.submissionSetsPerCommit()).to.deep.equal([[first.submissionSet.uniqueId], [second.submissionSet.uniqueId]]);
  });
});
