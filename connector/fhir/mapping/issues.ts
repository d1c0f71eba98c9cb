/**
 * Problems found in FHIR input, as data: the XDS error code the SOAP side would have answered with,
 * where in the FHIR input it is (a FHIRPath-like location such as `Bundle.entry[2].resource.subject`)
 * and a message for a person. The same list feeds an OperationOutcome (HTTP error answers) and
 * the `outcome` of a transaction-response entry (warnings).
 */
import type { ErrorCode, RegistryErrorInfo } from '../../../registry/model/errors.js';
import { XDS_ERROR_CODE_SYSTEM, type IssueType, type OperationOutcome, type OperationOutcomeIssue } from './fhir.js';

export interface MhdIssue {
  readonly code: ErrorCode;
  /** Where the problem is: `Bundle.entry[i].resource.…`, a search parameter name, or an XDS id. */
  readonly location: string;
  readonly message: string;
  /** Absent means error: a warning never stops a transaction. */
  readonly severity?: 'error' | 'warning';
  /** The FHIR IssueType when the XDS code alone would suggest the wrong one (e.g. a bad search value). */
  readonly issueType?: IssueType;
}

export function mhdError(code: ErrorCode, location: string, message: string, issueType?: IssueType): MhdIssue {
  return issueType === undefined ? { code, location, message } : { code, location, message, issueType };
}

export function mhdWarning(code: ErrorCode, location: string, message: string, issueType?: IssueType): MhdIssue {
  return issueType === undefined ? { code, location, message, severity: 'warning' } : { code, location, message, severity: 'warning', issueType };
}

export function isError(issue: MhdIssue): boolean {
  return issue.severity !== 'warning';
}

export function hasErrors(issues: readonly MhdIssue[]): boolean {
  return issues.some(isError);
}

/**
 * The FHIR IssueType (http://hl7.org/fhir/R4/valueset-issue-type.html) closest to each XDS error
 * code. The HTTP status follows from it (see `httpStatusOf`), so the choice matters: input errors
 * are `invalid`/`required`/`not-found`/`business-rule` (4xx), node trouble `exception`/`transient` (5xx).
 */
const ISSUE_TYPE: Partial<Record<ErrorCode, IssueType>> = {
  XDSRegistryMetadataError: 'invalid',
  XDSRepositoryMetadataError: 'invalid',
  XDSMissingDocument: 'required',
  XDSMissingDocumentMetadata: 'required',
  XDSPatientIdDoesNotMatch: 'business-rule',
  XDSUnknownPatientId: 'not-found',
  XDSRegistryDuplicateUniqueIdInMessage: 'duplicate',
  XDSRepositoryDuplicateUniqueIdInMessage: 'duplicate',
  XDSDuplicateUniqueIdInRegistry: 'duplicate',
  XDSNonIdenticalHash: 'conflict',
  XDSNonIdenticalSize: 'conflict',
  XDSRegistryDeprecatedDocumentError: 'business-rule',
  XDSReplaceFailed: 'business-rule',
  XDSUnknownRepositoryId: 'not-found',
  XDSUnknownCommunity: 'not-found',
  XDSUnavailableCommunity: 'transient',
  XDSMissingHomeCommunityId: 'required',
  XDSDocumentUniqueIdError: 'not-found',
  XDSStoredQueryMissingParam: 'required',
  XDSStoredQueryParamNumber: 'invalid',
  XDSUnknownStoredQuery: 'not-supported',
  XDSResultNotSinglePatient: 'business-rule',
  XDSTooManyResults: 'too-costly',
  XDSExtraMetadataNotSaved: 'informational',
  XDSRegistryBusy: 'transient',
  XDSRegistryOutOfResources: 'transient',
  XDSRepositoryOutOfResources: 'transient',
  XDSRegistryError: 'exception',
  XDSRepositoryError: 'exception',
  UnresolvedReferenceException: 'not-found',
  InvalidRequestException: 'invalid',
  XDSUnreferencedObjectException: 'invalid',
  XDSMetadataUpdateError: 'business-rule',
  XDSMetadataUpdateOperationError: 'business-rule',
  XDSMetadataVersionError: 'conflict',
  XDSMetadataIdentifierError: 'invalid',
  ReferencesExistException: 'conflict',
  UnmodifiableMetadataError: 'business-rule',
};

export function issueTypeOf(issue: MhdIssue): IssueType {
  return issue.issueType ?? ISSUE_TYPE[issue.code] ?? 'processing';
}

/** One OperationOutcome.issue per problem: severity, IssueType, the XDS code as details.coding, location as expression. */
export function operationOutcome(issues: readonly MhdIssue[]): OperationOutcome {
  const list: OperationOutcomeIssue[] = issues.map((i) => ({
    severity: isError(i) ? 'error' : 'warning',
    code: issueTypeOf(i),
    details: { coding: [{ system: XDS_ERROR_CODE_SYSTEM, code: i.code }], text: i.message },
    ...(i.location === '' ? {} : { expression: [i.location] }),
  }));
  // An OperationOutcome needs at least one issue; "nothing to report" is an informational one.
  if (list.length === 0) list.push({ severity: 'information', code: 'informational', diagnostics: 'no problems found' });
  return { resourceType: 'OperationOutcome', issue: list };
}

/**
 * The HTTP status an error answer should carry (FHIR R4 http.html): 401 / 403 for a missing
 * credential or a refusal of the access policy, 5xx when the node or a peer failed, 409 for
 * conflicts with stored data, 404 for unknown things, 422 for business rules a well-formed request
 * broke, 413 for a body too large, 400 otherwise.
 */
export function httpStatusOf(issues: readonly MhdIssue[]): number {
  const errors = issues.filter(isError);
  if (errors.length === 0) return 200;
  const types = new Set(errors.map(issueTypeOf));
  if (types.has('login')) return 401;
  if (types.has('forbidden')) return 403;
  if (types.has('exception')) return 500;
  if (types.has('transient') || types.has('throttled')) return 503;
  if (types.has('timeout')) return 408;
  if (types.has('too-long')) return 413;
  if (types.has('invalid') || types.has('structure') || types.has('required') || types.has('value')) return 400;
  if (types.has('duplicate') || types.has('conflict')) return 409;
  if (types.has('not-found')) return 404;
  if (types.has('business-rule')) return 422;
  return 400;
}

/**
 * Registry and repository errors (located at XDS ids, e.g. an entryUUID) as MHD issues located in
 * the request: `locate` maps an XDS id back to where that object came from (see
 * `ProvidedSubmission.locate`), and ids it does not know stay as they are.
 */
export function issuesFromRegistryErrors(errors: readonly RegistryErrorInfo[], locate: (xdsId: string) => string | undefined = () => undefined): MhdIssue[] {
  return errors.map((e) => {
    const location = e.location === undefined ? '' : (locate(e.location) ?? e.location);
    return e.severity === 'Warning' ? mhdWarning(e.code, location, e.message) : mhdError(e.code, location, e.message);
  });
}
