/**
 * ITI-62 Delete Document Set with the trust model on the registry endpoint, over real HTTP: an
 * assertion is required; the organisation that authored a submission may remove it, another
 * organisation may not (refused whole, audited as a denial); a configured administrative role may
 * remove anything; an assertion about one patient reaches no other patient's metadata (ATT-4);
 * NHN's sample request with its SAML header (its assertion re-signed by the test issuer).
 */
import { expect } from 'chai';
import type { Association } from '../../registry/model/metadata.js';
import { NS } from '../../registry/xml/namespaces.js';
import { cx, epikrise, errorCodes, status } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, envelope, postRaw, signedEnvelope, soapContentType } from '../helpers/soap.js';
import { auditRows, clinician, OTHER_FNR, PATIENT_FNR, resignedNhnSample, signed, trustConfig } from '../wiring/helpers.js';

/** org.nr: the test clinician's organisation (the assertion's default) and another one. */
const CLINICIAN_ORG = '960510542';
const OTHER_ORG = '983974880';
const ADMIN_ROLE = 'SP';

function removeBody(ids: readonly string[]): string {
  return `<lcm:RemoveObjectsRequest xmlns:lcm="${NS.lcm}" xmlns:rim="${NS.rim}"><rim:ObjectRefList>${ids.map((id) => `<rim:ObjectRef id="${id}"/>`).join('')}</rim:ObjectRefList></lcm:RemoveObjectsRequest>`;
}

describe('ITI-62 Delete Document Set with the trust model on', function () {
  this.timeout(30_000);
  let node: TestNode;
  let url: string;

  const call = (action: string, body: string, assertion: string) => postRaw(url, signedEnvelope(assertion, action, body), soapContentType(action));
  const as = (claims: Parameters<typeof clinician>[1] = {}, patient = PATIENT_FNR) => signed(clinician(patient, claims));

  /** Registers one epikrise authored by `organisation` for `patient`; its SubmissionSet, entry and membership. */
  async function register(organisation: string, patient = PATIENT_FNR): Promise<string[]> {
    const xml = epikrise({ patient: cx(patient) }).xml.replaceAll('^^^^983974880', `^^^^${organisation}`);
    const res = await call(ACTIONS.iti42.request, xml, as({}, patient));
    expect(status(res.body), 'ITI-42 with a valid assertion').to.equal('Success');
    const objects = await node.registry.store.find({ patientId: cx(patient) });
    const set = objects.filter((o) => o.type === 'SubmissionSet').at(-1)!;
    const entry = objects.filter((o) => o.type === 'DocumentEntry').at(-1)!;
    const [membership] = (await node.registry.store.find({ type: 'Association', sourceUuid: set.entryUuid, targetUuid: entry.entryUuid })) as Association[];
    return [set.entryUuid, membership!.entryUuid, entry.entryUuid];
  }
  const stored = async (ids: readonly string[]) => (await node.registry.store.getByUuids(ids)).length;

  before(async () => {
    node = await startTestNode({
      registry: { patientIds: { acceptSyntheticNorwegianIds: true } },
      trust: { ...trustConfig(), policy: { documentAdministration: { organizations: [], roles: [ADMIN_ROLE] } } },
    });
    url = `${node.url}/xds/registry`;
  });
  after(async () => node?.close());

  it('without an assertion → SOAP fault; nothing removed', async () => {
    const ids = await register(CLINICIAN_ORG);
    const res = await postRaw(url, envelope({ action: ACTIONS.iti62.request, to: url, body: removeBody(ids) }), soapContentType(ACTIONS.iti62.request));
    expect(res.body.local).to.equal('Fault');
    expect(await stored(ids)).to.equal(3);
  });

  it('the authoring organisation removes its own submission', async () => {
    const ids = await register(CLINICIAN_ORG);
    const res = await call(ACTIONS.iti62.request, removeBody(ids), as());
    expect(status(res.body)).to.equal('Success');
    expect(await stored(ids)).to.equal(0);
  });

  it("another organisation's submission is refused whole, audited as a denial", async () => {
    const ids = await register(OTHER_ORG);
    const before = auditRows(node.dataDir).length;
    const res = await call(ACTIONS.iti62.request, removeBody(ids), as());
    expect(status(res.body)).to.equal('Failure');
    expect(errorCodes(res.body)).to.deep.equal(['XDSRegistryError']);
    expect(res.text).to.contain('access denied');
    expect(await stored(ids)).to.equal(3);
    const denials = auditRows(node.dataDir).slice(before).filter((r) => r.access.transaction === 'ITI-62');
    expect(denials).to.have.length(1);
    expect(denials[0]!.access.outcome).to.equal('refused');
  });

  it('a configured administrative role removes what another organisation authored', async () => {
    const ids = await register(OTHER_ORG);
    const res = await call(ACTIONS.iti62.request, removeBody(ids), as({ role: ADMIN_ROLE }));
    expect(status(res.body)).to.equal('Success');
    expect(await stored(ids)).to.equal(0);
  });

  it("an assertion about one patient does not reach another patient's metadata (ATT-4), administrator or not", async () => {
    const ids = await register(CLINICIAN_ORG, OTHER_FNR);
    const res = await call(ACTIONS.iti62.request, removeBody(ids), as({ role: ADMIN_ROLE }, PATIENT_FNR));
    expect(status(res.body)).to.equal('Failure');
    expect(res.text).to.contain('another patient');
    expect(await stored(ids)).to.equal(3);
  });

  it("NHN's sample with its SAML header: the assertion is verified and the request answered, each of its four objects unknown here", async () => {
    const sample = resignedNhnSample('iti62-iti40-request.xml');
    const res = await postRaw(url, sample, soapContentType(ACTIONS.iti62.request));
    expect(res.body.local, res.text.slice(0, 400)).to.not.equal('Fault');
    expect(status(res.body)).to.equal('Failure');
    expect(errorCodes(res.body)).to.deep.equal(['UnresolvedReferenceException', 'UnresolvedReferenceException', 'UnresolvedReferenceException', 'UnresolvedReferenceException']);
  });
});
