/**
 * DocumentEntry ⇄ DocumentReference: the round trip model → FHIR → model for an entry with every
 * attribute set, the HL7 v2 ↔ FHIR value conversions it rests on, reading what other MHD sources
 * send, and that what the node writes is valid FHIR R4.
 */
import { expect } from 'chai';
import { ASSOCIATION_TYPE, DOCUMENT_ENTRY_TYPE, NO_EXTRA, type DocumentEntry } from '../../registry/model/metadata.js';
import { documentEntryToDocumentReference, documentReferenceToDocumentEntry } from '../../connector/fhir/mapping/document-reference.js';
import { MHD_PROFILE, NODE_EXTENSION, type DocumentReference } from '../../connector/fhir/mapping/fhir.js';
import {
  cxToIdentifier,
  dateTimeToDtm,
  dtmPrimitive,
  dtmToDateTime,
  identifierToCx,
  identifierToUniqueId,
  organizationToXon,
  patientToPidLines,
  pidLinesToPatient,
  practitionerToXcn,
  uniqueIdToIdentifier,
  xcnToPractitioner,
  xonToOrganization,
} from '../../connector/fhir/mapping/hl7v2.js';
import { validateFhirResource } from '../../connector/fhir/mapping/validate.js';
import { canonicalDocumentEntry, DOC_UUID, fullDocumentEntry, OLD_DOC_UUID, PATIENT, relations } from './model-fixtures.js';

/** Through JSON, as a consumer would get it. */
function wire<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function roundTrip(entry: DocumentEntry, options: Parameters<typeof documentEntryToDocumentReference>[1] = {}) {
  const resource = wire(documentEntryToDocumentReference(entry, { documentUrl: () => 'https://node.example/fhir/Binary/x', ...options }));
  return { resource, read: documentReferenceToDocumentEntry(resource) };
}

