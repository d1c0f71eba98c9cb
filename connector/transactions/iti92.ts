/**
 * ITI-92 Restricted Update Document Set (Restricted Metadata Update, RMU): lcm:SubmitObjectsRequest
 * in, rs:RegistryResponse out, at two endpoints, as the two persistence options of the Update
 * Responder:
 * - XDS Persistence Option, the registry endpoint: the Document Registry applies the update;
 * - XCA Persistence Option, the responding gateway endpoint: the gateway applies it to its own
 *   community's registry (connector/gateway/responding.ts). A requesting community's assertion is
 *   verified there as for ITI-38 (`trust.endpoints.responding`).
 * The rules, the versions and the commit are the registry's (registry/update.ts with the ITI-92
 * rule list, registry/validate/iti92.ts), on the one write path of every registry change; the wire
 * is ITI-57's.
 *
 * Trust, as for ITI-57 (iti57.ts): the Principal passes the checks of every change of documents
 * (document-administration.ts `decideRemover`), the SubmissionSet and each new version name the
 * assertion's patient (ATT-4), and the versions the update supersedes are judged by
 * `decideObjectsChange` (a document administrator may update anything of that patient, anyone else
 * what its organisation authored). A refusal changes nothing, is answered with the trust model's
 * XDSRegistryError and audited as a denial.
 *
 * Audit: the success event (ITI-92, Patient Record "U") names the SubmissionSet, the patient and the
 * documents concerned; it is prepared before the update and written in its commit, as ITI-57's.
 */
import { parseSubmitObjectsRequest, registryResponse } from '../../registry/ebxml/index.js';
import type { ResponseStatus } from '../../registry/model/errors.js';
import type { RegistryObject, Submission } from '../../registry/model/metadata.js';
import { NS } from '../../registry/xml/namespaces.js';
import type { DocumentRegistry } from '../../registry/registry.js';
import type { CommitRecord, WriteOutcome } from '../../registry/write-queue.js';
import type { RespondingGateway } from '../gateway/responding.js';
import type { SoapHandler, SoapRequest } from '../soap/endpoint.js';
import { ACTIONS } from '../soap/actions.js';
import { denialEvent, transactionEvent, type AuditEvent, type DocumentRef } from '../audit/event.js';
import { decideObjectsChange, decideRemover } from '../trust/document-administration.js';
import { denialError, samePatient, type Denial } from '../trust/policy.js';
import { expectBody, failureOnRegistryError } from './common.js';
import { outcomeOf, withContext, type TransactionContext, type TransactionServices } from './context.js';
import { auditWrite, prepareWriteAudit, type PreparedWriteAudit } from './serve.js';

/** Where an ITI-92 is applied: the registry read for the decision, and the write itself. */
interface UpdateResponder {
  readonly registry: DocumentRegistry;
  apply(submission: Submission, records: readonly CommitRecord[]): Promise<WriteOutcome>;
}

/** ITI-92 at the registry endpoint (XDS Persistence Option). */
export function iti92(registry: DocumentRegistry, services: TransactionServices): SoapHandler {
  const responder: UpdateResponder = { registry, apply: (submission, records) => registry.restrictedUpdate(submission, records) };
  return withContext(services, 'registry', 'ITI-92', (req, ctx) => restrictedUpdate(req, ctx, responder));
}

/**
 * ITI-92 at the responding gateway (XCA Persistence Option), for a gateway that has a registry of
 * its own (connector/transactions/responding.ts offers the action only then).
 */
export function iti92Responding(gateway: RespondingGateway, services: TransactionServices): SoapHandler {
  const registry = gateway.persistence;
  if (registry === undefined) throw new Error('ITI-92 at a responding gateway without a registry (hub mode) is not offered');
  const responder: UpdateResponder = { registry, apply: (submission, records) => gateway.restrictedUpdate(submission, records) };
  return withContext(services, 'responding', 'ITI-92', (req, ctx) => restrictedUpdate(req, ctx, responder));
}

