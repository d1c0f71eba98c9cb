/**
 * The query side of MHD, pure: ITI-67 Find Document References and ITI-66 Find Document Lists
 * search parameters → the registry's stored-query request (FindDocuments /
 * FindDocumentsByReferenceId / GetDocuments, FindSubmissionSets / FindFolders, ITI TF-2
 * 3.67.4.1.3.1 and 3.66.4.1.3.1), and the searchset Bundles of their results.
 *
 * The request is a StoredQueryRequest exactly as ITI-18 would carry it (slot values in the stored
 * query syntax: quoted strings, `code^^scheme`, unquoted DTMs), so the HTTP layer runs it through
 * the same `runStoredQuery` and trust-policy path as ITI-18.
 *
 * Parameter semantics:
 * - token values `system|code`; a comma means OR; a repeated parameter means AND, which XDS can say
 *   for eventCodeList, confidentialityCode and a Folder's codeList (one slot per parameter) and
 *   cannot for single-valued codes (those are united, as an entry has one typeCode anyway);
 * - dates with the FHIR prefixes: ge/gt/sa give the From (inclusive) bound, lt/le/eb the To
 *   (exclusive) bound, eq (or none) both, at the precision given (date=2024-01 is January);
 *   several bounds intersect; `period` bounds the serviceStartTime (when the service began: the
 *   stop time is mostly absent in XDS, and a range never matches an absent attribute);
 * - `author.given` / `author.family` (`source.` for Lists) become an authorPerson LIKE pattern
 *   (`%^family%^given%`), case-insensitive in the registry, as FHIR string search is;
 * - `status` codes current / superseded (retired for Lists) without system.
 * Unknown parameters and FHIR control parameters (`_count`, `_format`…) are ignored and listed, as
 * FHIR search asks; an unsupported modifier or prefix on a known parameter is an error.
 */
import { isOid } from '../../../registry/model/hl7.js';
import { ASSOCIATION_TYPE, STATUS_URN_PREFIX, type Association, type AvailabilityStatus, type DocumentEntry, type Folder, type SubmissionSet } from '../../../registry/model/metadata.js';
import { STORED_QUERY_ID, type QueryParameterSlot, type StoredQueryRequest } from '../../../registry/model/query.js';
import { QUERY_PARAMETER as P } from '../../../registry/query/index.js';
import { resourceIdOf } from './common.js';
import { documentEntryToDocumentReference, type DocumentReferenceWriteOptions } from './document-reference.js';
import type { Bundle, BundleEntry, Reference } from './fhir.js';
import { dateTimeToDtm, oidOfSystem, systemToScheme } from './hl7v2.js';
import { hasErrors, mhdError, mhdWarning, operationOutcome, type MhdIssue } from './issues.js';
import { folderToList, submissionSetToList, type ListWriteOptions } from './list.js';
import { patientCx } from './patient.js';

/** Search parameters: URLSearchParams (GET query or POST form body), name/value pairs, or a record. */
export type SearchParams = URLSearchParams | Iterable<readonly [string, string]> | Readonly<Record<string, string | readonly string[]>>;

export interface SearchOptions {
  /** The CX of a `patient` reference this mapping cannot resolve itself (see patient.ts for what it can). */
  readonly resolvePatient?: (reference: string) => string | undefined;
  /** The assigning authority (OID) of a `patient.identifier` given without system, e.g. the fødselsnummer OID. */
  readonly defaultAssigningAuthority?: string;
}

export type SearchMapping =
  | { readonly ok: true; readonly request: StoredQueryRequest; readonly ignored: readonly string[]; readonly warnings: readonly MhdIssue[] }
  | { readonly ok: false; readonly issues: readonly MhdIssue[] };

