/**
 * ITI-51 under the trust model, over real HTTP with signed assertions (test PKI in fixtures/certs):
 * only an organisation or role listed in registry.multiPatientQuery.allowed may run it, a refusal
 * is answered and audited as an ITI-18 denial is, and each patient's own rules still hold in the
 * answer (NORS masked, also under ETREAT; a patient's block withholds that patient's entries).
 */
import { expect } from 'chai';
import { STORED_QUERY_ID } from '../../registry/model/query.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, childElements, descendants, type XmlElement } from '../../registry/xml/tree.js';
import { cx, epikrise, errorCodes, status } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, envelope, postRaw, signedEnvelope, soapContentType } from '../helpers/soap.js';
import { auditRows, clinician, HOME, OTHER_FNR, PATIENT_FNR, PRACTITIONER_HPR, signed, trustConfig } from '../wiring/helpers.js';
import type { ClinicianClaims } from '../../scripts/sign-assertion.js';

/** A third adult (valid fødselsnummer check digits). */
const THIRD_FNR = '15038512363';
/** The organisation of the test clinician's assertions (scripts/sign-assertion.ts). */
const ALLOWED_ORG = '960510542';
const CLASS_EPIKRISE = "('A00-1^^2.16.578.1.12.4.1.1.9602')";
const APPROVED = "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')";

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function findForPatients(fnrs: readonly string[], returnType: 'LeafClass' | 'ObjectRef' = 'LeafClass'): string {
  const patients = fnrs.length > 0 ? `(${fnrs.map((f) => `'${cx(f)}'`).join(', ')})` : undefined;
  const slot = (name: string, value: string): string => `<rim:Slot name="${name}"><rim:ValueList><rim:Value>${xmlEscape(value)}</rim:Value></rim:ValueList></rim:Slot>`;
  return (
    `<query:AdhocQueryRequest xmlns:query="${NS.query}" xmlns:rim="${NS.rim}">` +
    `<query:ResponseOption returnType="${returnType}" returnComposedObjects="true"/>` +
    `<rim:AdhocQuery id="${STORED_QUERY_ID.FindDocumentsForMultiplePatients}">` +
    (patients !== undefined ? slot('$XDSDocumentEntryPatientId', patients) : '') +
    slot('$XDSDocumentEntryStatus', APPROVED) +
    slot('$XDSDocumentEntryClassCode', CLASS_EPIKRISE) +
    `</rim:AdhocQuery></query:AdhocQueryRequest>`
  );
}

/** The codeContext of the one RegistryError of a denial. */
function denialText(body: XmlElement): string {
  const errs = descendants(body, NS.rs, 'RegistryError');
  expect(errs).to.have.length(1);
  return errs[0]!.attrs['codeContext'] ?? '';
}

function titles(body: XmlElement): string[] {
  return descendants(body, NS.rim, 'ExtrinsicObject').map((eo) => {
    const name = childElement(eo, NS.rim, 'Name');
    return name ? childElements(name, NS.rim, 'LocalizedString')[0]?.attrs['value'] ?? '' : '';
  });
}

function patientsOf(body: XmlElement): string[] {
  return descendants(body, NS.rim, 'ExtrinsicObject').map(
    (eo) => childElements(eo, NS.rim, 'ExternalIdentifier').find((e) => e.attrs['identificationScheme'] === 'urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427')!.attrs['value']!,
  );
}

