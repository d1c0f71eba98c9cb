/**
 * The audit event model: one neutral record per transaction served or sent, per trust-model
 * denial and per security failure. The DICOM/ATNA XML (dicom.ts), the FHIR AuditEvent (fhir.ts)
 * and the patient's access log (access-log.ts) are all derived from it, so the three never tell
 * different stories about the same access.
 *
 * The builders take plain values (URLs, IPs, a principal, the patient id, the query text or the
 * document ids) and fill in the codes of the IHE ITI TF-2 audit message tables, so a transaction
 * needs only a few lines to audit itself.
 */
import { timeOrderedUuid } from '../../registry/model/uuid.js';
import { isoTime } from '../clock.js';

/** A coded value as DICOM carries it (code, code system name, display / originalText). */
export interface CodedValue {
  readonly code: string;
  readonly system: string;
  readonly display: string;
}

/** A code as the trust model hands it over: the system and display may be unknown. */
export interface AuditCode {
  readonly code: string;
  readonly system?: string | undefined;
  readonly display?: string | undefined;
}

/** An organisation or unit: its identifier (org.nr, RESH id) and name. */
export interface AuditOrganisation {
  readonly id: string;
  readonly name?: string | undefined;
}

/**
 * The human requestor, as the verified XUA assertion describes them. A deliberately small,
 * all-optional subset of connector/trust's Principal, so that a Principal can be passed as is.
 */
export interface AuditPrincipal {
  /**
   * saml:Assertion/@ID of the verified assertion: BALP's SAML user agent records it as `policy`,
   * and only an event that has it can claim the BALP SAML profiles.
   */
  readonly assertionId?: string | undefined;
  /** Display name of the person ("Ærlig Øvergård"). */
  readonly name?: string | undefined;
  /** Subject id (in Norway the NameID: the person's fødselsnummer). Never shown in the access log (ATT-8). */
  readonly userId?: string | undefined;
  /** HPR number of health personnel. */
  readonly hpr?: string | undefined;
  /** The legal entity the person acts for (org.nr, …4.101). */
  readonly organisation?: AuditOrganisation | undefined;
  /** Point of care: the child organisation / unit (RESH id or org.nr). */
  readonly pointOfCare?: AuditOrganisation | undefined;
  /** Healthcare service of the care relationship. */
  readonly healthcareService?: AuditCode | undefined;
  /** Purpose of use (TREAT, ETREAT, COC, BTG, or ISO 14265). */
  readonly purposeOfUse?: AuditCode | undefined;
  /** Reference to the access decision the trust framework recorded. */
  readonly decisionRef?: string | undefined;
  /** Role (Volven 9060: LE, SP, …). */
  readonly role?: AuditCode | undefined;
  /**
   * What the requestor proved themselves with: a SAML assertion (XUA, the default when absent) or
   * an OAuth access token (HelseID on the MHD path, whose `jti` is then `assertionId`). BALP types
   * the user agent by it, and its SAML profiles fit only the first.
   */
  readonly credential?: 'saml' | 'oauth' | undefined;
}

/** One end of the exchange: a system, not a person. */
export interface AuditEndpoint {
  /**
   * DICOM UserID of the system: the endpoint URL for a destination; for a source the
   * wsa:ReplyTo address, or the sending node's id.
   */
  readonly userId: string;
  /** Process id or other alternative id. */
  readonly alternativeUserId?: string | undefined;
  /** IP address or host name of the machine. */
  readonly networkAccessPoint?: string | undefined;
}

export type Outcome = 'success' | 'minor-failure' | 'serious-failure' | 'major-failure';
/** DICOM EventOutcomeIndicator of each outcome (also FHIR R4 AuditEvent.outcome). */
export const OUTCOME_CODE: Readonly<Record<Outcome, '0' | '4' | '8' | '12'>> = {
  success: '0',
  'minor-failure': '4',
  'serious-failure': '8',
  'major-failure': '12',
};

export type EventAction = 'C' | 'R' | 'U' | 'D' | 'E';

export type TransactionId =
  | 'ITI-18'
  | 'ITI-38'
  | 'ITI-39'
  | 'ITI-41'
  | 'ITI-42'
  | 'ITI-43'
  | 'ITI-51'
  | 'ITI-57'
  | 'ITI-62'
  | 'ITI-65'
  | 'ITI-66'
  | 'ITI-67'
  | 'ITI-68'
  | 'ITI-86'
  | 'ITI-92';

