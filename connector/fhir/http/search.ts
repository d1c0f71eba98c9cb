/**
 * ITI-67 Find Document References (search and read) and ITI-66 Find Document Lists over HTTP.
 *
 * Each is the stored query ITI-18 would carry (connector/fhir/mapping/search.ts), run by the same
 * pipeline (connector/transactions/serve.ts `runQuery`): the request decision (ATT-4 binding to
 * the token's patient, ATT-5 blocks, ATT-10 …), the registry, the result filter (NORS masked,
 * citizen rules), then one audit event of the transaction (Query, like ITI-18) or a denial.
 *
 * What FHIR needs beyond the query's own objects is fetched inside the actor's answer, so the
 * result filter sees it too: a DocumentReference's relatesTo needs its document relationships
 * (and the related entries, so that an association to an entry a citizen may not see is dropped
 * with it), a List's entries need its HasMember associations and its members. Only the query's
 * own matches become Bundle entries.
 *
 * Search parameters the endpoint does not know are refused (400) unless the client asked for
 * lenient handling (`Prefer: handling=lenient`, FHIR R4 search.html#errors): then they are
 * ignored and named in a warning. Parameters FHIR defines for every search (`_format`, `_count` …)
 * are ignored either way; all matches are answered in one page.
 */
import type { ServerResponse } from 'node:http';
import { error, RegistryFailure, type RegistryErrorInfo } from '../../../registry/model/errors.js';
import { ASSOCIATION_TYPE, type Association, type DocumentEntry, type Folder, type RegistryObject, type SubmissionSet } from '../../../registry/model/metadata.js';
import type { StoredQueryRequest, StoredQueryResult } from '../../../registry/model/query.js';
import { relationshipsOf } from '../../../registry/relationships.js';
import type { RoutedRequest } from '../../http/direct-routes.js';
import { sameOid } from '../../gateway/oid.js';
import { runQuery } from '../../transactions/serve.js';
import type { TransactionContext } from '../../transactions/context.js';
import { documentEntryToDocumentReference } from '../mapping/document-reference.js';
import { isError, mhdError, mhdWarning, type MhdIssue } from '../mapping/issues.js';
import {
  findDocumentListsQuery,
  findDocumentReferencesQuery,
  ITI66_PARAMETERS,
  ITI67_PARAMETERS,
  listSearchBundle,
  readDocumentReferenceQuery,
  type SearchMapping,
} from '../mapping/search.js';
import { documentUrl, federationContext, type FhirActors } from './actors.js';
import { FhirError, issuesOfErrors, sendJson, sendResource } from './answer.js';
import { documentReferenceSearchsetJson } from './searchset.js';
import { baseUrlOf, fhirContext, fhirLogger, type FhirRequestServices } from './request.js';

/** `Prefer: handling=lenient` (RFC 7240 preference, FHIR search handling): unknown parameters ignored instead of refused. */
function lenient(req: RoutedRequest): boolean {
  const prefer = req.headers['prefer'];
  return /(?:^|[,;\s])handling\s*=\s*"?lenient"?/i.test(Array.isArray(prefer) ? prefer.join(',') : (prefer ?? ''));
}

/** An MHD issue as the registry error the pipeline answers and audits. */
function asRegistryError(i: MhdIssue): RegistryErrorInfo {
  return error(i.code, i.message, i.location === '' ? undefined : i.location);
}

/**
 * The mapping's outcome checked for this request: under strict handling, a parameter the
 * transaction does not define (other than FHIR's control parameters, `_…`) is an error. Defined
 * parameters the mapping could not apply (beside `_id`, for a Folder) it has warned about already.
 */
function checked(mapping: SearchMapping, known: ReadonlySet<string>, strict: boolean): { readonly mapping: SearchMapping; readonly ignored: readonly string[] } {
  if (!mapping.ok) return { mapping, ignored: [] };
  const unknown = mapping.ignored.filter((n) => !n.startsWith('_') && !known.has(n));
  if (strict && unknown.length > 0) {
    const issues = unknown.map((n) => mhdError('InvalidRequestException', n, `${n} is not a search parameter this endpoint supports (send Prefer: handling=lenient to have it ignored)`, 'not-supported'));
    return { mapping: { ok: false, issues: [...issues, ...mapping.warnings] }, ignored: [] };
  }
  return { mapping, ignored: mapping.ignored };
}

/** The stored query a mapping produced, or the RegistryFailure the pipeline answers and audits. */
function requestOf(mapping: SearchMapping): StoredQueryRequest {
  if (!mapping.ok) throw new RegistryFailure(mapping.issues.filter(isError).map(asRegistryError));
  return mapping.request;
}

/** The parameters as applied, for the `self` link: ignored ones left out (FHIR R4 search.html#conformance). */
function selfUrl(base: string, type: string, params: URLSearchParams, ignored: readonly string[]): string {
  const kept = new URLSearchParams([...params].filter(([k]) => !ignored.includes(k) && k !== '_format'));
  const query = kept.toString();
  return `${base}/${type}${query === '' ? '' : `?${query}`}`;
}

