/**
 * ITI-67 and ITI-66 search parameters → the registry's stored-query requests, one parameter at a
 * time, checked against the registry's own parameter reader (so the slots are what ITI-18 would
 * send); and the searchset Bundles of their answers.
 */
import { expect } from 'chai';
import { MHD_PROFILE } from '../../connector/fhir/mapping/fhir.js';
import {
  documentReferenceSearchBundle,
  findDocumentListsQuery,
  findDocumentReferencesQuery,
  listEntriesOf,
  listSearchBundle,
  readDocumentReferenceQuery,
  type SearchMapping,
  type SearchOptions,
} from '../../connector/fhir/mapping/search.js';
import { validateFhirResource, loadFhirDefinitions } from '../../connector/fhir/mapping/validate.js';
import { ASSOCIATION_TYPE, NO_EXTRA, type Association } from '../../registry/model/metadata.js';
import { STORED_QUERY_ID, type StoredQueryName } from '../../registry/model/query.js';
import { PARAMETER_TABLES, QUERY_PARAMETER as P, readParameters, storedQueryName } from '../../registry/query/index.js';
import { canonicalDocumentEntry, DOC_UUID, FOLDER_UUID, fullFolder, fullSubmissionSet, PATIENT, relations, SS_UUID } from './model-fixtures.js';

const BASE = 'patient.identifier=urn:oid:2.16.578.1.12.4.1.4.1|13116900216&status=current';

function mapped(mapping: SearchMapping) {
  if (!mapping.ok) expect.fail(JSON.stringify(mapping.issues, null, 2));
  return mapping;
}

/** The request as the registry reads it: every slot must pass its parameter table. */
function slotsOf(mapping: SearchMapping): Record<string, string[]> {
  const { request } = mapped(mapping);
  const name = storedQueryName(request.queryId) as StoredQueryName;
  readParameters(PARAMETER_TABLES[name], request.parameters); // throws RegistryFailure on a bad slot
  const out: Record<string, string[]> = {};
  for (const slot of request.parameters) out[slot.name] = [...(out[slot.name] ?? []), ...slot.values];
  return out;
}

function iti67(query: string, options?: SearchOptions): Record<string, string[]> {
  return slotsOf(findDocumentReferencesQuery(new URLSearchParams(query), options));
}

function iti67Issues(query: string, options?: SearchOptions) {
  const m = findDocumentReferencesQuery(new URLSearchParams(query), options);
  if (m.ok) expect.fail(`expected ${query} to be refused`);
  return m.issues.map((i) => [i.code, i.location]);
}