describe('ITI-51 under the trust model', function () {
  this.timeout(30_000);
  let node: TestNode;
  /** The node's registry endpoint, where it serves ITI-51 besides ITI-18 and ITI-42. */
  let registryUrl: string;

  /** An assertion of the test clinician; its resource-id does not bind a multi-patient query. */
  const assertion = (claims: ClinicianClaims = {}) => signed(clinician(PATIENT_FNR, claims));
  const iti51 = (body: string, claims: ClinicianClaims = {}) =>
    postRaw(registryUrl, signedEnvelope(assertion(claims), ACTIONS.iti51.request, body), soapContentType(ACTIONS.iti51.request));
  const newRows = async <T>(run: () => Promise<T>) => {
    const before = auditRows(node.dataDir).length;
    const result = await run();
    return { result, rows: auditRows(node.dataDir).slice(before) };
  };

  before(async () => {
    node = await startTestNode({
      homeCommunityId: HOME,
      trust: trustConfig(),
      registry: { multiPatientQuery: { enabled: true, allowed: { organizations: [ALLOWED_ORG], roles: ['SP'] } } },
    });
    registryUrl = `${node.url}/xds/registry`;
    const submissions = [
      { fnr: PATIENT_FNR, nors: false },
      { fnr: PATIENT_FNR, nors: true },
      { fnr: OTHER_FNR, nors: false },
      { fnr: THIRD_FNR, nors: false },
    ];
    for (const s of submissions) {
      const body = epikrise({ patient: cx(s.fnr), nors: s.nors }).xml;
      const res = await postRaw(registryUrl, signedEnvelope(signed(clinician(s.fnr)), ACTIONS.iti42.request, body), soapContentType(ACTIONS.iti42.request));
      expect(status(res.body), `ITI-42 for ${s.fnr}`).to.equal('Success');
    }
  });
  after(async () => {
    await node?.close();
  });

  it('an allowed organisation gets both patients’ entries, each filtered for its patient (NORS masked)', async () => {
    const { result: res, rows } = await newRows(() => iti51(findForPatients([PATIENT_FNR, OTHER_FNR])));
    expect(status(res.body)).to.equal('Success');
    expect(patientsOf(res.body).sort()).to.deep.equal([cx(PATIENT_FNR), cx(PATIENT_FNR), cx(OTHER_FNR)].sort());
    const t = titles(res.body);
    expect(t.filter((x) => x === 'Sperret')).to.have.length(1);
    expect(rows.map((r) => [r.access.transaction, r.access.outcome, r.patientId])).to.have.deep.members([
      ['ITI-51', 'success', PATIENT_FNR],
      ['ITI-51', 'success', OTHER_FNR],
    ]);
  });

  it('an organisation not listed, with a role not listed → Failure, XDSRegistryError at our home, audited as refused per patient', async () => {
    const { result: res, rows } = await newRows(() => iti51(findForPatients([PATIENT_FNR, OTHER_FNR]), { organizationId: '974589095' }));
    expect(status(res.body)).to.equal('Failure');
    const errs = descendants(res.body, NS.rs, 'RegistryError');
    expect(errs.map((e) => [e.attrs['errorCode'], e.attrs['location']])).to.deep.equal([['XDSRegistryError', HOME]]);
    expect(denialText(res.body)).to.match(/^access denied: neither the organisation nor the role/);
    expect(descendants(res.body, NS.rim, 'ExtrinsicObject')).to.have.length(0);
    expect(rows.map((r) => [r.access.transaction, r.access.outcome, r.patientId])).to.have.deep.members([
      ['ITI-51', 'refused', PATIENT_FNR],
      ['ITI-51', 'refused', OTHER_FNR],
    ]);
    expect(rows.every((r) => r.resource.includes('multi-patient-query'))).to.equal(true);
  });

  it('a listed role (SP, Volven 9060) is allowed from any organisation', async () => {
    const res = await iti51(findForPatients([OTHER_FNR]), { organizationId: '974589095', role: 'SP' });
    expect(status(res.body)).to.equal('Success');
    expect(patientsOf(res.body)).to.deep.equal([cx(OTHER_FNR)]);
  });

  it('the rest of the request decision still applies (security level)', async () => {
    const res = await iti51(findForPatients([OTHER_FNR]), { securityLevel: '3' });
    expect(status(res.body)).to.equal('Failure');
    expect(errorCodes(res.body)).to.deep.equal(['XDSRegistryError']);
    expect(denialText(res.body)).to.contain('security level 3');
  });

  it('citizens are refused, even for their own records', async () => {
    const res = await iti51(findForPatients([PATIENT_FNR]), { subject: PATIENT_FNR, purposeOfUse: 'PATRQT' });
    expect(status(res.body)).to.equal('Failure');
    expect(errorCodes(res.body)).to.deep.equal(['XDSRegistryError']);
    expect(denialText(res.body)).to.contain('citizens may not run the multi-patient query');
    expect(descendants(res.body, NS.rim, 'ExtrinsicObject')).to.have.length(0);
  });

  it('ETREAT does not unmask NORS in a multi-patient answer', async () => {
    const res = await iti51(findForPatients([PATIENT_FNR]), { purposeOfUse: 'ETREAT' });
    expect(status(res.body)).to.equal('Success');
    expect(titles(res.body).filter((x) => x === 'Sperret')).to.have.length(1);
  });

  it('a patient’s block withholds that patient’s entries only, and is audited as a refusal for that patient', async () => {
    const practitionerBlock = await node.patientBlocks!.add({ patientId: cx(OTHER_FNR), kind: 'practitioner', value: PRACTITIONER_HPR });
    const allBlock = await node.patientBlocks!.add({ patientId: cx(THIRD_FNR), kind: 'all' });
    try {
      // Named in the query or only found by it: the block holds either way.
      for (const fnrs of [[PATIENT_FNR, OTHER_FNR, THIRD_FNR], []]) {
        const { result: res, rows } = await newRows(() => iti51(findForPatients(fnrs)));
        expect(status(res.body)).to.equal('Success');
        expect(patientsOf(res.body)).to.deep.equal([cx(PATIENT_FNR), cx(PATIENT_FNR)]);
        expect(rows.map((r) => [r.access.outcome, r.patientId])).to.have.deep.members([
          ['success', PATIENT_FNR],
          ['refused', OTHER_FNR],
          ['refused', THIRD_FNR],
        ]);
      }
    } finally {
      await node.patientBlocks!.remove(practitionerBlock.id);
      await node.patientBlocks!.remove(allBlock.id);
    }
    const lifted = await iti51(findForPatients([OTHER_FNR, THIRD_FNR], 'ObjectRef'));
    expect(descendants(lifted.body, NS.rim, 'ObjectRef')).to.have.length(2);
  });

  it('without an assertion → wsse fault, audited as a security failure of ITI-51', async () => {
    const { result: res, rows } = await newRows(() =>
      postRaw(registryUrl, envelope({ action: ACTIONS.iti51.request, to: registryUrl, body: findForPatients([OTHER_FNR]) }), soapContentType(ACTIONS.iti51.request)),
    );
    expect(res.body.local).to.equal('Fault');
    expect(rows.map((r) => [r.access.transaction, r.access.outcome])).to.deep.equal([['ITI-51', 'refused']]);
  });
});
