/**
 * A regional node's responding gateway over HTTP: the hub's real requests (NHN samples), the home
 * checks of ITI-38/39 with bare and urn:oid OIDs, and MTOM/chunked retrieve.
 */
import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import { ACTIONS } from '../../connector/soap/actions.js';
import { SoapClient } from '../../connector/soap/client.js';
import { STATUS_URN } from '../../registry/model/errors.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, childElements, descendants, textContent, type XmlElement } from '../../registry/xml/tree.js';
import { DEMO_REGIONS, provideDocuments } from '../../scripts/network/launch.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { postRaw, postSoap } from '../helpers/soap.js';
import { parseMediaType } from '../../connector/soap/media-type.js';
import { parseMultipartRelated } from '../../connector/soap/mime.js';
import { parseXml } from '../../registry/xml/parse.js';
import { findDocumentsXml, getDocumentsXml, retrieveXml } from './helpers.js';
import { nhnSample } from '../../fixtures/index.js';

const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1';
const REPOSITORY = '2.16.578.1.12.4.5.100.1.2';
/** The patient of the NHN ITI-38 samples (a synthetic person). */
const SAMPLE_PATIENT = { fnr: '27888498775', name: 'SAMPLE PERSON' };
const fixture = (name: string): string => nhnSample(name).toString('utf8');

function errorCodes(body: XmlElement): string[] {
  return descendants(body, NS.rs, 'RegistryError').map((e) => e.attrs['errorCode']!);
}

/** Posts an envelope as MTOM with chunked transfer encoding (no Content-Length), as the hub sends ITI-39. */
async function postMtomChunked(url: string, envelopeXml: string, action: string): Promise<{ status: number; contentType: string; body: XmlElement }> {
  const boundary = 'uuid:0c7bb1a9-6a8f-4c1b-b8d9-1a2b3c4d5e6f';
  const bytes = Buffer.from(
    `--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n` +
      `Content-Transfer-Encoding: binary\r\nContent-ID: <root.message@cxf.apache.org>\r\n\r\n${envelopeXml}\r\n--${boundary}--\r\n`,
    'utf8',
  );
  const contentType = `multipart/related; type="application/xop+xml"; boundary="${boundary}"; start="<root.message@cxf.apache.org>"; start-info="application/soap+xml"; action="${action}"`;
  const u = new URL(url);
  const answer = await new Promise<{ status: number; type: string; raw: Buffer }>((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': contentType } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), raw: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    expect(req.getHeader('content-length')).to.equal(undefined);
    for (let i = 0; i < bytes.length; i += 512) req.write(bytes.subarray(i, i + 512));
    req.end();
  });
  const type = parseMediaType(answer.type);
  const envelope = parseXml(type.type === 'multipart/related' ? parseMultipartRelated(answer.raw, type, { maxParts: 10 }).envelope : answer.raw);
  return { status: answer.status, contentType: answer.type, body: childElements(childElement(envelope, NS.soap12, 'Body')!)[0]! };
}

