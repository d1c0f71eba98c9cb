/**
 * The Norwegian access policy (connector/trust/policy.ts) applied in ONE place for every
 * transaction that reads data: ITI-18 (registry and initiating gateway), ITI-38, ITI-39 and ITI-43
 * (repository and initiating gateway), and the MHD ones, ITI-66 / ITI-67 (a FHIR search run as
 * the stored query ITI-18 would carry) and ITI-68 (a retrieve of one document). Nothing here knows
 * the wire: the Principal comes from an XUA assertion or a HelseID access token alike.
 *
 * Order: the request decision (ATT-4 patient binding, ATT-10, roles, security level, purpose of
 * use, ATT-5 patient blocks) comes BEFORE the actor, so a refused request reads nothing; the
 * result filter (ATT-4 on every returned object, NORS masked stubs, citizen rules) and the retrieve
 * decision (NORS refused except under ETREAT/BTG) come AFTER the actor and before serialisation,
 * so nothing leaves the node unfiltered. Without a Principal (trust disabled for the endpoint)
 * the actor's answer passes unchanged.
 *
 * A whole-request denial is answered as NHN's reference source does: a normal response whose
 * status is Failure with one XDSRegistryError located at our homeCommunityId.
 */
import { error, responseStatus, type RegistryErrorInfo } from '../../registry/model/errors.js';
import type { DocumentEntry } from '../../registry/model/metadata.js';
import { failedQueryResult, type StoredQueryRequest, type StoredQueryResult } from '../../registry/model/query.js';
import { parseValue, ValueSyntaxError } from '../../registry/query/value-syntax.js';
import type { DocumentRequest, RetrievedDocument, RetrieveResult } from '../gateway/types.js';
import { sameOid } from '../gateway/oid.js';
import { decideRequest, decideRetrieve, denialError, filterQueryResult, samePatient, type Denial, type Permit } from '../trust/policy.js';
import type { TransactionContext } from './context.js';

/** Stored-query parameters that name the patient (every patient-bound query has exactly one of them). */
const PATIENT_PARAMETERS: ReadonlySet<string> = new Set([
  '$XDSDocumentEntryPatientId',
  '$XDSSubmissionSetPatientId',
  '$XDSFolderPatientId',
  '$patientId',
]);

/** The patient ids a stored query names (several for FindDocumentsForMultiplePatients). */
export function queriedPatients(request: StoredQueryRequest): string[] {
  const out: string[] = [];
  for (const p of request.parameters) {
    if (!PATIENT_PARAMETERS.has(p.name)) continue;
    for (const raw of p.values) {
      try {
        for (const s of parseValue(raw)) out.push(s.text);
      } catch (e) {
        // Bad syntax is the registry's error code to give (XDSRegistryError); the result filter
        // still holds every returned object to the assertion's patient.
        if (!(e instanceof ValueSyntaxError)) throw e;
      }
    }
  }
  return out;
}

const deny = (rule: string, reason: string): Denial => ({ permit: false, rule, reason });

/**
 * The request decision for a principal and the patients the request names (a retrieve names none:
 * it is bound to the assertion's patient, and each document is checked after the actor).
 */
async function decide(ctx: TransactionContext, patients: readonly string[]): Promise<Permit | Denial> {
  const principal = ctx.principal!;
  const trust = ctx.services.trust!;
  const decision = decideRequest(principal, patients[0] ?? principal.patientId, trust.policy);
  if (!decision.permit) return decision;
  if (patients.some((p) => !samePatient(p, decision.patientId))) {
    return deny('ATT-4', 'the request names another patient than the assertion’s resource-id');
  }
  if (await trust.blocks.isBlocked(principal, decision.patientId)) {
    return deny('ATT-5', 'the patient has blocked access for this user or organisation');
  }
  return decision;
}

export interface QueryUnderPolicy {
  readonly result: StoredQueryResult;
  /** The whole request was refused (audited as a denial). */
  readonly denial?: Denial;
  /** The patient the query was about, for the audit record. */
  readonly patientId?: string;
  readonly masked: readonly string[];
  readonly withheld: readonly string[];
  /** ETREAT / BTG: NORS entries were shown unmasked. */
  readonly breakGlass: boolean;
}

function deniedQuery(ctx: TransactionContext, request: StoredQueryRequest, denial: Denial): StoredQueryResult {
  return failedQueryResult(request, [denialError(denial, ctx.services.homeCommunityId)]);
}

