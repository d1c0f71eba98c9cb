/**
 * SubmissionSet ⇄ List (code `submissionset`) and Folder ⇄ List (code `folder`), IHE MHD 4.2
 * (ITI TF-3 4.5.2, 4.5.3).
 *
 * | SubmissionSet | List |
 * |---|---|
 * | entryUUID, uniqueId | identifier (official urn:uuid:, usual urn:oid:), id |
 * | availabilityStatus | status (Approved current, Deprecated retired: List has no superseded) |
 * | title, comments | title, note[0].text |
 * | patientId | subject |
 * | submissionTime | date |
 * | sourceId | extension ihe-sourceId |
 * | contentTypeCode | extension ihe-designationType |
 * | intendedRecipients (XON|XCN|XTN) | extension ihe-intendedRecipient → contained Organization / Practitioner / PractitionerRole |
 * | authors | source (the first; an Organization through ihe-authorOrg), node extension xds-author (the others) |
 * | limitedMetadata | meta.profile Minimal (else Comprehensive) |
 * | members | entry.item (given by the caller: membership is Associations, not an attribute) |
 *
 * | Folder | List |
 * |---|---|
 * | codeList | extension ihe-designationType, one per code |
 * | lastUpdateTime | date |
 * | the rest | as for SubmissionSet |
 *
 * homeCommunityId, lid, versionName, Submitted status and `extra` as for DocumentReference
 * (common.ts). Every attribute round-trips.
 */
import { isOid } from '../../../registry/model/hl7.js';
import type { Folder, SubmissionSet } from '../../../registry/model/metadata.js';
import { authorsToFhir, fhirToAuthors, organizationChain } from './authors.js';
import {
  at,
  availabilityStatusOf,
  entryUuidIdentifier,
  entryUuidOf,
  homeCommunityExtension,
  homeCommunityOf,
  logicalIdOf,
  metaOf,
  resourceIdOf,
  statusExtension,
  stringExtension,
  versionOf,
} from './common.js';
import { extraExtensions, extraOf } from './extra.js';
import {
  MHD_EXTENSION,
  MHD_LIST_TYPES,
  MHD_PROFILE,
  NODE_EXTENSION,
  URI_SYSTEM,
  type ContainedResource,
  type Extension,
  type Identifier,
  type List,
  type ListEntry,
  type Reference,
} from './fhir.js';
import {
  codeToConcept,
  compact,
  conceptToCode,
  contactPointToXtn,
  dtmPrimitive,
  identifierToUniqueId,
  localizedText,
  organizationToXon,
  originalOf,
  practitionerToXcn,
  primitiveDtm,
  textElement,
  uniqueIdToIdentifier,
  withOriginal,
  xcnToPractitioner,
  xonToOrganization,
  xtnToContactPoint,
} from './hl7v2.js';
import { mhdError, type MhdIssue } from './issues.js';
import { patientCx, patientReference, type PatientResolution } from './patient.js';
import { extensionLike, extensionsOf, get, getArr, getStr, isObject, resolveReference, str, type Json, type ResourceLookup } from './read.js';

export type ListKind = 'submissionset' | 'folder';

/** Whether a List is a SubmissionSet or a Folder (its code), or neither. */
export function listKind(list: Json): ListKind | undefined {
  if (!isObject(list) || list['resourceType'] !== 'List') return undefined;
  for (const coding of getArr(get(list, 'code'), 'coding')) {
    const code = getStr(coding, 'code');
    const system = getStr(coding, 'system');
    if ((code === 'submissionset' || code === 'folder') && (system === undefined || system === MHD_LIST_TYPES)) return code;
  }
  return undefined;
}

export interface ListWriteOptions {
  /** A literal Patient reference for a patientId; without it, subject is a logical reference by identifier. */
  readonly patientReference?: (cx: string) => string | undefined;
  /** The List's entries (its members), in order. */
  readonly entries?: readonly Reference[];
  /** meta.profile to claim (default MHD Comprehensive, or Minimal for limited metadata); false claims none. */
  readonly profile?: string | false;
}

function listCode(kind: ListKind) {
  return { coding: [{ system: MHD_LIST_TYPES, code: kind }] };
}

function identifiers(obj: { entryUuid: string; uniqueId?: string }): Identifier[] {
  return [...(obj.uniqueId === undefined ? [] : [uniqueIdToIdentifier(obj.uniqueId)]), entryUuidIdentifier(obj.entryUuid)];
}

