/**
 * The FHIR AuditEvent JSON that the audit stores keep is byte for byte what JSON.stringify writes of
 * the object mapping below (the reference, written the plain way), for every kind of event and for
 * strings that need escaping.
 */
import { expect } from 'chai';
import { ATTESTATION_DETAIL_TYPES, OID } from '../../connector/audit/dicom.js';
import {
  auditEvents,
  denialEvent,
  OUTCOME_CODE,
  securityFailureEvent,
  type AuditCode,
  type AuditEndpoint,
  type AuditEvent,
  type AuditPrincipal,
  type CodedValue,
} from '../../connector/audit/event.js';
import { fhirAuditEventJson, toFhirAuditEvent } from '../../connector/audit/fhir.js';
import { baseInput, principal } from './fixtures.js';

// ---- the reference: the mapping as an object, from which fhir.ts writes the JSON text itself ----

const DCM_SYSTEM = 'http://dicom.nema.org/resources/ontology/DCM';
const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition';

/** Code systems as FHIR names them, stated as a table and rules: HL7 URIs for HL7 OIDs, urn:oid: for other OIDs, URIs kept, the rest dropped. */
const HL7: Readonly<Record<string, string>> = {
  '2.16.840.1.113883.5.8': 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
  '2.16.840.1.113883.1.11.20448': 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
  '2.16.840.1.113883.5.110': 'http://terminology.hl7.org/CodeSystem/v3-RoleClass',
  '2.16.840.1.113883.5.111': 'http://terminology.hl7.org/CodeSystem/v3-RoleCode',
  '2.16.840.1.113883.5.90': 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
  '2.16.840.1.113883.5.25': 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
};
function system(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  if (s === 'DCM') return DCM_SYSTEM;
  if (s === 'IHE Transactions') return 'urn:ihe:event-type-code';
  const oid = s.trim().replace(/^urn:oid:/i, '');
  if (/^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/.test(oid) && oid.length <= 64) return HL7[oid] ?? `urn:oid:${oid}`;
  return /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(s) ? s : undefined;
}

function coding(c: CodedValue): Record<string, string> {
  const sys = system(c.system);
  return { ...(sys !== undefined ? { system: sys } : {}), code: c.code, display: c.display };
}

function auditCoding(c: AuditCode): Record<string, string> {
  const sys = system(c.system);
  return { ...(sys !== undefined ? { system: sys } : {}), code: c.code, ...(c.display !== undefined ? { display: c.display } : {}) };
}

function systemAgent(e: AuditEndpoint, role: CodedValue, requestor: boolean): Record<string, unknown> {
  return {
    type: { coding: [coding(role)] },
    who: { identifier: { value: e.userId } },
    ...(e.alternativeUserId !== undefined ? { altId: e.alternativeUserId } : {}),
    requestor,
    ...(e.networkAccessPoint !== undefined
      ? { network: { address: e.networkAccessPoint, type: /^[\d.]+$|:/.test(e.networkAccessPoint) ? '2' : '1' } }
      : {}),
  };
}

const samlUser = (p: AuditPrincipal | undefined): boolean => !!p?.assertionId && !!p.userId;

/** BALP: only the SAML token profiles can apply; Comprehensive needs the organisation's name when there is an organisation. */
function profiles(event: AuditEvent): string[] {
  const p = event.requestor;
  if (!samlUser(p)) return [];
  return [`${BALP}/IHE.BasicAudit.SAMLaccessTokenUse.${p!.organisation && p!.organisation.name === undefined ? 'Minimal' : 'Comprehensive'}`];
}

function entityType(code: string, display: string): Record<string, string> {
  return { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code, display };
}

function entityRole(code: string, display: string): Record<string, string> {
  return { system: 'http://terminology.hl7.org/CodeSystem/object-role', code, display };
}

function detail(type: string, value: string): Record<string, string> {
  return { type, valueBase64Binary: Buffer.from(value, 'utf8').toString('base64') };
}

