/**
 * ITI-51 Multi-Patient Stored Query at the registry endpoint (ITI TF-2b 3.51):
 * query:AdhocQueryRequest in, query:AdhocQueryResponse out. Offered only when
 * `registry.multiPatientQuery.enabled` (registry.ts); otherwise the action is not served at all.
 *
 * The registry runs it on the ITI-18 code path (registry/query), told by the request that it is
 * ITI-51, so that FindDocumentsForMultiplePatients and FindFoldersForMultiplePatients are accepted
 * here and nowhere else, and every single-patient query is refused here as unknown.
 *
 * Trust (docs/norway.md). An assertion is bound to one patient (ATT-4), which a query over many
 * patients cannot honour, so the single-patient decision of serveQuery does not fit. Instead:
 * - Request: every rule of the single-patient decision about the requester (subject, organisation,
 *   resource-id present, purpose of use, ATT-10, security level, role) applies as for ITI-18,
 *   checked against the assertion's own patient; citizens are refused; and the principal's
 *   organisation (org.nr) or Volven 9060 role must be listed in
 *   `registry.multiPatientQuery.allowed`. A refusal is answered as an ITI-18 denial is (Failure,
 *   XDSRegistryError at our homeCommunityId) and audited as a denial.
 * - Result, patient by patient: the entries of a patient who has blocked this principal (ATT-5)
 *   are withheld, and every other entry is filtered as the single-patient answer for its own
 *   patient would be (filterQueryResult: NORS entries become masked stubs). Break-glass purposes
 *   (ETREAT, BTG) do not unmask NORS here: an emergency concerns one patient, not a list.
 * Without trust for the registry endpoint there is no principal and the answer passes unchanged,
 * as everywhere else on such a node.
 *
 * Audit. One ITI-51 Query event per patient the query names or the answer holds, each with the
 * query: the event model carries one patient, and one event per patient is what puts the query in
 * each patient's access log. A patient who has blocked the principal gets a denial instead. A
 * query that names no patient and finds nothing is one event without a patient. All are recorded
 * before the answer is sent; when they cannot be, the answer is refused (no access without audit).
 */
import { adhocQueryResponse, parseAdhocQueryRequest } from '../../registry/ebxml/index.js';
import { error } from '../../registry/model/errors.js';
import type { RegistryObject } from '../../registry/model/metadata.js';
import { failedQueryResult, type StoredQueryRequest, type StoredQueryResult } from '../../registry/model/query.js';
import type { DocumentRegistry } from '../../registry/registry.js';
import { NS } from '../../registry/xml/namespaces.js';
import { serializeXml } from '../../registry/xml/serialize.js';
import { auditEvents, denialEvent, type AuditEvent, type QueryRef } from '../audit/event.js';
import type { MultiPatientQueryConfig } from '../config.js';
import { ACTIONS } from '../soap/actions.js';
import type { SoapHandler, SoapRequest } from '../soap/endpoint.js';
import { patientKey, type PatientBlockStore } from '../trust/blocks.js';
import { CODE_SYSTEMS, decideRequest, denialError, filterQueryResult, type Denial, type Permit, type PolicyOptions } from '../trust/policy.js';
import type { Principal } from '../trust/principal.js';
import { expectBody, failureOnRegistryError } from './common.js';
import { outcomeOf, withContext, type TransactionContext, type TransactionServices } from './context.js';
import { queriedPatients } from './policy.js';

/** The root of an organisation number (Enhetsregisteret) in an assertion's organization-id. */
const ORGANISATION_NUMBER_OID = '2.16.578.1.12.4.1.4.101';

/** The rule name this transaction's own refusals are audited under. */
export const MULTI_PATIENT_RULE = 'multi-patient-query';

const ATT5_REASON = 'ATT-5: the patient has blocked access for this user or organisation';

const deny = (reason: string): Denial => ({ permit: false, rule: MULTI_PATIENT_RULE, reason });

