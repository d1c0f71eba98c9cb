/**
 * The ITI-41 metadata of files to register, as the registry model (registry/model) — serialised
 * by the project's own ebRIM writer (registry/ebxml), never written by hand here.
 *
 * One submission set per call, one DocumentEntry per file, each a HasMember "Original" of the set.
 * Identifiers are generated: a DocumentEntry uniqueId is a UUID (the form Norwegian EPJ systems
 * use, README "Document identifiers"), the submission set's an OID under 2.25 (UUID-derived, so
 * unique without a registration authority; a set's uniqueId must be an OID).
 */
import { randomUUID } from 'node:crypto';
import { ASSOCIATION_TYPE, DOCUMENT_ENTRY_TYPE, NO_EXTRA, type Association, type Author, type Code, type DocumentEntry, type Submission } from '../../registry/model/metadata.js';
import { defaultFormat } from './codes.js';
import type { DocumentFile } from './document-file.js';

/**
 * The SubmissionSet.sourceId this tool sends unless --source-id names the source: a fixed
 * UUID-derived OID, so that what the CLI registered can be told apart from other sources.
 */
export const CLI_SOURCE_ID = '2.25.29339704635489688797367529736964948991';

export interface MetadataOptions {
  /** CX. */
  readonly patientId: string;
  /** The title of every document; else each file's name without its extension. */
  readonly title?: string;
  readonly classCode: Code;
  readonly typeCode: Code;
  /** Else the format code of each file's kind (codes.ts defaultFormat). */
  readonly formatCode?: Code;
  readonly confidentialityCodes: readonly Code[];
  readonly healthcareFacilityTypeCode: Code;
  readonly practiceSettingCode: Code;
  readonly languageCode: string;
  /** On every DocumentEntry and on the submission set. */
  readonly authors: readonly Author[];
  /** DTM; else each file's modification time. */
  readonly creationTime?: string;
  readonly sourceId: string;
}

export interface PlannedDocument {
  readonly file: DocumentFile;
  readonly uniqueId: string;
}

/** A fresh DocumentEntry uniqueId. */
export function newDocumentUniqueId(): string {
  return randomUUID();
}

/** A fresh OID under 2.25 (ITU-T X.667: the UUID as one decimal arc). */
export function newUuidOid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

/** HL7 DTM to the second, UTC (XDS times are UTC). */
export function toDtm(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** The symbolic id of the n-th document (0-based): the DocumentEntry's id and its xdsb:Document's. */
export function documentId(index: number): string {
  return `Document${String(index + 1).padStart(2, '0')}`;
}

const SUBMISSION_SET_ID = 'SubmissionSet01';

export function buildSubmission(documents: readonly PlannedDocument[], m: MetadataOptions, now: Date = new Date()): Submission {
  const entries: DocumentEntry[] = documents.map(({ file, uniqueId }, i) => ({
    type: 'DocumentEntry',
    entryUuid: documentId(i),
    objectType: DOCUMENT_ENTRY_TYPE.stable,
    availabilityStatus: 'Submitted',
    uniqueId,
    patientId: m.patientId,
    sourcePatientId: m.patientId,
    sourcePatientInfo: [],
    title: { value: m.title ?? titleOf(file.name), lang: m.languageCode, charset: 'UTF-8' },
    mimeType: file.mimeType,
    classCode: m.classCode,
    typeCode: m.typeCode,
    formatCode: m.formatCode ?? defaultFormat(file.kind),
    confidentialityCodes: m.confidentialityCodes,
    eventCodes: [],
    healthcareFacilityTypeCode: m.healthcareFacilityTypeCode,
    practiceSettingCode: m.practiceSettingCode,
    authors: m.authors,
    creationTime: m.creationTime ?? toDtm(file.modified),
    hash: file.sha1,
    size: String(file.size),
    languageCode: m.languageCode,
    referenceIdList: [],
    extra: NO_EXTRA,
  }));
  const associations: Association[] = entries.map((e, i) => ({
    type: 'Association',
    entryUuid: `Association${String(i + 1).padStart(2, '0')}`,
    associationType: ASSOCIATION_TYPE.HasMember,
    sourceUuid: SUBMISSION_SET_ID,
    targetUuid: e.entryUuid,
    availabilityStatus: 'Submitted',
    submissionSetStatus: 'Original',
    extra: NO_EXTRA,
  }));
  return {
    submissionSet: {
      type: 'SubmissionSet',
      entryUuid: SUBMISSION_SET_ID,
      availabilityStatus: 'Submitted',
      uniqueId: newUuidOid(),
      sourceId: m.sourceId,
      patientId: m.patientId,
      submissionTime: toDtm(now),
      // The set holds documents of one class: its content type says the same.
      contentTypeCode: m.classCode,
      authors: m.authors,
      intendedRecipients: [],
      extra: NO_EXTRA,
    },
    documentEntries: entries,
    folders: [],
    associations,
    objectRefs: [],
  };
}

/** The file name without its extension (a scan named "Epikrise 2026-11-20.pdf" is titled so). */
function titleOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}
