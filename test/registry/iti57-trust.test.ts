/**
 * ITI-57 Update Document Set with the trust model on the registry endpoint, over real HTTP: an
 * assertion is required; the organisation that authored a document may make a new version of it and
 * change its status, another organisation may not (refused whole, audited as a denial), a configured
 * administrative role may; an update may not carry a record to another patient than the assertion's
 * (ATT-4); folders are an administrator's; citizens change nothing.
 */
import { expect } from 'chai';
import type { DocumentEntry, Folder } from '../../registry/model/metadata.js';
import { NS } from '../../registry/xml/namespaces.js';
import { cx, epikrise, errorCodes, status, uid } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, envelope, postRaw, signedEnvelope, soapContentType } from '../helpers/soap.js';
import { auditRows, clinician, OTHER_FNR, PATIENT_FNR, signed, trustConfig } from '../wiring/helpers.js';

/** org.nr: the test clinician's organisation (the assertion's default) and another one. */
const CLINICIAN_ORG = '960510542';
const OTHER_ORG = '983974880';
const ADMIN_ROLE = 'SP';
const HAS_MEMBER = 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember';
const STATUS = 'urn:oasis:names:tc:ebxml-regrep:StatusType:';

const slot = (name: string, value: string): string => `<rim:Slot name="${name}"><rim:ValueList><rim:Value>${value}</rim:Value></rim:ValueList></rim:Slot>`;
const authoredBy = (xml: string, organisation: string): string => xml.replaceAll('^^^^983974880', `^^^^${organisation}`);

/** An ITI-57 request: a new version (PreviousVersion 1) of the epikrise registered under `lid`. */
function newVersion(lid: string, docUid: string, patient: string, organisation: string): string {
  return authoredBy(epikrise({ patient: cx(patient), docUid }).xml, organisation)
    .replace('<rim:ExtrinsicObject id="Document01"', `<rim:ExtrinsicObject id="Document01" lid="${lid}"`)
    .replace(/(<rim:Slot name="SubmissionSetStatus">[\s\S]*?<\/rim:Slot>)/, `$1${slot('PreviousVersion', '1')}`);
}

/** An ITI-57 request deprecating `target`. */
function deprecate(target: string, patient: string, organisation: string): string {
  const ss = /<rim:RegistryPackage id="SubmissionSet01">[\s\S]*?<\/rim:RegistryPackage>\s*<rim:Classification id="cl10"[^>]*\/>/.exec(
    authoredBy(epikrise({ patient: cx(patient) }).xml, organisation),
  )![0];
  return (
    `<lcm:SubmitObjectsRequest xmlns:lcm="${NS.lcm}" xmlns:rim="${NS.rim}"><rim:RegistryObjectList>${ss}` +
    `<rim:Association id="up01" associationType="urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus" sourceObject="SubmissionSet01" targetObject="${target}">` +
    `${slot('OriginalStatus', `${STATUS}Approved`)}${slot('NewStatus', `${STATUS}Deprecated`)}</rim:Association></rim:RegistryObjectList></lcm:SubmitObjectsRequest>`
  );
}

