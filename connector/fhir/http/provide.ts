/**
 * ITI-65 Provide Document Bundle: `POST <base>` with a transaction Bundle → the submission ITI-41
 * hands the repository actor, on the same register path (connector/transactions/iti41.ts):
 *
 *   JSON → `validateProvideBundle` (FHIR R4 structure, MHD rules) → `provideBundleToSubmission`
 *   → `repository.provideAndRegister(submission, documentContents(value), …)` with the success
 *   event prepared first and stored in the registry's commit (or written as an intent before the
 *   registration is sent, for a remote registry) → `auditSubmission`.
 *
 * Answered with the transaction-response Bundle (200), whose entries carry the mapping's and the
 * registry's warnings, or with an OperationOutcome naming the XDS error code and where in the
 * Bundle it is, its HTTP status from the kind of problem (`httpStatusOf`). Like ITI-41 it has no
 * data policy: under the trust model the token must verify and hold the ITI-65 scope.
 *
 * Every outcome from a readable body on is audited as ITI-65 (Import, like ITI-41), a refused
 * Bundle too; refusals of the HTTP exchange itself (media type, size) are not, as a SOAP fault is not.
 */
import type { ServerResponse } from 'node:http';
import type { RoutedRequest } from '../../http/direct-routes.js';
import { error, RegistryFailure, type RegistryErrorInfo, type ResponseStatus } from '../../../registry/model/errors.js';
import type { Submission } from '../../../registry/model/metadata.js';
import { failureOnRegistryError } from '../../transactions/common.js';
import { auditSubmission, prepareSubmissionAudit, writeSubmissionIntent, type PreparedSubmissionAudit } from '../../transactions/serve.js';
import type { TransactionContext } from '../../transactions/context.js';
import { isError, mhdWarning, type MhdIssue } from '../mapping/issues.js';
import { documentContents, provideBundleToSubmission, transactionResponse, type ProvidedSubmission } from '../mapping/provide-bundle.js';
import { validateProvideBundle } from '../mapping/validate.js';
import { DOCUMENT_PATH, type FhirActors } from './actors.js';
import { FhirError, issuesOfErrors, sendResource } from './answer.js';
import { jsonBody, type BodyLimits } from './body.js';
import { fhirContext, fhirLogger, type FhirRequestServices } from './request.js';

export interface ProvideOptions {
  readonly limits: BodyLimits;
  /** fhir.maxBundleEntries: a Bundle with more entries is refused before validation. */
  readonly maxBundleEntries: number;
  /** fhir.defaultLanguageCode: the languageCode of a DocumentReference without attachment.language. */
  readonly defaultLanguageCode?: string | undefined;
}

/** A refusal as the registry errors the audit records. */
function asErrors(issues: readonly MhdIssue[]): RegistryErrorInfo[] {
  return issues.filter(isError).map((i) => error(i.code, i.message, i.location === '' ? undefined : i.location));
}

/** The relative location of a provided document: its ITI-68 URL (the transaction-response's Binary entry). */
function binaryLocation(value: ProvidedSubmission, entryUuid: string, repositoryUniqueId: string): string {
  const uniqueId = value.submission.documentEntries.find((d) => d.entryUuid === entryUuid)?.uniqueId;
  if (uniqueId === undefined) return `${DOCUMENT_PATH}/${entryUuid.replace(/^urn:uuid:/, '')}`;
  return `${DOCUMENT_PATH}/${encodeURIComponent(uniqueId)}?${new URLSearchParams({ repositoryUniqueId }).toString()}`;
}

/**
 * XDS requires a sourcePatientId; MHD's Minimal option lets a source leave sourcePatientInfo out.
 * Such an entry gets its patientId (the source named no other id for the patient), with a warning
 * where the Bundle lacks it, rather than the registry refusing the whole Bundle.
 */
function withSourcePatientIds(value: ProvidedSubmission): ProvidedSubmission {
  const warnings: MhdIssue[] = [];
  const documentEntries = value.submission.documentEntries.map((d) => {
    if (d.sourcePatientId !== undefined || d.patientId === undefined) return d;
    warnings.push(
      mhdWarning('XDSRegistryMetadataError', `${value.locate(d.entryUuid) ?? 'Bundle'}.context.sourcePatientInfo`, `no sourcePatientInfo identifier: sourcePatientId is the patientId ${d.patientId}`, 'required'),
    );
    return { ...d, sourcePatientId: d.patientId };
  });
  if (warnings.length === 0) return value;
  return { ...value, submission: { ...value.submission, documentEntries }, warnings: [...value.warnings, ...warnings] };
}

/** Serves ITI-65. */
export async function provideBundle(fhir: FhirRequestServices, actors: FhirActors, req: RoutedRequest, res: ServerResponse, options: ProvideOptions): Promise<void> {
  const logger = fhirLogger(fhir.logger, req, 'ITI-65');
  const ctx: TransactionContext = await fhirContext(fhir, req, 'ITI-65', logger);
  const json = await jsonBody(req, options.limits);
  // Before validation, which costs per entry on the event loop: a bound on the work one request buys.
  const entries = (json as { entry?: unknown } | null)?.entry;
  if (Array.isArray(entries) && entries.length > options.maxBundleEntries) {
    throw FhirError.http(413, 'too-costly', `the Bundle has ${entries.length} entries, more than ${options.maxBundleEntries} (fhir.maxBundleEntries)`);
  }

  let submission: Submission | undefined;
  let prepared: PreparedSubmissionAudit | undefined;
  let provided: ProvidedSubmission | undefined;
  /** Problems found before the registry, kept with their FHIR locations for the answer. */
  let refused: readonly MhdIssue[] | undefined;
  const outcome = await failureOnRegistryError(
    async (): Promise<{ status: ResponseStatus; errors: readonly RegistryErrorInfo[] }> => {
      const validation = validateProvideBundle(json);
      if (!validation.ok) {
        refused = validation.issues;
        throw new RegistryFailure(asErrors(validation.issues));
      }
      const mapped = provideBundleToSubmission(validation.bundle, options.defaultLanguageCode !== undefined ? { defaultLanguageCode: options.defaultLanguageCode } : {});
      if (!mapped.ok) {
        refused = mapped.issues;
        throw new RegistryFailure(asErrors(mapped.issues));
      }
      const value = withSourcePatientIds(mapped.value);
      provided = value;
      const s = value.submission;
      submission = s;
      const audit = prepareSubmissionAudit(ctx, s);
      prepared = audit;
      return actors.repository.provideAndRegister(s, documentContents(value), {
        commitRecords: [audit.commitRecord],
        ...(actors.repository.registryStoresCommitRecords ? {} : { beforeRegister: () => writeSubmissionIntent(ctx, audit, s) }),
      });
    },
    (errors) => ({ status: 'Failure' as const, errors }),
  );
  await auditSubmission(ctx, submission, outcome, prepared, logger);
  logger.info('ITI-65 provide document bundle', { status: outcome.status, errors: outcome.errors.map((e) => e.code) });

  if (refused !== undefined) throw FhirError.of(refused);
  const located = issuesOfErrors(outcome.errors, provided?.locate);
  if (outcome.status !== 'Success' || provided === undefined) throw FhirError.of(located);
  const value = provided;
  const response = transactionResponse(
    { ...value, warnings: [...value.warnings, ...located.filter((i) => !isError(i))] },
    {
      location: (type, entryUuid) =>
        type === 'Binary' ? binaryLocation(value, entryUuid, actors.repositoryUniqueId) : `${type}/${entryUuid.replace(/^urn:uuid:/, '')}`,
    },
  );
  sendResource(res, 200, response);
}
