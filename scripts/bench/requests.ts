/**
 * The benchmark's SOAP requests, built with the project's own serialisers from the generator's
 * deterministic patients, so that the 10k and the 1M store are asked exactly the same questions
 * and give exactly the same answers (the smaller store is a prefix of the larger one).
 */
import { randomUUID } from 'node:crypto';
import { serializeAdhocQueryRequest, serializeRemoveObjectsRequest, serializeSubmitObjectsRequest } from '../../registry/ebxml/index.js';
import { ASSOCIATION_TYPE, type Submission } from '../../registry/model/metadata.js';
import { STORED_QUERY_ID, type ReturnType } from '../../registry/model/query.js';
import { newEntryUuid } from '../../registry/model/uuid.js';
import { serializeXml } from '../../registry/xml/serialize.js';
import { ACTIONS } from '../../connector/soap/actions.js';
import { buildEnvelope } from '../conformance/soap.js';
import { planPatient, SYNTHETIC_ROOT, type World } from '../generate/patient.js';

export const APPROVED = 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved';

export function contentType(action: string): string {
  return `application/soap+xml; charset=UTF-8; action="${action}"`;
}

/** What the benchmark knows of one generated patient: its CX and its Approved DocumentEntries. */
export interface BenchPatient {
  readonly index: number;
  readonly patientId: string;
  readonly approvedUniqueIds: readonly string[];
}

export function benchPatient(world: World, index: number): BenchPatient {
  const plan = planPatient(world, index);
  const replaced = new Set<string>();
  for (const { submission } of plan.submissions) {
    for (const a of submission.associations) if (a.associationType === ASSOCIATION_TYPE.RPLC) replaced.add(a.targetUuid);
  }
  const approvedUniqueIds = plan.submissions.flatMap(({ submission }) =>
    submission.documentEntries.filter((de) => !replaced.has(de.entryUuid)).map((de) => de.uniqueId ?? ''),
  );
  return { index, patientId: plan.patientId, approvedUniqueIds };
}

const quoted = (v: string) => `'${v}'`;

/**
 * FindDocuments for the patient's Approved entries: ITI-18 by default; with `gateway`, the same
 * query as ITI-38 to a responding gateway, naming its community in `home` as an initiating
 * gateway does (optional on a patient query, but what the hub sends).
 */
export function findDocumentsBody(to: string, patient: BenchPatient, returnType: ReturnType, gateway?: { homeCommunityId: string }): string {
  const xml = serializeXml(
    serializeAdhocQueryRequest({
      queryId: STORED_QUERY_ID.FindDocuments,
      returnType,
      parameters: [
        { name: '$XDSDocumentEntryPatientId', values: [quoted(patient.patientId)] },
        { name: '$XDSDocumentEntryStatus', values: [`(${quoted(APPROVED)})`] },
      ],
      ...(gateway === undefined ? {} : { homeCommunityId: gateway.homeCommunityId }),
    }),
  );
  return buildEnvelope(gateway === undefined ? ACTIONS.iti18.request : ACTIONS.iti38.request, to, xml);
}

/**
 * `count` patient indexes spread over a store of `patients` complete patients, each at most once
 * (a stride coprime with `patients`, so the walk visits every patient before it repeats). Request
 * j of a "cold" run asks for patient `sequence[j mod count]`: consecutive requests are far apart
 * in the store and a read cache of recently returned records sees each patient once per cycle.
 */
export function coldPatients(patients: number, count: number): number[] {
  if (!Number.isInteger(patients) || patients <= 0) throw new Error(`a store of ${patients} patients has none to ask for`);
  const n = Math.min(count, patients);
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  // Near the golden section of the store: neighbours in the sequence are ~0.62 × the store apart.
  let stride = Math.max(1, Math.round(patients * 0.6180339887));
  while (gcd(stride, patients) !== 1) stride++;
  return Array.from({ length: n }, (_, j) => (j * stride) % patients);
}

