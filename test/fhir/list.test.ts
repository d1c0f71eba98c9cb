/**
 * SubmissionSet ⇄ List and Folder ⇄ List: round trips with every attribute set, the MHD mapping,
 * valid FHIR R4 out, and NHN's way of giving the SubmissionSet author's institutions.
 */
import { expect } from 'chai';
import { nhnSample } from '../../fixtures/index.js';
import { MHD_EXTENSION, MHD_PROFILE, type List } from '../../connector/fhir/mapping/fhir.js';
import { folderToList, listKind, listToFolder, listToSubmissionSet, submissionSetToList } from '../../connector/fhir/mapping/list.js';
import { validateFhirResource } from '../../connector/fhir/mapping/validate.js';
import { FOLDER_UUID, fullFolder, fullSubmissionSet, SS_UUID } from './model-fixtures.js';

function wire<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

const members = [{ reference: 'DocumentReference/6a1f3c2e-8d4b-4f0a-9c7e-2b5d8e1f4a90', type: 'DocumentReference' }];

describe('FHIR mapping: SubmissionSet and Folder ⇄ List', () => {
  it('SubmissionSet: model → FHIR → model gives the same object, every attribute set', () => {
    const ss = fullSubmissionSet();
    const read = listToSubmissionSet(wire(submissionSetToList(ss, { entries: members })));
    expect(read.issues).to.deep.equal([]);
    expect(read.object).to.deep.equal(ss);
    expect(read.entries.map((e) => e.item)).to.deep.equal(members);
  });

  it('SubmissionSet: also without limitedMetadata, and with an Organization as its only author', () => {
    const ss = { ...fullSubmissionSet(), limitedMetadata: undefined, authors: [fullSubmissionSet().authors[1]!] };
    delete (ss as { limitedMetadata?: boolean }).limitedMetadata;
    const list = submissionSetToList(ss);
    expect(list.meta?.profile).to.deep.equal([MHD_PROFILE.comprehensiveSubmissionSet]);
    expect(list.source).to.deep.equal({ extension: [{ url: MHD_EXTENSION.authorOrg, valueReference: { reference: '#author1-org1', type: 'Organization' } }] });
    expect(listToSubmissionSet(wire(list)).object).to.deep.equal(ss);
  });

  it('Folder: model → FHIR → model gives the same object, every attribute set', () => {
    const folder = fullFolder();
    const read = listToFolder(wire(folderToList(folder, { entries: members })));
    expect(read.issues).to.deep.equal([]);
    expect(read.object).to.deep.equal(folder);
  });

  it('writes the MHD SubmissionSet and Folder shapes, valid FHIR R4', () => {
    const ssList = submissionSetToList(fullSubmissionSet(), { entries: members });
    expect(validateFhirResource(ssList)).to.deep.equal([]);
    expect(listKind(ssList)).to.equal('submissionset');
    expect(ssList).to.deep.include({ id: SS_UUID.slice(9), status: 'current', mode: 'working', date: '2024-01-15T10:35:12Z' });
    expect(ssList.identifier).to.deep.equal([
      { use: 'usual', system: 'urn:ietf:rfc:3986', value: 'urn:oid:2.16.578.1.12.4.5.100.1.3.77' },
      { use: 'official', system: 'urn:ietf:rfc:3986', value: SS_UUID },
    ]);
    expect(ssList.extension).to.deep.include({ url: MHD_EXTENSION.sourceId, valueIdentifier: { system: 'urn:ietf:rfc:3986', value: 'urn:oid:2.16.578.1.12.4.5.100.1.4' } });
    expect(ssList.extension!.find((e) => e.url === MHD_EXTENSION.designationType)?.valueCodeableConcept?.coding?.[0]?.code).to.equal('A03-2');
    expect(ssList.extension!.filter((e) => e.url === MHD_EXTENSION.intendedRecipient)).to.have.length(3);
    expect(ssList.meta?.profile).to.deep.equal([MHD_PROFILE.minimalSubmissionSet]);

    const folderList = folderToList(fullFolder(), { entries: members });
    expect(validateFhirResource(folderList)).to.deep.equal([]);
    expect(listKind(folderList)).to.equal('folder');
    expect(folderList).to.deep.include({ id: FOLDER_UUID.slice(9), status: 'retired', date: '2024-03-01', title: 'Svangerskap' });
    expect(folderList.extension!.filter((e) => e.url === MHD_EXTENSION.designationType)).to.have.length(2);
    expect(folderList.entry).to.deep.equal([{ item: members[0] }]);
  });

  it('reads the intended recipients as Organization, Practitioner or PractitionerRole', () => {
    const list = wire(submissionSetToList(fullSubmissionSet()));
    const recipients = list.extension!.filter((e) => e.url === MHD_EXTENSION.intendedRecipient).map((e) => e.valueReference!.type);
    expect(recipients).to.deep.equal(['PractitionerRole', 'Practitioner', 'Organization']);
  });

  it('reads NHN\'s SubmissionSet: author from source, its unreferenced contained organisation and department as institutions', () => {
    const bundle = JSON.parse(nhnSample('IT_iti-65_ProvideBundle02_dept_with_reference_in_authors.json').toString('utf8')) as { entry: { resource: List }[] };
    const read = listToSubmissionSet(bundle.entry[0]!.resource, { lookup: () => undefined });
    expect(read.object.authors).to.deep.equal([
      {
        person: '11847696046^FATTIGDOM^SIGEN^^^^^^&2.16.578.1.12.4.1.4.4&ISO',
        institutions: ['OSLO KOMMUNE HELSEETATEN LEGEVAKTEN I OSLO^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^984630492', 'Allmenlegevakten'],
        roles: [],
        specialties: [],
        telecommunications: [],
      },
    ]);
    expect(read.object.sourceId).to.equal('2.16.578.1.12.4.5.480.1.2');
    expect(read.object.contentTypeCode).to.deep.equal({ code: 'A03-2', scheme: '2.16.578.1.12.4.1.1.9602', displayName: { value: 'Epikrise' } });
    expect(read.object.submissionTime).to.equal('20260421104150');
  });

  it('is neither kind without an MHD list code', () => {
    expect(listKind({ resourceType: 'List', code: { coding: [{ system: 'http://loinc.org', code: 'folder' }] } })).to.equal(undefined);
    expect(listKind({ resourceType: 'Patient' })).to.equal(undefined);
    expect(listKind({ resourceType: 'List', code: { coding: [{ code: 'folder' }] } })).to.equal('folder');
  });
});
