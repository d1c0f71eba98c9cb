/**
 * Model objects with every attribute set, for the FHIR round-trip tests: Norwegian values where
 * docs/norway.md gives them (Volven codes, org.nr, RESH, HPR, fødselsnummer), and the awkward HL7 v2
 * shapes the mapping must carry exactly (trailing separators, hour-precision DTMs, upper-case hex).
 */
import { ASSOCIATION_TYPE, DOCUMENT_ENTRY_TYPE, NO_EXTRA, type Association, type DocumentEntry, type Folder, type SubmissionSet } from '../../registry/model/metadata.js';

export const PATIENT = '13116900216^^^&2.16.578.1.12.4.1.4.1&ISO';
export const DOC_UUID = 'urn:uuid:6a1f3c2e-8d4b-4f0a-9c7e-2b5d8e1f4a90';
export const SS_UUID = 'urn:uuid:0b9e2f4d-1c3a-4e5f-8a7b-9c0d1e2f3a4b';
export const FOLDER_UUID = 'urn:uuid:7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f';
export const OLD_DOC_UUID = 'urn:uuid:11111111-2222-4333-8444-555555555555';

const volven = (code: string, table: string, display: string) => ({ code, scheme: `2.16.578.1.12.4.1.1.${table}`, displayName: { value: display } });

/** A DocumentEntry with every attribute of the model set, several in non-canonical HL7 forms. */
export function fullDocumentEntry(): DocumentEntry {
  return {
    type: 'DocumentEntry',
    entryUuid: DOC_UUID,
    uniqueId: '2.16.578.1.12.4.5.100.1.2.3^DOC-0001',
    patientId: PATIENT,
    availabilityStatus: 'Approved',
    title: { value: 'Epikrise etter innleggelse', lang: 'nb-NO', charset: 'UTF-8' },
    comments: { value: 'Utskrevet til hjemmet', lang: 'nb-NO' },
    homeCommunityId: 'urn:oid:2.16.578.1.12.4.5.100.1',
    logicalUuid: 'urn:uuid:9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a',
    version: '2',
    extra: {
      slots: [{ name: 'urn:example:slot', slotType: 'string', values: ['a', 'b'] }],
      classifications: [
        {
          id: 'urn:uuid:aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
          classificationScheme: 'urn:uuid:12345678-1234-4234-8234-123456789012',
          nodeRepresentation: 'X1',
          name: { value: 'Extra code', lang: 'en' },
          slots: [{ name: 'codingScheme', values: ['1.2.3'] }],
        },
      ],
      externalIdentifiers: [{ id: 'ei1', identificationScheme: 'urn:uuid:87654321-4321-4321-8321-210987654321', value: 'X-42', name: { value: 'Extra id' } }],
    },
    objectType: DOCUMENT_ENTRY_TYPE.onDemand,
    mimeType: 'application/pdf',
    classCode: volven('A00-1', '9602', 'Epikriser og sammenfatninger'),
    typeCode: volven('A03-2', '9602', 'Epikrise'),
    formatCode: { code: 'urn:no:ehelse:document:pdf', scheme: '2.16.578.1.12.4.1.1.9851', displayName: { value: 'PDF' } },
    healthcareFacilityTypeCode: volven('86.101', '1303', 'Somatisk sykehus'),
    practiceSettingCode: volven('S03', '8655', 'Indremedisin'),
    confidentialityCodes: [
      { code: 'N', scheme: '2.16.840.1.113883.5.25', displayName: { value: 'normal' } },
      volven('NORU', '9603', 'Utsatt innsyn'),
      // A scheme written as a URN (not the bare OID XDS expects) must survive too.
      { code: 'R', scheme: 'urn:oid:2.16.840.1.113883.5.25' },
    ],
    eventCodes: [volven('ZXA10', '7210', 'Innleggelse'), volven('MAA01', '7220', 'Poliklinikk')],
    authors: [
      {
        person: '502116685^GEIRAAS^BENEDIKTE^^^^^^&2.16.578.1.12.4.1.4.4&ISO',
        institutions: ['Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880', 'Medisinsk avdeling^^^^^&2.16.578.1.12.4.1.4.102&ISO^^^^4208723'],
        roles: ['LE^^^&2.16.578.1.12.4.1.1.9060&ISO', 'Attending'],
        specialties: ['Indremedisin'],
        telecommunications: ['^^Internet^benedikte@example.no', '^WPN^PH^^^^^^^^^+4778960000'],
        extraSlots: [{ name: 'urn:example:authorNote', values: ['x'] }],
      },
      { person: '^Welby^Marcus^^^Dr^MD', institutions: [], roles: [], specialties: [], telecommunications: [] },
      { institutions: ['Helse Nord IKT^^^^^^^^^2.16.578.1.12.4.5.100'], roles: [], specialties: [], telecommunications: ['^^Internet^post@hnikt.no'] },
      { institutions: [], roles: [], specialties: [], telecommunications: ['^^Internet^anonymous@example.no'] },
    ],
    creationTime: '20240115103000',
    serviceStartTime: '2024011408',
    serviceStopTime: '20240115',
    hash: 'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709',
    size: '0',
    languageCode: 'nb-NO',
    repositoryUniqueId: '2.16.578.1.12.4.5.100.1.1',
    uri: 'https://documents.example.no/doc/0001',
    sourcePatientId: '123456^^^&2.16.578.1.12.4.5.100.1.9&ISO',
    sourcePatientInfo: ['PID-3|123456^^^&2.16.578.1.12.4.5.100.1.9&ISO', 'PID-5|Nordmann^Kari^^^', 'PID-7|19691113', 'PID-8|F', 'PID-11|Storgata 1^^Tromsø^^9008^NOR'],
    legalAuthenticator: '502116685^GEIRAAS^BENEDIKTE^^^^^^&2.16.578.1.12.4.1.4.4&ISO',
    referenceIdList: ['A-12345^^^&2.16.578.1.12.4.5.100.1.7&ISO^urn:ihe:iti:xds:2013:accession', 'E-1^^^&2.16.578.1.12.4.5.100.1.8&ISO^urn:ihe:iti:xds:2015:encounterId'],
    documentAvailability: 'urn:ihe:iti:2010:DocumentAvailability:Online',
  };
}

