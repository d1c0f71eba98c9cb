import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { childElementsOf, type Elem, localNameOf, parseXmlDom, serializeDom } from '../../scripts/conformance/dom.js';
import { DEFAULT_TESTKIT_DIR, runCollections, selectTests, Session } from '../../scripts/conformance/runner.js';
import { mimeParam, splitMultipart } from '../../scripts/conformance/soap.js';
import { readTestInfo } from '../../scripts/conformance/plan.js';
import { ACTIONS, answerEnvelope, soapContentType } from '../helpers/soap.js';

interface Recorded {
  readonly path: string;
  readonly contentType: string;
  readonly envelope: string;
  readonly attachments: Uint8Array[];
}

/**
 * A deliberately tiny fake registry/repository (not our node): it stores every submitted object,
 * marks it Approved, and answers every stored query with everything it holds.
 */
function fakeNode(): { server: Server; requests: Recorded[] } {
  const requests: Recorded[] = [];
  const stored: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const contentType = req.headers['content-type'] ?? '';
      let envelope = body.toString('utf8');
      const attachments: Uint8Array[] = [];
      if (contentType.startsWith('multipart/related')) {
        const parts = splitMultipart(body, mimeParam(contentType, 'boundary')!);
        envelope = Buffer.from(parts[0]!.body).toString('utf8');
        for (const p of parts.slice(1)) attachments.push(p.body);
      }
      requests.push({ path: req.url ?? '', contentType, envelope, attachments });
      const env = parseXmlDom(envelope).documentElement as Elem;
      const payload = childElementsOf(childElementsOf(env, 'Body')[0]!)[0]!;
      let answer: string;
      if (localNameOf(payload) === 'AdhocQueryRequest') {
        answer = '<query:AdhocQueryResponse xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" ' +
          'status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"><rim:RegistryObjectList xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">' +
          `${stored.join('')}</rim:RegistryObjectList></query:AdhocQueryResponse>`;
      } else {
        const list = [...(payload.getElementsByTagNameNS('urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0', 'RegistryObjectList') as unknown as Iterable<Elem>)][0]!;
        for (const o of childElementsOf(list)) {
          if (['ExtrinsicObject', 'RegistryPackage'].includes(localNameOf(o))) o.setAttribute('status', 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved');
          stored.push(serializeDom(o));
        }
        answer = '<rs:RegistryResponse xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>';
      }
      res.writeHead(200, { 'content-type': 'application/soap+xml; charset=UTF-8' });
      res.end(answerEnvelope(answer));
    });
  });
  return { server, requests };
}

