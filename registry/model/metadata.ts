/**
 * The plain XDS metadata model (ITI TF-3 4.2.3): what every actor, rule, store and test speaks.
 *
 * Design choices:
 * - HL7 v2 composite values (CX patient ids, XCN persons, XON organisations, XTN telecoms, DTM
 *   timestamps) are kept as the exact strings that were submitted. Stored queries compare these
 *   strings (author LIKE patterns, patient id equality), and keeping them verbatim makes the
 *   ebRIM → model → ebRIM round trip lossless. `hl7.ts` parses them where a rule needs the parts.
 * - Attributes that a submission may omit are optional here: the validation rules, not the type
 *   system, decide which omissions are errors, because each omission has its own IHE error code.
 * - Anything XDS does not define (extra slots, classifications, external identifiers) is kept in
 *   `extra` so that it survives storage and comes back in query responses.
 */

/** Availability status of a registry object (ebRIM StatusType, short form). */
export type AvailabilityStatus = 'Approved' | 'Deprecated' | 'Submitted';

export const STATUS_URN_PREFIX = 'urn:oasis:names:tc:ebxml-regrep:StatusType:';

/** A coded value: ebRIM Classification with nodeRepresentation, codingScheme slot and Name. */
export interface Code {
  readonly code: string;
  /** The coding scheme (the `codingScheme` slot); absent only in malformed submissions. */
  readonly scheme?: string;
  readonly displayName?: LocalizedText;
}

/** An ebRIM InternationalString reduced to what XDS uses: one LocalizedString. */
export interface LocalizedText {
  readonly value: string;
  readonly lang?: string;
  readonly charset?: string;
}

/** An ebRIM Slot: name, optional type and its values, in order. */
export interface Slot {
  readonly name: string;
  readonly slotType?: string;
  readonly values: readonly string[];
}

/** A classification that XDS does not define, kept verbatim for the round trip. */
export interface ExtraClassification {
  readonly id?: string;
  readonly classificationScheme?: string;
  readonly classificationNode?: string;
  readonly nodeRepresentation?: string;
  readonly name?: LocalizedText;
  readonly slots: readonly Slot[];
}

/** An external identifier that XDS does not define, kept verbatim for the round trip. */
export interface ExtraExternalIdentifier {
  readonly id?: string;
  readonly identificationScheme: string;
  readonly value: string;
  readonly name?: LocalizedText;
}

/** What a registry object carried beyond the XDS attributes. */
export interface ExtraMetadata {
  readonly slots: readonly Slot[];
  readonly classifications: readonly ExtraClassification[];
  readonly externalIdentifiers: readonly ExtraExternalIdentifier[];
}

export const NO_EXTRA: ExtraMetadata = Object.freeze({ slots: [], classifications: [], externalIdentifiers: [] });

/** XDS Author (ITI TF-3 4.2.3.1.4): a classification with author* slots. */
export interface Author {
  /** XCN, e.g. `502116685^GEIRAAS^BENEDIKTE^^^^^^&2.16.578.1.12.4.1.4.4&ISO`. */
  readonly person?: string;
  /** XON values. */
  readonly institutions: readonly string[];
  readonly roles: readonly string[];
  readonly specialties: readonly string[];
  /** XTN values. */
  readonly telecommunications: readonly string[];
  /** Slots on the author classification other than the five above. */
  readonly extraSlots?: readonly Slot[];
}

/** Fields shared by DocumentEntry, SubmissionSet and Folder. */
interface RegistryObjectBase {
  /** entryUUID: `urn:uuid:…` once registered; a symbolic id ("Document01") in an unresolved submission. */
  readonly entryUuid: string;
  readonly uniqueId?: string;
  /** CX, e.g. `13116900216^^^&2.16.578.1.12.4.1.4.1&ISO`. */
  readonly patientId?: string;
  readonly availabilityStatus: AvailabilityStatus;
  readonly title?: LocalizedText;
  readonly comments?: LocalizedText;
  /** homeCommunityId (`urn:oid:…`) when known; set on query responses when the node has one. */
  readonly homeCommunityId?: string;
  /** ebRIM lid and VersionInfo/@versionName (metadata versioning, ITI-57). */
  readonly logicalUuid?: string;
  readonly version?: string;
  readonly extra: ExtraMetadata;
}

export const DOCUMENT_ENTRY_TYPE = {
  stable: 'urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1',
  onDemand: 'urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248',
} as const;

