/**
 * ITI-86 Remove Documents at the repository endpoint (IHE Remove Metadata and Documents):
 * rmd:RemoveDocumentsRequest in, rs:RegistryResponse out (wire format: remove-wire.ts). The
 * repository deletes its copy of each document (DocumentRepository.remove); the registry's
 * metadata is ITI-62's business and is not touched.
 *
 * A delete is neither a query nor a retrieve, so it has its own decision here (docs/architecture.md,
 * "How trust is chosen"). With the trust model on the endpoint, the Principal may remove a document
 * when
 *   - it passes the checks every request passes (subject, ATT-10, security level, a known purpose
 *     of use that is not a citizen's: citizens do not administer documents), and
 *   - if the assertion names a patient, the document is that patient's (ATT-4), and
 *   - its organisation is a configured document administrator, or its Volven 9060 role is a
 *     configured administrative role (`trust.policy.documentAdministration`), or its organisation
 *     (organization-id, or its point of care, child-organization) authored the document: an org.nr
 *     among the DocumentEntry's authorInstitution values. Authorship can be told only while the
 *     registry still holds the entry; once ITI-62 removed it, only an administrator may remove
 *     the document.
 * A refused document is not removed: it gets an XDSRegistryError "access denied: …" located at our
 * homeCommunityId (as every refusal of the trust model, connector/trust/policy.ts `denialError`)
 * and is audited as a denial. A document of another repository is passed to the repository, which
 * answers XDSUnknownRepositoryId. Without trust on the endpoint, every removal is allowed, as the
 * rest of the node behaves.
 *
 * Audit: one event per patient for the removed documents (Patient Record, action D), one per
 * patient for those the repository could not remove (with their error codes), and refusals as
 * denials; all recorded before the answer is sent. A removal cannot be undone, so when its event
 * cannot be recorded the answer still tells what happened and the event is logged whole at error
 * level (as a stored submission's, serve.ts `auditSubmission`).
 */
import { error, responseStatus } from '../../registry/model/errors.js';
import type { DocumentEntry } from '../../registry/model/metadata.js';
import type { DocumentRepository, RemoveOutcome } from '../../repository/repository.js';
import { auditEvents, denialEvent, eventJson, type AuditEvent, type DocumentRef } from '../audit/event.js';
import type { DocumentRequest } from '../gateway/types.js';
import { ACTIONS } from '../soap/actions.js';
import type { SoapHandler, SoapRequest } from '../soap/endpoint.js';
import { denialError, type Denial } from '../trust/policy.js';
import { decideRemoval, decideRemover } from '../trust/document-administration.js';
import { outcomeOf, withContext, type TransactionContext, type TransactionServices } from './context.js';
import { parseRemoveDocumentsRequest, removeDocumentsResponse } from './remove-wire.js';

export function iti86(repository: DocumentRepository, services: TransactionServices): SoapHandler {
  return withContext(services, 'repository', 'ITI-86', async (req, ctx) => {
    const requests = parseRemoveDocumentsRequest(req.body);
    const outcome = await serveRemove(req, ctx, repository, requests);
    req.logger.info('ITI-86 remove documents', {
      status: outcome.status,
      requested: requests.length,
      removed: outcome.removed.length,
      errors: outcome.errors.map((e) => e.code),
    });
    return { action: ACTIONS.iti86.response, body: removeDocumentsResponse(outcome) };
  });
}

interface Refused {
  readonly request: DocumentRequest;
  readonly denial: Denial;
}

export interface RemoveUnderPolicy extends RemoveOutcome {
  /** The whole request was refused (nothing was asked of the repository). */
  readonly denial?: Denial;
  /** Documents the policy kept from removal. */
  readonly refused: readonly Refused[];
}

/** The registry entry a document is decided and audited by: this repository's, Approved before others. */
function entryFinder(entries: readonly DocumentEntry[], repositoryUniqueId: string): (uniqueId: string) => DocumentEntry | undefined {
  const byId = new Map<string, DocumentEntry[]>();
  for (const e of entries) {
    if (e.uniqueId === undefined || (e.repositoryUniqueId !== undefined && e.repositoryUniqueId !== repositoryUniqueId)) continue;
    const list = byId.get(e.uniqueId);
    if (list) list.push(e);
    else byId.set(e.uniqueId, [e]);
  }
  return (uniqueId) => {
    const mine = byId.get(uniqueId);
    return mine?.find((e) => e.availabilityStatus === 'Approved') ?? mine?.[0];
  };
}

const refOf = (d: DocumentRequest): DocumentRef => ({
  uniqueId: d.documentUniqueId,
  repositoryUniqueId: d.repositoryUniqueId,
  ...(d.homeCommunityId !== undefined ? { homeCommunityId: d.homeCommunityId } : {}),
});

/** Decides, removes and audits; returns what to answer. */
async function serveRemove(req: SoapRequest, ctx: TransactionContext, repository: DocumentRepository, requests: readonly DocumentRequest[]): Promise<RemoveUnderPolicy> {
  const repositoryUniqueId = repository.repositoryUniqueId;
  const ours = [...new Set(requests.filter((r) => r.repositoryUniqueId === repositoryUniqueId && r.documentUniqueId !== '').map((r) => r.documentUniqueId))];
  let entries: DocumentEntry[] = [];
  if (ours.length > 0) {
    try {
      entries = await ctx.services.documentEntries(ours);
    } catch (e) {
      // Without the entries, authorship cannot be told (only administrators remove) and the audit names no patient.
      req.logger.warn('ITI-86: the registry could not be asked for the entries of the documents to remove', { error: e instanceof Error ? e.message : String(e) });
    }
  }
  const entryOf = entryFinder(entries, repositoryUniqueId);
  const outcome = await removeUnderPolicy(ctx, repository, requests, entryOf);
  await auditRemove(req, ctx, requests, outcome, entryOf);
  return outcome;
}