export const TRANSACTION_NAMES: Readonly<Record<TransactionId, string>> = {
  'ITI-18': 'Registry Stored Query',
  'ITI-38': 'Cross Gateway Query',
  'ITI-39': 'Cross Gateway Retrieve',
  'ITI-41': 'Provide and Register Document Set-b',
  'ITI-42': 'Register Document Set-b',
  'ITI-43': 'Retrieve Document Set',
  'ITI-51': 'Multi-Patient Stored Query',
  'ITI-57': 'Update Document Set',
  'ITI-62': 'Delete Document Set',
  'ITI-65': 'Provide Document Bundle',
  'ITI-66': 'Find Document Lists',
  'ITI-67': 'Find Document References',
  'ITI-68': 'Retrieve Document',
  'ITI-86': 'Remove Documents',
  'ITI-92': 'Restricted Update Document Set',
};

const DCM = 'DCM';
export const EVENT_IDS = {
  applicationActivity: { code: '110100', system: DCM, display: 'Application Activity' },
  export: { code: '110106', system: DCM, display: 'Export' },
  import: { code: '110107', system: DCM, display: 'Import' },
  patientRecord: { code: '110110', system: DCM, display: 'Patient Record' },
  query: { code: '110112', system: DCM, display: 'Query' },
  securityAlert: { code: '110113', system: DCM, display: 'Security Alert' },
  userAuthentication: { code: '110114', system: DCM, display: 'User Authentication' },
} as const satisfies Record<string, CodedValue>;

export const ROLE_SOURCE: CodedValue = { code: '110153', system: DCM, display: 'Source Role ID' };
export const ROLE_DESTINATION: CodedValue = { code: '110152', system: DCM, display: 'Destination Role ID' };

/** Kinds of security failure and their DICOM event id / event type. */
export const SECURITY_FAILURES = {
  /** The peer's TLS certificate or node identity was refused. */
  'node-authentication': { eventId: EVENT_IDS.securityAlert, type: { code: '110126', system: DCM, display: 'Node Authentication' } },
  /** The XUA assertion failed verification (signature, issuer, audience, time, attributes). */
  'user-authentication': { eventId: EVENT_IDS.userAuthentication, type: { code: '110122', system: DCM, display: 'Login' } },
  /** An authenticated caller used a function it is not allowed to (e.g. an action not offered to it). */
  'restricted-function': { eventId: EVENT_IDS.securityAlert, type: { code: '110132', system: DCM, display: 'Use of a restricted function' } },
} as const;
export type SecurityFailureKind = keyof typeof SECURITY_FAILURES;

/** A document as audited: its uniqueId and where it lives. */
export interface DocumentRef {
  readonly uniqueId: string;
  readonly repositoryUniqueId?: string | undefined;
  readonly homeCommunityId?: string | undefined;
}

/** The query of ITI-18 / ITI-38 / ITI-51 / ITI-66 / ITI-67 as audited. */
export interface QueryRef {
  /** The stored query id (urn:uuid:…). */
  readonly storedQueryId: string;
  /** The AdhocQueryRequest as received or sent (XML text), or an MHD search as received; audited base64-encoded. */
  readonly text: string;
  readonly homeCommunityId?: string | undefined;
}

export interface AuditEvent {
  /** Unique id of the record (urn-less UUID); stores use it to make redelivery idempotent. */
  readonly id: string;
  /** When the event happened (ISO 8601 with milliseconds, UTC). */
  readonly recorded: string;
  /** The transaction, or null for a security failure not tied to one. */
  readonly transaction: TransactionId | null;
  readonly eventId: CodedValue;
  readonly eventAction: EventAction;
  readonly eventTypes: readonly CodedValue[];
  readonly outcome: Outcome;
  readonly outcomeDescription?: string | undefined;
  /** True when the trust model refused the request (access log shows it as refused). */
  readonly denied: boolean;
  /** Which side of the transaction this node played. */
  readonly side: 'responder' | 'initiator';
  /** DICOM Source (110153): the requesting client, except in retrieves, where it is the system sending the documents. */
  readonly source: AuditEndpoint;
  /** DICOM Destination (110152). */
  readonly destination: AuditEndpoint;
  /** Which of the two is the requesting client (UserIsRequestor="true"). */
  readonly requestingParty: 'source' | 'destination';
  readonly requestor?: AuditPrincipal | undefined;
  /** The node that records the event (DICOM AuditSourceID, FHIR source.observer). */
  readonly auditSource: { readonly id: string; readonly enterpriseSiteId?: string | undefined };
  /** Patient id in CX form (`13116900216^^^&2.16.578.1.12.4.1.4.1&ISO`). */
  readonly patientId?: string | undefined;
  readonly query?: QueryRef | undefined;
  readonly documents: readonly DocumentRef[];
  /** SubmissionSet uniqueId of ITI-41 / 42 / 57. */
  readonly submissionSetUniqueId?: string | undefined;
  /** entryUUIDs of the objects ITI-62 deleted. */
  readonly objectUuids: readonly string[];
}