/** Runs a stored query under the policy: decide, run the actor, filter and mask. */
export async function queryUnderPolicy(
  ctx: TransactionContext,
  request: StoredQueryRequest,
  run: (request: StoredQueryRequest) => Promise<StoredQueryResult>,
): Promise<QueryUnderPolicy> {
  const patients = queriedPatients(request);
  if (!ctx.principal) {
    const result = await run(request);
    return { result, ...(patients[0] !== undefined ? { patientId: patients[0] } : {}), masked: [], withheld: [], breakGlass: false };
  }
  const decision = await decide(ctx, patients);
  const patientId = patients[0] ?? ctx.principal.patientId;
  const about = patientId !== undefined ? { patientId } : {};
  if (!decision.permit) return { result: deniedQuery(ctx, request, decision), denial: decision, ...about, masked: [], withheld: [], breakGlass: false };
  const result = await run(request);
  const filtered = filterQueryResult(decision, result.objects);
  if ('permit' in filtered) {
    return { result: deniedQuery(ctx, request, filtered), denial: filtered, ...about, masked: [], withheld: [], breakGlass: false };
  }
  return {
    result: { ...result, objects: filtered.objects },
    ...about,
    masked: filtered.masked,
    withheld: filtered.withheld,
    breakGlass: decision.breakGlass,
  };
}

export interface RefusedDocument {
  readonly request: DocumentRequest;
  readonly denial: Denial;
  readonly patientId?: string;
}

export interface RetrieveUnderPolicy {
  readonly result: RetrieveResult;
  readonly denial?: Denial;
  /** Documents the policy kept back (NORS, another patient …), each audited as a denial. */
  readonly refused: readonly RefusedDocument[];
  /** Patient of each delivered document, where the registry knows it. */
  readonly patientOf: ReadonlyMap<string, string>;
  readonly breakGlass: boolean;
}

/** Documents whose registry entry lives here: ours by home, or returned without one (a plain repository). */
function isLocal(ctx: TransactionContext, home: string | undefined): boolean {
  const ours = ctx.services.homeCommunityId;
  return home === undefined || ours === undefined || sameOid(home, ours);
}

/**
 * Runs a retrieve under the policy. Each delivered local document is checked against its registry
 * entry (patient binding, NORS, citizen rules); documents from other communities were checked by
 * the community that holds them (each source applies its own trust model, docs/norway.md).
 */
export async function retrieveUnderPolicy(
  ctx: TransactionContext,
  requests: readonly DocumentRequest[],
  run: (requests: readonly DocumentRequest[]) => Promise<RetrieveResult>,
): Promise<RetrieveUnderPolicy> {
  let permit: Permit | undefined;
  if (ctx.principal) {
    const decision = await decide(ctx, []);
    if (!decision.permit) {
      return {
        result: { status: 'Failure', errors: [denialError(decision, ctx.services.homeCommunityId)], documents: [] },
        denial: decision,
        refused: [],
        patientOf: new Map(),
        breakGlass: false,
      };
    }
    permit = decision;
  }
  const result = await run(requests);
  const local = result.documents.filter((d) => isLocal(ctx, d.homeCommunityId));
  const entries = local.length > 0 ? await ctx.services.documentEntries([...new Set(local.map((d) => d.documentUniqueId))]) : [];
  const entryOf = (d: RetrievedDocument): DocumentEntry | undefined =>
    entries.find((e) => e.uniqueId === d.documentUniqueId && (e.repositoryUniqueId === undefined || e.repositoryUniqueId === d.repositoryUniqueId));
  const patientOf = new Map<string, string>();
  for (const d of local) {
    const p = entryOf(d)?.patientId;
    if (p !== undefined) patientOf.set(d.documentUniqueId, p);
  }
  if (!permit) return { result, refused: [], patientOf, breakGlass: false };

  const delivered: RetrievedDocument[] = [];
  const refused: RefusedDocument[] = [];
  const errors: RegistryErrorInfo[] = [...result.errors];
  for (const d of result.documents) {
    if (!isLocal(ctx, d.homeCommunityId)) {
      delivered.push(d);
      continue;
    }
    const entry = entryOf(d);
    const decision: Permit | Denial = entry
      ? decideRetrieve(permit, entry)
      : deny('unknown-entry', `document ${d.documentUniqueId} has no registry entry to decide access by`);
    if (decision.permit) {
      delivered.push(d);
      continue;
    }
    const request: DocumentRequest = {
      ...(d.homeCommunityId !== undefined ? { homeCommunityId: d.homeCommunityId } : {}),
      repositoryUniqueId: d.repositoryUniqueId,
      documentUniqueId: d.documentUniqueId,
    };
    refused.push({ request, denial: decision, ...(entry?.patientId !== undefined ? { patientId: entry.patientId } : {}) });
    errors.push(error('XDSRegistryError', `access denied: ${decision.reason}`, ctx.services.homeCommunityId));
  }
  return {
    result: refused.length === 0 ? result : { status: responseStatus(errors, delivered.length > 0), errors, documents: delivered },
    refused,
    patientOf,
    breakGlass: permit.breakGlass,
  };
}