/** A plain registered DocumentEntry in canonical forms (what the registry holds after an ITI-41). */
export function canonicalDocumentEntry(): DocumentEntry {
  return {
    type: 'DocumentEntry',
    entryUuid: DOC_UUID,
    uniqueId: '2.16.578.1.12.4.5.100.1.2.3.4',
    patientId: PATIENT,
    availabilityStatus: 'Approved',
    title: { value: 'Epikrise' },
    homeCommunityId: 'urn:oid:2.16.578.1.12.4.5.100.1',
    logicalUuid: DOC_UUID,
    version: '1',
    extra: NO_EXTRA,
    objectType: DOCUMENT_ENTRY_TYPE.stable,
    mimeType: 'application/pdf',
    classCode: volven('A00-1', '9602', 'Epikriser og sammenfatninger'),
    typeCode: volven('A03-2', '9602', 'Epikrise'),
    formatCode: { code: 'urn:no:ehelse:document:pdf', scheme: '2.16.578.1.12.4.1.1.9851', displayName: { value: 'PDF' } },
    healthcareFacilityTypeCode: volven('86.101', '1303', 'Somatisk sykehus'),
    practiceSettingCode: volven('S03', '8655', 'Indremedisin'),
    confidentialityCodes: [{ code: 'N', scheme: '2.16.840.1.113883.5.25', displayName: { value: 'normal' } }],
    eventCodes: [],
    authors: [
      {
        person: '502116685^GEIRAAS^BENEDIKTE^^^^^^&2.16.578.1.12.4.1.4.4&ISO',
        institutions: ['Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880'],
        roles: [],
        specialties: [],
        telecommunications: [],
      },
    ],
    creationTime: '20240115103000',
    serviceStartTime: '20240114080000',
    hash: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
    size: '0',
    languageCode: 'nb-NO',
    repositoryUniqueId: '2.16.578.1.12.4.5.100.1.1',
    sourcePatientId: PATIENT,
    sourcePatientInfo: [`PID-3|${PATIENT}`, 'PID-5|Nordmann^Kari', 'PID-7|19691113', 'PID-8|F'],
    legalAuthenticator: '502116685^GEIRAAS^BENEDIKTE^^^^^^&2.16.578.1.12.4.1.4.4&ISO',
    referenceIdList: [],
  };
}