function pairsOf(params: SearchParams): [string, string][] {
  if (params instanceof URLSearchParams) return [...params.entries()];
  if (Symbol.iterator in params) return [...(params as Iterable<readonly [string, string]>)].map(([k, v]) => [k, v]);
  return Object.entries(params as Record<string, string | readonly string[]>).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as [string, string]] : v.map((x) => [k, x] as [string, string])));
}

/** A parameter's comma-separated values (`\,` is a literal comma, FHIR search.html#escaping). */
function splitValues(value: string): string[] {
  return value
    .split(/(?<!\\),/)
    .map((v) => v.replace(/\\,/g, ',').trim())
    .filter((v) => v !== '');
}

/** A stored-query string value: single quotes, an inner quote doubled. */
function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function list(values: readonly string[]): string {
  return `(${values.map(quote).join(',')})`;
}

function invalid(location: string, message: string): MhdIssue {
  return mhdError('InvalidRequestException', location, message, 'invalid');
}

// --- value readers --------------------------------------------------------------------------------

/** A token `system|code` as an XDS `code^^scheme`; XDS codes always have a scheme. */
function codeToken(value: string, name: string, issues: MhdIssue[]): string | undefined {
  const bar = value.indexOf('|');
  const system = bar < 0 ? '' : value.slice(0, bar);
  const code = bar < 0 ? value : value.slice(bar + 1);
  if (system === '' || code === '') {
    issues.push(invalid(name, `${name}=${value}: give the code system, as system|code (an XDS code is matched with its coding scheme)`));
    return undefined;
  }
  return `${code}^^${systemToScheme(system)}`;
}

const DOCUMENT_STATUS: Readonly<Record<string, AvailabilityStatus>> = { current: 'Approved', superseded: 'Deprecated' };
const LIST_STATUS: Readonly<Record<string, AvailabilityStatus>> = { current: 'Approved', retired: 'Deprecated', superseded: 'Deprecated' };

function statusValues(values: readonly string[], table: Readonly<Record<string, AvailabilityStatus>>, issues: MhdIssue[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const code = v.includes('|') ? v.slice(v.indexOf('|') + 1) : v;
    const status = table[code];
    if (status === undefined) issues.push(invalid('status', `status ${v} is none of ${Object.keys(table).join(', ')}`));
    else if (!out.includes(`${STATUS_URN_PREFIX}${status}`)) out.push(`${STATUS_URN_PREFIX}${status}`);
  }
  return out;
}

