/** registerSubmission against the real embedded store (in memory). */
import { expect } from 'chai';
import { ASSOCIATION_TYPE, type Association, type DocumentEntry, type Folder, type Submission } from '../../registry/model/metadata.js';
import { registerSubmission, resolveSymbolicIds, type RegisterContext } from '../../registry/register.js';
import { openEmbeddedStore } from '../../registry/store/embedded/index.js';
import type { RegistryStore } from '../../registry/store/store.js';
import {
  association,
  documentEntry,
  documentInFolder,
  folder,
  FOREIGN_PATIENT,
  OTHER_PATIENT,
  policy,
  singleDocument,
  submissionSet,
} from '../validate/fixtures.js';

let clock = Date.UTC(2024, 0, 1, 12, 0, 0);
const ctx: RegisterContext = { patientIds: policy, now: () => new Date(clock) };

async function docByUniqueId(store: RegistryStore, uniqueId: string): Promise<DocumentEntry[]> {
  return (await store.find({ type: 'DocumentEntry', uniqueId })) as DocumentEntry[];
}

async function register(store: RegistryStore, sub: Submission) {
  const outcome = await registerSubmission(store, sub, ctx);
  return outcome;
}

/** Registers one document and returns its stored entry. */
async function registerOne(store: RegistryStore, overrides: Partial<DocumentEntry> = {}): Promise<DocumentEntry> {
  const sub = singleDocument(overrides);
  const outcome = await register(store, sub);
  expect(outcome, JSON.stringify(outcome.errors)).to.deep.include({ status: 'Success' });
  const [stored] = await docByUniqueId(store, sub.documentEntries[0]!.uniqueId!);
  return stored!;
}

/** Document01 with a relationship of the given type to a registered document. */
function related(type: 'RPLC' | 'APND' | 'XFRM' | 'XFRM_RPLC', target: string, overrides: Partial<DocumentEntry> = {}): Submission {
  const sub = singleDocument(overrides);
  return { ...sub, associations: [...sub.associations, association('Rel01', type, 'Document01', target)] };
}

