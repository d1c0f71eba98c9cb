/**
 * The one shape of the two metadata-update transactions, ITI-57 Update Document Set and ITI-92
 * Restricted Update Document Set: lcm:SubmitObjectsRequest in, rs:RegistryResponse out. They differ
 * only in the rules the registry applies (registry/update.ts with validate/iti57.ts or iti92.ts) and
 * in where they are served; the wire, the trust decision and the audit are this module's.
 *
 * Trust: with the trust model on the endpoint, the Principal passes the checks every change of
 * documents passes (document-administration.ts `decideRemover`: subject, ATT-10, security level, a
 * known purpose of use that is not a citizen's). The update may then concern only the assertion's
 * patient (ATT-4): the SubmissionSet and each new version name that patient, and so do the
 * registered objects the update changes. Those objects (the versions it supersedes, what it changes
 * the status of, the associations it submits) are then judged as ITI-62 judges removals
 * (`decideObjectsChange`): a document administrator may change anything, anyone else only what its
 * organisation authored, and Folders only an administrator. A refusal changes nothing, is answered
 * with the trust model's XDSRegistryError and audited as a denial.
 *
 * Audit: the success event (Patient Record "U") names the SubmissionSet, the patient and the
 * documents concerned (new versions and status changes); it is prepared before the update and
 * written in its commit, so a stored update never lacks its event, and a stored update is answered
 * Success even if recording the event afterwards fails.
 */
import { parseSubmitObjectsRequest, registryResponse } from '../../registry/ebxml/index.js';
import type { ResponseStatus } from '../../registry/model/errors.js';
import type { RegistryObject, Submission } from '../../registry/model/metadata.js';
import { NS } from '../../registry/xml/namespaces.js';
import type { DocumentRegistry } from '../../registry/registry.js';
import type { CommitRecord, WriteOutcome } from '../../registry/write-queue.js';
import type { SoapReply, SoapRequest } from '../soap/endpoint.js';
import type { ActionPair } from '../soap/actions.js';
import { denialEvent, transactionEvent, type AuditEvent, type DocumentRef } from '../audit/event.js';
import { decideObjectsChange, decideRemover } from '../trust/document-administration.js';
import { denialError, samePatient, type Denial } from '../trust/policy.js';
import { expectBody, failureOnRegistryError } from './common.js';
import { outcomeOf, type TransactionContext } from './context.js';
import { auditWrite, prepareWriteAudit, type PreparedWriteAudit } from './serve.js';

/** What an update transaction is, and where it is applied. */
export interface UpdateResponder {
  readonly transaction: 'ITI-57' | 'ITI-92';
  readonly action: ActionPair;
  /** The registry read for the decision and the audit. */
  readonly registry: DocumentRegistry;
  /** The write itself (the registry's, or the responding gateway's for ITI-92 there). */
  apply(submission: Submission, records: readonly CommitRecord[]): Promise<WriteOutcome>;
}

export async function serveUpdate(req: SoapRequest, ctx: TransactionContext, responder: UpdateResponder): Promise<SoapReply> {
  expectBody(req.body, NS.lcm, 'SubmitObjectsRequest');
  const { transaction, registry } = responder;
  let submission: Submission | undefined;
  let changed: readonly RegistryObject[] = [];
  let prepared: PreparedWriteAudit | undefined;
  let refused: Denial | undefined;
  const outcome = await failureOnRegistryError(async () => {
    submission = parseSubmitObjectsRequest(req.body);
    // Read for the decision and the audit only; the update decides on its own reads.
    changed = await registry.objectsChangedBy(submission);
    const denial = await decideUpdate(ctx, registry, submission, changed);
    if (denial !== undefined) {
      refused = denial;
      return { status: 'Failure' as const, errors: [denialError(denial, ctx.services.homeCommunityId)] };
    }
    prepared = prepareWriteAudit(updateEvent(ctx, transaction, submission, changed, 'Success', ''));
    return responder.apply(submission, [prepared.commitRecord]);
  }, (errors) => ({ status: 'Failure' as const, errors: [...errors] }));
  if (refused !== undefined) {
    await ctx.record(
      denialEvent({
        transaction,
        ...ctx.auditBase('serious-failure', submission?.submissionSet.patientId),
        submissionSetUniqueId: submission?.submissionSet.uniqueId ?? '',
        documents: documentsOf(submission, changed),
        reason: `${refused.rule}: ${refused.reason}`,
      }),
    );
    req.logger.warn(`${transaction} refused by the trust policy`, { rule: refused.rule, endpoint: ctx.endpoint });
  } else {
    await auditWrite(ctx, outcome, prepared, (status, errorText) => updateEvent(ctx, transaction, submission, changed, status, errorText), req.logger);
  }
  req.logger.info(`${transaction} update`, { endpoint: ctx.endpoint, status: outcome.status, errors: outcome.errors.map((e) => e.code) });
  return { action: responder.action.response, body: registryResponse(outcome.status, outcome.errors) };
}

/** Why the principal may not make this update, or undefined when it may (always, without trust). */
async function decideUpdate(
  ctx: TransactionContext,
  registry: DocumentRegistry,
  submission: Submission,
  changed: readonly RegistryObject[],
): Promise<Denial | undefined> {
  const principal = ctx.principal;
  const trust = ctx.services.trust;
  if (principal === undefined || trust === undefined) return undefined;
  const maintainer = decideRemover(principal, trust.policy, 'change');
  if (!maintainer.permit) return maintainer;
  // ATT-4 for what the request itself names: a new version may not carry the record to another patient.
  if (principal.patientId !== undefined) {
    for (const o of [submission.submissionSet, ...submission.documentEntries, ...submission.folders]) {
      if (o.patientId !== undefined && !samePatient(principal.patientId, o.patientId)) {
        return { permit: false, rule: 'ATT-4', reason: `${o.entryUuid} names another patient than the assertion's resource-id` };
      }
    }
  }
  return decideObjectsChange(principal, maintainer, changed, (ids) => registry.store.getByUuids(ids));
}

/** The documents an update concerns: its new versions and the registered DocumentEntries it changes. */
function documentsOf(submission: Submission | undefined, changed: readonly RegistryObject[]): DocumentRef[] {
  const out = new Map<string, DocumentRef>();
  for (const d of [...(submission?.documentEntries ?? []), ...changed]) {
    if (d.type !== 'DocumentEntry' || d.uniqueId === undefined) continue;
    out.set(d.uniqueId, d.repositoryUniqueId !== undefined ? { uniqueId: d.uniqueId, repositoryUniqueId: d.repositoryUniqueId } : { uniqueId: d.uniqueId });
  }
  return [...out.values()];
}

function updateEvent(
  ctx: TransactionContext,
  transaction: UpdateResponder['transaction'],
  submission: Submission | undefined,
  changed: readonly RegistryObject[],
  status: ResponseStatus,
  errorText: string,
): AuditEvent {
  const base = ctx.auditBase(outcomeOf(status), submission?.submissionSet.patientId, errorText !== '' ? errorText : undefined);
  return transactionEvent({
    transaction,
    ...base,
    submissionSetUniqueId: submission?.submissionSet.uniqueId ?? '',
    documents: documentsOf(submission, changed),
  });
}