async function restrictedUpdate(req: SoapRequest, ctx: TransactionContext, responder: UpdateResponder) {
  expectBody(req.body, NS.lcm, 'SubmitObjectsRequest');
  let submission: Submission | undefined;
  let changed: readonly RegistryObject[] = [];
  let prepared: PreparedWriteAudit | undefined;
  let refused: Denial | undefined;
  const outcome = await failureOnRegistryError(async () => {
    submission = parseSubmitObjectsRequest(req.body);
    // Read for the decision and the audit only; the update decides on its own reads.
    changed = await responder.registry.objectsChangedBy(submission);
    const denial = await decide(ctx, responder.registry, submission, changed);
    if (denial !== undefined) {
      refused = denial;
      return { status: 'Failure' as const, errors: [denialError(denial, ctx.services.homeCommunityId)] };
    }
    prepared = prepareWriteAudit(updateEvent(ctx, submission, changed, 'Success', ''));
    return responder.apply(submission, [prepared.commitRecord]);
  }, (errors) => ({ status: 'Failure' as const, errors: [...errors] }));
  if (refused !== undefined) {
    await ctx.record(
      denialEvent({
        transaction: 'ITI-92',
        ...ctx.auditBase('serious-failure', submission?.submissionSet.patientId),
        submissionSetUniqueId: submission?.submissionSet.uniqueId ?? '',
        documents: documentsOf(submission, changed),
        reason: `${refused.rule}: ${refused.reason}`,
      }),
    );
    req.logger.warn('ITI-92 refused by the trust policy', { rule: refused.rule, endpoint: ctx.endpoint });
  } else {
    await auditWrite(ctx, outcome, prepared, (status, errorText) => updateEvent(ctx, submission, changed, status, errorText), req.logger);
  }
  req.logger.info('ITI-92 restricted update', { endpoint: ctx.endpoint, status: outcome.status, errors: outcome.errors.map((e) => e.code) });
  return { action: ACTIONS.iti92.response, body: registryResponse(outcome.status, outcome.errors) };
}

/** Why the principal may not make this update, or undefined when it may (always, without trust). */
async function decide(ctx: TransactionContext, registry: DocumentRegistry, submission: Submission, changed: readonly RegistryObject[]): Promise<Denial | undefined> {
  const principal = ctx.principal;
  const trust = ctx.services.trust;
  if (principal === undefined || trust === undefined) return undefined;
  const maintainer = decideRemover(principal, trust.policy, 'change');
  if (!maintainer.permit) return maintainer;
  // ATT-4 for what the request itself names (a new version naming another patient is also
  // XDSPatientIDReconciliationError by the rules; under trust it is not even looked at).
  if (principal.patientId !== undefined) {
    for (const o of [submission.submissionSet, ...submission.documentEntries, ...submission.folders]) {
      if (o.patientId !== undefined && !samePatient(principal.patientId, o.patientId)) {
        return { permit: false, rule: 'ATT-4', reason: `${o.entryUuid} names another patient than the assertion's resource-id` };
      }
    }
  }
  return decideObjectsChange(principal, maintainer, changed, (ids) => registry.store.getByUuids(ids));
}

/** The documents an update concerns: its new versions and the registered DocumentEntries they supersede. */
function documentsOf(submission: Submission | undefined, changed: readonly RegistryObject[]): DocumentRef[] {
  const out = new Map<string, DocumentRef>();
  for (const d of [...(submission?.documentEntries ?? []), ...changed]) {
    if (d.type !== 'DocumentEntry' || d.uniqueId === undefined) continue;
    out.set(d.uniqueId, d.repositoryUniqueId !== undefined ? { uniqueId: d.uniqueId, repositoryUniqueId: d.repositoryUniqueId } : { uniqueId: d.uniqueId });
  }
  return [...out.values()];
}

function updateEvent(ctx: TransactionContext, submission: Submission | undefined, changed: readonly RegistryObject[], status: ResponseStatus, errorText: string): AuditEvent {
  const base = ctx.auditBase(outcomeOf(status), submission?.submissionSet.patientId, errorText !== '' ? errorText : undefined);
  return transactionEvent({
    transaction: 'ITI-92',
    ...base,
    submissionSetUniqueId: submission?.submissionSet.uniqueId ?? '',
    documents: documentsOf(submission, changed),
  });
}
