/**
 * Builders for stored query tests: registry objects, request slots, and a registry loaded with
 * the NIST 12346 data set (the data the SQ.b tests 11897–11909, 12368 and 15803 query).
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
  type RegistryObject,
  type SubmissionSet,
} from '../../registry/model/metadata.js';
import { STORED_QUERY_ID, type ReturnType, type StoredQueryName, type StoredQueryRequest } from '../../registry/model/query.js';
import { openEmbeddedStore } from '../../registry/store/embedded/index.js';
import type { RegistryStore } from '../../registry/store/store.js';

export const APPROVED = 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved';
export const DEPRECATED = 'urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated';

export function uuid(): string {
  return `urn:uuid:${randomUUID()}`;
}

let uniqueCounter = 0;
export function uniqueId(): string {
  return `1.2.3.4.${Date.now()}.${++uniqueCounter}`;
}

export function code(code: string, scheme: string): Code {
  return { code, scheme };
}

export function author(person: string, extra: Partial<Author> = {}): Author {
  return { person, institutions: [], roles: [], specialties: [], telecommunications: [], ...extra };
}

export function documentEntry(patientId: string, fields: Partial<DocumentEntry> = {}): DocumentEntry {
  return {
    type: 'DocumentEntry',
    entryUuid: uuid(),
    uniqueId: uniqueId(),
    patientId,
    availabilityStatus: 'Approved',
    objectType: DOCUMENT_ENTRY_TYPE.stable,
    mimeType: 'text/xml',
    confidentialityCodes: [],
    eventCodes: [],
    authors: [],
    sourcePatientInfo: [],
    referenceIdList: [],
    extra: NO_EXTRA,
    ...fields,
  };
}

export function submissionSet(patientId: string, fields: Partial<SubmissionSet> = {}): SubmissionSet {
  return {
    type: 'SubmissionSet',
    entryUuid: uuid(),
    uniqueId: uniqueId(),
    patientId,
    availabilityStatus: 'Approved',
    sourceId: '1.3.6.1.4.1.21367.4',
    submissionTime: '20041225235050',
    contentTypeCode: code('225728007', '2.16.840.1.113883.6.96'),
    authors: [author('^Dopplemeyer^Sherry^^^')],
    intendedRecipients: [],
    extra: NO_EXTRA,
    ...fields,
  };
}

export function folder(patientId: string, fields: Partial<Folder> = {}): Folder {
  return {
    type: 'Folder',
    entryUuid: uuid(),
    uniqueId: uniqueId(),
    patientId,
    availabilityStatus: 'Approved',
    codeList: [code('Referrals', '1.3.6.1.4.1.21367.2017.3')],
    lastUpdateTime: nowDtm(),
    extra: NO_EXTRA,
    ...fields,
  };
}

export function association(
  associationType: string,
  source: RegistryObject,
  target: RegistryObject,
  fields: Partial<Association> = {},
): Association {
  return {
    type: 'Association',
    entryUuid: uuid(),
    associationType,
    sourceUuid: source.entryUuid,
    targetUuid: target.entryUuid,
    availabilityStatus: 'Approved',
    extra: NO_EXTRA,
    ...fields,
  };
}

export function hasMember(source: RegistryObject, target: RegistryObject, fields: Partial<Association> = {}): Association {
  return association(ASSOCIATION_TYPE.HasMember, source, target, fields);
}

/** The current time as a 14-digit DTM (UTC). */
export function nowDtm(offsetYears = 0): string {
  const d = new Date();
  d.setUTCFullYear(d.getUTCFullYear() + offsetYears);
  return d.toISOString().replace(/[-T:]/g, '').slice(0, 14);
}

/** A parameter slot; each argument is one rim:Value, written exactly as on the wire. */
export function slot(name: string, ...values: string[]): { name: string; values: string[] } {
  return { name, values };
}

