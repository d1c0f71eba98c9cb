/**
 * The two shapes every reading transaction has, with policy and audit in them once:
 *
 * - a stored query (ITI-18 at the registry and at the initiating gateway, ITI-38 at the responding
 *   gateway): AdhocQueryRequest → policy → actor → filter → audit → AdhocQueryResponse;
 * - a retrieve (ITI-43 at the repository and at the initiating gateway, ITI-39 at the responding
 *   gateway): RetrieveDocumentSetRequest → policy → actor → per-document decision → audit → MTOM.
 *
 * The audit record is written (durably, see Auditor.record) before the handler returns, i.e. before
 * a byte of the response is sent.
 */
import { parseAdhocQueryRequest } from '../../registry/ebxml/index.js';
import type { RegistryErrorInfo, ResponseStatus } from '../../registry/model/errors.js';
import type { Submission } from '../../registry/model/metadata.js';
import type { StoredQueryRequest } from '../../registry/model/query.js';
import { NS } from '../../registry/xml/namespaces.js';
import { serializeXml } from '../../registry/xml/serialize.js';
import type { SoapRequest } from '../soap/endpoint.js';
import { auditEvents, denialEvent, type DocumentRef, type QueryRef } from '../audit/event.js';
import type { DocumentRequest, GatewayQueryResult, RetrieveResult } from '../gateway/types.js';
import { expectBody, failureOnRegistryError } from './common.js';
import { outcomeOf, type TransactionContext } from './context.js';
import { queryUnderPolicy, retrieveUnderPolicy } from './policy.js';

type QueryTransaction = 'ITI-18' | 'ITI-38';
type RetrieveTransaction = 'ITI-39' | 'ITI-43';

function queryRef(req: SoapRequest, request: StoredQueryRequest | undefined): QueryRef {
  return {
    storedQueryId: request?.queryId ?? '',
    // The request as received (our serialisation of it: the audit needs its content, not its layout).
    text: serializeXml(req.body),
    ...(request?.homeCommunityId !== undefined ? { homeCommunityId: request.homeCommunityId } : {}),
  };
}

/** Parses the AdhocQueryRequest, runs it under the policy, audits it and returns what to serialise. */
export async function serveQuery(
  req: SoapRequest,
  ctx: TransactionContext,
  answer: (request: StoredQueryRequest) => Promise<GatewayQueryResult>,
): Promise<GatewayQueryResult> {
  expectBody(req.body, NS.query, 'AdhocQueryRequest');
  let parsed: StoredQueryRequest | undefined;
  let patientId: string | undefined;
  let description: string | undefined;
  let denied: { reason: string } | undefined;
  const result = await failureOnRegistryError(
    async () => {
      parsed = parseAdhocQueryRequest(req.body);
      const run = await queryUnderPolicy(ctx, parsed, answer);
      patientId = run.patientId;
      if (run.denial) denied = { reason: `${run.denial.rule}: ${run.denial.reason}` };
      const notes = [
        run.masked.length > 0 ? `${run.masked.length} NORS entries masked` : '',
        run.withheld.length > 0 ? `${run.withheld.length} entries withheld` : '',
        run.breakGlass ? `break-glass (${ctx.principal?.purposeOfUse ?? ''})` : '',
      ].filter((n) => n !== '');
      if (notes.length > 0) description = notes.join('; ');
      return run.result;
    },
    (errors) => ({ status: 'Failure' as const, errors, returnType: 'LeafClass' as const, objects: [], objectRefs: [] }),
  );
  const transaction = ctx.transaction as QueryTransaction;
  const query = queryRef(req, parsed);
  const errorText = result.errors.map((e) => e.code).join(' ');
  if (denied) {
    await ctx.record(denialEvent({ transaction, ...ctx.auditBase('serious-failure', patientId), query, reason: denied.reason }));
    req.logger.warn(`${transaction} denied by the trust policy`, { reason: denied.reason });
  } else {
    // The query added to the fresh base input rather than both spread into a new one (every query is audited).
    const input = Object.assign(ctx.auditBase(outcomeOf(result.status), patientId, description ?? (errorText !== '' ? errorText : undefined)), { query });
    await ctx.record(transaction === 'ITI-18' ? auditEvents.iti18(input) : auditEvents.iti38(input));
  }
  return result;
}

