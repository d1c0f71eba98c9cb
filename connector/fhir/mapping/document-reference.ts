/**
 * DocumentEntry ⇄ DocumentReference (IHE MHD 4.2, ITI TF-3 4.5.1.1, Comprehensive Metadata).
 *
 * | DocumentEntry | DocumentReference |
 * |---|---|
 * | entryUUID | identifier (use official, urn:uuid:) and id (the UUID) |
 * | uniqueId | masterIdentifier (urn:oid: / urn:uuid: / system urn:oid:root + extension) |
 * | availabilityStatus | status (Approved current, Deprecated superseded) |
 * | typeCode, classCode | type, category |
 * | patientId | subject (identifier; a literal reference when the caller has one) |
 * | creationTime | content.attachment.creation, and date when it has seconds (date is an instant) |
 * | authors | author → contained Practitioner / PractitionerRole / Organization (authors.ts) |
 * | legalAuthenticator | authenticator → contained Practitioner |
 * | relationships (RPLC, XFRM, APND, signs, XFRM_RPLC, IsSnapshotOf) | relatesTo |
 * | comments | description |
 * | confidentialityCodes | securityLabel |
 * | mimeType, languageCode, size, hash, title | content.attachment.contentType, language, size, hash (SHA-1 as base64, XDS has hex), title |
 * | formatCode | content.format |
 * | eventCodes, serviceStart/StopTime, healthcareFacilityTypeCode, practiceSettingCode | context.event, period, facilityType, practiceSetting |
 * | sourcePatientInfo, sourcePatientId | context.sourcePatientInfo → contained Patient, and its identifier |
 * | referenceIdList | context.related[].identifier (all of them, encounter ids too, to keep their order) |
 * | homeCommunityId | extension ihe-HomeCommunityId |
 * | repositoryUniqueId | extension ihe-RetrieveLocationUID (IHE change proposal) |
 * | URI | node extension xds-uri (attachment.url is where to get the bytes, ITI-68) |
 * | objectType (on-demand), documentAvailability, Submitted status, lid, extra | node extensions; versionName → meta.versionId |
 *
 * Round trip: model → FHIR → model gives the same DocumentEntry for every attribute (values FHIR
 * cannot hold exactly ride along in `xds-original`, see hl7v2.ts). What does not round-trip is
 * what the DocumentEntry does not hold: the relationships' own Association objects (relatesTo keeps
 * type and target only, not the association's entryUUID, status, documentation codes or slots).
 */
import type { Association, DocumentEntry } from '../../../registry/model/metadata.js';
import { ASSOCIATION_TYPE, DOCUMENT_ENTRY_TYPE } from '../../../registry/model/metadata.js';
import { fhirToAuthors, authorsToFhir } from './authors.js';
import {
  at,
  availabilityStatusOf,
  entryUuidIdentifier,
  entryUuidOf,
  homeCommunityExtension,
  homeCommunityOf,
  logicalIdOf,
  metaOf,
  repositoryExtension,
  repositoryOf,
  resourceIdOf,
  statusExtension,
  stringExtension,
  versionOf,
} from './common.js';
import { extraExtensions, extraOf } from './extra.js';
import {
  MHD_PROFILE,
  NODE_EXTENSION,
  type Attachment,
  type ContainedResource,
  type DocumentReference,
  type DocumentReferenceContext,
  type DocumentReferenceRelatesTo,
  type Element,
  type Extension,
  type Reference,
} from './fhir.js';
import {
  codeToCoding,
  codeToConcept,
  codingToCode,
  compact,
  conceptToCode,
  cxiToIdentifier,
  cxToIdentifier,
  dtmPrimitive,
  dtmToInstant,
  identifierToCx,
  identifierToCxi,
  identifierToUniqueId,
  localizedText,
  originalExtension,
  originalOf,
  patientToPidLines,
  pidLinesToPatient,
  practitionerToXcn,
  primitiveDtm,
  textElement,
  uniqueIdToIdentifier,
  xcnToPractitioner,
} from './hl7v2.js';
import { mhdError, mhdWarning, type MhdIssue } from './issues.js';
import { patientCx, patientReference, patientResourceCx, type PatientResolution } from './patient.js';
import { extensionsOf, extensionString, get, getArr, getObj, getStr, num, resolveReference, str, type Json, type ResourceLookup } from './read.js';

