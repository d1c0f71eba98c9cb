/**
 * ITI-86 Remove Documents with the trust model on the repository endpoint, over real HTTP: an
 * assertion is required; the authoring organisation may remove its documents, another
 * organisation may not (refused, audited as a denial); configured administrative organisations
 * and roles may remove any; ATT-4 and the citizen rule; and NHN's sample request with its SAML
 * header (the sample's assertion re-signed by the test issuer, its body as sent).
 */
import { expect } from 'chai';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, descendants, type XmlElement } from '../../registry/xml/tree.js';
import { cx, epikrise, errorCodes, provideBody, retrieveBody, status, uid } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, envelope, postRaw, signedEnvelope, soapContentType } from '../helpers/soap.js';
import { auditRows, clinician, OTHER_FNR, PATIENT_FNR, resignedNhnSample, signed, trustConfig } from '../wiring/helpers.js';

/** The ids of NHN's sample (fixtures/conformance/nhn-samples/iti86-iti40-request.xml). */
const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1.1';
const REPO = '2.16.578.1.12.4.5.100.1.1.2';
const SAMPLE_DOCUMENT = '0145ca61-6ea3-44d4-95bb-3506d6c14e4f';
const SAMPLE_PATIENT = '29698496140^^^&2.16.578.1.12.4.1.4.1&ISO';

/** org.nr: the test clinician's organisation (VOSS HERAD, as in NHN's samples) and its point of care. */
const CLINICIAN_ORG = '960510542';
const CLINICIAN_POINT_OF_CARE = '874593842';
const OTHER_ORG = '983974880';
const ADMIN_ORG = '999888777';
const ADMIN_ROLE = 'SP';

function faultSubcode(body: XmlElement): string {
  const code = childElement(body, NS.soap12, 'Code');
  const sub = code ? childElement(code, NS.soap12, 'Subcode') : undefined;
  const value = sub ? childElement(sub, NS.soap12, 'Value') : undefined;
  return value ? (value.children.join('') as string).trim() : '';
}

function removeBody(documents: readonly string[], repository = REPO): string {
  return (
    `<rmd:RemoveDocumentsRequest xmlns:rmd="urn:ihe:iti:rmd:2017" xmlns:xds="${NS.xdsb}">` +
    documents.map((d) => `<xds:DocumentRequest><xds:RepositoryUniqueId>${repository}</xds:RepositoryUniqueId><xds:DocumentUniqueId>${d}</xds:DocumentUniqueId></xds:DocumentRequest>`).join('') +
    '</rmd:RemoveDocumentsRequest>'
  );
}

/** The epikrise fixture with its author institution's org.nr replaced. */
function authoredBy(organisation: string, patient: string, docUid?: string): { xml: string; docUid: string } {
  const sub = epikrise({ patient, forRepository: true, ...(docUid !== undefined ? { docUid } : {}) });
  return { xml: sub.xml.replaceAll('^^^^983974880', `^^^^${organisation}`), docUid: sub.docUid };
}

