/**
 * ITI-65 Provide Document Bundle → the submission ITI-41 hands the repository: NHN's sample and the
 * node's own Minimal-option Bundle mapped attribute by attribute, the associations, the documents
 * with their SHA-1 and size, the errors located in the Bundle, the OperationOutcome and the
 * transaction-response; and NHN's sample through the real register path (repository actor,
 * registry, embedded store) and back out as a DocumentReference.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { documentEntryToDocumentReference } from '../../connector/fhir/mapping/document-reference.js';
import { XDS_ERROR_CODE_SYSTEM } from '../../connector/fhir/mapping/fhir.js';
import { httpStatusOf, issuesFromRegistryErrors, operationOutcome, type MhdIssue } from '../../connector/fhir/mapping/issues.js';
import { documentContents, provideBundleToSubmission, transactionResponse, uuidToOid, type ProvidedSubmission } from '../../connector/fhir/mapping/provide-bundle.js';
import { documentReferenceSearchBundle, findDocumentListsQuery, findDocumentReferencesQuery } from '../../connector/fhir/mapping/search.js';
import { loadFhirDefinitions, validateFhirResource } from '../../connector/fhir/mapping/validate.js';
import { ASSOCIATION_TYPE, type DocumentEntry } from '../../registry/model/metadata.js';
import { createPatientIdPolicy } from '../../registry/patients.js';
import { DocumentRegistry } from '../../registry/registry.js';
import { openEmbeddedStore } from '../../registry/store/embedded/index.js';
import { validateSubmission } from '../../registry/validate/index.js';
import { openFilesystemBlobStore } from '../../repository/blob/index.js';
import { inProcessRegistry } from '../../repository/registry-port.js';
import { DocumentRepository } from '../../repository/repository.js';
import { minimalBundle, nhnBundle } from './bundles.js';

const NHN_PATIENT = '17855599120^^^&2.16.578.1.12.4.1.4.1&ISO';
const NHN_DOC = 'urn:uuid:00136637-d4a1-4dab-8460-994dd2a82aa4';
const PATIENT = '13116900216^^^&2.16.578.1.12.4.1.4.1&ISO';

/** Deterministic entryUUIDs for the objects and associations the mapping creates. */
function counter(): () => string {
  let n = 0;
  return () => `urn:uuid:00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
}

function provided(bundle: unknown, options: Parameters<typeof provideBundleToSubmission>[1] = {}): ProvidedSubmission {
  const result = provideBundleToSubmission(bundle, { newUuid: counter(), ...options });
  if (!result.ok) expect.fail(JSON.stringify(result.issues, null, 2));
  return result.value;
}

function failure(bundle: unknown): MhdIssue[] {
  const result = provideBundleToSubmission(bundle, { newUuid: counter() });
  if (result.ok) expect.fail('expected the mapping to fail');
  return result.issues.filter((i) => i.severity !== 'warning');
}

describe('FHIR mapping: ITI-65 Provide Document Bundle → submission', () => {
  describe('NHN\'s sample', () => {
    it('maps without errors to the SubmissionSet, DocumentEntry, HasMember and document ITI-41 would carry', () => {
      const p = provided(nhnBundle());
      const { submissionSet: ss, documentEntries, folders, associations } = p.submission;
      expect(documentEntries).to.have.length(1);
      expect(folders).to.deep.equal([]);
      const de = documentEntries[0]!;

      expect(ss.patientId).to.equal(NHN_PATIENT);
      expect(de.patientId).to.equal(NHN_PATIENT);
      // Its SubmissionSet claims the DocumentReference's entryUUID: the DocumentReference (whose fullUrl it is) keeps it.
      expect(de.entryUuid).to.equal(NHN_DOC);
      expect(ss.entryUuid).to.equal('urn:uuid:00000000-0000-4000-8000-000000000001');
      expect(ss.sourceId).to.equal('2.16.578.1.12.4.5.480.1.2');
      expect(ss.submissionTime).to.equal('20260421104150');
      expect(ss.contentTypeCode).to.deep.equal({ code: 'A03-2', scheme: '2.16.578.1.12.4.1.1.9602', displayName: { value: 'Epikrise' } });
      // A UUID given as the SubmissionSet uniqueId becomes its 2.25 OID.
      expect(ss.uniqueId).to.equal(uuidToOid('29946a9c-e77c-4c19-bc05-324d87605646'));
      expect(ss.authors.map((a) => a.person)).to.deep.equal(['11847696046^FATTIGDOM^SIGEN^^^^^^&2.16.578.1.12.4.1.4.4&ISO']);

      expect(de.uniqueId).to.equal('29946a9c-e77c-4c19-bc05-324d87605646');
      expect(de.classCode).to.deep.equal({ code: 'A00-1', scheme: '2.16.578.1.12.4.1.1.9602', displayName: { value: 'Epikrise og sammenfatninger' } });
      expect(de.typeCode?.code).to.equal('A03-2');
      expect(de.confidentialityCodes).to.deep.equal([{ code: 'N', scheme: '2.16.840.1.113883.5.25', displayName: { value: 'normal' } }]);
      expect(de.healthcareFacilityTypeCode).to.deep.equal({ code: '86.210', scheme: '2.16.578.1.12.4.1.1.1305', displayName: { value: 'Allmennlegetjenester' } });
      expect(de.practiceSettingCode).to.deep.equal({ code: 'KA02', scheme: '2.16.578.1.12.4.1.1.8663', displayName: { value: 'Legevakt' } });
      expect(de.formatCode).to.deep.equal({ code: 'http://www.kith.no/xmlstds/epikrise/2012-02-15', scheme: 'FormatCodes', displayName: { value: 'Epikrise v1.2 (XML)' } });
      expect(de.mimeType).to.equal('application/xml');
      expect(de.title).to.deep.equal({ value: 'Behandlingsnotat' });
      expect(de.creationTime).to.equal('20260421104150');
      expect(de.serviceStartTime).to.equal('20260421085350');
      expect(de.sourcePatientId).to.equal(NHN_PATIENT);
      expect(de.sourcePatientInfo).to.deep.equal([`PID-3|${NHN_PATIENT}`, 'PID-5|KLOKKE^USNOBBET', 'PID-7|20010703', 'PID-8|F']);
      expect(de.authors).to.deep.equal([
        {
          person: '01834898124^PLASSERING^SKJØR^^^^^^&2.16.578.1.12.4.1.4.1&ISO',
          institutions: ['OSLO KOMMUNE HELSEETATEN LEGEVAKTEN I OSLO^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^984630492', 'Allmenlegevakten'],
          roles: [],
          specialties: [],
          telecommunications: [],
        },
      ]);
      // Not carried into a submission: the registry takes only its own community, the repository sets its own id.
      expect(de).not.to.have.property('homeCommunityId');
      expect(de).not.to.have.property('repositoryUniqueId');
      expect(de.availabilityStatus).to.equal('Submitted');

      // The document: hash and size computed, and the source's base64 hash is the same SHA-1.
      const bytes = Buffer.from(nhnBundle().entry[3].resource.data as string, 'base64');
      const sha1 = createHash('sha1').update(bytes).digest('hex');
      expect(de.hash).to.equal(sha1);
      expect(sha1).to.equal(Buffer.from('Ji7z7S6GHBz9aeT5t3dX+4XrS1A=', 'base64').toString('hex'));
      expect(de.size).to.equal('3225');
      expect([...p.documents.keys()]).to.deep.equal([NHN_DOC]);
      expect(p.documents.get(NHN_DOC)).to.deep.include({ sha1, size: 3225, location: 'Bundle.entry[3].resource.data' });
      expect(p.documents.get(NHN_DOC)!.bytes.equals(bytes)).to.equal(true);

      expect(associations).to.have.length(1);
      expect(associations[0]).to.deep.include({ associationType: ASSOCIATION_TYPE.HasMember, sourceUuid: ss.entryUuid, targetUuid: NHN_DOC, submissionSetStatus: 'Original' });

      expect(p.entries.map((e) => [e.index, e.kind, e.entryUuid])).to.deep.equal([
        [0, 'SubmissionSet', ss.entryUuid],
        [1, 'Patient', undefined],
        [2, 'DocumentEntry', NHN_DOC],
        [3, 'Document', NHN_DOC],
      ]);
      expect(p.warnings.map((w) => w.location)).to.deep.equal([
        'Bundle.entry[2].resource.content[0].attachment.language',
        'Bundle.entry[2].resource.context.sourcePatientInfo',
        'Bundle.entry[0].resource.identifier',
        'Bundle.entry[0].resource.identifier',
      ]);
      expect(p.locate(NHN_DOC)).to.equal('Bundle.entry[2].resource');
      expect(p.locate(ss.entryUuid)).to.equal('Bundle.entry[0].resource');
    });

    it('passes the registry\'s ITI-42 rules once a languageCode default is configured (the repository adds repositoryUniqueId)', () => {
      const patientIds = createPatientIdPolicy({ acceptedAssigningAuthorities: [], acceptSyntheticNorwegianIds: true });
      const withRepository = (p: ProvidedSubmission) => ({ ...p.submission, documentEntries: p.submission.documentEntries.map((d) => ({ ...d, repositoryUniqueId: '2.16.578.1.12.4.5.100.1.1' })) });
      expect(validateSubmission(withRepository(provided(nhnBundle())), { patientIds }).map((e) => e.message)).to.deep.equal([
        `DocumentEntry ${NHN_DOC} is missing required attribute languageCode`,
      ]);
      const p = provided(nhnBundle(), { defaultLanguageCode: 'nb-NO' });
      expect(p.submission.documentEntries[0]!.languageCode).to.equal('nb-NO');
      expect(validateSubmission(withRepository(p), { patientIds })).to.deep.equal([]);
    });

    it('registers through the ITI-41 repository path, and the stored entry comes back as a valid DocumentReference', async function () {
      this.timeout(60_000);
      const dir = mkdtempSync(join(tmpdir(), 'kp-mhd-'));
      const store = openEmbeddedStore({ path: join(dir, 'registry.sqlite') });
      const blobs = await openFilesystemBlobStore({ directory: join(dir, 'documents') });
      try {
        const registry = new DocumentRegistry(store, { queryResultLimit: 100, patientIds: createPatientIdPolicy({ acceptedAssigningAuthorities: [], acceptSyntheticNorwegianIds: true }) });
        const repository = new DocumentRepository(blobs, inProcessRegistry(registry), { repositoryUniqueId: '2.16.578.1.12.4.5.100.1.1', maxDocumentBytes: 1 << 20 });
        const p = provided(nhnBundle(), { defaultLanguageCode: 'nb-NO', newUuid: undefined });
        const outcome = await repository.provideAndRegister(p.submission, documentContents(p));
        expect(outcome.errors).to.deep.equal([]);
        expect(outcome.status).to.equal('Success');

        const retrieved = await repository.retrieve([{ repositoryUniqueId: '2.16.578.1.12.4.5.100.1.1', documentUniqueId: '29946a9c-e77c-4c19-bc05-324d87605646' }]);
        const chunks: Buffer[] = [];
        for await (const chunk of retrieved.documents[0]!.stream()) chunks.push(chunk as Buffer);
        expect(Buffer.concat(chunks).equals(p.documents.get(NHN_DOC)!.bytes)).to.equal(true);

        const [stored] = (await store.find({ type: 'DocumentEntry' })) as DocumentEntry[];
        expect(stored!.entryUuid).to.equal(NHN_DOC);
        expect(stored!.hash).to.equal(p.documents.get(NHN_DOC)!.sha1);
        loadFhirDefinitions();
        const dr = documentEntryToDocumentReference(stored!, { documentUrl: () => 'https://node.example/fhir/Binary/00136637-d4a1-4dab-8460-994dd2a82aa4' });
        expect(validateFhirResource(dr)).to.deep.equal([]);
        expect(dr.content[0]!.attachment.hash).to.equal('Ji7z7S6GHBz9aeT5t3dX+4XrS1A=');

        // And found again through ITI-67 / ITI-66 searches run as the registry's stored queries.
        const search = findDocumentReferencesQuery(
          new URLSearchParams('patient.identifier=urn:oid:2.16.578.1.12.4.1.4.1|17855599120&status=current&type=urn:oid:2.16.578.1.12.4.1.1.9602|A03-2&date=ge2026-04-21&author.family=plassering&period=2026-04-21'),
        );
        if (!search.ok) expect.fail(JSON.stringify(search.issues));
        const found = await registry.query(search.request);
        expect(found.errors).to.deep.equal([]);
        expect(found.objects.map((o) => o.entryUuid)).to.deep.equal([NHN_DOC]);
        const searchset = documentReferenceSearchBundle(found.objects as DocumentEntry[], { baseUrl: 'https://node.example/fhir' });
        expect(validateFhirResource(searchset)).to.deep.equal([]);
        const none = findDocumentReferencesQuery(new URLSearchParams('patient.identifier=urn:oid:2.16.578.1.12.4.1.4.1|17855599120&status=current&date=lt2026-04-21'));
        if (!none.ok) expect.fail(JSON.stringify(none.issues));
        expect((await registry.query(none.request)).objects).to.deep.equal([]);
        const lists = findDocumentListsQuery(new URLSearchParams('patient.identifier=urn:oid:2.16.578.1.12.4.1.4.1|17855599120&status=current&code=submissionset&designationType=urn:oid:2.16.578.1.12.4.1.1.9602|A03-2'));
        if (!lists.ok) expect.fail(JSON.stringify(lists.issues));
        expect((await registry.query(lists.request)).objects.map((o) => o.type)).to.deep.equal(['SubmissionSet']);

        // Sent again: the registry refuses, and its errors point back into the Bundle.
        const again = provided(nhnBundle(), { defaultLanguageCode: 'nb-NO', newUuid: undefined });
        const second = await repository.provideAndRegister(again.submission, documentContents(again));
        expect(second.status).to.equal('Failure');
        const located = issuesFromRegistryErrors(second.errors, again.locate);
        expect(located.map((i) => i.location)).to.include('Bundle.entry[2].resource');
      } finally {
        await store.close();
        await blobs.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('the node\'s Minimal-option Bundle', () => {
    it('maps inline data, a Binary with its own hash, a replacement, a new Folder and a reference to a stored document', () => {
      const p = provided(minimalBundle());
      const { submissionSet: ss, documentEntries, folders, associations } = p.submission;
      expect(ss.patientId).to.equal(PATIENT);
      expect(ss.submissionTime).to.equal('20240301090500');
      expect(ss.uniqueId).to.equal('2.16.578.1.12.4.5.100.9.2.1');
      expect(ss.authors).to.deep.equal([{ institutions: ['Legekontoret AS^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^974589095'], roles: [], specialties: [], telecommunications: [] }]);

      const [note, referral] = documentEntries;
      // The first DocumentReference has no entryUUID of its own: it got a new one.
      expect(note!.entryUuid).to.equal('urn:uuid:00000000-0000-4000-8000-000000000002');
      expect(referral!.entryUuid).to.equal('urn:uuid:9c2a8d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e');
      expect(note).to.deep.include({ uniqueId: '2.16.578.1.12.4.5.100.9.3.1', hash: '65197294512f850846e95ea6b06921e5f2c4dc6d', size: '50', creationTime: '20240301090000', serviceStartTime: '20240301081500', serviceStopTime: '20240301090000' });
      expect(referral).to.deep.include({ hash: '797ff800d842d32bb071eab96580a71b8dbc041a', size: '39', creationTime: '20240301', mimeType: 'application/pdf' });
      expect(p.documents.get(note!.entryUuid)!.location).to.equal('Bundle.entry[1].resource.content[0].attachment.data');
      expect(p.documents.get(referral!.entryUuid)!.location).to.equal('Bundle.entry[4].resource.data');

      expect(folders).to.have.length(1);
      const folder = folders[0]!;
      expect(folder).to.deep.include({ title: { value: 'Konsultasjon 2024-03-01' }, uniqueId: '2.16.578.1.12.4.5.100.9.4.1', patientId: PATIENT });
      expect(folder.codeList.map((c) => c.code)).to.deep.equal(['B00-1']);

      const replaced = 'urn:uuid:d2a1e3f4-0b5c-4d6e-8f7a-9b0c1d2e3f4a';
      const stored = 'urn:uuid:c7c4a0a8-52f3-4b6e-9d1a-2e3f4a5b6c7d';
      const summary = associations.map((a) => [a.associationType.split(':').pop(), a.sourceUuid, a.targetUuid, a.submissionSetStatus]);
      expect(summary).to.deep.equal([
        ['RPLC', note!.entryUuid, replaced, undefined],
        ['HasMember', ss.entryUuid, note!.entryUuid, 'Original'],
        ['HasMember', ss.entryUuid, referral!.entryUuid, 'Original'],
        ['HasMember', ss.entryUuid, stored, 'Reference'],
        ['HasMember', ss.entryUuid, folder.entryUuid, undefined],
        ['HasMember', folder.entryUuid, note!.entryUuid, undefined],
        ['HasMember', folder.entryUuid, referral!.entryUuid, undefined],
      ]);
      expect(p.entries.map((e) => e.kind)).to.deep.equal(['SubmissionSet', 'DocumentEntry', 'DocumentReferenceUpdate', 'DocumentEntry', 'Document', 'Folder']);
      expect(p.warnings).to.deep.equal([]);
    });

    it('adds an updated Folder\'s new members with the SubmissionSet HasMember to the membership', () => {
      const b = minimalBundle();
      b.entry[5].request = { method: 'PUT', url: 'List/8b1f7c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d' };
      b.entry[5].resource.id = '8b1f7c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d';
      b.entry[0].resource.entry.pop();
      const p = provided(b);
      expect(p.submission.folders).to.deep.equal([]);
      const folderUuid = 'urn:uuid:8b1f7c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d';
      const memberships = p.submission.associations.filter((a) => a.sourceUuid === folderUuid);
      expect(memberships).to.have.length(2);
      for (const m of memberships) {
        expect(p.submission.associations.some((a) => a.sourceUuid === p.submission.submissionSet.entryUuid && a.targetUuid === m.entryUuid)).to.equal(true);
      }
      expect(p.entries[5]).to.deep.include({ kind: 'FolderUpdate', entryUuid: folderUuid });
    });
  });

  describe('errors, located in the Bundle', () => {
    it('a hash or size that does not match the document', () => {
      const b = nhnBundle();
      b.entry[2].resource.content[0].attachment.hash = '2jmj7l5rSw0yVb/vlWAYkK/YBwk=';
      b.entry[2].resource.content[0].attachment.size = 3000;
      expect(failure(b).map((i) => [i.code, i.location])).to.deep.equal([
        ['XDSRepositoryMetadataError', 'Bundle.entry[2].resource.content[0].attachment.hash'],
        ['XDSRepositoryMetadataError', 'Bundle.entry[2].resource.content[0].attachment.size'],
      ]);
    });

    it('a DocumentReference of another patient than the SubmissionSet', () => {
      const b = minimalBundle();
      b.entry[3].resource.subject = { identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: '01017012345' } };
      expect(failure(b).map((i) => [i.code, i.location])).to.deep.equal([['XDSPatientIdDoesNotMatch', 'Bundle.entry[3].resource.subject']]);
    });

    it('a patient that cannot be resolved', () => {
      const b = nhnBundle();
      b.entry[2].resource.subject = { reference: 'https://pix.example/fhir/Patient/42' };
      expect(failure(b).map((i) => [i.code, i.location])).to.deep.equal([['XDSUnknownPatientId', 'Bundle.entry[2].resource.subject']]);
      const resolved = provideBundleToSubmission(b, { resolvePatient: (ref) => (ref.endsWith('/Patient/42') ? NHN_PATIENT : undefined) });
      expect(resolved.ok).to.equal(true);
    });

    it('what the MHD rules reject, never an exception', () => {
      const b = nhnBundle();
      b.type = 'batch';
      expect(failure(b).map((i) => i.location)).to.deep.equal(['Bundle.type']);
      for (const junk of [undefined, null, 'Bundle', { resourceType: 'Bundle' }, { resourceType: 'Bundle', type: 'transaction', entry: 'x' }]) {
        expect(provideBundleToSubmission(junk).ok).to.equal(false);
      }
    });
  });

  describe('answers', () => {
    it('the transaction-response: one entry per request entry, 201 Created with a location, warnings as outcomes', () => {
      const p = provided(nhnBundle());
      const response = transactionResponse(p, { now: new Date('2026-04-21T10:42:00Z') });
      expect(response).to.deep.include({ resourceType: 'Bundle', type: 'transaction-response', timestamp: '2026-04-21T10:42:00.000Z' });
      expect(response.entry!.map((e) => [e.response!.status, e.response!.location])).to.deep.equal([
        ['201 Created', 'List/00000000-0000-4000-8000-000000000001'],
        ['200 OK', undefined],
        ['201 Created', 'DocumentReference/00136637-d4a1-4dab-8460-994dd2a82aa4'],
        ['201 Created', 'Binary/00136637-d4a1-4dab-8460-994dd2a82aa4'],
      ]);
      expect(response.entry![0]!.response!.outcome!.issue.map((i) => i.severity)).to.deep.equal(['warning', 'warning']);
      expect(response.entry![3]!.response!.outcome).to.equal(undefined);
      expect(validateFhirResource(response)).to.deep.equal([]);
      const custom = transactionResponse(p, { location: (type, uuid) => `https://node.example/fhir/${type}/${uuid.slice(9)}/_history/1` });
      expect(custom.entry![2]!.response!.location).to.equal('https://node.example/fhir/DocumentReference/00136637-d4a1-4dab-8460-994dd2a82aa4/_history/1');
    });

    it('the OperationOutcome: severity, FHIR IssueType, the XDS code as details.coding, the location as expression', () => {
      const outcome = operationOutcome([
        { code: 'XDSMissingDocument', location: 'Bundle.entry[2].resource.content[0].attachment.url', message: 'no Binary' },
        { code: 'XDSPatientIdDoesNotMatch', location: 'Bundle.entry[3].resource.subject', message: 'other patient' },
        { code: 'XDSRegistryMetadataError', location: 'Bundle.entry[0]', message: 'note', severity: 'warning' },
        { code: 'InvalidRequestException', location: 'date', message: 'bad date', issueType: 'value' },
      ]);
      expect(outcome).to.deep.equal({
        resourceType: 'OperationOutcome',
        issue: [
          { severity: 'error', code: 'required', details: { coding: [{ system: XDS_ERROR_CODE_SYSTEM, code: 'XDSMissingDocument' }], text: 'no Binary' }, expression: ['Bundle.entry[2].resource.content[0].attachment.url'] },
          { severity: 'error', code: 'business-rule', details: { coding: [{ system: XDS_ERROR_CODE_SYSTEM, code: 'XDSPatientIdDoesNotMatch' }], text: 'other patient' }, expression: ['Bundle.entry[3].resource.subject'] },
          { severity: 'warning', code: 'invalid', details: { coding: [{ system: XDS_ERROR_CODE_SYSTEM, code: 'XDSRegistryMetadataError' }], text: 'note' }, expression: ['Bundle.entry[0]'] },
          { severity: 'error', code: 'value', details: { coding: [{ system: XDS_ERROR_CODE_SYSTEM, code: 'InvalidRequestException' }], text: 'bad date' }, expression: ['date'] },
        ],
      });
      expect(validateFhirResource(outcome)).to.deep.equal([]);
      expect(operationOutcome([]).issue).to.deep.equal([{ severity: 'information', code: 'informational', diagnostics: 'no problems found' }]);
    });

    it('the HTTP status of a list of issues', () => {
      const issue = (code: MhdIssue['code']): MhdIssue => ({ code, location: '', message: '' });
      expect(httpStatusOf([])).to.equal(200);
      expect(httpStatusOf([{ ...issue('XDSRegistryMetadataError'), severity: 'warning' }])).to.equal(200);
      expect(httpStatusOf([issue('XDSRegistryMetadataError')])).to.equal(400);
      expect(httpStatusOf([issue('XDSUnknownPatientId')])).to.equal(404);
      expect(httpStatusOf([issue('XDSDuplicateUniqueIdInRegistry')])).to.equal(409);
      expect(httpStatusOf([issue('XDSPatientIdDoesNotMatch')])).to.equal(422);
      expect(httpStatusOf([issue('XDSRegistryBusy')])).to.equal(503);
      expect(httpStatusOf([issue('XDSRegistryError'), issue('XDSMissingDocument')])).to.equal(500);
    });

    it('a UUID as its 2.25 OID (ITU-T X.667)', () => {
      expect(uuidToOid('urn:uuid:00000000-0000-0000-0000-000000000001')).to.equal('2.25.1');
      expect(uuidToOid('f81d4fae-7dec-11d0-a765-00a0c91e6bf6')).to.equal('2.25.329800735698586629295641978511506172918');
    });
  });
});
