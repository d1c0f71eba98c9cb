/**
 * ITI-92 Restricted Update Document Set at the responding gateway (RMU, XCA Persistence Option),
 * over real HTTP: an update sent to /xca/responding makes the new version in the node's own
 * registry (visible to ITI-38 through the same gateway), under the registry's ITI-92 rules; a
 * `home` naming another community is XDSUnknownCommunity; the
 * Deprecated-latest case of NIST 12320; the requesting community's assertion verified as for ITI-38
 * (trust on the responding endpoint only), the organisation that authored the document allowed,
 * another refused and audited; a hub, which holds no registry, does not offer the action.
 */
import { expect } from 'chai';
import type { DocumentEntry } from '../../registry/model/metadata.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, descendants, textContent } from '../../registry/xml/tree.js';
import { cx, epikrise, errorCodes, getDocumentsBody, status, uid } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, envelope, postRaw, postSoap, signedEnvelope, soapContentType } from '../helpers/soap.js';
import { auditRows, clinician, HOME, PATIENT_FNR, signed, trustConfig } from '../wiring/helpers.js';
import { deprecate, entryAttributes, PATIENT, rmuVersion, setConfidentiality, setRepositoryUniqueId } from './iti92-messages.js';

const OTHER_COMMUNITY = 'urn:oid:2.16.578.1.12.4.5.100.2';

/** The wsa:Action of an answer. */
function answerAction(envelopeRoot: Parameters<typeof childElement>[0]): string {
  const header = childElement(envelopeRoot, NS.soap12, 'Header')!;
  return textContent(childElement(header, NS.wsa, 'Action')!).trim();
}