export function getDocumentsBody(to: string, uniqueIds: readonly string[]): string {
  const xml = serializeXml(
    serializeAdhocQueryRequest({
      queryId: STORED_QUERY_ID.GetDocuments,
      returnType: 'LeafClass',
      parameters: [{ name: '$XDSDocumentEntryUniqueId', values: [`(${uniqueIds.map(quoted).join(',')})`] }],
    }),
  );
  return buildEnvelope(ACTIONS.iti18.request, to, xml);
}

const DOC_UID = '@@DOCUMENT_UNIQUE_ID@@';
const SS_UID = '@@SUBMISSION_SET_UNIQUE_ID@@';
const MESSAGE_ID = '@@MESSAGE_ID@@';

/** The symbolic ids of the one-document submission's objects (quoted, as they stand in its attributes). */
const SYMBOLIC = { submissionSet: 'SubmissionSet01', documentEntry: 'Document01', association: 'Association01' } as const;

/**
 * A generated patient's first single-document submission as the ITI-42 lines register it: symbolic
 * entryUUIDs (SYMBOLIC) and placeholders for the two uniqueIds. What a line that changes a
 * prepared submission (ITI-57) starts its request from: the same metadata, with the prepared
 * submission's ids (`PreparedSubmission`) put in.
 */
export function oneDocumentSubmission(world: World, patient: number): Submission {
  const first = planPatient(world, patient).submissions.find((s) => s.documents === 1 && s.submission.folders.length === 0);
  if (first === undefined) throw new Error(`patient ${patient} has no single-document submission`);
  const { submissionSet, documentEntries } = first.submission;
  const submission: Submission = {
    submissionSet: { ...submissionSet, entryUuid: SYMBOLIC.submissionSet, uniqueId: SS_UID },
    documentEntries: [{ ...documentEntries[0]!, entryUuid: SYMBOLIC.documentEntry, uniqueId: DOC_UID }],
    folders: [],
    associations: [
      {
        type: 'Association',
        entryUuid: SYMBOLIC.association,
        associationType: ASSOCIATION_TYPE.HasMember,
        sourceUuid: SYMBOLIC.submissionSet,
        targetUuid: SYMBOLIC.documentEntry,
        availabilityStatus: 'Approved',
        submissionSetStatus: 'Original',
        extra: documentEntries[0]!.extra,
      },
    ],
    objectRefs: [],
  };
  return submission;
}

/** The envelope of ITI-42 registering `oneDocumentSubmission`, with a placeholder for the MessageID. */
function oneDocumentTemplate(world: World, to: string, patient: number): string {
  return buildEnvelope(ACTIONS.iti42.request, to, serializeXml(serializeSubmitObjectsRequest(oneDocumentSubmission(world, patient))), MESSAGE_ID);
}

/** A decimal run id, an OID arc: a new one per run keeps uniqueIds new on a reused store. */
function checkRunId(runId: string): void {
  if (!/^[1-9]\d*$/.test(runId)) throw new Error(`run id "${runId}" must be a decimal number (an OID arc)`);
}

/**
 * ITI-42 with one document: a generated patient's first submission with symbolic ids (the
 * registry assigns the UUIDs) and fresh uniqueIds per request, as a source would send it.
 * Returns a function from the request number to the envelope text.
 */
export function registerOneDocument(world: World, to: string, patient: number, runId: string): (i: number) => string {
  checkRunId(runId);
  const [a, b, c, d] = splitTemplate(oneDocumentTemplate(world, to, patient));
  return (i) => `${a}urn:uuid:${randomUUID()}${b}${SYNTHETIC_ROOT}.8.${runId}.${i}${c}${SYNTHETIC_ROOT}.7.${runId}.${i}${d}`;
}

/** The entryUUIDs (and uniqueIds) of a one-document submission registered before a line runs. */
export interface PreparedSubmission {
  readonly submissionSet: string;
  readonly documentEntry: string;
  readonly association: string;
  readonly submissionSetUniqueId: string;
  readonly documentUniqueId: string;
}