async function removeUnderPolicy(
  ctx: TransactionContext,
  repository: DocumentRepository,
  requests: readonly DocumentRequest[],
  entryOf: (uniqueId: string) => DocumentEntry | undefined,
): Promise<RemoveUnderPolicy> {
  const principal = ctx.principal;
  const trust = ctx.services.trust;
  if (!principal || !trust || requests.length === 0) return { ...(await repository.remove(requests)), refused: [] };

  const home = ctx.services.homeCommunityId;
  const remover = decideRemover(principal, trust.policy);
  if (!remover.permit) return { status: 'Failure', removed: [], errors: [denialError(remover, home)], denial: remover, refused: [] };

  const accepted: DocumentRequest[] = [];
  const refused: Refused[] = [];
  const refusedIds = new Set<string>();
  for (const r of requests) {
    // Another repository's document: the repository answers it (XDSUnknownRepositoryId); nothing is removed.
    if (r.repositoryUniqueId !== repository.repositoryUniqueId || r.documentUniqueId === '') {
      accepted.push(r);
      continue;
    }
    // A document named twice is refused once.
    if (refusedIds.has(r.documentUniqueId)) continue;
    const decision = decideRemoval(principal, remover, r.documentUniqueId, entryOf(r.documentUniqueId));
    if (decision.permit) {
      accepted.push(r);
      continue;
    }
    refused.push({ request: r, denial: decision });
    refusedIds.add(r.documentUniqueId);
  }
  const done: RemoveOutcome = accepted.length > 0 ? await repository.remove(accepted) : { status: 'Failure', removed: [], errors: [] };
  if (refused.length === 0) return { ...done, refused };
  const errors = [...done.errors, ...refused.map((r) => error('XDSRegistryError', `access denied: ${r.denial.reason}`, home))];
  // `errors` holds an Error for each refusal, so nothing removed is Failure, as before.
  return { status: responseStatus(errors, done.removed.length > 0), removed: done.removed, errors, refused };
}

/** Groups requests by the patient of their document (the assertion's patient when the registry does not know it). */
function byPatient(items: readonly DocumentRequest[], patientOf: (r: DocumentRequest) => string | undefined): Map<string | undefined, DocumentRequest[]> {
  const groups = new Map<string | undefined, DocumentRequest[]>();
  for (const r of items) {
    const key = patientOf(r);
    const list = groups.get(key);
    if (list) list.push(r);
    else groups.set(key, [r]);
  }
  return groups;
}

async function auditRemove(
  req: SoapRequest,
  ctx: TransactionContext,
  requests: readonly DocumentRequest[],
  outcome: RemoveUnderPolicy,
  entryOf: (uniqueId: string) => DocumentEntry | undefined,
): Promise<void> {
  const assertionPatient = ctx.principal?.patientId;
  const patientOf = (r: DocumentRequest): string | undefined => entryOf(r.documentUniqueId)?.patientId ?? assertionPatient;
  const events: AuditEvent[] = [];
  if (outcome.denial) {
    const reason = `${outcome.denial.rule}: ${outcome.denial.reason}`;
    events.push(denialEvent({ transaction: 'ITI-86', ...ctx.auditBase('serious-failure', assertionPatient), documents: requests.map(refOf), reason }));
    req.logger.warn('ITI-86 denied by the trust policy', { reason });
  } else {
    const keyOfRequest = (r: DocumentRequest): string => JSON.stringify([r.repositoryUniqueId, r.documentUniqueId]);
    const removed = new Set(outcome.removed.map(keyOfRequest));
    const refused = new Set(outcome.refused.map((r) => r.request));
    // Each document once, as the repository treats a document named twice.
    const seen = new Set<string>();
    const failed = requests.filter((r) => {
      const key = keyOfRequest(r);
      if (refused.has(r) || removed.has(key) || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    for (const [patient, docs] of byPatient(outcome.removed, patientOf)) {
      events.push(auditEvents.iti86(Object.assign(ctx.auditBase('success', patient), { documents: docs.map(refOf) })));
    }
    if (failed.length > 0) {
      const errorText = outcome.errors.filter((e) => !e.message.startsWith('access denied:')).map((e) => e.code).join(' ') || undefined;
      for (const [patient, docs] of byPatient(failed, patientOf)) {
        const failure = outcomeOf(outcome.removed.length > 0 ? 'PartialSuccess' : 'Failure');
        events.push(auditEvents.iti86(Object.assign(ctx.auditBase(failure, patient, errorText), { documents: docs.map(refOf) })));
      }
    }
    for (const [patient, docs] of byPatient(
      outcome.refused.map((r) => r.request),
      patientOf,
    )) {
      const reason = outcome.refused
        .filter((r) => docs.includes(r.request))
        .map((r) => `${r.denial.rule}: ${r.denial.reason}`)
        .join('; ');
      events.push(denialEvent({ transaction: 'ITI-86', ...ctx.auditBase('serious-failure', patient), documents: docs.map(refOf), reason }));
    }
    if (outcome.refused.length > 0) req.logger.warn('ITI-86 documents refused by the trust policy', { refused: outcome.refused.length });
  }
  for (const event of events) {
    try {
      await ctx.record(event);
    } catch (e) {
      // Removed is removed: the answer must say so. The log (often on another disk) keeps the event.
      req.logger.error(`AUDIT EVENT NOT RECORDED: ITI-86 answered ${outcome.status}, its audit event could not be written`, {
        error: e instanceof Error ? e.message : String(e),
        event: eventJson(event),
      });
    }
  }
}
