/**
 * The trust model wired into the transactions, over real HTTP against a node with trust enabled
 * (test PKI in fixtures/certs, assertions signed by scripts/sign-assertion.ts): verification faults
 * audited as security failures, ATT-4 / ATT-5 denials answered as the reference source does and
 * audited, NORS masking and retrieve refusal with the ETREAT override, the assertion forwarded
 * byte-for-byte by the gateway, and the patient's access log (names, never fødselsnummer).
 */
import { expect } from 'chai';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, childElements, descendants, type XmlElement } from '../../registry/xml/tree.js';
import { WSSE_FAULT } from '../../connector/soap/fault.js';
import { cx, epikrise, errorCodes, findDocumentsBody, provideBody, retrieveBody, status } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, envelope, postRaw, signedEnvelope, soapContentType } from '../helpers/soap.js';
import {
  auditRows,
  clinician,
  HOME,
  OTHER_FNR,
  PATIENT_FNR,
  PRACTITIONER_FNR,
  PRACTITIONER_HPR,
  PRACTITIONER_NAME,
  signed,
  trustConfig,
} from './helpers.js';
import { buildAssertion } from '../../scripts/sign-assertion.js';

const ACCESS_TOKEN = 'wiring-test-access-log-token-0123';

function faultSubcode(body: XmlElement): string {
  const code = childElement(body, NS.soap12, 'Code');
  const sub = code ? childElement(code, NS.soap12, 'Subcode') : undefined;
  const value = sub ? childElement(sub, NS.soap12, 'Value') : undefined;
  return value ? (value.children.join('') as string).trim() : '';
}

function titles(body: XmlElement): string[] {
  return descendants(body, NS.rim, 'ExtrinsicObject').map((eo) => {
    const name = childElement(eo, NS.rim, 'Name');
    return name ? childElements(name, NS.rim, 'LocalizedString')[0]?.attrs['value'] ?? '' : '';
  });
}

