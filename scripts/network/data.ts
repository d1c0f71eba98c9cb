/**
 * Synthetic Norwegian documents for the demo network: a few patients (valid fødselsnumre), each
 * with documents in one or more regions, coded with Volven codes and authored by HPR-identified
 * personnel (docs/norway.md). Everything here is invented; the shapes are the national ones.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  ASSOCIATION_TYPE,
  DOCUMENT_ENTRY_TYPE,
  NO_EXTRA,
  type Code,
  type DocumentEntry,
  type Submission,
} from '../../registry/model/metadata.js';

const VOLVEN = '2.16.578.1.12.4.1.1';
const code = (value: string, scheme: string, name: string): Code => ({ code: value, scheme, displayName: { value: name } });

export interface DemoPatient {
  readonly fnr: string;
  readonly name: string;
}

/** Synthetic test persons with valid check digits. */
export const DEMO_PATIENTS: readonly DemoPatient[] = [
  { fnr: '13116900216', name: 'KARI NORDMANN' },
  { fnr: '05078520061', name: 'OLA NORDMANN' },
];

export function patientCx(fnr: string): string {
  return `${fnr}^^^&2.16.578.1.12.4.1.4.1&ISO`;
}

export interface DemoDocument {
  readonly title: string;
  readonly kind: 'epikrise' | 'notat' | 'provesvar';
  readonly text: string;
}

const KINDS = {
  epikrise: [code('A00-1', `${VOLVEN}.9602`, 'Epikriser og sammenfatninger'), code('A03-2', `${VOLVEN}.9602`, 'Epikrise')],
  notat: [code('B00-1', `${VOLVEN}.9602`, 'Løpende journal'), code('B02-2', `${VOLVEN}.9602`, 'Journalnotat')],
  provesvar: [code('C00-1', `${VOLVEN}.9602`, 'Prøvesvar'), code('C01-2', `${VOLVEN}.9602`, 'Medisinsk biokjemi')],
} as const;

export interface DemoRegion {
  readonly name: string;
  /** Institution (XON with organisasjonsnummer) and author (XCN with HPR number). */
  readonly institution: string;
  readonly author: string;
  readonly sourceOid: string;
}

/** One submission set with the given documents of one patient, ready for ITI-41 (bytes by entry id). */
export function demoSubmission(
  region: DemoRegion,
  patient: DemoPatient,
  documents: readonly DemoDocument[],
): { submission: Submission; contents: Map<string, Buffer> } {
  const pid = patientCx(patient.fnr);
  const now = new Date();
  const dtm = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const unique = (): string => `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
  const authors = [{ person: region.author, institutions: [region.institution], roles: [], specialties: [], telecommunications: [] }];
  const contents = new Map<string, Buffer>();
  const entries: DocumentEntry[] = documents.map((d, i) => {
    const bytes = Buffer.from(d.text, 'utf8');
    const id = `urn:uuid:${randomUUID()}`;
    contents.set(id, bytes);
    const [classCode, typeCode] = KINDS[d.kind];
    return {
      type: 'DocumentEntry',
      entryUuid: id,
      uniqueId: unique(),
      patientId: pid,
      sourcePatientId: pid,
      sourcePatientInfo: [`PID-3|${pid}`, `PID-5|${patient.name.split(' ').reverse().join('^')}`],
      availabilityStatus: 'Approved',
      objectType: DOCUMENT_ENTRY_TYPE.stable,
      mimeType: 'text/plain',
      title: { value: d.title },
      classCode,
      typeCode,
      formatCode: code('urn:no:ehelse:document:text', 'urn:oid:1.3.6.1.4.1.19376.1.2.3', 'Tekst'),
      healthcareFacilityTypeCode: code('86.101', `${VOLVEN}.1303`, 'Somatisk sykehus'),
      practiceSettingCode: code('S03', `${VOLVEN}.8655`, 'Indremedisin'),
      confidentialityCodes: [code('N', `${VOLVEN}.9603`, 'Normal')],
      eventCodes: [],
      authors,
      creationTime: dtm.slice(0, 12 - (i % 2) * 2),
      languageCode: 'nb-NO',
      hash: createHash('sha1').update(bytes).digest('hex'),
      size: String(bytes.length),
      referenceIdList: [],
      extra: NO_EXTRA,
    };
  });
  const setId = `urn:uuid:${randomUUID()}`;
  return {
    submission: {
      submissionSet: {
        type: 'SubmissionSet',
        entryUuid: setId,
        uniqueId: unique(),
        patientId: pid,
        availabilityStatus: 'Approved',
        sourceId: region.sourceOid,
        submissionTime: dtm,
        contentTypeCode: KINDS[documents[0]?.kind ?? 'notat'][1],
        authors,
        intendedRecipients: [],
        title: { value: `${region.name}: ${patient.name}` },
        extra: NO_EXTRA,
      },
      documentEntries: entries,
      folders: [],
      associations: entries.map((e) => ({
        type: 'Association' as const,
        entryUuid: `urn:uuid:${randomUUID()}`,
        associationType: ASSOCIATION_TYPE.HasMember,
        sourceUuid: setId,
        targetUuid: e.entryUuid,
        availabilityStatus: 'Approved' as const,
        submissionSetStatus: 'Original',
        extra: NO_EXTRA,
      })),
      objectRefs: [],
    },
    contents,
  };
}