/** The DTMs of the start of a FHIR date value's range and of the start of the range after it. */
function dateRange(value: string): [from: string, to: string] | undefined {
  const from = dateTimeToDtm(value);
  if (from === undefined) return undefined;
  const y = Number(from.slice(0, 4));
  const mo = Number(from.slice(4, 6) || '1');
  const d = Number(from.slice(6, 8) || '1');
  let next: Date;
  switch (from.length) {
    case 4:
      next = new Date(Date.UTC(y + 1, 0, 1));
      break;
    case 6:
      next = new Date(Date.UTC(y, mo, 1));
      break;
    case 8:
      next = new Date(Date.UTC(y, mo - 1, d + 1));
      break;
    default:
      next = new Date(Date.UTC(y, mo - 1, d, Number(from.slice(8, 10)), Number(from.slice(10, 12)), Number(from.slice(12, 14)) + 1));
  }
  const iso = next.toISOString();
  const to = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`.slice(0, from.length);
  return [from, to];
}

interface Bounds {
  from?: string;
  to?: string;
}

/** Narrows the bounds with one date parameter value (prefix + FHIR date). */
function addDateBound(bounds: Bounds, value: string, name: string, issues: MhdIssue[]): void {
  const m = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)?(.+)$/.exec(value);
  const prefix = m?.[1] ?? 'eq';
  const range = m ? dateRange(m[2]!) : undefined;
  if (range === undefined) {
    issues.push(invalid(name, `${name}=${value} is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime)`));
    return;
  }
  const [lower, upper] = range;
  // DTMs of different precision compare after padding, as the registry does; keep the tighter bound.
  const pad = (v: string) => v.padEnd(14, '0');
  const setFrom = (v: string) => {
    if (bounds.from === undefined || pad(v) > pad(bounds.from)) bounds.from = v;
  };
  const setTo = (v: string) => {
    if (bounds.to === undefined || pad(v) < pad(bounds.to)) bounds.to = v;
  };
  switch (prefix) {
    case 'eq':
      setFrom(lower);
      setTo(upper);
      break;
    case 'ge':
      setFrom(lower);
      break;
    case 'gt':
    case 'sa':
      setFrom(upper);
      break;
    case 'lt':
    case 'eb':
      setTo(lower);
      break;
    case 'le':
      setTo(upper);
      break;
    default:
      issues.push(invalid(name, `the date prefix ${prefix} is not supported (use eq, ge, gt, le, lt, sa, eb)`));
  }
}

/** authorPerson LIKE patterns for given/family names: every family × given combination. */
function personPatterns(families: readonly string[], givens: readonly string[]): string[] {
  if (families.length === 0) return givens.map((g) => `%^%^${g}%`);
  if (givens.length === 0) return families.map((f) => `%^${f}%`);
  return families.flatMap((f) => givens.map((g) => `%^${f}%^${g}%`));
}

/** The CX the patient parameters name; an issue when none or several or unresolvable. */
function patientOf(byName: Map<string, string[]>, options: SearchOptions, issues: MhdIssue[]): string | undefined {
  const cxs = new Set<string>();
  for (const [name, raw] of [...(byName.get('patient') ?? []).map((v) => ['patient', v] as const), ...(byName.get('subject') ?? []).map((v) => ['subject', v] as const)]) {
    for (const v of splitValues(raw)) {
      const reference = v.includes('/') || v.includes('?') || v.startsWith('urn:') ? v : `Patient/${v}`;
      const found = patientCx({ reference }, undefined, options.resolvePatient === undefined ? {} : { resolvePatient: options.resolvePatient });
      if (found === undefined || 'problem' in found) issues.push(mhdError('XDSUnknownPatientId', name, found === undefined ? `${name} is empty` : found.problem, 'not-found'));
      else cxs.add(found.cx);
    }
  }
  for (const raw of [...(byName.get('patient.identifier') ?? []), ...(byName.get('patient:identifier') ?? []), ...(byName.get('subject:identifier') ?? [])]) {
    for (const v of splitValues(raw)) {
      const bar = v.indexOf('|');
      const oid = bar < 0 ? options.defaultAssigningAuthority : oidOfSystem(v.slice(0, bar));
      const id = bar < 0 ? v : v.slice(bar + 1);
      if (oid === undefined || !isOid(oid) || id === '') issues.push(invalid('patient.identifier', `patient.identifier=${v}: give the assigning authority as system, urn:oid:<OID>|<id>`));
      else cxs.add(`${id}^^^&${oid}&ISO`);
    }
  }
  if (cxs.size > 1) {
    issues.push(mhdError('XDSStoredQueryParamNumber', 'patient', 'the search names more than one patient; ask for one patient at a time', 'invalid'));
    return undefined;
  }
  return [...cxs][0];
}

/** Parameters by name (modifiers kept in the name), in order. */
function byNameOf(pairs: readonly [string, string][]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [k, v] of pairs) map.set(k, [...(map.get(k) ?? []), v]);
  return map;
}

class Slots {
  readonly slots: QueryParameterSlot[] = [];
  add(name: string, value: string): void {
    this.slots.push({ name, values: [value] });
  }
}

// --- ITI-67 -------------------------------------------------------------------------------------

/** The parameters ITI-67 defines, with the names FHIR spells them with (chains and modifiers). */
export const ITI67_PARAMETERS: ReadonlySet<string> = new Set([
  'patient', 'subject', 'patient.identifier', 'patient:identifier', 'subject:identifier', 'status', 'date', 'creation', 'period',
  'type', 'category', 'setting', 'facility', 'event', 'security-label', 'format', 'related', 'related:identifier',
  'author.given', 'author.family', 'identifier', '_id',
]);

const CODE_PARAMETERS: readonly (readonly [name: string, slot: string, andOr: boolean])[] = [
  ['category', P.deClassCode, false],
  ['type', P.deTypeCode, false],
  ['setting', P.dePracticeSettingCode, false],
  ['facility', P.deHealthcareFacilityTypeCode, false],
  ['format', P.deFormatCode, false],
  ['event', P.deEventCodeList, true],
  ['security-label', P.deConfidentialityCode, true],
];

/** Parameters FHIR defines for every search, which say how to answer rather than what to find. */
function isControl(name: string): boolean {
  return name.startsWith('_') && name !== '_id';
}

function unknownParameters(pairs: readonly [string, string][], known: ReadonlySet<string>, issues: MhdIssue[]): string[] {
  const ignored: string[] = [];
  for (const [name] of pairs) {
    if (known.has(name) || ignored.includes(name)) continue;
    const base = name.split(':')[0]!;
    // A modifier on a parameter we serve changes its meaning: answering without it would be wrong.
    if (known.has(base) && !isControl(name)) issues.push(invalid(name, `the modifier of ${name} is not supported`));
    else ignored.push(name);
  }
  return ignored;
}

/**
 * ITI-67 search parameters → FindDocuments (FindDocumentsByReferenceId with `related`,
 * GetDocuments with `_id` or `identifier`).
 */
export function findDocumentReferencesQuery(params: SearchParams, options: SearchOptions = {}): SearchMapping {
  const pairs = pairsOf(params);
  const issues: MhdIssue[] = [];
  const ignored = unknownParameters(pairs, ITI67_PARAMETERS, issues);
  const byName = byNameOf(pairs);
  const values = (name: string) => (byName.get(name) ?? []).flatMap(splitValues);

  const ids = [...values('_id'), ...values('identifier')];
  if (ids.length > 0) return getDocumentsQuery(byName, ignored, issues);

  const s = new Slots();
  const patient = patientOf(byName, options, issues);
  if (patient === undefined && !issues.some((i) => i.location.startsWith('patient') || i.location === 'subject')) {
    issues.push(mhdError('XDSStoredQueryMissingParam', 'patient', 'an ITI-67 search needs patient or patient.identifier', 'required'));
  }
  if (patient !== undefined) s.add(P.dePatientId, quote(patient));

  const statuses = statusValues(values('status'), DOCUMENT_STATUS, issues);
  if (!byName.has('status')) issues.push(mhdError('XDSStoredQueryMissingParam', 'status', 'an ITI-67 search needs status (current, superseded)', 'required'));
  else if (statuses.length > 0) s.add(P.deStatus, list(statuses));

  for (const [name, slot, andOr] of CODE_PARAMETERS) {
    const groups = (byName.get(name) ?? []).map((raw) => splitValues(raw).flatMap((v) => codeToken(v, name, issues) ?? []));
    if (groups.length === 0) continue;
    if (andOr) for (const g of groups) s.add(slot, list(g));
    else s.add(slot, list([...new Set(groups.flat())]));
  }

  const creation: Bounds = {};
  for (const name of ['date', 'creation']) for (const v of byName.get(name) ?? []) addDateBound(creation, v, name, issues);
  if (creation.from !== undefined) s.add(P.deCreationTimeFrom, creation.from);
  if (creation.to !== undefined) s.add(P.deCreationTimeTo, creation.to);
  const period: Bounds = {};
  for (const v of byName.get('period') ?? []) addDateBound(period, v, 'period', issues);
  // Both bounds on serviceStartTime. Overlap would bound the stop time from below, but XDS ranges
  // never match an entry without the attribute, and serviceStopTime is mostly absent (NHN's sample
  // has none): such a search would find almost nothing.
  if (period.from !== undefined) s.add(P.deServiceStartTimeFrom, period.from);
  if (period.to !== undefined) s.add(P.deServiceStartTimeTo, period.to);

  const authors = personPatterns(values('author.family'), values('author.given'));
  if (authors.length > 0) s.add(P.deAuthorPerson, list(authors));

  const related = [...(byName.get('related') ?? []), ...(byName.get('related:identifier') ?? [])];
  let queryId: string = STORED_QUERY_ID.FindDocuments;
  if (related.length > 0) {
    queryId = STORED_QUERY_ID.FindDocumentsByReferenceId;
    for (const raw of related) {
      const group = splitValues(raw).flatMap((v) => referenceId(v, issues) ?? []);
      if (group.length > 0) s.add(P.deReferenceIdList, list(group));
    }
  }
  if (hasErrors(issues)) return { ok: false, issues };
  return { ok: true, request: { queryId, returnType: 'LeafClass', parameters: s.slots }, ignored, warnings: issues };
}

/** A `related` value: a CXi as it is (it holds `^`), or `system|value` as `value^^^&oid&ISO`. */
function referenceId(value: string, issues: MhdIssue[]): string | undefined {
  if (value.includes('^')) return value;
  const bar = value.indexOf('|');
  const oid = bar < 0 ? undefined : oidOfSystem(value.slice(0, bar));
  if (oid === undefined || bar === value.length - 1) {
    issues.push(invalid('related', `related=${value}: give urn:oid:<assigning authority>|<id>, or the referenceIdList value itself`));
    return undefined;
  }
  return `${value.slice(bar + 1)}^^^&${oid}&ISO`;
}

/** `_id` and `identifier` name documents directly: GetDocuments by entryUUID or uniqueId. */
function getDocumentsQuery(byName: Map<string, string[]>, ignored: string[], issues: MhdIssue[]): SearchMapping {
  const uuids: string[] = [];
  const uniqueIds: string[] = [];
  for (const id of (byName.get('_id') ?? []).flatMap(splitValues)) uuids.push(`urn:uuid:${id}`);
  for (const v of (byName.get('identifier') ?? []).flatMap(splitValues)) {
    const bar = v.indexOf('|');
    const system = bar < 0 ? '' : v.slice(0, bar);
    const value = bar < 0 ? v : v.slice(bar + 1);
    if (/^urn:uuid:/i.test(value)) (system === '' || system === 'urn:ietf:rfc:3986' ? uuids : uniqueIds).push(value);
    else if (/^urn:oid:/i.test(value)) uniqueIds.push(value.slice(8));
    else if (oidOfSystem(system) !== undefined) uniqueIds.push(`${oidOfSystem(system)}^${value}`);
    else uniqueIds.push(value);
  }
  for (const [name] of byName) {
    if (name !== '_id' && name !== 'identifier' && !ignored.includes(name)) {
      issues.push(mhdWarning('InvalidRequestException', name, `${name} is not applied together with _id or identifier`));
      ignored.push(name);
    }
  }
  if (uuids.length > 0 && uniqueIds.length > 0) {
    issues.push(mhdError('XDSStoredQueryParamNumber', 'identifier', 'search either by entryUUID (_id, urn:uuid:) or by uniqueId, not both', 'invalid'));
  }
  if (hasErrors(issues)) return { ok: false, issues };
  const parameters = uuids.length > 0 ? [{ name: P.deEntryUuid, values: [list(uuids)] }] : [{ name: P.deUniqueId, values: [list(uniqueIds)] }];
  return { ok: true, request: { queryId: STORED_QUERY_ID.GetDocuments, returnType: 'LeafClass', parameters }, ignored, warnings: issues };
}

/** A read of `DocumentReference/<id>`: GetDocuments by the entryUUID the id stands for. */
export function readDocumentReferenceQuery(id: string): StoredQueryRequest {
  return { queryId: STORED_QUERY_ID.GetDocuments, returnType: 'LeafClass', parameters: [{ name: P.deEntryUuid, values: [list([`urn:uuid:${id}`])] }] };
}

// --- ITI-66 -------------------------------------------------------------------------------------

export const ITI66_PARAMETERS: ReadonlySet<string> = new Set([
  'patient', 'subject', 'patient.identifier', 'patient:identifier', 'subject:identifier', 'code', 'status', 'date',
  'designationType', 'sourceId', 'source.given', 'source.family',
]);

/** ITI-66 search parameters → FindSubmissionSets (code submissionset) or FindFolders (code folder). */
export function findDocumentListsQuery(params: SearchParams, options: SearchOptions = {}): SearchMapping {
  const pairs = pairsOf(params);
  const issues: MhdIssue[] = [];
  const ignored = unknownParameters(pairs, ITI66_PARAMETERS, issues);
  const byName = byNameOf(pairs);
  const values = (name: string) => (byName.get(name) ?? []).flatMap(splitValues);

  const codes = new Set(values('code').map((v) => (v.includes('|') ? v.slice(v.indexOf('|') + 1) : v)));
  if (codes.size !== 1 || !(codes.has('submissionset') || codes.has('folder'))) {
    issues.push(mhdError(codes.size === 0 ? 'XDSStoredQueryMissingParam' : 'InvalidRequestException', 'code', 'an ITI-66 search needs code=submissionset or code=folder (one of them)', codes.size === 0 ? 'required' : 'invalid'));
    return { ok: false, issues };
  }
  const folder = codes.has('folder');
  const s = new Slots();
  const patient = patientOf(byName, options, issues);
  if (patient === undefined && !issues.some((i) => i.location.startsWith('patient') || i.location === 'subject')) {
    issues.push(mhdError('XDSStoredQueryMissingParam', 'patient', 'an ITI-66 search needs patient or patient.identifier', 'required'));
  }
  if (patient !== undefined) s.add(folder ? P.folPatientId : P.ssPatientId, quote(patient));

  const statuses = statusValues(values('status'), LIST_STATUS, issues);
  if (!byName.has('status')) issues.push(mhdError('XDSStoredQueryMissingParam', 'status', 'an ITI-66 search needs status (current, retired)', 'required'));
  else if (statuses.length > 0) s.add(folder ? P.folStatus : P.ssStatus, list(statuses));

  const date: Bounds = {};
  for (const v of byName.get('date') ?? []) addDateBound(date, v, 'date', issues);
  if (date.from !== undefined) s.add(folder ? P.folLastUpdateTimeFrom : P.ssSubmissionTimeFrom, date.from);
  if (date.to !== undefined) s.add(folder ? P.folLastUpdateTimeTo : P.ssSubmissionTimeTo, date.to);

  const designations = (byName.get('designationType') ?? []).map((raw) => splitValues(raw).flatMap((v) => codeToken(v, 'designationType', issues) ?? []));
  if (folder) for (const g of designations) s.add(P.folCodeList, list(g)); // codeList: AND of OR-groups
  else if (designations.length > 0) s.add(P.ssContentType, list([...new Set(designations.flat())]));

  if (folder) {
    // ITI TF-2 3.66.4.1.3.1 Note 3: parameters specific to SubmissionSets are silently ignored for Folders.
    for (const name of ['sourceId', 'source.given', 'source.family']) if (byName.has(name)) ignored.push(name);
  } else {
    const sources = values('sourceId').map((v) => (v.includes('|') ? v.slice(v.indexOf('|') + 1) : v).replace(/^urn:oid:/i, ''));
    if (sources.length > 0) s.add(P.ssSourceId, list(sources));
    const authors = personPatterns(values('source.family'), values('source.given'));
    if (authors.length > 1) issues.push(mhdError('XDSStoredQueryParamNumber', 'source.family', 'FindSubmissionSets takes one author person: give one source.given and one source.family', 'invalid'));
    else if (authors.length === 1) s.add(P.ssAuthorPerson, quote(authors[0]!));
  }
  if (hasErrors(issues)) return { ok: false, issues };
  const queryId = folder ? STORED_QUERY_ID.FindFolders : STORED_QUERY_ID.FindSubmissionSets;
  return { ok: true, request: { queryId, returnType: 'LeafClass', parameters: s.slots }, ignored, warnings: issues };
}

// --- searchset Bundles ----------------------------------------------------------------------------

export interface SearchBundleOptions {
  /** The FHIR base URL the resources are served under (fullUrl = `<baseUrl>/<Type>/<id>`). */
  readonly baseUrl: string;
  /** The search as received, for the `self` link. */
  readonly selfUrl?: string;
  /** Warnings to answer along (an OperationOutcome entry with search.mode outcome). */
  readonly warnings?: readonly MhdIssue[];
}

function searchset(entries: BundleEntry[], options: SearchBundleOptions): Bundle {
  const matches = entries.length;
  if (options.warnings !== undefined && options.warnings.length > 0) entries.push({ resource: operationOutcome(options.warnings), search: { mode: 'outcome' } });
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: matches,
    ...(options.selfUrl === undefined ? {} : { link: [{ relation: 'self', url: options.selfUrl }] }),
    entry: entries,
  };
}

function fullUrl(base: string, type: string, entryUuid: string): string {
  return `${base.replace(/\/+$/, '')}/${type}/${resourceIdOf(entryUuid) ?? entryUuid}`;
}

/** ITI-67's answer: the DocumentEntries as DocumentReferences (relations from the registry's associations). */
export function documentReferenceSearchBundle(entries: readonly DocumentEntry[], options: SearchBundleOptions & DocumentReferenceWriteOptions): Bundle {
  return searchset(
    entries.map((e) => ({ fullUrl: fullUrl(options.baseUrl, 'DocumentReference', e.entryUuid), resource: documentEntryToDocumentReference(e, options), search: { mode: 'match' } })),
    options,
  );
}

export interface ListSearchBundleOptions extends SearchBundleOptions, Omit<ListWriteOptions, 'entries'> {
  /** The HasMember associations of the registry: those whose source is a List become its entries. */
  readonly associations?: readonly Association[];
  /** The resource type of a member by entryUUID (DocumentReference or List), default DocumentReference. */
  readonly memberType?: (entryUuid: string) => 'DocumentReference' | 'List';
}

/** The entries of a SubmissionSet or Folder List from the registry's HasMember associations (not those to other associations). */
export function listEntriesOf(sourceUuid: string, associations: readonly Association[], memberType: (entryUuid: string) => 'DocumentReference' | 'List' = () => 'DocumentReference'): Reference[] {
  const associationIds = new Set(associations.map((a) => a.entryUuid));
  return associations
    .filter((a) => a.associationType === ASSOCIATION_TYPE.HasMember && a.sourceUuid === sourceUuid && !associationIds.has(a.targetUuid))
    .map((a) => {
      const type = memberType(a.targetUuid);
      return { reference: `${type}/${resourceIdOf(a.targetUuid) ?? a.targetUuid}`, type };
    });
}

/** ITI-66's answer: the SubmissionSets and Folders as Lists, with their members as entries. */
export function listSearchBundle(objects: readonly (SubmissionSet | Folder)[], options: ListSearchBundleOptions): Bundle {
  return searchset(
    objects.map((o) => {
      const write: ListWriteOptions = { ...options, entries: listEntriesOf(o.entryUuid, options.associations ?? [], options.memberType) };
      return { fullUrl: fullUrl(options.baseUrl, 'List', o.entryUuid), resource: o.type === 'SubmissionSet' ? submissionSetToList(o, write) : folderToList(o, write), search: { mode: 'match' } };
    }),
    options,
  );
}