// --- relatesTo codes (MHD ConceptMap AssociationTypeVsRelatesTo) --------------------------------

const RELATES_TO_CODE: Readonly<Record<string, DocumentReferenceRelatesTo['code']>> = {
  [ASSOCIATION_TYPE.RPLC]: 'replaces',
  [ASSOCIATION_TYPE.XFRM]: 'transforms',
  [ASSOCIATION_TYPE.APND]: 'appends',
  [ASSOCIATION_TYPE.signs]: 'signs',
  // Not one-to-one: the exact type rides along in xds-associationType.
  [ASSOCIATION_TYPE.XFRM_RPLC]: 'replaces',
  [ASSOCIATION_TYPE.IsSnapshotOf]: 'transforms',
};

const ASSOCIATION_BY_CODE: Readonly<Record<string, string>> = {
  replaces: ASSOCIATION_TYPE.RPLC,
  transforms: ASSOCIATION_TYPE.XFRM,
  appends: ASSOCIATION_TYPE.APND,
  signs: ASSOCIATION_TYPE.signs,
};

/** The FHIR relatesTo code of an XDS document relationship, or undefined when it has none. */
export function relatesToCode(associationType: string): DocumentReferenceRelatesTo['code'] | undefined {
  return RELATES_TO_CODE[associationType];
}

/** The CXi type code of an encounter id (ITI TF-3 4.2.3.1.7). */
const ENCOUNTER_ID_TYPE = 'urn:ihe:iti:xds:2015:encounterId';

// --- model → FHIR -------------------------------------------------------------------------------

export interface DocumentReferenceWriteOptions {
  /** Where a consumer gets the bytes (the ITI-68 URL): content.attachment.url. Without it, the entry's URI when it has one. */
  readonly documentUrl?: (entry: DocumentEntry) => string | undefined;
  /** A literal Patient reference for a patientId; without it, subject is a logical reference by identifier. */
  readonly patientReference?: (cx: string) => string | undefined;
  /** The document relationships of the registry; those whose source is this entry become relatesTo. */
  readonly relations?: readonly Association[];
  /** The reference to another DocumentReference by entryUUID (default `DocumentReference/<uuid>`). */
  readonly documentReference?: (entryUuid: string) => string;
  /** meta.profile to claim (default MHD Comprehensive DocumentReference); false claims none. */
  readonly profile?: string | false;
}

/** The default reference to the DocumentReference of an entryUUID. */
export function documentReferenceRef(entryUuid: string): string {
  return `DocumentReference/${resourceIdOf(entryUuid) ?? entryUuid}`;
}

function primitive<K extends string>(key: K, value: string | number | undefined, element: Element | undefined): Record<string, unknown> {
  return compact({ [key]: value, [`_${key}`]: element });
}

/** XDS size (a decimal string) as attachment.size (unsignedInt: at most 2^31−1). */
function sizePrimitive(size: string): Record<string, unknown> {
  const n = /^\d+$/.test(size) ? Number(size) : Number.NaN;
  const exact = Number.isSafeInteger(n) && n <= 2147483647 && String(n) === size;
  return exact ? { size: n } : { _size: { extension: [originalExtension(size)] } };
}