const refOf = (d: DocumentRequest): DocumentRef => ({
  uniqueId: d.documentUniqueId,
  repositoryUniqueId: d.repositoryUniqueId,
  ...(d.homeCommunityId !== undefined ? { homeCommunityId: d.homeCommunityId } : {}),
});

/** Groups documents by patient: one audit record per patient, so each patient's access log shows them. */
function byPatient<T>(items: readonly T[], patient: (t: T) => string | undefined): Map<string | undefined, T[]> {
  const groups = new Map<string | undefined, T[]>();
  for (const i of items) {
    const key = patient(i);
    const list = groups.get(key);
    if (list) list.push(i);
    else groups.set(key, [i]);
  }
  return groups;
}

/** Runs a retrieve under the policy, audits it (delivered and refused documents) and returns what to serialise. */
export async function serveRetrieve(
  req: SoapRequest,
  ctx: TransactionContext,
  requests: readonly DocumentRequest[],
  run: (requests: readonly DocumentRequest[]) => Promise<RetrieveResult>,
): Promise<RetrieveResult> {
  const outcome = await retrieveUnderPolicy(ctx, requests, run);
  const transaction = ctx.transaction as RetrieveTransaction;
  const event = transaction === 'ITI-43' ? auditEvents.iti43 : auditEvents.iti39;
  const assertionPatient = ctx.principal?.patientId;
  const { result } = outcome;

  if (outcome.denial) {
    const reason = `${outcome.denial.rule}: ${outcome.denial.reason}`;
    await ctx.record(denialEvent({ transaction, ...ctx.auditBase('serious-failure', assertionPatient), documents: requests.map(refOf), reason }));
    req.logger.warn(`${transaction} denied by the trust policy`, { reason });
    return result;
  }
  const delivered = result.documents.map((d) => ({ doc: d, ref: refOf(d) }));
  const description = outcome.breakGlass && delivered.length > 0 ? `break-glass (${ctx.principal?.purposeOfUse ?? ''})` : undefined;
  if (delivered.length === 0 && outcome.refused.length === 0) {
    // Nothing found: the attempt is on record with the documents asked for.
    const errorText = result.errors.map((e) => e.code).join(' ') || undefined;
    await ctx.record(event({ ...ctx.auditBase(outcomeOf(result.status), assertionPatient, errorText), documents: requests.map(refOf) }));
  }
  for (const [patient, docs] of byPatient(delivered, (d) => outcome.patientOf.get(d.doc.documentUniqueId) ?? assertionPatient)) {
    await ctx.record(event(Object.assign(ctx.auditBase(outcomeOf(result.status), patient, description), { documents: docs.map((d) => d.ref) })));
  }
  for (const [patient, refused] of byPatient(outcome.refused, (r) => r.patientId ?? assertionPatient)) {
    const reason = refused.map((r) => `${r.denial.rule}: ${r.denial.reason}`).join('; ');
    await ctx.record(denialEvent({ transaction, ...ctx.auditBase('serious-failure', patient), documents: refused.map((r) => refOf(r.request)), reason }));
    req.logger.warn(`${transaction} documents refused by the trust policy`, { refused: refused.length });
  }
  return result;
}

/**
 * Audits a submission (ITI-41 at the repository, ITI-42 at the registry) with its SubmissionSet,
 * patient and documents; `submission` is undefined when the request could not even be read.
 */
export async function auditSubmission(
  ctx: TransactionContext,
  submission: Submission | undefined,
  outcome: { readonly status: ResponseStatus; readonly errors: readonly RegistryErrorInfo[] },
): Promise<void> {
  const errorText = outcome.errors.map((e) => e.code).join(' ');
  const documents: DocumentRef[] = [];
  for (const d of submission?.documentEntries ?? []) {
    if (d.uniqueId === undefined) continue;
    documents.push(d.repositoryUniqueId !== undefined ? { uniqueId: d.uniqueId, repositoryUniqueId: d.repositoryUniqueId } : { uniqueId: d.uniqueId });
  }
  const input = Object.assign(ctx.auditBase(outcomeOf(outcome.status), submission?.submissionSet.patientId, errorText !== '' ? errorText : undefined), {
    submissionSetUniqueId: submission?.submissionSet.uniqueId ?? '',
    documents,
  });
  await ctx.record(ctx.transaction === 'ITI-41' ? auditEvents.iti41(input) : auditEvents.iti42(input));
}
