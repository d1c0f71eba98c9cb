/**
 * A regional node's responding gateway over HTTP: the hub's real requests (NHN samples), the home
 * checks of ITI-38/39 with bare and urn:oid OIDs, and MTOM/chunked retrieve.
 */
import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import { SoapClient } from '../../connector/soap/client.js';
import { DOCUMENT_ENTRY_SCHEME } from '../../registry/ebxml/index.js';
import { STATUS_URN } from '../../registry/model/errors.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, childElements, descendants, textContent, type XmlElement } from '../../registry/xml/tree.js';
import { DEMO_REGIONS, provideDocuments } from '../../scripts/network/launch.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { cx, errorCodes, findDocumentsBody, getDocumentsBody, retrieveBody } from '../helpers/ebxml.js';
import { ACTIONS, postRaw, postSoap } from '../helpers/soap.js';
import { parseMediaType } from '../../connector/soap/media-type.js';
import { parseMultipartRelated } from '../../connector/soap/mime.js';
import { parseXml } from '../../registry/xml/parse.js';
import { nhnSample } from '../../fixtures/index.js';

const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1';
const REPOSITORY = '2.16.578.1.12.4.5.100.1.2';
/** The patient of the NHN ITI-38 samples (a synthetic person). */
const SAMPLE_PATIENT = { fnr: '27888498775', name: 'SAMPLE PERSON' };
/** The person the acp variants of the ITI-38 sample ask for (another synthetic person). */
const ACP_PATIENT = { fnr: '17855599120', name: 'ACP PERSON' };
const fixture = (name: string): string => nhnSample(name).toString('utf8');

/** The hub's ITI-38 samples and the person each one's FindDocuments asks for. */
const ITI38_SAMPLES = [
  { sample: 'iti38-iti40-request-hn.xml', patient: SAMPLE_PATIENT },
  { sample: 'iti38-iti40-request-hn-acp-1.xml', patient: ACP_PATIENT },
] as const;

/** The $XDSDocumentEntryPatientId a sample's query names, unquoted. */
function queriedPatientId(sampleXml: string): string {
  const slot = descendants(parseXml(sampleXml), NS.rim, 'Slot').find((s) => s.attrs['name'] === '$XDSDocumentEntryPatientId');
  const value = slot ? descendants(slot, NS.rim, 'Value')[0] : undefined;
  if (!value) throw new Error('the sample has no $XDSDocumentEntryPatientId');
  return textContent(value).trim().replace(/^'|'$/g, '');
}