/** XDS hash (hex) as attachment.hash (base64 of the same 20 bytes). */
function hashPrimitive(hash: string): Record<string, unknown> {
  if (!/^[0-9a-fA-F]{40}$/.test(hash)) return { _hash: { extension: [originalExtension(hash)] } };
  const base64 = Buffer.from(hash, 'hex').toString('base64');
  return hash === hash.toLowerCase() ? { hash: base64 } : { hash: base64, _hash: { extension: [originalExtension(hash)] } };
}

export function documentEntryToDocumentReference(entry: DocumentEntry, options: DocumentReferenceWriteOptions = {}): DocumentReference {
  const contained: ContainedResource[] = [];
  const extension: Extension[] = [
    ...(entry.homeCommunityId === undefined ? [] : [homeCommunityExtension(entry.homeCommunityId)]),
    ...(entry.repositoryUniqueId === undefined ? [] : [repositoryExtension(entry.repositoryUniqueId)]),
    ...stringExtension(NODE_EXTENSION.uri, entry.uri),
    ...(entry.objectType === DOCUMENT_ENTRY_TYPE.stable ? [] : stringExtension(NODE_EXTENSION.objectType, entry.objectType)),
    ...stringExtension(NODE_EXTENSION.documentAvailability, entry.documentAvailability),
    ...statusExtension(entry.availabilityStatus),
    ...stringExtension(NODE_EXTENSION.logicalId, entry.logicalUuid),
    ...extraExtensions(entry.extra),
  ];

  const authors = authorsToFhir(entry.authors, 'author');
  contained.push(...authors.contained);
  let authenticator: Reference | undefined;
  if (entry.legalAuthenticator !== undefined) {
    contained.push(xcnToPractitioner(entry.legalAuthenticator, 'legalAuthenticator'));
    authenticator = { reference: '#legalAuthenticator', type: 'Practitioner' };
  }
  let sourcePatientInfo: Reference | undefined;
  if (entry.sourcePatientInfo.length > 0 || entry.sourcePatientId !== undefined) {
    sourcePatientInfo = {};
    if (entry.sourcePatientInfo.length > 0) {
      contained.push(pidLinesToPatient(entry.sourcePatientInfo, 'sourcePatient'));
      sourcePatientInfo.reference = '#sourcePatient';
      sourcePatientInfo.type = 'Patient';
    }
    if (entry.sourcePatientId !== undefined) sourcePatientInfo.identifier = cxToIdentifier(entry.sourcePatientId);
  }

  const ref = options.documentReference ?? documentReferenceRef;
  const relatesTo: DocumentReferenceRelatesTo[] = (options.relations ?? [])
    .filter((a) => a.sourceUuid === entry.entryUuid && RELATES_TO_CODE[a.associationType] !== undefined)
    .map((a) => {
      const code = RELATES_TO_CODE[a.associationType]!;
      const exact = ASSOCIATION_BY_CODE[code] === a.associationType;
      return compact({
        extension: exact ? undefined : [{ url: NODE_EXTENSION.associationType, valueUri: a.associationType }],
        code,
        target: { reference: ref(a.targetUuid), type: 'DocumentReference' },
      });
    });

  const url = options.documentUrl?.(entry) ?? entry.uri;
  const creation = entry.creationTime === undefined ? undefined : dtmPrimitive(entry.creationTime);
  const attachment: Attachment = compact({
    contentType: entry.mimeType,
    language: entry.languageCode,
    url,
    ...(entry.size === undefined ? {} : sizePrimitive(entry.size)),
    ...(entry.hash === undefined ? {} : hashPrimitive(entry.hash)),
    ...(entry.title === undefined ? {} : primitive('title', entry.title.value, textElement(entry.title))),
    ...(creation === undefined ? {} : primitive('creation', creation.value, creation.element)),
  });

  const start = entry.serviceStartTime === undefined ? undefined : dtmPrimitive(entry.serviceStartTime);
  const stop = entry.serviceStopTime === undefined ? undefined : dtmPrimitive(entry.serviceStopTime);
  const period = compact({ ...(start ? primitive('start', start.value, start.element) : {}), ...(stop ? primitive('end', stop.value, stop.element) : {}) });
  const context: DocumentReferenceContext = compact({
    event: entry.eventCodes.length > 0 ? entry.eventCodes.map(codeToConcept) : undefined,
    period: Object.keys(period).length > 0 ? period : undefined,
    facilityType: entry.healthcareFacilityTypeCode === undefined ? undefined : codeToConcept(entry.healthcareFacilityTypeCode),
    practiceSetting: entry.practiceSettingCode === undefined ? undefined : codeToConcept(entry.practiceSettingCode),
    sourcePatientInfo,
    related: entry.referenceIdList.length > 0 ? entry.referenceIdList.map((cxi) => ({ identifier: cxiToIdentifier(cxi) })) : undefined,
  });

  const status = entry.availabilityStatus === 'Deprecated' ? 'superseded' : 'current';
  return compact({
    resourceType: 'DocumentReference' as const,
    id: resourceIdOf(entry.entryUuid),
    meta: metaOf(options.profile === undefined ? MHD_PROFILE.comprehensiveDocumentReference : options.profile, entry.version),
    contained: contained.length > 0 ? contained : undefined,
    extension: extension.length > 0 ? extension : undefined,
    masterIdentifier: entry.uniqueId === undefined ? undefined : uniqueIdToIdentifier(entry.uniqueId),
    identifier: [entryUuidIdentifier(entry.entryUuid)],
    status,
    type: entry.typeCode === undefined ? undefined : codeToConcept(entry.typeCode),
    category: entry.classCode === undefined ? undefined : [codeToConcept(entry.classCode)],
    subject: entry.patientId === undefined ? undefined : patientReference(entry.patientId, options.patientReference),
    // date is an instant: only a creationTime to the second can fill it. XDS has no time the
    // reference itself was made; creationTime is the closest, and consumers sort on date.
    date: entry.creationTime === undefined ? undefined : dtmToInstant(entry.creationTime),
    author: authors.references.length > 0 ? authors.references : undefined,
    authenticator,
    relatesTo: relatesTo.length > 0 ? relatesTo : undefined,
    ...(entry.comments === undefined ? {} : primitive('description', entry.comments.value, textElement(entry.comments))),
    securityLabel: entry.confidentialityCodes.length > 0 ? entry.confidentialityCodes.map(codeToConcept) : undefined,
    content: [compact({ attachment, format: entry.formatCode === undefined ? undefined : codeToCoding(entry.formatCode) })],
    context: Object.keys(context).length > 0 ? context : undefined,
  }) as DocumentReference;
}

