/**
 * One audit record per transaction type, per denial and per security failure: the DICOM XML
 * carries the codes of the ITI TF-2 audit tables and validates against the DICOM audit schema;
 * the FHIR AuditEvent carries the BALP elements and the Norwegian attestation.
 */
import { expect } from 'chai';
import { auditCommitRecord } from '../../connector/audit/auditor.js';
import { toDicomXml } from '../../connector/audit/dicom.js';
import {
  auditEvents,
  denialEvent,
  eventFromJson,
  eventJson,
  securityFailureEvent,
  transactionEvent,
  type AuditEvent,
  type TransactionAuditInput,
} from '../../connector/audit/event.js';
import { timeOrderedUuid } from '../../registry/model/uuid.js';
import { toFhirAuditEvent } from '../../connector/audit/fhir.js';
import { parseXml } from '../../registry/xml/parse.js';
import type { XmlElement } from '../../registry/xml/tree.js';
import { ASSERTION_ID, baseInput, dicomSchemaErrors, PATIENT_ID, PATIENT_NUMBER, PRACTITIONER_FNR } from './fixtures.js';

const QUERY_TEXT =
  '<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"><rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"/></query:AdhocQueryRequest>';
const query = { storedQueryId: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d', text: QUERY_TEXT, homeCommunityId: 'urn:oid:2.16.578.1.12.4.1.7.1.1' };
const documents = [{ uniqueId: '2.16.578.1.12.4.5.100.1.7.1', repositoryUniqueId: '2.16.578.1.12.4.5.100.1.2', homeCommunityId: 'urn:oid:2.16.578.1.12.4.5.100.1' }];

/** Expected per transaction (server side): event id, action, type code display, and the participant objects' roles. */
const CASES: ReadonlyArray<{ input: TransactionAuditInput; eventId: string; action: string; name: string; objectRoles: string[] }> = [
  { input: { transaction: 'ITI-18', ...baseInput(), query }, eventId: '110112', action: 'E', name: 'Registry Stored Query', objectRoles: ['1', '24', '13'] },
  { input: { transaction: 'ITI-38', ...baseInput(), query }, eventId: '110112', action: 'E', name: 'Cross Gateway Query', objectRoles: ['1', '24', '13'] },
  { input: { transaction: 'ITI-39', ...baseInput(), documents }, eventId: '110106', action: 'R', name: 'Cross Gateway Retrieve', objectRoles: ['1', '3', '13'] },
  {
    input: { transaction: 'ITI-41', ...baseInput(), submissionSetUniqueId: '2.16.578.1.12.4.5.100.1.9.1', documents },
    eventId: '110107',
    action: 'C',
    name: 'Provide and Register Document Set-b',
    objectRoles: ['1', '20', '3', '13'],
  },
  {
    input: { transaction: 'ITI-42', ...baseInput(), submissionSetUniqueId: '2.16.578.1.12.4.5.100.1.9.2' },
    eventId: '110107',
    action: 'C',
    name: 'Register Document Set-b',
    objectRoles: ['1', '20', '13'],
  },
  { input: { transaction: 'ITI-43', ...baseInput(), documents }, eventId: '110106', action: 'R', name: 'Retrieve Document Set', objectRoles: ['1', '3', '13'] },
  {
    input: { transaction: 'ITI-57', ...baseInput(), submissionSetUniqueId: '2.16.578.1.12.4.5.100.1.9.3' },
    eventId: '110110',
    action: 'U',
    name: 'Update Document Set',
    objectRoles: ['1', '20', '13'],
  },
  {
    input: { transaction: 'ITI-62', ...baseInput(), objectUuids: ['urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1'] },
    eventId: '110110',
    action: 'D',
    name: 'Delete Document Set',
    objectRoles: ['1', '3', '13'],
  },
  { input: { transaction: 'ITI-86', ...baseInput(), documents }, eventId: '110110', action: 'D', name: 'Remove Documents', objectRoles: ['1', '3', '13'] },
];

function children(e: XmlElement, local: string): XmlElement[] {
  return e.children.filter((c): c is XmlElement => typeof c !== 'string' && c.local === local);
}

function one(e: XmlElement, local: string): XmlElement {
  const found = children(e, local);
  expect(found, local).to.have.length(1);
  return found[0]!;
}

function participantByRole(message: XmlElement, code: string): XmlElement {
  const found = children(message, 'ActiveParticipant').filter((p) => children(p, 'RoleIDCode').some((r) => r.attrs['csd-code'] === code));
  expect(found, `ActiveParticipant with role ${code}`).to.have.length(1);
  return found[0]!;
}

describe('audit events: DICOM and FHIR per transaction', () => {
  const produced: string[] = [];

  for (const c of CASES) {
    it(`${c.input.transaction} ${c.name}: codes, participants and objects of the TF-2 table`, () => {
      const event = transactionEvent(c.input);
      const xml = toDicomXml(event);
      produced.push(xml);
      const message = parseXml(xml);
      expect(message.local).to.equal('AuditMessage');
      const ident = one(message, 'EventIdentification');
      expect(ident.attrs.EventActionCode).to.equal(c.action);
      expect(ident.attrs.EventOutcomeIndicator).to.equal('0');
      expect(one(ident, 'EventID').attrs['csd-code']).to.equal(c.eventId);
      expect(one(ident, 'EventTypeCode').attrs).to.include({ 'csd-code': c.input.transaction, codeSystemName: 'IHE Transactions', originalText: c.name });

      const source = participantByRole(message, '110153');
      const destination = participantByRole(message, '110152');
      const retrieve = c.input.transaction === 'ITI-39' || c.input.transaction === 'ITI-43';
      // In a retrieve the server sends the documents and is the Source; the requesting client is the Destination.
      expect(source.attrs.UserID).to.equal(retrieve ? c.input.server.userId : c.input.client.userId);
      expect(destination.attrs.UserID).to.equal(retrieve ? c.input.client.userId : c.input.server.userId);
      expect((retrieve ? destination : source).attrs.UserIsRequestor).to.equal('true');
      expect((retrieve ? source : destination).attrs.UserIsRequestor).to.equal('false');
      expect(participantByRole(message, 'LE').attrs).to.include({ UserName: 'Ærlig Øvergård', UserIsRequestor: 'true', UserID: PRACTITIONER_FNR });
      expect(participantByRole(message, 'PROV').attrs).to.include({ UserID: '983974880', UserName: 'Finnmarkssykehuset HF' });
      expect(participantByRole(message, 'SDLOC').attrs.UserName).to.equal('Medisinsk avdeling, Hammerfest');

      const objects = children(message, 'ParticipantObjectIdentification');
      expect(objects.map((o) => o.attrs.ParticipantObjectTypeCodeRole)).to.deep.equal(c.objectRoles);
      expect(objects[0]!.attrs.ParticipantObjectID).to.equal(PATIENT_ID);
      expect(one(objects[0]!, 'ParticipantObjectIDTypeCode').attrs['csd-code']).to.equal('2');
      if (c.objectRoles.includes('24')) {
        const q = objects.find((o) => o.attrs.ParticipantObjectTypeCodeRole === '24')!;
        expect(q.attrs.ParticipantObjectID).to.equal(query.storedQueryId);
        const encoded = one(q, 'ParticipantObjectQuery').children[0] as string;
        expect(Buffer.from(encoded, 'base64').toString('utf8')).to.equal(QUERY_TEXT);
        const home = children(q, 'ParticipantObjectDetail').find((d) => d.attrs.type === 'urn:ihe:iti:xca:2010:homeCommunityId')!;
        expect(Buffer.from(home.attrs.value!, 'base64').toString()).to.equal(query.homeCommunityId);
      }
      if (c.input.transaction === 'ITI-39' || c.input.transaction === 'ITI-43' || c.input.transaction === 'ITI-86') {
        const doc = objects.find((o) => o.attrs.ParticipantObjectTypeCodeRole === '3')!;
        expect(doc.attrs.ParticipantObjectID).to.equal(documents[0]!.uniqueId);
        const repo = children(doc, 'ParticipantObjectDetail').find((d) => d.attrs.type === 'Repository Unique Id')!;
        expect(Buffer.from(repo.attrs.value!, 'base64').toString()).to.equal(documents[0]!.repositoryUniqueId);
      }
      const attestation = objects.find((o) => o.attrs.ParticipantObjectTypeCodeRole === '13')!;
      const details = Object.fromEntries(
        children(attestation, 'ParticipantObjectDetail').map((d) => [d.attrs.type, Buffer.from(d.attrs.value!, 'base64').toString('utf8')]),
      );
      expect(details['urn:nhn:trust-framework:1.0:ext:decision-ref']).to.equal('b3f0e8a4-2d1c-4c55-9a7e-0f4c2b9d1e77');
      expect(details['urn:oasis:names:tc:xacml:2.0:action:purpose']).to.match(/^TREAT\^/);
      expect(details['urn:nhn:trust-framework:1.0:ext:care-relationship:healthcare-service']).to.match(/^S03\^Indremedisin/);

      const fhir = toFhirAuditEvent(event) as Record<string, any>;
      expect(fhir.resourceType).to.equal('AuditEvent');
      expect(fhir.type.code).to.equal(c.eventId);
      expect(fhir.subtype[0]).to.deep.equal({ system: 'urn:ihe:event-type-code', code: c.input.transaction, display: c.name });
      expect(fhir.action).to.equal(c.action);
      expect(fhir.outcome).to.equal('0');
      const user = fhir.agent.find((a: any) => a.type.coding.some((c: any) => c.code === 'UserSamlAgent'));
      // A read's requestor receives the information (IRCP); a write's acts on it (AGNT).
      const reads = ['ITI-18', 'ITI-38', 'ITI-39', 'ITI-43'].includes(c.input.transaction);
      expect(user.type.coding.map((t: any) => t.code)).to.deep.equal(['UserSamlAgent', reads ? 'IRCP' : 'AGNT']);
      expect(user.who).to.deep.equal({ identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: PRACTITIONER_FNR }, display: 'Ærlig Øvergård' });
      // BALP: policy is the SAML assertion's ID; the decision-ref is the attestation entity's.
      expect(user.policy).to.deep.equal([ASSERTION_ID]);
      expect(user.purposeOfUse[0].coding[0]).to.deep.equal({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT', display: 'Treatment' });
      expect(user.role[0].coding[0]).to.deep.equal({ system: 'urn:oid:2.16.578.1.12.4.1.1.9060', code: 'LE', display: 'Lege' });
      const fhirAttestation = fhir.entity.find((e: any) => e.role.code === '13');
      expect(fhirAttestation.what.identifier.value).to.equal('b3f0e8a4-2d1c-4c55-9a7e-0f4c2b9d1e77');
      expect(user.location.display).to.equal('Medisinsk avdeling, Hammerfest');
      expect(user.extension[0].valueIdentifier.value).to.equal('502116685');
      const org = fhir.agent.find((a: any) => a.type.coding[0].code === 'PROV');
      expect(org.who.identifier).to.deep.equal({ system: 'urn:oid:2.16.578.1.12.4.1.4.101', value: '983974880' });
      expect(fhir.entity.find((e: any) => e.role.code === '1').what).to.deep.equal({
        type: 'Patient',
        identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: PATIENT_NUMBER },
      });
      expect(fhir.meta.profile).to.deep.equal(['https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.SAMLaccessTokenUse.Comprehensive']);
      expect(fhir.purposeOfEvent[0].coding[0].code).to.equal('TREAT');
    });
  }

  it('the initiating side of a retrieve and a submission records Import and Export the other way round', () => {
    expect(auditEvents.iti43({ ...baseInput({ side: 'initiator' }), documents }).eventId.code).to.equal('110107');
    expect(auditEvents.iti39({ ...baseInput({ side: 'initiator' }), documents }).eventAction).to.equal('C');
    expect(auditEvents.iti41({ ...baseInput({ side: 'initiator' }), submissionSetUniqueId: '1.2.3' }).eventId.code).to.equal('110106');
    expect(auditEvents.iti42({ ...baseInput({ side: 'initiator' }), submissionSetUniqueId: '1.2.3' }).eventAction).to.equal('R');
  });

  it('a trust-model denial is the transaction event with a serious-failure outcome and the reason', () => {
    const event = denialEvent({ transaction: 'ITI-43', ...baseInput(), documents, reason: 'ATT-4: assertion is bound to another patient' });
    expect(event.denied).to.equal(true);
    const xml = toDicomXml(event);
    produced.push(xml);
    const ident = one(parseXml(xml), 'EventIdentification');
    expect(ident.attrs.EventOutcomeIndicator).to.equal('8');
    expect(one(ident, 'EventOutcomeDescription').children).to.deep.equal(['ATT-4: assertion is bound to another patient']);
    expect(one(ident, 'EventTypeCode').attrs['csd-code']).to.equal('ITI-43');
    expect((toFhirAuditEvent(event) as Record<string, unknown>).outcome).to.equal('8');
  });

  for (const [kind, eventId, typeCode] of [
    ['node-authentication', '110113', '110126'],
    ['user-authentication', '110114', '110122'],
    ['restricted-function', '110113', '110132'],
  ] as const) {
    it(`security failure ${kind}: EventID ${eventId}, EventTypeCode ${typeCode}, minor failure`, () => {
      const event: AuditEvent = securityFailureEvent({
        kind,
        ...baseInput({ principal: undefined, patientId: undefined }),
        transaction: 'ITI-38',
        reason: 'assertion signature does not verify against the pinned issuer certificate',
      });
      const xml = toDicomXml(event);
      produced.push(xml);
      const ident = one(parseXml(xml), 'EventIdentification');
      expect(one(ident, 'EventID').attrs['csd-code']).to.equal(eventId);
      expect(children(ident, 'EventTypeCode').map((t) => t.attrs['csd-code'])).to.deep.equal([typeCode, 'ITI-38']);
      expect(ident.attrs.EventOutcomeIndicator).to.equal('4');
      expect(children(parseXml(xml), 'ParticipantObjectIdentification')).to.have.length(0);
    });
  }

  it('markup in names and query text is escaped, and every message above validates against the DICOM audit schema', async () => {
    const hostile = transactionEvent({
      transaction: 'ITI-18',
      ...baseInput({ principal: { name: 'Ola <script>&"Nordmann"', userId: PRACTITIONER_FNR } }),
      query: { storedQueryId: 'urn:uuid:x', text: ']]><evil/>' },
    });
    const xml = toDicomXml(hostile);
    expect(parseXml(xml).local).to.equal('AuditMessage');
    produced.push(xml);
    expect(produced.length).to.equal(CASES.length + 1 + 3 + 1);
    expect(await dicomSchemaErrors(produced)).to.deep.equal([]);
    // And the validator does reject what the schema forbids.
    expect(await dicomSchemaErrors([xml.replace(/EventOutcomeIndicator="0"/, 'EventOutcomeIndicator="5"')])).to.have.length.greaterThan(0);
  });
});

describe('audit event ids', () => {
  it('are RFC 9562 version 7 UUIDs that sort in the order of their time', () => {
    const format = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const at = Date.UTC(2026, 10, 23, 12, 0, 0);
    const ids = [at, at + 1, at + 1000, at + 86_400_000, 2 ** 48 - 1].map((t) => timeOrderedUuid(t));
    for (const id of ids) expect(id).to.match(format);
    expect([...ids].sort()).to.deep.equal(ids);
    // The first 48 bits are the millisecond time.
    expect(parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16)).to.equal(at);
    expect(new Set(Array.from({ length: 1000 }, () => timeOrderedUuid(at))).size).to.equal(1000);
    expect(auditEvents.iti18({ ...baseInput(), query: { storedQueryId: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d', text: '<q/>' } }).id).to.match(format);
  });
});

describe('audit event text', () => {
  it('is the same for the outbox, the queue and the store, and reads back to an event with the same FHIR AuditEvent', () => {
    const event = auditEvents.iti43({ ...baseInput(), documents: [{ uniqueId: '1.2.3', repositoryUniqueId: '1.2.4' }] });
    const text = eventJson(event);
    expect(text).to.equal(JSON.stringify(event));
    expect(auditCommitRecord(event).payload).to.equal(text);
    const back = eventFromJson(text);
    expect(back).to.deep.equal(JSON.parse(text));
    expect(eventJson(back)).to.equal(text);
    expect(toFhirAuditEvent(back)).to.deep.equal(toFhirAuditEvent(event));
  });
});