function patientWhat(patientId: string): Record<string, unknown> {
  const [id = '', , , authority = ''] = patientId.split('^');
  const oid = (authority.split('&')[1] ?? '').replace(/^urn:oid:/, '');
  const isOid = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/.test(oid) && oid.length <= 64;
  return { type: 'Patient', identifier: { ...(isOid ? { system: `urn:oid:${oid}` } : {}), value: id.trim() !== '' ? id.trim() : patientId } };
}

function referenceFhir(event: AuditEvent): Record<string, unknown> {
  const agents: Record<string, unknown>[] = [
    systemAgent(event.source, { code: '110153', system: 'DCM', display: 'Source Role ID' }, event.requestingParty === 'source'),
    systemAgent(event.destination, { code: '110152', system: 'DCM', display: 'Destination Role ID' }, event.requestingParty === 'destination'),
  ];
  const p = event.requestor;
  if (p !== undefined) {
    const otherIds = p.hpr !== undefined
      ? [{ url: `${BALP}/ihe-otherId`, valueIdentifier: { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'NPI', display: 'National provider identifier' }] }, system: `urn:oid:${OID.hpr}`, value: p.hpr } }]
      : [];
    const read = ['ITI-18', 'ITI-38', 'ITI-39', 'ITI-43'].includes(event.transaction ?? '');
    const participation = read
      ? { system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }
      : { system: 'http://terminology.hl7.org/CodeSystem/v3-RoleClass', code: 'AGNT', display: 'agent' };
    const saml = { system: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/UserAgentTypes', code: 'UserSamlAgent', display: 'User SAML Agent participant' };
    agents.push({
      ...(otherIds.length > 0 ? { extension: otherIds } : {}),
      type: { coding: samlUser(p) ? [saml, participation] : [participation] },
      who: {
        ...(p.userId !== undefined ? { identifier: { system: `urn:oid:${OID.fodselsnummer}`, value: p.userId } } : {}),
        ...(p.name !== undefined ? { display: p.name } : {}),
      },
      ...(p.name !== undefined ? { name: p.name } : {}),
      requestor: true,
      ...(p.role !== undefined ? { role: [{ coding: [auditCoding(p.role)] }] } : {}),
      ...(p.assertionId ? { policy: [p.assertionId] } : {}),
      ...(p.pointOfCare !== undefined
        ? { location: { identifier: { value: p.pointOfCare.id }, ...(p.pointOfCare.name !== undefined ? { display: p.pointOfCare.name } : {}) } }
        : {}),
      ...(p.purposeOfUse !== undefined ? { purposeOfUse: [{ coding: [auditCoding(p.purposeOfUse)] }] } : {}),
    });
    if (p.organisation !== undefined) {
      agents.push({
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleClass', code: 'PROV', display: 'healthcare provider' }] },
        who: {
          identifier: { system: `urn:oid:${OID.organisasjonsnummer}`, value: p.organisation.id },
          ...(p.organisation.name !== undefined ? { display: p.organisation.name } : {}),
        },
        requestor: false,
      });
    }
  }

  const entities: Record<string, unknown>[] = [];
  if (event.patientId !== undefined) {
    entities.push({ what: patientWhat(event.patientId), type: entityType('1', 'Person'), role: entityRole('1', 'Patient') });
  }
  if (event.query !== undefined) {
    const q = event.query;
    entities.push({
      what: { identifier: { value: q.storedQueryId } },
      type: entityType('2', 'System Object'),
      role: entityRole('24', 'Query'),
      query: Buffer.from(q.text, 'utf8').toString('base64'),
      detail: [detail('QueryEncoding', 'UTF-8'), ...(q.homeCommunityId !== undefined ? [detail('urn:ihe:iti:xca:2010:homeCommunityId', q.homeCommunityId)] : [])],
    });
  }
  if (event.submissionSetUniqueId !== undefined) {
    entities.push({ what: { identifier: { value: event.submissionSetUniqueId } }, type: entityType('2', 'System Object'), role: entityRole('20', 'Job') });
  }
  for (const d of event.documents) {
    const details = [
      ...(d.repositoryUniqueId !== undefined ? [detail('Repository Unique Id', d.repositoryUniqueId)] : []),
      ...(d.homeCommunityId !== undefined ? [detail('ihe:homeCommunityID', d.homeCommunityId)] : []),
    ];
    entities.push({
      what: { identifier: { value: d.uniqueId } },
      type: entityType('2', 'System Object'),
      role: entityRole('3', 'Report'),
      ...(details.length > 0 ? { detail: details } : {}),
    });
  }
  for (const uuid of event.objectUuids) {
    entities.push({ what: { identifier: { value: uuid } }, type: entityType('2', 'System Object'), role: entityRole('3', 'Report') });
  }
  if (p?.healthcareService !== undefined || p?.decisionRef !== undefined) {
    const s = p.healthcareService;
    entities.push({
      ...(p.decisionRef !== undefined ? { what: { identifier: { value: p.decisionRef } } } : {}),
      type: entityType('2', 'System Object'),
      role: entityRole('13', 'Security Resource'),
      name: 'Trust-framework attestation',
      detail: [
        ...(s !== undefined ? [detail(ATTESTATION_DETAIL_TYPES.healthcareService, [s.code, s.display ?? '', s.system ?? ''].join('^'))] : []),
        ...(p.decisionRef !== undefined ? [detail(ATTESTATION_DETAIL_TYPES.decisionRef, p.decisionRef)] : []),
      ],
    });
  }

  const claimed = profiles(event);
  return {
    resourceType: 'AuditEvent',
    id: event.id,
    ...(claimed.length > 0 ? { meta: { profile: claimed } } : {}),
    type: coding(event.eventId),
    subtype: event.eventTypes.map(coding),
    action: event.eventAction,
    recorded: event.recorded,
    outcome: OUTCOME_CODE[event.outcome],
    ...(event.outcomeDescription !== undefined ? { outcomeDesc: event.outcomeDescription } : {}),
    ...(p?.purposeOfUse !== undefined ? { purposeOfEvent: [{ coding: [auditCoding(p.purposeOfUse)] }] } : {}),
    agent: agents,
    source: {
      ...(event.auditSource.enterpriseSiteId !== undefined ? { site: event.auditSource.enterpriseSiteId } : {}),
      observer: { identifier: { value: event.auditSource.id } },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
    ...(entities.length > 0 ? { entity: entities } : {}),
  };
}

