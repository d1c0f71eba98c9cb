/**
 * The two shapes every reading transaction has, with policy and audit in them once:
 *
 * - a stored query (ITI-18 at the registry and at the initiating gateway, ITI-38 at the responding
 *   gateway, and the MHD searches ITI-66 / ITI-67): request decision → actor → result filter → audit;
 * - a retrieve (ITI-43 at the repository and at the initiating gateway, ITI-39 at the responding
 *   gateway, MHD's ITI-68): request decision → actor → per-document decision → audit.
 *
 * Both run on wire-neutral input (`runQuery`, `runRetrieve`): the request's TransactionContext
 * (principal, client and server as audited, transaction id), the stored-query request or the
 * document references, and how the query is to be audited. The SOAP handlers are thin adapters
 * (`serveQuery`: AdhocQueryRequest in; `serveRetrieve`), and so is the MHD endpoint
 * (connector/fhir/http): a FHIR search becomes the same StoredQueryRequest as ITI-18, decided,
 * filtered and audited by the same code, its event differing only in the transaction it names.
 *
 * The audit record is written (durably, see Auditor.record) before the handler returns, i.e. before
 * a byte of the response is sent. No access without audit: when the record cannot be written (the
 * audit store and the on-disk queue both fail, e.g. a full disk), the read is refused with a
 * RegistryError instead of its answer, and the refusal is logged at error level.
 *
 * A submission's success event is prepared before it is stored and written with the registry's
 * commit (`prepareSubmissionAudit`, see connector/audit/auditor.ts), so a stored submission is
 * never without its event; and a stored submission is never answered as failed because its audit
 * could not be recorded afterwards (`auditSubmission`).
 */
import { parseAdhocQueryRequest } from '../../registry/ebxml/index.js';
import { error, RegistryFailure, type RegistryErrorInfo, type ResponseStatus } from '../../registry/model/errors.js';
import type { Submission } from '../../registry/model/metadata.js';
import { failedQueryResult, type StoredQueryRequest, type StoredQueryResult } from '../../registry/model/query.js';
import { NS } from '../../registry/xml/namespaces.js';
import { serializeXml } from '../../registry/xml/serialize.js';
import { isOutOfSpace } from '../../repository/blob/index.js';
import type winston from 'winston';
import type { SoapRequest } from '../soap/endpoint.js';
import { auditCommitRecord } from '../audit/auditor.js';
import { denialEvent, eventJson, transactionEvent, type AuditEvent, type DocumentRef, type QueryRef } from '../audit/event.js';
import type { DocumentRequest, RetrieveResult } from '../gateway/types.js';
import { expectBody, failureOnRegistryError } from './common.js';
import { outcomeOf, type TransactionContext } from './context.js';
import { queryUnderPolicy, retrieveUnderPolicy } from './policy.js';

/** The transactions that are a stored query under the policy. */
export type QueryTransaction = 'ITI-18' | 'ITI-38' | 'ITI-66' | 'ITI-67';
/** The transactions that are a retrieve under the policy. */
export type RetrieveTransaction = 'ITI-39' | 'ITI-43' | 'ITI-68';

/** Where the pipeline says what it refused or could not record (a request's logger). */
export type PipelineLogger = Pick<winston.Logger, 'warn' | 'error'>;

/** A stored query as the pipeline takes it, whatever wire it came over. */
export interface QueryInput {
  /**
   * Reads the request (an AdhocQueryRequest's body, a FHIR search's parameters). A RegistryFailure
   * it throws is answered as the query's Failure and audited as such.
   */
  readonly read: () => StoredQueryRequest;
  /**
   * The query as audited: what the client sent, as text (our serialisation of an AdhocQueryRequest;
   * an MHD search as `<Type>?<parameters>`). Asked once, after `read`, also when `read` failed.
   */
  readonly text: () => string;
  readonly logger: PipelineLogger;
}

function queryRef(input: QueryInput, request: StoredQueryRequest | undefined): QueryRef {
  return {
    storedQueryId: request?.queryId ?? '',
    text: input.text(),
    ...(request?.homeCommunityId !== undefined ? { homeCommunityId: request.homeCommunityId } : {}),
  };
}

/** Parses the AdhocQueryRequest, runs it under the policy, audits it and returns what to serialise. */
export async function serveQuery(
  req: SoapRequest,
  ctx: TransactionContext,
  answer: (request: StoredQueryRequest) => Promise<StoredQueryResult>,
): Promise<StoredQueryResult> {
  expectBody(req.body, NS.query, 'AdhocQueryRequest');
  return runQuery(
    ctx,
    {
      read: () => parseAdhocQueryRequest(req.body),
      // The request as received (our serialisation of it: the audit needs its content, not its layout).
      text: () => serializeXml(req.body),
      logger: req.logger,
    },
    answer,
  );
}

/**
 * A stored query under the policy, whatever its wire: request decision → actor (`answer`) →
 * result filter → audit (the event of `ctx.transaction`, or a denial). Returns what to answer; when
 * the audit record cannot be written, a Failure instead (no access without audit).
 */