/** What every builder takes. */
export interface BaseAuditInput {
  /** This node's part: the server of the transaction (registry, repository, responding gateway) or its client. */
  readonly side: 'responder' | 'initiator';
  /** The SOAP client of the transaction (consumer, source, initiating gateway …). */
  readonly client: AuditEndpoint;
  /** The SOAP server (registry, repository, responding gateway); its userId is the endpoint URL. */
  readonly server: AuditEndpoint;
  /** This node's id (AuditSourceID), e.g. its homeCommunityId or host name. */
  readonly node: { readonly id: string; readonly enterpriseSiteId?: string | undefined };
  readonly principal?: AuditPrincipal | undefined;
  readonly patientId?: string | undefined;
  readonly outcome: Outcome;
  readonly outcomeDescription?: string | undefined;
  /** Default: now. */
  readonly at?: Date | undefined;
}

export interface QueryAuditInput extends BaseAuditInput {
  readonly query: QueryRef;
}
export interface RetrieveAuditInput extends BaseAuditInput {
  readonly documents: readonly DocumentRef[];
}
export interface SubmitAuditInput extends BaseAuditInput {
  readonly submissionSetUniqueId: string;
  readonly documents?: readonly DocumentRef[] | undefined;
}
export interface DeleteAuditInput extends BaseAuditInput {
  readonly objectUuids: readonly string[];
}
export interface RemoveAuditInput extends BaseAuditInput {
  readonly documents: readonly DocumentRef[];
}

function transactionType(t: TransactionId): CodedValue {
  return { code: t, system: 'IHE Transactions', display: TRANSACTION_NAMES[t] };
}

/**
 * In a retrieve (ITI-39, ITI-43, ITI-68) the TF tables make the system that sends the documents
 * the Source and the requesting client the Destination; in every other transaction the client is
 * the Source.
 */
const SERVER_IS_SOURCE: ReadonlySet<TransactionId> = new Set(['ITI-39', 'ITI-43', 'ITI-68']);

/** An event under construction: `base` makes it, the builders add their members. */
type Building = { -readonly [K in keyof AuditEvent]: AuditEvent[K] };

/**
 * The members every event has, in the order they have always been written (the durable queue
 * stores events as JSON). Built member by member rather than from spread fragments: made for
 * every request, and spreading conditional fragments cost more than the rest of the event.
 */
function base(
  input: BaseAuditInput,
  transaction: TransactionId | null,
  eventId: CodedValue,
  eventAction: EventAction,
  eventTypes: readonly CodedValue[],
): Building {
  const serverIsSource = transaction !== null && SERVER_IS_SOURCE.has(transaction);
  const now = Date.now();
  const event: Building = {
    // Time-ordered (v7): the audit store keys its rows by id, and ids made later append on the
    // index's rightmost pages instead of a random leaf each.
    id: timeOrderedUuid(now),
    recorded: input.at !== undefined ? input.at.toISOString() : isoTime(now),
    transaction,
    eventId,
    eventAction,
    eventTypes,
    outcome: input.outcome,
  } as Building;
  if (input.outcomeDescription !== undefined) event.outcomeDescription = input.outcomeDescription;
  event.denied = false;
  event.side = input.side;
  event.source = serverIsSource ? input.server : input.client;
  event.destination = serverIsSource ? input.client : input.server;
  event.requestingParty = serverIsSource ? 'destination' : 'source';
  if (input.principal !== undefined) event.requestor = input.principal;
  event.auditSource = input.node;
  if (input.patientId !== undefined) event.patientId = input.patientId;
  event.documents = [];
  event.objectUuids = [];
  return event;
}