export function fullSubmissionSet(): SubmissionSet {
  return {
    type: 'SubmissionSet',
    entryUuid: SS_UUID,
    uniqueId: '2.16.578.1.12.4.5.100.1.3.77',
    patientId: PATIENT,
    availabilityStatus: 'Approved',
    title: { value: 'Innsending', lang: 'nb-NO' },
    comments: { value: 'Fra EPJ', charset: 'UTF-8' },
    homeCommunityId: 'urn:oid:2.16.578.1.12.4.5.100.1',
    logicalUuid: SS_UUID,
    version: '1',
    extra: { slots: [{ name: 'urn:example:ssSlot', values: ['v'] }], classifications: [], externalIdentifiers: [] },
    sourceId: '2.16.578.1.12.4.5.100.1.4',
    submissionTime: '20240115103512',
    contentTypeCode: volven('A03-2', '9602', 'Epikrise'),
    authors: [
      {
        person: '502116685^GEIRAAS^BENEDIKTE^^^^^^&2.16.578.1.12.4.1.4.4&ISO',
        institutions: ['Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880'],
        roles: ['LE^^^&2.16.578.1.12.4.1.1.9060&ISO'],
        specialties: [],
        telecommunications: [],
      },
      { institutions: ['Helse Nord IKT^^^^^^^^^2.16.578.1.12.4.5.100'], roles: [], specialties: [], telecommunications: [] },
    ],
    intendedRecipients: [
      'Some Hospital^^^^^^^^^1.2.3.4.5.6.7.8.9.1789.45|^Wel^Marcus^^^Dr^MD|^^Internet^mwel@healthcare.example.org',
      '|^Hansen^Kari',
      'Legekontoret^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^974589095',
    ],
    limitedMetadata: true,
  };
}

export function fullFolder(): Folder {
  return {
    type: 'Folder',
    entryUuid: FOLDER_UUID,
    uniqueId: '2.16.578.1.12.4.5.100.1.5.9',
    patientId: PATIENT,
    availabilityStatus: 'Deprecated',
    title: { value: 'Svangerskap', lang: 'nb-NO' },
    comments: { value: 'Oppfølging' },
    homeCommunityId: 'urn:oid:2.16.578.1.12.4.5.100.1',
    logicalUuid: 'urn:uuid:3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f',
    version: '3',
    extra: NO_EXTRA,
    codeList: [volven('A00-1', '9602', 'Epikriser og sammenfatninger'), { code: '11488-4', scheme: '2.16.840.1.113883.6.1', displayName: { value: 'Consult note' } }],
    lastUpdateTime: '20240301',
  };
}

/** Relationships whose source is the full DocumentEntry, one of each type relatesTo can say. */
export function relations(): Association[] {
  const types = [ASSOCIATION_TYPE.RPLC, ASSOCIATION_TYPE.APND, ASSOCIATION_TYPE.XFRM, ASSOCIATION_TYPE.XFRM_RPLC, ASSOCIATION_TYPE.signs, ASSOCIATION_TYPE.IsSnapshotOf];
  return types.map((associationType, i) => ({
    type: 'Association',
    entryUuid: `urn:uuid:00000000-0000-4000-8000-00000000000${i}`,
    associationType,
    sourceUuid: DOC_UUID,
    targetUuid: OLD_DOC_UUID,
    availabilityStatus: 'Approved',
    extra: NO_EXTRA,
  }));
}
