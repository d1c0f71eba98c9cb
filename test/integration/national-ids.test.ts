/**
 * What the national network really sends, over real HTTP against started nodes: UUID document
 * uniqueIds through every path (ITI-41 MTOM and inline, ITI-42, FindDocuments, GetDocuments, ITI-43,
 * ITI-39 and the initiating gateway), the malformed ids still refused, home="" on submitted
 * objects, and synthetic test-register (Tenor) fødselsnumre accepted only when configured, by the
 * registry and the trust policy alike.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { STORED_QUERY_ID } from '../../registry/model/query.js';
import { NS } from '../../registry/xml/namespaces.js';
import { descendants, type XmlElement } from '../../registry/xml/tree.js';
import { cx, epikrise, errorCodes, findDocumentsBody, retrieveBody, status } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, postSoap, postRaw, signedEnvelope, soapContentType } from '../helpers/soap.js';
import { documents, provideInline, provideMtom, retrieve } from '../repository/client.js';
import { clinician, signed, trustConfig } from '../wiring/helpers.js';

const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1';
/** A synthetic fødselsnummer of the national test register (Tenor: born 6 Feb 1983, month + 80). */
const TENOR_FNR = '06828399789';

/** The XDSDocumentEntry.uniqueId values of a LeafClass answer. */
function uniqueIds(body: XmlElement): string[] {
  return descendants(body, NS.rim, 'ExternalIdentifier')
    .filter((x) => x.attrs['identificationScheme'] === 'urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab')
    .map((x) => x.attrs['value'] ?? '');
}

function getDocumentsByUniqueId(uid: string): string {
  return (
    `<query:AdhocQueryRequest xmlns:query="${NS.query}" xmlns:rim="${NS.rim}"><query:ResponseOption returnType="LeafClass" returnComposedObjects="true"/>` +
    `<rim:AdhocQuery id="${STORED_QUERY_ID.GetDocuments}"><rim:Slot name="$XDSDocumentEntryUniqueId"><rim:ValueList><rim:Value>('${uid}')</rim:Value></rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest>`
  );
}