/** `'value'` with quotes doubled, and `('a','b')` lists. */
export const q = (value: string): string => `'${value.replace(/'/g, "''")}'`;
export const list = (...values: string[]): string => `(${values.map(q).join(',')})`;

export function request(
  name: StoredQueryName,
  parameters: { name: string; values: string[] }[],
  returnType: ReturnType = 'LeafClass',
): StoredQueryRequest {
  return { queryId: STORED_QUERY_ID[name], returnType, parameters };
}

export async function storeWith(...batches: RegistryObject[][]): Promise<RegistryStore> {
  const store = openEmbeddedStore({ path: ':memory:' });
  for (const inserts of batches) await store.commit({ inserts, replacements: [] });
  return store;
}

const IHE_CLASS = '1.3.6.1.4.1.19376.1.2.6.1';
const CONF = '2.16.840.1.113883.5.25';
const FORMAT = '1.3.6.1.4.1.19376.1.2.3';
const SNOMED = '2.16.840.1.113883.6.96';
const CAT = '1.3.6.1.4.1.21367.2017.3';
const LOINC = '2.16.840.1.113883.6.1';
const SMITTY = author('^Smitty^Gerald^^^');
const DOPPLEMEYER = author('^Dopplemeyer^Sherry^^^');

/** The objects of the five NIST 12346 submissions, by section and symbolic id. */
export interface NistData {
  readonly patientId: string;
  readonly singleDoc: { ss: SubmissionSet; doc: DocumentEntry };
  readonly docWithFolder: { ss: SubmissionSet; doc: DocumentEntry; folder: Folder };
  readonly twoDocsWithFolder: { ss: SubmissionSet; doc1: DocumentEntry; doc2: DocumentEntry; folder: Folder };
  readonly docForReplace: { ss: SubmissionSet; doc: DocumentEntry };
  readonly replacement: { ss: SubmissionSet; doc: DocumentEntry; rplc: Association };
}

