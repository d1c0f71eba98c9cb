/**
 * Shared pieces of the wiring tests: submissions, signed-assertion envelopes (scripts/sign-assertion.ts
 * with the test PKI in fixtures/certs), and the audit store read back from the node's data directory.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { AccessEntry } from '../../connector/audit/access-log.js';
import { EMBEDDED_AUDIT_FILE } from '../../connector/audit/store.js';
import { NS } from '../../registry/xml/namespaces.js';
import {
  buildAssertion,
  defaultAssertionOptions,
  FIXTURE_CERTS,
  signAssertion,
  soapEnvelope,
  testKey,
  type AssertionOptions,
  type ClinicianClaims,
} from '../../scripts/sign-assertion.js';
import { uid } from '../repository/client.js';
import { EPIKRISE_ITI42 } from '../../fixtures/index.js';

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
export const cx = (fnr: string): string => `${fnr}^^^&2.16.578.1.12.4.1.4.1&ISO`;

export const ACTION = {
  iti18: 'urn:ihe:iti:2007:RegistryStoredQuery',
  iti38: 'urn:ihe:iti:2007:CrossGatewayQuery',
  iti39: 'urn:ihe:iti:2007:CrossGatewayRetrieve',
  iti41: 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b',
  iti42: 'urn:ihe:iti:2007:RegisterDocumentSet-b',
  iti43: 'urn:ihe:iti:2007:RetrieveDocumentSet',
} as const;

/** The trust section of a node that pins the test issuer. */
export function trustConfig() {
  return {
    enabled: true,
    pinnedIssuerCertificates: [join(FIXTURE_CERTS, 'issuer.pem')],
    issuers: [TEST_ISSUER],
    audiences: [TEST_AUDIENCE],
  };
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** The Norwegian epikrise submission (ITI-42 shape), optionally coded NORS (Volven 9603). */
export function submission(patient: string, options: { nors?: boolean; forRepository?: boolean } = {}): { xml: string; docUid: string } {
  const docUid = uid();
  let xml = readFileSync(EPIKRISE_ITI42, 'utf8')
    .replace(/^<\?xml[^>]*>\s*/, '')
    .replace(/<!--[\s\S]*?-->\s*/, '')
    .replaceAll('$PATIENT$', xmlEscape(patient))
    .replaceAll('$DOC_UID$', docUid)
    .replaceAll('$SS_UID$', uid())
    .replaceAll('$NOW$', new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14));
  if (options.forRepository) xml = xml.replace(/<rim:Slot name="(hash|size|repositoryUniqueId)">[\s\S]*?<\/rim:Slot>\s*/g, '');
  if (options.nors) {
    xml = xml.replace(
      /(classificationScheme="urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f" classifiedObject="Document01" nodeRepresentation=)"N"/,
      '$1"NORS"',
    );
  }
  return { xml, docUid };
}

/** An ITI-41 body with the document inline (base64). */
export function provideBody(sorXml: string, text: string): string {
  return (
    `<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="${NS.xdsb}">${sorXml}` +
    `<xdsb:Document id="Document01">${Buffer.from(text).toString('base64')}</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>`
  );
}

export function findDocumentsBody(patient: string, home?: string): string {
  return (
    `<query:AdhocQueryRequest xmlns:query="${NS.query}" xmlns:rim="${NS.rim}">` +
    `<query:ResponseOption returnType="LeafClass" returnComposedObjects="true"/>` +
    `<rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"${home ? ` home="${home}"` : ''}>` +
    `<rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'${xmlEscape(patient)}'</rim:Value></rim:ValueList></rim:Slot>` +
    `<rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>` +
    `</rim:AdhocQuery></query:AdhocQueryRequest>`
  );
}

export function retrieveBody(repositoryUniqueId: string, documentUniqueId: string, home?: string): string {
  return (
    `<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="${NS.xdsb}"><xdsb:DocumentRequest>` +
    (home ? `<xdsb:HomeCommunityId>${home}</xdsb:HomeCommunityId>` : '') +
    `<xdsb:RepositoryUniqueId>${repositoryUniqueId}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>${documentUniqueId}</xdsb:DocumentUniqueId>` +
    `</xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>`
  );
}

/** Assertion options of the test clinician, bound to `patient` (a fødselsnummer). */
export function clinician(patientFnr: string, claims: ClinicianClaims = {}): AssertionOptions {
  return defaultAssertionOptions(new Date(), { subject: PRACTITIONER_FNR, name: PRACTITIONER_NAME, hpr: PRACTITIONER_HPR, patient: cx(patientFnr), ...claims });
}

export function signed(options: AssertionOptions, key: 'issuer' | 'attacker' = 'issuer'): string {
  return signAssertion(buildAssertion(options), testKey(key));
}

/** A SOAP 1.2 envelope (NHN layout: indented, wsu:Timestamp) carrying the assertion. */
export function envelopeWith(assertionXml: string, action: string, body: string, securityExtra?: string): string {
  const now = new Date();
  return soapEnvelope(assertionXml, {
    action,
    body,
    timestamp: { created: now, expires: new Date(now.getTime() + 300_000) },
    ...(securityExtra !== undefined ? { securityExtra } : {}),
  });
}

export const soapType = (action: string): string => `application/soap+xml; charset=UTF-8; action="${action}"`;

export interface AuditRow {
  readonly patientId: string | null;
  readonly access: AccessEntry;
  /** The stored FHIR AuditEvent as JSON text. */
  readonly resource: string;
}

/** Every audit record the node has stored, oldest first (read straight from its embedded audit store). */
export function auditRows(dataDir: string): AuditRow[] {
  const db = new Database(join(dataDir, EMBEDDED_AUDIT_FILE), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT patient_id, access, resource FROM audit_events ORDER BY recorded, rowid').all() as {
      patient_id: string | null;
      access: string;
      resource: string;
    }[];
    return rows.map((r) => ({ patientId: r.patient_id, access: JSON.parse(r.access) as AccessEntry, resource: r.resource }));
  } finally {
    db.close();
  }
}