function queryEvent(t: 'ITI-18' | 'ITI-38' | 'ITI-51' | 'ITI-66' | 'ITI-67', input: QueryAuditInput): AuditEvent {
  const event = base(input, t, EVENT_IDS.query, 'E', [transactionType(t)]);
  event.query = input.query;
  return event;
}

/**
 * Export / Import: the side that sends the documents records Export ("R"), the side that
 * receives them Import ("C"), as in the ITI-39/41/42/43 tables.
 */
function transferEvent(t: TransactionId, input: BaseAuditInput, responderSends: boolean): Building {
  const sends = (input.side === 'responder') === responderSends;
  return base(input, t, sends ? EVENT_IDS.export : EVENT_IDS.import, sends ? 'R' : 'C', [transactionType(t)]);
}

/** An event with the documents it concerns (replacing base's empty list, in its place). */
function withDocuments(event: Building, documents: readonly DocumentRef[]): AuditEvent {
  event.documents = documents;
  return event;
}

/** A submission's event: its SubmissionSet (a member after base's) and its documents. */
function submission(event: Building, input: SubmitAuditInput): AuditEvent {
  event.documents = input.documents ?? [];
  event.submissionSetUniqueId = input.submissionSetUniqueId;
  return event;
}

export const auditEvents = {
  iti18: (input: QueryAuditInput): AuditEvent => queryEvent('ITI-18', input),
  iti38: (input: QueryAuditInput): AuditEvent => queryEvent('ITI-38', input),
  /**
   * Query (110112) of ITI TF-2b 3.51.5.1.2. The table allows a patient participant per patient; the
   * event model carries one, so the transaction records one event per patient (the patient's
   * access log then shows the query), each with the same query participant.
   */
  iti51: (input: QueryAuditInput): AuditEvent => queryEvent('ITI-51', input),
  /** Responding gateway exports, initiating gateway imports. */
  iti39: (input: RetrieveAuditInput): AuditEvent => withDocuments(transferEvent('ITI-39', input, true), input.documents),
  /** Document source exports, repository imports. */
  iti41: (input: SubmitAuditInput): AuditEvent => submission(transferEvent('ITI-41', input, false), input),
  /** Repository (or integrated source) exports, registry imports. */
  iti42: (input: SubmitAuditInput): AuditEvent => submission(transferEvent('ITI-42', input, false), input),
  /** Repository exports, consumer imports. */
  iti43: (input: RetrieveAuditInput): AuditEvent => withDocuments(transferEvent('ITI-43', input, true), input.documents),
  iti57: (input: SubmitAuditInput): AuditEvent => submission(base(input, 'ITI-57', EVENT_IDS.patientRecord, 'U', [transactionType('ITI-57')]), input),
  /** Patient Record "U", as ITI-57: an RMU is a metadata update made by another way (XDS or XCA Persistence Option). */
  iti92: (input: SubmitAuditInput): AuditEvent => submission(base(input, 'ITI-92', EVENT_IDS.patientRecord, 'U', [transactionType('ITI-92')]), input),
  iti62: (input: DeleteAuditInput): AuditEvent => {
    const event = base(input, 'ITI-62', EVENT_IDS.patientRecord, 'D', [transactionType('ITI-62')]);
    event.objectUuids = input.objectUuids;
    return event;
  },
  iti86: (input: RemoveAuditInput): AuditEvent => withDocuments(base(input, 'ITI-86', EVENT_IDS.patientRecord, 'D', [transactionType('ITI-86')]), input.documents),
  /** MHD Document Recipient: imports the documents as the ITI-41 repository does (ITI TF-2 3.65.5.1). */
  iti65: (input: SubmitAuditInput): AuditEvent => submission(transferEvent('ITI-65', input, false), input),
  /** MHD searches are Query events, as ITI-18 (ITI TF-2 3.66.5.1, 3.67.5.1); the query is the search as received. */
  iti66: (input: QueryAuditInput): AuditEvent => queryEvent('ITI-66', input),
  iti67: (input: QueryAuditInput): AuditEvent => queryEvent('ITI-67', input),
  /** MHD Document Responder exports, consumer imports, as ITI-43 (ITI TF-2 3.68.5.1). */
  iti68: (input: RetrieveAuditInput): AuditEvent => withDocuments(transferEvent('ITI-68', input, true), input.documents),
};

