/** The ITI-65 Bundles of the FHIR tests, each a fresh copy the test may change. */
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