describe('FHIR mapping: DocumentEntry ⇄ DocumentReference', () => {
  describe('round trip model → FHIR → model', () => {
    it('gives back a DocumentEntry with every attribute set, non-canonical HL7 values included', () => {
      const entry = fullDocumentEntry();
      // The fixture really sets every attribute the model defines.
      const optional = ['uniqueId', 'patientId', 'title', 'comments', 'homeCommunityId', 'logicalUuid', 'version', 'mimeType', 'classCode', 'typeCode', 'formatCode',
        'healthcareFacilityTypeCode', 'practiceSettingCode', 'creationTime', 'serviceStartTime', 'serviceStopTime', 'hash', 'size', 'languageCode', 'repositoryUniqueId',
        'uri', 'sourcePatientId', 'legalAuthenticator', 'documentAvailability'];
      for (const key of optional) expect(entry, key).to.have.property(key);
      const { read } = roundTrip(entry, { relations: relations() });
      expect(read.issues).to.deep.equal([]);
      expect(read.entry).to.deep.equal(entry);
    });

    it('gives back a canonical registered entry without any xds-original extension', () => {
      const entry = canonicalDocumentEntry();
      const { resource, read } = roundTrip(entry);
      expect(read.entry).to.deep.equal(entry);
      expect(JSON.stringify(resource)).not.to.include(NODE_EXTENSION.original);
    });

    it('keeps Submitted and Deprecated status, a symbolic id and an entry with nothing optional', () => {
      for (const availabilityStatus of ['Submitted', 'Deprecated'] as const) {
        const entry = { ...canonicalDocumentEntry(), availabilityStatus };
        expect(roundTrip(entry).read.entry).to.deep.equal(entry);
      }
      const bare: DocumentEntry = {
        type: 'DocumentEntry', entryUuid: 'Document01', availabilityStatus: 'Approved', extra: NO_EXTRA, objectType: DOCUMENT_ENTRY_TYPE.stable,
        confidentialityCodes: [], eventCodes: [], authors: [], sourcePatientInfo: [], referenceIdList: [],
      };
      const { resource, read } = roundTrip(bare, { documentUrl: () => undefined });
      expect(resource.identifier).to.deep.equal([{ use: 'temp', value: 'Document01' }]);
      expect(read.entry).to.deep.equal(bare);
    });

    it('writes relatesTo for the entry\'s own relationships only, and reads them back with their exact type', () => {
      const others = [...relations(), { ...relations()[0]!, sourceUuid: OLD_DOC_UUID, targetUuid: DOC_UUID }];
      const { resource, read } = roundTrip(fullDocumentEntry(), { relations: others });
      expect(resource.relatesTo!.map((r) => r.code)).to.deep.equal(['replaces', 'appends', 'transforms', 'replaces', 'signs', 'transforms']);
      expect(resource.relatesTo![0]!.target.reference).to.equal('DocumentReference/11111111-2222-4333-8444-555555555555');
      expect(read.relatesTo.map((r) => [r.associationType, r.targetUuid])).to.deep.equal(relations().map((a) => [a.associationType, OLD_DOC_UUID]));
    });
  });

  describe('what the node writes', () => {
    it('is valid FHIR R4 and claims MHD Comprehensive', () => {
      for (const entry of [fullDocumentEntry(), canonicalDocumentEntry()]) {
        const resource = documentEntryToDocumentReference(entry, { relations: relations(), documentUrl: () => 'https://node.example/fhir/Binary/x' });
        expect(validateFhirResource(resource)).to.deep.equal([]);
        expect(resource.meta?.profile).to.deep.equal([MHD_PROFILE.comprehensiveDocumentReference]);
      }
    });

    it('follows the MHD mapping table', () => {
      const dr = documentEntryToDocumentReference(canonicalDocumentEntry(), { documentUrl: () => 'https://node.example/fhir/Binary/x', patientReference: () => 'Patient/2.16.578.1.12.4.1.4.1-13116900216' });
      expect(dr.id).to.equal(DOC_UUID.slice(9));
      expect(dr.masterIdentifier).to.deep.equal({ use: 'usual', system: 'urn:ietf:rfc:3986', value: 'urn:oid:2.16.578.1.12.4.5.100.1.2.3.4' });
      expect(dr.identifier).to.deep.equal([{ use: 'official', system: 'urn:ietf:rfc:3986', value: DOC_UUID }]);
      expect(dr.status).to.equal('current');
      expect(dr.subject).to.deep.equal({ reference: 'Patient/2.16.578.1.12.4.1.4.1-13116900216', type: 'Patient', identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: '13116900216' } });
      expect(dr.type?.coding?.[0]).to.deep.equal({ system: 'urn:oid:2.16.578.1.12.4.1.1.9602', code: 'A03-2', display: 'Epikrise' });
      expect(dr.securityLabel?.[0]?.coding?.[0]?.system).to.equal('http://terminology.hl7.org/CodeSystem/v3-Confidentiality');
      expect(dr.date).to.equal('2024-01-15T10:30:00Z');
      const attachment = dr.content[0]!.attachment;
      // SHA-1 of nothing: hex da39a3ee… in XDS is 2jmj7l5rSw0yVb/vlWAYkK/YBwk= in FHIR.
      expect(attachment).to.deep.include({ contentType: 'application/pdf', language: 'nb-NO', url: 'https://node.example/fhir/Binary/x', size: 0, hash: '2jmj7l5rSw0yVb/vlWAYkK/YBwk=', title: 'Epikrise', creation: '2024-01-15T10:30:00Z' });
      expect(dr.context?.period).to.deep.equal({ start: '2024-01-14T08:00:00Z' });
      const author = dr.contained!.find((r) => r.id === 'author1')!;
      expect(author).to.deep.include({ resourceType: 'PractitionerRole', practitioner: { reference: '#author1-person', type: 'Practitioner' }, organization: { reference: '#author1-org1', type: 'Organization' } });
      expect(dr.author).to.deep.equal([{ reference: '#author1', type: 'PractitionerRole' }]);
      expect(dr.authenticator).to.deep.equal({ reference: '#legalAuthenticator', type: 'Practitioner' });
      expect(dr.context?.sourcePatientInfo).to.deep.equal({ reference: '#sourcePatient', type: 'Patient', identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: '13116900216' } });
      const extensions = dr.extension!.map((e) => e.url);
      expect(extensions).to.include('https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-HomeCommunityId');
    });

    it('marks on-demand entries and carries the XDS URI apart from the retrieve URL', () => {
      const dr = documentEntryToDocumentReference(fullDocumentEntry(), { documentUrl: () => 'https://node.example/fhir/Binary/x' });
      expect(dr.extension).to.deep.include({ url: NODE_EXTENSION.objectType, valueString: DOCUMENT_ENTRY_TYPE.onDemand });
      expect(dr.extension).to.deep.include({ url: NODE_EXTENSION.uri, valueString: 'https://documents.example.no/doc/0001' });
      expect(dr.content[0]!.attachment.url).to.equal('https://node.example/fhir/Binary/x');
    });
  });

  describe('HL7 v2 values', () => {
    it('DTM ↔ FHIR keeps every precision FHIR can say, and the DTM itself where it cannot', () => {
      expect(dtmToDateTime('2024')).to.equal('2024');
      expect(dtmToDateTime('202401')).to.equal('2024-01');
      expect(dtmToDateTime('20240115')).to.equal('2024-01-15');
      expect(dtmToDateTime('20240115103045')).to.equal('2024-01-15T10:30:45Z');
      expect(dtmToDateTime('20241315')).to.equal(undefined);
      expect(dtmPrimitive('20240115103045')).to.deep.equal({ value: '2024-01-15T10:30:45Z' });
      expect(dtmPrimitive('2024011510')).to.deep.equal({ value: '2024-01-15T10:00:00Z', element: { extension: [{ url: NODE_EXTENSION.original, valueString: '2024011510' }] } });
      expect(dtmPrimitive('202401151030', 'instant').value).to.equal(undefined);
    });

    it('FHIR → DTM converts to UTC, drops fractions, keeps dates as dates', () => {
      expect(dateTimeToDtm('2026-04-21T10:41:50.973968993Z')).to.equal('20260421104150');
      expect(dateTimeToDtm('2024-03-01T00:30:00+01:00')).to.equal('20240229233000');
      expect(dateTimeToDtm('2023-12-31T23:30:00-01:00')).to.equal('20240101003000');
      expect(dateTimeToDtm('2024-03-01')).to.equal('20240301');
      expect(dateTimeToDtm('2024-03')).to.equal('202403');
      expect(dateTimeToDtm('1. mars 2024')).to.equal(undefined);
    });

    it('uniqueId: OID, UUID and OID^extension as MHD identifiers', () => {
      expect(uniqueIdToIdentifier('1.2.3')).to.deep.equal({ use: 'usual', system: 'urn:ietf:rfc:3986', value: 'urn:oid:1.2.3' });
      expect(uniqueIdToIdentifier('29946a9c-e77c-4c19-bc05-324d87605646')).to.deep.equal({ use: 'usual', system: 'urn:ietf:rfc:3986', value: 'urn:uuid:29946a9c-e77c-4c19-bc05-324d87605646' });
      expect(uniqueIdToIdentifier('1.2.3^abc')).to.deep.equal({ use: 'usual', system: 'urn:oid:1.2.3', value: 'abc' });
      for (const id of ['1.2.3', '1.2.3^abc', '29946a9c-e77c-4c19-bc05-324d87605646', 'not an id', 'urn:oid:1.2.3']) expect(identifierToUniqueId(wire(uniqueIdToIdentifier(id)))).to.equal(id);
    });

    it('CX, XCN and XON read back exactly, canonical or not', () => {
      expect(cxToIdentifier(PATIENT)).to.deep.equal({ system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: '13116900216' });
      for (const cx of [PATIENT, '123^^^NS&1.2.3&ISO', 'x^y']) expect(identifierToCx(wire(cxToIdentifier(cx)))).to.equal(cx);
      for (const xcn of ['502116685^GEIRAAS^BENEDIKTE^^^^^^&2.16.578.1.12.4.1.4.4&ISO', '^Welby^Marcus^^^Dr^MD', '^Hansen^Kari^Marie', 'Ole \\S\\ Dole^Brun']) {
        expect(practitionerToXcn(wire(xcnToPractitioner(xcn, 'p')))).to.equal(xcn);
      }
      for (const xon of ['Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880', 'Helse Nord IKT^^^^^^^^^2.16.578.1.12.4.5.100', 'Legevakt', 'A^^^^^^^^^local-7']) {
        expect(organizationToXon(wire(xonToOrganization(xon, 'o')))).to.equal(xon);
      }
    });

    it('sourcePatientInfo lines as a Patient and back, in their order', () => {
      const lines = [`PID-3|${PATIENT}`, 'PID-5|Nordmann^Kari', 'PID-7|19691113', 'PID-8|F', 'PID-11|Storgata 1^^Tromsø^^9008^NOR'];
      const patient = pidLinesToPatient(lines, 'p');
      expect(patient).to.deep.equal({
        resourceType: 'Patient', id: 'p',
        identifier: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: '13116900216' }],
        name: [{ family: 'Nordmann', given: ['Kari'] }],
        birthDate: '1969-11-13', gender: 'female',
        address: [{ line: ['Storgata 1'], city: 'Tromsø', postalCode: '9008', country: 'NOR' }],
      });
      expect(patientToPidLines(wire(patient))).to.deep.equal(lines);
      const odd = ['PID-8|F', 'PID-3|x^^^&1.2&ISO', 'PID-13|^^PH^^^^^^^^^+4799999999'];
      expect(patientToPidLines(wire(pidLinesToPatient(odd, 'p')))).to.deep.equal(odd);
    });
  });

  describe('reading what other MHD sources send', () => {
    const minimal = (extra: Record<string, unknown>): unknown => ({
      resourceType: 'DocumentReference',
      status: 'current',
      content: [{ attachment: { contentType: 'text/plain', url: 'urn:uuid:0d3b9e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f' } }],
      ...extra,
    });

    it('takes a hex hash as hex, base64 as base64, and the homeCommunityId from the attachment', () => {
      const hex = documentReferenceToDocumentEntry(minimal({ content: [{ attachment: { hash: 'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709', extension: [{ url: 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-homeCommunityId', valueUri: 'urn:oid:1.2.3' }] } }] }));
      expect(hex.entry.hash).to.equal('DA39A3EE5E6B4B0D3255BFEF95601890AFD80709');
      expect(hex.entry.homeCommunityId).to.equal('urn:oid:1.2.3');
      expect(documentReferenceToDocumentEntry(minimal({ content: [{ attachment: { hash: '2jmj7l5rSw0yVb/vlWAYkK/YBwk=' } }] })).entry.hash).to.equal('da39a3ee5e6b4b0d3255bfef95601890afd80709');
    });

    it('resolves the patient from a conditional reference, a node Patient id or a resolver, and names one it cannot', () => {
      const cx = (subject: unknown, options = {}) => documentReferenceToDocumentEntry(minimal({ subject }), options);
      expect(cx({ reference: 'Patient?identifier=urn:oid:2.16.578.1.12.4.1.4.1|13116900216' }).entry.patientId).to.equal(PATIENT);
      expect(cx({ reference: 'https://node.example/fhir/Patient/2.16.578.1.12.4.1.4.1-13116900216' }).entry.patientId).to.equal(PATIENT);
      expect(cx({ reference: 'Patient/abc' }, { resolvePatient: (r: string) => (r === 'Patient/abc' ? PATIENT : undefined) }).entry.patientId).to.equal(PATIENT);
      const unknown = cx({ reference: 'Patient/abc' });
      expect(unknown.entry.patientId).to.equal(undefined);
      expect(unknown.issues).to.deep.equal([{ code: 'XDSUnknownPatientId', location: 'DocumentReference.subject', message: 'Patient Patient/abc cannot be resolved to a patient id' }]);
      expect(cx({ identifier: { system: 'http://example.org/mrn', value: '1' } }).issues[0]!.code).to.equal('XDSUnknownPatientId');
    });

    it('merges NHN-style author lists (Practitioner, its PractitionerRole, the Organization, a department partOf it) into one author', () => {
      const dr = minimal({
        contained: [
          { resourceType: 'Practitioner', id: 'p', identifier: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.4', value: '123' }], name: [{ family: 'Lege', given: ['Lise'] }] },
          { resourceType: 'PractitionerRole', id: 'r', practitioner: { reference: '#p' }, organization: { reference: '#o' }, code: [{ coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.9060', code: 'LE', display: 'Lege' }] }] },
          { resourceType: 'Organization', id: 'o', identifier: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.101', value: '984630492' }], name: 'Oslo kommune' },
          { resourceType: 'Organization', id: 'd', name: 'Legevakten', partOf: { reference: '#o' } },
          { resourceType: 'Organization', id: 'x', name: 'Annen virksomhet' },
        ],
        author: [{ reference: '#p' }, { reference: '#r' }, { reference: '#o' }, { reference: '#d' }, { reference: '#x' }],
      });
      expect(documentReferenceToDocumentEntry(dr).entry.authors).to.deep.equal([
        { person: '123^Lege^Lise^^^^^^&2.16.578.1.12.4.1.4.4&ISO', institutions: ['Oslo kommune^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^984630492', 'Legevakten'], roles: ['LE^^^&2.16.578.1.12.4.1.1.9060&ISO'], specialties: [], telecommunications: [] },
        { institutions: ['Annen virksomhet'], roles: [], specialties: [], telecommunications: [] },
      ]);
    });

    it('reads an encounter as a referenceIdList value of type encounterId, and warns about what it leaves out', () => {
      const read = documentReferenceToDocumentEntry(minimal({
        context: { encounter: [{ identifier: { system: 'urn:oid:1.2.3', value: 'E9' } }], related: [{ identifier: { value: 'no-authority' } }] },
        relatesTo: [{ code: 'incorporates', target: { reference: 'DocumentReference/x' } }],
      }));
      expect(read.entry.referenceIdList).to.deep.equal(['E9^^^&1.2.3&ISO^urn:ihe:iti:xds:2015:encounterId']);
      expect(read.issues.map((i) => [i.location, i.severity])).to.deep.equal([
        ['DocumentReference.context.related[0]', 'warning'],
        ['DocumentReference.relatesTo[0].code', 'warning'],
      ]);
    });

    it('never throws on resources of the wrong shape', () => {
      for (const junk of [null, 42, 'x', [], {}, { resourceType: 'DocumentReference', content: 'no', subject: 7, author: {}, context: [] }]) {
        const read = documentReferenceToDocumentEntry(junk);
        expect(read.entry.type).to.equal('DocumentEntry');
      }
    });
  });

  it('relatesTo targets in the node\'s form name the replaced entry', () => {
    const dr = wire(documentEntryToDocumentReference(canonicalDocumentEntry(), {
      relations: [{ type: 'Association', entryUuid: 'a', associationType: ASSOCIATION_TYPE.RPLC, sourceUuid: DOC_UUID, targetUuid: OLD_DOC_UUID, availabilityStatus: 'Approved', extra: NO_EXTRA }],
    })) as DocumentReference;
    expect(dr.relatesTo).to.deep.equal([{ code: 'replaces', target: { reference: `DocumentReference/${OLD_DOC_UUID.slice(9)}`, type: 'DocumentReference' } }]);
  });
});
