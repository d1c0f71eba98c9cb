/**
 * Realistic registry objects for the store tests, with Norwegian metadata (see
 * docs/norway.md): fødselsnummer patient ids, Volven codes, HPR authors, org.nr
 * institutions. Each call makes fresh entryUuids and uniqueIds.
 */
import { randomUUID } from 'node:crypto';
import {
  ASSOCIATION_TYPE,
  DOCUMENT_ENTRY_TYPE,
  NO_EXTRA,
  type Association,
  type Author,
  type Code,
  type DocumentEntry,
  type Folder,
  type SubmissionSet,
} from '../../registry/model/metadata.js';

export const FNR_OID = '2.16.578.1.12.4.1.4.1';
export const HPR_OID = '2.16.578.1.12.4.1.4.4';
export const ORGNR_OID = '2.16.578.1.12.4.1.4.101';
export const VOLVEN_9602 = '2.16.578.1.12.4.1.1.9602';
export const VOLVEN_9603 = '2.16.578.1.12.4.1.1.9603';
export const VOLVEN_8655 = '2.16.578.1.12.4.1.1.8655';
export const VOLVEN_1303 = '2.16.578.1.12.4.1.1.1303';
export const VOLVEN_7210 = '2.16.578.1.12.4.1.1.7210';
export const REPOSITORY_OID = '2.16.578.1.12.4.5.100.1.1';

export function patientId(fnr: string): string {
  return `${fnr}^^^&${FNR_OID}&ISO`;
}

/** Synthetic test persons (valid fødselsnummer). */
export const PATIENT_A = patientId('13116900216');
export const PATIENT_B = patientId('01017012345');

export const EPIKRISE: { classCode: Code; typeCode: Code } = {
  classCode: { code: 'A00-1', scheme: VOLVEN_9602, displayName: { value: 'Epikriser og sammenfatninger' } },
  typeCode: { code: 'A03-2', scheme: VOLVEN_9602, displayName: { value: 'Epikrise' } },
};
export const JOURNALNOTAT: { classCode: Code; typeCode: Code } = {
  classCode: { code: 'B00-1', scheme: VOLVEN_9602, displayName: { value: 'Løpende journal' } },
  typeCode: { code: 'B02-2', scheme: VOLVEN_9602, displayName: { value: 'Journalnotat' } },
};
export const CONFIDENTIALITY_N: Code = { code: 'N', scheme: VOLVEN_9603, displayName: { value: 'Normal' } };
export const CONFIDENTIALITY_NORS: Code = { code: 'NORS', scheme: VOLVEN_9603, displayName: { value: 'Sperret' } };

export const AUTHOR_GEIRAAS: Author = {
  person: `502116685^GEIRAAS^BENEDIKTE^^^^^^&${HPR_OID}&ISO`,
  institutions: [`Finnmarkssykehuset HF^^^^^&${ORGNR_OID}&ISO^^^^983974880`],
  roles: ['LE'],
  specialties: ['Indremedisin'],
  telecommunications: [],
};
export const AUTHOR_HANSEN: Author = {
  person: `565505933^HANSEN^KARI^^^^^^&${HPR_OID}&ISO`,
  institutions: [`Helse Bergen HF^^^^^&${ORGNR_OID}&ISO^^^^983974724`],
  roles: ['SP'],
  specialties: ['Allmennmedisin'],
  telecommunications: ['^^Internet^kari.hansen@example.no'],
};

export function uuid(): string {
  return `urn:uuid:${randomUUID()}`;
}

function oidUniqueId(): string {
  const n = randomUUID().replace(/-/g, '').slice(0, 12);
  return `2.16.578.1.12.4.5.100.1.${BigInt('0x' + n).toString()}`;
}

