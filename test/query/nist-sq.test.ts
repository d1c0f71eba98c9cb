/**
 * The NIST XDS Toolkit SQ.b tests (11897–11909, 12368, 15803) against the embedded store loaded
 * with the 12346 data set: same parameters as the tests' query.xml, same expected counts.
 */
import { expect } from 'chai';
import { ASSOCIATION_TYPE, DOCUMENT_ENTRY_TYPE } from '../../registry/model/metadata.js';
import type { StoredQueryResult } from '../../registry/model/query.js';
import { runStoredQuery } from '../../registry/query/index.js';
import { openEmbeddedStore } from '../../registry/store/embedded/index.js';
import type { RegistryStore } from '../../registry/store/store.js';
import { APPROVED, DEPRECATED, countByType, list, loadNistData, nowDtm, q, request, slot, type NistData } from './fixtures.js';

const PATIENT = 'NIST-12346^^^&1.3.6.1.4.1.21367.2005.13.20.1000&ISO';
const OTHER_PATIENT = 'NIST-12374^^^&1.3.6.1.4.1.21367.2005.13.20.1000&ISO';
const OPTIONS = { maxResults: 1000 };

type Counts = Partial<Record<'DocumentEntry' | 'SubmissionSet' | 'Folder' | 'Association', number>>;

function expectSuccess(result: StoredQueryResult): void {
  expect(result.errors, JSON.stringify(result.errors)).to.deep.equal([]);
  expect(result.status).to.equal('Success');
}

function expectCounts(result: StoredQueryResult, counts: Counts): void {
  expectSuccess(result);
  const actual = countByType(result.objects);
  for (const [type, n] of Object.entries(counts)) expect(actual[type as keyof Counts], type).to.equal(n);
}