/** Listed by organisation number (org.nr root, or no root) or by a Volven 9060 role code. */
function isAllowed(principal: Principal, allowed: MultiPatientQueryConfig['allowed']): boolean {
  const org = principal.organizationId;
  const byOrganisation =
    org !== undefined && (org.root === undefined || org.root === ORGANISATION_NUMBER_OID) && allowed.organizations.includes(org.extension.trim());
  const role = principal.role;
  const byRole = role !== undefined && role.codeSystem === CODE_SYSTEMS.role && allowed.roles.includes(role.code);
  return byOrganisation || byRole;
}

/**
 * The request decision of ITI-51 for a verified principal (see the module comment). The permit it
 * returns is bound to the assertion's patient; the result filter rebinds it to each entry's own.
 */
export function decideMultiPatientQuery(principal: Principal, policy: PolicyOptions, allowed: MultiPatientQueryConfig['allowed']): Permit | Denial {
  const base = decideRequest(principal, principal.patientId, policy);
  if (!base.permit) return base;
  if (base.kind === 'citizen') return deny('citizens may not run the multi-patient query');
  if (!isAllowed(principal, allowed)) {
    return deny('neither the organisation nor the role of the user is allowed the multi-patient query');
  }
  return { ...base, breakGlass: false, rule: MULTI_PATIENT_RULE };
}

/** What the policy made of the registry's answer. */
interface Filtered {
  readonly objects: readonly RegistryObject[];
  readonly masked: number;
  readonly withheld: number;
}

/**
 * Each entry decided for its own patient: withheld when that patient has blocked the principal
 * (`blocked`, by patientKey) or when it names no patient at all, otherwise as filterQueryResult
 * decides it for that patient. Associations stay only when both their ends do.
 */
function filterPerPatient(permit: Permit, objects: readonly RegistryObject[], blocked: ReadonlySet<string>): Filtered {
  const decided = new Map<string, RegistryObject | undefined>();
  let masked = 0;
  let withheld = 0;
  for (const o of objects) {
    if (o.type === 'Association') continue;
    if (o.patientId === undefined || blocked.has(patientKey(o.patientId))) {
      decided.set(o.entryUuid, undefined);
      withheld++;
      continue;
    }
    const f = filterQueryResult({ ...permit, patientId: o.patientId }, [o]);
    // A Denial cannot come back for an entry judged by its own patient; were it to, nothing leaves.
    const kept = 'permit' in f ? undefined : f.objects[0];
    decided.set(o.entryUuid, kept);
    if ('permit' in f || kept === undefined) withheld++;
    else masked += f.masked.length;
  }
  const out: RegistryObject[] = [];
  for (const o of objects) {
    if (o.type === 'Association') {
      if (decided.get(o.sourceUuid) !== undefined && decided.get(o.targetUuid) !== undefined) out.push(o);
      continue;
    }
    const kept = decided.get(o.entryUuid);
    if (kept !== undefined) out.push(kept);
  }
  return { objects: out, masked, withheld };
}

/** Patients by patientKey (so that `urn:oid:` spellings meet), each as first written; query order first. */
function patientsOf(named: readonly string[], objects: readonly RegistryObject[]): Map<string, string> {
  const out = new Map<string, string>();
  const add = (cx: string): void => {
    const key = patientKey(cx);
    if (!out.has(key)) out.set(key, cx);
  };
  for (const p of named) add(p);
  for (const o of objects) if (o.type !== 'Association' && o.patientId !== undefined) add(o.patientId);
  return out;
}

/** One served ITI-51: the answer and the events that must be on record before it is sent. */
interface Served {
  readonly result: StoredQueryResult;
  readonly events: AuditEvent[];
}

