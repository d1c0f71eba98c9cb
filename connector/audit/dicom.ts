/**
 * AuditEvent → DICOM PS3.15 (A.5) audit message XML, as IHE ATNA (ITI-20) sends it.
 *
 * The participant objects follow the ITI TF-2 audit tables of each transaction: patient
 * ("2","RFC-3881","Patient Number"), query (role 24, the transaction's code as id type, the
 * AdhocQueryRequest base64 in ParticipantObjectQuery, QueryEncoding detail), documents
 * ("9","RFC-3881","Report Number", with "Repository Unique Id" and "ihe:homeCommunityID"
 * details), submission set (role 20, the submission-set classificationNode).
 *
 * The Norwegian attestation (organisation, point of care, purpose, healthcare service,
 * decision-ref) has no place of its own in the DICOM schema, so it is written as DICOM permits
 * extensions: organisation and point of care as further ActiveParticipants (HL7 v3 PROV and
 * SDLOC roles, as BALP types them), and purpose / healthcare service / decision-ref as details of
 * one "security resource" participant object whose detail types are the SAML attribute names the
 * values came from. The XML validates against the DICOM schema (schema/dicom-audit-message.rng).
 */
import { serializeXml } from '../../registry/xml/serialize.js';
import type { XmlElement } from '../../registry/xml/tree.js';
import {
  OUTCOME_CODE,
  ROLE_DESTINATION,
  ROLE_SOURCE,
  TRANSACTION_NAMES,
  type AuditCode,
  type AuditEndpoint,
  type AuditEvent,
  type AuditPrincipal,
  type CodedValue,
} from './event.js';

export const OID = {
  fodselsnummer: '2.16.578.1.12.4.1.4.1',
  hpr: '2.16.578.1.12.4.1.4.4',
  organisasjonsnummer: '2.16.578.1.12.4.1.4.101',
  resh: '2.16.578.1.12.4.1.4.102',
  roleCode: '2.16.578.1.12.4.1.1.9060',
  v3RoleClass: '2.16.840.1.113883.5.110',
  v3RoleCode: '2.16.840.1.113883.5.111',
} as const;

/** SAML attribute names of the Norwegian trust framework, used as ParticipantObjectDetail types. */
export const ATTESTATION_DETAIL_TYPES = {
  purposeOfUse: 'urn:oasis:names:tc:xacml:2.0:action:purpose',
  healthcareService: 'urn:nhn:trust-framework:1.0:ext:care-relationship:healthcare-service',
  decisionRef: 'urn:nhn:trust-framework:1.0:ext:decision-ref',
} as const;

const PROVIDER_ROLE: CodedValue = { code: 'PROV', system: OID.v3RoleClass, display: 'healthcare provider' };
const LOCATION_ROLE: CodedValue = { code: 'SDLOC', system: OID.v3RoleCode, display: 'service delivery location' };

function el(local: string, attrs: Record<string, string | undefined>, children: XmlElement[] = []): XmlElement {
  const a: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) a[k] = v;
  return { ns: '', local, attrs: a, children };
}

function textEl(local: string, text: string): XmlElement {
  return { ns: '', local, attrs: {}, children: [text] };
}

function coded(local: string, c: CodedValue): XmlElement {
  return el(local, { 'csd-code': c.code, codeSystemName: c.system, originalText: c.display });
}