/**
 * `count` one-document submissions as registerOneDocument sends them, but with urn:uuid
 * entryUUIDs chosen here (a submitter's UUIDs are kept by the registry, symbolic ids are
 * replaced), so that a line can name the objects afterwards (ITI-62 removes them, ITI-57 updates
 * them). The UUIDs are time-ordered (v7, `newEntryUuid`) and made when submission i's envelope
 * is, just before it is sent: what the registry gives the symbolic ids of ITI-42's line at that
 * moment, so the objects sit in the store's indexes where the registry's own would. Their
 * uniqueIds have arcs of their own (SYNTHETIC_ROOT .5 documents, .6 sets), apart from the
 * generator's (.1–.3) and ITI-42's (.7, .8). Setup only, not a measured path: each envelope is
 * made by replacing the template's symbolic ids.
 */
export function preparedSubmissions(world: World, to: string, patient: number, runId: string, count: number): {
  /** Submission i, once its envelope has been made (`register(i)`). */
  submission(i: number): PreparedSubmission | undefined;
  /** The ITI-42 envelope registering submission i (0 ≤ i < count), once. */
  register(i: number): string;
} {
  checkRunId(runId);
  const template = oneDocumentTemplate(world, to, patient);
  for (const id of Object.values(SYMBOLIC)) if (!template.includes(`"${id}"`)) throw new Error(`ITI-42 template lacks ${id}`);
  const submissions: (PreparedSubmission | undefined)[] = new Array(count);
  return {
    submission: (i) => submissions[i],
    register(i) {
      if (!Number.isInteger(i) || i < 0 || i >= count) throw new RangeError(`submission ${i} of ${count}`);
      if (submissions[i] !== undefined) throw new Error(`submission ${i} is registered twice`);
      const p: PreparedSubmission = {
        submissionSet: newEntryUuid(),
        documentEntry: newEntryUuid(),
        association: newEntryUuid(),
        submissionSetUniqueId: `${SYNTHETIC_ROOT}.6.${runId}.${i}`,
        documentUniqueId: `${SYNTHETIC_ROOT}.5.${runId}.${i}`,
      };
      submissions[i] = p;
      return template
        .replace(MESSAGE_ID, `urn:uuid:${randomUUID()}`)
        .replace(SS_UID, p.submissionSetUniqueId)
        .replace(DOC_UID, p.documentUniqueId)
        .replaceAll(`"${SYMBOLIC.submissionSet}"`, `"${p.submissionSet}"`)
        .replaceAll(`"${SYMBOLIC.documentEntry}"`, `"${p.documentEntry}"`)
        .replaceAll(`"${SYMBOLIC.association}"`, `"${p.association}"`);
    },
  };
}

const LOGICAL_ID = '@@LOGICAL_ID@@';

/**
 * ITI-57 making version 2 of a prepared submission's DocumentEntry (`preparedSubmissions`): the
 * metadata it was registered with (`oneDocumentSubmission`), with the DocumentEntry's lid the
 * prepared entry's entryUUID, its uniqueId kept, its title changed, and symbolic ids (the
 * registry gives the new version, the SubmissionSet and the HasMember new entryUUIDs, as it does
 * ITI-42's); the SubmissionSet HasMember carries PreviousVersion 1 (test/registry/iti57.test.ts
 * sends the same shape). The SubmissionSet's uniqueId is new: the prepared set's with an arc `.2`
 * (version 2's), so each prepared submission is updated at most once. Returns a function from the
 * prepared submission to the envelope text, with a fresh MessageID, cut from a template once (it
 * runs in the load generator, beside the measured node).
 */
export function updateDocumentEntry(world: World, to: string, patient: number): (p: PreparedSubmission) => string {
  const base = oneDocumentSubmission(world, patient);
  const entry = base.documentEntries[0]!;
  const membership = base.associations[0]!;
  const submission: Submission = {
    ...base,
    documentEntries: [{ ...entry, logicalUuid: LOGICAL_ID, title: { ...entry.title, value: `${entry.title?.value ?? 'Dokument'} (korrigert)` } }],
    associations: [{ ...membership, previousVersion: '1' }],
  };
  const template = buildEnvelope(ACTIONS.iti57.request, to, serializeXml(serializeSubmitObjectsRequest(submission)), MESSAGE_ID);
  const fill = cutTemplate(template, [MESSAGE_ID, SS_UID, DOC_UID, LOGICAL_ID], 'ITI-57');
  return (p) => fill([`urn:uuid:${randomUUID()}`, `${p.submissionSetUniqueId}.2`, p.documentUniqueId, p.documentEntry]);
}