export type TransactionAuditInput =
  | ({ readonly transaction: 'ITI-18' | 'ITI-38' | 'ITI-51' | 'ITI-66' | 'ITI-67' } & QueryAuditInput)
  | ({ readonly transaction: 'ITI-39' | 'ITI-43' | 'ITI-68' } & RetrieveAuditInput)
  | ({ readonly transaction: 'ITI-41' | 'ITI-42' | 'ITI-57' | 'ITI-65' | 'ITI-92' } & SubmitAuditInput)
  | ({ readonly transaction: 'ITI-62' } & DeleteAuditInput)
  | ({ readonly transaction: 'ITI-86' } & RemoveAuditInput);

/** The event of any transaction, chosen by its id. */
export function transactionEvent(input: TransactionAuditInput): AuditEvent {
  switch (input.transaction) {
    case 'ITI-18':
      return auditEvents.iti18(input);
    case 'ITI-38':
      return auditEvents.iti38(input);
    case 'ITI-51':
      return auditEvents.iti51(input);
    case 'ITI-39':
      return auditEvents.iti39(input);
    case 'ITI-43':
      return auditEvents.iti43(input);
    case 'ITI-41':
      return auditEvents.iti41(input);
    case 'ITI-42':
      return auditEvents.iti42(input);
    case 'ITI-57':
      return auditEvents.iti57(input);
    case 'ITI-92':
      return auditEvents.iti92(input);
    case 'ITI-62':
      return auditEvents.iti62(input);
    case 'ITI-86':
      return auditEvents.iti86(input);
    case 'ITI-65':
      return auditEvents.iti65(input);
    case 'ITI-66':
      return auditEvents.iti66(input);
    case 'ITI-67':
      return auditEvents.iti67(input);
    case 'ITI-68':
      return auditEvents.iti68(input);
  }
}

/** A transaction input without its outcome (Omit applied to each member of the union). */
export type DenialAuditInput = (TransactionAuditInput extends infer T ? (T extends unknown ? Omit<T, 'outcome'> : never) : never) & {
  readonly reason: string;
};

/**
 * A request the trust model refused: the transaction's own event (so the refused query or
 * retrieve is on record with the patient and documents asked for), with a serious-failure
 * outcome and the reason, marked denied so the patient's access log shows the attempt.
 */
export function denialEvent(input: DenialAuditInput): AuditEvent {
  const { reason, ...rest } = input;
  const event = transactionEvent({ ...rest, outcome: 'serious-failure', outcomeDescription: reason } as TransactionAuditInput);
  return { ...event, denied: true };
}

export interface SecurityFailureInput extends Omit<BaseAuditInput, 'outcome'> {
  readonly kind: SecurityFailureKind;
  readonly reason: string;
  /** The transaction that was attempted, when known. */
  readonly transaction?: TransactionId | undefined;
  /** Default (and instead of 'success', which a failure cannot be): minor failure, as DICOM records a refused login. */
  readonly outcome?: Outcome | undefined;
}

/** A security failure: a refused node or assertion, or a restricted function. */
export function securityFailureEvent(input: SecurityFailureInput): AuditEvent {
  const failure = SECURITY_FAILURES[input.kind];
  const types: CodedValue[] = [failure.type];
  if (input.transaction !== undefined) types.push(transactionType(input.transaction));
  const event = base(
    { ...input, outcome: input.outcome === undefined || input.outcome === 'success' ? 'minor-failure' : input.outcome, outcomeDescription: input.reason },
    input.transaction ?? null,
    failure.eventId,
    'E',
    types,
  );
  return { ...event, denied: true };
}

/**
 * The event as JSON text: what the audit store keeps (store.ts), the registry's outbox carries, the
 * durable queue and the intents hold, and an unrecorded event's log line shows; `eventFromJson`
 * reads it back. Not remembered per event: a WeakMap from event to text (which would have spared
 * a submission's second serialisation, ~5 µs) made the collector's pauses longer, the event loop's
 * p99 delay under `npm run bench:audit` 4.5–9.6 ms against 2.8–4.8 (BENCHMARKS.md, issue 19,
 * tenth session).
 */
export function eventJson(event: AuditEvent): string {
  return JSON.stringify(event);
}

/** The event an `eventJson` text holds. */
export function eventFromJson(json: string): AuditEvent {
  return JSON.parse(json) as AuditEvent;
}
