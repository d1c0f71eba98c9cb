/**
 * runStoredQuery end to end on the embedded store, with Norwegian metadata (docs/norway.md):
 * fødselsnummer patients, Volven codes, HPR authors.
 */
import { expect } from 'chai';
import { ASSOCIATION_TYPE, DOCUMENT_ENTRY_TYPE, type DocumentEntry, type RegistryObject } from '../../registry/model/metadata.js';
import { STORED_QUERY_ID, type StoredQueryResult } from '../../registry/model/query.js';
import { runStoredQuery, storedQueryName } from '../../registry/query/index.js';
import type { RegistryStore } from '../../registry/store/store.js';
import {
  APPROVED,
  DEPRECATED,
  association,
  author,
  code,
  documentEntry,
  folder,
  hasMember,
  list,
  q,
  request,
  slot,
  storeWith,
  submissionSet,
} from './fixtures.js';

const FNR = '2.16.578.1.12.4.1.4.1';
const HPR = '2.16.578.1.12.4.1.4.4';
const V9602 = '2.16.578.1.12.4.1.1.9602';
const V9603 = '2.16.578.1.12.4.1.1.9603';
const V8655 = '2.16.578.1.12.4.1.1.8655';
const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1';

const KARI = `13116900216^^^&${FNR}&ISO`;
const OLA = `01017012345^^^&${FNR}&ISO`;

const GEIRAAS = author(`502116685^GEIRAAS^BENEDIKTE^^^^^^&${HPR}&ISO`, { roles: ['LE'] });
const HANSEN = author(`565505933^HANSEN^KARI^^^^^^&${HPR}&ISO`);
const OBRIEN = author(`123456789^O'BRIEN^SEAN^^^^^^&${HPR}&ISO`);

const EPIKRISE = { classCode: code('A00-1', V9602), typeCode: code('A03-2', V9602) };
const NOTAT = { classCode: code('B00-1', V9602), typeCode: code('B02-2', V9602) };
const NORMAL = code('N', V9603);
const SPERRET = code('NORS', V9603);
const PDF = code('urn:ihe:iti:xds-sd:pdf:2008', '1.3.6.1.4.1.19376.1.2.3');
const SOMATIKK = code('86', V8655);

function ids(result: StoredQueryResult): string[] {
  expect(result.errors, JSON.stringify(result.errors)).to.deep.equal([]);
  return result.objects.map((o) => o.entryUuid);
}