/**
 * A template cut at its placeholders (each exactly once, in any order): a function from their
 * values, in the order `placeholders` names them, to the text.
 */
function cutTemplate(template: string, placeholders: readonly string[], what: string): (values: readonly string[]) => string {
  const order = placeholders.map((p, k) => ({ p, k, at: template.indexOf(p) })).sort((x, y) => x.at - y.at);
  for (const { p, at } of order) {
    if (at < 0 || template.split(p).length !== 2) throw new Error(`${what} template has ${template.split(p).length - 1} × ${p}`);
  }
  const pieces: string[] = [];
  let from = 0;
  for (const { p, at } of order) {
    pieces.push(template.slice(from, at));
    from = at + p.length;
  }
  pieces.push(template.slice(from));
  const slots = order.map((o) => o.k);
  return (values) => {
    if (values.length !== placeholders.length) throw new Error(`${what} template takes ${placeholders.length} values, got ${values.length}`);
    let out = pieces[0]!;
    for (let n = 0; n < slots.length; n++) out += values[slots[n]!]! + pieces[n + 1]!;
    return out;
  };
}

const REF = (k: number) => `@@OBJECT_REF_${k}@@`;

/**
 * ITI-62 removing `count` objects by entryUUID (one rim:ObjectRef each): returns a function from
 * the entryUUIDs to the envelope text, with a fresh MessageID, cut from a template once (it runs
 * in the load generator, beside the measured node).
 */
export function removeObjects(to: string, count: number): (entryUuids: readonly string[]) => string {
  const refs = Array.from({ length: count }, (_, k) => REF(k));
  const template = buildEnvelope(ACTIONS.iti62.request, to, serializeXml(serializeRemoveObjectsRequest({ objectRefs: refs })), MESSAGE_ID);
  const cuts = [MESSAGE_ID, ...refs];
  const pieces: string[] = [];
  let rest = template;
  for (const p of cuts) {
    const parts = rest.split(p);
    if (parts.length !== 2) throw new Error(`ITI-62 template has ${parts.length - 1} × ${p}`);
    pieces.push(parts[0]!);
    rest = parts[1]!;
  }
  pieces.push(rest);
  return (entryUuids) => {
    if (entryUuids.length !== count) throw new Error(`ITI-62 template names ${count} objects, got ${entryUuids.length}`);
    let out = `${pieces[0]}urn:uuid:${randomUUID()}`;
    for (let k = 0; k < count; k++) out += `${pieces[k + 1]}${entryUuids[k]}`;
    return out + pieces[count + 1]!;
  };
}

/** The template cut at its three placeholders, in the order they occur (message id, then the two uniqueIds). */
function splitTemplate(template: string): [string, string, string, string] {
  const order = [MESSAGE_ID, SS_UID, DOC_UID]
    .map((p) => ({ p, at: template.indexOf(p) }))
    .sort((x, y) => x.at - y.at);
  if (order.some((o) => o.at < 0) || order[0]!.p !== MESSAGE_ID) throw new Error('ITI-42 template lacks a placeholder');
  for (const { p } of order) if (template.split(p).length !== 2) throw new Error(`placeholder ${p} occurs more than once`);
  const [m, x, y] = order;
  return [
    template.slice(0, m!.at),
    template.slice(m!.at + m!.p.length, x!.at),
    template.slice(x!.at + x!.p.length, y!.at),
    template.slice(y!.at + y!.p.length),
  ];
}

/** Opening tags `<local ` or `<prefix:local ` in an answer, without decoding it (cheap enough to run on every answer). */
export function countOpenTags(body: Buffer, local: string): number {
  const needle = Buffer.from(`${local} `);
  let n = 0;
  for (let at = body.indexOf(needle); at >= 0; at = body.indexOf(needle, at + needle.length)) {
    const before = body[at - 1];
    if (before === 0x3a /* : */ || before === 0x3c /* < */) n++;
  }
  return n;
}