/** Warnings of a search answer: the mapping's, the parameters ignored, and a federation's partial errors. */
function searchWarnings(mapping: SearchMapping, ignored: readonly string[], known: ReadonlySet<string>, result: StoredQueryResult): MhdIssue[] {
  const out: MhdIssue[] = mapping.ok ? [...mapping.warnings] : [];
  // Unknown ones only: a defined parameter left unapplied has the mapping's own warning.
  for (const name of ignored) if (!known.has(name)) out.push(mhdWarning('InvalidRequestException', name, `${name} is not supported and was ignored`, 'not-supported'));
  for (const e of result.errors) out.push(mhdWarning(e.code, e.location ?? '', e.message));
  if (result.objectRefs.length > 0) {
    out.push(mhdWarning('XDSRegistryError', '', `${result.objectRefs.length} matches came back from other communities as references only and are not listed`, 'informational'));
  }
  return out;
}

/**
 * The document relationships whose source is one of these entries (remembered per entry object:
 * registry/relationships.ts), and the entries they point at (for the result filter).
 */
async function relationsOf(actors: FhirActors, entries: readonly DocumentEntry[]): Promise<RegistryObject[]> {
  if (entries.length === 0) return [];
  const relations = await relationshipsOf(actors.registry.store, entries);
  if (relations.length === 0) return [];
  const known = new Set(entries.map((e) => e.entryUuid));
  const targets = [...new Set(relations.map((a) => a.targetUuid).filter((t) => !known.has(t)))];
  const related = targets.length > 0 ? (await actors.registry.store.getByUuids(targets)).filter((o) => o.type === 'DocumentEntry') : [];
  return [...relations, ...related];
}

/**
 * The actor of ITI-67: the stored query (across communities when the node federates), plus the
 * relationships of this community's entries. `matches` receives the entryUUIDs of the query's own
 * answer, which are what the Bundle lists.
 */
function documentsAnswer(actors: FhirActors, ctx: TransactionContext, res: ServerResponse, matches: Set<string>): (request: StoredQueryRequest) => Promise<StoredQueryResult> {
  return async (request) => {
    const found: StoredQueryResult = actors.federation
      ? await actors.federation.query(request, federationContext(ctx, res))
      : await actors.registry.query(request);
    if (found.status === 'Failure') return found;
    const entries = found.objects.filter((o): o is DocumentEntry => o.type === 'DocumentEntry');
    for (const e of entries) matches.add(e.entryUuid);
    const local = actors.federation ? entries.filter((e) => e.homeCommunityId === undefined || sameOid(e.homeCommunityId, actors.homeCommunityId)) : entries;
    const extra = await relationsOf(actors, local);
    return extra.length === 0 ? found : { ...found, objects: [...found.objects, ...extra] };
  };
}

/** The answer's status when the query failed: the issues, and 403 for the trust model's refusal. */
function failureOf(result: StoredQueryResult): FhirError {
  return FhirError.of(issuesOfErrors(result.errors.filter((e) => e.severity === 'Error')));
}

/**
 * Serves ITI-67 search (GET, or POST `_search`). `paramsOf` reads the parameters (the URL's, or
 * those and the form's): only after the token verified, so that nobody unauthenticated makes the
 * node read a body.
 */
export async function searchDocumentReferences(
  fhir: FhirRequestServices,
  actors: FhirActors,
  req: RoutedRequest,
  res: ServerResponse,
  paramsOf: () => Promise<URLSearchParams>,
): Promise<void> {
  const logger = fhirLogger(fhir.logger, req, 'ITI-67');
  const ctx = await fhirContext(fhir, req, 'ITI-67', logger);
  const params = await paramsOf();
  const { mapping, ignored } = checked(findDocumentReferencesQuery(params), ITI67_PARAMETERS, !lenient(req));
  const matches = new Set<string>();
  const result = await runQuery(ctx, { read: () => requestOf(mapping), text: () => `DocumentReference?${params.toString()}`, logger }, documentsAnswer(actors, ctx, res, matches));
  if (!mapping.ok) throw FhirError.of(mapping.issues);
  if (result.status === 'Failure') throw failureOf(result);
  const base = baseUrlOf(req, fhir.where);
  const entries = result.objects.filter((o): o is DocumentEntry => o.type === 'DocumentEntry' && matches.has(o.entryUuid));
  const bundle = documentReferenceSearchsetJson(entries, {
    baseUrl: base,
    selfUrl: selfUrl(base, 'DocumentReference', params, ignored),
    warnings: searchWarnings(mapping, ignored, ITI67_PARAMETERS, result),
    relations: result.objects.filter((o): o is Association => o.type === 'Association'),
    documentUrl: (e) => documentUrl(base, e, actors.homeCommunityId),
  });
  logger.info('ITI-67 find document references', { status: result.status, returned: entries.length, errors: result.errors.map((e) => e.code) });
  sendJson(res, 200, bundle);
}