describe('ITI-92 at the responding gateway (XCA Persistence Option)', function () {
  this.timeout(60_000);

  describe('a regional node', () => {
    let node: TestNode;
    let responding: string;
    let registryUrl: string;

    const rmu = (body: string) => postSoap(responding, ACTIONS.iti92.request, body);
    const versionsOf = async (docUid: string) => (await node.registry.store.find({ type: 'DocumentEntry', uniqueId: docUid })) as DocumentEntry[];
    async function registered(): Promise<DocumentEntry> {
      const docUid = uid();
      const res = await postSoap(registryUrl, ACTIONS.iti42.request, epikrise({ patient: PATIENT, docUid }).xml);
      expect(status(res.body), errorCodes(res.body).join(' ')).to.equal('Success');
      return (await versionsOf(docUid))[0]!;
    }

    before(async () => {
      node = await startTestNode({ homeCommunityId: HOME });
      responding = `${node.url}/xca/responding`;
      registryUrl = `${node.url}/xds/registry`;
    });
    after(async () => node?.close());

    it("applies the update to the node's registry: version 2, seen through ITI-38 at the same gateway; audited as ITI-92", async () => {
      const v1 = await registered();
      const before = auditRows(node.dataDir).length;
      const res = await rmu(rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, title: 'Epikrise, korrigert', edit: entryAttributes(`home="${HOME}"`) }));
      expect(status(res.body), errorCodes(res.body).join(' ')).to.equal('Success');
      expect(answerAction(res.envelope)).to.equal(ACTIONS.iti92.response);

      const versions = await versionsOf(v1.uniqueId!);
      const v2 = versions.find((v) => v.version === '2')!;
      expect(v2).to.include({ logicalUuid: v1.entryUuid, availabilityStatus: 'Approved' });
      expect(versions.find((v) => v.version === '1')!.availabilityStatus).to.equal('Deprecated');

      // A requesting community asking the same gateway sees the new version, stamped with our home.
      const xcq = await postSoap(responding, ACTIONS.iti38.request, getDocumentsBody([v2.entryUuid], HOME));
      const [entry] = descendants(xcq.body, NS.rim, 'ExtrinsicObject');
      expect(entry?.attrs['home']).to.equal(HOME);
      expect(descendants(entry!, NS.rim, 'LocalizedString').map((l) => l.attrs['value'])).to.include('Epikrise, korrigert');

      const events = auditRows(node.dataDir).slice(before).filter((r) => r.access.transaction === 'ITI-92');
      expect(events.map((e) => e.access.outcome)).to.deep.equal(['success']);
      expect(events[0]!.resource).to.contain('/xca/responding');
    });

    it('takes home as a bare OID, or no home at all (NIST 40030 sends none)', async () => {
      for (const edit of [entryAttributes(`home="${HOME.slice('urn:oid:'.length)}"`), (x: string) => x]) {
        const v1 = await registered();
        const res = await rmu(rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, edit }));
        expect(status(res.body), errorCodes(res.body).join(' ')).to.equal('Success');
      }
    });

    it('a home naming another community → XDSUnknownCommunity, nothing stored', async () => {
      const v1 = await registered();
      const res = await rmu(rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, edit: entryAttributes(`home="${OTHER_COMMUNITY}"`) }));
      expect(status(res.body)).to.equal('Failure');
      expect(errorCodes(res.body)).to.deep.equal(['XDSUnknownCommunity']);
      expect(await versionsOf(v1.uniqueId!)).to.have.length(1);
    });

    it('a Deprecated latest version (NIST 12320): updated, the new version stays Deprecated; an unmodifiable change is refused', async () => {
      const v1 = await registered();
      expect(status((await postSoap(registryUrl, ACTIONS.iti57.request, deprecate(v1.entryUuid))).body)).to.equal('Success');
      const res = await rmu(rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, edit: (x) => setConfidentiality('R')(entryAttributes(`home="${HOME}"`)(x)) }));
      expect(status(res.body), errorCodes(res.body).join(' ')).to.equal('Success');
      expect((await versionsOf(v1.uniqueId!)).map((v) => [v.version, v.availabilityStatus]).sort()).to.deep.equal([
        ['1', 'Deprecated'],
        ['2', 'Deprecated'],
      ]);
      const moved = await rmu(rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, previous: '2', edit: setRepositoryUniqueId('2.16.578.1.12.4.5.100.1.3') }));
      expect(errorCodes(moved.body)).to.deep.equal(['UnmodifiableMetadataError']);
      expect(await versionsOf(v1.uniqueId!)).to.have.length(2);
    });
  });

  describe('with the trust model on the responding endpoint only', () => {
    const CLINICIAN_ORG = '960510542';
    const OTHER_ORG = '983974880';
    let node: TestNode;
    let responding: string;

    const authoredBy = (organisation: string) => (xml: string): string => xml.replaceAll('^^^^983974880', `^^^^${organisation}`);
    const versionsOf = async (docUid: string) => (await node.registry.store.find({ type: 'DocumentEntry', uniqueId: docUid })) as DocumentEntry[];
    const assertion = () => signed(clinician(PATIENT_FNR));
    const update = (v1: DocumentEntry, organisation: string) =>
      rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, patient: cx(PATIENT_FNR), edit: (x) => entryAttributes(`home="${HOME}"`)(authoredBy(organisation)(x)) });
    /** Registered at the (unprotected) registry endpoint, authored by `organisation`. */
    async function register(organisation: string): Promise<DocumentEntry> {
      const docUid = uid();
      const res = await postSoap(`${node.url}/xds/registry`, ACTIONS.iti42.request, authoredBy(organisation)(epikrise({ patient: cx(PATIENT_FNR), docUid }).xml));
      expect(status(res.body)).to.equal('Success');
      return (await versionsOf(docUid))[0]!;
    }

    before(async () => {
      node = await startTestNode({
        homeCommunityId: HOME,
        registry: { patientIds: { acceptSyntheticNorwegianIds: true } },
        trust: { ...trustConfig(), endpoints: ['responding'] },
      });
      responding = `${node.url}/xca/responding`;
    });
    after(async () => node?.close());

    it('without an assertion → SOAP fault, as for ITI-38; nothing changed', async () => {
      const v1 = await register(CLINICIAN_ORG);
      const res = await postRaw(responding, envelope({ action: ACTIONS.iti92.request, to: responding, body: update(v1, CLINICIAN_ORG) }), soapContentType(ACTIONS.iti92.request));
      expect(res.body.local).to.equal('Fault');
      expect(await versionsOf(v1.uniqueId!)).to.have.length(1);
    });

    it("the requesting community's user of the authoring organisation updates; audited as ITI-92 with the user", async () => {
      const v1 = await register(CLINICIAN_ORG);
      const before = auditRows(node.dataDir).length;
      const res = await postRaw(responding, signedEnvelope(assertion(), ACTIONS.iti92.request, update(v1, CLINICIAN_ORG)), soapContentType(ACTIONS.iti92.request));
      expect(status(res.body), errorCodes(res.body).join(' ')).to.equal('Success');
      expect(await versionsOf(v1.uniqueId!)).to.have.length(2);
      const events = auditRows(node.dataDir).slice(before).filter((r) => r.access.transaction === 'ITI-92');
      expect(events.map((e) => [e.access.outcome, e.access.organisation?.id])).to.deep.equal([['success', CLINICIAN_ORG]]);
    });

    it("another organisation's document: refused with XDSRegistryError located at our home, audited as a denial, nothing changed", async () => {
      const v1 = await register(OTHER_ORG);
      const before = auditRows(node.dataDir).length;
      const res = await postRaw(responding, signedEnvelope(assertion(), ACTIONS.iti92.request, update(v1, CLINICIAN_ORG)), soapContentType(ACTIONS.iti92.request));
      expect(status(res.body)).to.equal('Failure');
      expect(errorCodes(res.body)).to.deep.equal(['XDSRegistryError']);
      expect(descendants(res.body, NS.rs, 'RegistryError')[0]!.attrs['location']).to.equal(HOME);
      expect(res.text).to.contain('access denied');
      expect(await versionsOf(v1.uniqueId!)).to.have.length(1);
      const denials = auditRows(node.dataDir).slice(before).filter((r) => r.access.transaction === 'ITI-92');
      expect(denials.map((e) => e.access.outcome)).to.deep.equal(['refused']);
    });
  });

  describe('a hub', () => {
    let hub: TestNode;
    before(async () => {
      hub = await startTestNode({
        homeCommunityId: 'urn:oid:2.16.578.1.12.4.1.7.1.1',
        gateway: { mode: 'hub', communities: [{ homeCommunityId: HOME, name: 'region', queryUrl: 'http://127.0.0.1:9/xca/responding' }] },
      });
    });
    after(async () => hub?.close());

    it('holds no registry to persist to and does not offer ITI-92: wsa:ActionNotSupported', async () => {
      const res = await postSoap(`${hub.url}/xca/responding`, ACTIONS.iti92.request, rmuVersion({ lid: 'urn:uuid:0b8b4a1e-1f2c-4d3e-8a5b-6c7d8e9f0a1b', docUid: uid() }));
      expect(res.body.local).to.equal('Fault');
      expect(res.text).to.contain('ActionNotSupported');
    });
  });
});
