/**
 * The demo network (a hub and three regions, real nodes over HTTP): the kjernejournal lookup, the
 * routing of retrieves, restriction to one community, and a region federating through the hub.
 */
import { expect } from 'chai';
import { STATUS_URN } from '../../registry/model/errors.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, childElements, descendants, textContent } from '../../registry/xml/tree.js';
import { loadDemoData, startNetwork, type DemoNetwork, type LoadedDocument } from '../../scripts/network/launch.js';
import { cx, findDocumentsBody, getDocumentsBody, retrieveBody } from '../helpers/ebxml.js';
import { ACTIONS, postSoap } from '../helpers/soap.js';
import { DEMO_PATIENTS } from '../../scripts/network/data.js';

const KARI = DEMO_PATIENTS[0]!.fnr;

describe('gateway: demo network (hub + 3 regions)', function () {
  this.timeout(30_000);
  let net: DemoNetwork;
  let loaded: LoadedDocument[];

  before(async () => {
    net = await startNetwork();
    loaded = await loadDemoData(net);
  });
  after(async () => {
    await net?.close();
  });

  const homesOf = (body: Parameters<typeof descendants>[0]): string[] =>
    [...descendants(body, NS.rim, 'ExtrinsicObject'), ...descendants(body, NS.rim, 'ObjectRef')].map((e) => e.attrs['home'] ?? '');

  it('one FindDocuments at the hub returns the documents of all three regions, each with its home', async () => {
    const res = await postSoap(net.hub.initiatingUrl, ACTIONS.iti18.request, findDocumentsBody(cx(KARI)));
    expect(res.body.attrs['status']).to.equal(STATUS_URN.Success);
    const homes = homesOf(res.body);
    const expected = loaded.filter((d) => d.patient.fnr === KARI).map((d) => d.homeCommunityId);
    expect(homes.sort()).to.deep.equal(expected.sort());
    expect(new Set(homes).size).to.equal(3);
  });

  it('the hub as responding gateway (ITI-38) fans out the same way', async () => {
    const res = await postSoap(net.hub.respondingUrl, ACTIONS.iti38.request, findDocumentsBody(cx(KARI), { returnType: 'ObjectRef' }));
    expect(res.body.attrs['status']).to.equal(STATUS_URN.Success);
    expect(descendants(res.body, NS.rim, 'ObjectRef')).to.have.length(4);
  });

  it('hub mode leaves the requester\'s own community (SAML homeCommunityId attribute) out of the fan-out', async () => {
    const own = net.regions[0]!.homeCommunityId;
    const security =
      `<wsse:Security xmlns:wsse="${NS.wsse}"><saml2:Assertion xmlns:saml2="${NS.saml2}" ID="_a1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">` +
      `<saml2:Issuer>test</saml2:Issuer><saml2:AttributeStatement><saml2:Attribute Name="urn:ihe:iti:xca:2010:homeCommunityId">` +
      `<saml2:AttributeValue>${own}</saml2:AttributeValue></saml2:Attribute></saml2:AttributeStatement></saml2:Assertion></wsse:Security>`;
    const res = await postSoap(net.hub.respondingUrl, ACTIONS.iti38.request, findDocumentsBody(cx(KARI), { returnType: 'ObjectRef' }), security);
    expect(res.body.attrs['status']).to.equal(STATUS_URN.Success);
    const homes = homesOf(res.body);
    expect(homes).to.have.length(2);
    expect(homes).to.not.include(own);
  });

  it('a region federates its own registry with the others through the hub, without duplicates', async () => {
    const res = await postSoap(net.regions[0]!.initiatingUrl, ACTIONS.iti18.request, findDocumentsBody(cx(KARI), { returnType: 'ObjectRef' }));
    expect(res.body.attrs['status']).to.equal(STATUS_URN.Success);
    const ids = descendants(res.body, NS.rim, 'ObjectRef').map((r) => r.attrs['id']);
    expect(ids).to.have.length(4);
    expect(new Set(ids).size).to.equal(4);
  });

  it('a query restricted to one community (home) asks only that community', async () => {
    const nord = net.regions[2]!;
    const res = await postSoap(net.hub.initiatingUrl, ACTIONS.iti18.request, findDocumentsBody(cx(KARI), { home: nord.homeCommunityId }));
    expect(res.body.attrs['status']).to.equal(STATUS_URN.Success);
    expect(homesOf(res.body)).to.deep.equal([nord.homeCommunityId]);
  });

  it('an unknown community in home is XDSUnknownCommunity', async () => {
    const res = await postSoap(net.hub.initiatingUrl, ACTIONS.iti18.request, findDocumentsBody(cx(KARI), { home: 'urn:oid:1.2.3.999' }));
    expect(res.body.attrs['status']).to.equal(STATUS_URN.Failure);
    const err = descendants(res.body, NS.rs, 'RegistryError')[0]!;
    expect(err.attrs['errorCode']).to.equal('XDSUnknownCommunity');
    expect(err.attrs['location']).to.equal('urn:oid:1.2.3.999');
  });

  it('retrieves are routed by homeCommunityId: one ITI-43 at the hub gets bytes from two regions', async () => {
    const vest = loaded.find((d) => d.region === 'Helse Vest')!;
    const nord = loaded.find((d) => d.region === 'Helse Nord')!;
    const res = await postSoap(
      net.hub.initiatingUrl,
      ACTIONS.iti43.request,
      retrieveBody([vest, nord].map((d) => ({ home: d.homeCommunityId, repository: d.repositoryUniqueId, document: d.documentUniqueId }))),
    );
    expect(res.contentType).to.match(/^multipart\/related/);
    const rr = childElement(res.body, NS.rs, 'RegistryResponse')!;
    expect(rr.attrs['status']).to.equal(STATUS_URN.Success);
    const responses = childElements(res.body, NS.xdsb, 'DocumentResponse');
    const byDoc = new Map(responses.map((r) => [textContent(childElement(r, NS.xdsb, 'DocumentUniqueId')!), textContent(childElement(r, NS.xdsb, 'HomeCommunityId')!)]));
    expect(byDoc.get(vest.documentUniqueId)).to.equal(vest.homeCommunityId);
    expect(byDoc.get(nord.documentUniqueId)).to.equal(nord.homeCommunityId);
  });

  it('a region retrieves another region\'s document through the hub (the hub serves it), bytes intact', async () => {
    const nord = loaded.find((d) => d.region === 'Helse Nord')!;
    const { SoapClient } = await import('../../connector/soap/client.js');
    const { parseRetrieveDocumentSetResponse, serializeRetrieveDocumentSetRequest, documentBytes } = await import('../../connector/transactions/retrieve-wire.js');
    const client = new SoapClient();
    try {
      const res = await client.call({
        url: net.regions[0]!.initiatingUrl,
        action: ACTIONS.iti43.request,
        body: serializeRetrieveDocumentSetRequest([
          { homeCommunityId: nord.homeCommunityId, repositoryUniqueId: nord.repositoryUniqueId, documentUniqueId: nord.documentUniqueId },
        ]),
        mtom: true,
        timeoutMs: 5_000,
      });
      const result = parseRetrieveDocumentSetResponse(res.body, res.attachments);
      expect(result.status).to.equal('Success');
      expect((await documentBytes(result.documents[0]!)).toString('utf8')).to.equal(nord.text);
    } finally {
      await client.close();
    }
  });

  it('a retrieve naming an unknown community fails for that document only (PartialSuccess)', async () => {
    const vest = loaded.find((d) => d.region === 'Helse Vest')!;
    const res = await postSoap(
      net.hub.initiatingUrl,
      ACTIONS.iti43.request,
      retrieveBody([
        { home: vest.homeCommunityId, repository: vest.repositoryUniqueId, document: vest.documentUniqueId },
        { home: 'urn:oid:1.2.3.999', repository: '1.2.3', document: '1.2.3.4' },
      ]),
    );
    const rr = childElement(res.body, NS.rs, 'RegistryResponse')!;
    expect(rr.attrs['status']).to.equal(STATUS_URN.PartialSuccess);
    expect(descendants(rr, NS.rs, 'RegistryError').map((e) => e.attrs['errorCode'])).to.deep.equal(['XDSUnknownCommunity']);
    expect(childElements(res.body, NS.xdsb, 'DocumentResponse')).to.have.length(1);
  });

  it('GetDocuments at a region for another region\'s entry goes through the hub with that region as home', async () => {
    const hub = await postSoap(net.hub.initiatingUrl, ACTIONS.iti18.request, findDocumentsBody(cx(KARI), { home: net.regions[1]!.homeCommunityId, returnType: 'ObjectRef' }));
    const ref = descendants(hub.body, NS.rim, 'ObjectRef')[0]!;
    const res = await postSoap(net.regions[0]!.initiatingUrl, ACTIONS.iti18.request, getDocumentsBody([ref.attrs['id']!], ref.attrs['home']));
    expect(res.body.attrs['status']).to.equal(STATUS_URN.Success);
    const eo = descendants(res.body, NS.rim, 'ExtrinsicObject');
    expect(eo).to.have.length(1);
    expect(eo[0]!.attrs['home']).to.equal(net.regions[1]!.homeCommunityId);
  });
});
