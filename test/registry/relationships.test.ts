/**
 * Document relationships remembered per entry object (registry/relationships.ts): an ITI-67 search
 * shows a replacement's relatesTo from memory, and stops showing it as soon as the relationship is
 * removed, also when another store on the same file (as another process would) removes it. The
 * invariant behind it, that a write changing a relationship writes its source entry anew, is
 * checked on the write path's batches directly too.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { expect } from 'chai';
import { deleteObjects } from '../../registry/delete.js';
import { ASSOCIATION_TYPE, NO_EXTRA, type Association, type DocumentEntry, type RegistryObject } from '../../registry/model/metadata.js';
import { relationshipsOf, restampRelationshipSources } from '../../registry/relationships.js';
import { openEmbeddedStore } from '../../registry/store/embedded/embedded-store.js';
import { EMBEDDED_FILE_NAME } from '../../registry/store/open.js';
import type { RegistryStore } from '../../registry/store/store.js';
import { KARI_FNR, minimalBundle, patientOf, REFERENCED_UUID, REPLACED_UUID, variant, type Json } from '../fhir/bundles.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

async function post(url: string, body: Json): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).to.equal(200);
}

/** Kari's current DocumentReferences, by id: their relatesTo (or undefined). */
async function currentRelatesTo(base: string): Promise<Map<string, Json>> {
  const res = await fetch(`${base}/DocumentReference?${patientOf(KARI_FNR)}&status=current`);
  expect(res.status).to.equal(200);
  const bundle = (await res.json()) as Json;
  return new Map((bundle.entry as Json[]).map((e) => [e.resource.id as string, e.resource.relatesTo]));
}

describe('Document relationships remembered per entry', function () {
  this.timeout(60_000);
  let node: TestNode;
  let base: string;
  let replacement: string;
  let replacementId: string;

  before(async () => {
    node = await startTestNode({ registry: { patientIds: { acceptSyntheticNorwegianIds: true } } });
    base = `${node.url}/fhir`;
    for (const uuid of [REPLACED_UUID, REFERENCED_UUID]) await post(base, variant({ entryUuid: uuid, patient: KARI_FNR }));
    await post(base, minimalBundle());
    const [rplc] = (await node.registry.store.find({ type: 'Association', associationType: ASSOCIATION_TYPE.RPLC, targetUuid: `urn:uuid:${REPLACED_UUID}` })) as Association[];
    replacement = rplc!.sourceUuid;
    // Resource ids are entryUUIDs without their urn:uuid: prefix.
    replacementId = replacement.replace(/^urn:uuid:/, '');
  });
  after(async () => node?.close());

  it('an ITI-67 search shows the replacement relatesTo, the same from memory on the next search', async () => {
    const expected = [{ code: 'replaces', target: { reference: `DocumentReference/${REPLACED_UUID}`, type: 'DocumentReference' } }];
    expect((await currentRelatesTo(base)).get(replacementId)).to.deep.equal(expected);
    expect((await currentRelatesTo(base)).get(replacementId)).to.deep.equal(expected);
  });

  it('a relationship removed by another store on the same file (as by another process) is gone from the next search', async () => {
    const store = node.registry.store;
    // The original goes with its RPLC, its submission and its membership (ITI-62 keeps no relationship whose both ends stay).
    const original = `urn:uuid:${REPLACED_UUID}`;
    const touching = (await store.find({ type: 'Association', $or: [{ sourceUuid: original }, { targetUuid: original }] })) as Association[];
    const sets = touching.filter((a) => a.associationType === ASSOCIATION_TYPE.HasMember).map((a) => a.sourceUuid);
    const setMembers = (await store.find({ type: 'Association', sourceUuid: { $in: sets } })) as Association[];
    const ids = [...new Set([original, ...sets, ...touching.map((a) => a.entryUuid), ...setMembers.map((a) => a.entryUuid)])];
    const before = (await store.getByUuids([replacement]))[0];
    const other = openEmbeddedStore({ path: join(node.dataDir, EMBEDDED_FILE_NAME) });
    try {
      const outcome = await deleteObjects(other, { objectRefs: ids });
      expect(outcome, JSON.stringify(outcome.errors)).to.include({ status: 'Success' });
    } finally {
      await other.close();
    }
    const relatesTo = await currentRelatesTo(base);
    expect(relatesTo.has(replacementId)).to.equal(true);
    expect(relatesTo.get(replacementId)).to.equal(undefined);
    // The replacement itself was written anew (a new object), which is what retired the memory.
    const after = (await store.getByUuids([replacement]))[0];
    expect(after).to.deep.equal(before);
    expect(after).to.not.equal(before);
    expect(await relationshipsOf(store, [after as DocumentEntry])).to.deep.equal([]);
  });
});

describe('restampRelationshipSources', () => {
  let store: RegistryStore;
  const entry = (entryUuid: string): DocumentEntry => ({ type: 'DocumentEntry', entryUuid, patientId: 'p^^^&1.2&ISO', availabilityStatus: 'Approved' }) as unknown as DocumentEntry;
  const association = (entryUuid: string, associationType: string, sourceUuid: string, targetUuid: string): Association => ({
    type: 'Association',
    entryUuid,
    associationType,
    sourceUuid,
    targetUuid,
    availabilityStatus: 'Approved',
    extra: NO_EXTRA,
  });
  const A = randomUUID();
  const B = randomUUID();
  const RPLC = randomUUID();
  const MEMBER = randomUUID();

  beforeEach(async () => {
    store = openEmbeddedStore({ path: ':memory:' });
    await store.commit({ inserts: [entry(A), entry(B), association(RPLC, ASSOCIATION_TYPE.RPLC, B, A), association(MEMBER, ASSOCIATION_TYPE.HasMember, A, B)], replacements: [] });
  });
  afterEach(async () => store.close());

  const replaced = (batch: { replacements: readonly RegistryObject[] }) => batch.replacements.map((o) => o.entryUuid);

  it('adds the source of a deleted relationship whose source stays', async () => {
    expect(replaced(await restampRelationshipSources(store, { inserts: [], replacements: [], deletions: [RPLC, A] }))).to.deep.equal([B]);
  });

  it('adds the source of an inserted or replaced relationship whose source is stored', async () => {
    const inserted = association(randomUUID(), ASSOCIATION_TYPE.APND, B, A);
    expect(replaced(await restampRelationshipSources(store, { inserts: [inserted], replacements: [] }))).to.deep.equal([B]);
    const deprecated = { ...association(RPLC, ASSOCIATION_TYPE.RPLC, B, A), availabilityStatus: 'Deprecated' } as Association;
    expect(replaced(await restampRelationshipSources(store, { inserts: [], replacements: [deprecated] }))).to.deep.equal([RPLC, B]);
  });

  it('leaves a batch alone whose relationships have their source written or deleted by it, or that touches none', async () => {
    const batch = { inserts: [], replacements: [], deletions: [RPLC, B] };
    expect(await restampRelationshipSources(store, batch)).to.equal(batch);
    const membership = { inserts: [], replacements: [], deletions: [MEMBER] };
    expect(await restampRelationshipSources(store, membership)).to.equal(membership);
    const fresh = { inserts: [entry(randomUUID())], replacements: [] };
    expect(await restampRelationshipSources(store, fresh)).to.equal(fresh);
  });
});