describe('runStoredQuery on Norwegian data', () => {
  let store: RegistryStore;
  const epikrise = documentEntry(KARI, {
    ...EPIKRISE,
    formatCode: PDF,
    healthcareFacilityTypeCode: SOMATIKK,
    confidentialityCodes: [NORMAL],
    authors: [GEIRAAS],
    creationTime: '20240115093000',
    serviceStartTime: '20240110',
    serviceStopTime: '20240115',
  });
  const notat = documentEntry(KARI, {
    ...NOTAT,
    formatCode: PDF,
    confidentialityCodes: [NORMAL, SPERRET],
    authors: [HANSEN, OBRIEN],
    creationTime: '20240201',
  });
  const onDemand = documentEntry(KARI, { ...NOTAT, objectType: DOCUMENT_ENTRY_TYPE.onDemand, confidentialityCodes: [NORMAL], authors: [HANSEN] });
  const gammel = documentEntry(KARI, { ...EPIKRISE, availabilityStatus: 'Approved', confidentialityCodes: [NORMAL], creationTime: '2023' });
  const ny = documentEntry(KARI, { ...EPIKRISE, confidentialityCodes: [NORMAL], creationTime: '2024' });
  const tillegg = documentEntry(KARI, { ...NOTAT, confidentialityCodes: [NORMAL] });
  const olasEpikrise = documentEntry(OLA, { ...EPIKRISE, confidentialityCodes: [NORMAL], authors: [GEIRAAS] });
  const ss1 = submissionSet(KARI, { authors: [GEIRAAS], contentTypeCode: code('A00-1', V9602) });
  const ss2 = submissionSet(KARI, { authors: [HANSEN] });
  const ssOla = submissionSet(OLA);
  const mappe = folder(KARI, { codeList: [code('A00-1', V9602)] });
  const rplc = association(ASSOCIATION_TYPE.RPLC, ny, gammel);
  const apnd = association(ASSOCIATION_TYPE.APND, tillegg, ny);

  before(async () => {
    store = await storeWith(
      [epikrise, notat, onDemand, mappe, ss1, hasMember(ss1, epikrise), hasMember(ss1, notat), hasMember(ss1, onDemand), hasMember(ss1, mappe)],
      [gammel, ss2, hasMember(ss2, gammel)],
      [olasEpikrise, ssOla, hasMember(ssOla, olasEpikrise)],
    );
    // A later submission files the epikrise in the folder, replaces `gammel` and appends to `ny`.
    const filing = hasMember(mappe, epikrise);
    await store.commit({
      inserts: [ny, tillegg, filing, rplc, apnd, hasMember(ss2, filing)],
      replacements: [{ ...gammel, availabilityStatus: 'Deprecated' }],
    });
  });
  after(() => store.close());

  const run = (r: Parameters<typeof runStoredQuery>[1], maxResults = 100) => runStoredQuery(store, r, { maxResults });
  const findDocuments = (...more: ReturnType<typeof slot>[]) =>
    run(request('FindDocuments', [slot('$XDSDocumentEntryPatientId', q(KARI)), slot('$XDSDocumentEntryStatus', list(APPROVED)), ...more]));

  describe('FindDocuments', () => {
    it('returns approved stable entries of the patient, in insertion order', async () => {
      expect(ids(await findDocuments())).to.deep.equal([epikrise, notat, ny, tillegg].map((d) => d.entryUuid));
    });

    it('deprecated vs approved', async () => {
      const deprecated = await findDocuments(slot('$XDSDocumentEntryStatus', list(DEPRECATED)));
      expect(ids(deprecated)).to.have.length(5);
      const onlyDeprecated = await run(
        request('FindDocuments', [slot('$XDSDocumentEntryPatientId', q(KARI)), slot('$XDSDocumentEntryStatus', list(DEPRECATED))]),
      );
      expect(ids(onlyDeprecated)).to.deep.equal([gammel.entryUuid]);
      expect(onlyDeprecated.objects[0]!.availabilityStatus).to.equal('Deprecated');
    });

    it('on-demand entries only when $XDSDocumentEntryType asks for them', async () => {
      expect(ids(await findDocuments(slot('$XDSDocumentEntryType', list(DOCUMENT_ENTRY_TYPE.onDemand))))).to.deep.equal([onDemand.entryUuid]);
      expect(
        ids(await findDocuments(slot('$XDSDocumentEntryType', list(DOCUMENT_ENTRY_TYPE.stable, DOCUMENT_ENTRY_TYPE.onDemand)))),
      ).to.include(onDemand.entryUuid);
    });

    it('Volven class and type codes', async () => {
      expect(ids(await findDocuments(slot('$XDSDocumentEntryClassCode', list(`B00-1^^${V9602}`))))).to.deep.equal([notat.entryUuid, tillegg.entryUuid]);
      expect(
        ids(await findDocuments(slot('$XDSDocumentEntryClassCode', list(`A00-1^^${V9602}`)), slot('$XDSDocumentEntryHealthcareFacilityTypeCode', list(`86^^${V8655}`)))),
      ).to.deep.equal([epikrise.entryUuid]);
    });

    it('confidentiality: one slot is OR, two slots are AND', async () => {
      expect(ids(await findDocuments(slot('$XDSDocumentEntryConfidentialityCode', list(`NORS^^${V9603}`, `R^^${V9603}`))))).to.deep.equal([notat.entryUuid]);
      expect(
        ids(
          await findDocuments(
            slot('$XDSDocumentEntryConfidentialityCode', list(`N^^${V9603}`)),
            slot('$XDSDocumentEntryConfidentialityCode', list(`NORS^^${V9603}`)),
          ),
        ),
      ).to.deep.equal([notat.entryUuid]);
    });

    it('author LIKE with HPR names, quotes escaped in the value', async () => {
      expect(ids(await findDocuments(slot('$XDSDocumentEntryAuthorPerson', list('%GEIRAAS%'))))).to.deep.equal([epikrise.entryUuid]);
      expect(ids(await findDocuments(slot('$XDSDocumentEntryAuthorPerson', list("%O'BRIEN%"))))).to.deep.equal([notat.entryUuid]);
      expect(ids(await findDocuments(slot('$XDSDocumentEntryAuthorPerson', list(`565505933^%`, '%GEIRAAS%'))))).to.deep.equal([
        epikrise.entryUuid,
        notat.entryUuid,
      ]);
    });

    it('time range edges: creationTime and service times', async () => {
      const range = (from: string, to: string) =>
        findDocuments(slot('$XDSDocumentEntryCreationTimeFrom', from), slot('$XDSDocumentEntryCreationTimeTo', to));
      expect(ids(await range('20240115093000', '20240115093001'))).to.deep.equal([epikrise.entryUuid]);
      expect(ids(await range('20240115093001', '20240201'))).to.deep.equal([]);
      expect(ids(await range('20240115', '20240202'))).to.deep.equal([epikrise.entryUuid, notat.entryUuid]);
      expect(
        ids(await findDocuments(slot('$XDSDocumentEntryServiceStopTimeFrom', '20240115'), slot('$XDSDocumentEntryServiceStartTimeTo', '20240111'))),
      ).to.deep.equal([epikrise.entryUuid]);
    });

    it('does not see other patients', async () => {
      expect(ids(await findDocuments())).not.to.include(olasEpikrise.entryUuid);
    });
  });

  describe('other Find queries', () => {
    it('FindDocumentsForMultiplePatients spans patients without XDSResultNotSinglePatient', async () => {
      const result = await run({
        // ITI-51's own query: the transaction that runs it says so (the handler sets it, never the wire).
        transaction: 'ITI-51',
        ...request('FindDocumentsForMultiplePatients', [
          slot('$XDSDocumentEntryPatientId', list(KARI, OLA)),
          slot('$XDSDocumentEntryStatus', list(APPROVED)),
          slot('$XDSDocumentEntryClassCode', list(`A00-1^^${V9602}`)),
        ]),
      });
      expect(ids(result)).to.deep.equal([epikrise.entryUuid, olasEpikrise.entryUuid, ny.entryUuid]);
    });

    it('FindSubmissionSets by author and content type', async () => {
      const find = (...more: ReturnType<typeof slot>[]) =>
        run(request('FindSubmissionSets', [slot('$XDSSubmissionSetPatientId', q(KARI)), slot('$XDSSubmissionSetStatus', list(APPROVED)), ...more]));
      expect(ids(await find())).to.deep.equal([ss1.entryUuid, ss2.entryUuid]);
      expect(ids(await find(slot('$XDSSubmissionSetAuthorPerson', q('%hansen%'))))).to.deep.equal([ss2.entryUuid]);
      expect(ids(await find(slot('$XDSSubmissionSetContentType', list(`A00-1^^${V9602}`))))).to.deep.equal([ss1.entryUuid]);
      expect(ids(await find(slot('$XDSSubmissionSetSourceId', list('1.3.6.1.4.1.21367.4'))))).to.have.length(2);
    });

    it('FindFolders by code list', async () => {
      const find = (...more: ReturnType<typeof slot>[]) =>
        run(request('FindFolders', [slot('$XDSFolderPatientId', q(KARI)), slot('$XDSFolderStatus', list(APPROVED)), ...more]));
      expect(ids(await find(slot('$XDSFolderCodeList', list(`A00-1^^${V9602}`))))).to.deep.equal([mappe.entryUuid]);
      expect(ids(await find(slot('$XDSFolderCodeList', list(`A00-1^^${V9602}`)), slot('$XDSFolderCodeList', list(`B00-1^^${V9602}`))))).to.deep.equal([]);
    });
  });

  describe('Get queries', () => {
    it('GetFoldersForDocument finds a folder the document was filed in later', async () => {
      expect(ids(await run(request('GetFoldersForDocument', [slot('$XDSDocumentEntryUniqueId', q(epikrise.uniqueId!))])))).to.deep.equal([
        mappe.entryUuid,
      ]);
    });

    it('GetFolderAndContents with the on-demand entry left out by default', async () => {
      const result = await run(request('GetFolderAndContents', [slot('$XDSFolderEntryUUID', q(mappe.entryUuid))]));
      expect(result.objects.map((o) => o.type)).to.deep.equal(['Folder', 'DocumentEntry', 'Association']);
    });

    it('GetSubmissionSetAndContents: the on-demand entry only when asked for', async () => {
      const get = (...more: ReturnType<typeof slot>[]) =>
        run(request('GetSubmissionSetAndContents', [slot('$XDSSubmissionSetEntryUUID', q(ss1.entryUuid)), ...more]));
      const stable = await get();
      expect(ids(stable)).not.to.include(onDemand.entryUuid);
      expect(stable.objects.filter((o) => o.type === 'DocumentEntry')).to.have.length(2);
      const both = await get(slot('$XDSDocumentEntryType', list(DOCUMENT_ENTRY_TYPE.stable, DOCUMENT_ENTRY_TYPE.onDemand)));
      expect(ids(both)).to.include(onDemand.entryUuid);
      // The folder filing came from ss2, so ss1's answer carries that membership but not ss2's HasMember to it.
      expect(both.objects.filter((o) => o.type === 'Association')).to.have.length(5);
    });

    it('GetRelatedDocuments follows the given association types in both directions', async () => {
      const related = (types: string[]) =>
        run(request('GetRelatedDocuments', [slot('$XDSDocumentEntryEntryUUID', q(ny.entryUuid)), slot('$AssociationTypes', list(...types))]));
      expect(ids(await related([ASSOCIATION_TYPE.RPLC]))).to.deep.equal([ny.entryUuid, gammel.entryUuid, rplc.entryUuid]);
      expect(ids(await related([ASSOCIATION_TYPE.RPLC, ASSOCIATION_TYPE.APND]))).to.deep.equal([
        ny.entryUuid,
        gammel.entryUuid,
        tillegg.entryUuid,
        rplc.entryUuid,
        apnd.entryUuid,
      ]);
      expect(ids(await related([ASSOCIATION_TYPE.XFRM]))).to.deep.equal([]);
    });

    it('GetAll with a confidentiality filter keeps only associations between returned objects', async () => {
      const result = await run(
        request('GetAll', [
          slot('$patientId', q(KARI)),
          slot('$XDSDocumentEntryStatus', list(APPROVED, DEPRECATED)),
          slot('$XDSSubmissionSetStatus', list(APPROVED)),
          slot('$XDSFolderStatus', list(APPROVED)),
          slot('$XDSDocumentEntryConfidentialityCode', list(`NORS^^${V9603}`)),
        ]),
      );
      const returned = new Set(ids(result));
      expect(result.objects.filter((o) => o.type === 'DocumentEntry').map((o) => o.entryUuid)).to.deep.equal([notat.entryUuid]);
      for (const a of result.objects.filter((o) => o.type === 'Association')) {
        expect(returned.has((a as { sourceUuid: string }).sourceUuid) && returned.has((a as { targetUuid: string }).targetUuid)).to.equal(true);
      }
      // ss1→notat and ss1→mappe; ss1's HasMembers to the other documents are left out with them.
      expect(result.objects.filter((o) => o.type === 'Association')).to.have.length(2);
    });

    it('GetDocuments returns deprecated entries too', async () => {
      expect(ids(await run(request('GetDocuments', [slot('$XDSDocumentEntryUniqueId', list(gammel.uniqueId!, 'no.such.id'))])))).to.deep.equal([
        gammel.entryUuid,
      ]);
    });

    it('GetDocumentsAndAssociations / GetAssociations return associations in insertion order', async () => {
      const expected = [...(await store.find({ type: 'Association', $or: [{ sourceUuid: ny.entryUuid }, { targetUuid: ny.entryUuid }] }))].map(
        (a) => a.entryUuid,
      );
      expect(expected).to.deep.equal([rplc.entryUuid, apnd.entryUuid]);
      expect(ids(await run(request('GetAssociations', [slot('$uuid', list(ny.entryUuid))])))).to.deep.equal(expected);
      expect(ids(await run(request('GetDocumentsAndAssociations', [slot('$XDSDocumentEntryEntryUUID', list(ny.entryUuid))])))).to.deep.equal([
        ny.entryUuid,
        ...expected,
      ]);
    });

    it('XDSResultNotSinglePatient for a LeafClass Get over two patients; ObjectRef succeeds', async () => {
      const uuids = list(epikrise.entryUuid, olasEpikrise.entryUuid);
      const leaf = await run(request('GetDocumentsAndAssociations', [slot('$XDSDocumentEntryEntryUUID', uuids)]));
      expect(leaf.status).to.equal('Failure');
      expect(leaf.errors[0]!.code).to.equal('XDSResultNotSinglePatient');
      const refs = await run(request('GetDocumentsAndAssociations', [slot('$XDSDocumentEntryEntryUUID', uuids)], 'ObjectRef'));
      expect(refs.status).to.equal('Success');
      expect(refs.objects.filter((o) => o.type === 'DocumentEntry')).to.have.length(2);
    });
  });

  describe('answers as a whole', () => {
    it('XDSTooManyResults when more objects than maxResults would be returned; exactly maxResults is fine', async () => {
      const query = request('FindDocuments', [slot('$XDSDocumentEntryPatientId', q(KARI)), slot('$XDSDocumentEntryStatus', list(APPROVED))]);
      const tooMany = await run(query, 3);
      expect(tooMany.status).to.equal('Failure');
      expect(tooMany.errors.map((e) => e.code)).to.deep.equal(['XDSTooManyResults']);
      expect(tooMany.objects).to.deep.equal([]);
      expect((await run(query, 4)).objects).to.have.length(4);
    });

    it('XDSTooManyResults counts associations too', async () => {
      const query = request('GetSubmissionSetAndContents', [slot('$XDSSubmissionSetEntryUUID', q(ss1.entryUuid))]);
      const full = await run(query);
      expect((await run(query, full.objects.length)).status).to.equal('Success');
      expect((await run(query, full.objects.length - 1)).errors[0]!.code).to.equal('XDSTooManyResults');
    });

    it('homeCommunityId is set on every returned object, associations included, without touching the store', async () => {
      const result = await runStoredQuery(store, request('GetSubmissionSetAndContents', [slot('$XDSSubmissionSetEntryUUID', q(ss1.entryUuid))]), {
        maxResults: 100,
        homeCommunityId: HOME,
      });
      expect(result.objects.length).to.be.greaterThan(3);
      expect(result.objects.every((o: RegistryObject) => o.homeCommunityId === HOME)).to.equal(true);
      const [stored] = (await store.getByUuids([ss1.entryUuid])) as DocumentEntry[];
      expect(stored!.homeCommunityId).to.equal(undefined);
    });

    it('XDSUnknownStoredQuery for an id that is no stored query', async () => {
      const result = await run({ queryId: 'urn:uuid:00000000-0000-0000-0000-000000000000', returnType: 'LeafClass', parameters: [] });
      expect(result.status).to.equal('Failure');
      expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSUnknownStoredQuery']);
    });

    it('query ids compare case-insensitively', () => {
      expect(storedQueryName(STORED_QUERY_ID.FindDocuments.toUpperCase().replace('URN:UUID:', 'urn:uuid:'))).to.equal('FindDocuments');
    });

    it('parameter errors come back as a Failure result, not an exception', async () => {
      const missing = await run(request('GetAll', [slot('$patientId', q(KARI))]));
      expect(missing.status).to.equal('Failure');
      expect(missing.errors.map((e) => e.code)).to.deep.equal([
        'XDSStoredQueryMissingParam',
        'XDSStoredQueryMissingParam',
        'XDSStoredQueryMissingParam',
      ]);
      const both = await run(
        request('GetDocuments', [slot('$XDSDocumentEntryEntryUUID', list(epikrise.entryUuid)), slot('$XDSDocumentEntryUniqueId', list(epikrise.uniqueId!))]),
      );
      expect(both.errors.map((e) => e.code)).to.deep.equal(['XDSStoredQueryParamNumber']);
      const malformed = await findDocuments(slot('$XDSDocumentEntryCreationTimeFrom', "'i går'"));
      expect(malformed.errors.map((e) => e.code)).to.deep.equal(['XDSRegistryError']);
      expect(malformed.returnType).to.equal('LeafClass');
    });
  });
});
