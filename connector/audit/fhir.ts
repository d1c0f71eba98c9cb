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
 *
 * The mapping writes the resource's JSON text directly (`fhirAuditEventJson`), and the object is
 * that text parsed (`toFhirAuditEvent`). The embedded audit store keeps the text for every
 * request, and JSON.stringify of the object cost more than the rest of the audit record: it scans
 * every character of every string for escapes, the ~1 KB of base64 query and the constant system
 * URLs included. Here constants are written once at start, base64 is written as it is (its
 * alphabet never needs escaping), and other strings are escaped exactly as JSON.stringify does.
 * The text is byte for byte what JSON.stringify wrote of the object this module used to build
 * (members in the same order, absent ones left out); test/audit/fhir-json.test.ts holds that
 * object mapping as the reference.
 */
import { ATTESTATION_DETAIL_TYPES, OID } from './dicom.js';
import { OUTCOME_CODE, type AuditCode, type AuditEndpoint, type AuditEvent, type CodedValue } from './event.js';

export type FhirResource = Record<string, unknown> & { resourceType: 'AuditEvent'; id: string };

const DCM_SYSTEM = 'http://dicom.nema.org/resources/ontology/DCM';
const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition';

// --- JSON text: what JSON.stringify writes, in pieces ---------------------------------------
// Objects are written as template literals: `{${first("a", …)}${member("b", …)}}`. The first
// member has no comma; optional members are `member(…)` or ''. Nothing is sliced off afterwards:
// a slice would copy the text written so far, at every level of nesting.

/** Characters JSON.stringify escapes in a string: control characters, `"`, `\` and surrogates (lone ones are escaped). */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/** JSON text of a value (undefined where JSON.stringify leaves a member out). Most strings need no escape, and testing for that is cheaper than escaping. */
function json(value: unknown): string | undefined {
  return typeof value === 'string' && !NEEDS_ESCAPE.test(value) ? `"${value}"` : JSON.stringify(value);
}

/** The first member of an object (`"key":value`); keys are this module's own constants. */
function first(key: string, value: string | undefined): string {
  return value === undefined ? '' : `"${key}":${value}`;
}

/** A further member (`,"key":value`), or nothing when the value is undefined (as JSON.stringify leaves it out). */
function member(key: string, value: string | undefined): string {
  return value === undefined ? '' : `,"${key}":${value}`;
}

/** Base64 of a text as a JSON string: its alphabet (A–Z a–z 0–9 + / =) needs no escape. */
function base64(value: string): string {
  return `"${Buffer.from(value, 'utf8').toString('base64')}"`;
}

// --- the mapping -----------------------------------------------------------------------------

function coding(c: CodedValue): string {
  const system = c.system === 'DCM' ? DCM_SYSTEM : c.system === 'IHE Transactions' ? 'urn:ihe:event-type-code' : c.system;
  return `{${first('system', json(system))}${member('code', json(c.code))}${member('display', json(c.display))}}`;
}

function auditCoding(c: AuditCode): string {
  const code = json(c.code);
  const display = c.display !== undefined ? member('display', json(c.display)) : '';
  return c.system !== undefined ? `{${first('system', json(c.system))}${member('code', code)}${display}}` : `{${first('code', code)}${display}}`;
}

/** `{"coding":[…]}` of one coding. */
function codeable(codingJson: string): string {
  return `{"coding":[${codingJson}]}`;
}

/** `{"identifier":{"value":…}}`. */
function identified(value: string): string {
  return `{"identifier":{${first('value', json(value))}}}`;
}

const SOURCE_ROLE = codeable(coding({ code: '110153', system: 'DCM', display: 'Source Role ID' }));
const DESTINATION_ROLE = codeable(coding({ code: '110152', system: 'DCM', display: 'Destination Role ID' }));