export function documentEntry(overrides: Partial<DocumentEntry> = {}): DocumentEntry {
  return {
    type: 'DocumentEntry',
    entryUuid: uuid(),
    uniqueId: `${oidUniqueId()}^${Math.floor(Math.random() * 1e6)}`,
    patientId: PATIENT_A,
    availabilityStatus: 'Approved',
    objectType: DOCUMENT_ENTRY_TYPE.stable,
    mimeType: 'application/pdf',
    title: { value: 'Epikrise fra indremedisinsk avdeling', lang: 'nb-NO' },
    ...EPIKRISE,
    formatCode: { code: 'urn:no:ehelse:document:pdf', scheme: '2.16.578.1.12.4.1.1.9608', displayName: { value: 'PDF' } },
    healthcareFacilityTypeCode: { code: '86.101', scheme: VOLVEN_1303, displayName: { value: 'Alminnelige somatiske sykehus' } },
    practiceSettingCode: { code: 'S03', scheme: VOLVEN_8655, displayName: { value: 'Indremedisin' } },
    confidentialityCodes: [CONFIDENTIALITY_N],
    eventCodes: [],
    authors: [AUTHOR_GEIRAAS],
    creationTime: '20240315101500',
    serviceStartTime: '202403140800',
    serviceStopTime: '20240315',
    hash: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
    size: '4096',
    languageCode: 'nb-NO',
    repositoryUniqueId: REPOSITORY_OID,
    sourcePatientId: PATIENT_A,
    sourcePatientInfo: ['PID-3|13116900216^^^&2.16.578.1.12.4.1.4.1&ISO', 'PID-5|NORDMANN^OLA', 'PID-8|M'],
    legalAuthenticator: AUTHOR_GEIRAAS.person!,
    referenceIdList: [],
    extra: NO_EXTRA,
    ...overrides,
  };
}

export function submissionSet(overrides: Partial<SubmissionSet> = {}): SubmissionSet {
  return {
    type: 'SubmissionSet',
    entryUuid: uuid(),
    uniqueId: oidUniqueId(),
    patientId: PATIENT_A,
    availabilityStatus: 'Approved',
    sourceId: '2.16.578.1.12.4.5.100.1',
    submissionTime: '20240315102000',
    contentTypeCode: { code: 'A03-2', scheme: VOLVEN_9602, displayName: { value: 'Epikrise' } },
    authors: [AUTHOR_GEIRAAS],
    intendedRecipients: [],
    extra: {
      slots: [{ name: 'urn:no:nhn:extra', values: ['kept'] }],
      classifications: [],
      externalIdentifiers: [],
    },
    ...overrides,
  };
}

export function folder(overrides: Partial<Folder> = {}): Folder {
  return {
    type: 'Folder',
    entryUuid: uuid(),
    uniqueId: oidUniqueId(),
    patientId: PATIENT_A,
    availabilityStatus: 'Approved',
    title: { value: 'Innleggelse mars 2024' },
    codeList: [{ code: 'S03', scheme: VOLVEN_8655, displayName: { value: 'Indremedisin' } }],
    lastUpdateTime: '20240315102000',
    extra: NO_EXTRA,
    ...overrides,
  };
}

export function association(
  sourceUuid: string,
  targetUuid: string,
  overrides: Partial<Association> = {},
): Association {
  return {
    type: 'Association',
    entryUuid: uuid(),
    associationType: ASSOCIATION_TYPE.HasMember,
    sourceUuid,
    targetUuid,
    availabilityStatus: 'Approved',
    submissionSetStatus: 'Original',
    extra: NO_EXTRA,
    ...overrides,
  };
}

/** A whole ITI-42-like submission: set, documents and their HasMember associations. */
export function submission(documents: readonly DocumentEntry[], setOverrides: Partial<SubmissionSet> = {}) {
  const set = submissionSet({ patientId: documents[0]?.patientId ?? PATIENT_A, ...setOverrides });
  const associations = documents.map((d) => association(set.entryUuid, d.entryUuid));
  return { set, documents, associations, all: [set, ...documents, ...associations] };
}