function common(obj: SubmissionSet | Folder, options: ListWriteOptions) {
  const date = obj.type === 'SubmissionSet' ? obj.submissionTime : obj.lastUpdateTime;
  const time = date === undefined ? undefined : dtmPrimitive(date);
  return {
    identifier: identifiers(obj),
    status: obj.availabilityStatus === 'Deprecated' ? ('retired' as const) : ('current' as const),
    mode: 'working' as const,
    title: obj.title?.value,
    _title: obj.title === undefined ? undefined : textElement(obj.title),
    code: listCode(obj.type === 'SubmissionSet' ? 'submissionset' : 'folder'),
    subject: obj.patientId === undefined ? undefined : patientReference(obj.patientId, options.patientReference),
    date: time?.value,
    _date: time?.element,
  };
}

function commonExtensions(obj: SubmissionSet | Folder): Extension[] {
  return [
    ...(obj.homeCommunityId === undefined ? [] : [homeCommunityExtension(obj.homeCommunityId)]),
    ...statusExtension(obj.availabilityStatus),
    ...stringExtension(NODE_EXTENSION.logicalId, obj.logicalUuid),
    ...extraExtensions(obj.extra),
  ];
}

function note(obj: SubmissionSet | Folder) {
  if (obj.comments === undefined) return undefined;
  return [compact({ text: obj.comments.value, _text: textElement(obj.comments) })];
}

function entries(options: ListWriteOptions): ListEntry[] | undefined {
  return options.entries === undefined || options.entries.length === 0 ? undefined : options.entries.map((item) => ({ item }));
}

/** sourceId (an OID) as ihe-sourceId's Identifier: `urn:oid:` under urn:ietf:rfc:3986. */
function sourceIdIdentifier(sourceId: string): Identifier {
  const identifier: Identifier = isOid(sourceId) ? { system: URI_SYSTEM, value: `urn:oid:${sourceId}` } : { value: sourceId };
  return withOriginal(identifier, sourceId, sourceIdOf);
}

function sourceIdOf(identifier: Json): string | undefined {
  return originalOf(identifier) ?? getStr(identifier, 'value')?.replace(/^urn:oid:/i, '');
}

// --- intendedRecipient: XON|XCN|XTN ------------------------------------------------------------

function recipientToFhir(recipient: string, id: string, contained: ContainedResource[]): Reference {
  const [xon = '', xcn = '', xtn = ''] = recipient.split('|');
  const telecom = xtn === '' ? [] : [xtnToContactPoint(xtn)];
  let target: ContainedResource;
  if (xon !== '' && xcn !== '') {
    const person = xcnToPractitioner(xcn, `${id}-person`);
    const org = xonToOrganization(xon, `${id}-org`);
    contained.push(person, org);
    target = { resourceType: 'PractitionerRole', id, practitioner: { reference: `#${person.id}`, type: 'Practitioner' }, organization: { reference: `#${org.id}`, type: 'Organization' } };
    if (telecom.length > 0) target.telecom = telecom;
  } else if (xon !== '') {
    target = xonToOrganization(xon, id);
    if (telecom.length > 0) target.telecom = telecom;
  } else {
    target = xcn === '' ? { resourceType: 'Practitioner', id } : xcnToPractitioner(xcn, id);
    if (telecom.length > 0) target.telecom = telecom;
  }
  contained.push(target);
  // The exact value sits on the reference: the contained resource's own xds-original (if any) is its XCN or XON.
  return withOriginal<Reference>({ reference: `#${id}`, type: target.resourceType }, recipient, (ref) => recipientOf(ref, { contained }));
}

function recipientOf(reference: Json, container: Json, lookup?: ResourceLookup): string | undefined {
  const original = originalOf(reference);
  if (original !== undefined) return original;
  const target = resolveReference(reference, container, lookup);
  if (target === undefined) return undefined;
  const type = target['resourceType'];
  let xon = '';
  let xcn = '';
  if (type === 'PractitionerRole') {
    const org = resolveReference(get(target, 'organization'), container, lookup);
    const person = resolveReference(get(target, 'practitioner'), container, lookup);
    xon = org === undefined ? '' : (organizationToXon(org) ?? '');
    xcn = person === undefined ? '' : (practitionerToXcn(person) ?? '');
  } else if (type === 'Organization') xon = organizationToXon(target) ?? '';
  else xcn = practitionerToXcn(target) ?? '';
  const xtn = contactPointToXtn(getArr(target, 'telecom')[0]) ?? '';
  const parts = [xon, xcn, xtn];
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  const value = parts.join('|');
  return value === '' ? undefined : value;
}

// --- model → FHIR -------------------------------------------------------------------------------

