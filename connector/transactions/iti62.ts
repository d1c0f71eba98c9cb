/**
 * ITI-62 Delete Document Set: lcm:RemoveObjectsRequest in, rs:RegistryResponse out. Wire ⇄
 * model here; the rules and the removal are the registry actor's (registry/delete.ts), on the
 * same write path as a registration.
 *
 * Trust: with the trust model on the registry endpoint, the Principal passes the checks every
 * removal passes (iti86.ts `decideRemover`: subject, ATT-10, security level, a known purpose of use
 * that is not a citizen's). A document administrator (`trust.policy.documentAdministration`) may
 * then remove anything; anyone else only what its organisation authored: every DocumentEntry and
 * SubmissionSet named must name the user's org.nr among its authorInstitutions and belong to the
 * assertion's patient (ATT-4), an Association must hang on such an object, and Folders (shared by
 * whoever files into them) are an administrator's. A refusal removes nothing, is answered with the
 * trust model's XDSRegistryError and audited as a denial.
 *
 * Audit as for a submission: the success event names the removed objects and their patient, is
 * prepared before the removal and written in its commit (so a removal is never without its
 * event), and a stored removal is answered Success even if recording the event afterwards fails.
 */
import { parseRemoveObjectsRequest, registryResponse } from '../../registry/ebxml/index.js';
import type { DeleteRequest } from '../../registry/model/delete.js';
import { isUuid, type RegistryObject } from '../../registry/model/metadata.js';
import type { ResponseStatus } from '../../registry/model/errors.js';
import { NS } from '../../registry/xml/namespaces.js';
import type { DocumentRegistry } from '../../registry/registry.js';
import type { SoapHandler } from '../soap/endpoint.js';
import { ACTIONS } from '../soap/actions.js';
import { denialEvent, transactionEvent, type AuditEvent } from '../audit/event.js';
import { decideObjectsChange, decideRemover } from '../trust/document-administration.js';
import { denialError, type Denial } from '../trust/policy.js';
import { expectBody, failureOnRegistryError } from './common.js';
import { outcomeOf, withContext, type TransactionContext, type TransactionServices } from './context.js';
import { auditWrite, prepareWriteAudit, type PreparedWriteAudit } from './serve.js';

export function iti62(registry: DocumentRegistry, services: TransactionServices): SoapHandler {
  return withContext(services, 'registry', 'ITI-62', async (req, ctx) => {
    expectBody(req.body, NS.lcm, 'RemoveObjectsRequest');
    let request: DeleteRequest | undefined;
    let patientId: string | undefined;
    let prepared: PreparedWriteAudit | undefined;
    let refused: Denial | undefined;
    const outcome = await failureOnRegistryError(async () => {
      request = parseRemoveObjectsRequest(req.body);
      // The patient the event names: read here for the audit only; the removal decides on its own reads.
      const named = await registry.store.getByUuids(request.objectRefs.filter(isUuid));
      patientId = patientOf(named);
      const denial = await decideDeletion(ctx, registry, named);
      if (denial !== undefined) {
        refused = denial;
        return { status: 'Failure' as const, errors: [denialError(denial, ctx.services.homeCommunityId)] };
      }
      prepared = prepareWriteAudit(deletionEvent(ctx, request, patientId, 'Success', ''));
      return registry.delete(request, [prepared.commitRecord]);
    }, (errors) => ({ status: 'Failure' as const, errors: [...errors] }));
    if (refused !== undefined) {
      const reason = `${refused.rule}: ${refused.reason}`;
      await ctx.record(denialEvent({ transaction: 'ITI-62', ...ctx.auditBase('serious-failure', patientId), objectUuids: request?.objectRefs ?? [], reason }));
      req.logger.warn('ITI-62 refused by the trust policy', { rule: refused.rule });
    } else {
      await auditWrite(ctx, outcome, prepared, (status, errorText) => deletionEvent(ctx, request, patientId, status, errorText), req.logger);
    }
    req.logger.info('ITI-62 delete', { objects: request?.objectRefs.length ?? 0, status: outcome.status, errors: outcome.errors.map((e) => e.code) });
    return { action: ACTIONS.iti62.response, body: registryResponse(outcome.status, outcome.errors) };
  });
}

/** Why the principal may not remove these objects, or undefined when it may (always, without trust). */
async function decideDeletion(ctx: TransactionContext, registry: DocumentRegistry, named: readonly RegistryObject[]): Promise<Denial | undefined> {
  const principal = ctx.principal;
  const trust = ctx.services.trust;
  if (principal === undefined || trust === undefined) return undefined;
  const maintainer = decideRemover(principal, trust.policy);
  if (!maintainer.permit) return maintainer;
  return decideObjectsChange(principal, maintainer, named, (ids) => registry.store.getByUuids(ids));
}

/** The patient of the removed objects (associations carry none); the first one found. */
function patientOf(objects: readonly RegistryObject[]): string | undefined {
  for (const o of objects) if (o.type !== 'Association' && o.patientId !== undefined) return o.patientId;
  return undefined;
}

function deletionEvent(
  ctx: TransactionContext,
  request: DeleteRequest | undefined,
  patientId: string | undefined,
  status: ResponseStatus,
  errorText: string,
): AuditEvent {
  const base = ctx.auditBase(outcomeOf(status), patientId, errorText !== '' ? errorText : undefined);
  return transactionEvent({ transaction: 'ITI-62', ...base, objectUuids: request?.objectRefs ?? [] });
}
