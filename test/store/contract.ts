/**
 * The RegistryStore contract: one suite that every store implementation must pass, so that the
 * embedded store and the MongoDB store are interchangeable under the registry.
 */
import { expect } from 'chai';
import type { DocumentEntry, RegistryObject } from '../../registry/model/metadata.js';
import {
  DuplicateEntryUuidError,
  UnknownEntryUuidError,
  ofType,
  type CommitBatch,
  type RegistryStore,
} from '../../registry/store/store.js';
import {
  AUTHOR_GEIRAAS,
  AUTHOR_HANSEN,
  CONFIDENTIALITY_N,
  CONFIDENTIALITY_NORS,
  JOURNALNOTAT,
  PATIENT_A,
  PATIENT_B,
  VOLVEN_9602,
  VOLVEN_9603,
  association,
  documentEntry,
  folder,
  submission,
  submissionSet,
  uuid,
} from './factory.js';

export interface RegistryStoreContractOptions {
  /** Opens another store on the storage of the latest `open()` (restart, second connection). */
  readonly reopen: () => Promise<RegistryStore>;
}

const ids = (objects: readonly RegistryObject[]): string[] => objects.map((o) => o.entryUuid);
const sorted = (values: readonly string[]): string[] => [...values].sort();
const insertOnly = (inserts: readonly RegistryObject[]): CommitBatch => ({ inserts, replacements: [] });

async function expectRejection<E extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => E,
): Promise<E> {
  try {
    await promise;
  } catch (e) {
    expect(e).to.be.instanceOf(type);
    return e as E;
  }
  expect.fail(`expected ${type.name}`);
}