describe('ITI-57 Update Document Set with the trust model on', function () {
  this.timeout(30_000);
  let node: TestNode;
  let url: string;

  const call = (action: string, body: string, assertion: string) => postRaw(url, signedEnvelope(assertion, action, body), soapContentType(action));
  const as = (claims: Parameters<typeof clinician>[1] = {}, patient = PATIENT_FNR) => signed(clinician(patient, claims));
  const versionsOf = async (docUid: string) => (await node.registry.store.find({ type: 'DocumentEntry', uniqueId: docUid })) as DocumentEntry[];

  /** Registers one epikrise authored by `organisation` for `patient`; its DocumentEntry. */
  async function register(organisation: string, patient = PATIENT_FNR, body?: string): Promise<DocumentEntry> {
    const docUid = uid();
    const res = await call(ACTIONS.iti42.request, body ?? authoredBy(epikrise({ patient: cx(patient), docUid }).xml, organisation), as({}, patient));
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
    const body = newVersion(v1.entryUuid, v1.uniqueId!, PATIENT_FNR, CLINICIAN_ORG);
    const res = await postRaw(url, envelope({ action: ACTIONS.iti57.request, to: url, body }), soapContentType(ACTIONS.iti57.request));
    expect(res.body.local).to.equal('Fault');
    expect(await versionsOf(v1.uniqueId!)).to.have.length(1);
  });

  it('the authoring organisation makes a new version and changes the status of its own document; both audited as ITI-57', async () => {
    const v1 = await register(CLINICIAN_ORG);
    const before = auditRows(node.dataDir).length;
    const res = await call(ACTIONS.iti57.request, newVersion(v1.entryUuid, v1.uniqueId!, PATIENT_FNR, CLINICIAN_ORG), as());
    expect(status(res.body), errorCodes(res.body).join(' ')).to.equal('Success');
    const v2 = (await versionsOf(v1.uniqueId!)).find((v) => v.version === '2')!;
    expect(status((await call(ACTIONS.iti57.request, deprecate(v2.entryUuid, PATIENT_FNR, CLINICIAN_ORG), as())).body)).to.equal('Success');
    const events = auditRows(node.dataDir).slice(before).filter((r) => r.access.transaction === 'ITI-57');
    expect(events.map((e) => e.access.outcome)).to.deep.equal(['success', 'success']);
    expect(events[1]!.access.documents).to.deep.equal([v1.uniqueId]);
  });

  it("another organisation's document: refused whole, audited as a denial, nothing changed", async () => {
    const v1 = await register(OTHER_ORG);
    const before = auditRows(node.dataDir).length;
    const res = await call(ACTIONS.iti57.request, newVersion(v1.entryUuid, v1.uniqueId!, PATIENT_FNR, CLINICIAN_ORG), as());
    expect(status(res.body)).to.equal('Failure');
    expect(errorCodes(res.body)).to.deep.equal(['XDSRegistryError']);
    expect(res.text).to.contain('access denied');
    expect(await versionsOf(v1.uniqueId!)).to.have.length(1);
    const denials = auditRows(node.dataDir).slice(before).filter((r) => r.access.transaction === 'ITI-57');
    expect(denials).to.have.length(1);
    expect(denials[0]!.access.outcome).to.equal('refused');
    expect(errorCodes((await call(ACTIONS.iti57.request, deprecate(v1.entryUuid, PATIENT_FNR, CLINICIAN_ORG), as())).body)).to.deep.equal(['XDSRegistryError']);
    expect((await versionsOf(v1.uniqueId!))[0]!.availabilityStatus).to.equal('Approved');
  });

  it('a configured administrative role updates what another organisation authored', async () => {
    const v1 = await register(OTHER_ORG);
    const res = await call(ACTIONS.iti57.request, newVersion(v1.entryUuid, v1.uniqueId!, PATIENT_FNR, OTHER_ORG), as({ role: ADMIN_ROLE }));
    expect(status(res.body), errorCodes(res.body).join(' ')).to.equal('Success');
    expect(await versionsOf(v1.uniqueId!)).to.have.length(2);
  });

  it("a new version naming another patient than the assertion's is refused (ATT-4), administrator or not", async () => {
    const v1 = await register(CLINICIAN_ORG);
    const res = await call(ACTIONS.iti57.request, newVersion(v1.entryUuid, v1.uniqueId!, OTHER_FNR, CLINICIAN_ORG), as({ role: ADMIN_ROLE }));
    expect(errorCodes(res.body)).to.deep.equal(['XDSRegistryError']);
    expect(res.text).to.contain('another patient');
    expect(await versionsOf(v1.uniqueId!)).to.have.length(1);
  });

  it('a new Folder version is an administrator’s; citizens change nothing', async () => {
    const folderUid = uid();
    const docUid = uid();
    const inFolder = authoredBy(epikrise({ patient: cx(PATIENT_FNR), docUid }).xml, CLINICIAN_ORG).replace(
      '</rim:RegistryObjectList>',
      `<rim:RegistryPackage id="Folder01"><rim:Name><rim:LocalizedString value="Mappe"/></rim:Name>` +
        `<rim:Classification id="clf1" classificationScheme="urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5" classifiedObject="Folder01" nodeRepresentation="A00-1">${slot('codingScheme', '2.16.578.1.12.4.1.1.9602')}<rim:Name><rim:LocalizedString value="Epikriser"/></rim:Name></rim:Classification>` +
        `<rim:ExternalIdentifier id="eif1" identificationScheme="urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a" registryObject="Folder01" value="${cx(PATIENT_FNR).replace(/&/g, '&amp;')}"/>` +
        `<rim:ExternalIdentifier id="eif2" identificationScheme="urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a" registryObject="Folder01" value="${folderUid}"/></rim:RegistryPackage>` +
        `<rim:Classification id="clf0" classifiedObject="Folder01" classificationNode="urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"/>` +
        `<rim:Association id="asf1" associationType="${HAS_MEMBER}" sourceObject="SubmissionSet01" targetObject="Folder01"/></rim:RegistryObjectList>`,
    );
    await register(CLINICIAN_ORG, PATIENT_FNR, inFolder);
    const [f1] = (await node.registry.store.find({ type: 'Folder', uniqueId: folderUid })) as Folder[];
    const folderUpdate = inFolder
      .replace(/<rim:ExtrinsicObject[\s\S]*?<\/rim:ExtrinsicObject>/, '')
      .replace(/<rim:Association id="as01"[\s\S]*?<\/rim:Association>/, '')
      .replace('<rim:RegistryPackage id="Folder01">', `<rim:RegistryPackage id="Folder01" lid="${f1!.entryUuid}">`)
      .replace(`targetObject="Folder01"/>`, `targetObject="Folder01">${slot('PreviousVersion', '1')}</rim:Association>`)
      .replace(/(<rim:ExternalIdentifier id="ei03"[^>]*value=")[^"]*/, `$1${uid()}`);
    const refused = await call(ACTIONS.iti57.request, folderUpdate, as());
    expect(errorCodes(refused.body)).to.deep.equal(['XDSRegistryError']);
    expect(refused.text).to.contain('document administrator');
    const admin = await call(ACTIONS.iti57.request, folderUpdate, as({ role: ADMIN_ROLE }));
    expect(status(admin.body), errorCodes(admin.body).join(' ')).to.equal('Success');

    const [doc] = await versionsOf(docUid);
    const citizen = await call(ACTIONS.iti57.request, deprecate(doc!.entryUuid, PATIENT_FNR, CLINICIAN_ORG), as({ purposeOfUse: 'PATRQT' }));
    expect(errorCodes(citizen.body)).to.deep.equal(['XDSRegistryError']);
    expect(citizen.text).to.contain('citizens may not change documents');
  });
});