// --- FHIR → model -------------------------------------------------------------------------------

export interface DocumentReferenceReadOptions extends PatientResolution {
  /** Where the resource is, for issue locations (default `DocumentReference`). */
  readonly location?: string;
  /**
   * Take sourcePatientId from the source patient's identifier when sourcePatientInfo has no
   * identifier of its own (MHD sources often give only the reference; XDS requires the id).
   */
  readonly inferSourcePatientId?: boolean;
}

/** A relatesTo of the resource read: the XDS association type and the target as given. */
export interface RelatesToRead {
  readonly associationType: string;
  readonly target: Json;
  /** The target's entryUUID when the reference itself says it (`DocumentReference/<uuid>`, an official urn:uuid identifier). */
  readonly targetUuid?: string;
  readonly location: string;
}

export interface DocumentReferenceRead {
  readonly entry: DocumentEntry;
  readonly relatesTo: readonly RelatesToRead[];
  readonly issues: readonly MhdIssue[];
}

/** The entryUUID a reference to a DocumentReference states by itself, without looking anything up. */
export function documentReferenceTargetUuid(reference: Json): string | undefined {
  const ref = getStr(reference, 'reference');
  const m = ref === undefined ? null : /(?:^|\/)DocumentReference\/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?:\/_history\/[^/]+)?$/.exec(ref);
  if (m) return `urn:uuid:${m[1]}`;
  if (ref !== undefined && /^urn:uuid:/i.test(ref)) return undefined; // a Bundle-internal reference: the Bundle decides
  const identifier = get(reference, 'identifier');
  const value = getStr(identifier, 'value');
  return value !== undefined && /^urn:uuid:[0-9a-fA-F-]{36}$/i.test(value) ? value : undefined;
}