export function describeRegistryStoreContract(
  name: string,
  open: () => Promise<RegistryStore>,
  cleanup: () => Promise<void>,
  options: RegistryStoreContractOptions,
): void {
  describe(`RegistryStore contract: ${name}`, function () {
    let store: RegistryStore;
    const opened: RegistryStore[] = [];

    const reopen = async (): Promise<RegistryStore> => {
      const s = await options.reopen();
      opened.push(s);
      return s;
    };

    beforeEach(async () => {
      store = await open();
      opened.push(store);
    });

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await cleanup();
    });

    describe('insert and read back', () => {
      it('returns what was committed, without store-internal fields', async () => {
        const sub = submission([documentEntry({ referenceIdList: ['ORD-1^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:order'] })]);
        await store.commit(insertOnly(sub.all));
        const back = await store.getByUuids(ids(sub.all));
        expect(back).to.have.length(sub.all.length);
        for (const original of sub.all) {
          const found = back.find((o) => o.entryUuid === original.entryUuid);
          expect(found).to.deep.equal(original);
          expect(found).not.to.have.property('_s');
          expect(found).not.to.have.property('_id');
          expect(found).not.to.have.property('seq');
        }
      });

      it('stores plain JSON: undefined properties are dropped', async () => {
        const doc = { ...documentEntry(), title: undefined, comments: undefined };
        await store.commit(insertOnly([doc]));
        const [back] = await store.getByUuids([doc.entryUuid]);
        expect(back).not.to.have.property('title');
        expect(back).not.to.have.property('comments');
        expect(back).to.deep.equal(JSON.parse(JSON.stringify(doc)));
      });

      it('getByUuids leaves out unknown ids and tolerates repeats', async () => {
        const doc = documentEntry();
        await store.commit(insertOnly([doc]));
        const back = await store.getByUuids([doc.entryUuid, uuid(), doc.entryUuid]);
        expect(ids(back)).to.deep.equal([doc.entryUuid]);
        expect(await store.getByUuids([])).to.deep.equal([]);
      });
    });

    describe('find by each indexed field', () => {
      const a1 = documentEntry({ referenceIdList: ['REF-1^^^&1.2.3&ISO', 'REF-2^^^&1.2.3&ISO'] });
      const a2 = documentEntry({ availabilityStatus: 'Deprecated', referenceIdList: ['REF-2^^^&1.2.3&ISO'] });
      const b1 = documentEntry({ patientId: PATIENT_B, ...JOURNALNOTAT });
      const set = submissionSet();
      const fol = folder({ patientId: PATIENT_B });
      const hm1 = association(set.entryUuid, a1.entryUuid);
      const hm2 = association(set.entryUuid, a2.entryUuid);
      const inFolder = association(fol.entryUuid, b1.entryUuid, { submissionSetStatus: undefined });
      const all = [a1, a2, b1, set, fol, hm1, hm2, inFolder];

      beforeEach(async () => {
        await store.commit(insertOnly(all));
      });

      it('entryUuid (equality, $eq and $in)', async () => {
        expect(ids(await store.find({ entryUuid: a2.entryUuid }))).to.deep.equal([a2.entryUuid]);
        expect(ids(await store.find({ entryUuid: { $eq: b1.entryUuid } }))).to.deep.equal([b1.entryUuid]);
        expect(ids(await store.find({ entryUuid: { $in: [fol.entryUuid, a1.entryUuid, uuid()] } }))).to.deep.equal([
          a1.entryUuid,
          fol.entryUuid,
        ]);
        expect(await store.find({ entryUuid: uuid() })).to.deep.equal([]);
      });

      it('uniqueId', async () => {
        expect(ids(await store.find({ uniqueId: a1.uniqueId }))).to.deep.equal([a1.entryUuid]);
        expect(ids(await store.find(ofType('SubmissionSet', { uniqueId: { $in: [set.uniqueId, a1.uniqueId] } })))).to.deep.equal([
          set.entryUuid,
        ]);
      });

      it('patientId, with and without type and status', async () => {
        expect(ids(await store.find({ patientId: PATIENT_A }))).to.deep.equal([a1.entryUuid, a2.entryUuid, set.entryUuid]);
        expect(ids(await store.find(ofType('DocumentEntry', { patientId: PATIENT_A })))).to.deep.equal([a1.entryUuid, a2.entryUuid]);
        expect(
          ids(await store.find(ofType('DocumentEntry', { patientId: PATIENT_A, availabilityStatus: { $in: ['Approved'] } }))),
        ).to.deep.equal([a1.entryUuid]);
        expect(ids(await store.find({ patientId: { $in: [PATIENT_A, PATIENT_B] }, type: 'DocumentEntry' }))).to.deep.equal([
          a1.entryUuid,
          a2.entryUuid,
          b1.entryUuid,
        ]);
      });

      it('sourceUuid and targetUuid', async () => {
        expect(ids(await store.find({ sourceUuid: set.entryUuid }))).to.deep.equal([hm1.entryUuid, hm2.entryUuid]);
        expect(ids(await store.find({ targetUuid: b1.entryUuid }))).to.deep.equal([inFolder.entryUuid]);
        expect(
          ids(await store.find({ sourceUuid: { $in: [set.entryUuid, fol.entryUuid] }, targetUuid: { $in: [a2.entryUuid, b1.entryUuid] } })),
        ).to.deep.equal([hm2.entryUuid, inFolder.entryUuid]);
      });

      it('type and availabilityStatus', async () => {
        expect(ids(await store.find({ type: 'Association' }))).to.deep.equal(ids([hm1, hm2, inFolder]));
        expect(ids(await store.find({ type: { $in: ['Folder', 'SubmissionSet'] } }))).to.deep.equal([set.entryUuid, fol.entryUuid]);
        expect(ids(await store.find({ availabilityStatus: 'Deprecated' }))).to.deep.equal([a2.entryUuid]);
      });

      it('referenceIdList (an array field: equality means "contains")', async () => {
        expect(ids(await store.find({ referenceIdList: 'REF-2^^^&1.2.3&ISO' }))).to.deep.equal([a1.entryUuid, a2.entryUuid]);
        expect(ids(await store.find({ referenceIdList: { $in: ['REF-1^^^&1.2.3&ISO', 'REF-9'] } }))).to.deep.equal([a1.entryUuid]);
        expect(await store.find({ referenceIdList: 'REF-9' })).to.deep.equal([]);
      });

      it('$and and $or, also mixed with indexed fields', async () => {
        expect(
          ids(await store.find({ $and: [{ type: 'DocumentEntry' }, { patientId: PATIENT_A }, { availabilityStatus: 'Deprecated' }] })),
        ).to.deep.equal([a2.entryUuid]);
        expect(
          ids(await store.find({ type: 'DocumentEntry', $or: [{ patientId: PATIENT_B }, { availabilityStatus: 'Deprecated' }] })),
        ).to.deep.equal([a2.entryUuid, b1.entryUuid]);
        // Alternatives that each pin an indexed field (the registry's write overlay asks this form),
        // in insertion order, an object two alternatives select once.
        expect(
          ids(await store.find({ $or: [{ type: 'DocumentEntry', patientId: PATIENT_B }, { entryUuid: { $in: [a2.entryUuid, b1.entryUuid, 'urn:uuid:absent'] } }] })),
        ).to.deep.equal([a2.entryUuid, b1.entryUuid]);
        expect(
          ids(await store.find({ type: 'DocumentEntry', $or: [{ uniqueId: b1.uniqueId! }, { entryUuid: a2.entryUuid }, { uniqueId: { $in: [] } }] })),
        ).to.deep.equal([a2.entryUuid, b1.entryUuid]);
        expect(await store.find({ $or: [{ uniqueId: { $in: [] } }, { entryUuid: { $in: [] } }] })).to.deep.equal([]);
        // Contradicting conditions on one indexed field match nothing.
        expect(await store.find({ $and: [{ patientId: PATIENT_A }, { patientId: PATIENT_B }] })).to.deep.equal([]);
        expect(
          ids(await store.find({ patientId: { $in: [PATIENT_A, PATIENT_B], $nin: [PATIENT_A] }, type: 'DocumentEntry' })),
        ).to.deep.equal([b1.entryUuid]);
      });

      it('fields without an index, $exists, $ne and $not', async () => {
        expect(ids(await store.find({ mimeType: 'application/pdf', patientId: PATIENT_B }))).to.deep.equal([b1.entryUuid]);
        expect(ids(await store.find({ type: 'Association', submissionSetStatus: { $exists: false } }))).to.deep.equal([
          inFolder.entryUuid,
        ]);
        expect(ids(await store.find({ type: 'DocumentEntry', availabilityStatus: { $ne: 'Approved' } }))).to.deep.equal([a2.entryUuid]);
        expect(
          ids(await store.find({ type: 'DocumentEntry', patientId: { $not: { $regex: '^13116900216\\^' } } })),
        ).to.deep.equal([b1.entryUuid]);
      });

      it('count', async () => {
        expect(await store.count({})).to.equal(all.length);
        expect(await store.count({ type: 'DocumentEntry' })).to.equal(3);
        expect(await store.count({ patientId: PATIENT_A, availabilityStatus: 'Approved' })).to.equal(2);
        expect(await store.count({ entryUuid: uuid() })).to.equal(0);
      });

      it('limit returns the first objects in insertion order', async () => {
        expect(ids(await store.find({}, { limit: 3 }))).to.deep.equal(ids(all.slice(0, 3)));
        expect(ids(await store.find({ type: 'Association' }, { limit: 2 }))).to.deep.equal([hm1.entryUuid, hm2.entryUuid]);
        expect(await store.find({}, { limit: 0 })).to.deep.equal([]);
        expect(ids(await store.find({}, { limit: 100 }))).to.deep.equal(ids(all));
      });
    });

    describe('search fields (_s)', () => {
      const early = documentEntry({ creationTime: '2023', serviceStartTime: '20230601', serviceStopTime: '2023060112' });
      const late = documentEntry({
        creationTime: '20240315101500',
        serviceStartTime: '202403140800',
        confidentialityCodes: [CONFIDENTIALITY_N, CONFIDENTIALITY_NORS],
        eventCodes: [{ code: 'MAXX0', scheme: '2.16.578.1.12.4.1.1.7210' }],
        authors: [AUTHOR_GEIRAAS, AUTHOR_HANSEN],
      });
      const note = documentEntry({ ...JOURNALNOTAT, creationTime: undefined, serviceStartTime: '20240101', authors: [AUTHOR_HANSEN] });
      const set = submissionSet({ submissionTime: '20240315102000' });
      const fol = folder({ lastUpdateTime: '202403' });

      beforeEach(async () => {
        await store.commit(insertOnly([early, late, note, set, fol]));
      });

      it('time ranges compare across DTM precisions', async () => {
        expect(ids(await store.find(ofType('DocumentEntry', { '_s.creationTime': { $gte: '20230101000000', $lt: '20240101000000' } })))).to.deep.equal([
          early.entryUuid,
        ]);
        expect(ids(await store.find(ofType('DocumentEntry', { '_s.creationTime': { $gte: '20240315' } })))).to.deep.equal([late.entryUuid]);
        // '202403140800' padded is 20240314080000.
        expect(ids(await store.find({ '_s.serviceStartTime': { $gte: '20240314080000', $lte: '20240314080000' } }))).to.deep.equal([
          late.entryUuid,
        ]);
        expect(ids(await store.find({ '_s.serviceStopTime': { $lt: '20230601130000' } }))).to.deep.equal([early.entryUuid]);
        expect(ids(await store.find({ '_s.submissionTime': { $gte: '20240315000000' } }))).to.deep.equal([set.entryUuid]);
        expect(ids(await store.find({ '_s.lastUpdateTime': '20240301000000' }))).to.deep.equal([fol.entryUuid]);
        // A missing time is not in any range.
        expect(await store.count({ type: 'DocumentEntry', '_s.creationTime': { $exists: false } })).to.equal(1);
      });

      it('single codes and code lists match as code^^scheme', async () => {
        expect(ids(await store.find(ofType('DocumentEntry', { '_s.classCode': { $in: [`A00-1^^${VOLVEN_9602}`] } })))).to.deep.equal([
          early.entryUuid,
          late.entryUuid,
        ]);
        expect(ids(await store.find({ '_s.typeCode': `B02-2^^${VOLVEN_9602}` }))).to.deep.equal([note.entryUuid]);
        expect(ids(await store.find({ '_s.confidentialityCodes': { $in: [`NORS^^${VOLVEN_9603}`] } }))).to.deep.equal([late.entryUuid]);
        // Each code of a multi-valued parameter must be present (AND of ORs).
        expect(
          ids(
            await store.find({
              $and: [
                { '_s.confidentialityCodes': { $in: [`N^^${VOLVEN_9603}`] } },
                { '_s.confidentialityCodes': { $in: [`NORS^^${VOLVEN_9603}`, 'R^^2.16.840.1.113883.5.25'] } },
              ],
            }),
          ),
        ).to.deep.equal([late.entryUuid]);
        expect(ids(await store.find({ '_s.eventCodes': 'MAXX0^^2.16.578.1.12.4.1.1.7210' }))).to.deep.equal([late.entryUuid]);
        expect(ids(await store.find({ '_s.contentTypeCode': `A03-2^^${VOLVEN_9602}` }))).to.deep.equal([set.entryUuid]);
        expect(ids(await store.find({ '_s.codeList': 'S03^^2.16.578.1.12.4.1.1.8655' }))).to.deep.equal([fol.entryUuid]);
      });

      it('author fields match LIKE patterns as regexes', async () => {
        // authorPerson LIKE '502116685^GEIRAAS%'
        const like = { $regex: '^502116685\\^GEIRAAS.*$', $options: 's' };
        expect(ids(await store.find({ type: 'DocumentEntry', '_s.authorPersons': like }))).to.deep.equal([early.entryUuid, late.entryUuid]);
        // LIKE '%hansen%' is case-insensitive here with the 'i' option
        expect(ids(await store.find({ type: 'DocumentEntry', '_s.authorPersons': { $regex: '^.*hansen.*$', $options: 'i' } }))).to.deep.equal([
          late.entryUuid,
          note.entryUuid,
        ]);
        expect(ids(await store.find({ '_s.authorInstitutions': { $regex: '^Helse Bergen HF' } }))).to.deep.equal([late.entryUuid, note.entryUuid]);
        expect(ids(await store.find({ '_s.authorRoles': 'SP', '_s.authorSpecialties': 'Allmennmedisin' }))).to.deep.equal([
          late.entryUuid,
          note.entryUuid,
        ]);
      });

      it('$elemMatch on authors keeps one author\'s fields together', async () => {
        const geiraasAsLe = { authors: { $elemMatch: { person: { $regex: '^502116685\\^' }, roles: 'LE' } } };
        expect(ids(await store.find({ type: 'DocumentEntry', ...geiraasAsLe }))).to.deep.equal([early.entryUuid, late.entryUuid]);
        // Hansen is SP, Geiraas is LE: no single author is Hansen as LE, though late has both.
        const hansenAsLe = { authors: { $elemMatch: { person: { $regex: '\\^HANSEN\\^' }, roles: 'LE' } } };
        expect(await store.find(hansenAsLe)).to.deep.equal([]);
      });

      it('model fields are queryable with dot paths', async () => {
        expect(ids(await store.find({ 'classCode.code': 'B00-1', 'classCode.scheme': VOLVEN_9602 }))).to.deep.equal([note.entryUuid]);
      });
    });

    describe('commit', () => {
      it('keeps insertion order within and across batches', async () => {
        const first = submission([documentEntry(), documentEntry()]);
        const second = submission([documentEntry()]);
        await store.commit(insertOnly(first.all));
        await store.commit(insertOnly(second.all));
        expect(ids(await store.find({}))).to.deep.equal([...ids(first.all), ...ids(second.all)]);
        expect(ids(await store.find({ type: 'DocumentEntry' }))).to.deep.equal(ids([...first.documents, ...second.documents]));
      });

      it('a duplicate entryUuid fails the whole batch and writes nothing', async () => {
        const existing = documentEntry();
        await store.commit(insertOnly([existing]));
        const sub = submission([documentEntry(), documentEntry({ entryUuid: existing.entryUuid, patientId: PATIENT_B })]);
        const error = await expectRejection(store.commit(insertOnly(sub.all)), DuplicateEntryUuidError);
        expect(error.entryUuid).to.equal(existing.entryUuid);
        expect(await store.count({})).to.equal(1);
        expect(await store.getByUuids(ids(sub.all))).to.deep.equal([existing]);
        expect(await store.find({ patientId: PATIENT_B })).to.deep.equal([]);
      });

      it('an entryUuid repeated inside one batch fails it', async () => {
        const doc = documentEntry();
        const error = await expectRejection(
          store.commit(insertOnly([submissionSet(), doc, { ...doc, uniqueId: '1.2.3.4' }])),
          DuplicateEntryUuidError,
        );
        expect(error.entryUuid).to.equal(doc.entryUuid);
        expect(await store.count({})).to.equal(0);
      });

      it('replacements are visible, keep their place and update every index', async () => {
        const sub = submission([documentEntry({ referenceIdList: ['OLD^^^&1.2.3&ISO'] }), documentEntry()]);
        await store.commit(insertOnly(sub.all));
        const target = sub.documents[0]!;
        const replaced: DocumentEntry = {
          ...target,
          availabilityStatus: 'Deprecated',
          patientId: PATIENT_B,
          uniqueId: '2.16.578.1.99.1^1',
          referenceIdList: ['NEW^^^&1.2.3&ISO'],
          creationTime: '20250101',
        };
        const newDoc = documentEntry();
        await store.commit({ inserts: [newDoc], replacements: [replaced] });

        expect(await store.getByUuids([target.entryUuid])).to.deep.equal([replaced]);
        expect(ids(await store.find({}))).to.deep.equal([...ids(sub.all), newDoc.entryUuid]);
        expect(ids(await store.find({ patientId: PATIENT_B, availabilityStatus: 'Deprecated' }))).to.deep.equal([target.entryUuid]);
        expect(await store.find({ uniqueId: target.uniqueId })).to.deep.equal([]);
        expect(ids(await store.find({ uniqueId: '2.16.578.1.99.1^1' }))).to.deep.equal([target.entryUuid]);
        expect(await store.find({ referenceIdList: 'OLD^^^&1.2.3&ISO' })).to.deep.equal([]);
        expect(ids(await store.find({ referenceIdList: 'NEW^^^&1.2.3&ISO' }))).to.deep.equal([target.entryUuid]);
        expect(ids(await store.find({ '_s.creationTime': '20250101000000' }))).to.deep.equal([target.entryUuid]);
        expect(await store.count({ patientId: PATIENT_A, type: 'DocumentEntry' })).to.equal(2);
      });

      it('a replacement of an unknown entryUuid fails the batch and writes nothing', async () => {
        const doc = documentEntry();
        await store.commit(insertOnly([doc]));
        const inserted = documentEntry();
        const error = await expectRejection(
          store.commit({
            inserts: [inserted],
            replacements: [{ ...doc, availabilityStatus: 'Deprecated' }, documentEntry()],
          }),
          UnknownEntryUuidError,
        );
        expect(error.entryUuid).not.to.equal(doc.entryUuid);
        expect(await store.getByUuids([doc.entryUuid, inserted.entryUuid])).to.deep.equal([doc]);
      });

      it('deletions remove objects from every index', async () => {
        const sub = submission([documentEntry({ referenceIdList: ['GONE^^^&1.2.3&ISO'] }), documentEntry()]);
        await store.commit(insertOnly(sub.all));
        const gone = sub.documents[0]!;
        const goneAssoc = sub.associations[0]!;
        await store.commit({ inserts: [], replacements: [], deletions: [gone.entryUuid, goneAssoc.entryUuid] });
        expect(await store.getByUuids([gone.entryUuid, goneAssoc.entryUuid])).to.deep.equal([]);
        expect(await store.find({ referenceIdList: 'GONE^^^&1.2.3&ISO' })).to.deep.equal([]);
        expect(await store.find({ targetUuid: gone.entryUuid })).to.deep.equal([]);
        expect(await store.count({})).to.equal(sub.all.length - 2);
        // The id is free again, and a new object goes to the end.
        await store.commit(insertOnly([gone]));
        expect(ids(await store.find({ type: 'DocumentEntry' }))).to.deep.equal([sub.documents[1]!.entryUuid, gone.entryUuid]);
      });

      it('a deletion of an unknown entryUuid fails the batch and writes nothing', async () => {
        const doc = documentEntry();
        await store.commit(insertOnly([doc]));
        const inserted = documentEntry();
        await expectRejection(
          store.commit({ inserts: [inserted], replacements: [], deletions: [doc.entryUuid, uuid()] }),
          UnknownEntryUuidError,
        );
        expect(await store.getByUuids([doc.entryUuid, inserted.entryUuid])).to.deep.equal([doc]);
      });

      it('writes outbox records with the batch, survives a reopen, and forgets them once done', async () => {
        const sub = submission([documentEntry()]);
        const record = (id: string, kind: string) => ({ id, kind, payload: JSON.stringify({ id }), witness: sub.set.entryUuid });
        await store.commit({ ...insertOnly(sub.all), outbox: [record('a:1', 'a'), record('a:2', 'a'), record('b:1', 'b')] });
        expect(store.outbox, 'both stores keep an outbox').not.to.equal(undefined);
        expect(sorted((await store.outbox!.pending('a')).map((r) => r.id))).to.deep.equal(['a:1', 'a:2']);
        expect(await store.outbox!.pending('b')).to.deep.equal([record('b:1', 'b')]);
        const again = await reopen();
        expect((await again.outbox!.pending('a')).map((r) => r.payload).sort()).to.deep.equal([JSON.stringify({ id: 'a:1' }), JSON.stringify({ id: 'a:2' })]);
        store.outbox!.done(['a:1']);
        expect((await store.outbox!.pending('a')).map((r) => r.id), 'done at once for this store').to.deep.equal(['a:2']);
        // The deletion rides on the next commit (or goes on its own shortly).
        await store.commit(insertOnly([submissionSet()]));
        const deadline = Date.now() + 3000;
        while ((await again.outbox!.pending('a')).length > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect((await again.outbox!.pending('a')).map((r) => r.id), 'deleted from the file').to.deep.equal(['a:2']);
      });

      it('forgets once done the outbox records another instance committed (as after a restart), and takes ids it never held as no work', async () => {
        const sub = submission([documentEntry()]);
        const record = (id: string) => ({ id, kind: 'c', payload: '{}', witness: sub.set.entryUuid });
        await store.commit({ ...insertOnly(sub.all), outbox: [record('c:1'), record('c:2')] });
        const again = await reopen();
        // Confirmed where they were not committed, in one turn with an id nobody wrote.
        again.outbox!.done(['c:1', 'c:unknown']);
        again.outbox!.done(['c:2']);
        expect(await again.outbox!.pending('c'), 'done at once for that store').to.deep.equal([]);
        const deadline = Date.now() + 3000;
        while ((await store.outbox!.pending('c')).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(await store.outbox!.pending('c'), 'deleted from the file').to.deep.equal([]);
      });

      it('a batch that fails writes none of its outbox records', async () => {
        const existing = documentEntry();
        await store.commit(insertOnly([existing]));
        const set = submissionSet();
        await expectRejection(
          store.commit({ ...insertOnly([set, existing]), outbox: [{ id: 'x:1', kind: 'x', payload: '{}', witness: set.entryUuid }] }),
          DuplicateEntryUuidError,
        );
        expect(await store.outbox!.pending('x')).to.deep.equal([]);
      });

      it('an empty batch is a no-op', async () => {
        await store.commit({ inserts: [], replacements: [] });
        expect(await store.count({})).to.equal(0);
      });

      it('concurrent commits do not interleave, and one of racing duplicates wins', async () => {
        const batches = Array.from({ length: 12 }, (_, i) =>
          submission([documentEntry({ patientId: i % 2 === 0 ? PATIENT_A : PATIENT_B }), documentEntry()]),
        );
        await Promise.all(batches.map((b) => store.commit(insertOnly(b.all))));
        const order = ids(await store.find({}));
        expect(order).to.have.length(batches.length * 5);
        for (const b of batches) {
          const start = order.indexOf(b.set.entryUuid);
          expect(order.slice(start, start + 5)).to.deep.equal(ids(b.all));
        }

        const contested = documentEntry();
        const outcomes = await Promise.allSettled(
          Array.from({ length: 5 }, () => store.commit(insertOnly([submissionSet(), { ...contested, uniqueId: uuid() }]))),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled')).to.have.length(1);
        for (const o of outcomes) {
          if (o.status === 'rejected') expect(o.reason).to.be.instanceOf(DuplicateEntryUuidError);
        }
        expect(await store.count({ entryUuid: contested.entryUuid })).to.equal(1);
        expect(await store.count({ type: 'SubmissionSet' })).to.equal(batches.length + 1);
      });
    });

    describe('objectCounts', () => {
      /** The counts as `type status → n`, groups in a fixed order. */
      const tally = async (s: RegistryStore = store): Promise<Record<string, number>> =>
        Object.fromEntries(
          (await s.objectCounts())
            .map((c) => [`${c.type} ${c.availabilityStatus}`, c.count] as const)
            .sort(([a], [b]) => a.localeCompare(b)),
        );

      it('is empty for an empty registry', async () => {
        expect(await store.objectCounts()).to.deep.equal([]);
      });

      it('counts inserts by type and status, and agrees with count()', async () => {
        await store.commit(insertOnly(submission([documentEntry(), documentEntry()]).all));
        await store.commit(insertOnly([...submission([documentEntry()]).all, folder()]));
        expect(await tally()).to.deep.equal({
          'Association Approved': 3,
          'DocumentEntry Approved': 3,
          'Folder Approved': 1,
          'SubmissionSet Approved': 2,
        });
        for (const c of await store.objectCounts()) {
          expect(await store.count({ type: c.type, availabilityStatus: c.availabilityStatus })).to.equal(c.count);
        }
      });

      it('moves a replaced object to its new status and forgets a deleted one', async () => {
        const sub = submission([documentEntry(), documentEntry()]);
        await store.commit(insertOnly(sub.all));
        await store.commit({ inserts: [], replacements: [{ ...sub.documents[0]!, availabilityStatus: 'Deprecated' }] });
        await store.commit({ inserts: [], replacements: [], deletions: [sub.associations[1]!.entryUuid, sub.documents[1]!.entryUuid] });
        expect(await tally()).to.deep.equal({
          'Association Approved': 1,
          'DocumentEntry Deprecated': 1,
          'SubmissionSet Approved': 1,
        });
      });

      it('follows an object through one batch: inserted, replaced twice, another replaced then deleted', async () => {
        const kept = documentEntry();
        await store.commit(insertOnly([kept]));
        const fresh = documentEntry();
        await store.commit({
          inserts: [fresh],
          replacements: [
            { ...fresh, availabilityStatus: 'Deprecated' },
            { ...fresh, availabilityStatus: 'Submitted' },
            { ...kept, availabilityStatus: 'Deprecated' },
          ],
          deletions: [kept.entryUuid],
        });
        expect(await tally()).to.deep.equal({ 'DocumentEntry Submitted': 1 });
      });

      it('a failed batch leaves the counts as they were', async () => {
        const existing = documentEntry();
        await store.commit(insertOnly([existing]));
        const before = await tally();
        await expectRejection(store.commit(insertOnly([documentEntry(), { ...existing }])), DuplicateEntryUuidError);
        await expectRejection(
          store.commit({ inserts: [documentEntry()], replacements: [{ ...existing, availabilityStatus: 'Deprecated' }], deletions: [uuid()] }),
          UnknownEntryUuidError,
        );
        expect(await tally()).to.deep.equal(before);
      });

      it('survives a reopen', async () => {
        await store.commit(insertOnly(submission([documentEntry()]).all));
        const before = await tally();
        await store.close();
        expect(await tally(await reopen())).to.deep.equal(before);
      });
    });

    describe('durability', () => {
      it('a reopened store has everything that was committed, in order', async () => {
        const sub = submission([documentEntry(), documentEntry({ referenceIdList: ['R^^^&1.2.3&ISO'] })]);
        await store.commit(insertOnly(sub.all));
        const deprecated = { ...sub.documents[0]!, availabilityStatus: 'Deprecated' as const };
        await store.commit({ inserts: [], replacements: [deprecated] });
        const before = await store.find({});
        await store.close();

        const again = await reopen();
        expect(await again.find({})).to.deep.equal(before);
        expect(ids(await again.find({ referenceIdList: 'R^^^&1.2.3&ISO' }))).to.deep.equal([sub.documents[1]!.entryUuid]);
        expect(ids(await again.find({ availabilityStatus: 'Deprecated' }))).to.deep.equal([deprecated.entryUuid]);
        await expectRejection(again.commit(insertOnly([sub.set])), DuplicateEntryUuidError);
      });

      it('a second connection sees commits of the first', async () => {
        const other = await reopen();
        const doc = documentEntry();
        await store.commit(insertOnly([doc]));
        expect(await other.getByUuids([doc.entryUuid])).to.deep.equal([doc]);
        await expectRejection(other.commit(insertOnly([doc])), DuplicateEntryUuidError);
      });
    });
  });
}