async function serve(req: SoapRequest, ctx: TransactionContext, registry: DocumentRegistry, settings: MultiPatientQueryConfig): Promise<Served> {
  expectBody(req.body, NS.query, 'AdhocQueryRequest');
  let request: StoredQueryRequest | undefined;
  const events: AuditEvent[] = [];
  // The query as received (our serialisation of it: the audit needs its content, not its layout),
  // made once for all the events of the request.
  let queryRef: QueryRef | undefined;
  const query = (): QueryRef =>
    (queryRef ??= {
      storedQueryId: request?.queryId ?? '',
      text: serializeXml(req.body),
      ...(request?.homeCommunityId !== undefined ? { homeCommunityId: request.homeCommunityId } : {}),
    });
  const result = await failureOnRegistryError(
    async () => {
      request = { ...parseAdhocQueryRequest(req.body), transaction: 'ITI-51' };
      const named = queriedPatients(request);
      const principal = ctx.principal;
      const trust = ctx.services.trust;
      // Both or neither: a principal exists only where trust verified one.
      let policy: { readonly permit: Permit; readonly principal: Principal; readonly blocks: PatientBlockStore } | undefined;
      if (principal !== undefined && trust !== undefined) {
        const decision = decideMultiPatientQuery(principal, trust.policy, settings.allowed);
        if (!decision.permit) {
          const reason = `${decision.rule}: ${decision.reason}`;
          const patients = [...patientsOf(named, []).values()];
          for (const patient of patients.length > 0 ? patients : [undefined]) {
            events.push(denialEvent({ transaction: 'ITI-51', ...ctx.auditBase('serious-failure', patient), query: query(), reason }));
          }
          req.logger.warn('ITI-51 denied by the trust policy', { reason });
          return failedQueryResult(request, [denialError(decision, ctx.services.homeCommunityId)]);
        }
        policy = { permit: decision, principal, blocks: trust.blocks };
      }

      const answer = await registry.query(request);
      const patients = patientsOf(named, answer.objects);
      const blocked = new Set<string>();
      if (policy !== undefined) {
        for (const [key, cx] of patients) if (await policy.blocks.isBlocked(policy.principal, cx)) blocked.add(key);
      }
      const filtered = policy !== undefined ? filterPerPatient(policy.permit, answer.objects, blocked) : { objects: answer.objects, masked: 0, withheld: 0 };
      const out: StoredQueryResult = filtered.objects === answer.objects ? answer : { ...answer, objects: filtered.objects };

      const errorText = out.errors.map((e) => e.code).join(' ');
      const notes = [
        filtered.masked > 0 ? `${filtered.masked} NORS entries masked` : '',
        filtered.withheld > 0 ? `${filtered.withheld} entries withheld` : '',
      ].filter((n) => n !== '');
      const description = notes.length > 0 ? notes.join('; ') : errorText !== '' ? errorText : undefined;
      const audited: [string, string | undefined][] = patients.size > 0 ? [...patients] : [['', undefined]];
      for (const [key, cx] of audited) {
        if (blocked.has(key)) {
          events.push(denialEvent({ transaction: 'ITI-51', ...ctx.auditBase('serious-failure', cx), query: query(), reason: ATT5_REASON }));
        } else {
          // The query added to the fresh base input rather than both spread into a new one (one per patient).
          events.push(auditEvents.iti51(Object.assign(ctx.auditBase(outcomeOf(out.status), cx, description), { query: query() })));
        }
      }
      return out;
    },
    (errors) => {
      // Unreadable: on record once, with no patient to file it under.
      events.push(auditEvents.iti51(Object.assign(ctx.auditBase('serious-failure', undefined, errors.map((e) => e.code).join(' ')), { query: query() })));
      return failedQueryResult(request, errors);
    },
  );
  return { result, events };
}

export function iti51(registry: DocumentRegistry, services: TransactionServices, settings: MultiPatientQueryConfig): SoapHandler {
  return withContext(services, 'registry', 'ITI-51', async (req, ctx) => {
    const served = await serve(req, ctx, registry, settings);
    let result = served.result;
    try {
      await Promise.all(served.events.map((e) => ctx.record(e)));
    } catch (e) {
      req.logger.error('AUDIT TRAIL UNAVAILABLE: ITI-51 refused, its access could not be recorded (no access without audit)', {
        error: e instanceof Error ? e.message : String(e),
      });
      result = failedQueryResult(result, [
        error('XDSRegistryError', 'the access could not be recorded in the audit trail, so it is refused (no access without audit); try again later'),
      ]);
    }
    req.logger.info('ITI-51 multi-patient stored query', {
      status: result.status,
      returned: result.objects.length,
      events: served.events.length,
      errors: result.errors.map((e) => e.code),
    });
    return { action: ACTIONS.iti51.response, body: adhocQueryResponse(result) };
  });
}