/** attachment.hash (base64 SHA-1) as XDS hex; 40 hex digits are taken as they are (a frequent mistake), anything else kept for the registry to name. */
function hashOf(attachment: Json): string | undefined {
  const original = originalOf(get(attachment, '_hash'));
  if (original !== undefined) return original;
  const hash = getStr(attachment, 'hash');
  if (hash === undefined) return undefined;
  if (/^[0-9a-fA-F]{40}$/.test(hash)) return hash;
  if (/^[A-Za-z0-9+/]{27}=$/.test(hash)) return Buffer.from(hash, 'base64').toString('hex');
  return hash;
}

function sizeOf(attachment: Json): string | undefined {
  const original = originalOf(get(attachment, '_size'));
  if (original !== undefined) return original;
  const size = num(get(attachment, 'size'));
  return size === undefined ? undefined : String(size);
}

export function documentReferenceToDocumentEntry(resource: Json, options: DocumentReferenceReadOptions = {}): DocumentReferenceRead {
  const base = options.location ?? 'DocumentReference';
  const issues: MhdIssue[] = [];
  const lookup: ResourceLookup | undefined = options.lookup;
  const content = getArr(resource, 'content');
  if (content.length > 1) issues.push(mhdWarning('XDSRegistryMetadataError', at(base, 'content[1]'), 'only the first content of a DocumentReference is an XDS document; the others are ignored'));
  const first = content[0];
  const attachment = get(first, 'attachment');
  const context = getObj(resource, 'context');

  let patientId: string | undefined;
  const subject = patientCx(get(resource, 'subject'), resource, options);
  if (subject !== undefined) {
    if ('cx' in subject) patientId = subject.cx;
    else issues.push(mhdError('XDSUnknownPatientId', at(base, 'subject'), subject.problem));
  }

  const spi = get(context, 'sourcePatientInfo');
  const sourcePatient = resolveReference(spi, resource, lookup);
  const spiIdentifier = get(spi, 'identifier');
  const sourcePatientId =
    (spiIdentifier === undefined ? undefined : identifierToCx(spiIdentifier)) ??
    (options.inferSourcePatientId && sourcePatient !== undefined ? patientResourceCx(sourcePatient) : undefined);
  if (spi !== undefined && getStr(spi, 'reference') !== undefined && sourcePatient === undefined) {
    issues.push(mhdWarning('XDSRegistryMetadataError', at(base, 'context.sourcePatientInfo'), 'sourcePatientInfo does not resolve to a Patient in the resource or the Bundle; it is left out'));
  }

  const authenticatorResource = resolveReference(get(resource, 'authenticator'), resource, lookup);
  const authenticatorPerson =
    authenticatorResource?.['resourceType'] === 'PractitionerRole' ? resolveReference(get(authenticatorResource, 'practitioner'), resource, lookup) : authenticatorResource;

  // context.related first, then context.encounter: this mapping writes every referenceIdList value
  // to related (keeping their order); an encounter of another source is a value of type encounterId.
  const referenceIdList = [
    ...getArr(context, 'related').map((r, i) => [r, `context.related[${i}]`, false] as const),
    ...getArr(context, 'encounter').map((r, i) => [r, `context.encounter[${i}]`, true] as const),
  ].flatMap(([r, path, isEncounter]) => {
    const identifier = get(r, 'identifier');
    if (identifier === undefined) return [];
    const cxi = identifierToCxi(identifier);
    if (cxi === undefined) {
      issues.push(mhdWarning('XDSRegistryMetadataError', at(base, path), 'a related identifier without an assigning authority OID cannot be an XDS referenceIdList value; it is left out'));
      return [];
    }
    const typed = originalOf(identifier) !== undefined || getArr(get(identifier, 'type'), 'coding').length > 0;
    return [isEncounter && !typed ? `${cxi}^${ENCOUNTER_ID_TYPE}` : cxi];
  });

  const relatesTo: RelatesToRead[] = getArr(resource, 'relatesTo').flatMap((r, i) => {
    const code = getStr(r, 'code') ?? '';
    const exact = str(get(extensionsOf(r, NODE_EXTENSION.associationType)[0], 'valueUri'));
    const associationType = exact ?? ASSOCIATION_BY_CODE[code];
    if (associationType === undefined) {
      issues.push(mhdWarning('XDSRegistryMetadataError', at(base, `relatesTo[${i}].code`), `relatesTo code "${code}" has no XDS association; it is ignored`));
      return [];
    }
    const target = get(r, 'target');
    return [compact({ associationType, target, targetUuid: documentReferenceTargetUuid(target), location: at(base, `relatesTo[${i}]`) })];
  });

  const timeOf = (owner: Json, key: string) => primitiveDtm(get(owner, key), get(owner, `_${key}`));
  const period = get(context, 'period');
  const entry: DocumentEntry = compact({
    type: 'DocumentEntry' as const,
    entryUuid: entryUuidOf(resource) ?? '',
    uniqueId: get(resource, 'masterIdentifier') === undefined ? undefined : identifierToUniqueId(get(resource, 'masterIdentifier')),
    patientId,
    availabilityStatus: availabilityStatusOf(resource),
    title: localizedText(get(attachment, 'title'), get(attachment, '_title')),
    comments: localizedText(get(resource, 'description'), get(resource, '_description')),
    // Peers put homeCommunityId on the resource (MHD 4.2) or on the attachment (NHN's sample).
    homeCommunityId: homeCommunityOf(resource) ?? homeCommunityOf(attachment),
    logicalUuid: logicalIdOf(resource),
    version: versionOf(resource),
    extra: extraOf(resource),
    objectType: extensionString(resource, NODE_EXTENSION.objectType) ?? DOCUMENT_ENTRY_TYPE.stable,
    mimeType: getStr(attachment, 'contentType'),
    classCode: conceptToCode(getArr(resource, 'category')[0]),
    typeCode: conceptToCode(get(resource, 'type')),
    formatCode: codingToCode(get(first, 'format')),
    healthcareFacilityTypeCode: conceptToCode(get(context, 'facilityType')),
    practiceSettingCode: conceptToCode(get(context, 'practiceSetting')),
    confidentialityCodes: getArr(resource, 'securityLabel').flatMap((c) => conceptToCode(c) ?? []),
    eventCodes: getArr(context, 'event').flatMap((c) => conceptToCode(c) ?? []),
    authors: fhirToAuthors(getArr(resource, 'author'), resource, lookup),
    creationTime: timeOf(attachment, 'creation'),
    serviceStartTime: timeOf(period, 'start'),
    serviceStopTime: timeOf(period, 'end'),
    hash: hashOf(attachment),
    size: sizeOf(attachment),
    languageCode: getStr(attachment, 'language'),
    repositoryUniqueId: repositoryOf(resource),
    uri: extensionString(resource, NODE_EXTENSION.uri),
    sourcePatientId,
    sourcePatientInfo: sourcePatient === undefined ? [] : patientToPidLines(sourcePatient),
    legalAuthenticator: authenticatorPerson === undefined ? undefined : practitionerToXcn(authenticatorPerson),
    referenceIdList,
    documentAvailability: extensionString(resource, NODE_EXTENSION.documentAvailability),
  });
  return { entry, relatesTo, issues };
}
