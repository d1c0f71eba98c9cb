/** The ITI-65 Bundles of the FHIR tests, each a fresh copy the test may change. */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fixture, nhnSample } from '../../fixtures/index.js';

/** Test data is changed freely, so it is typed loosely. */
export type Json = Record<string, any>;

export const NHN_ITI65 = 'IT_iti-65_ProvideBundle02_dept_with_reference_in_authors.json';

/** NHN's Provide Bundle: SubmissionSet List, Patient, DocumentReference, Binary (entries 0–3). */
export function nhnBundle(): Json {
  return JSON.parse(nhnSample(NHN_ITI65).toString('utf8')) as Json;
}

/** The node's own Minimal-option Bundle (fixtures/fhir/README.md): SubmissionSet, two DocumentReferences, an update, a Binary, a Folder. */
export function minimalBundle(): Json {
  return JSON.parse(readFileSync(fixture('fhir', 'iti65-minimal-folder-replace.json'), 'utf8')) as Json;
}

export const FNR_OID = '2.16.578.1.12.4.1.4.1';
export const NHN_FNR = '17855599120';
export const NHN_DOC_UUID = '00136637-d4a1-4dab-8460-994dd2a82aa4';
export const NHN_DOC_UID = '29946a9c-e77c-4c19-bc05-324d87605646';
export const KARI_FNR = '13116900216';
/** The two stored documents the node's Minimal-option Bundle names (minimalBundle above). */
export const REPLACED_UUID = 'd2a1e3f4-0b5c-4d6e-8f7a-9b0c1d2e3f4a';
export const REFERENCED_UUID = 'c7c4a0a8-52f3-4b6e-9d1a-2e3f4a5b6c7d';

export const patientOf = (fnr: string) => `patient.identifier=urn:oid:${FNR_OID}|${fnr}`;

/**
 * NHN's Bundle for another document: its entryUUID and uniqueId replaced, the patient swapped, and
 * optionally event codes and a related identifier added (the sample has neither).
 */
export function variant(options: { entryUuid?: string; patient?: string; event?: boolean; related?: boolean } = {}): Json {
  let text = JSON.stringify(nhnBundle());
  text = text.replaceAll(NHN_DOC_UUID, options.entryUuid ?? randomUUID()).replaceAll(NHN_DOC_UID, randomUUID());
  if (options.patient !== undefined) text = text.replaceAll(NHN_FNR, options.patient);
  const bundle = JSON.parse(text) as Json;
  const dr = bundle.entry.find((e: Json) => e.resource.resourceType === 'DocumentReference').resource;
  if (options.event) dr.context.event = [{ coding: [{ system: 'urn:oid:2.16.578.1.12.4.5.100.9.7', code: 'KONS', display: 'Konsultasjon' }] }];
  if (options.related) dr.context.related = [{ identifier: { system: 'urn:oid:2.16.578.1.12.4.5.100.9.8', value: 'HENV-4711' } }];
  return bundle;
}
