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
import { error, type RegistryErrorInfo, type ResponseStatus } from '../../registry/model/errors.js';
import { bareOid, parseHd } from '../../registry/model/hl7.js';
import type { DocumentEntry } from '../../registry/model/metadata.js';
import { isValidNorwegianId } from '../../registry/patients.js';
import type { DocumentRepository, RemoveOutcome } from '../../repository/repository.js';
import { auditEvents, denialEvent, type AuditEvent, type DocumentRef } from '../audit/event.js';
import type { DocumentRequest } from '../gateway/types.js';
import { ACTIONS } from '../soap/actions.js';
import type { SoapHandler, SoapRequest } from '../soap/endpoint.js';
import type { TrustPolicyConfig } from '../trust/config.js';
import { CODE_SYSTEMS, denialError, samePatient, type Denial } from '../trust/policy.js';
import type { Principal } from '../trust/principal.js';
import { outcomeOf, withContext, type TransactionContext, type TransactionServices } from './context.js';
import { parseRemoveDocumentsRequest, removeDocumentsResponse } from './remove-wire.js';

/** organisasjonsnummer (org.nr): the identifier system of Norwegian legal entities. */
export const ORGANIZATION_NUMBER_OID = '2.16.578.1.12.4.1.4.101';

const CITIZEN_PURPOSES: ReadonlySet<string> = new Set(['PATRQT', 'FAMRQT', 'PWATRNY']);

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

export type RemovalDecision = { readonly permit: true; readonly rule: string } | Denial;

/** What a principal may remove whatever the documents: nothing, everything (an administrator), or what its organisation authored. */
export type PrincipalDecision = Denial | { readonly permit: true; readonly administrator?: string };

const deny = (rule: string, reason: string): Denial => ({ permit: false, rule, reason });

/** The org.nr an identifier of the assertion names: an org.nr root, or no root (older tokens). */
function organisationNumber(id: { readonly extension: string; readonly root?: string } | undefined): string | undefined {
  if (id === undefined || id.extension.trim() === '') return undefined;
  return id.root === undefined || bareOid(id.root) === ORGANIZATION_NUMBER_OID ? id.extension.trim() : undefined;
}

/** The org.nr of the principal's organisation and of its point of care (both belong to it). */
export function principalOrganisations(principal: Principal): Set<string> {
  const out = new Set<string>();
  for (const id of [principal.organizationId, principal.childOrganizationId]) {
    const n = organisationNumber(id);
    if (n !== undefined) out.add(n);
  }
  return out;
}

/**
 * The org.nr an authorInstitution (XON) names: component 10 under the org.nr assigning authority
 * (component 6), as Norwegian metadata writes it (`Name^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^<org.nr>`),
 * or an OID under the org.nr arc in component 10 without an assigning authority (ITI TF-3
 * 4.2.3.1.7: an organisation identifier that is an OID stands alone).
 */
export function xonOrganisationNumber(xon: string): string | undefined {
  const c = xon.split('^');
  const id = (c[9] ?? '').trim();
  if (id === '') return undefined;
  const authority = parseHd(c[5] ?? '').universalId.trim();
  if (authority !== '') return bareOid(authority) === ORGANIZATION_NUMBER_OID ? id : undefined;
  const oid = bareOid(id);
  return oid.startsWith(`${ORGANIZATION_NUMBER_OID}.`) ? oid.slice(ORGANIZATION_NUMBER_OID.length + 1) : undefined;
}

/** The org.nr of every authorInstitution of a DocumentEntry. */
export function authorOrganisations(entry: Pick<DocumentEntry, 'authors'>): Set<string> {
  const out = new Set<string>();
  for (const author of entry.authors) {
    for (const xon of author.institutions) {
      const n = xonOrganisationNumber(xon);
      if (n !== undefined) out.add(n);
    }
  }
  return out;
}

/** The checks that do not depend on the document, and whether the principal administers documents. */
export function decideRemover(principal: Principal, options: TrustPolicyConfig): PrincipalDecision {
  if (principal.subjectId.trim() === '') return deny('missing-attribute', 'the assertion names no subject');
  const synthetic = { synthetic: options.acceptSyntheticIds };
  if (!isValidNorwegianId(principal.subjectId, 'F', synthetic) && !isValidNorwegianId(principal.subjectId, 'D', synthetic)) {
    return deny('ATT-10', 'the user id is not a valid fødselsnummer or D-number');
  }
  if (!principal.securityLevel || !options.securityLevels.includes(principal.securityLevel)) {
    return deny('security-level', `security level ${principal.securityLevel ?? '(none)'} is not accepted`);
  }
  if (!principal.purposeOfUse) return deny('purpose-of-use', `unknown purpose of use ${principal.purposeOfUseCode?.code ?? '(none)'}`);
  if (CITIZEN_PURPOSES.has(principal.purposeOfUse)) return deny('citizen', 'citizens may not remove documents');

  const admin = options.documentAdministration;
  const organisation = organisationNumber(principal.organizationId);
  if (organisation !== undefined && admin.organizations.includes(organisation)) return { permit: true, administrator: 'document-administration-organization' };
  const role = principal.role;
  if (role !== undefined && role.codeSystem !== undefined && bareOid(role.codeSystem) === CODE_SYSTEMS.role && admin.roles.includes(role.code)) {
    return { permit: true, administrator: 'document-administration-role' };
  }
  if (principalOrganisations(principal).size === 0) return deny('missing-attribute', 'the assertion names no organisation number (organization-id)');
  return { permit: true };
}

/** Whether a principal that passed `decideRemover` may remove this document (`entry`: its registry entry, if any). */
export function decideRemoval(principal: Principal, remover: Exclude<PrincipalDecision, Denial>, documentUniqueId: string, entry: DocumentEntry | undefined): RemovalDecision {
  // ATT-4: an assertion about one patient does not reach another patient's records.
  if (principal.patientId !== undefined && entry?.patientId !== undefined && !samePatient(principal.patientId, entry.patientId)) {
    return deny('ATT-4', `document ${documentUniqueId} belongs to another patient than the assertion’s resource-id`);
  }
  if (remover.administrator !== undefined) return { permit: true, rule: remover.administrator };
  if (entry === undefined) {
    return deny('document-administration', `document ${documentUniqueId} has no registry entry naming its author; only a document administrator may remove it`);
  }
  const ours = principalOrganisations(principal);
  for (const n of authorOrganisations(entry)) if (ours.has(n)) return { permit: true, rule: 'author-organization' };
  return deny('document-administration', `document ${documentUniqueId} was not authored by the user’s organisation`);
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

function statusOf(removed: number, errors: readonly RegistryErrorInfo[]): ResponseStatus {
  if (removed === 0) return 'Failure';
  return errors.some((e) => e.severity === 'Error') ? 'PartialSuccess' : 'Success';
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
  return { status: statusOf(done.removed.length, errors), removed: done.removed, errors, refused };
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
        event: JSON.stringify(event),
      });
    }
  }
}
