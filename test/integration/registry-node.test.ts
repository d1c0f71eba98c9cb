/**
 * The Document Registry over real HTTP: a node started on 127.0.0.1, real SOAP 1.2 messages,
 * plain and MTOM, Norwegian metadata, and the bad input a peer may send.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { STORED_QUERY_ID } from '../../registry/model/query.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, childElements, descendants, textContent, type XmlElement } from '../../registry/xml/tree.js';
import { epikrise, errorCodes, findDocumentsBody, KARI, status } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, envelope, postRaw, postSoap, soapContentType } from '../helpers/soap.js';
import { nhnSample } from '../../fixtures/index.js';

const ITI42 = ACTIONS.iti42.request;
const ITI18 = ACTIONS.iti18.request;
const FIND_DOCUMENTS = STORED_QUERY_ID.FindDocuments;
const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1';

function faultCode(body: XmlElement): { value: string; subcodes: string[]; reason: string } {
  expect(body.local, 'expected a SOAP Fault').to.equal('Fault');
  const code = childElement(body, NS.soap12, 'Code')!;
  const value = textContent(childElement(code, NS.soap12, 'Value')!).trim();
  const subcodes: string[] = [];
  let sub = childElement(code, NS.soap12, 'Subcode');
  while (sub) {
    subcodes.push(textContent(childElement(sub, NS.soap12, 'Value')!).trim());
    sub = childElement(sub, NS.soap12, 'Subcode');
  }
  const reason = textContent(childElement(body, NS.soap12, 'Reason')!).trim();
  return { value, subcodes, reason };
}

describe('Document Registry node over HTTP', function () {
  this.timeout(30_000);
  let node: TestNode;
  let registryUrl: string;

  before(async () => {
    node = await startTestNode({ homeCommunityId: HOME, limits: { maxRequestBytes: 2 * 1024 * 1024 } });
    registryUrl = `${node.url}/xds/registry`;
  });
  after(async () => node?.close());

  it('answers /health with 200 once ready', async () => {
    const res = await fetch(`${node.url}/health`);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ status: 'ok' });
  });

  it('serves the registry WSDL at ?wsdl', async () => {
    const res = await fetch(`${registryUrl}?wsdl`);
    expect(res.status).to.equal(200);
    const text = await res.text();
    expect(text).to.contain(ITI42);
    expect(text).to.contain(ITI18);
  });

  describe('ITI-42 then ITI-18 with Norwegian metadata', () => {
    const patient = '01017010170^^^&2.16.578.1.12.4.1.4.1&ISO';
    let docUid: string;

    before(async () => {
      const sub = epikrise({ patient });
      docUid = sub.docUid;
      const res = await postSoap(registryUrl, ITI42, sub.xml);
      expect(res.httpStatus).to.equal(200);
      expect(res.body.local).to.equal('RegistryResponse');
      expect(errorCodes(res.body)).to.deep.equal([]);
      expect(status(res.body)).to.equal('Success');
      // The response carries the response action and relates to our MessageID.
      const header = childElement(res.envelope, NS.soap12, 'Header')!;
      expect(textContent(childElement(header, NS.wsa, 'Action')!)).to.equal(ACTIONS.iti42.response);
      expect(childElement(header, NS.wsa, 'RelatesTo')).to.not.equal(undefined);
    });

    it('returns the entry with every attribute, the extra slot and home (LeafClass)', async () => {
      const res = await postSoap(registryUrl, ITI18, findDocumentsBody(patient));
      expect(status(res.body)).to.equal('Success');
      const list = childElement(res.body, NS.rim, 'RegistryObjectList')!;
      const entries = childElements(list, NS.rim, 'ExtrinsicObject');
      expect(entries).to.have.length(1);
      const entry = entries[0]!;
      expect(entry.attrs['home']).to.equal(HOME);
      expect(entry.attrs['status']).to.equal('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved');
      expect(entry.attrs['id']).to.match(/^urn:uuid:[0-9a-f-]{36}$/);
      const slot = (name: string): string[] =>
        childElements(entry, NS.rim, 'Slot')
          .filter((s) => s.attrs['name'] === name)
          .flatMap((s) => descendants(s, NS.rim, 'Value').map(textContent));
      expect(slot('creationTime')).to.deep.equal(['20261120101500']);
      expect(slot('urn:no:nhn:xds:extra:department')).to.deep.equal(['Indremedisinsk avdeling']);
      const ids = childElements(entry, NS.rim, 'ExternalIdentifier').map((e) => e.attrs['value']);
      expect(ids).to.include(docUid).and.to.include(patient);
      const authorPersons = descendants(entry, NS.rim, 'Slot')
        .filter((s) => s.attrs['name'] === 'authorPerson')
        .flatMap((s) => descendants(s, NS.rim, 'Value').map(textContent));
      expect(authorPersons).to.deep.equal(['502116685^GEIRAAS^BENEDIKTE^^^^^^&2.16.578.1.12.4.1.4.4&ISO']);
      const title = descendants(childElement(entry, NS.rim, 'Name')!, NS.rim, 'LocalizedString')[0]!;
      expect(title.attrs['value']).to.equal('Epikrise indremedisin');
    });

    it('returns object references with home (ObjectRef)', async () => {
      const res = await postSoap(registryUrl, ITI18, findDocumentsBody(patient, { returnType: 'ObjectRef' }));
      const refs = descendants(res.body, NS.rim, 'ObjectRef');
      expect(refs).to.have.length(1);
      expect(refs[0]!.attrs['home']).to.equal(HOME);
      expect(descendants(res.body, NS.rim, 'ExtrinsicObject')).to.have.length(0);
    });

    it('filters by Volven class code (OR within a slot) and finds nothing for another code', async () => {
      const byClass = (codes: string): string =>
        findDocumentsBody(patient, { returnType: 'ObjectRef', extraSlots: `<rim:Slot name="$XDSDocumentEntryClassCode"><rim:ValueList><rim:Value>${codes}</rim:Value></rim:ValueList></rim:Slot>` });
      const hit = await postSoap(registryUrl, ITI18, byClass("('B00-1^^2.16.578.1.12.4.1.1.9602','A00-1^^2.16.578.1.12.4.1.1.9602')"));
      expect(descendants(hit.body, NS.rim, 'ObjectRef')).to.have.length(1);
      const miss = await postSoap(registryUrl, ITI18, byClass("('C00-1^^2.16.578.1.12.4.1.1.9602')"));
      expect(status(miss.body)).to.equal('Success');
      expect(descendants(miss.body, NS.rim, 'ObjectRef')).to.have.length(0);
    });

    it('rejects the same uniqueId with another hash as XDSNonIdenticalHash', async () => {
      const again = epikrise({ patient, docUid }).xml.replace('da39a3ee5e6b4b0d3255bfef95601890afd80709', 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3');
      const res = await postSoap(registryUrl, ITI42, again);
      expect(status(res.body)).to.equal('Failure');
      expect(errorCodes(res.body)).to.include('XDSNonIdenticalHash');
    });
  });

  it('accepts the xdsb:RegisterDocumentSetRequest wrapper Norwegian clients send', async () => {
    const { xml } = epikrise({ patient: '02017010029^^^&2.16.578.1.12.4.1.4.1&ISO' });
    const res = await postSoap(registryUrl, ITI42, `<xdsb:RegisterDocumentSetRequest xmlns:xdsb="${NS.xdsb}">${xml}</xdsb:RegisterDocumentSetRequest>`);
    expect(errorCodes(res.body)).to.deep.equal([]);
    expect(status(res.body)).to.equal('Success');
  });

  it('accepts ITI-42 as MTOM/XOP multipart/related', async () => {
    const { xml } = epikrise({ patient: '03017010068^^^&2.16.578.1.12.4.1.4.1&ISO' });
    const boundary = `MIMEBoundary_${randomUUID()}`;
    const body =
      `--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n` +
      `Content-Transfer-Encoding: binary\r\nContent-ID: <root.message@cxf.apache.org>\r\n\r\n` +
      envelope({ action: ITI42, to: registryUrl, body: xml }) +
      `\r\n--${boundary}--\r\n`;
    const res = await postRaw(
      registryUrl,
      body,
      `multipart/related; type="application/xop+xml"; boundary="${boundary}"; start="<root.message@cxf.apache.org>"; start-info="application/soap+xml"; action="${ITI42}"`,
    );
    expect(errorCodes(res.body)).to.deep.equal([]);
    expect(status(res.body)).to.equal('Success');
  });

  it('answers an unknown Norwegian patient (bad check digits) with XDSUnknownPatientId and stores nothing', async () => {
    const patient = '13116900217^^^&2.16.578.1.12.4.1.4.1&ISO';
    const res = await postSoap(registryUrl, ITI42, epikrise({ patient }).xml);
    expect(status(res.body)).to.equal('Failure');
    expect(errorCodes(res.body)).to.include('XDSUnknownPatientId');
    const q = await postSoap(registryUrl, ITI18, findDocumentsBody(patient, { returnType: 'ObjectRef' }));
    expect(descendants(q.body, NS.rim, 'ObjectRef')).to.have.length(0);
  });

  it('answers an ITI-42 with the SubmissionSet patient differing from the entry with XDSPatientIdDoesNotMatch', async () => {
    const { xml } = epikrise();
    const other = '01017010170^^^&amp;2.16.578.1.12.4.1.4.1&amp;ISO';
    const mismatched = xml.replace(/(identificationScheme="urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446" registryObject="SubmissionSet01" value=")[^"]*/, `$1${other}`);
    const res = await postSoap(registryUrl, ITI42, mismatched);
    expect(errorCodes(res.body)).to.include('XDSPatientIdDoesNotMatch');
  });

  it('answers stored-query parameter errors with their codes', async () => {
    const missing = await postSoap(
      registryUrl,
      ITI18,
      `<query:AdhocQueryRequest xmlns:query="${NS.query}" xmlns:rim="${NS.rim}"><query:ResponseOption returnType="LeafClass"/>` +
        `<rim:AdhocQuery id="${FIND_DOCUMENTS}"><rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest>`,
    );
    expect(status(missing.body)).to.equal('Failure');
    expect(errorCodes(missing.body)).to.include('XDSStoredQueryMissingParam');
    const unknown = await postSoap(registryUrl, ITI18, findDocumentsBody(KARI).replace(FIND_DOCUMENTS, 'urn:uuid:00000000-0000-0000-0000-000000000000'));
    expect(errorCodes(unknown.body)).to.deep.equal(['XDSUnknownStoredQuery']);
  });

  it('answers the NHN sample ITI-18 request (wsse:Security header, Norwegian codes)', async () => {
    const text = nhnSample('IT_iti-18_request.xml').toString('utf8');
    const res = await postRaw(registryUrl, text, `application/soap+xml; charset=UTF-8`);
    expect(res.httpStatus).to.equal(200);
    expect(res.body.local).to.equal('AdhocQueryResponse');
    expect(status(res.body)).to.equal('Success');
  });

  describe('bad input gets a SOAP fault or a RegistryError, never a crash', () => {
    const soap12 = soapContentType();

    it('malformed XML → Sender fault without internals', async () => {
      const res = await postRaw(registryUrl, envelope({ action: ITI18, to: registryUrl, body: '<oops>' }), soap12);
      expect(res.httpStatus).to.equal(400);
      const f = faultCode(res.body);
      expect(f.value).to.equal('soap:Sender');
      expect(f.reason).to.not.match(/at .*\.ts:\d+|node_modules|Error:/);
    });

    it('a DOCTYPE (billion laughs) → Sender fault', async () => {
      // The DOCTYPE goes after the XML declaration, so that it is the only thing wrong with the message.
      const bomb = envelope({ action: ITI18, to: registryUrl, body: '&lol2;' }).replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>',
      );
      const res = await postRaw(registryUrl, bomb, soap12);
      const f = faultCode(res.body);
      expect(f.value).to.equal('soap:Sender');
      expect(f.reason).to.match(/DOCTYPE/);
    });

    it('SOAP 1.1 → VersionMismatch', async () => {
      const res = await fetch(registryUrl, {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=UTF-8', SOAPAction: ITI18 },
        body: envelope({ soapNs: NS.soap11, action: ITI18, body: findDocumentsBody(KARI) }),
      });
      expect(await res.text()).to.contain('VersionMismatch');
    });

    it('an action the registry does not serve → wsa:ActionNotSupported', async () => {
      const res = await postSoap(registryUrl, ACTIONS.iti43.request, '<x:Anything xmlns:x="urn:x"/>');
      const f = faultCode(res.body);
      expect(f.value).to.equal('soap:Sender');
      expect(f.subcodes.join(' ')).to.contain('ActionNotSupported');
    });

    it('a query sent with the register action → Sender fault naming the expected element', async () => {
      const res = await postSoap(registryUrl, ITI42, findDocumentsBody(KARI));
      const f = faultCode(res.body);
      expect(f.value).to.equal('soap:Sender');
      expect(f.reason).to.contain('SubmitObjectsRequest');
    });

    it('a submission in the wrong ebRIM namespace (2.1) → Sender fault', async () => {
      const res = await postSoap(registryUrl, ITI42, `<rs:SubmitObjectsRequest xmlns:rs="${NS.rs21}"/>`);
      expect(faultCode(res.body).value).to.equal('soap:Sender');
    });

    it('an empty submission → XDSRegistryMetadataError', async () => {
      const res = await postSoap(registryUrl, ITI42, `<lcm:SubmitObjectsRequest xmlns:lcm="${NS.lcm}" xmlns:rim="${NS.rim}"><rim:RegistryObjectList/></lcm:SubmitObjectsRequest>`);
      expect(status(res.body)).to.equal('Failure');
      expect(errorCodes(res.body)).to.include('XDSRegistryMetadataError');
    });

    it('a body over the configured limit → fault with HTTP 413', async () => {
      const big = envelope({ action: ITI42, to: registryUrl, body: `<x:Big xmlns:x="urn:x">${'A'.repeat(3 * 1024 * 1024)}</x:Big>` });
      const res = await postRaw(registryUrl, big, soapContentType());
      expect(res.httpStatus).to.equal(413);
      expect(res.body.local).to.equal('Fault');
    });

    it('a truncated multipart body → fault, not a hang', async () => {
      const boundary = 'b1';
      const body = `--${boundary}\r\nContent-Type: application/xop+xml; type="application/soap+xml"\r\nContent-ID: <root>\r\n\r\n${envelope({ action: ITI18, to: registryUrl, body: findDocumentsBody(KARI) }).slice(0, 200)}`;
      const res = await postRaw(registryUrl, body, `multipart/related; type="application/xop+xml"; boundary=${boundary}; start="<root>"`);
      expect(res.body.local).to.equal('Fault');
    });

    it('a client that stops sending half way does not take the node down', async () => {
      await new Promise<void>((resolve) => {
        const req = httpRequest(registryUrl, { method: 'POST', headers: { 'content-type': soap12, 'content-length': '100000' } });
        req.on('error', () => resolve());
        req.write('<soap:Envelope');
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 100);
      });
      const res = await fetch(`${node.url}/health`);
      expect(res.status).to.equal(200);
    });
  });
});