export interface DocumentEntry extends RegistryObjectBase {
  readonly type: 'DocumentEntry';
  /** ExtrinsicObject/@objectType: stable or on-demand (see DOCUMENT_ENTRY_TYPE). */
  readonly objectType: string;
  readonly mimeType?: string;
  readonly classCode?: Code;
  readonly typeCode?: Code;
  readonly formatCode?: Code;
  readonly healthcareFacilityTypeCode?: Code;
  readonly practiceSettingCode?: Code;
  readonly confidentialityCodes: readonly Code[];
  readonly eventCodes: readonly Code[];
  readonly authors: readonly Author[];
  /** HL7 DTM strings, as submitted. */
  readonly creationTime?: string;
  readonly serviceStartTime?: string;
  readonly serviceStopTime?: string;
  /** SHA-1 of the document, hex (any case as submitted). */
  readonly hash?: string;
  /** Size in bytes, as the decimal string submitted. */
  readonly size?: string;
  readonly languageCode?: string;
  readonly repositoryUniqueId?: string;
  readonly uri?: string;
  readonly sourcePatientId?: string;
  /** PID-n|value lines. */
  readonly sourcePatientInfo: readonly string[];
  /** XCN. */
  readonly legalAuthenticator?: string;
  /** CXi values (referenceIdList). */
  readonly referenceIdList: readonly string[];
  /** documentAvailability (Online/Offline, ITI-57 / RMD). */
  readonly documentAvailability?: string;
}

export interface SubmissionSet extends RegistryObjectBase {
  readonly type: 'SubmissionSet';
  readonly sourceId?: string;
  readonly submissionTime?: string;
  readonly contentTypeCode?: Code;
  readonly authors: readonly Author[];
  /** XON|XCN|XTN values. */
  readonly intendedRecipients: readonly string[];
  /** True when classified as limited metadata (XDR/XDM); never for ITI-42. */
  readonly limitedMetadata?: boolean;
}

export interface Folder extends RegistryObjectBase {
  readonly type: 'Folder';
  readonly codeList: readonly Code[];
  /** Set by the registry on creation and whenever a document is added. */
  readonly lastUpdateTime?: string;
}

export const ASSOCIATION_TYPE = {
  HasMember: 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember',
  RPLC: 'urn:ihe:iti:2007:AssociationType:RPLC',
  APND: 'urn:ihe:iti:2007:AssociationType:APND',
  XFRM: 'urn:ihe:iti:2007:AssociationType:XFRM',
  XFRM_RPLC: 'urn:ihe:iti:2007:AssociationType:XFRM_RPLC',
  signs: 'urn:ihe:iti:2007:AssociationType:signs',
  IsSnapshotOf: 'urn:ihe:iti:2010:AssociationType:IsSnapshotOf',
  UpdateAvailabilityStatus: 'urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus',
  SubmitAssociation: 'urn:ihe:iti:2010:AssociationType:SubmitAssociation',
} as const;

export type AssociationTypeName = keyof typeof ASSOCIATION_TYPE;

/** The association types that only ITI-57 submits: a status change and the carrier of a new association. */
export const METADATA_UPDATE_ASSOCIATIONS: readonly string[] = [ASSOCIATION_TYPE.UpdateAvailabilityStatus, ASSOCIATION_TYPE.SubmitAssociation];

/** The document relationship types of ITI TF-3 4.2.2 (RPLC, APND, XFRM, XFRM_RPLC, signs). */
export const DOCUMENT_RELATIONSHIPS: readonly string[] = [
  ASSOCIATION_TYPE.RPLC,
  ASSOCIATION_TYPE.APND,
  ASSOCIATION_TYPE.XFRM,
  ASSOCIATION_TYPE.XFRM_RPLC,
  ASSOCIATION_TYPE.signs,
];

export interface Association {
  readonly type: 'Association';
  readonly entryUuid: string;
  /** The full associationType URN (see ASSOCIATION_TYPE); unknown URNs are kept and rejected by validation. */
  readonly associationType: string;
  readonly sourceUuid: string;
  readonly targetUuid: string;
  readonly availabilityStatus: AvailabilityStatus;
  /** SubmissionSetStatus slot on SubmissionSet→DocumentEntry HasMember: 'Original' or 'Reference'. */
  readonly submissionSetStatus?: string;
  /**
   * ITI-57 slots (ITI TF-2 3.57.4.1.3): PreviousVersion on the SubmissionSet HasMember of a new
   * DocumentEntry or Folder version (the version it supersedes); AssociationPropagation there too
   * ("yes", the default, or "no"); OriginalStatus and NewStatus on an UpdateAvailabilityStatus
   * association (status URNs, as submitted). Kept as the strings sent: the update rules judge them.
   */
  readonly previousVersion?: string;
  readonly associationPropagation?: string;
  readonly originalStatus?: string;
  readonly newStatus?: string;
  /** Association documentation (ITI TF-3 4.2.2: a classification on RPLC etc.), kept as codes. */
  readonly documentation?: readonly Code[];
  readonly homeCommunityId?: string;
  readonly extra: ExtraMetadata;
}

export type RegistryObject = DocumentEntry | SubmissionSet | Folder | Association;
export type RegistryObjectType = RegistryObject['type'];

/** What an ITI-42 (or ITI-41 after the repository's part) carries; ITI-57 carries the same shape. */
export interface Submission {
  readonly submissionSet: SubmissionSet;
  readonly documentEntries: readonly DocumentEntry[];
  readonly folders: readonly Folder[];
  readonly associations: readonly Association[];
  /** rim:ObjectRef ids in the request: references to objects already in the registry. */
  readonly objectRefs: readonly string[];
}

export function isUuid(id: string): boolean {
  return /^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(id);
}