// ---- the events compared ----

/** Strings JSON.stringify escapes: quotes, backslashes, control characters, lone and paired surrogates. */
const AWKWARD = ['quote " and \\ backslash', 'line\nbreak\ttab\u0001\u001f', 'lone \ud800 surrogate \udfff', 'pair \ud83d\ude00 ok', 'Ærlig Øvergård ü €', ''];

const query = { storedQueryId: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d', text: '<q:AdhocQueryRequest xmlns:q="urn:x">æøå &amp; "</q:AdhocQueryRequest>' };
const documents = [
  { uniqueId: '2.16.578.1.12.4.5.100.1.7.1', repositoryUniqueId: '2.16.578.1.12.4.5.100.1.2', homeCommunityId: 'urn:oid:2.16.578.1.12.4.5.100.1' },
  { uniqueId: '2.16.578.1.12.4.5.100.1.7.2', repositoryUniqueId: '2.16.578.1.12.4.5.100.1.2' },
  { uniqueId: '2.16.578.1.12.4.5.100.1.7.3', homeCommunityId: 'urn:oid:1.2.3' },
  { uniqueId: '2.16.578.1.12.4.5.100.1.7.4' },
];

/** Principals from complete to empty, and one whose every string needs escaping. */
function principals(): (AuditPrincipal | undefined)[] {
  const awkward = (i: number) => AWKWARD[i % AWKWARD.length]!;
  return [
    principal,
    undefined,
    {},
    { name: 'Kari Nordmann' },
    { userId: '13116900216' },
    { organisation: { id: '983974880' }, pointOfCare: { id: '4208723' } },
    { role: { code: 'LE' }, purposeOfUse: { code: 'TREAT', system: 'urn:oid:1.2' }, healthcareService: { code: 'S03' } },
    { hpr: '502116685', decisionRef: 'ref-1' },
    { assertionId: '_a1', userId: '13116900216', organisation: { id: '983974880' } },
    { assertionId: '_a2', userId: '13116900216', role: { code: 'LE', system: '2.16.578.1.12.4.1.1.9060' }, purposeOfUse: { code: 'TREAT', system: '2.16.840.1.113883.1.11.20448' } },
    { assertionId: '_a3', role: { code: 'LE', system: 'Volven kodeverk' }, purposeOfUse: { code: '1', system: 'urn:oid:1.0.14265.1' } },
    {
      name: awkward(0),
      userId: awkward(1),
      hpr: awkward(2),
      organisation: { id: awkward(3), name: awkward(4) },
      pointOfCare: { id: awkward(5), name: awkward(0) },
      healthcareService: { code: awkward(1), display: awkward(2), system: awkward(3) },
      purposeOfUse: { code: awkward(4), display: awkward(5), system: awkward(0) },
      decisionRef: awkward(1),
      role: { code: awkward(2), display: awkward(3), system: awkward(4) },
      assertionId: awkward(0),
    },
  ];
}

function events(): AuditEvent[] {
  const out: AuditEvent[] = [];
  for (const p of principals()) {
    for (const patientId of ['01017012343^^^&2.16.578.1.12.4.1.4.1&ISO', undefined, AWKWARD[0]]) {
      const input = {
        ...baseInput({ outcome: 'minor-failure', outcomeDescription: 'XDSRegistryError' }),
        principal: p,
        patientId,
        client: { userId: 'http://www.w3.org/2005/08/addressing/anonymous', alternativeUserId: 'CN=peer', networkAccessPoint: '::1' },
        server: { userId: 'https://node.example.no/xds/registry' },
      };
      out.push(
        auditEvents.iti18({ ...input, query }),
        auditEvents.iti38({ ...input, side: 'initiator', query: { ...query, homeCommunityId: 'urn:oid:1.2.3' } }),
        auditEvents.iti39({ ...input, documents }),
        auditEvents.iti41({ ...input, submissionSetUniqueId: '1.2.3', documents }),
        auditEvents.iti42({ ...input, submissionSetUniqueId: '1.2.4' }),
        auditEvents.iti43({ ...input, side: 'initiator', documents: [] }),
        auditEvents.iti57({ ...input, submissionSetUniqueId: AWKWARD[1]! }),
        auditEvents.iti62({ ...input, objectUuids: ['urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1', 'urn:uuid:x'] }),
        auditEvents.iti86({ ...input, documents }),
        denialEvent({ transaction: 'ITI-18', ...input, query: { storedQueryId: AWKWARD[2]!, text: AWKWARD.join('|') }, reason: AWKWARD[0]! }),
        securityFailureEvent({ ...input, kind: 'user-authentication', reason: 'bad signature', transaction: 'ITI-43' }),
        securityFailureEvent({ ...input, kind: 'node-authentication', reason: AWKWARD[1]!, node: { id: 'node', enterpriseSiteId: AWKWARD[3] } }),
      );
    }
  }
  return out;
}

describe('FHIR AuditEvent JSON', () => {
  it('is byte for byte the JSON of the object mapping, for every kind of event, principal and awkward string', () => {
    const all = events();
    expect(all.length).to.be.greaterThan(300);
    for (const event of all) {
      expect(fhirAuditEventJson(event)).to.equal(JSON.stringify(referenceFhir(event)));
    }
  });

  it('toFhirAuditEvent is the same resource as an object', () => {
    for (const event of events().slice(0, 40)) expect(toFhirAuditEvent(event)).to.deep.equal(referenceFhir(event));
  });
});
