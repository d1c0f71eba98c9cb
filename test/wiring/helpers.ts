/**
 * Shared pieces of the wiring tests: the test clinician and patients, assertions signed with the
 * test PKI in fixtures/certs (scripts/sign-assertion.ts), and the audit store read back from the
 * node's data directory. Envelopes and message bodies are the shared ones of test/helpers.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { AccessEntry } from '../../connector/audit/access-log.js';
import { EMBEDDED_AUDIT_FILE, storedEventResource } from '../../connector/audit/store.js';
import {
  buildAssertion,
  defaultAssertionOptions,
  FIXTURE_CERTS,
  signAssertion,
  testKey,
  type AssertionOptions,
  type ClinicianClaims,
} from '../../scripts/sign-assertion.js';
import { nhnSample } from '../../fixtures/index.js';
import { cx } from '../helpers/ebxml.js';

export const TEST_ISSUER = 'https://idp.test.koblingspunkt.example';
export const TEST_AUDIENCE = 'urn:koblingspunkt:test';
export const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1';
/** The practitioner: a synthetic fødselsnummer that must never appear in the access log (ATT-8). */
export const PRACTITIONER_FNR = '13116900216';
export const PRACTITIONER_NAME = 'Ærlig Øvergård';
export const PRACTITIONER_HPR = '565505933';
/** Patients (valid fødselsnummer check digits, adults). */
export const PATIENT_FNR = '12057900499';
export const OTHER_FNR = '01017012343';

/** The trust section of a node that pins the test issuer. */
export function trustConfig() {
  return {
    enabled: true,
    pinnedIssuerCertificates: [join(FIXTURE_CERTS, 'issuer.pem')],
    issuers: [TEST_ISSUER],
    audiences: [TEST_AUDIENCE],
  };
}

/** Assertion options of the test clinician, bound to `patient` (a fødselsnummer). */
export function clinician(patientFnr: string, claims: ClinicianClaims = {}): AssertionOptions {
  return defaultAssertionOptions(new Date(), { subject: PRACTITIONER_FNR, name: PRACTITIONER_NAME, hpr: PRACTITIONER_HPR, patient: cx(patientFnr), ...claims });
}

export function signed(options: AssertionOptions, key: 'issuer' | 'attacker' = 'issuer'): string {
  return signAssertion(buildAssertion(options), testKey(key));
}

export interface AuditRow {
  readonly patientId: string | null;
  readonly access: AccessEntry;
  /** The stored event as a FHIR AuditEvent's JSON text (as the store renders it when read). */
  readonly resource: string;
}

/** Every audit record the node has stored, oldest first (read straight from its embedded audit store's file). */
export function auditRows(dataDir: string): AuditRow[] {
  const db = new Database(join(dataDir, EMBEDDED_AUDIT_FILE), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT patient_id, access, resource, event FROM audit_events ORDER BY recorded, rowid').all() as {
      patient_id: string | null;
      access: string;
      resource: string;
      event: string | null;
    }[];
    return rows.map((r) => ({
      patientId: r.patient_id,
      access: JSON.parse(r.access) as AccessEntry,
      resource: r.event !== null ? JSON.stringify(storedEventResource(r.event)) : r.resource,
    }));
  } finally {
    db.close();
  }
}

/**
 * NHN's sample as its clients send it, with the assertion made verifiable here: the same
 * attributes, subject and layout, the issuer, audience and times of the test PKI, and a fresh
 * signature by the test issuer (the sample's own is NHN's, on an expired token).
 */
export function resignedNhnSample(name: string): string {
  const raw = nhnSample(name).toString('utf8');
  const start = raw.indexOf('<saml:Assertion');
  const end = raw.indexOf('</saml:Assertion>') + '</saml:Assertion>'.length;
  const now = Date.now();
  const iso = (ms: number): string => new Date(ms).toISOString();
  const assertion = raw
    .slice(start, end)
    .replace(/<Signature xmlns="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">[\s\S]*?<\/Signature>\s*/, '')
    .replace('<saml:Issuer>https://helseid-xdssaml.test.nhn.no</saml:Issuer>', `<saml:Issuer>${TEST_ISSUER}</saml:Issuer>`)
    .replace('<saml:Audience>nhn:dokumentdeling-saml</saml:Audience>', `<saml:Audience>${TEST_AUDIENCE}</saml:Audience>`)
    .replace(/IssueInstant="[^"]*"/, `IssueInstant="${iso(now)}"`)
    .replace(/ NotBefore="[^"]*"/, ` NotBefore="${iso(now - 60_000)}"`)
    .replace(/ NotOnOrAfter="[^"]*"/, ` NotOnOrAfter="${iso(now + 3_600_000)}"`)
    .replace(/AuthnInstant="[^"]*"/, `AuthnInstant="${iso(now - 120_000)}"`)
    .replace(/SessionNotOnOrAfter="[^"]*"/, `SessionNotOnOrAfter="${iso(now + 3_600_000)}"`);
  if (assertion.includes('<Signature')) throw new Error(`${name}: the sample's signature was not removed`);
  const envelopeText = raw.slice(0, start) + signAssertion(assertion, testKey('issuer')) + raw.slice(end);
  return envelopeText
    .replace(/<u:Created>[^<]*<\/u:Created>/, `<u:Created>${iso(now).replace(/\.\d{3}Z$/, 'Z')}</u:Created>`)
    .replace(/<u:Expires>[^<]*<\/u:Expires>/, `<u:Expires>${iso(now + 300_000).replace(/\.\d{3}Z$/, 'Z')}</u:Expires>`);
}
