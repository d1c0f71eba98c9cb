/**
 * AuditEvent → FHIR R4 AuditEvent following IHE BALP (Basic Audit Log Patterns), the national
 * direction for audit in Norway.
 *
 * - type / subtype: the DICOM event id and the IHE transaction (`urn:ihe:event-type-code`).
 * - agents: Source and Destination systems (DICOM 110153 / 110152) with their network address;
 *   the human requestor as BALP's SAML "user" agent (type IRCP, who = subject id with the
 *   fødselsnummer system, otherId extension = HPR number, role, purposeOfUse, policy =
 *   decision-ref, location = point of care); the organisation as BALP's "healthcare provider"
 *   agent (type PROV, org.nr).
 * - entities: patient (type 1, role 1), query (type 2, role 24, base64 query), documents
 *   (type 2, role 3, with repositoryUniqueId / homeCommunityId details), submission set (role 20).
 * - The healthcare service of the care relationship has no BALP element; it is an entity detail
 *   named by its trust-framework attribute, as in the DICOM message.
 */
import { ATTESTATION_DETAIL_TYPES, OID } from './dicom';
import { OUTCOME_CODE, type AuditCode, type AuditEndpoint, type AuditEvent, type CodedValue } from './event';

export type FhirResource = Record<string, unknown> & { resourceType: 'AuditEvent'; id: string };

const DCM_SYSTEM = 'http://dicom.nema.org/resources/ontology/DCM';
const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition';

function coding(c: CodedValue): Record<string, string> {
  const system = c.system === 'DCM' ? DCM_SYSTEM : c.system === 'IHE Transactions' ? 'urn:ihe:event-type-code' : c.system;
  return { system, code: c.code, display: c.display };
}

function auditCoding(c: AuditCode): Record<string, string> {
  return { ...(c.system !== undefined ? { system: c.system } : {}), code: c.code, ...(c.display !== undefined ? { display: c.display } : {}) };
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

/** BALP profile for the event: Query / Read / Create / Update / Delete, the Patient variant when a patient is involved. */
function profileOf(event: AuditEvent): string {
  const patient = event.patientId !== undefined ? 'Patient' : '';
  const verb =
    event.eventAction === 'E' && event.query !== undefined
      ? 'Query'
      : event.eventAction === 'R'
        ? 'Read'
        : event.eventAction === 'C'
          ? 'Create'
          : event.eventAction === 'U'
            ? 'Update'
            : event.eventAction === 'D'
              ? 'Delete'
              : undefined;
  return verb === undefined ? `${BALP}/IHE.BasicAudit.SAMLaccessTokenUse.Comprehensive` : `${BALP}/IHE.BasicAudit.${patient}${verb}`;
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

export function toFhirAuditEvent(event: AuditEvent): FhirResource {
  const agents: Record<string, unknown>[] = [
    systemAgent(event.source, { code: '110153', system: 'DCM', display: 'Source Role ID' }, event.requestingParty === 'source'),
    systemAgent(event.destination, { code: '110152', system: 'DCM', display: 'Destination Role ID' }, event.requestingParty === 'destination'),
  ];
  const p = event.requestor;
  if (p !== undefined) {
    const otherIds = p.hpr !== undefined
      ? [{ url: `${BALP}/ihe-otherId`, valueIdentifier: { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'NPI', display: 'National provider identifier' }] }, system: `urn:oid:${OID.hpr}`, value: p.hpr } }]
      : [];
    agents.push({
      ...(otherIds.length > 0 ? { extension: otherIds } : {}),
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] },
      who: {
        ...(p.userId !== undefined ? { identifier: { system: `urn:oid:${OID.fodselsnummer}`, value: p.userId } } : {}),
        ...(p.name !== undefined ? { display: p.name } : {}),
      },
      ...(p.name !== undefined ? { name: p.name } : {}),
      requestor: true,
      ...(p.role !== undefined ? { role: [{ coding: [auditCoding(p.role)] }] } : {}),
      ...(p.decisionRef !== undefined ? { policy: [p.decisionRef] } : {}),
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
    entities.push({ what: { identifier: { value: event.patientId } }, type: entityType('1', 'Person'), role: entityRole('1', 'Patient') });
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
  if (p?.healthcareService !== undefined) {
    const s = p.healthcareService;
    entities.push({
      what: { identifier: { value: s.code }, ...(s.display !== undefined ? { display: s.display } : {}) },
      type: entityType('2', 'System Object'),
      role: entityRole('13', 'Security Resource'),
      detail: [detail(ATTESTATION_DETAIL_TYPES.healthcareService, [s.code, s.display ?? '', s.system ?? ''].join('^'))],
    });
  }

  return {
    resourceType: 'AuditEvent',
    id: event.id,
    meta: { profile: [profileOf(event)] },
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