/** Registers the NIST 12346 data set for the patient, as the toolkit's Register.b steps do. */
export async function loadNistData(store: RegistryStore, patientId: string): Promise<NistData> {
  const nistDoc = (fields: Partial<DocumentEntry>): DocumentEntry =>
    documentEntry(patientId, {
      typeCode: code('11369-6', LOINC),
      formatCode: code('urn:ihe:rad:TEXT', FORMAT),
      authors: [SMITTY, DOPPLEMEYER],
      ...fields,
    });

  // single_doc
  const s1 = submissionSet(patientId);
  const d1 = nistDoc({
    creationTime: '20061224',
    serviceStartTime: '200612230800',
    serviceStopTime: '200612230900',
    referenceIdList: ['2013001^^^&1.2.3.4.5.6&ISO^urn:ihe:iti:xds:2013:accession', '20061223^^^&1.2.5643.2&ISO^urn:ihe:iti:xds:2013:uniqueId'],
    classCode: code('IMAGES', IHE_CLASS),
    confidentialityCodes: [code('N', CONF)],
    healthcareFacilityTypeCode: code('66280005', SNOMED),
    practiceSettingCode: code('Practice-D', CAT),
    eventCodes: [code('urn:connectathon:bppc:foundational:policy', CAT), code('urn:connectathon:policy:full-access', CAT)],
  });
  await store.commit({ inserts: [d1, s1, hasMember(s1, d1, { submissionSetStatus: 'Original' })], replacements: [] });

  // doc_w_fol
  const s2 = submissionSet(patientId);
  const d2 = nistDoc({
    creationTime: '20041224',
    serviceStartTime: '200412230800',
    serviceStopTime: '200412241600',
    eventCodes: [code('urn:connectathon:policy:deny-access', CAT)],
    classCode: code('SUMMARIES', IHE_CLASS),
    confidentialityCodes: [code('V', CONF)],
    healthcareFacilityTypeCode: code('44860005', SNOMED),
    practiceSettingCode: code('309927009', SNOMED),
  });
  const f2 = folder(patientId);
  const f2d2 = hasMember(f2, d2);
  await store.commit({
    inserts: [d2, f2, s2, hasMember(s2, f2), f2d2, hasMember(s2, f2d2), hasMember(s2, d2, { submissionSetStatus: 'Original' })],
    replacements: [],
  });

  // two_doc_w_fol
  const s3 = submissionSet(patientId);
  const twoDocTimes = { creationTime: '20051224', serviceStartTime: '200512240800', serviceStopTime: '200512241100' };
  const d3a = nistDoc({
    ...twoDocTimes,
    classCode: code('HEALTH', IHE_CLASS),
    confidentialityCodes: [code('R', CONF)],
    healthcareFacilityTypeCode: code('419955002', SNOMED),
    practiceSettingCode: code('Practice-C', CAT),
  });
  const d3b = nistDoc({
    ...twoDocTimes,
    authors: [author('^Ford^Sherry^^^')],
    classCode: code('DISPENSATIONS', IHE_CLASS),
    confidentialityCodes: [code('N', CONF)],
    formatCode: code('urn:ihe:pcc:aps:2007', FORMAT),
    healthcareFacilityTypeCode: code('264372000', SNOMED),
    practiceSettingCode: code('Practice-D', CAT),
  });
  const f3 = folder(patientId);
  const f3a = hasMember(f3, d3a);
  const f3b = hasMember(f3, d3b);
  await store.commit({
    inserts: [
      d3a,
      d3b,
      f3,
      s3,
      hasMember(s3, d3a, { submissionSetStatus: 'Original' }),
      hasMember(s3, d3b, { submissionSetStatus: 'Original' }),
      hasMember(s3, f3),
      f3a,
      hasMember(s3, f3a),
      f3b,
      hasMember(s3, f3b),
    ],
    replacements: [],
  });

  // doc_for_rplc
  const s4 = submissionSet(patientId);
  const reportFields = {
    creationTime: '20061224',
    serviceStartTime: '200612230800',
    serviceStopTime: '200612230900',
    classCode: code('REPORTS', IHE_CLASS),
    confidentialityCodes: [code('N', CONF)],
    healthcareFacilityTypeCode: code('264372000', SNOMED),
  };
  const d4 = nistDoc({ ...reportFields, practiceSettingCode: code('Practice-D', CAT) });
  await store.commit({ inserts: [d4, s4, hasMember(s4, d4, { submissionSetStatus: 'Original' })], replacements: [] });

  // rplc: replaces doc_for_rplc's document, which becomes Deprecated
  const s5 = submissionSet(patientId);
  const d5 = nistDoc({
    ...reportFields,
    practiceSettingCode: code('Practice-G', CAT),
    eventCodes: [code('urn:connectathon:policy:full-access', CAT)],
  });
  const rplc = association(ASSOCIATION_TYPE.RPLC, d5, d4);
  await store.commit({
    inserts: [d5, s5, hasMember(s5, d5, { submissionSetStatus: 'Original' }), rplc],
    replacements: [{ ...d4, availabilityStatus: 'Deprecated' }],
  });

  return {
    patientId,
    singleDoc: { ss: s1, doc: d1 },
    docWithFolder: { ss: s2, doc: d2, folder: f2 },
    twoDocsWithFolder: { ss: s3, doc1: d3a, doc2: d3b, folder: f3 },
    docForReplace: { ss: s4, doc: { ...d4, availabilityStatus: 'Deprecated' } },
    replacement: { ss: s5, doc: d5, rplc },
  };
}

/** Counts of the returned objects by type, as the toolkit's ExpectedContents counts them. */
export function countByType(objects: readonly RegistryObject[]): Record<RegistryObject['type'], number> {
  const counts = { DocumentEntry: 0, SubmissionSet: 0, Folder: 0, Association: 0 };
  for (const o of objects) counts[o.type]++;
  return counts;
}