export function submissionSetToList(ss: SubmissionSet, options: ListWriteOptions = {}): List {
  const contained: ContainedResource[] = [];
  const authors = authorsToFhir(ss.authors, 'author');
  contained.push(...authors.contained);
  const recipients = ss.intendedRecipients.map((r, i) => recipientToFhir(r, `recipient${i + 1}`, contained));
  const [first, ...others] = authors.references;
  const source: Reference | undefined =
    first === undefined ? undefined : first.type === 'Organization' ? { extension: [{ url: MHD_EXTENSION.authorOrg, valueReference: first }] } : first;
  const extension: Extension[] = [
    ...(ss.contentTypeCode === undefined ? [] : [{ url: MHD_EXTENSION.designationType, valueCodeableConcept: codeToConcept(ss.contentTypeCode) }]),
    ...(ss.sourceId === undefined ? [] : [{ url: MHD_EXTENSION.sourceId, valueIdentifier: sourceIdIdentifier(ss.sourceId) }]),
    ...recipients.map((valueReference) => ({ url: MHD_EXTENSION.intendedRecipient, valueReference })),
    ...others.map((valueReference) => ({ url: NODE_EXTENSION.author, valueReference })),
    ...commonExtensions(ss),
  ];
  const profile = options.profile ?? (ss.limitedMetadata ? MHD_PROFILE.minimalSubmissionSet : MHD_PROFILE.comprehensiveSubmissionSet);
  return compact({
    resourceType: 'List' as const,
    id: resourceIdOf(ss.entryUuid),
    meta: metaOf(profile, ss.version),
    contained: contained.length > 0 ? contained : undefined,
    extension: extension.length > 0 ? extension : undefined,
    ...common(ss, options),
    source,
    note: note(ss),
    entry: entries(options),
  }) as List;
}

export function folderToList(folder: Folder, options: ListWriteOptions = {}): List {
  const extension: Extension[] = [
    ...folder.codeList.map((c) => ({ url: MHD_EXTENSION.designationType, valueCodeableConcept: codeToConcept(c) })),
    ...commonExtensions(folder),
  ];
  return compact({
    resourceType: 'List' as const,
    id: resourceIdOf(folder.entryUuid),
    meta: metaOf(options.profile ?? MHD_PROFILE.comprehensiveFolder, folder.version),
    extension: extension.length > 0 ? extension : undefined,
    ...common(folder, options),
    note: note(folder),
    entry: entries(options),
  }) as List;
}

// --- FHIR → model -------------------------------------------------------------------------------

export interface ListReadOptions extends PatientResolution {
  /** Where the resource is, for issue locations (default `List`). */
  readonly location?: string;
}

/** An entry of a List read: its item reference and where it was. */
export interface ListEntryRead {
  readonly item: Json;
  readonly location: string;
}

export interface ListRead<T> {
  readonly object: T;
  readonly entries: readonly ListEntryRead[];
  readonly issues: readonly MhdIssue[];
}

/** uniqueId: the identifier of use usual (MHD), else the first that is not the entryUUID. */
function uniqueIdOf(list: Json): string | undefined {
  const ids = getArr(list, 'identifier');
  const usual = ids.find((i) => getStr(i, 'use') === 'usual');
  const chosen = usual ?? ids.find((i) => getStr(i, 'use') !== 'official' && getStr(i, 'use') !== 'temp');
  return chosen === undefined ? undefined : identifierToUniqueId(chosen);
}

function readCommon(list: Json, options: ListReadOptions, issues: MhdIssue[]) {
  const base = options.location ?? 'List';
  let patientId: string | undefined;
  const subject = patientCx(get(list, 'subject'), list, options);
  if (subject !== undefined) {
    if ('cx' in subject) patientId = subject.cx;
    else issues.push(mhdError('XDSUnknownPatientId', at(base, 'subject'), subject.problem));
  }
  const firstNote = getArr(list, 'note')[0];
  return {
    entryUuid: entryUuidOf(list) ?? '',
    uniqueId: uniqueIdOf(list),
    patientId,
    availabilityStatus: availabilityStatusOf(list),
    title: localizedText(get(list, 'title'), get(list, '_title')),
    comments: localizedText(get(firstNote, 'text'), get(firstNote, '_text')),
    homeCommunityId: homeCommunityOf(list),
    logicalUuid: logicalIdOf(list),
    version: versionOf(list),
    extra: extraOf(list),
  };
}

function readEntries(list: Json, base: string): ListEntryRead[] {
  return getArr(list, 'entry').map((e, i) => ({ item: get(e, 'item'), location: at(base, `entry[${i}].item`) }));
}

