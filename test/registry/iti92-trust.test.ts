/**
 * ITI-92 Restricted Update Document Set with the trust model on the registry endpoint, over real
 * HTTP, decided as ITI-57 is: an assertion is required; the organisation that authored a document
 * may make a new version of it, another organisation may not (refused whole, audited as an ITI-92
 * denial), a configured administrative role may; the update may not name another patient than the
 * assertion's (ATT-4); citizens change nothing.
 */
import { expect } from 'chai';
import type { DocumentEntry } from '../../registry/model/metadata.js';
import { cx, epikrise, errorCodes, status, uid } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, envelope, postRaw, signedEnvelope, soapContentType } from '../helpers/soap.js';
import { auditRows, clinician, OTHER_FNR, PATIENT_FNR, signed, trustConfig } from '../wiring/helpers.js';
import { rmuVersion, setSourcePatientId } from '../gateway/iti92-messages.js';

/** org.nr: the test clinician's organisation (the assertion's default) and another one. */
const CLINICIAN_ORG = '960510542';
const OTHER_ORG = '983974880';
const ADMIN_ROLE = 'SP';
const authoredBy = (organisation: string) => (xml: string): string => xml.replaceAll('^^^^983974880', `^^^^${organisation}`);

describe('ITI-92 Restricted Update Document Set with the trust model on the registry endpoint', function () {
  this.timeout(30_000);
  let node: TestNode;
  let url: string;

  const call = (action: string, body: string, assertion: string) => postRaw(url, signedEnvelope(assertion, action, body), soapContentType(action));
  const as = (claims: Parameters<typeof clinician>[1] = {}, patient = PATIENT_FNR) => signed(clinician(patient, claims));
  const versionsOf = async (docUid: string) => (await node.registry.store.find({ type: 'DocumentEntry', uniqueId: docUid })) as DocumentEntry[];
  /** An RMU request for `v1`, sent as written by `organisation` (for `patient`). */
  const update = (v1: DocumentEntry, organisation: string, patient = PATIENT_FNR) =>
    rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, patient: cx(patient), title: 'Epikrise, korrigert', edit: authoredBy(organisation) });

  /** Registers one epikrise authored by `organisation`; its DocumentEntry. */
  async function register(organisation: string): Promise<DocumentEntry> {
    const docUid = uid();
    const res = await call(ACTIONS.iti42.request, authoredBy(organisation)(epikrise({ patient: cx(PATIENT_FNR), docUid }).xml), as());
    expect(status(res.body), 'ITI-42 with a valid assertion').to.equal('Success');
    return (await versionsOf(docUid))[0]!;
  }

  before(async () => {
    node = await startTestNode({
      registry: { patientIds: { acceptSyntheticNorwegianIds: true } },
      trust: { ...trustConfig(), policy: { documentAdministration: { organizations: [], roles: [ADMIN_ROLE] } } },
    });
    url = `${node.url}/xds/registry`;
  });
  after(async () => node?.close());

  it('without an assertion → SOAP fault; nothing changed', async () => {
    const v1 = await register(CLINICIAN_ORG);
    const res = await postRaw(url, envelope({ action: ACTIONS.iti92.request, to: url, body: update(v1, CLINICIAN_ORG) }), soapContentType(ACTIONS.iti92.request));
    expect(res.body.local).to.equal('Fault');
    expect(await versionsOf(v1.uniqueId!)).to.have.length(1);
  });

  it('the authoring organisation makes a new version of its own document; audited as ITI-92 with the user', async () => {
    const v1 = await register(CLINICIAN_ORG);
    const before = auditRows(node.dataDir).length;
    const res = await call(ACTIONS.iti92.request, update(v1, CLINICIAN_ORG), as());
    expect(status(res.body), errorCodes(res.body).join(' ')).to.equal('Success');
    expect((await versionsOf(v1.uniqueId!)).map((v) => v.version).sort()).to.deep.equal(['1', '2']);
    const events = auditRows(node.dataDir).slice(before).filter((r) => r.access.transaction === 'ITI-92');
    expect(events.map((e) => e.access.outcome)).to.deep.equal(['success']);
    expect(events[0]!.access.documents).to.deep.equal([v1.uniqueId]);
    expect(events[0]!.access.organisation?.id).to.equal(CLINICIAN_ORG);
  });

  it("another organisation's document: refused whole, audited as an ITI-92 denial, nothing changed", async () => {
    const v1 = await register(OTHER_ORG);
    const before = auditRows(node.dataDir).length;
    const res = await call(ACTIONS.iti92.request, update(v1, CLINICIAN_ORG), as());
    expect(status(res.body)).to.equal('Failure');
    expect(errorCodes(res.body)).to.deep.equal(['XDSRegistryError']);
    expect(res.text).to.contain('access denied');
    expect(await versionsOf(v1.uniqueId!)).to.have.length(1);
    const denials = auditRows(node.dataDir).slice(before).filter((r) => r.access.transaction === 'ITI-92');
    expect(denials).to.have.length(1);
    expect(denials[0]!.access.outcome).to.equal('refused');
    expect(denials[0]!.access.documents).to.deep.equal([v1.uniqueId]);
  });

  it('a configured administrative role updates what another organisation authored', async () => {
    const v1 = await register(OTHER_ORG);
    const res = await call(ACTIONS.iti92.request, update(v1, OTHER_ORG), as({ role: ADMIN_ROLE }));
    expect(status(res.body), errorCodes(res.body).join(' ')).to.equal('Success');
    expect(await versionsOf(v1.uniqueId!)).to.have.length(2);
  });

  it("a new version naming another patient than the assertion's is refused (ATT-4) before the rules see it", async () => {
    const v1 = await register(CLINICIAN_ORG);
    const body = rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, patient: cx(OTHER_FNR), edit: (x) => setSourcePatientId(cx(PATIENT_FNR))(authoredBy(CLINICIAN_ORG)(x)) });
    const res = await call(ACTIONS.iti92.request, body, as({ role: ADMIN_ROLE }));
    expect(errorCodes(res.body)).to.deep.equal(['XDSRegistryError']);
    expect(res.text).to.contain('another patient');
    expect(await versionsOf(v1.uniqueId!)).to.have.length(1);
  });

  it('citizens change nothing', async () => {
    const v1 = await register(CLINICIAN_ORG);
    const res = await call(ACTIONS.iti92.request, update(v1, CLINICIAN_ORG), as({ purposeOfUse: 'PATRQT' }));
    expect(errorCodes(res.body)).to.deep.equal(['XDSRegistryError']);
    expect(res.text).to.contain('citizens may not change documents');
    expect(await versionsOf(v1.uniqueId!)).to.have.length(1);
  });
});