describe('FHIR mapping: MHD search → stored query', () => {
  describe('ITI-67 Find Document References → FindDocuments', () => {
    it('patient.identifier and status: the required pair', () => {
      const m = mapped(findDocumentReferencesQuery(new URLSearchParams(BASE)));
      expect(m.request).to.deep.equal({
        queryId: STORED_QUERY_ID.FindDocuments,
        returnType: 'LeafClass',
        parameters: [
          { name: P.dePatientId, values: [`'${PATIENT}'`] },
          { name: P.deStatus, values: ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"] },
        ],
      });
      expect(iti67('patient.identifier=urn:oid:2.16.578.1.12.4.1.4.1|13116900216&status=current,superseded')[P.deStatus]).to.deep.equal([
        "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved','urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated')",
      ]);
      expect(iti67('patient.identifier=13116900216&status=current', { defaultAssigningAuthority: '2.16.578.1.12.4.1.4.1' })[P.dePatientId]).to.deep.equal([`'${PATIENT}'`]);
    });

    it('patient: a node Patient id, a conditional reference, or one a resolver knows', () => {
      expect(iti67('patient=2.16.578.1.12.4.1.4.1-13116900216&status=current')[P.dePatientId]).to.deep.equal([`'${PATIENT}'`]);
      expect(iti67('patient=https://node.example/fhir/Patient/2.16.578.1.12.4.1.4.1-13116900216&status=current')[P.dePatientId]).to.deep.equal([`'${PATIENT}'`]);
      expect(iti67('patient=Patient/9876&status=current', { resolvePatient: (r) => (r === 'Patient/9876' ? PATIENT : undefined) })[P.dePatientId]).to.deep.equal([`'${PATIENT}'`]);
      expect(iti67Issues('patient=Patient/9876&status=current')).to.deep.equal([['XDSUnknownPatientId', 'patient']]);
    });

    it('refuses a search without patient or status, with two patients, or with a patient.identifier without authority', () => {
      expect(iti67Issues('status=current')).to.deep.equal([['XDSStoredQueryMissingParam', 'patient']]);
      expect(iti67Issues('patient.identifier=urn:oid:2.16.578.1.12.4.1.4.1|13116900216')).to.deep.equal([['XDSStoredQueryMissingParam', 'status']]);
      expect(iti67Issues(`${BASE}&patient.identifier=urn:oid:2.16.578.1.12.4.1.4.1|01017012345`)).to.deep.equal([['XDSStoredQueryParamNumber', 'patient']]);
      expect(iti67Issues('patient.identifier=13116900216&status=current')).to.deep.equal([['InvalidRequestException', 'patient.identifier']]);
      expect(iti67Issues(`${BASE}&status=deleted`)).to.deep.equal([['InvalidRequestException', 'status']]);
    });

    const codes: [param: string, slot: string][] = [
      ['category', P.deClassCode],
      ['type', P.deTypeCode],
      ['setting', P.dePracticeSettingCode],
      ['facility', P.deHealthcareFacilityTypeCode],
      ['format', P.deFormatCode],
    ];
    for (const [param, slot] of codes) {
      it(`${param} → ${slot} (OR over commas and repeats)`, () => {
        const slots = iti67(`${BASE}&${param}=urn:oid:2.16.578.1.12.4.1.1.9602|A00-1,urn:oid:2.16.578.1.12.4.1.1.9602|B00-1&${param}=http://loinc.org|11488-4`);
        expect(slots[slot]).to.deep.equal(["('A00-1^^2.16.578.1.12.4.1.1.9602','B00-1^^2.16.578.1.12.4.1.1.9602','11488-4^^2.16.840.1.113883.6.1')"]);
      });
    }

    for (const [param, slot] of [['event', P.deEventCodeList], ['security-label', P.deConfidentialityCode]] as const) {
      it(`${param} → ${slot} (commas OR, repeats AND: one slot each)`, () => {
        const slots = iti67(`${BASE}&${param}=urn:oid:2.16.578.1.12.4.1.1.7210|ZXA10,urn:oid:2.16.578.1.12.4.1.1.7210|ZXA11&${param}=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N`);
        expect(slots[slot]).to.deep.equal(["('ZXA10^^2.16.578.1.12.4.1.1.7210','ZXA11^^2.16.578.1.12.4.1.1.7210')", "('N^^2.16.840.1.113883.5.25')"]);
      });
    }

    it('a code without its system is refused: XDS matches codes with their scheme', () => {
      expect(iti67Issues(`${BASE}&type=A03-2`)).to.deep.equal([['InvalidRequestException', 'type']]);
      expect(iti67Issues(`${BASE}&type=|A03-2`)).to.deep.equal([['InvalidRequestException', 'type']]);
    });

    it('date and creation → creationTime From (inclusive) / To (exclusive), at the precision given, in UTC', () => {
      expect(iti67(`${BASE}&date=ge2024-01-15&date=lt2024-02`)).to.deep.include({ [P.deCreationTimeFrom]: ['20240115'], [P.deCreationTimeTo]: ['202402'] });
      expect(iti67(`${BASE}&date=2024-01`)).to.deep.include({ [P.deCreationTimeFrom]: ['202401'], [P.deCreationTimeTo]: ['202402'] });
      expect(iti67(`${BASE}&date=2024-12`)).to.deep.include({ [P.deCreationTimeFrom]: ['202412'], [P.deCreationTimeTo]: ['202501'] });
      expect(iti67(`${BASE}&creation=gt2024-02-28&creation=le2024-02-29`)).to.deep.include({ [P.deCreationTimeFrom]: ['20240229'], [P.deCreationTimeTo]: ['20240301'] });
      expect(iti67(`${BASE}&date=ge2024-01-15T10:00:00%2B01:00`)).to.deep.include({ [P.deCreationTimeFrom]: ['20240115090000'] });
      expect(iti67(`${BASE}&date=eb2024&date=sa2020`)).to.deep.include({ [P.deCreationTimeFrom]: ['2021'], [P.deCreationTimeTo]: ['2024'] });
      // Two lower bounds: the tighter one counts.
      expect(iti67(`${BASE}&date=ge2023&date=ge2024-06`)[P.deCreationTimeFrom]).to.deep.equal(['202406']);
      expect(iti67Issues(`${BASE}&date=ne2024`)).to.deep.equal([['InvalidRequestException', 'date']]);
      expect(iti67Issues(`${BASE}&date=yesterday`)).to.deep.equal([['InvalidRequestException', 'date']]);
    });

    it('period → serviceStartTime From / To (the stop time is mostly absent in XDS)', () => {
      expect(iti67(`${BASE}&period=ge2024-01-01&period=lt2024-02-01`)).to.deep.include({ [P.deServiceStartTimeFrom]: ['20240101'], [P.deServiceStartTimeTo]: ['20240201'] });
      expect(iti67(`${BASE}&period=2024`)).to.deep.include({ [P.deServiceStartTimeFrom]: ['2024'], [P.deServiceStartTimeTo]: ['2025'] });
    });

    it('author.given / author.family → authorPerson LIKE patterns', () => {
      expect(iti67(`${BASE}&author.family=Geiraas`)[P.deAuthorPerson]).to.deep.equal(["('%^Geiraas%')"]);
      expect(iti67(`${BASE}&author.given=Benedikte`)[P.deAuthorPerson]).to.deep.equal(["('%^%^Benedikte%')"]);
      expect(iti67(`${BASE}&author.family=Geiraas&author.given=Benedikte,Kari`)[P.deAuthorPerson]).to.deep.equal(["('%^Geiraas%^Benedikte%','%^Geiraas%^Kari%')"]);
      expect(iti67(`${BASE}&author.family=O'Brien`)[P.deAuthorPerson]).to.deep.equal(["('%^O''Brien%')"]);
    });

    it('related → FindDocumentsByReferenceId', () => {
      const m = mapped(findDocumentReferencesQuery(new URLSearchParams(`${BASE}&related=urn:oid:2.16.578.1.12.4.5.100.1.7|A-12345`)));
      expect(m.request.queryId).to.equal(STORED_QUERY_ID.FindDocumentsByReferenceId);
      expect(iti67(`${BASE}&related=urn:oid:2.16.578.1.12.4.5.100.1.7|A-12345&related=E-1^^^%262.16.578.1.12.4.5.100.1.8%26ISO^urn:ihe:iti:xds:2015:encounterId`)[P.deReferenceIdList]).to.deep.equal([
        "('A-12345^^^&2.16.578.1.12.4.5.100.1.7&ISO')",
        "('E-1^^^&2.16.578.1.12.4.5.100.1.8&ISO^urn:ihe:iti:xds:2015:encounterId')",
      ]);
    });

    it('_id and identifier → GetDocuments; a read by id too', () => {
      expect(slotsOf(findDocumentReferencesQuery(new URLSearchParams('_id=6a1f3c2e-8d4b-4f0a-9c7e-2b5d8e1f4a90')))).to.deep.equal({ [P.deEntryUuid]: [`('${DOC_UUID}')`] });
      expect(slotsOf(findDocumentReferencesQuery(new URLSearchParams('identifier=urn:ietf:rfc:3986|urn:oid:1.2.3,urn:oid:1.2.3|ext')))).to.deep.equal({ [P.deUniqueId]: ["('1.2.3','1.2.3^ext')"] });
      const withOthers = mapped(findDocumentReferencesQuery(new URLSearchParams(`_id=6a1f3c2e-8d4b-4f0a-9c7e-2b5d8e1f4a90&${BASE}`)));
      expect(withOthers.warnings.map((w) => w.location)).to.deep.equal(['patient.identifier', 'status']);
      expect(readDocumentReferenceQuery('6a1f3c2e-8d4b-4f0a-9c7e-2b5d8e1f4a90').parameters).to.deep.equal([{ name: P.deEntryUuid, values: [`('${DOC_UUID}')`] }]);
    });

    it('ignores unknown and control parameters, refuses unsupported modifiers', () => {
      const m = mapped(findDocumentReferencesQuery([...new URLSearchParams(BASE), ['_count', '10'], ['_format', 'json'], ['hovedtema', 'x']]));
      expect(m.ignored).to.deep.equal(['_count', '_format', 'hovedtema']);
      expect(iti67Issues(`${BASE}&type:text=Epikrise`)).to.deep.equal([['InvalidRequestException', 'type:text']]);
    });

    it('accepts name/value records as well as URLSearchParams', () => {
      const m = mapped(findDocumentReferencesQuery({ 'patient.identifier': 'urn:oid:2.16.578.1.12.4.1.4.1|13116900216', status: ['current'] }));
      expect(m.request.queryId).to.equal(STORED_QUERY_ID.FindDocuments);
    });
  });

  describe('ITI-66 Find Document Lists → FindSubmissionSets / FindFolders', () => {
    const iti66 = (query: string) => slotsOf(findDocumentListsQuery(new URLSearchParams(query)));

    it('code=submissionset with every parameter', () => {
      const m = mapped(findDocumentListsQuery(new URLSearchParams(`${BASE}&code=submissionset`)));
      expect(m.request.queryId).to.equal(STORED_QUERY_ID.FindSubmissionSets);
      expect(
        iti66(`${BASE}&code=https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes|submissionset&date=ge2024-01&date=lt2024-02&designationType=urn:oid:2.16.578.1.12.4.1.1.9602|A03-2&sourceId=urn:ietf:rfc:3986|urn:oid:2.16.578.1.12.4.5.100.1.4&source.family=Geiraas&source.given=Benedikte`),
      ).to.deep.equal({
        [P.ssPatientId]: [`'${PATIENT}'`],
        [P.ssStatus]: ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"],
        [P.ssSubmissionTimeFrom]: ['202401'],
        [P.ssSubmissionTimeTo]: ['202402'],
        [P.ssContentType]: ["('A03-2^^2.16.578.1.12.4.1.1.9602')"],
        [P.ssSourceId]: ["('2.16.578.1.12.4.5.100.1.4')"],
        [P.ssAuthorPerson]: ["'%^Geiraas%^Benedikte%'"],
      });
    });

    it('code=folder with every parameter; SubmissionSet parameters silently ignored', () => {
      const m = mapped(findDocumentListsQuery(new URLSearchParams(`patient=2.16.578.1.12.4.1.4.1-13116900216&status=retired&code=folder&date=2024&designationType=urn:oid:2.16.578.1.12.4.1.1.9602|A00-1&designationType=http://loinc.org|11488-4&sourceId=1.2.3`)));
      expect(m.request.queryId).to.equal(STORED_QUERY_ID.FindFolders);
      expect(m.ignored).to.deep.equal(['sourceId']);
      expect(slotsOf(m)).to.deep.equal({
        [P.folPatientId]: [`'${PATIENT}'`],
        [P.folStatus]: ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated')"],
        [P.folLastUpdateTimeFrom]: ['2024'],
        [P.folLastUpdateTimeTo]: ['2025'],
        [P.folCodeList]: ["('A00-1^^2.16.578.1.12.4.1.1.9602')", "('11488-4^^2.16.840.1.113883.6.1')"],
      });
    });

    it('refuses a search without code, with both codes, or with two source persons', () => {
      const issues = (q: string) => {
        const m = findDocumentListsQuery(new URLSearchParams(q));
        return m.ok ? [] : m.issues.map((i) => [i.code, i.location]);
      };
      expect(issues(BASE)).to.deep.equal([['XDSStoredQueryMissingParam', 'code']]);
      expect(issues(`${BASE}&code=submissionset,folder`)).to.deep.equal([['InvalidRequestException', 'code']]);
      expect(issues(`${BASE}&code=submissionset&source.family=A,B`)).to.deep.equal([['XDSStoredQueryParamNumber', 'source.family']]);
      expect(issues('code=folder&status=current')).to.deep.equal([['XDSStoredQueryMissingParam', 'patient']]);
    });
  });

  describe('searchset Bundles', () => {
    before(function () {
      this.timeout(60_000);
      loadFhirDefinitions();
    });

    it('DocumentReferences with fullUrl, search mode, total and warnings; valid FHIR R4', () => {
      const bundle = documentReferenceSearchBundle([canonicalDocumentEntry()], {
        baseUrl: 'https://node.example/fhir/',
        selfUrl: 'https://node.example/fhir/DocumentReference?patient.identifier=x',
        relations: relations(),
        documentUrl: () => 'https://node.example/fhir/Binary/x',
        warnings: [{ code: 'XDSUnavailableCommunity', location: 'urn:oid:1.2.3', message: 'a community did not answer', severity: 'warning' }],
      });
      expect(bundle).to.deep.include({ resourceType: 'Bundle', type: 'searchset', total: 1, link: [{ relation: 'self', url: 'https://node.example/fhir/DocumentReference?patient.identifier=x' }] });
      expect(bundle.entry![0]).to.deep.include({ fullUrl: `https://node.example/fhir/DocumentReference/${DOC_UUID.slice(9)}`, search: { mode: 'match' } });
      expect(bundle.entry![1]!.search).to.deep.equal({ mode: 'outcome' });
      expect(validateFhirResource(bundle)).to.deep.equal([]);
    });

    it('Lists with their members from the registry\'s HasMember associations; valid FHIR R4', () => {
      const hasMember = (source: string, target: string, id: string): Association => ({
        type: 'Association', entryUuid: id, associationType: ASSOCIATION_TYPE.HasMember, sourceUuid: source, targetUuid: target, availabilityStatus: 'Approved', extra: NO_EXTRA,
      });
      const associations = [
        hasMember(SS_UUID, DOC_UUID, 'urn:uuid:10000000-0000-4000-8000-000000000001'),
        hasMember(SS_UUID, FOLDER_UUID, 'urn:uuid:10000000-0000-4000-8000-000000000002'),
        hasMember(FOLDER_UUID, DOC_UUID, 'urn:uuid:10000000-0000-4000-8000-000000000003'),
        hasMember(SS_UUID, 'urn:uuid:10000000-0000-4000-8000-000000000003', 'urn:uuid:10000000-0000-4000-8000-000000000004'),
      ];
      const memberType = (uuid: string): 'List' | 'DocumentReference' => (uuid === FOLDER_UUID ? 'List' : 'DocumentReference');
      expect(listEntriesOf(SS_UUID, associations, memberType)).to.deep.equal([
        { reference: `DocumentReference/${DOC_UUID.slice(9)}`, type: 'DocumentReference' },
        { reference: `List/${FOLDER_UUID.slice(9)}`, type: 'List' },
      ]);
      const bundle = listSearchBundle([fullSubmissionSet(), fullFolder()], { baseUrl: 'https://node.example/fhir', associations, memberType });
      expect(bundle.total).to.equal(2);
      expect(bundle.entry!.map((e) => e.fullUrl)).to.deep.equal([`https://node.example/fhir/List/${SS_UUID.slice(9)}`, `https://node.example/fhir/List/${FOLDER_UUID.slice(9)}`]);
      const [ss, folder] = bundle.entry!.map((e) => e.resource as { entry?: unknown[]; meta?: { profile?: string[] } });
      expect(ss!.entry).to.have.length(2);
      expect(folder!.entry).to.have.length(1);
      expect(folder!.meta?.profile).to.deep.equal([MHD_PROFILE.comprehensiveFolder]);
      expect(validateFhirResource(bundle)).to.deep.equal([]);
    });
  });
});
