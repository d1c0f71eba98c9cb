/** Model builders for validation and register tests: a complete, valid ITI-42 submission. */
import {
  ASSOCIATION_TYPE,
  DOCUMENT_ENTRY_TYPE,
  NO_EXTRA,
  type Association,
  type Code,
  type DocumentEntry,
  type Folder,
  type Submission,
  type SubmissionSet,
} from '../../registry/model/metadata.js';
import { createPatientIdPolicy } from '../../registry/patients.js';

export const PATIENT = '13116900216^^^&2.16.578.1.12.4.1.4.1&ISO';
/** A second valid fødselsnummer (check digits computed, see patients.test.ts). */
export const OTHER_PATIENT = '01010112377^^^&2.16.578.1.12.4.1.4.1&ISO';
export const FOREIGN_AUTHORITY = '2.16.578.1.12.4.1.7.3.2.1';
export const FOREIGN_PATIENT = `13116900216^^^&${FOREIGN_AUTHORITY}&ISO`;

export const policy = createPatientIdPolicy({ acceptedAssigningAuthorities: [FOREIGN_AUTHORITY] });

let counter = 0;
/** A fresh OID per call so that uniqueIds never collide between tests. */
export function oid(): string {
  counter += 1;
  return `2.25.${Date.now()}${process.pid}${counter}`;
}

export function code(value: string, scheme = '2.16.578.1.12.4.1.1.9602', name = value): Code {
  return { code: value, scheme, displayName: { value: name } };
}

export function documentEntry(id: string, overrides: Partial<DocumentEntry> = {}): DocumentEntry {
  return {
    type: 'DocumentEntry',
    entryUuid: id,
    objectType: DOCUMENT_ENTRY_TYPE.stable,
    uniqueId: oid(),
    patientId: PATIENT,
    availabilityStatus: 'Approved',
    mimeType: 'application/pdf',
    classCode: code('A00-1', '2.16.578.1.12.4.1.1.9602', 'Epikriser og sammenfatninger'),
    typeCode: code('A03-2', '2.16.578.1.12.4.1.1.9602', 'Epikrise'),
    formatCode: code('urn:no:ehelse:document:pdf', 'urn:oid:1.3.6.1.4.1.19376.1.2.3'),
    healthcareFacilityTypeCode: code('86.101', '2.16.578.1.12.4.1.1.1303'),
    practiceSettingCode: code('S03', '2.16.578.1.12.4.1.1.8655', 'Indremedisin'),
    confidentialityCodes: [code('N', '2.16.840.1.113883.5.25', 'normal')],
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
    creationTime: '20240101120000',
    serviceStartTime: '202401011100',
    hash: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
    size: '1024',
    languageCode: 'nb-NO',
    repositoryUniqueId: '2.16.578.1.12.4.5.100.1',
    sourcePatientId: PATIENT,
    sourcePatientInfo: ['PID-3|13116900216^^^&2.16.578.1.12.4.1.4.1&ISO', 'PID-5|Nordmann^Kari'],
    referenceIdList: [],
    extra: NO_EXTRA,
    ...overrides,
  };
}

export function submissionSet(id = 'SubmissionSet01', overrides: Partial<SubmissionSet> = {}): SubmissionSet {
  return {
    type: 'SubmissionSet',
    entryUuid: id,
    uniqueId: oid(),
    patientId: PATIENT,
    availabilityStatus: 'Approved',
    sourceId: '2.16.578.1.12.4.5.100',
    submissionTime: '20240101120500',
    contentTypeCode: code('B02-2', '2.16.578.1.12.4.1.1.9602', 'Journalnotat'),
    authors: [],
    intendedRecipients: [],
    extra: NO_EXTRA,
    ...overrides,
  };
}

export function folder(id: string, overrides: Partial<Folder> = {}): Folder {
  return {
    type: 'Folder',
    entryUuid: id,
    uniqueId: oid(),
    patientId: PATIENT,
    availabilityStatus: 'Approved',
    title: { value: 'Innleggelse' },
    codeList: [code('I00-1', '2.16.578.1.12.4.1.1.9602', 'Korrespondanse')],
    extra: NO_EXTRA,
    ...overrides,
  };
}

export function association(id: string, type: keyof typeof ASSOCIATION_TYPE, source: string, target: string, overrides: Partial<Association> = {}): Association {
  return {
    type: 'Association',
    entryUuid: id,
    associationType: ASSOCIATION_TYPE[type],
    sourceUuid: source,
    targetUuid: target,
    availabilityStatus: 'Approved',
    extra: NO_EXTRA,
    ...overrides,
  };
}

/** SubmissionSet01 with Document01 (Original) and nothing else. */
export function singleDocument(docOverrides: Partial<DocumentEntry> = {}): Submission {
  return {
    submissionSet: submissionSet(),
    documentEntries: [documentEntry('Document01', docOverrides)],
    folders: [],
    associations: [association('Assoc01', 'HasMember', 'SubmissionSet01', 'Document01', { submissionSetStatus: 'Original' })],
    objectRefs: [],
  };
}

/** A single document plus a folder containing it. */
export function documentInFolder(): Submission {
  const base = singleDocument();
  return {
    ...base,
    folders: [folder('Folder01')],
    associations: [
      ...base.associations,
      association('Assoc02', 'HasMember', 'SubmissionSet01', 'Folder01'),
      association('Assoc03', 'HasMember', 'Folder01', 'Document01'),
      association('Assoc04', 'HasMember', 'SubmissionSet01', 'Assoc03'),
    ],
  };
}