describe('registerSubmission (embedded store)', () => {
  let store: RegistryStore;
  beforeEach(() => {
    store = openEmbeddedStore({ path: ':memory:' });
    clock += 60_000;
  });
  afterEach(() => store.close());

  it('stores a single document Approved with new UUIDs consistently linked', async () => {
    const sub = singleDocument();
    const outcome = await register(store, sub);
    expect(outcome).to.deep.equal({ status: 'Success', errors: [] });
    const [de] = await docByUniqueId(store, sub.documentEntries[0]!.uniqueId!);
    expect(de!.entryUuid).to.match(/^urn:uuid:/);
    expect(de!.availabilityStatus).to.equal('Approved');
    const [ss] = await store.find({ type: 'SubmissionSet', uniqueId: sub.submissionSet.uniqueId });
    const assocs = (await store.find({ type: 'Association' })) as Association[];
    expect(assocs).to.have.length(1);
    expect(assocs[0]).to.include({ sourceUuid: ss!.entryUuid, targetUuid: de!.entryUuid, availabilityStatus: 'Approved', submissionSetStatus: 'Original' });
  });

  it('resolveSymbolicIds copies every object key for key, in order, changing only the symbolic ids', () => {
    const sub = singleDocument();
    const keep = 'urn:uuid:00000000-0000-4000-8000-000000000001';
    const withRef: Submission = {
      ...sub,
      documentEntries: [{ ...sub.documentEntries[0]!, title: undefined }],
      associations: [...sub.associations, association('Rel01', 'RPLC', 'Document01', keep)],
    };
    const before = JSON.stringify(withRef);
    const resolved = resolveSymbolicIds(withRef);
    expect(JSON.stringify(withRef)).to.equal(before);
    const pairs: [object, object][] = [
      [withRef.submissionSet, resolved.submissionSet],
      [withRef.documentEntries[0]!, resolved.documentEntries[0]!],
      ...withRef.associations.map((a, i): [object, object] => [a, resolved.associations[i]!]),
    ];
    const ids = new Map<string, string>();
    for (const [original, copy] of pairs) {
      expect(copy).to.not.equal(original);
      expect(Object.keys(copy)).to.deep.equal(Object.keys(original));
      for (const [key, value] of Object.entries(original)) {
        const now = (copy as Record<string, unknown>)[key];
        if (!['entryUuid', 'sourceUuid', 'targetUuid'].includes(key) || value === keep) expect(now, key).to.equal(value);
        else {
          expect(now, key).to.match(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-7/);
          if (ids.has(value as string)) expect(now, key).to.equal(ids.get(value as string));
          ids.set(value as string, now as string);
        }
      }
    }
    expect(new Set(ids.values()).size).to.equal(ids.size);
    expect(resolved.associations[1]).to.include({ sourceUuid: ids.get('Document01'), targetUuid: keep });
  });

  it('gives symbolic ids time-ordered (v7) UUIDs, and stores objects without their homeCommunityId', async () => {
    const before = Date.now();
    const sub = singleDocument();
    const home = 'urn:oid:1.2.3.1';
    const withHome: Submission = {
      ...sub,
      submissionSet: { ...sub.submissionSet, homeCommunityId: home },
      documentEntries: sub.documentEntries.map((de) => ({ ...de, homeCommunityId: home })),
      associations: sub.associations.map((a) => ({ ...a, homeCommunityId: home })),
    };
    expect((await registerSubmission(store, withHome, { ...ctx, homeCommunityId: home })).status).to.equal('Success');
    const stored = [
      ...(await docByUniqueId(store, sub.documentEntries[0]!.uniqueId!)),
      ...(await store.find({ type: 'SubmissionSet', uniqueId: sub.submissionSet.uniqueId })),
      ...(await store.find({ type: 'Association' })),
    ];
    expect(stored).to.have.length(3);
    for (const obj of stored) {
      expect(obj.entryUuid).to.match(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const ms = parseInt(obj.entryUuid.slice(9, 17) + obj.entryUuid.slice(18, 22), 16);
      expect(ms).to.be.within(before, Date.now());
      expect(obj).to.not.have.property('homeCommunityId');
    }
    const [de] = stored;
    expect(de).to.include({ availabilityStatus: 'Approved', version: '1', logicalUuid: de!.entryUuid });
  });

  it('accepts a configured foreign assigning authority', async () => {
    const sub = singleDocument({ patientId: FOREIGN_PATIENT });
    const outcome = await register(store, { ...sub, submissionSet: { ...sub.submissionSet, patientId: FOREIGN_PATIENT } });
    expect(outcome.status).to.equal('Success');
  });

  it('rejects an unknown patient and stores nothing', async () => {
    const bad = '13116900217^^^&2.16.578.1.12.4.1.4.1&ISO';
    const sub = singleDocument({ patientId: bad });
    const outcome = await register(store, { ...sub, submissionSet: { ...sub.submissionSet, patientId: bad } });
    expect(outcome.status).to.equal('Failure');
    expect(outcome.errors.map((e) => e.code)).to.include('XDSUnknownPatientId');
    expect(await store.count({})).to.equal(0);
  });

  it('rejects a patient mismatch between SubmissionSet and DocumentEntry', async () => {
    const outcome = await register(store, singleDocument({ patientId: OTHER_PATIENT }));
    expect(outcome.errors.map((e) => [e.code, e.location])).to.deep.include(['XDSPatientIdDoesNotMatch', 'Document01']);
    expect(await store.count({})).to.equal(0);
  });

  it('is all or nothing: one flawed document fails the whole submission (NIST 12084)', async () => {
    const sub = singleDocument();
    const { repositoryUniqueId: _r, ...flawed } = documentEntry('Document02');
    const outcome = await register(store, {
      ...sub,
      documentEntries: [...sub.documentEntries, flawed as DocumentEntry],
      associations: [...sub.associations, association('Assoc02', 'HasMember', 'SubmissionSet01', 'Document02', { submissionSetStatus: 'Original' })],
    });
    expect(outcome.status).to.equal('Failure');
    expect(outcome.errors.map((e) => [e.code, e.location])).to.deep.include(['XDSRegistryMetadataError', 'Document02']);
    expect(await store.count({})).to.equal(0);
  });

  it('RPLC deprecates the original and its APND/XFRM documents, keeps the replacement Approved (NIST 11992, 12022)', async () => {
    const original = await registerOne(store);
    const apndSub = related('APND', original.entryUuid);
    expect((await register(store, apndSub)).status).to.equal('Success');
    const rplcSub = related('RPLC', original.entryUuid);
    const rplc = await register(store, rplcSub);
    expect(rplc, JSON.stringify(rplc.errors)).to.deep.include({ status: 'Success' });
    const docs = (await store.find({ type: 'DocumentEntry' })) as DocumentEntry[];
    const byUid = new Map(docs.map((d) => [d.uniqueId, d.availabilityStatus]));
    expect(byUid.get(original.uniqueId)).to.equal('Deprecated');
    expect(byUid.get(apndSub.documentEntries[0]!.uniqueId)).to.equal('Deprecated');
    expect(byUid.get(rplcSub.documentEntries[0]!.uniqueId)).to.equal('Approved');
  });

  it('rejects APND on a deprecated document (NIST 11993)', async () => {
    const original = await registerOne(store);
    expect((await register(store, related('RPLC', original.entryUuid))).status).to.equal('Success');
    const outcome = await register(store, related('APND', original.entryUuid));
    expect(outcome.status).to.equal('Failure');
    expect(outcome.errors.map((e) => [e.code, e.location])).to.deep.include(['XDSRegistryDeprecatedDocumentError', 'Rel01']);
  });

  it('XFRM_RPLC deprecates the original (NIST 11995)', async () => {
    const original = await registerOne(store);
    const outcome = await register(store, related('XFRM_RPLC', original.entryUuid, { mimeType: 'text/plain' }));
    expect(outcome.status).to.equal('Success');
    const [stored] = await store.getByUuids([original.entryUuid]);
    expect(stored!.availabilityStatus).to.equal('Deprecated');
  });

  it('rejects a replacement for another patient (NIST 11998)', async () => {
    const original = await registerOne(store);
    const sub = related('RPLC', original.entryUuid, { patientId: OTHER_PATIENT });
    const outcome = await register(store, { ...sub, submissionSet: { ...sub.submissionSet, patientId: OTHER_PATIENT } });
    expect(outcome.errors.map((e) => [e.code, e.location])).to.deep.include(['XDSPatientIdDoesNotMatch', 'Rel01']);
    const [stored] = await store.getByUuids([original.entryUuid]);
    expect(stored!.availabilityStatus).to.equal('Approved');
  });

  describe('folders', () => {
    async function createFolder(): Promise<{ folder: Folder; doc: DocumentEntry }> {
      const sub = documentInFolder();
      expect((await register(store, sub)).status).to.equal('Success');
      const [f] = (await store.find({ type: 'Folder', uniqueId: sub.folders[0]!.uniqueId })) as Folder[];
      const [d] = await docByUniqueId(store, sub.documentEntries[0]!.uniqueId!);
      return { folder: f!, doc: d! };
    }

    it('sets lastUpdateTime on creation, ignoring a submitted one (NIST 12323)', async () => {
      const sub = documentInFolder();
      const outcome = await register(store, { ...sub, folders: [folder('Folder01', { lastUpdateTime: '19990101' })] });
      expect(outcome.status).to.equal('Success');
      const [f] = (await store.find({ type: 'Folder' })) as Folder[];
      expect(f!.lastUpdateTime).to.equal(new Date(clock).toISOString().replace(/[-:T]/g, '').slice(0, 14));
    });

    it('adds a new document to an existing folder and moves lastUpdateTime (NIST 12001)', async () => {
      const { folder: f } = await createFolder();
      clock += 5_000;
      const sub = singleDocument();
      const outcome = await register(store, {
        ...sub,
        associations: [...sub.associations, association('Add01', 'HasMember', f.entryUuid, 'Document01'), association('Assoc09', 'HasMember', 'SubmissionSet01', 'Add01')],
        objectRefs: [f.entryUuid],
      });
      expect(outcome, JSON.stringify(outcome.errors)).to.deep.include({ status: 'Success' });
      const [updated] = (await store.getByUuids([f.entryUuid])) as Folder[];
      expect(updated!.lastUpdateTime).to.not.equal(f.lastUpdateTime);
      expect(await store.count({ type: 'Association', sourceUuid: f.entryUuid })).to.equal(2);
    });

    it('adds an existing document to an existing folder (NIST 12326)', async () => {
      const { folder: f } = await createFolder();
      const other = await registerOne(store);
      const outcome = await register(store, {
        submissionSet: submissionSet(),
        documentEntries: [],
        folders: [],
        associations: [association('Add01', 'HasMember', f.entryUuid, other.entryUuid), association('Assoc01', 'HasMember', 'SubmissionSet01', 'Add01')],
        objectRefs: [f.entryUuid, other.entryUuid],
      });
      expect(outcome, JSON.stringify(outcome.errors)).to.deep.include({ status: 'Success' });
      expect(await store.count({ type: 'Association', sourceUuid: f.entryUuid, targetUuid: other.entryUuid })).to.equal(1);
    });

    it('rejects adding another patient’s document to a folder (NIST 12002)', async () => {
      const { folder: f } = await createFolder();
      const sub = singleDocument({ patientId: OTHER_PATIENT });
      const outcome = await register(store, {
        ...sub,
        submissionSet: { ...sub.submissionSet, patientId: OTHER_PATIENT },
        associations: [...sub.associations, association('Add01', 'HasMember', f.entryUuid, 'Document01')],
      });
      expect(outcome.errors.map((e) => [e.code, e.location])).to.deep.include(['XDSPatientIdDoesNotMatch', 'Add01']);
    });

    it('puts a replacement into the folders of the replaced document and updates them (NIST 12327)', async () => {
      const { folder: f, doc } = await createFolder();
      clock += 5_000;
      const sub = related('RPLC', doc.entryUuid);
      expect((await register(store, sub)).status).to.equal('Success');
      const [replacement] = await docByUniqueId(store, sub.documentEntries[0]!.uniqueId!);
      const members = (await store.find({ type: 'Association', associationType: ASSOCIATION_TYPE.HasMember, sourceUuid: f.entryUuid })) as Association[];
      expect(members.map((m) => m.targetUuid)).to.have.members([doc.entryUuid, replacement!.entryUuid]);
      const [updated] = (await store.getByUuids([f.entryUuid])) as Folder[];
      expect(updated!.lastUpdateTime! > f.lastUpdateTime!).to.equal(true);
    });
  });

  it('accepts a resubmission with the same hash as a second entry, rejects a different hash (NIST 12004)', async () => {
    const first = await registerOne(store);
    const again = await register(store, singleDocument({ uniqueId: first.uniqueId, hash: first.hash!.toUpperCase() }));
    expect(again.status).to.equal('Success');
    expect(await docByUniqueId(store, first.uniqueId!)).to.have.length(2);
    const different = await register(store, singleDocument({ uniqueId: first.uniqueId, hash: 'ffffffffffffffffffffffffffffffffffffffff' }));
    expect(different.errors.map((e) => e.code)).to.include('XDSNonIdenticalHash');
    expect(await docByUniqueId(store, first.uniqueId!)).to.have.length(2);
  });

  it('rejects a resubmitted pre-assigned UUID (NIST 15806)', async () => {
    const id = 'urn:uuid:0b8f2f1e-7c1a-4c55-9f0e-2d7d3b0c1a11';
    const sub = (): Submission => ({
      ...singleDocument(),
      documentEntries: [documentEntry(id)],
      associations: [association('Assoc01', 'HasMember', 'SubmissionSet01', id, { submissionSetStatus: 'Original' })],
    });
    expect((await register(store, sub())).status).to.equal('Success');
    const again = await register(store, sub());
    expect(again.status).to.equal('Failure');
    expect(again.errors.map((e) => [e.code, e.location])).to.deep.include(['XDSRegistryMetadataError', id]);
  });

  it('keeps extra metadata (NIST 12379)', async () => {
    const extra = { slots: [{ name: 'urn:nist:extraDESlot', values: ['a', 'b'] }], classifications: [], externalIdentifiers: [] };
    const stored = await registerOne(store, { extra });
    expect(stored.extra).to.deep.equal(extra);
  });

  it('serialises concurrent registrations of the same uniqueId: only identical content passes', async () => {
    const uid = '1.2.3.4.5.6.7.8.9';
    const [a, b] = await Promise.all([
      register(store, singleDocument({ uniqueId: uid })),
      register(store, singleDocument({ uniqueId: uid, hash: 'ffffffffffffffffffffffffffffffffffffffff' })),
    ]);
    expect([a.status, b.status]).to.deep.equal(['Success', 'Failure']);
    expect(b.errors.map((e) => e.code)).to.include('XDSNonIdenticalHash');
  });
});
