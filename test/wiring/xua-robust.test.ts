/**
 * Forged assertions that used to make XUA verification throw (issue 14, item 3), over real HTTP
 * against a node with trust enabled: each is answered with a SOAP 1.2 wsse fault and HTTP 400,
 * recorded as a security failure in the node's audit store, and logged as one warning line, never
 * as an error with a stack trace. An expired wsu:Timestamp is wsse:MessageExpired.
 */
import { Writable } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, textContent, type XmlElement } from '../../registry/xml/tree.js';
import { buildAssertion, soapEnvelope } from '../../scripts/sign-assertion.js';
import { cx, findDocumentsBody } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, postRaw, signedEnvelope, soapContentType } from '../helpers/soap.js';
import { auditRows, clinician, HOME, PATIENT_FNR, signed, trustConfig } from './helpers.js';

const WITH_COMMENTS = 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments';

/** The fault's env:Code/env:Subcode/env:Value, e.g. `f1:InvalidSecurity`. */
function faultSubcode(fault: XmlElement): string {
  const code = childElement(fault, NS.soap12, 'Code');
  const sub = code ? childElement(code, NS.soap12, 'Subcode') : undefined;
  const value = sub ? childElement(sub, NS.soap12, 'Value') : undefined;
  return value ? textContent(value).trim() : '';
}

function faultCode(fault: XmlElement): string {
  const code = childElement(fault, NS.soap12, 'Code');
  const value = code ? childElement(code, NS.soap12, 'Value') : undefined;
  return value ? textContent(value).trim() : '';
}

describe('forged assertions over HTTP: a 4xx wsse fault, an audit record, one log line (trust enabled)', function () {
  this.timeout(20_000);
  let node: TestNode;
  /** Every line the node logged since the last request of a test (one JSON object per line). */
  let logged: Record<string, unknown>[] = [];
  const patient = cx(PATIENT_FNR);
  const query = findDocumentsBody(patient);
  const iti18 = ACTIONS.iti18.request;

  before(async () => {
    node = await startTestNode({ homeCommunityId: HOME, trust: trustConfig() });
    // The test node is silent; listen to its logger instead of the console.
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logged.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    node.logger.clear();
    node.logger.add(new winston.transports.Stream({ stream: sink }));
    node.logger.silent = false;
  });
  after(async () => node?.close());

  const genuine = () => signed(clinician(PATIENT_FNR));
  const cases: [string, () => string, string][] = [
    ['a foreign-namespace <x:SignedInfo/> beside the real one', () => signedEnvelope(genuine().replace('<SignedInfo>', '<x:SignedInfo xmlns:x="urn:x"/><SignedInfo>'), iti18, query), 'InvalidSecurity'],
    ['an empty <DigestValue/>', () => signedEnvelope(genuine().replace(/<DigestValue>[^<]*<\/DigestValue>/, '<DigestValue/>'), iti18, query), 'InvalidSecurity'],
    ['a second DigestValue', () => signedEnvelope(genuine().replace(/(<DigestValue>[^<]*<\/DigestValue>)/, '$1$1'), iti18, query), 'InvalidSecurity'],
    [
      'a CanonicalizationMethod …#WithComments injected before SignedInfo',
      () => signedEnvelope(genuine().replace('<SignedInfo>', `<x:CanonicalizationMethod xmlns:x="urn:x" Algorithm="${WITH_COMMENTS}"/><SignedInfo>`), iti18, query),
      'InvalidSecurity',
    ],
    ['a foreign element in ds:Signature', () => signedEnvelope(genuine().replace('</Signature>', '<x:Extra xmlns:x="urn:x"/></Signature>'), iti18, query), 'InvalidSecurity'],
    [
      'an expired wsu:Timestamp',
      () => soapEnvelope(genuine(), { action: iti18, body: query, timestamp: { created: new Date(Date.now() - 1_800_000), expires: new Date(Date.now() - 1_200_000) } }),
      'MessageExpired',
    ],
  ];

  for (const [name, make, subcode] of cases) {
    it(`${name} → HTTP 400, wsse:${subcode}, a security-failure audit record, a one-line warning`, async () => {
      const before = auditRows(node.dataDir).length;
      logged = [];
      const res = await postRaw(`${node.url}/xds/registry`, make(), soapContentType(iti18));

      expect(res.httpStatus).to.equal(400);
      expect(res.body.ns).to.equal(NS.soap12);
      expect(res.body.local).to.equal('Fault');
      expect(faultCode(res.body)).to.match(/:Sender$/);
      expect(faultSubcode(res.body)).to.match(new RegExp(`:${subcode}$`));

      const rows = auditRows(node.dataDir).slice(before);
      expect(rows, 'one audit record').to.have.length(1);
      expect(rows[0]!.access.outcome).to.equal('refused');
      expect(rows[0]!.resource).to.contain('110114'); // DICOM User Authentication

      expect(logged.filter((l) => l.level === 'error'), 'no error lines').to.deep.equal([]);
      expect(logged.filter((l) => 'stack' in l), 'no stack traces').to.deep.equal([]);
      const warning = logged.find((l) => l.message === 'XUA assertion refused');
      expect(warning, 'the refusal is logged').to.not.equal(undefined);
      expect(String(warning!.reason)).to.not.contain('\n');
    });
  }

  it('an unsigned forgery with "--" in a comment → HTTP 400 env:Sender, never a 500; audited if it reaches the trust layer', async () => {
    // The SOAP layer's XML reader now refuses such a comment as not well-formed before the trust
    // layer runs (a malformed message, not a security header); test/trust/xua-robust.test.ts proves
    // that the verifier, handed it anyway, answers InvalidSecurity.
    const forged = buildAssertion(clinician(PATIENT_FNR)).replace('<saml:Subject>', '<!-- a -- b --><saml:Subject>');
    const before = auditRows(node.dataDir).length;
    logged = [];
    const res = await postRaw(`${node.url}/xds/registry`, signedEnvelope(forged, iti18, query), soapContentType(iti18));
    expect(res.httpStatus).to.equal(400);
    expect(res.body.local).to.equal('Fault');
    expect(faultCode(res.body)).to.match(/:Sender$/);
    expect(logged.filter((l) => l.level === 'error' || 'stack' in l)).to.deep.equal([]);
    const rows = auditRows(node.dataDir).slice(before);
    if (/:InvalidSecurity$/.test(faultSubcode(res.body))) expect(rows.map((r) => r.access.outcome)).to.deep.equal(['refused']);
    else expect(rows).to.deep.equal([]);
  });

  it('a genuine assertion still gets its answer', async () => {
    const res = await postRaw(`${node.url}/xds/registry`, signedEnvelope(genuine(), iti18, query), soapContentType(iti18));
    expect(res.httpStatus).to.equal(200);
    expect(res.body.attrs['status']).to.match(/Success$/);
  });
});