describe('ITI-86 Remove Documents with the trust model on', function () {
  this.timeout(30_000);
  let node: TestNode;
  let url: string;
  const patient = cx(PATIENT_FNR);

  const call = (action: string, body: string, assertion: string) => postRaw(url, signedEnvelope(assertion, action, body), soapContentType(action));
  const remove = (documents: readonly string[], assertion: string) => call(ACTIONS.iti86.request, removeBody(documents), assertion);
  const clinicianOf = (claims: Parameters<typeof clinician>[1] = {}) => signed(clinician(PATIENT_FNR, claims));

  async function register(organisation: string, forPatient = patient, docUid?: string): Promise<string> {
    const sub = authoredBy(organisation, forPatient, docUid);
    const res = await call(ACTIONS.iti41.request, provideBody(sub.xml, [{ id: 'Document01', bytes: Buffer.from(`epikrise ${sub.docUid}`) }]), clinicianOf());
    expect(status(res.body), 'ITI-41 with a valid assertion').to.equal('Success');
    return sub.docUid;
  }

  async function retrievable(docUid: string, forPatient = PATIENT_FNR): Promise<boolean> {
    const res = await call(ACTIONS.iti43.request, retrieveBody([{ repository: REPO, document: docUid }]), signed(clinician(forPatient)));
    return status(res.body) === 'Success';
  }

  /** The audit rows of ITI-86 recorded since `before`. */
  const removals = (before: number) =>
    auditRows(node.dataDir)
      .slice(before)
      .filter((r) => r.access.transaction === 'ITI-86');

  before(async () => {
    node = await startTestNode({
      homeCommunityId: HOME,
      repository: { repositoryUniqueId: REPO },
      registry: { patientIds: { knownPatientIds: [SAMPLE_PATIENT], acceptSyntheticNorwegianIds: true } },
      trust: { ...trustConfig(), policy: { documentAdministration: { organizations: [ADMIN_ORG], roles: [ADMIN_ROLE] } } },
    });
    url = `${node.url}/xds/repository`;
  });
  after(async () => node?.close());

  it('without an assertion → SOAP fault wsse:InvalidSecurity, audited; the document stays', async () => {
    const docUid = await register(CLINICIAN_ORG);
    const before = auditRows(node.dataDir).length;
    const res = await postRaw(url, envelope({ action: ACTIONS.iti86.request, to: url, body: removeBody([docUid]) }), soapContentType(ACTIONS.iti86.request));
    expect(res.body.local).to.equal('Fault');
    expect(faultSubcode(res.body)).to.match(/InvalidSecurity$/);
    expect(auditRows(node.dataDir).slice(before).map((r) => r.access.outcome)).to.deep.equal(['refused']);
    expect(await retrievable(docUid)).to.equal(true);
  });

  it('a principal of the authoring organisation removes the document; audited with the document and patient', async () => {
    const docUid = await register(CLINICIAN_ORG);
    const before = auditRows(node.dataDir).length;
    const res = await remove([docUid], clinicianOf());
    expect(errorCodes(res.body)).to.deep.equal([]);
    expect(status(res.body)).to.equal('Success');
    expect(await retrievable(docUid)).to.equal(false);
    const rows = removals(before);
    expect(rows.map((r) => [r.access.outcome, r.access.documents, r.patientId, r.access.organisation?.id])).to.deep.equal([
      ['success', [docUid], PATIENT_FNR, CLINICIAN_ORG],
    ]);
  });

  it('a document authored by the principal’s point of care (child-organization) may be removed by it', async () => {
    const docUid = await register(CLINICIAN_POINT_OF_CARE);
    const res = await remove([docUid], clinicianOf());
    expect(status(res.body)).to.equal('Success');
  });

  it('another organisation is refused: Failure, XDSRegistryError "access denied" at our home, audited as a denial; the document stays', async () => {
    const docUid = await register(OTHER_ORG);
    const before = auditRows(node.dataDir).length;
    const res = await remove([docUid], clinicianOf());
    expect(status(res.body)).to.equal('Failure');
    const errors = descendants(res.body, NS.rs, 'RegistryError');
    expect(errors.map((e) => [e.attrs['errorCode'], e.attrs['location']])).to.deep.equal([['XDSRegistryError', HOME]]);
    expect(errors[0]!.attrs['codeContext']).to.match(/^access denied: .*not authored by the user/);
    expect(await retrievable(docUid)).to.equal(true);
    const rows = removals(before);
    expect(rows.map((r) => [r.access.outcome, r.access.documents, r.patientId])).to.deep.equal([['refused', [docUid], PATIENT_FNR]]);
    expect(rows[0]!.resource).to.contain('document-administration');
  });

  it('own and foreign documents in one request → PartialSuccess: the own one removed, the other refused, both audited', async () => {
    const own = await register(CLINICIAN_ORG);
    const foreign = await register(OTHER_ORG);
    const before = auditRows(node.dataDir).length;
    const res = await remove([own, foreign], clinicianOf());
    expect(status(res.body)).to.equal('PartialSuccess');
    expect(errorCodes(res.body)).to.deep.equal(['XDSRegistryError']);
    expect(await retrievable(own)).to.equal(false);
    expect(await retrievable(foreign)).to.equal(true);
    expect(removals(before).map((r) => [r.access.outcome, r.access.documents])).to.deep.equal([
      ['success', [own]],
      ['refused', [foreign]],
    ]);
  });

  it('a configured administrative role (Volven 9060) removes a document of any organisation', async () => {
    const docUid = await register(OTHER_ORG);
    const res = await remove([docUid], clinicianOf({ role: ADMIN_ROLE, organizationId: '911111111', childOrganizationId: '922222222' }));
    expect(errorCodes(res.body)).to.deep.equal([]);
    expect(status(res.body)).to.equal('Success');
    expect(await retrievable(docUid)).to.equal(false);
  });

  it('a configured administrative organisation removes a document of any organisation', async () => {
    const docUid = await register(OTHER_ORG);
    const res = await remove([docUid], clinicianOf({ organizationId: ADMIN_ORG }));
    expect(status(res.body)).to.equal('Success');
  });

  it('a document the registry no longer knows: refused for the author, XDSDocumentUniqueIdError for an administrator', async () => {
    const unknown = uid();
    const byAuthor = await remove([unknown], clinicianOf());
    expect(status(byAuthor.body)).to.equal('Failure');
    expect(descendants(byAuthor.body, NS.rs, 'RegistryError')[0]!.attrs['codeContext']).to.match(/^access denied: .*no registry entry/);
    const byAdmin = await remove([unknown], clinicianOf({ organizationId: ADMIN_ORG }));
    expect(errorCodes(byAdmin.body)).to.deep.equal(['XDSDocumentUniqueIdError']);
  });

  it('ATT-4: an assertion about another patient does not remove this patient’s document, even for its author', async () => {
    const docUid = await register(CLINICIAN_ORG);
    const res = await remove([docUid], signed(clinician(OTHER_FNR)));
    expect(status(res.body)).to.equal('Failure');
    expect(descendants(res.body, NS.rs, 'RegistryError')[0]!.attrs['codeContext']).to.match(/^access denied: .*another patient/);
    expect(await retrievable(docUid)).to.equal(true);
  });

  it('a citizen (purpose PATRQT) is refused as a whole, audited as a denial', async () => {
    const docUid = await register(CLINICIAN_ORG);
    const before = auditRows(node.dataDir).length;
    const res = await remove([docUid], signed(clinician(PATIENT_FNR, { subject: PATIENT_FNR, purposeOfUse: 'PATRQT' })));
    expect(status(res.body)).to.equal('Failure');
    expect(descendants(res.body, NS.rs, 'RegistryError').map((e) => e.attrs['codeContext'])).to.deep.equal(['access denied: citizens may not remove documents']);
    expect(removals(before).map((r) => r.access.outcome)).to.deep.equal(['refused']);
    expect(await retrievable(docUid)).to.equal(true);
  });

  it("NHN's sample request with its SAML header (iti86-iti40-request.xml, re-signed by the test issuer) removes the document its organisation authored", async () => {
    await register(CLINICIAN_ORG, SAMPLE_PATIENT, SAMPLE_DOCUMENT);
    const before = auditRows(node.dataDir).length;
    const res = await postRaw(url, resignedNhnSample('iti86-iti40-request.xml'), soapContentType(ACTIONS.iti86.request));
    expect(errorCodes(res.body)).to.deep.equal([]);
    expect(status(res.body)).to.equal('Success');
    const rows = removals(before);
    expect(rows.map((r) => [r.access.outcome, r.access.documents, r.access.practitioner.name])).to.deep.equal([['success', [SAMPLE_DOCUMENT], 'KVART GREVLING']]);
    const again = await postRaw(url, resignedNhnSample('iti86-iti40-request.xml'), soapContentType(ACTIONS.iti86.request));
    expect(errorCodes(again.body)).to.deep.equal(['XDSDocumentUniqueIdError']);
  });
});