export async function runQuery(
  ctx: TransactionContext,
  input: QueryInput,
  answer: (request: StoredQueryRequest) => Promise<StoredQueryResult>,
): Promise<StoredQueryResult> {
  let parsed: StoredQueryRequest | undefined;
  let patientId: string | undefined;
  let description: string | undefined;
  let denied: { reason: string } | undefined;
  const result = await failureOnRegistryError(
    async () => {
      parsed = input.read();
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
    (errors) => failedQueryResult(undefined, errors),
  );
  const transaction = ctx.transaction as QueryTransaction;
  const query = queryRef(input, parsed);
  const errorText = result.errors.map((e) => e.code).join(' ');
  try {
    if (denied) {
      await ctx.record(denialEvent({ transaction, ...ctx.auditBase('serious-failure', patientId), query, reason: denied.reason }));
      input.logger.warn(`${transaction} denied by the trust policy`, { reason: denied.reason });
    } else {
      // The query added to the fresh base input rather than both spread into a new one (every query is audited).
      const base = Object.assign(ctx.auditBase(outcomeOf(result.status), patientId, description ?? (errorText !== '' ? errorText : undefined)), { query });
      await ctx.record(transactionEvent(Object.assign(base, { transaction })));
    }
  } catch (e) {
    return failedQueryResult(result, [unaudited(input.logger, transaction, e, 'XDSRegistryError')]);
  }
  return result;
}

/**
 * The error that replaces a read's answer when its audit record could not be written: no access
 * without audit. Logged at error level, since every read is refused while it lasts.
 */
function unaudited(logger: PipelineLogger, transaction: string, e: unknown, code: 'XDSRegistryError' | 'XDSRepositoryError'): RegistryErrorInfo {
  logger.error(`AUDIT TRAIL UNAVAILABLE: ${transaction} refused, its access could not be recorded (no access without audit)`, {
    error: e instanceof Error ? e.message : String(e),
  });
  return error(code, 'the access could not be recorded in the audit trail, so it is refused (no access without audit); try again later');
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
  return runRetrieve(ctx, requests, run, req.logger);
}

/**
 * A retrieve under the policy, whatever its wire: request decision → actor (`run`) → per-document
 * decision → audit (delivered documents, refused ones as denials). When the audit record cannot be
 * written nothing is delivered (no access without audit).
 */
export async function runRetrieve(
  ctx: TransactionContext,
  requests: readonly DocumentRequest[],
  run: (requests: readonly DocumentRequest[]) => Promise<RetrieveResult>,
  logger: PipelineLogger,
): Promise<RetrieveResult> {
  const outcome = await retrieveUnderPolicy(ctx, requests, run);
  const transaction = ctx.transaction as RetrieveTransaction;
  try {
    return await auditRetrieve(logger, ctx, requests, outcome, transaction);
  } catch (e) {
    // Nothing is delivered: the documents are dropped from the answer before a byte is sent.
    return { status: 'Failure', documents: [], errors: [unaudited(logger, transaction, e, 'XDSRepositoryError')] };
  }
}

/** Audits a retrieve's outcome (delivered, refused, nothing found) and returns the result to send. */
async function auditRetrieve(
  logger: PipelineLogger,
  ctx: TransactionContext,
  requests: readonly DocumentRequest[],
  outcome: Awaited<ReturnType<typeof retrieveUnderPolicy>>,
  transaction: RetrieveTransaction,
): Promise<RetrieveResult> {
  const event = (input: RetrieveAuditInputOf): AuditEvent => transactionEvent(Object.assign(input, { transaction }));
  const assertionPatient = ctx.principal?.patientId;
  const { result } = outcome;

  if (outcome.denial) {
    const reason = `${outcome.denial.rule}: ${outcome.denial.reason}`;
    await ctx.record(denialEvent({ transaction, ...ctx.auditBase('serious-failure', assertionPatient), documents: requests.map(refOf), reason }));
    logger.warn(`${transaction} denied by the trust policy`, { reason });
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
    logger.warn(`${transaction} documents refused by the trust policy`, { refused: refused.length });
  }
  return result;
}

/** What a retrieve event is built from: the base fields and the documents. */
type RetrieveAuditInputOf = ReturnType<TransactionContext['auditBase']> & { documents: readonly DocumentRef[] };

/** The success event of a registry write, prepared before it is stored, and the commit record that stores it with the write. */
export interface PreparedWriteAudit {
  readonly event: AuditEvent;
  readonly commitRecord: ReturnType<typeof auditCommitRecord>;
}
/** A submission's prepared event (ITI-41, ITI-42). */
export type PreparedSubmissionAudit = PreparedWriteAudit;

/**
 * The event a registry write gets if it is stored, built before the commit so that it can be
 * written in the commit's transaction (attach `commitRecord` to the write). Its id is the one
 * `auditWrite` records after a success: the audit store keeps one of the two copies.
 */
export function prepareWriteAudit(event: AuditEvent): PreparedWriteAudit {
  return { event, commitRecord: auditCommitRecord(event) };
}

/** The event the submission gets if it is stored (see `prepareWriteAudit`); for ITI-41, ITI-42 and ITI-65. */
export function prepareSubmissionAudit(ctx: TransactionContext, submission: Submission): PreparedSubmissionAudit {
  return prepareWriteAudit(submissionEvent(ctx, submission, 'Success', ''));
}

/**
 * Audits the outcome of a registry write (a submission, a deletion). A success is recorded as the
 * prepared event (its copy in the registry's outbox is then forgotten); anything else as the event
 * `failed` builds from the status and the error codes.
 *
 * Never throws: the write's outcome is decided, and a stored write must not be answered as failed
 * (the source would send it again). When the event cannot be recorded it is logged whole at error
 * level; a stored write's event is still in the registry's outbox and is recorded from there
 * (connector/audit/auditor.ts), except with a remote registry, which keeps no outbox for us.
 */
export async function auditWrite(
  ctx: TransactionContext,
  outcome: { readonly status: ResponseStatus; readonly errors: readonly RegistryErrorInfo[] },
  prepared: PreparedWriteAudit | undefined,
  failed: (status: ResponseStatus, errorText: string) => AuditEvent,
  logger?: SoapRequest['logger'],
): Promise<void> {
  const errorText = outcome.errors.map((e) => e.code).join(' ');
  let event: AuditEvent;
  try {
    if (outcome.status === 'Success' && prepared !== undefined) {
      // Warnings of a success go in its description; the id stays the prepared one.
      event = errorText !== '' ? { ...prepared.event, outcomeDescription: errorText } : prepared.event;
      await ctx.services.auditor.recordCommitted(event);
      return;
    }
    event = failed(outcome.status, errorText);
  } catch (e) {
    unrecorded(logger, ctx, outcome.status, prepared?.event, e);
    return;
  }
  try {
    await ctx.record(event);
  } catch (e) {
    unrecorded(logger, ctx, outcome.status, event, e);
  }
}

/**
 * Audits a submission (ITI-41 at the repository, ITI-42 at the registry, ITI-65 at the MHD
 * endpoint) with its SubmissionSet, patient and documents; `submission` is undefined when the
 * request could not even be read.
 */
export function auditSubmission(
  ctx: TransactionContext,
  submission: Submission | undefined,
  outcome: { readonly status: ResponseStatus; readonly errors: readonly RegistryErrorInfo[] },
  prepared?: PreparedSubmissionAudit,
  logger?: SoapRequest['logger'],
): Promise<void> {
  return auditWrite(ctx, outcome, prepared, (status, errorText) => submissionEvent(ctx, submission, status, errorText), logger);
}

function unrecorded(logger: SoapRequest['logger'] | undefined, ctx: TransactionContext, status: ResponseStatus, event: AuditEvent | undefined, e: unknown): void {
  (logger ?? console).error(`AUDIT EVENT NOT RECORDED: ${ctx.transaction} answered ${status}, its audit event could not be written`, {
    error: e instanceof Error ? e.message : String(e),
    // The event itself, so that the log (often on another disk) keeps what the trail could not.
    event: event === undefined ? undefined : eventJson(event),
  });
}

function submissionEvent(ctx: TransactionContext, submission: Submission | undefined, status: ResponseStatus, errorText: string): AuditEvent {
  const documents: DocumentRef[] = [];
  for (const d of submission?.documentEntries ?? []) {
    if (d.uniqueId === undefined) continue;
    documents.push(d.repositoryUniqueId !== undefined ? { uniqueId: d.uniqueId, repositoryUniqueId: d.repositoryUniqueId } : { uniqueId: d.uniqueId });
  }
  const input = Object.assign(ctx.auditBase(outcomeOf(status), submission?.submissionSet.patientId, errorText !== '' ? errorText : undefined), {
    submissionSetUniqueId: submission?.submissionSet.uniqueId ?? '',
    documents,
  });
  if (ctx.transaction !== 'ITI-41' && ctx.transaction !== 'ITI-42' && ctx.transaction !== 'ITI-65') throw new Error(`${ctx.transaction} is not a submission`);
  return transactionEvent({ transaction: ctx.transaction, ...input });
}

/**
 * The audit intent of a submission for a remote registry, on disk before the registration is sent
 * (connector/audit/intents.ts), for a repository whose registry keeps no commit records for us.
 * When it cannot be written, nothing is sent: no submission is stored without its audit.
 */
export async function writeSubmissionIntent(ctx: TransactionContext, prepared: PreparedSubmissionAudit, submission: Submission): Promise<void> {
  const documents = submission.documentEntries.flatMap((d) => (d.uniqueId === undefined ? [] : [d.uniqueId]));
  try {
    await ctx.services.auditor.recordIntent(prepared.event, documents);
  } catch (e) {
    if (isOutOfSpace(e)) {
      throw new RegistryFailure(error('XDSRepositoryOutOfResources', 'the repository has no storage space left for the audit of the submission; nothing was stored, try again later'));
    }
    throw new RegistryFailure(error('XDSRepositoryError', 'the submission could not be audited, so it was not registered (no submission without audit); try again later'));
  }
}