describe('gateway: responding gateway of a regional node', function () {
  this.timeout(20_000);
  let node: TestNode;
  let url: string;
  let docs: string[];

  before(async () => {
    node = await startTestNode({
      homeCommunityId: HOME,
      repository: { repositoryUniqueId: REPOSITORY },
      registry: { patientIds: { knownPatientIds: [`${SAMPLE_PATIENT.fnr}^^^&2.16.578.1.12.4.1.4.1&ISO`] } },
    });
    url = `${node.url}/xca/responding`;
    const client = new SoapClient();
    try {
      docs = await provideDocuments(client, `${node.url}/xds/repository`, DEMO_REGIONS[0]!, SAMPLE_PATIENT, [
        { title: 'Epikrise', kind: 'epikrise', text: 'Epikrise for prøveperson.' },
      ]);
    } finally {
      await client.close();
    }
  });
  after(async () => {
    await node?.close();
  });

  for (const sample of ['iti38-iti40-request-hn.xml', 'iti38-iti40-request-hn-acp-1.xml']) {
    it(`accepts the hub's ITI-38 as sent (${sample}: mustUnderstand wsa, wsse:Security with SAML) and answers with home`, async () => {
      const res = await postRaw(url, fixture(sample), `application/soap+xml; charset=utf-8; action="${ACTIONS.iti38.request}"`);
      expect(res.httpStatus).to.equal(200);
      expect(res.body.attrs['status']).to.equal(STATUS_URN.Success);
      const entries = descendants(res.body, NS.rim, 'ExtrinsicObject');
      // The plain sample asks for the patient stored here; the acp variants ask for other persons.
      if (sample === 'iti38-iti40-request-hn.xml') expect(entries).to.have.length(1);
      for (const e of entries) expect(e.attrs['home']).to.equal(HOME);
    });
  }

  it('accepts the hub\'s ITI-39 (MTOM, chunked, bare HomeCommunityId) and answers MTOM', async () => {
    const res = await postMtomChunked(url, fixture('iti39-iti40-request-hn.xml'), ACTIONS.iti39.request);
    expect(res.status).to.equal(200);
    expect(res.contentType).to.match(/^multipart\/related/);
    // The sample's document is not stored here: the home passed (bare = urn:oid), the document is unknown.
    expect(errorCodes(res.body)).to.deep.equal(['XDSDocumentUniqueIdError']);
  });

  it('retrieves a stored document with a bare or urn:oid HomeCommunityId, home and mimeType in the answer', async () => {
    for (const home of ['2.16.578.1.12.4.5.100.1', HOME]) {
      const res = await postSoap(url, ACTIONS.iti39.request, retrieveXml([{ home, repository: REPOSITORY, document: docs[0]! }]));
      expect(res.contentType).to.match(/^multipart\/related/);
      expect(childElement(res.body, NS.rs, 'RegistryResponse')!.attrs['status']).to.equal(STATUS_URN.Success);
      const dr = childElements(res.body, NS.xdsb, 'DocumentResponse');
      expect(dr).to.have.length(1);
      expect(textContent(childElement(dr[0]!, NS.xdsb, 'HomeCommunityId')!)).to.equal(HOME);
      expect(textContent(childElement(dr[0]!, NS.xdsb, 'mimeType')!)).to.equal('text/plain');
    }
  });

  it('ITI-39 without HomeCommunityId → XDSMissingHomeCommunityId; with another community → XDSUnknownCommunity', async () => {
    const missing = await postSoap(url, ACTIONS.iti39.request, retrieveXml([{ repository: REPOSITORY, document: docs[0]! }]));
    expect(childElement(missing.body, NS.rs, 'RegistryResponse')!.attrs['status']).to.equal(STATUS_URN.Failure);
    expect(errorCodes(missing.body)).to.deep.equal(['XDSMissingHomeCommunityId']);
    const wrong = await postSoap(url, ACTIONS.iti39.request, retrieveXml([{ home: 'urn:oid:1.2.3.4', repository: REPOSITORY, document: docs[0]! }]));
    expect(errorCodes(wrong.body)).to.deep.equal(['XDSUnknownCommunity']);
    expect(childElements(wrong.body, NS.xdsb, 'DocumentResponse')).to.have.length(0);
  });

  it('ITI-38 Get… queries need home: missing → XDSMissingHomeCommunityId, another → XDSUnknownCommunity, bare own OID → answered', async () => {
    const found = await postSoap(url, ACTIONS.iti38.request, findDocumentsXml(SAMPLE_PATIENT.fnr, { returnType: 'ObjectRef' }));
    const uuid = descendants(found.body, NS.rim, 'ObjectRef')[0]!.attrs['id']!;

    const missing = await postSoap(url, ACTIONS.iti38.request, getDocumentsXml([uuid]));
    expect(missing.body.attrs['status']).to.equal(STATUS_URN.Failure);
    expect(errorCodes(missing.body)).to.deep.equal(['XDSMissingHomeCommunityId']);

    const wrong = await postSoap(url, ACTIONS.iti38.request, getDocumentsXml([uuid], 'urn:oid:1.2.3.4'));
    expect(errorCodes(wrong.body)).to.deep.equal(['XDSUnknownCommunity']);

    for (const home of ['2.16.578.1.12.4.5.100.1', HOME]) {
      const ok = await postSoap(url, ACTIONS.iti38.request, getDocumentsXml([uuid], home));
      expect(ok.body.attrs['status']).to.equal(STATUS_URN.Success);
      expect(descendants(ok.body, NS.rim, 'ExtrinsicObject')[0]!.attrs['home']).to.equal(HOME);
    }
  });

  it('FindDocuments with a home naming another community → XDSUnknownCommunity', async () => {
    const res = await postSoap(url, ACTIONS.iti38.request, findDocumentsXml(SAMPLE_PATIENT.fnr, { home: '1.2.3.4' }));
    expect(errorCodes(res.body)).to.deep.equal(['XDSUnknownCommunity']);
  });

  it('tolerates an unknown vendor header without mustUnderstand', async () => {
    const res = await postSoap(url, ACTIONS.iti38.request, findDocumentsXml(SAMPLE_PATIENT.fnr), '<sense:context xmlns:sense="urn:example:sense">x</sense:context>');
    expect(res.body.attrs['status']).to.equal(STATUS_URN.Success);
  });
});
