/**
 * The XDS patientId (a CX, `id^^^&oid&ISO`) of a FHIR Patient reference, and back.
 *
 * MHD lets a source name the patient four ways (ITI TF-2 3.65.4.1.2.2): a Patient resource in the
 * Bundle, a Patient on a shared server, a conditional reference (`Patient?identifier=sys|val`), or
 * a logical reference by identifier. All four are read here. The node keeps no Patient resources:
 * the Patient "server" of its FHIR facade is this mapping's convention of a logical id made of the
 * assigning authority's OID and the id (`2.16.578.1.12.4.1.4.1-13116900216`: an OID never holds a
 * `-`, so the first one splits them), so that `Patient/<id>` references need no lookup table.
 */
import { isOid } from '../../../registry/model/hl7.js';
import type { Reference } from './fhir.js';
import { cxToIdentifier, identifierToCx, oidOfSystem } from './hl7v2.js';
import { get, getArr, getStr, resolveReference, type Json, type ResourceLookup } from './read.js';

export interface PatientResolution {
  /** Patients in the Bundle (or elsewhere in the request) by reference string. */
  readonly lookup?: ResourceLookup;
  /**
   * The CX of a Patient reference this mapping cannot resolve itself (a Patient on another server,
   * e.g. a PIXm/PDQm source); undefined when unknown.
   */
  readonly resolvePatient?: (reference: string) => string | undefined;
}

/** The node's logical Patient id for a CX (`<oid>-<id>`), or undefined when the CX has no OID or the id is no FHIR id. */
export function patientResourceId(cx: string): string | undefined {
  const [id = '', , , aa = ''] = cx.split('^');
  const oid = aa.split('&')[1] ?? '';
  const logical = `${oid}-${id}`;
  return isOid(oid) && /^[A-Za-z0-9\-.]{1,64}$/.test(logical) && id !== '' ? logical : undefined;
}

/** The CX of a node Patient id (`<oid>-<id>`), or undefined when it is not one. */
export function cxOfPatientResourceId(id: string): string | undefined {
  const dash = id.indexOf('-');
  if (dash <= 0) return undefined;
  const oid = id.slice(0, dash);
  const value = id.slice(dash + 1);
  return isOid(oid) && value !== '' ? `${value}^^^&${oid}&ISO` : undefined;
}

/** The subject Reference of a patientId: always its identifier, and a literal reference when the caller has one. */
export function patientReference(cx: string, literal?: (cx: string) => string | undefined): Reference {
  const reference = literal?.(cx);
  return { ...(reference === undefined ? {} : { reference }), type: 'Patient', identifier: cxToIdentifier(cx) };
}

/** The CX of a Patient resource: its official identifier with an OID system, else its first with one. */
export function patientResourceCx(patient: Json): string | undefined {
  const identifiers = getArr(patient, 'identifier');
  const official = identifiers.filter((i) => getStr(i, 'use') === 'official');
  for (const candidate of [...official, ...identifiers]) {
    const cx = identifierToCx(candidate);
    if (cx !== undefined) return cx;
  }
  return undefined;
}

/** `Patient?identifier=system|value` (a conditional reference in a transaction) as a CX. */
function conditionalCx(reference: string): string | undefined {
  const m = /^Patient\?(.*)$/.exec(reference);
  if (!m) return undefined;
  const token = new URLSearchParams(m[1]).get('identifier');
  const bar = token?.indexOf('|') ?? -1;
  if (token === null || token === undefined || bar < 0) return undefined;
  const oid = oidOfSystem(token.slice(0, bar));
  const value = token.slice(bar + 1);
  return oid === undefined || value === '' ? undefined : `${value}^^^&${oid}&ISO`;
}

export type PatientCx = { readonly cx: string } | { readonly problem: string };

/**
 * The CX a Patient reference stands for. Undefined when there is no reference at all; a problem
 * when there is one that names no patient this mapping can identify.
 */
export function patientCx(reference: Json, container: Json, options: PatientResolution = {}): PatientCx | undefined {
  if (reference === undefined) return undefined;
  const identifier = get(reference, 'identifier');
  if (identifier !== undefined) {
    const cx = identifierToCx(identifier);
    return cx === undefined ? { problem: 'the patient identifier has no assigning authority OID (system urn:oid:…) or no value' } : { cx };
  }
  const ref = getStr(reference, 'reference');
  if (ref === undefined) return { problem: 'the patient reference has neither a reference nor an identifier' };
  const resource = resolveReference(reference, container, options.lookup);
  if (resource !== undefined) {
    if (resource['resourceType'] !== 'Patient') return { problem: `${ref} is a ${String(resource['resourceType'])}, not a Patient` };
    const cx = patientResourceCx(resource);
    return cx === undefined ? { problem: `Patient ${ref} has no identifier with an assigning authority OID (system urn:oid:…)` } : { cx };
  }
  const cx = conditionalCx(ref) ?? options.resolvePatient?.(ref) ?? nodePatientCx(ref);
  return cx === undefined ? { problem: `Patient ${ref} cannot be resolved to a patient id` } : { cx };
}

/** `Patient/<oid>-<id>` (relative, or the tail of an absolute URL) in the node's own convention. */
function nodePatientCx(reference: string): string | undefined {
  const m = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
  return m ? cxOfPatientResourceId(m[1]!) : undefined;
}