describe('stored queries: NIST SQ.b tests on the 12346 data', () => {
  let store: RegistryStore;
  let data: NistData;
  let other: NistData;

  before(async () => {
    store = openEmbeddedStore({ path: ':memory:' });
    data = await loadNistData(store, PATIENT);
    other = await loadNistData(store, OTHER_PATIENT);
  });
  after(() => store.close());

  const run = (r: Parameters<typeof runStoredQuery>[1]) => runStoredQuery(store, r, OPTIONS);

  describe('11897 FindDocuments', () => {
    const find = (returnType: 'LeafClass' | 'ObjectRef', statuses: string, ...more: ReturnType<typeof slot>[]) =>
      run(request('FindDocuments', [slot('$XDSDocumentEntryPatientId', q(PATIENT)), slot('$XDSDocumentEntryStatus', statuses), ...more], returnType));
    const approved = list(APPROVED);
    const both = list(APPROVED, DEPRECATED);

    const cases: [string, string, ReturnType<typeof slot>[], number][] = [
      ['approved', approved, [], 5],
      ['leafclass (approved + deprecated)', both, [], 6],
      ['classcode_one', approved, [slot('$XDSDocumentEntryClassCode', "('DISPENSATIONS^^1.3.6.1.4.1.19376.1.2.6.1')")], 1],
      [
        'classcode_two (two values in one slot: OR)',
        both,
        [slot('$XDSDocumentEntryClassCode', "('DISPENSATIONS^^1.3.6.1.4.1.19376.1.2.6.1')", "('REPORTS^^1.3.6.1.4.1.19376.1.2.6.1')")],
        3,
      ],
      [
        'classcode_scheme_2',
        approved,
        [slot('$XDSDocumentEntryClassCode', "('SUMMARIES^^1.3.6.1.4.1.19376.1.2.6.1')", "('HEALTH^^1.3.6.1.4.1.19376.1.2.6.1')")],
        2,
      ],
      [
        'practicesetting',
        approved,
        [slot('$XDSDocumentEntryPracticeSettingCode', "('Practice-D^^1.3.6.1.4.1.21367.2017.3')", "('Practice-G^^1.3.6.1.4.1.21367.2017.3')")],
        3,
      ],
      [
        'practicesetting_scheme (the old Scheme parameter is ignored)',
        approved,
        [
          slot('$XDSDocumentEntryPracticeSettingCode', "('Practice-D^^1.3.6.1.4.1.21367.2017.3')"),
          slot('$XDSDocumentEntryPracticeSettingCodeScheme', "('Connect-a-thon practiceSettingCodes')"),
        ],
        2,
      ],
      [
        'classcode_practicesetting',
        approved,
        [
          slot('$XDSDocumentEntryPracticeSettingCode', "('309927009^^2.16.840.1.113883.6.96')"),
          slot('$XDSDocumentEntryClassCode', "('SUMMARIES^^1.3.6.1.4.1.19376.1.2.6.1')"),
        ],
        1,
      ],
      ['creationtime_between', approved, [slot('$XDSDocumentEntryCreationTimeFrom', '20040101'), slot('$XDSDocumentEntryCreationTimeTo', '20050101')], 1],
      [
        'creationtime_between_long',
        approved,
        [slot('$XDSDocumentEntryCreationTimeFrom', '200401010934'), slot('$XDSDocumentEntryCreationTimeTo', '200501010856')],
        1,
      ],
      ['creationtime_left_edge (From inclusive)', approved, [slot('$XDSDocumentEntryCreationTimeFrom', '20041224'), slot('$XDSDocumentEntryCreationTimeTo', '20050101')], 1],
      ['creationtime_right_edge (To exclusive)', approved, [slot('$XDSDocumentEntryCreationTimeFrom', '20041124'), slot('$XDSDocumentEntryCreationTimeTo', '20041224')], 0],
      [
        'creationtime_practicesetting',
        approved,
        [
          slot('$XDSDocumentEntryCreationTimeFrom', '20020101'),
          slot('$XDSDocumentEntryPracticeSettingCode', "('Practice-D^^1.3.6.1.4.1.21367.2017.3')"),
          slot('$XDSDocumentEntryCreationTimeTo', '20060101'),
        ],
        1,
      ],
      ['servicestarttime', approved, [slot('$XDSDocumentEntryServiceStartTimeFrom', '2005'), slot('$XDSDocumentEntryServiceStartTimeTo', '2006')], 2],
      ['servicestoptime', approved, [slot('$XDSDocumentEntryServiceStopTimeFrom', '2005'), slot('$XDSDocumentEntryServiceStopTimeTo', '2006')], 2],
      [
        'hcftc',
        approved,
        [slot('$XDSDocumentEntryHealthcareFacilityTypeCode', "('264372000^^2.16.840.1.113883.6.96')", "('66280005^^2.16.840.1.113883.6.96')")],
        3,
      ],
      ['hcftc_scheme', approved, [slot('$XDSDocumentEntryHealthcareFacilityTypeCode', "('264372000^^2.16.840.1.113883.6.96')")], 2],
      ['eventcode', approved, [slot('$XDSDocumentEntryEventCodeList', "('urn:connectathon:policy:deny-access^^1.3.6.1.4.1.21367.2017.3')")], 1],
      [
        'eventcode_multi_select / and (two slots: AND)',
        approved,
        [
          slot('$XDSDocumentEntryEventCodeList', "('urn:connectathon:bppc:foundational:policy^^1.3.6.1.4.1.21367.2017.3')"),
          slot('$XDSDocumentEntryEventCodeList', "('urn:connectathon:policy:full-access^^1.3.6.1.4.1.21367.2017.3')"),
        ],
        1,
      ],
      ['confcode', approved, [slot('$XDSDocumentEntryConfidentialityCode', "('V^^2.16.840.1.113883.5.25', 'R^^2.16.840.1.113883.5.25')")], 2],
      ['formatcode', approved, [slot('$XDSDocumentEntryFormatCode', "('urn:ihe:rad:TEXT^^1.3.6.1.4.1.19376.1.2.3')")], 4],
      ['typecode', approved, [slot('$XDSDocumentEntryTypeCode', "('11369-6^^2.16.840.1.113883.6.1')")], 5],
      ['deprecated', list(DEPRECATED), [], 1],
      ['author', approved, [slot('$XDSDocumentEntryAuthorPerson', "('%Ford%')")], 1],
    ];
    for (const [section, statuses, slots, count] of cases) {
      it(section, async () => {
        const result = await find('ObjectRef', statuses, ...slots);
        expectSuccess(result);
        expect(result.objects).to.have.length(count);
      });
    }

    it('leafclass returns the same objects as objectref', async () => {
      const leaf = await find('LeafClass', both);
      expectCounts(leaf, { DocumentEntry: 6 });
    });

    it('classcode_scheme_mismatch: a code without scheme fails', async () => {
      const result = await find('ObjectRef', approved, slot('$XDSDocumentEntryClassCode', "('DEMO-Lab^^1.3.6.1.4.1.21367.100.1', 'a^^')"));
      expect(result.status).to.equal('Failure');
      expect(result.errors[0]!.code).to.equal('XDSRegistryError');
      expect(result.objects).to.deep.equal([]);
    });

    it('old_scheme: a code value without ^^scheme fails', async () => {
      const result = await find(
        'ObjectRef',
        approved,
        slot('$XDSDocumentEntryPracticeSettingCode', "('Dialysis')"),
        slot('$XDSDocumentEntryPracticeSettingCodeScheme', "('Connect-a-thon practiceSettingCodes')"),
      );
      expect(result.status).to.equal('Failure');
      expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSRegistryError']);
    });

    it('refid: FindDocumentsByReferenceId', async () => {
      const result = await run(
        request(
          'FindDocumentsByReferenceId',
          [
            slot('$XDSDocumentEntryPatientId', q(PATIENT)),
            slot('$XDSDocumentEntryStatus', approved),
            slot('$XDSDocumentEntryReferenceIdList', "('20061223^^^&1.2.5643.2&ISO^urn:ihe:iti:xds:2013:uniqueId')"),
          ],
          'ObjectRef',
        ),
      );
      expectSuccess(result);
      expect(result.objects.map((o) => o.entryUuid)).to.deep.equal([data.singleDoc.doc.entryUuid]);
    });
  });

  describe('11898 FindSubmissionSets', () => {
    const find = (...more: ReturnType<typeof slot>[]) =>
      run(request('FindSubmissionSets', [slot('$XDSSubmissionSetPatientId', q(PATIENT)), slot('$XDSSubmissionSetStatus', list(APPROVED)), ...more]));
    const cases: [string, ReturnType<typeof slot>[], number][] = [
      ['simple', [], 5],
      ['other_sourceid', [slot('$XDSSubmissionSetSourceId', "('1.2.669847365.352.1')")], 0],
      ['submissiontime_in', [slot('$XDSSubmissionSetSubmissionTimeFrom', '200412'), slot('$XDSSubmissionSetSubmissionTimeTo', '200501')], 5],
      ['submissiontime_out', [slot('$XDSSubmissionSetSubmissionTimeFrom', '200312'), slot('$XDSSubmissionSetSubmissionTimeTo', '200401')], 0],
      ['submissiontime_no_start', [slot('$XDSSubmissionSetSubmissionTimeTo', '200501')], 5],
      ['submissiontime_no_end', [slot('$XDSSubmissionSetSubmissionTimeFrom', '200412')], 5],
      ['author_all', [slot('$XDSSubmissionSetAuthorPerson', "'%Dopplemeyer%'")], 5],
      ['author_none', [slot('$XDSSubmissionSetAuthorPerson', "'%Smith%'")], 0],
      ['contenttype_all', [slot('$XDSSubmissionSetContentType', "('225728007^^2.16.840.1.113883.6.96')")], 5],
      ['contenttype_none', [slot('$XDSSubmissionSetContentType', "('66280005^^2.16.840.1.113883.6.96')")], 0],
    ];
    for (const [section, slots, count] of cases) {
      it(section, async () => expectCounts(await find(...slots), { SubmissionSet: count, DocumentEntry: 0 }));
    }
  });

  describe('11899 FindFolders', () => {
    const find = (...more: ReturnType<typeof slot>[]) =>
      run(request('FindFolders', [slot('$XDSFolderPatientId', q(PATIENT)), slot('$XDSFolderStatus', list(APPROVED)), ...more]));
    it('basic', async () => expectCounts(await find(), { Folder: 2 }));
    it('in_updatetime', async () =>
      expectCounts(await find(slot('$XDSFolderLastUpdateTimeFrom', nowDtm(-1)), slot('$XDSFolderLastUpdateTimeTo', nowDtm(1))), { Folder: 2 }));
    it('out_updatetime', async () =>
      expectCounts(await find(slot('$XDSFolderLastUpdateTimeFrom', '2001'), slot('$XDSFolderLastUpdateTimeTo', '2003')), { Folder: 0 }));
    it('codelist', async () => expectCounts(await find(slot('$XDSFolderCodeList', "('Referrals^^1.3.6.1.4.1.21367.2017.3')")), { Folder: 2 }));
  });

  describe('11901 GetDocuments', () => {
    it('uniqueid', async () =>
      expectCounts(await run(request('GetDocuments', [slot('$XDSDocumentEntryUniqueId', list(data.singleDoc.doc.uniqueId!))])), { DocumentEntry: 1 }));
    it('uniqueid2', async () =>
      expectCounts(
        await run(request('GetDocuments', [slot('$XDSDocumentEntryUniqueId', list(data.singleDoc.doc.uniqueId!, data.twoDocsWithFolder.doc2.uniqueId!))])),
        { DocumentEntry: 2 },
      ));
    it('uuid', async () =>
      expectCounts(await run(request('GetDocuments', [slot('$XDSDocumentEntryEntryUUID', list(data.singleDoc.doc.entryUuid))])), { DocumentEntry: 1 }));
    it('uuid2', async () =>
      expectCounts(
        await run(request('GetDocuments', [slot('$XDSDocumentEntryEntryUUID', list(data.singleDoc.doc.entryUuid, data.twoDocsWithFolder.doc2.entryUuid))])),
        { DocumentEntry: 2 },
      ));
    it('uuid_multiple_slot_values', async () =>
      expectCounts(
        await run(
          request('GetDocuments', [
            slot('$XDSDocumentEntryEntryUUID', list(data.singleDoc.doc.entryUuid), list(data.twoDocsWithFolder.doc2.entryUuid)),
          ]),
        ),
        { DocumentEntry: 2 },
      ));
    it('homeCommunityId: every returned object carries the home community', async () => {
      const result = await runStoredQuery(
        store,
        request('GetDocuments', [slot('$XDSDocumentEntryUniqueId', list(data.singleDoc.doc.uniqueId!))]),
        { maxResults: 10, homeCommunityId: 'urn:oid:1.3.6.1.4.1.21367.13.70.101' },
      );
      expectCounts(result, { DocumentEntry: 1 });
      expect(result.objects[0]!.homeCommunityId).to.equal('urn:oid:1.3.6.1.4.1.21367.13.70.101');
    });
  });

  describe('11902 GetFolders', () => {
    it('uuid', async () => {
      const result = await run(
        request('GetFolders', [slot('$XDSFolderEntryUUID', list(data.docWithFolder.folder.entryUuid, data.twoDocsWithFolder.folder.entryUuid))]),
      );
      expectCounts(result, { Folder: 2, SubmissionSet: 0, Association: 0, DocumentEntry: 0 });
      expect(result.objects.every((o) => o.availabilityStatus === 'Approved')).to.equal(true);
    });
    it('uniqueid', async () =>
      expectCounts(
        await run(
          request('GetFolders', [slot('$XDSFolderUniqueId', list(data.docWithFolder.folder.uniqueId!, data.twoDocsWithFolder.folder.uniqueId!))]),
        ),
        { Folder: 2, SubmissionSet: 0, Association: 0, DocumentEntry: 0 },
      ));
  });

  describe('11903 GetAssociations', () => {
    const get = (...ids: string[]) => run(request('GetAssociations', [slot('$uuid', list(...ids))]));
    it('single_from_doc', async () => expectCounts(await get(data.singleDoc.doc.entryUuid), { Association: 1 }));
    it('multiple_assoc_from_doc', async () => expectCounts(await get(data.docWithFolder.doc.entryUuid), { Association: 2 }));
    it('multiple_assoc_from_ss', async () => expectCounts(await get(data.docWithFolder.ss.entryUuid), { Association: 3 }));
    it('multiple_doc', async () => expectCounts(await get(data.docWithFolder.ss.entryUuid, data.singleDoc.ss.entryUuid), { Association: 4 }));
  });

  describe('11904 GetDocumentsAndAssociations', () => {
    const get = (param: string, ...ids: string[]) => run(request('GetDocumentsAndAssociations', [slot(param, list(...ids))]));
    it('uniqueid', async () =>
      expectCounts(await get('$XDSDocumentEntryUniqueId', data.singleDoc.doc.uniqueId!), { DocumentEntry: 1, Association: 1 }));
    it('uniqueids', async () =>
      expectCounts(await get('$XDSDocumentEntryUniqueId', data.singleDoc.doc.uniqueId!, data.docWithFolder.doc.uniqueId!), {
        DocumentEntry: 2,
        Association: 3,
      }));
    it('uuid', async () => expectCounts(await get('$XDSDocumentEntryEntryUUID', data.singleDoc.doc.entryUuid), { DocumentEntry: 1, Association: 1 }));
    it('uuids', async () =>
      expectCounts(await get('$XDSDocumentEntryEntryUUID', data.singleDoc.doc.entryUuid, data.docWithFolder.doc.entryUuid), {
        DocumentEntry: 2,
        Association: 3,
      }));
  });

  describe('11905 GetSubmissionSets', () => {
    const get = (...ids: string[]) => run(request('GetSubmissionSets', [slot('$uuid', list(...ids))]));
    it('doc_uuid', async () => expectCounts(await get(data.singleDoc.doc.entryUuid), { SubmissionSet: 1, Association: 1 }));
    it('two_doc_uuid_two_ss', async () =>
      expectCounts(await get(data.singleDoc.doc.entryUuid, data.docWithFolder.doc.entryUuid), { SubmissionSet: 2, Association: 2 }));
    it('two_doc_uuid_one_ss', async () =>
      expectCounts(await get(data.twoDocsWithFolder.doc1.entryUuid, data.twoDocsWithFolder.doc2.entryUuid), { SubmissionSet: 1, Association: 2 }));
    it('fol_uuid', async () => expectCounts(await get(data.docWithFolder.folder.entryUuid), { SubmissionSet: 1, Association: 1 }));
    it('doc_and_fol', async () =>
      expectCounts(await get(data.singleDoc.doc.entryUuid, data.docWithFolder.folder.entryUuid), { SubmissionSet: 2, Association: 2 }));
  });

  describe('11906 GetSubmissionSetAndContents', () => {
    it('uniqueid', async () =>
      expectCounts(await run(request('GetSubmissionSetAndContents', [slot('$XDSSubmissionSetUniqueId', q(data.singleDoc.ss.uniqueId!))])), {
        SubmissionSet: 1,
        DocumentEntry: 1,
        Association: 1,
      }));
    it('uuid', async () =>
      expectCounts(await run(request('GetSubmissionSetAndContents', [slot('$XDSSubmissionSetEntryUUID', q(data.singleDoc.ss.entryUuid))])), {
        SubmissionSet: 1,
        DocumentEntry: 1,
        Association: 1,
      }));
    it('folder_and_docs: SS, two documents, one folder and all seven associations, in TF order', async () => {
      const result = await run(request('GetSubmissionSetAndContents', [slot('$XDSSubmissionSetUniqueId', q(data.twoDocsWithFolder.ss.uniqueId!))]));
      expectCounts(result, { SubmissionSet: 1, DocumentEntry: 2, Folder: 1, Association: 7 });
      expect(result.objects.map((o) => o.type)).to.deep.equal([
        'SubmissionSet',
        'DocumentEntry',
        'DocumentEntry',
        'Folder',
        ...Array<string>(7).fill('Association'),
      ]);
    });
    it('format_code: one document, its folder membership only', async () => {
      const result = await run(
        request('GetSubmissionSetAndContents', [
          slot('$XDSDocumentEntryFormatCode', "('urn:ihe:pcc:aps:2007^^1.3.6.1.4.1.19376.1.2.3')"),
          slot('$XDSSubmissionSetUniqueId', q(data.twoDocsWithFolder.ss.uniqueId!)),
        ]),
      );
      expectCounts(result, { SubmissionSet: 1, DocumentEntry: 1, Folder: 1, Association: 4 });
      expect(result.objects.filter((o) => o.type === 'DocumentEntry')[0]!.entryUuid).to.equal(data.twoDocsWithFolder.doc2.entryUuid);
    });
    it('conf_code', async () =>
      expectCounts(
        await run(
          request('GetSubmissionSetAndContents', [
            slot('$XDSSubmissionSetUniqueId', q(data.twoDocsWithFolder.ss.uniqueId!)),
            slot('$XDSDocumentEntryConfidentialityCode', "('R^^2.16.840.1.113883.5.25')"),
          ]),
        ),
        { SubmissionSet: 1, DocumentEntry: 1, Folder: 1, Association: 4 },
      ));
    it('objectrefs', async () => {
      const result = await run(request('GetSubmissionSetAndContents', [slot('$XDSSubmissionSetUniqueId', q(data.singleDoc.ss.uniqueId!))], 'ObjectRef'));
      expectSuccess(result);
      expect(result.objects).to.have.length(3);
    });
  });

  describe('11907 GetFolderAndContents', () => {
    const get = (...slots: ReturnType<typeof slot>[]) => run(request('GetFolderAndContents', slots));
    it('uniqueid', async () =>
      expectCounts(await get(slot('$XDSFolderUniqueId', q(data.docWithFolder.folder.uniqueId!))), { Folder: 1, DocumentEntry: 1, Association: 1 }));
    it('uuid', async () =>
      expectCounts(await get(slot('$XDSFolderEntryUUID', q(data.docWithFolder.folder.entryUuid))), { Folder: 1, DocumentEntry: 1, Association: 1 }));
    it('conf_code', async () =>
      expectCounts(
        await get(
          slot('$XDSFolderEntryUUID', q(data.twoDocsWithFolder.folder.entryUuid)),
          slot('$XDSDocumentEntryConfidentialityCode', "('R^^2.16.840.1.113883.5.25')"),
        ),
        { Folder: 1, DocumentEntry: 1, Association: 1 },
      ));
    it('both_conf_code', async () =>
      expectCounts(
        await get(
          slot('$XDSFolderEntryUUID', q(data.twoDocsWithFolder.folder.entryUuid)),
          slot('$XDSDocumentEntryConfidentialityCode', "('R^^2.16.840.1.113883.5.25', 'N^^2.16.840.1.113883.5.25')"),
        ),
        { Folder: 1, DocumentEntry: 2, Association: 2 },
      ));
    it('format_code', async () =>
      expectCounts(
        await get(
          slot('$XDSFolderEntryUUID', q(data.twoDocsWithFolder.folder.entryUuid)),
          slot('$XDSDocumentEntryFormatCode', "('urn:ihe:rad:TEXT^^1.3.6.1.4.1.19376.1.2.3')"),
        ),
        { Folder: 1, DocumentEntry: 1, Association: 1 },
      ));
  });

  describe('11908 GetFoldersForDocument', () => {
    it('uniqueid', async () =>
      expectCounts(await run(request('GetFoldersForDocument', [slot('$XDSDocumentEntryUniqueId', q(data.twoDocsWithFolder.doc1.uniqueId!))])), {
        Folder: 1,
        SubmissionSet: 0,
        DocumentEntry: 0,
        Association: 0,
      }));
    it('uuid', async () =>
      expectCounts(await run(request('GetFoldersForDocument', [slot('$XDSDocumentEntryEntryUUID', q(data.twoDocsWithFolder.doc1.entryUuid))])), {
        Folder: 1,
        SubmissionSet: 0,
        DocumentEntry: 0,
        Association: 0,
      }));
  });

  describe('11909 GetRelatedDocuments', () => {
    const types = slot('$AssociationTypes', list(ASSOCIATION_TYPE.HasMember, ASSOCIATION_TYPE.RPLC));
    const get = (idSlot: ReturnType<typeof slot>) => run(request('GetRelatedDocuments', [idSlot, types]));
    it('no_initial_doc', async () =>
      expectCounts(await get(slot('$XDSDocumentEntryEntryUUID', q('urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6'))), { DocumentEntry: 0, Association: 0 }));
    it('uniqueid_no_related', async () =>
      expectCounts(await get(slot('$XDSDocumentEntryUniqueId', q(data.singleDoc.doc.uniqueId!))), { DocumentEntry: 0, Association: 0 }));
    it('uuid_no_related', async () =>
      expectCounts(await get(slot('$XDSDocumentEntryEntryUUID', q(data.singleDoc.doc.entryUuid))), { DocumentEntry: 0, Association: 0 }));
    it('uniqueid: the replaced document, its replacement and the RPLC', async () => {
      const result = await get(slot('$XDSDocumentEntryUniqueId', q(data.docForReplace.doc.uniqueId!)));
      expectCounts(result, { DocumentEntry: 2, Association: 1 });
      expect(result.objects.map((o) => o.entryUuid)).to.deep.equal([
        data.docForReplace.doc.entryUuid,
        data.replacement.doc.entryUuid,
        data.replacement.rplc.entryUuid,
      ]);
    });
    it('near_folder: a folder membership is not a relation', async () =>
      expectCounts(await get(slot('$XDSDocumentEntryUniqueId', q(data.twoDocsWithFolder.doc2.uniqueId!))), { DocumentEntry: 0, Association: 0 }));
    it('uuid', async () =>
      expectCounts(await get(slot('$XDSDocumentEntryEntryUUID', q(data.twoDocsWithFolder.doc2.entryUuid))), { DocumentEntry: 0, Association: 0 }));
  });

  describe('12368 XDSResultNotSinglePatient', () => {
    const twoPatientDocs = () => list(data.singleDoc.doc.entryUuid, other.singleDoc.doc.entryUuid);
    it('doc_leafclass fails', async () => {
      const result = await run(request('GetDocuments', [slot('$XDSDocumentEntryEntryUUID', twoPatientDocs())]));
      expect(result.status).to.equal('Failure');
      expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSResultNotSinglePatient']);
      expect(result.objects).to.deep.equal([]);
    });
    it('doc_objectref succeeds', async () => {
      const result = await run(request('GetDocuments', [slot('$XDSDocumentEntryEntryUUID', twoPatientDocs())], 'ObjectRef'));
      expectSuccess(result);
      expect(result.objects).to.have.length(2);
    });
    it('ss_leafclass fails', async () => {
      const result = await run(request('GetSubmissionSets', [slot('$uuid', twoPatientDocs())]));
      expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSResultNotSinglePatient']);
    });
    it('ss_objectref succeeds with two SS and two associations', async () => {
      const result = await run(request('GetSubmissionSets', [slot('$uuid', twoPatientDocs())], 'ObjectRef'));
      expectSuccess(result);
      expect(result.objects).to.have.length(4);
    });
    it('fol_leafclass fails', async () => {
      const result = await run(
        request('GetFolders', [slot('$XDSFolderEntryUUID', list(data.docWithFolder.folder.entryUuid, other.docWithFolder.folder.entryUuid))]),
      );
      expect(result.errors.map((e) => e.code)).to.deep.equal(['XDSResultNotSinglePatient']);
    });
    it('fol_objectref succeeds', async () => {
      const result = await run(
        request('GetFolders', [slot('$XDSFolderUniqueId', list(data.docWithFolder.folder.uniqueId!, other.docWithFolder.folder.uniqueId!))], 'ObjectRef'),
      );
      expectSuccess(result);
      expect(result.objects).to.have.length(2);
    });
  });

  describe('15803 GetAll', () => {
    it('all: 6 documents, 5 submission sets, 2 folders, 15 associations', async () => {
      const statuses = [list(APPROVED), list(DEPRECATED)];
      const result = await run(
        request('GetAll', [
          slot('$patientId', q(PATIENT)),
          slot('$XDSDocumentEntryStatus', ...statuses),
          slot('$XDSSubmissionSetStatus', ...statuses),
          slot('$XDSFolderStatus', ...statuses),
          slot('$XDSDocumentEntryType', list(DOCUMENT_ENTRY_TYPE.stable), list(DOCUMENT_ENTRY_TYPE.onDemand)),
        ]),
      );
      expectCounts(result, { DocumentEntry: 6, SubmissionSet: 5, Folder: 2, Association: 15 });
    });
    it('approved only: the RPLC to the deprecated document is left out with it', async () => {
      const result = await run(
        request('GetAll', [
          slot('$patientId', q(PATIENT)),
          slot('$XDSDocumentEntryStatus', list(APPROVED)),
          slot('$XDSSubmissionSetStatus', list(APPROVED)),
          slot('$XDSFolderStatus', list(APPROVED)),
        ]),
      );
      expectCounts(result, { DocumentEntry: 5, SubmissionSet: 5, Folder: 2, Association: 13 });
    });
  });
});