/** A FHIR logical id: what `DocumentReference/<id>` may hold (R4 datatypes.html#id). */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * Serves `GET DocumentReference/<id>`: GetDocuments by the entryUUID the id stands for, through the
 * ITI-67 pipeline (MHD's read is part of ITI-67), answered with the resource or 404.
 */
export async function readDocumentReference(fhir: FhirRequestServices, actors: FhirActors, req: RoutedRequest, res: ServerResponse, id: string): Promise<void> {
  const logger = fhirLogger(fhir.logger, req, 'ITI-67');
  const ctx = await fhirContext(fhir, req, 'ITI-67', logger);
  // Every DocumentReference this node writes has its entryUUID as id; anything else names none of them.
  const known = UUID.test(id);
  const request = readDocumentReferenceQuery(known ? id.toLowerCase() : '00000000-0000-0000-0000-000000000000');
  const matches = new Set<string>();
  const result = await runQuery(
    ctx,
    {
      read: () => {
        if (!known) throw new RegistryFailure(error('XDSDocumentUniqueIdError', `DocumentReference/${FHIR_ID.test(id) ? id : '…'} is not an id this endpoint gives (a UUID)`));
        return request;
      },
      text: () => `DocumentReference/${id}`,
      logger,
    },
    documentsAnswer(actors, ctx, res, matches),
  );
  if (!known) throw FhirError.of([mhdError('XDSDocumentUniqueIdError', '', `no DocumentReference with id ${FHIR_ID.test(id) ? id : '(not a FHIR id)'}`, 'not-found')]);
  if (result.status === 'Failure') throw failureOf(result);
  const entry = result.objects.find((o): o is DocumentEntry => o.type === 'DocumentEntry' && matches.has(o.entryUuid));
  logger.info('ITI-67 read document reference', { status: result.status, found: entry !== undefined });
  if (entry === undefined) throw FhirError.of([mhdError('XDSDocumentUniqueIdError', '', `no DocumentReference with id ${id}`, 'not-found')]);
  const base = baseUrlOf(req, fhir.where);
  sendResource(
    res,
    200,
    documentEntryToDocumentReference(entry, {
      relations: result.objects.filter((o): o is Association => o.type === 'Association'),
      documentUrl: (e) => documentUrl(base, e, actors.homeCommunityId),
    }),
  );
}

/**
 * The actor of ITI-66: the stored query (this community's registry), plus each List's HasMember
 * associations and their targets, whose types say whether an entry is a DocumentReference or a
 * List, and which the result filter judges with the rest.
 */
function listsAnswer(actors: FhirActors, matches: Set<string>): (request: StoredQueryRequest) => Promise<StoredQueryResult> {
  return async (request) => {
    const found = await actors.registry.query(request);
    const lists = found.objects.filter((o) => o.type === 'SubmissionSet' || o.type === 'Folder');
    if (found.status === 'Failure' || lists.length === 0) return found;
    for (const l of lists) matches.add(l.entryUuid);
    const memberships = await actors.registry.store.find({ type: 'Association', sourceUuid: { $in: [...matches] }, associationType: ASSOCIATION_TYPE.HasMember });
    const targets = [...new Set(memberships.map((a) => (a as Association).targetUuid).filter((t) => !matches.has(t)))];
    const members = targets.length > 0 ? await actors.registry.store.getByUuids(targets) : [];
    return { ...found, objects: [...found.objects, ...memberships, ...members] };
  };
}

/** Serves ITI-66 search (GET, or POST `_search`; parameters read as for ITI-67). */
export async function searchLists(fhir: FhirRequestServices, actors: FhirActors, req: RoutedRequest, res: ServerResponse, paramsOf: () => Promise<URLSearchParams>): Promise<void> {
  const logger = fhirLogger(fhir.logger, req, 'ITI-66');
  const ctx = await fhirContext(fhir, req, 'ITI-66', logger);
  const params = await paramsOf();
  const { mapping, ignored } = checked(findDocumentListsQuery(params), ITI66_PARAMETERS, !lenient(req));
  const matches = new Set<string>();
  const result = await runQuery(ctx, { read: () => requestOf(mapping), text: () => `List?${params.toString()}`, logger }, listsAnswer(actors, matches));
  if (!mapping.ok) throw FhirError.of(mapping.issues);
  if (result.status === 'Failure') throw failureOf(result);
  const base = baseUrlOf(req, fhir.where);
  const lists = result.objects.filter((o): o is SubmissionSet | Folder => (o.type === 'SubmissionSet' || o.type === 'Folder') && matches.has(o.entryUuid));
  const folders = new Set(result.objects.filter((o) => o.type === 'Folder').map((o) => o.entryUuid));
  const bundle = listSearchBundle(lists, {
    baseUrl: base,
    selfUrl: selfUrl(base, 'List', params, ignored),
    warnings: searchWarnings(mapping, ignored, ITI66_PARAMETERS, result),
    associations: result.objects.filter((o): o is Association => o.type === 'Association'),
    memberType: (uuid) => (folders.has(uuid) ? 'List' : 'DocumentReference'),
  });
  logger.info('ITI-66 find document lists', { status: result.status, returned: lists.length, errors: result.errors.map((e) => e.code) });
  sendResource(res, 200, bundle);
}