describe('national network identifiers', function () {
  this.timeout(30_000);

  describe('UUID document uniqueIds', () => {
    let node: TestNode;
    const patient = cx('12057900499');
    const repo = () => node.config.repository.repositoryUniqueId;
    before(async () => {
      node = await startTestNode({ homeCommunityId: HOME });
    });
    after(async () => node?.close());

    const registered: { uid: string; bytes: Buffer | undefined }[] = [];

    it('ITI-41 MTOM and inline, ITI-42: registered', async () => {
      const mtom = { uid: randomUUID(), bytes: Buffer.from('MTOM-dokument') };
      const inline = { uid: randomUUID().toUpperCase(), bytes: Buffer.from('inline-dokument') };
      const r1 = await provideMtom(`${node.url}/xds/repository`, epikrise({ patient, docUid: mtom.uid, forRepository: true }).xml, [{ id: 'Document01', bytes: mtom.bytes }]);
      expect(status(r1.body), r1.text).to.equal('Success');
      const r2 = await provideInline(`${node.url}/xds/repository`, epikrise({ patient, docUid: inline.uid, forRepository: true }).xml, [{ id: 'Document01', bytes: inline.bytes }]);
      expect(status(r2.body), r2.text).to.equal('Success');
      const metadataOnly = randomUUID();
      const r3 = await postSoap(`${node.url}/xds/registry`, ACTIONS.iti42.request, epikrise({ patient, docUid: metadataOnly }).xml);
      expect(status(r3.body), r3.text).to.equal('Success');
      registered.push(mtom, inline, { uid: metadataOnly, bytes: undefined });
    });

    it('found by FindDocuments and by GetDocuments($XDSDocumentEntryUniqueId)', async () => {
      const found = await postSoap(`${node.url}/xds/registry`, ACTIONS.iti18.request, findDocumentsBody(patient));
      expect(status(found.body)).to.equal('Success');
      expect(uniqueIds(found.body)).to.have.members(registered.map((r) => r.uid));
      for (const { uid } of registered) {
        const got = await postSoap(`${node.url}/xds/registry`, ACTIONS.iti18.request, getDocumentsByUniqueId(uid));
        expect(uniqueIds(got.body), uid).to.deep.equal([uid]);
      }
    });

    it('retrieved by ITI-43, through ITI-39 and through the initiating gateway, byte for byte', async () => {
      for (const { uid, bytes } of registered.filter((r) => r.bytes !== undefined)) {
        const direct = await retrieve(`${node.url}/xds/repository`, [{ repositoryUniqueId: repo(), documentUniqueId: uid }]);
        expect(status(direct.body)).to.equal('Success');
        expect(documents(direct)[0]!.bytes.equals(bytes!)).to.equal(true);
        const body = retrieveBody([{ home: HOME, repository: repo(), document: uid }]);
        const viaResponding = await postSoap(`${node.url}/xca/responding`, ACTIONS.iti39.request, body);
        expect(status(viaResponding.body), viaResponding.text).to.equal('Success');
        expect(documents(viaResponding)[0]!.bytes.equals(bytes!)).to.equal(true);
        const viaInitiating = await postSoap(`${node.url}/xca/initiating`, ACTIONS.iti43.request, body);
        expect(status(viaInitiating.body), viaInitiating.text).to.equal('Success');
        expect(documents(viaInitiating)[0]!.bytes.equals(bytes!)).to.equal(true);
      }
    });

    it('malformed uniqueIds are still refused with XDSRegistryMetadataError', async () => {
      // As written in the XML: spaces, a tab and DEL (control characters XML 1.0 allows), too long, the entryUUID form.
      for (const bad of ['13fa8361 dd8f 43fd a33c 93f3237306c3', '1.2.3^a&#9;b', '1.2.3^a\u007fb', `1.2.3^${'x'.repeat(130)}`, 'urn:uuid:13fa8361-dd8f-43fd-a33c-93f3237306c3']) {
        const res = await postSoap(`${node.url}/xds/registry`, ACTIONS.iti42.request, epikrise({ patient, docUid: bad }).xml);
        expect(status(res.body), JSON.stringify(bad)).to.equal('Failure');
        expect(errorCodes(res.body), JSON.stringify(bad)).to.deep.equal(['XDSRegistryMetadataError']);
      }
    });

    it('home="" on the submitted objects is taken as absent', async () => {
      const uid = randomUUID();
      const xml = epikrise({ patient, docUid: uid }).xml.replace(/<rim:(ExtrinsicObject|RegistryPackage|Association)\s/g, '<rim:$1 home="" ');
      const res = await postSoap(`${node.url}/xds/registry`, ACTIONS.iti42.request, xml);
      expect(status(res.body), res.text).to.equal('Success');
      const got = await postSoap(`${node.url}/xds/registry`, ACTIONS.iti18.request, getDocumentsByUniqueId(uid));
      expect(uniqueIds(got.body)).to.deep.equal([uid]);
    });
  });

  describe('synthetic (Tenor) fødselsnumre', () => {
    const nodes: TestNode[] = [];
    after(async () => Promise.all(nodes.map((n) => n.close())));
    const start = async (synthetic: boolean, trust: boolean): Promise<TestNode> => {
      const node = await startTestNode({
        homeCommunityId: HOME,
        registry: { patientIds: { acceptSyntheticNorwegianIds: synthetic } },
        ...(trust ? { trust: trustConfig() } : {}),
      });
      nodes.push(node);
      return node;
    };

    it('the registry refuses a Tenor patient unless configured (XDSUnknownPatientId)', async () => {
      const off = await start(false, false);
      const refused = await postSoap(`${off.url}/xds/registry`, ACTIONS.iti42.request, epikrise({ patient: cx(TENOR_FNR) }).xml);
      expect(errorCodes(refused.body)).to.deep.equal(['XDSUnknownPatientId']);
      const on = await start(true, false);
      const accepted = await postSoap(`${on.url}/xds/registry`, ACTIONS.iti42.request, epikrise({ patient: cx(TENOR_FNR) }).xml);
      expect(status(accepted.body), accepted.text).to.equal('Success');
    });

    it('the trust policy takes the same setting: a Tenor clinician and patient are served only when configured', async () => {
      const assertion = () => signed(clinician(TENOR_FNR, { subject: TENOR_FNR }));
      const ask = (node: TestNode) =>
        postRaw(
          `${node.url}/xds/registry`,
          signedEnvelope(assertion(), ACTIONS.iti18.request, findDocumentsBody(cx(TENOR_FNR))),
          soapContentType(ACTIONS.iti18.request),
        );
      const off = await ask(await start(false, true));
      expect(status(off.body)).to.equal('Failure');
      expect(errorCodes(off.body)).to.deep.equal(['XDSRegistryError']);
      const on = await ask(await start(true, true));
      expect(status(on.body), on.text).to.equal('Success');
    });
  });
});

