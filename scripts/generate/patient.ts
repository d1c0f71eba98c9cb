/**
 * One synthetic patient's history as ITI-42 submissions, determined by (seed, patient index)
 * alone: a skewed number of documents (1–200, most patients few, some many), mostly one
 * document per submission, some folders, and replacements (RPLC) of earlier documents.
 */
import {
  ASSOCIATION_TYPE,
  DOCUMENT_ENTRY_TYPE,
  NO_EXTRA,
  type Association,
  type DocumentEntry,
  type Folder,
  type Submission,
  type SubmissionSet,
} from '../../registry/model/metadata.js';
import {
  author,
  CLASS_TYPE,
  CONFIDENTIALITY,
  CONTENT_TYPE,
  FACILITY_TYPE,
  FOLDER_CODES,
  FORMAT,
  fodselsnummer,
  uniqueFodselsnummer,
  institutions,
  patientCx,
  personName,
  practitioners,
  PRACTICE_SETTING,
  type Practitioner,
} from './norway.js';
import { Random } from './random.js';

/**
 * What the generator makes for a (seed, patient): a data directory filled by one version is only
 * ever completed by the same version. 2: fødselsnumre unique per seed (uniqueFodselsnummer).
 * 3: the same patients and submissions as 2 but for their entryUUIDs, which are ordered by (patient,
 * object) (`Random.orderedUuid`, from the same draws): the store's entryUUID index, and the
 * source/target ones, then grow at their end as the generator fills them, instead of taking each key
 * at a random leaf (at 10M entries those indexes are larger than the page cache, and random inserts
 * and lookups read from disk). Also the first version whose stores are written by registry schema
 * v6 (packed records, issue 19): the bench names its stores by this version, so a v2 store (whose
 * rows a v6 node would read as v5 JSON rows, see schema.ts) is never measured as a v6 one.
 */
export const GENERATOR_VERSION = 3;

/** OID arc of the synthetic source; uniqueIds below it are counters, readable when debugging. */
export const SYNTHETIC_ROOT = '2.16.578.1.12.4.5.100.1.9';
export const SOURCE_ID = `${SYNTHETIC_ROOT}.0`;
export const REPOSITORY_UNIQUE_ID = '2.16.578.1.12.4.5.100.1.2';
export const MAX_ENTRIES_PER_PATIENT = 200;

/** What the generator draws from: the region's institutions and personnel, fixed per seed. */
export interface World {
  readonly seed: number;
  readonly practitioners: readonly Practitioner[];
}

export function createWorld(seed: number): World {
  const rnd = new Random(seed, -1);
  return { seed, practitioners: practitioners(rnd, institutions(rnd)) };
}

export interface PlannedSubmission {
  readonly submission: Submission;
  /** DocumentEntries it registers. */
  readonly documents: number;
}

export interface PatientPlan {
  readonly patientId: string;
  readonly submissions: readonly PlannedSubmission[];
}

/**
 * Entries of one patient: log-uniform over 1–200, so the median is about 14 and the mean about
 * 37, with a long tail of patients with a thick record (chronic illness, long admissions).
 */
export function entriesForPatient(rnd: Random): number {
  return Math.min(MAX_ENTRIES_PER_PATIENT, Math.max(1, Math.floor(Math.exp(rnd.next() * Math.log(MAX_ENTRIES_PER_PATIENT + 1)))));
}

/**
 * YYYYMMDDHHMMSS (or its first `precision` digits) in UTC: what
 * `date.toISOString().replace(/[-:T]/g, '').slice(0, precision)` gives, from the date's fields
 * (the ISO text and the regular expression were ~2 % of the generator's main thread). Years outside
 * 1000–9999, which the ISO text writes otherwise, and precisions past the seconds take that way.
 */
function dtm(date: Date, precision = 14): string {
  const year = date.getUTCFullYear();
  if (year < 1000 || year > 9999 || precision > 14) return date.toISOString().replace(/[-:T]/g, '').slice(0, precision);
  const text = `${year}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}`;
  return precision === 14 ? text : text.slice(0, precision);
}

