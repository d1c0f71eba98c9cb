/**
 * The benchmark's SOAP requests, built with the project's own serialisers from the generator's
 * deterministic patients, so that the 10k and the 1M store are asked exactly the same questions
 * and give exactly the same answers (the smaller store is a prefix of the larger one).
 */
import { randomUUID } from 'node:crypto';
import { serializeAdhocQueryRequest, serializeSubmitObjectsRequest } from '../../registry/ebxml/index.js';
import { ASSOCIATION_TYPE, type Submission } from '../../registry/model/metadata.js';
import { STORED_QUERY_ID, type ReturnType } from '../../registry/model/query.js';
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

/**
 * ITI-42 with one document: a generated patient's first submission with symbolic ids (the
 * registry assigns the UUIDs) and fresh uniqueIds per request, as a source would send it.
 * Returns a function from the request number to the envelope text.
 */
export function registerOneDocument(world: World, to: string, patient: number, runId: string): (i: number) => string {
  // The run id becomes an OID arc: a new one per run keeps uniqueIds new on a reused store.
  if (!/^[1-9]\d*$/.test(runId)) throw new Error(`run id "${runId}" must be a decimal number (an OID arc)`);
  const first = planPatient(world, patient).submissions.find((s) => s.documents === 1 && s.submission.folders.length === 0);
  if (first === undefined) throw new Error(`patient ${patient} has no single-document submission`);
  const { submissionSet, documentEntries } = first.submission;
  const submission: Submission = {
    submissionSet: { ...submissionSet, entryUuid: 'SubmissionSet01', uniqueId: SS_UID },
    documentEntries: [{ ...documentEntries[0]!, entryUuid: 'Document01', uniqueId: DOC_UID }],
    folders: [],
    associations: [
      {
        type: 'Association',
        entryUuid: 'Association01',
        associationType: ASSOCIATION_TYPE.HasMember,
        sourceUuid: 'SubmissionSet01',
        targetUuid: 'Document01',
        availabilityStatus: 'Approved',
        submissionSetStatus: 'Original',
        extra: documentEntries[0]!.extra,
      },
    ],
    objectRefs: [],
  };
  const template = buildEnvelope(ACTIONS.iti42.request, to, serializeXml(serializeSubmitObjectsRequest(submission)), MESSAGE_ID);
  const [a, b, c, d] = splitTemplate(template);
  return (i) => `${a}urn:uuid:${randomUUID()}${b}${SYNTHETIC_ROOT}.8.${runId}.${i}${c}${SYNTHETIC_ROOT}.7.${runId}.${i}${d}`;
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