function designationCodes(list: Json) {
  return extensionsOf(list, MHD_EXTENSION.designationType).flatMap((e) => conceptToCode(e['valueCodeableConcept']) ?? []);
}

export function listToSubmissionSet(list: Json, options: ListReadOptions = {}): ListRead<SubmissionSet> {
  const base = options.location ?? 'List';
  const issues: MhdIssue[] = [];
  const lookup = options.lookup;
  const source = get(list, 'source');
  const sourceOrg = extensionsOf(source, MHD_EXTENSION.authorOrg)[0]?.['valueReference'];
  const authorRefs = [
    ...(sourceOrg !== undefined ? [sourceOrg] : source !== undefined && (getStr(source, 'reference') !== undefined || get(source, 'identifier') !== undefined) ? [source] : []),
    ...extensionsOf(list, NODE_EXTENSION.author).map((e) => e['valueReference']),
    // Earlier MHD versions put ihe-authorOrg on the List itself.
    ...extensionsOf(list, MHD_EXTENSION.authorOrg).map((e) => e['valueReference']),
  ];
  const authors = withUnreferencedInstitutions(fhirToAuthors(authorRefs, list, lookup), list);
  const sourceIdExt = extensionLike(list, MHD_EXTENSION.sourceId);
  const contentTypes = designationCodes(list);
  const submissionSet: SubmissionSet = compact({
    type: 'SubmissionSet' as const,
    ...readCommon(list, options, issues),
    sourceId: sourceIdExt === undefined ? undefined : (sourceIdOf(sourceIdExt['valueIdentifier']) ?? str(sourceIdExt['valueString'])),
    submissionTime: primitiveDtm(get(list, 'date'), get(list, '_date')),
    contentTypeCode: contentTypes[0],
    authors,
    intendedRecipients: extensionsOf(list, MHD_EXTENSION.intendedRecipient).flatMap((e) => recipientOf(e['valueReference'], list, lookup) ?? []),
    limitedMetadata: getArr(get(list, 'meta'), 'profile').includes(MHD_PROFILE.minimalSubmissionSet) ? true : undefined,
  });
  return { object: submissionSet, entries: readEntries(list, base), issues };
}

export function listToFolder(list: Json, options: ListReadOptions = {}): ListRead<Folder> {
  const base = options.location ?? 'List';
  const issues: MhdIssue[] = [];
  const folder: Folder = compact({
    type: 'Folder' as const,
    ...readCommon(list, options, issues),
    codeList: designationCodes(list),
    lastUpdateTime: primitiveDtm(get(list, 'date'), get(list, '_date')),
  });
  return { object: folder, entries: readEntries(list, base), issues };
}

/** Every `reference` string in a JSON value, at any depth. */
function referencesIn(value: Json, out: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const v of value) referencesIn(v, out);
  else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') out.add(v);
      else referencesIn(v, out);
    }
  }
  return out;
}

/**
 * NHN leniency: NHN's reference sample puts the SubmissionSet author's organisation and department
 * in `contained` without referencing them (FHIR dom-3 forbids that), meaning "the institutions of
 * the author". When the List has one author, a person without institutions, contained
 * Organizations that nothing outside themselves references become that author's institutions
 * (each as its partOf chain, broadest first).
 */
function withUnreferencedInstitutions(authors: ReturnType<typeof fhirToAuthors>, list: Json) {
  const only = authors[0];
  if (authors.length !== 1 || only === undefined || only.person === undefined || only.institutions.length > 0) return authors;
  const contained = getArr(list, 'contained').filter(isObject);
  const orgs = contained.filter((r) => r['resourceType'] === 'Organization');
  if (orgs.length === 0) return authors;
  const outside = referencesIn({ ...(list as Record<string, unknown>), contained: contained.filter((r) => r['resourceType'] !== 'Organization') }, new Set());
  const loose = orgs.filter((o) => !outside.has(`#${String(o['id'])}`));
  const parents = new Set(loose.flatMap((o) => getStr(get(o, 'partOf'), 'reference') ?? []));
  const leaves = loose.filter((o) => !parents.has(`#${String(o['id'])}`));
  const institutions: string[] = [];
  for (const leaf of leaves) {
    for (const org of organizationChain(leaf, list)) {
      const xon = organizationToXon(org);
      if (xon !== undefined && !institutions.includes(xon)) institutions.push(xon);
    }
  }
  return institutions.length === 0 ? authors : [{ ...only, institutions }];
}