/** A code from the assertion: DICOM requires a code system name and an originalText. */
function fromAuditCode(c: AuditCode, defaultSystem: string): CodedValue {
  return { code: c.code, system: c.system ?? defaultSystem, display: c.display ?? c.code };
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/**
 * xsd:token collapses whitespace; a value with leading, trailing or repeated whitespace (or
 * none at all) would not be the value we meant, so it is normalised here explicitly.
 */
function token(s: string): string {
  const t = s.replace(/[\t\n\r ]+/g, ' ').trim();
  return t === '' ? '-' : t;
}

function detail(type: string, value: string): XmlElement {
  return el('ParticipantObjectDetail', { type, value: b64(value) });
}

/** 2 = IP address, 1 = machine name (DICOM NetworkAccessPointTypeCode). */
function napType(nap: string): string {
  return /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/.test(nap) ? '2' : '1';
}

function systemParticipant(e: AuditEndpoint, requestor: boolean, role: CodedValue): XmlElement {
  return el(
    'ActiveParticipant',
    {
      UserID: e.userId,
      AlternativeUserID: e.alternativeUserId,
      UserIsRequestor: String(requestor),
      NetworkAccessPointID: e.networkAccessPoint !== undefined ? token(e.networkAccessPoint) : undefined,
      NetworkAccessPointTypeCode: e.networkAccessPoint !== undefined ? napType(e.networkAccessPoint) : undefined,
    },
    [coded('RoleIDCode', role)],
  );
}

/**
 * The human requestor: UserID the assertion's subject (the fødselsnummer in Norway; the ATNA
 * repository is the full, access-controlled record), AlternativeUserID the HPR number, UserName
 * the person's name.
 */
function humanRequestor(p: AuditPrincipal): XmlElement | undefined {
  const userId = p.userId ?? (p.hpr !== undefined ? `${p.hpr}^^^&${OID.hpr}&ISO` : p.name);
  if (userId === undefined) return undefined;
  return el(
    'ActiveParticipant',
    {
      UserID: userId,
      AlternativeUserID: p.hpr !== undefined ? `${p.hpr}^^^&${OID.hpr}&ISO` : undefined,
      UserName: p.name,
      UserIsRequestor: 'true',
    },
    p.role !== undefined ? [coded('RoleIDCode', fromAuditCode(p.role, OID.roleCode))] : [],
  );
}

function organisationParticipant(id: string, name: string | undefined, role: CodedValue): XmlElement {
  return el('ActiveParticipant', { UserID: id, UserName: name, UserIsRequestor: 'false' }, [coded('RoleIDCode', role)]);
}

function codeText(c: AuditCode): string {
  return [c.code, c.display ?? '', c.system ?? ''].join('^');
}

function attestationObject(p: AuditPrincipal): XmlElement | undefined {
  const details: XmlElement[] = [];
  if (p.purposeOfUse !== undefined) details.push(detail(ATTESTATION_DETAIL_TYPES.purposeOfUse, codeText(p.purposeOfUse)));
  if (p.healthcareService !== undefined) {
    details.push(detail(ATTESTATION_DETAIL_TYPES.healthcareService, codeText(p.healthcareService)));
  }
  if (p.decisionRef !== undefined) details.push(detail(ATTESTATION_DETAIL_TYPES.decisionRef, p.decisionRef));
  if (details.length === 0) return undefined;
  return el(
    'ParticipantObjectIdentification',
    { ParticipantObjectID: token(p.decisionRef ?? 'attestation'), ParticipantObjectTypeCode: '2', ParticipantObjectTypeCodeRole: '13' },
    [
      coded('ParticipantObjectIDTypeCode', { code: 'attestation', system: 'urn:nhn:trust-framework:1.0', display: 'Trust-framework attestation' }),
      textEl('ParticipantObjectName', 'Trust-framework attestation'),
      ...details,
    ],
  );
}

function patientObject(patientId: string): XmlElement {
  return el(
    'ParticipantObjectIdentification',
    { ParticipantObjectID: token(patientId), ParticipantObjectTypeCode: '1', ParticipantObjectTypeCodeRole: '1' },
    [
      coded('ParticipantObjectIDTypeCode', { code: '2', system: 'RFC-3881', display: 'Patient Number' }),
      // The schema wants a name or a query; the patient's name is not known here, so the id stands in.
      textEl('ParticipantObjectName', token(patientId)),
    ],
  );
}

function documentObject(uniqueId: string, repositoryUniqueId?: string, homeCommunityId?: string): XmlElement {
  const children: XmlElement[] = [
    coded('ParticipantObjectIDTypeCode', { code: '9', system: 'RFC-3881', display: 'Report Number' }),
    textEl('ParticipantObjectName', token(uniqueId)),
  ];
  if (repositoryUniqueId !== undefined) children.push(detail('Repository Unique Id', repositoryUniqueId));
  if (homeCommunityId !== undefined) children.push(detail('ihe:homeCommunityID', homeCommunityId));
  return el(
    'ParticipantObjectIdentification',
    { ParticipantObjectID: token(uniqueId), ParticipantObjectTypeCode: '2', ParticipantObjectTypeCodeRole: '3' },
    children,
  );
}

export function toDicomElement(event: AuditEvent): XmlElement {
  const identification = el(
    'EventIdentification',
    { EventActionCode: event.eventAction, EventDateTime: event.recorded, EventOutcomeIndicator: OUTCOME_CODE[event.outcome] },
    [
      coded('EventID', event.eventId),
      ...event.eventTypes.map((t) => coded('EventTypeCode', t)),
      ...(event.outcomeDescription !== undefined ? [textEl('EventOutcomeDescription', event.outcomeDescription)] : []),
    ],
  );

  const participants: XmlElement[] = [systemParticipant(event.source, event.requestingParty === 'source', ROLE_SOURCE)];
  const p = event.requestor;
  const human = p !== undefined ? humanRequestor(p) : undefined;
  if (human !== undefined) participants.push(human);
  participants.push(systemParticipant(event.destination, event.requestingParty === 'destination', ROLE_DESTINATION));
  if (p?.organisation !== undefined) participants.push(organisationParticipant(p.organisation.id, p.organisation.name, PROVIDER_ROLE));
  if (p?.pointOfCare !== undefined) participants.push(organisationParticipant(p.pointOfCare.id, p.pointOfCare.name, LOCATION_ROLE));

  const auditSource = el('AuditSourceIdentification', { AuditEnterpriseSiteID: event.auditSource.enterpriseSiteId, AuditSourceID: token(event.auditSource.id) }, [
    el('AuditSourceTypeCode', { 'csd-code': '4', codeSystemName: 'DCM', originalText: 'Application Server process tier in a multi-tier system' }),
  ]);

  const objects: XmlElement[] = [];
  if (event.patientId !== undefined) objects.push(patientObject(event.patientId));
  if (event.query !== undefined && event.transaction !== null) {
    const q = event.query;
    const details = [detail('QueryEncoding', 'UTF-8')];
    if (q.homeCommunityId !== undefined) details.push(detail('urn:ihe:iti:xca:2010:homeCommunityId', q.homeCommunityId));
    objects.push(
      el('ParticipantObjectIdentification', { ParticipantObjectID: token(q.storedQueryId), ParticipantObjectTypeCode: '2', ParticipantObjectTypeCodeRole: '24' }, [
        coded('ParticipantObjectIDTypeCode', { code: event.transaction, system: 'IHE Transactions', display: TRANSACTION_NAMES[event.transaction] }),
        textEl('ParticipantObjectQuery', b64(q.text)),
        ...details,
      ]),
    );
  }
  if (event.submissionSetUniqueId !== undefined) {
    objects.push(
      el('ParticipantObjectIdentification', { ParticipantObjectID: token(event.submissionSetUniqueId), ParticipantObjectTypeCode: '2', ParticipantObjectTypeCodeRole: '20' }, [
        coded('ParticipantObjectIDTypeCode', {
          code: 'urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd',
          system: 'IHE XDS Metadata',
          display: 'submission set classificationNode',
        }),
        textEl('ParticipantObjectName', token(event.submissionSetUniqueId)),
      ]),
    );
  }
  for (const d of event.documents) objects.push(documentObject(d.uniqueId, d.repositoryUniqueId, d.homeCommunityId));
  for (const uuid of event.objectUuids) objects.push(documentObject(uuid));
  if (p !== undefined) {
    const attestation = attestationObject(p);
    if (attestation !== undefined) objects.push(attestation);
  }

  return el('AuditMessage', {}, [identification, ...participants, auditSource, ...objects]);
}

/** The DICOM audit message as XML text (UTF-8, with declaration). */
export function toDicomXml(event: AuditEvent): string {
  return serializeXml(toDicomElement(event), { declaration: true });
}