function two(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

const DAY = 86_400_000;

export function planPatient(world: World, patient: number): PatientPlan {
  const rnd = new Random(world.seed, patient);
  // The draws of generator version 1's random fødselsnummer are still made (and dropped), so every
  // other field of every patient is what version 1 made: only the number changed (now unique).
  fodselsnummer(rnd);
  const fnr = uniqueFodselsnummer(world.seed, patient);
  const pid = patientCx(fnr);
  const name = personName(rnd);
  const birth = `${fnr.slice(4, 6)}${fnr.slice(2, 4)}${fnr.slice(0, 2)}`;
  const sourcePatientInfo = [`PID-3|${pid}`, `PID-5|${name.family}^${name.given}`, `PID-7|${Number(fnr.slice(6, 9)) >= 500 ? '20' : '19'}${birth}`, `PID-8|${Number(fnr[8]) % 2 === 1 ? 'M' : 'F'}`];
  const total = entriesForPatient(rnd);
  // A patient's record starts some time in 2012–2020 and moves forward in time.
  let time = Date.UTC(2012, 0, 1) + rnd.int(0, 9 * 365) * DAY;
  const gp = rnd.pick(world.practitioners);
  const approved: string[] = [];
  const submissions: PlannedSubmission[] = [];
  let documents = 0;
  // Generator version 3: entryUUIDs ascending in the order they are made (see GENERATOR_VERSION).
  let made = 0;
  const uuid = (): string => rnd.orderedUuid(patient, made++);

  const documentEntry = (k: number, j: number, created: Date): DocumentEntry => {
    const [classCode, typeCode] = rnd.weighted(CLASS_TYPE);
    const [formatCode, mimeType] = rnd.weighted(FORMAT);
    const by = rnd.next() < 0.4 ? gp : rnd.pick(world.practitioners);
    const start = new Date(created.getTime() - rnd.int(0, 3 * DAY));
    const entry: DocumentEntry = {
      type: 'DocumentEntry',
      entryUuid: uuid(),
      objectType: DOCUMENT_ENTRY_TYPE.stable,
      uniqueId: `${SYNTHETIC_ROOT}.1.${patient}.${k}.${j}`,
      patientId: pid,
      availabilityStatus: 'Approved',
      title: { value: `${typeCode.displayName?.value ?? typeCode.code} ${created.getUTCFullYear()}`, lang: 'nb-NO' },
      mimeType,
      classCode,
      typeCode,
      formatCode,
      healthcareFacilityTypeCode: rnd.weighted(FACILITY_TYPE),
      practiceSettingCode: rnd.weighted(PRACTICE_SETTING),
      confidentialityCodes: [rnd.weighted(CONFIDENTIALITY)],
      eventCodes: [],
      authors: [author(by)],
      creationTime: dtm(created),
      serviceStartTime: dtm(start, 12),
      serviceStopTime: dtm(created, 12),
      hash: rnd.hex(40),
      size: String(rnd.int(2_000, 2_000_000)),
      languageCode: 'nb-NO',
      repositoryUniqueId: REPOSITORY_UNIQUE_ID,
      sourcePatientId: pid,
      sourcePatientInfo,
      referenceIdList: [],
      extra: NO_EXTRA,
    };
    return rnd.next() < 0.5 ? { ...entry, legalAuthenticator: author(by).person } : entry;
  };
  const association = (type: string, sourceUuid: string, targetUuid: string, status?: string): Association => ({
    type: 'Association',
    entryUuid: uuid(),
    associationType: type,
    sourceUuid,
    targetUuid,
    availabilityStatus: 'Approved',
    ...(status === undefined ? {} : { submissionSetStatus: status }),
    extra: NO_EXTRA,
  });

  for (let k = 0; documents < total; k++) {
    time += rnd.int(1, 120) * DAY + rnd.int(0, DAY - 1);
    const created = new Date(Math.min(time, Date.UTC(2025, 11, 31)));
    const submitter = rnd.pick(world.practitioners);
    const submissionSet: SubmissionSet = {
      type: 'SubmissionSet',
      entryUuid: uuid(),
      uniqueId: `${SYNTHETIC_ROOT}.2.${patient}.${k}`,
      patientId: pid,
      availabilityStatus: 'Approved',
      sourceId: SOURCE_ID,
      submissionTime: dtm(new Date(created.getTime() + rnd.int(60_000, 3_600_000))),
      contentTypeCode: rnd.pick(CONTENT_TYPE),
      authors: [author(submitter)],
      intendedRecipients: [],
      extra: NO_EXTRA,
    };
    const remaining = total - documents;
    const shape = rnd.weighted([
      ['replace', approved.length > 0 ? 6 : 0],
      ['folder', 10],
      ['plain', 84],
    ] as const);
    const count = shape === 'replace' ? 1 : Math.min(remaining, rnd.weighted([[1, 70], [2, 20], [3, 10]] as const));
    const entries: DocumentEntry[] = [];
    for (let j = 0; j < count; j++) entries.push(documentEntry(k, j, created));
    const associations: Association[] = entries.map((de) => association(ASSOCIATION_TYPE.HasMember, submissionSet.entryUuid, de.entryUuid, 'Original'));
    const folders: Folder[] = [];

    if (shape === 'replace') {
      const at = rnd.int(0, approved.length - 1);
      const original = approved[at]!;
      associations.push(association(ASSOCIATION_TYPE.RPLC, entries[0]!.entryUuid, original));
      approved.splice(at, 1);
    } else if (shape === 'folder') {
      const folder: Folder = {
        type: 'Folder',
        entryUuid: uuid(),
        uniqueId: `${SYNTHETIC_ROOT}.3.${patient}.${k}`,
        patientId: pid,
        availabilityStatus: 'Approved',
        title: { value: `Innleggelse ${created.getUTCFullYear()}`, lang: 'nb-NO' },
        codeList: [rnd.pick(FOLDER_CODES)],
        extra: NO_EXTRA,
      };
      folders.push(folder);
      associations.push(association(ASSOCIATION_TYPE.HasMember, submissionSet.entryUuid, folder.entryUuid));
      for (const de of entries) {
        const membership = association(ASSOCIATION_TYPE.HasMember, folder.entryUuid, de.entryUuid);
        associations.push(membership, association(ASSOCIATION_TYPE.HasMember, submissionSet.entryUuid, membership.entryUuid));
      }
    }
    approved.push(...entries.map((de) => de.entryUuid));
    documents += entries.length;
    submissions.push({
      submission: { submissionSet, documentEntries: entries, folders, associations, objectRefs: [] },
      documents: entries.length,
    });
  }
  return { patientId: pid, submissions };
}
