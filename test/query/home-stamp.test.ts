/**
 * runStoredQuery stamps our homeCommunityId on every returned object without a copy per request:
 * the same frozen stored object gives the same frozen stamped object every time (the LeafClass
 * writer keys its remembered fragments on that identity), and an unfrozen one a fresh copy.
 */
import { expect } from 'chai';
import type { DocumentEntry, RegistryObject } from '../../registry/model/metadata.js';
import { STORED_QUERY_ID } from '../../registry/model/query.js';
import { runStoredQuery } from '../../registry/query/index.js';
import type { RegistryStore } from '../../registry/store/store.js';
import { richSubmission } from '../ebxml/fixtures.js';

const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1';
const OTHER_HOME = 'urn:oid:2.16.578.1.12.4.5.100.2';

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** A store that answers every find with these objects, as the embedded store's cache does. */
const storeOf = (objects: () => RegistryObject[]): RegistryStore => ({ find: async () => objects() }) as unknown as RegistryStore;

const entries = (): DocumentEntry[] => richSubmission().documentEntries.map((d) => ({ ...d, homeCommunityId: undefined as never }));

function request(entryUuid: string) {
  return {
    queryId: STORED_QUERY_ID.GetDocuments,
    returnType: 'LeafClass' as const,
    parameters: [{ name: '$XDSDocumentEntryEntryUUID', values: [`('${entryUuid}')`] }],
  };
}

async function query(store: RegistryStore, home: string | undefined): Promise<readonly RegistryObject[]> {
  const result = await runStoredQuery(store, request('urn:uuid:00000000-0000-4000-8000-000000000000'), {
    maxResults: 100,
    ...(home !== undefined ? { homeCommunityId: home } : {}),
  });
  expect(result.errors).to.deep.equal([]);
  return result.objects;
}

describe('runStoredQuery: homeCommunityId without a copy per request', () => {
  it('gives the same frozen stamped object for the same frozen stored object, and leaves it alone', async () => {
    const stored = deepFreeze(richSubmission().documentEntries.map((d) => { const { homeCommunityId: _, ...rest } = d; return rest as DocumentEntry; }));
    const store = storeOf(() => stored);
    const first = await query(store, HOME);
    const second = await query(store, HOME);
    expect(first).to.have.length(stored.length);
    first.forEach((o, i) => {
      expect(o.homeCommunityId).to.equal(HOME);
      expect(o).to.equal(second[i]);
      expect(o).to.not.equal(stored[i]);
      expect(Object.isFrozen(o)).to.equal(true);
      expect({ ...o, homeCommunityId: undefined }).to.deep.equal({ ...stored[i], homeCommunityId: undefined });
      expect(stored[i]!.homeCommunityId).to.equal(undefined);
    });
  });

  it('stamps another home anew, and returns an object that already carries ours as it is', async () => {
    const stored = deepFreeze(entries());
    const store = storeOf(() => stored);
    const ours = await query(store, HOME);
    const theirs = await query(store, OTHER_HOME);
    expect(theirs.every((o) => o.homeCommunityId === OTHER_HOME)).to.equal(true);
    expect((await query(store, HOME)).every((o) => o.homeCommunityId === HOME)).to.equal(true);
    expect(ours.every((o) => o.homeCommunityId === HOME)).to.equal(true);
    const alreadyOurs = deepFreeze(entries().map((d) => ({ ...d, homeCommunityId: HOME })));
    const same = await query(storeOf(() => alreadyOurs), HOME);
    same.forEach((o, i) => expect(o).to.equal(alreadyOurs[i]));
  });

  it('copies unfrozen objects every time (they could change) and never touches them', async () => {
    const open = entries();
    const store = storeOf(() => open);
    const first = await query(store, HOME);
    const second = await query(store, HOME);
    first.forEach((o, i) => {
      expect(o).to.not.equal(second[i]);
      expect(o.homeCommunityId).to.equal(HOME);
      expect(open[i]!.homeCommunityId).to.equal(undefined);
    });
  });

  it('without a home, returns the stored objects themselves', async () => {
    const stored = deepFreeze(entries());
    const objects = await query(storeOf(() => stored), undefined);
    objects.forEach((o, i) => expect(o).to.equal(stored[i]));
  });
});