function systemAgent(e: AuditEndpoint, roleType: string, requestor: boolean): string {
  const altId = e.alternativeUserId !== undefined ? member('altId', json(e.alternativeUserId)) : '';
  const address = e.networkAccessPoint;
  const network = address !== undefined ? member('network', `{${first('address', json(address))},"type":"${/^[\d.]+$|:/.test(address) ? '2' : '1'}"}`) : '';
  return `{"type":${roleType},"who":${identified(e.userId)}${altId},"requestor":${requestor ? 'true' : 'false'}${network}}`;
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

/** The `type` and `role` members of an entity (after its `what`). */
function entityKind(typeCode: string, typeDisplay: string, roleCode: string, roleDisplay: string): string {
  return (
    member('type', coding({ system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: typeCode, display: typeDisplay })) +
    member('role', coding({ system: 'http://terminology.hl7.org/CodeSystem/object-role', code: roleCode, display: roleDisplay }))
  );
}

const PATIENT_ENTITY = entityKind('1', 'Person', '1', 'Patient');
const QUERY_ENTITY = entityKind('2', 'System Object', '24', 'Query');
const JOB_ENTITY = entityKind('2', 'System Object', '20', 'Job');
const REPORT_ENTITY = entityKind('2', 'System Object', '3', 'Report');
const SECURITY_ENTITY = entityKind('2', 'System Object', '13', 'Security Resource');

function detail(type: string, value: string): string {
  return `{${first('type', json(type))},"valueBase64Binary":${base64(value)}}`;
}

const IRCP_TYPE = codeable(coding({ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }));
const PROV_TYPE = codeable(coding({ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleClass', code: 'PROV', display: 'healthcare provider' }));
const NPI_TYPE = codeable(coding({ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'NPI', display: 'National provider identifier' }));
const OTHER_ID = json(`${BALP}/ihe-otherId`)!;
const HPR_SYSTEM = json(`urn:oid:${OID.hpr}`)!;
const FNR_SYSTEM = json(`urn:oid:${OID.fodselsnummer}`)!;
const ORGNR_SYSTEM = json(`urn:oid:${OID.organisasjonsnummer}`)!;
const APPLICATION_SERVER = `[${coding({ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' })}]`;

/** The human requestor as BALP's SAML "user" agent, then the organisation they act for as the "healthcare provider" agent, each as `,{…}`. */
function principalAgents(p: NonNullable<AuditEvent['requestor']>): string {
  const extension =
    p.hpr !== undefined ? `"extension":[{"url":${OTHER_ID},"valueIdentifier":{"type":${NPI_TYPE},"system":${HPR_SYSTEM}${member('value', json(p.hpr))}}}],` : '';
  const identifier = p.userId !== undefined ? `"identifier":{"system":${FNR_SYSTEM}${member('value', json(p.userId))}}` : '';
  const name = p.name !== undefined ? json(p.name) : undefined;
  const who = identifier !== '' ? `{${identifier}${member('display', name)}}` : `{${first('display', name)}}`;
  const poc = p.pointOfCare;
  const user =
    `{${extension}"type":${IRCP_TYPE},"who":${who}${member('name', name)},"requestor":true` +
    (p.role !== undefined ? `,"role":[${codeable(auditCoding(p.role))}]` : '') +
    (p.decisionRef !== undefined ? member('policy', `[${json(p.decisionRef) ?? 'null'}]`) : '') +
    (poc !== undefined ? `,"location":{"identifier":{${first('value', json(poc.id))}}${poc.name !== undefined ? member('display', json(poc.name)) : ''}}` : '') +
    (p.purposeOfUse !== undefined ? `,"purposeOfUse":[${codeable(auditCoding(p.purposeOfUse))}]` : '') +
    '}';
  const org = p.organisation;
  if (org === undefined) return `,${user}`;
  const orgWho = `{"identifier":{"system":${ORGNR_SYSTEM}${member('value', json(org.id))}}${org.name !== undefined ? member('display', json(org.name)) : ''}}`;
  return `,${user},{"type":${PROV_TYPE},"who":${orgWho},"requestor":false}`;
}

/** The entities, each as `,{…}` (empty when there are none). */
function entities(event: AuditEvent): string {
  let out = '';
  if (event.patientId !== undefined) out += `,{"what":${identified(event.patientId)}${PATIENT_ENTITY}}`;
  if (event.query !== undefined) {
    const q = event.query;
    const home = q.homeCommunityId !== undefined ? `,${detail('urn:ihe:iti:xca:2010:homeCommunityId', q.homeCommunityId)}` : '';
    out += `,{"what":${identified(q.storedQueryId)}${QUERY_ENTITY},"query":${base64(q.text)},"detail":[${QUERY_ENCODING}${home}]}`;
  }
  if (event.submissionSetUniqueId !== undefined) out += `,{"what":${identified(event.submissionSetUniqueId)}${JOB_ENTITY}}`;
  for (const d of event.documents) {
    const repository = d.repositoryUniqueId !== undefined ? detail('Repository Unique Id', d.repositoryUniqueId) : '';
    const home = d.homeCommunityId !== undefined ? detail('ihe:homeCommunityID', d.homeCommunityId) : '';
    const details = repository !== '' && home !== '' ? `${repository},${home}` : repository + home;
    out += `,{"what":${identified(d.uniqueId)}${REPORT_ENTITY}${details !== '' ? `,"detail":[${details}]` : ''}}`;
  }
  for (const uuid of event.objectUuids) out += `,{"what":${identified(uuid)}${REPORT_ENTITY}}`;
  const s = event.requestor?.healthcareService;
  if (s !== undefined) {
    const serviceWhat = `{"identifier":{${first('value', json(s.code))}}${s.display !== undefined ? member('display', json(s.display)) : ''}}`;
    const serviceDetail = detail(ATTESTATION_DETAIL_TYPES.healthcareService, [s.code, s.display ?? '', s.system ?? ''].join('^'));
    out += `,{"what":${serviceWhat}${SECURITY_ENTITY},"detail":[${serviceDetail}]}`;
  }
  return out;
}

const QUERY_ENCODING = detail('QueryEncoding', 'UTF-8');

/**
 * The text as one flat string. Written piece by piece, it is a tree of V8 "cons" strings, and the
 * structured clone that hands it to the SQLite writer's thread copies such a tree several times
 * more slowly than a flat string (measured per event: ~9 µs against ~2 µs, the flattening itself
 * ~1 µs). Reading a character of a cons string makes V8 flatten it in place.
 */
function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}

/** The FHIR AuditEvent of an event, as JSON text (what the embedded audit store keeps). */
export function fhirAuditEventJson(event: AuditEvent): string {
  const p = event.requestor;
  const agents =
    systemAgent(event.source, SOURCE_ROLE, event.requestingParty === 'source') +
    `,${systemAgent(event.destination, DESTINATION_ROLE, event.requestingParty === 'destination')}` +
    (p !== undefined ? principalAgents(p) : '');
  const site = event.auditSource.enterpriseSiteId !== undefined ? `${first('site', json(event.auditSource.enterpriseSiteId))},` : '';
  const entityList = entities(event);
  return flat(
    `{"resourceType":"AuditEvent"${member('id', json(event.id))},"meta":{"profile":[${json(profileOf(event))}]}` +
    `,"type":${coding(event.eventId)},"subtype":[${event.eventTypes.map(coding).join(',')}]` +
    `${member('action', json(event.eventAction))}${member('recorded', json(event.recorded))}${member('outcome', json(OUTCOME_CODE[event.outcome]))}` +
    (event.outcomeDescription !== undefined ? member('outcomeDesc', json(event.outcomeDescription)) : '') +
    (p?.purposeOfUse !== undefined ? `,"purposeOfEvent":[${codeable(auditCoding(p.purposeOfUse))}]` : '') +
    `,"agent":[${agents}],"source":{${site}"observer":${identified(event.auditSource.id)},"type":${APPLICATION_SERVER}}` +
    (entityList !== '' ? `,"entity":[${entityList.slice(1)}]` : '') +
    '}'
  );
}

/** The FHIR AuditEvent of an event, as an object (the MongoDB store's document, tests). */
export function toFhirAuditEvent(event: AuditEvent): FhirResource {
  return JSON.parse(fhirAuditEventJson(event)) as FhirResource;
}
