/**
 * Shared test values and the DICOM schema check (xmllint-wasm running libxml2's RELAX NG
 * validator on the schema transcribed from DICOM PS3.15 A.5.1).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { validateXML } from 'xmllint-wasm';
import type { AuditPrincipal, BaseAuditInput } from '../../connector/audit/event.js';

const schemaPath = fileURLToPath(new URL('../../connector/audit/schema/dicom-audit-message.rng', import.meta.url));
const schema = readFileSync(schemaPath, 'utf8');

/** Validates audit messages in one xmllint call; returns the errors (empty when all are valid). */
export async function dicomSchemaErrors(xmls: readonly string[]): Promise<string[]> {
  const result = await validateXML({
    xml: xmls.map((contents, i) => ({ fileName: `audit-${i}.xml`, contents })),
    schema: { fileName: 'dicom-audit-message.rng', contents: schema },
    extension: 'relaxng',
  });
  return result.valid ? [] : result.errors.map((e) => e.rawMessage);
}

/** A fødselsnummer (synthetic test person) that must never appear in the access log. */
export const PRACTITIONER_FNR = '13116900216';
/** A valid fødselsnummer (check digits and date) of a synthetic person, in CX form. */
export const PATIENT_NUMBER = '01017012343';
export const PATIENT_ID = `${PATIENT_NUMBER}^^^&2.16.578.1.12.4.1.4.1&ISO`;
/** A second valid fødselsnummer, of another patient. */
export const OTHER_PATIENT_NUMBER = '02027012372';
/** The saml:Assertion/@ID of the principal below. */
export const ASSERTION_ID = '_c7a0f3e2-5b1d-4e8a-9f61-2d3c4b5a6978';

/** Codes as connector/trust hands them over: code systems as bare OIDs (principal.ts strips urn:oid:). */
export const principal: AuditPrincipal = {
  assertionId: ASSERTION_ID,
  name: 'Ærlig Øvergård',
  userId: PRACTITIONER_FNR,
  hpr: '502116685',
  organisation: { id: '983974880', name: 'Finnmarkssykehuset HF' },
  pointOfCare: { id: '4208723', name: 'Medisinsk avdeling, Hammerfest' },
  healthcareService: { code: 'S03', display: 'Indremedisin', system: '2.16.578.1.12.4.1.1.8655' },
  purposeOfUse: { code: 'TREAT', display: 'Treatment', system: '2.16.840.1.113883.1.11.20448' },
  decisionRef: 'b3f0e8a4-2d1c-4c55-9a7e-0f4c2b9d1e77',
  role: { code: 'LE', display: 'Lege', system: '2.16.578.1.12.4.1.1.9060' },
};

export function baseInput(overrides: Partial<BaseAuditInput> = {}): BaseAuditInput {
  return {
    side: 'responder',
    client: { userId: 'http://www.w3.org/2005/08/addressing/anonymous', networkAccessPoint: '10.1.2.3' },
    server: { userId: 'https://node.example.no/xds/registry', networkAccessPoint: 'node.example.no' },
    node: { id: 'urn:oid:2.16.578.1.12.4.5.100.1' },
    principal,
    patientId: PATIENT_ID,
    outcome: 'success',
    ...overrides,
  };
}