describe('trust model in every transaction (trust enabled)', function () {
  this.timeout(20_000);
  let node: TestNode;
  let normalUid: string;
  let norsUid: string;
  const patient = cx(PATIENT_FNR);

  const call = (path: string, action: string, body: string, assertion: string, securityExtra?: string) =>
    postRaw(`${node.url}${path}`, signedEnvelope(assertion, action, body, securityExtra), soapContentType(action));
  const valid = (claims = {}) => signed(clinician(PATIENT_FNR, claims));
  const repo = () => node.config.repository.repositoryUniqueId;

  before(async () => {
    node = await startTestNode({ homeCommunityId: HOME, trust: trustConfig(), audit: { accessLog: { token: ACCESS_TOKEN } } });
    const normal = epikrise({ patient, forRepository: true });
    const nors = epikrise({ patient, forRepository: true, nors: true });
    normalUid = normal.docUid;
    norsUid = nors.docUid;
    for (const s of [normal, nors]) {
      const res = await call('/xds/repository', ACTIONS.iti41.request, provideBody(s.xml, [{ id: 'Document01', bytes: Buffer.from('epikrise') }]), valid());
      expect(status(res.body), 'ITI-41 with a valid assertion').to.equal('Success');
    }
  });
  after(async () => node?.close());

  describe('XUA verification', () => {
    const cases: [string, () => string, string][] = [
      ['unsigned', () => buildAssertion(clinician(PATIENT_FNR)), 'FailedAuthentication'],
      ['expired', () => signed({ ...clinician(PATIENT_FNR), notBefore: new Date(Date.now() - 7_200_000), notOnOrAfter: new Date(Date.now() - 3_600_000) }), 'FailedAuthentication'],
      ['signed with a foreign key', () => signed(clinician(PATIENT_FNR), 'attacker'), 'FailedAuthentication'],
      ['tampered after signing (resource-id swapped)', () => valid().replaceAll(PATIENT_FNR, OTHER_FNR), 'FailedAuthentication'],
    ];
    for (const [name, make, subcode] of cases) {
      it(`${name} → SOAP fault wsse:${subcode}, audited as a security failure`, async () => {
        const before = auditRows(node.dataDir).length;
        const res = await call('/xds/registry', ACTIONS.iti18.request, findDocumentsBody(patient), make());
        expect(res.httpStatus).to.be.within(400, 599);
        expect(res.body.local).to.equal('Fault');
        expect(faultSubcode(res.body)).to.match(new RegExp(`:${subcode}$`));
        const rows = auditRows(node.dataDir).slice(before);
        expect(rows).to.have.length(1);
        expect(rows[0]!.access.outcome).to.equal('refused');
        expect(rows[0]!.resource).to.contain('110114'); // DICOM User Authentication
      });
    }

    it('wrapped (a second assertion beside the signed one) → wsse:InvalidSecurity, audited', async () => {
      const before = auditRows(node.dataDir).length;
      const res = await call('/xca/responding', ACTIONS.iti38.request, findDocumentsBody(patient), valid(), buildAssertion(clinician(OTHER_FNR)));
      expect(faultSubcode(res.body)).to.match(new RegExp(`:${WSSE_FAULT.invalidSecurity.local}$`));
      expect(auditRows(node.dataDir).slice(before).map((r) => r.access.outcome)).to.deep.equal(['refused']);
    });

    it('no assertion at all → fault, also on the repository endpoint', async () => {
      const body = retrieveBody([{ repository: repo(), document: normalUid }]);
      const url = `${node.url}/xds/repository`;
      const res = await postRaw(url, envelope({ action: ACTIONS.iti43.request, to: url, body }), soapContentType(ACTIONS.iti43.request));
      expect(res.body.local).to.equal('Fault');
      expect(faultSubcode(res.body)).to.match(/InvalidSecurity$/);
    });
  });

  describe('policy', () => {
    it('a valid assertion gets the data; a NORS entry is a masked stub "Sperret" (ITI-18 and ITI-38)', async () => {
      for (const [path, action] of [['/xds/registry', ACTIONS.iti18.request], ['/xca/responding', ACTIONS.iti38.request]] as const) {
        const res = await call(path, action, findDocumentsBody(patient), valid());
        expect(status(res.body)).to.equal('Success');
        const t = titles(res.body).sort();
        expect(t).to.have.length(2);
        expect(t).to.include('Sperret');
        expect(t.filter((x) => x !== 'Sperret')).to.have.length(1);
        // The stub tells nothing about what the document is: no class code, no author.
        const stub = descendants(res.body, NS.rim, 'ExtrinsicObject').find((eo) => childElement(eo, NS.rim, 'Name')?.children.some((c) => typeof c !== 'string' && c.attrs['value'] === 'Sperret'));
        const schemes = childElements(stub!, NS.rim, 'Classification').map((c) => c.attrs['classificationScheme']);
        expect(schemes).to.not.include('urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a'); // classCode
        expect(schemes).to.not.include('urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d'); // author
      }
    });

    it('under ETREAT the NORS entry is shown unmasked', async () => {
      const res = await call('/xds/registry', ACTIONS.iti18.request, findDocumentsBody(patient), valid({ purposeOfUse: 'ETREAT' }));
      expect(titles(res.body)).to.not.include('Sperret');
      expect(titles(res.body)).to.have.length(2);
    });

    it('retrieving a NORS document is refused (ITI-43 and ITI-39), the normal one is delivered', async () => {
      const refused = await call('/xds/repository', ACTIONS.iti43.request, retrieveBody([{ repository: repo(), document: norsUid }]), valid());
      expect(status(refused.body)).to.equal('Failure');
      expect(errorCodes(refused.body)).to.deep.equal(['XDSRegistryError']);
      expect(refused.parts.size).to.equal(0);
      const viaGateway = await call('/xca/responding', ACTIONS.iti39.request, retrieveBody([{ home: HOME, repository: repo(), document: norsUid }]), valid());
      expect(status(viaGateway.body)).to.equal('Failure');
      const ok = await call('/xds/repository', ACTIONS.iti43.request, retrieveBody([{ repository: repo(), document: normalUid }]), valid());
      expect(status(ok.body)).to.equal('Success');
      expect([...ok.parts.values()].map((b) => b.toString('utf8'))).to.deep.equal(['epikrise']);
      const denied = auditRows(node.dataDir).filter((r) => r.access.outcome === 'refused' && r.access.documents.includes(norsUid));
      expect(denied.length).to.be.at.least(2);
    });

    it('under ETREAT the NORS document is delivered', async () => {
      const res = await call('/xds/repository', ACTIONS.iti43.request, retrieveBody([{ repository: repo(), document: norsUid }]), valid({ purposeOfUse: 'ETREAT' }));
      expect(status(res.body)).to.equal('Success');
      expect(res.parts.size).to.equal(1);
    });

    it('ATT-4: resource-id ≠ the queried patient → Failure, XDSRegistryError located at our home, audited as a denial', async () => {
      const before = auditRows(node.dataDir).length;
      const res = await call('/xds/registry', ACTIONS.iti18.request, findDocumentsBody(patient), signed(clinician(OTHER_FNR)));
      expect(status(res.body)).to.equal('Failure');
      const errs = descendants(res.body, NS.rs, 'RegistryError');
      expect(errs.map((e) => [e.attrs['errorCode'], e.attrs['location']])).to.deep.equal([['XDSRegistryError', HOME]]);
      expect(descendants(res.body, NS.rim, 'ExtrinsicObject')).to.have.length(0);
      const rows = auditRows(node.dataDir).slice(before);
      expect(rows.map((r) => [r.access.transaction, r.access.outcome, r.patientId])).to.deep.equal([['ITI-18', 'refused', PATIENT_FNR]]);
    });

    it('ATT-5: a patient block on the practitioner → denial, on query and retrieve; lifted → data again', async () => {
      const block = await node.patientBlocks!.add({ patientId: patient, kind: 'practitioner', value: PRACTITIONER_HPR });
      try {
        const q = await call('/xca/responding', ACTIONS.iti38.request, findDocumentsBody(patient), valid());
        expect(status(q.body)).to.equal('Failure');
        const r = await call('/xds/repository', ACTIONS.iti43.request, retrieveBody([{ repository: repo(), document: normalUid }]), valid());
        expect(status(r.body)).to.equal('Failure');
        expect(r.parts.size).to.equal(0);
        const last = auditRows(node.dataDir).slice(-2);
        expect(last.map((x) => x.access.outcome)).to.deep.equal(['refused', 'refused']);
      } finally {
        await node.patientBlocks!.remove(block.id);
      }
      const again = await call('/xca/responding', ACTIONS.iti38.request, findDocumentsBody(patient), valid());
      expect(status(again.body)).to.equal('Success');
    });
  });

  describe('initiating gateway', () => {
    let front: TestNode;
    before(async () => {
      front = await startTestNode({
        homeCommunityId: 'urn:oid:2.16.578.1.12.4.5.100.9',
        trust: trustConfig(),
        gateway: { communities: [{ homeCommunityId: HOME, queryUrl: `${node.url}/xca/responding`, retrieveUrl: `${node.url}/xca/responding` }] },
      });
    });
    after(async () => front?.close());

    it('forwards the indented signed assertion byte-for-byte: the community verifies it and answers', async () => {
      const url = `${front.url}/xca/initiating`;
      const res = await postRaw(url, signedEnvelope(valid(), ACTIONS.iti18.request, findDocumentsBody(patient)), soapContentType(ACTIONS.iti18.request));
      expect(status(res.body)).to.equal('Success');
      expect(titles(res.body).sort()[1]).to.equal('Sperret');
      const r = await postRaw(url, signedEnvelope(valid(), ACTIONS.iti43.request, retrieveBody([{ home: HOME, repository: repo(), document: normalUid }])), soapContentType(ACTIONS.iti43.request));
      expect(status(r.body)).to.equal('Success');
      expect([...r.parts.values()].map((b) => b.toString('utf8'))).to.deep.equal(['epikrise']);
      // Both sides audited: the front its inbound and outbound calls, the community its inbound ones.
      const sent = auditRows(front.dataDir).map((x) => x.access.transaction);
      expect(sent).to.include.members(['ITI-18', 'ITI-38', 'ITI-43', 'ITI-39']);
    });
  });

  describe('patient access log', () => {
    it('lists the practitioner by name and never the fødselsnummer', async () => {
      const res = await fetch(`${node.url}/audit/access-log?patientId=${PATIENT_FNR}`, { headers: { authorization: `Bearer ${ACCESS_TOKEN}` } });
      expect(res.status).to.equal(200);
      const text = await res.text();
      expect(text).to.not.contain(PRACTITIONER_FNR);
      const log = JSON.parse(text) as { accesses: { transaction: string; outcome: string; practitioner: { name?: string } }[] };
      const transactions = new Set(log.accesses.map((a) => a.transaction));
      for (const t of ['ITI-41', 'ITI-18', 'ITI-38', 'ITI-39', 'ITI-43']) expect(transactions, t).to.include(t);
      expect(log.accesses.filter((a) => a.outcome === 'success').every((a) => a.practitioner.name === PRACTITIONER_NAME)).to.equal(true);
      expect(log.accesses.some((a) => a.outcome === 'refused')).to.equal(true);
      const unauthorised = await fetch(`${node.url}/audit/access-log?patientId=${PATIENT_FNR}`);
      expect(unauthorised.status).to.equal(401);
    });
  });
});