function patientIdOf(entry: XmlElement): string | undefined {
  const id = childElements(entry, NS.rim, 'ExternalIdentifier').find((e) => e.attrs['identificationScheme'] === DOCUMENT_ENTRY_SCHEME.patientId);
  return id?.attrs['value'];
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
      registry: { patientIds: { knownPatientIds: [cx(SAMPLE_PATIENT.fnr), cx(ACP_PATIENT.fnr)] } },
    });
    url = `${node.url}/xca/responding`;
    const client = new SoapClient();
    try {
      docs = await provideDocuments(client, `${node.url}/xds/repository`, DEMO_REGIONS[0]!, SAMPLE_PATIENT, [
        { title: 'Epikrise', kind: 'epikrise', text: 'Epikrise for prøveperson.' },
      ]);
      // The acp samples ask for another person: without a document of theirs the answer would be
      // empty and the check of its entries would pass without looking at anything.
      await provideDocuments(client, `${node.url}/xds/repository`, DEMO_REGIONS[0]!, ACP_PATIENT, [
        { title: 'Journalnotat', kind: 'notat', text: 'Journalnotat for prøveperson.' },
      ]);
    } finally {
      await client.close();
    }
  });
  after(async () => {
    await node?.close();
  });

  for (const { sample, patient } of ITI38_SAMPLES) {
    it(`accepts the hub's ITI-38 as sent (${sample}: mustUnderstand wsa, wsse:Security with SAML) and answers with home`, async () => {
      const xml = fixture(sample);
      // The document registered in before() is the one this sample's query finds.
      expect(queriedPatientId(xml)).to.equal(cx(patient.fnr));
      const res = await postRaw(url, xml, `application/soap+xml; charset=utf-8; action="${ACTIONS.iti38.request}"`);
      expect(res.httpStatus).to.equal(200);
      expect(res.body.attrs['status']).to.equal(STATUS_URN.Success);
      const entries = descendants(res.body, NS.rim, 'ExtrinsicObject');
      // Never zero: the home check below must look at something.
      expect(entries.length, 'entries in the answer').to.be.greaterThan(0);
      expect(entries).to.have.length(1);
      for (const e of entries) {
        expect(patientIdOf(e)).to.equal(cx(patient.fnr));
        expect(e.attrs['home']).to.equal(HOME);
      }
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
      const res = await postSoap(url, ACTIONS.iti39.request, retrieveBody([{ home, repository: REPOSITORY, document: docs[0]! }]));
      expect(res.contentType).to.match(/^multipart\/related/);
      expect(childElement(res.body, NS.rs, 'RegistryResponse')!.attrs['status']).to.equal(STATUS_URN.Success);
      const dr = childElements(res.body, NS.xdsb, 'DocumentResponse');
      expect(dr).to.have.length(1);
      expect(textContent(childElement(dr[0]!, NS.xdsb, 'HomeCommunityId')!)).to.equal(HOME);
      expect(textContent(childElement(dr[0]!, NS.xdsb, 'mimeType')!)).to.equal('text/plain');
    }
  });

  it('ITI-39 without HomeCommunityId → XDSMissingHomeCommunityId; with another community → XDSUnknownCommunity', async () => {
    const missing = await postSoap(url, ACTIONS.iti39.request, retrieveBody([{ repository: REPOSITORY, document: docs[0]! }]));
    expect(childElement(missing.body, NS.rs, 'RegistryResponse')!.attrs['status']).to.equal(STATUS_URN.Failure);
    expect(errorCodes(missing.body)).to.deep.equal(['XDSMissingHomeCommunityId']);
    const wrong = await postSoap(url, ACTIONS.iti39.request, retrieveBody([{ home: 'urn:oid:1.2.3.4', repository: REPOSITORY, document: docs[0]! }]));
    expect(errorCodes(wrong.body)).to.deep.equal(['XDSUnknownCommunity']);
    expect(childElements(wrong.body, NS.xdsb, 'DocumentResponse')).to.have.length(0);
  });

  it('ITI-38 Get… queries need home: missing → XDSMissingHomeCommunityId, another → XDSUnknownCommunity, bare own OID → answered', async () => {
    const found = await postSoap(url, ACTIONS.iti38.request, findDocumentsBody(cx(SAMPLE_PATIENT.fnr), { returnType: 'ObjectRef' }));
    const uuid = descendants(found.body, NS.rim, 'ObjectRef')[0]!.attrs['id']!;

    const missing = await postSoap(url, ACTIONS.iti38.request, getDocumentsBody([uuid]));
    expect(missing.body.attrs['status']).to.equal(STATUS_URN.Failure);
    expect(errorCodes(missing.body)).to.deep.equal(['XDSMissingHomeCommunityId']);

    const wrong = await postSoap(url, ACTIONS.iti38.request, getDocumentsBody([uuid], 'urn:oid:1.2.3.4'));
    expect(errorCodes(wrong.body)).to.deep.equal(['XDSUnknownCommunity']);

    for (const home of ['2.16.578.1.12.4.5.100.1', HOME]) {
      const ok = await postSoap(url, ACTIONS.iti38.request, getDocumentsBody([uuid], home));
      expect(ok.body.attrs['status']).to.equal(STATUS_URN.Success);
      expect(descendants(ok.body, NS.rim, 'ExtrinsicObject')[0]!.attrs['home']).to.equal(HOME);
    }
  });

  it('FindDocuments with a home naming another community → XDSUnknownCommunity', async () => {
    const res = await postSoap(url, ACTIONS.iti38.request, findDocumentsBody(cx(SAMPLE_PATIENT.fnr), { home: '1.2.3.4' }));
    expect(errorCodes(res.body)).to.deep.equal(['XDSUnknownCommunity']);
  });

  it('tolerates an unknown vendor header without mustUnderstand', async () => {
    const res = await postSoap(url, ACTIONS.iti38.request, findDocumentsBody(cx(SAMPLE_PATIENT.fnr)), '<sense:context xmlns:sense="urn:example:sense">x</sense:context>');
    expect(res.body.attrs['status']).to.equal(STATUS_URN.Success);
  });
});