describe('conformance runner against a fake SOAP server', function () {
  this.timeout(20000);
  let fake: ReturnType<typeof fakeNode>;
  let baseUrl: string;

  before(async () => {
    fake = fakeNode();
    await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', () => r()));
    baseUrl = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => fake.server.close(() => r())));

  it('runs 11990 (register, then query by the allocated uniqueId, then an XPath assertion) to a pass', async () => {
    const report = await runCollections({ baseUrl, collections: [], tests: ['11990'] });
    const t = report.tests.find((x) => x.test === '11990')!;
    expect(t.status, JSON.stringify(t.sections, null, 1)).to.equal('pass');
    expect(t.sections.map((s) => s.steps.map((st) => `${s.section}/${st.step}:${st.status}`)).flat())
      .to.deep.equal(['submit/submit:pass', 'eval/by_uid:pass', 'eval/verify_availabilityStatus:pass']);
    // The patient feed test ran locally as a prerequisite and is counted as excluded.
    expect(report.tests.find((x) => x.test === '15817')).to.include({ status: 'excluded', prerequisiteOnly: true });
    expect(report.totals.find((c) => c.collection === 'R.b')).to.deep.include({ passed: 1, applicable: 1 });
  });

  it('sends SOAP 1.2 with WS-Addressing and the action in the Content-Type', () => {
    const reg = fake.requests.find((r) => r.envelope.includes('SubmitObjectsRequest'))!;
    expect(reg.path).to.equal('/xds/registry');
    expect(reg.contentType).to.equal(soapContentType(ACTIONS.iti42.request));
    const env = parseXmlDom(reg.envelope).documentElement as Elem;
    expect(env.namespaceURI).to.equal('http://www.w3.org/2003/05/soap-envelope');
    const header = childElementsOf(env, 'Header')[0]!;
    const h = (n: string): Elem => childElementsOf(header, n).find((e) => e.namespaceURI === 'http://www.w3.org/2005/08/addressing')!;
    expect(h('Action').textContent).to.equal(ACTIONS.iti42.request);
    expect(h('Action').getAttributeNS('http://www.w3.org/2003/05/soap-envelope', 'mustUnderstand')).to.equal('1');
    expect(h('To').textContent).to.equal(`${baseUrl}/xds/registry`);
    expect(h('MessageID').textContent).to.match(/^urn:uuid:/);
    expect(reg.envelope).to.contain('urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0');
    expect(reg.envelope).to.contain('^^^&amp;1.3.6.1.4.1.21367.2005.13.20.1000&amp;ISO');
  });

  it('links the query to the uniqueId the submission was given (UseId AssignedUids)', () => {
    const reg = fake.requests.find((r) => r.envelope.includes('SubmitObjectsRequest'))!;
    const uid = /identificationScheme="urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*identificationScheme="urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"/.exec(reg.envelope)!;
    const ssUid = uid[1] ?? uid[2]!;
    expect(ssUid).to.match(/^1\.2\.42\.\d+\.\d+$/);
    const query = fake.requests.find((r) => r.envelope.includes('AdhocQueryRequest'))!;
    expect(query.contentType).to.contain(`action="${ACTIONS.iti18.request}"`);
    expect(query.envelope).to.contain(ssUid);
  });

  it('sends Provide and Register as MTOM with the document as an xop:Include part (11966)', async () => {
    const report = await runCollections({ baseUrl, collections: [], tests: ['11966'] });
    const t = report.tests.find((x) => x.test === '11966')!;
    expect(t.sections[0]!.steps[0]!.status, JSON.stringify(t.sections[0])).to.equal('pass');
    const pnr = fake.requests.find((r) => r.path === '/xds/repository')!;
    expect(pnr.contentType).to.match(/^multipart\/related; boundary="[^"]+"; type="application\/xop\+xml"/);
    expect(pnr.contentType).to.contain(`action="${ACTIONS.iti41.request}"`);
    expect(pnr.envelope).to.match(/<xdsb:Document id="[^"]+"><xop:Include [^>]*href="cid:doc1@koblingspunkt.conformance"/);
    const expected = readFileSync(join(DEFAULT_TESTKIT_DIR, 'tests/11966/submit/my_document.txt'));
    expect(Buffer.from(pnr.attachments[0]!).equals(expected)).to.equal(true);
  });

  it('reports a transaction it does not implement as unsupported, not as a crash', async () => {
    // 15805: its RegisterODDETransaction (ITI-61, on-demand documents) is not served.
    const report = await runCollections({ baseUrl, collections: [], tests: ['15805'] });
    const t = report.tests.find((x) => x.test === '15805')!;
    const steps = t.sections.flatMap((s) => s.steps);
    expect(steps.some((s) => s.status === 'unsupported' && s.reasons[0]!.startsWith('unsupported transaction'))).to.equal(true);
  });
});

describe('conformance runner: selection and prerequisites', () => {
  it('selects tests by collections.txt membership', () => {
    const rb = selectTests(DEFAULT_TESTKIT_DIR, ['R.b']);
    expect(rb).to.include.members(['11990', '11991', '12084']);
    expect(rb).not.to.include('11897');
  });

  it('finds the loaders a test depends on (11897 → 12346 → 15818)', () => {
    const s = new Session({ baseUrl: 'http://127.0.0.1:1', collections: [] });
    expect(s.prerequisites(readTestInfo(DEFAULT_TESTKIT_DIR, '11897'))).to.include('12346');
    expect(s.prerequisites(readTestInfo(DEFAULT_TESTKIT_DIR, '12346'))).to.include('15818');
  });
});
