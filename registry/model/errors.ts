/**
 * Registry errors and response status, as actors return them (ebRS RegistryErrorList, without XML).
 */

/** The IHE / ebRS error codes this node emits (ITI TF-3 Table 4.2.4.1-2 and ebRS 3.0). */
export const ERROR_CODES = [
  'XDSRegistryError',
  'XDSRegistryMetadataError',
  'XDSRepositoryMetadataError',
  'XDSRepositoryError',
  'XDSRegistryBusy',
  'XDSRegistryOutOfResources',
  'XDSRepositoryOutOfResources',
  'XDSRegistryDuplicateUniqueIdInMessage',
  'XDSRegistryDeprecatedDocumentError',
  'XDSRepositoryDuplicateUniqueIdInMessage',
  'XDSDuplicateUniqueIdInRegistry',
  'XDSNonIdenticalHash',
  'XDSNonIdenticalSize',
  'XDSPatientIdDoesNotMatch',
  'XDSUnknownPatientId',
  'XDSUnknownRepositoryId',
  'XDSUnknownCommunity',
  'XDSUnavailableCommunity',
  'XDSMissingHomeCommunityId',
  'XDSMissingDocument',
  'XDSMissingDocumentMetadata',
  'XDSDocumentUniqueIdError',
  'XDSStoredQueryMissingParam',
  'XDSStoredQueryParamNumber',
  'XDSUnknownStoredQuery',
  'XDSResultNotSinglePatient',
  'XDSTooManyResults',
  'XDSExtraMetadataNotSaved',
  'XDSReplaceFailed',
  'XDSMetadataUpdateError',
  'XDSMetadataUpdateOperationError',
  'XDSMetadataVersionError',
  'XDSMetadataIdentifierError',
  /** ITI-57: an update would link, or move between, the records of two patients. */
  'XDSPatientIDReconciliationError',
  'UnresolvedReferenceException',
  'InvalidRequestException',
  'ReferencesExistException',
  'UnmodifiableMetadataError',
  'XDSUnreferencedObjectException',
  /** ITI-62: the removal would break the metadata model (a document relationship without its document). */
  'XDSMetadataModelException',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export type Severity = 'Error' | 'Warning';

export const SEVERITY_URN: Record<Severity, string> = {
  Error: 'urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error',
  Warning: 'urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning',
};

export interface RegistryErrorInfo {
  readonly code: ErrorCode;
  /** codeContext: a human-readable explanation, never an internal stack or path. */
  readonly message: string;
  readonly severity: Severity;
  /** location: where the problem is (an object id, a parameter name, a homeCommunityId). */
  readonly location?: string;
}

export type ResponseStatus = 'Success' | 'Failure' | 'PartialSuccess';

export const STATUS_URN: Record<ResponseStatus, string> = {
  Success: 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success',
  Failure: 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure',
  PartialSuccess: 'urn:ihe:iti:2007:ResponseStatusType:PartialSuccess',
};

export function error(code: ErrorCode, message: string, location?: string): RegistryErrorInfo {
  return location === undefined ? { code, message, severity: 'Error' } : { code, message, severity: 'Error', location };
}

export function warning(code: ErrorCode, message: string, location?: string): RegistryErrorInfo {
  return location === undefined ? { code, message, severity: 'Warning' } : { code, message, severity: 'Warning', location };
}

/**
 * Thrown by actors and rules when a request must fail as a whole with these errors. Transactions
 * catch it and answer with a Failure RegistryResponse; it never becomes a SOAP fault.
 */
export class RegistryFailure extends Error {
  readonly errors: readonly RegistryErrorInfo[];
  constructor(errors: readonly RegistryErrorInfo[] | RegistryErrorInfo) {
    const list = Array.isArray(errors) ? errors : [errors as RegistryErrorInfo];
    super(list.map((e) => `${e.code}: ${e.message}`).join('; '));
    this.name = 'RegistryFailure';
    this.errors = list;
  }
}

/**
 * The status of a response: Success when no error has severity Error (warnings never change the
 * status); otherwise PartialSuccess when `delivered` says some result still went out beside the
 * errors (a document retrieved or removed, a community that answered), and Failure when it does not.
 */
export function responseStatus(errors: readonly RegistryErrorInfo[], delivered = false): ResponseStatus {
  if (!errors.some((e) => e.severity === 'Error')) return 'Success';
  return delivered ? 'PartialSuccess' : 'Failure';
}
