/**
 * /metrics over real HTTP: a node takes a mixed run (registrations that succeed and fail, stored
 * queries, an ITI-41 and its ITI-43, a SOAP fault, ITI-38 at the responding gateway, a federated
 * ITI-18 at the initiating gateway), then the scrape must count each request once, under its
 * endpoint, transaction and outcome, with its error codes and latency; the operator page's rates
 * must show the run in the current minute.
 */
import { expect } from 'chai';
import { parseXml } from '../../registry/xml/parse.js';
import { classifyReply } from '../../connector/metrics/outcome.js';
import { NodeMetrics } from '../../connector/metrics/metrics.js';
import { callCommunity } from '../../connector/gateway/fanout.js';
import { Limiter } from '../../connector/gateway/limiter.js';
import type { Community } from '../../connector/gateway/types.js';
import type { StoredQueryRequest } from '../../registry/model/query.js';
import { cx, epikrise, errorCodes, findDocumentsBody, KARI, retrieveBody, status } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, postSoap } from '../helpers/soap.js';
import { provideMtom, retrieve } from '../repository/client.js';

const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1';
const TOKEN = 'metrics-token-0123456789abcdef0123456789';

/** One sample of the exposition: metric name, labels, value. */
interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one sample with this name whose labels include `labels`; 0 when there is none. */
function value(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  expect(found.length, `${name} ${JSON.stringify(labels)}: ${found.length} samples`).to.be.at.most(1);
  return found[0]?.value ?? 0;
}

describe('metrics: /metrics and the operator rates', function () {
  this.timeout(30_000);
  let node: TestNode;
  let samples: Sample[];
  let scrapeStatus: number;
  let contentType: string | null;

  async function scrape(token?: string): Promise<Response> {
    return fetch(`${node.url}/metrics`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  }

  before(async () => {
    node = await startTestNode({ homeCommunityId: HOME, metrics: { token: TOKEN } });
    const registry = `${node.url}/xds/registry`;
    const repository = `${node.url}/xds/repository`;

    // ITI-42: one success, two failures with XDSUnknownPatientId (a fødselsnummer with a bad check digit).
    const ok = await postSoap(registry, ACTIONS.iti42.request, epikrise().xml);
    expect(status(ok.body)).to.equal('Success');
    for (let i = 0; i < 2; i++) {
      const bad = await postSoap(registry, ACTIONS.iti42.request, epikrise({ patient: cx('13116900217') }).xml);
      expect(status(bad.body)).to.equal('Failure');
      expect(errorCodes(bad.body)).to.include('XDSUnknownPatientId');
    }
    // ITI-18 at the registry.
    const found = await postSoap(registry, ACTIONS.iti18.request, findDocumentsBody(KARI));
    expect(status(found.body)).to.equal('Success');

    // ITI-41 (MTOM) and ITI-43 of the same document, then an ITI-43 of a document that is not there.
    const doc = epikrise({ forRepository: true });
    const provided = await provideMtom(repository, doc.xml, [{ id: 'Document01', bytes: Buffer.from('%PDF-1.4 metrics test\n') }]);
    expect(status(provided.body)).to.equal('Success');
    const repositoryUniqueId = node.config.repository.repositoryUniqueId;
    const got = await retrieve(repository, [{ repositoryUniqueId, documentUniqueId: doc.docUid }]);
    expect(status(got.body)).to.equal('Success');
    const missing = await retrieve(repository, [{ repositoryUniqueId, documentUniqueId: '1.2.3.999.404' }]);
    expect(status(missing.body)).to.equal('Failure');

    // A SOAP fault: an action the registry does not serve.
    const fault = await postSoap(registry, 'urn:example:not-an-action', findDocumentsBody(KARI));
    expect(fault.body.local).to.equal('Fault');

    // ITI-38 at the responding gateway, a federated ITI-18 and ITI-43 at the initiating gateway.
    const xcq = await postSoap(`${node.url}/xca/responding`, ACTIONS.iti38.request, findDocumentsBody(KARI));
    expect(status(xcq.body)).to.equal('Success');
    const fed = await postSoap(`${node.url}/xca/initiating`, ACTIONS.iti18.request, findDocumentsBody(KARI));
    expect(status(fed.body)).to.equal('Success');
    const fedRetrieve = await postSoap(
      `${node.url}/xca/initiating`,
      ACTIONS.iti43.request,
      retrieveBody([{ home: HOME, repository: repositoryUniqueId, document: doc.docUid }]),
    );
    expect(status(fedRetrieve.body)).to.equal('Success');

    const res = await scrape(TOKEN);
    scrapeStatus = res.status;
    contentType = res.headers.get('content-type');
    samples = parseExposition(await res.text());
  });
  after(async () => node?.close());

  it('refuses a scrape without the token (401) or with a wrong one, and serves it with the token', async () => {
    expect((await scrape()).status).to.equal(401);
    expect((await scrape(`${TOKEN}x`)).status).to.equal(401);
    expect(scrapeStatus).to.equal(200);
    expect(contentType).to.match(/^text\/plain/);
  });

  it('is open without metrics.token, and another node in the process counts only its own requests', async () => {
    const other = await startTestNode({ homeCommunityId: HOME });
    try {
      const res = await fetch(`${other.url}/metrics`);
      expect(res.status).to.equal(200);
      const own = parseExposition(await res.text());
      expect(own.filter((s) => s.name === 'koblingspunkt_requests_total')).to.deep.equal([]);
      expect(value(own, 'process_resident_memory_bytes')).to.be.greaterThan(0);
      expect(other.metrics.recentRates().every((r) => r.requests === 0)).to.equal(true);
    } finally {
      await other.close();
    }
  });

  it('counts each request once under its endpoint, transaction and outcome', () => {
    const requests = (endpoint: string, transaction: string, outcome: string) =>
      value(samples, 'koblingspunkt_requests_total', { endpoint, transaction, outcome });
    expect(requests('registry', 'ITI-42', 'success')).to.equal(1);
    expect(requests('registry', 'ITI-42', 'failure')).to.equal(2);
    expect(requests('registry', 'ITI-18', 'success')).to.equal(1);
    expect(requests('repository', 'ITI-41', 'success')).to.equal(1);
    expect(requests('repository', 'ITI-43', 'success')).to.equal(1);
    expect(requests('repository', 'ITI-43', 'failure')).to.equal(1);
    expect(requests('registry', 'unknown', 'fault')).to.equal(1);
    expect(requests('responding', 'ITI-38', 'success')).to.equal(1);
    expect(requests('initiating', 'ITI-18', 'success')).to.equal(1);
    expect(requests('initiating', 'ITI-43', 'success')).to.equal(1);
    const total = samples.filter((s) => s.name === 'koblingspunkt_requests_total').reduce((n, s) => n + s.value, 0);
    expect(total).to.equal(11);
  });

  it('counts IHE error codes and SOAP fault codes', () => {
    expect(value(samples, 'koblingspunkt_registry_errors_total', { endpoint: 'registry', transaction: 'ITI-42', code: 'XDSUnknownPatientId' })).to.equal(2);
    expect(value(samples, 'koblingspunkt_registry_errors_total', { endpoint: 'repository', transaction: 'ITI-43', code: 'XDSDocumentUniqueIdError' })).to.equal(1);
    expect(value(samples, 'koblingspunkt_soap_faults_total', { endpoint: 'registry', transaction: 'unknown', code: 'Sender/ActionNotSupported' })).to.equal(1);
  });

  it('has a latency histogram per transaction whose count matches the requests', () => {
    const count = (endpoint: string, transaction: string) => value(samples, 'koblingspunkt_request_duration_seconds_count', { endpoint, transaction });
    expect(count('registry', 'ITI-42')).to.equal(3);
    expect(count('registry', 'ITI-18')).to.equal(1);
    expect(count('repository', 'ITI-41')).to.equal(1);
    expect(count('repository', 'ITI-43')).to.equal(2);
    expect(count('responding', 'ITI-38')).to.equal(1);
    expect(count('initiating', 'ITI-18')).to.equal(1);
    // Buckets from 1 ms to 30 s; every request fits under the last finite one here.
    expect(value(samples, 'koblingspunkt_request_duration_seconds_bucket', { endpoint: 'registry', transaction: 'ITI-42', le: '0.001' })).to.be.at.most(3);
    expect(value(samples, 'koblingspunkt_request_duration_seconds_bucket', { endpoint: 'registry', transaction: 'ITI-42', le: '30' })).to.equal(3);
  });

  it('measures the initiating gateway per community and lists the communities', () => {
    // The federated query and retrieve each called the node's own community once.
    expect(value(samples, 'koblingspunkt_gateway_call_duration_seconds_count', { community: HOME })).to.equal(2);
    expect(value(samples, 'koblingspunkt_gateway_call_timeouts_total', { community: HOME })).to.equal(0);
    const [own] = node.metrics.communities().filter((c) => c.homeCommunityId === HOME);
    expect(own).to.include({ homeCommunityId: HOME, lastOk: true, timeouts: 0, failures: 0 });
    expect(own!.lastLatencyMs).to.be.a('number');
    expect(own!.lastAt).to.match(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('reports the audit queue, the blob store and the process', () => {
    // Nothing waits: the audit store took every event.
    expect(value(samples, 'koblingspunkt_audit_queue_depth', { sink: 'store' })).to.equal(0);
    expect(value(samples, 'koblingspunkt_audit_queue_oldest_age_seconds', { sink: 'store' })).to.equal(0);
    expect(value(samples, 'koblingspunkt_blob_store_documents')).to.equal(1);
    expect(value(samples, 'koblingspunkt_blob_store_bytes')).to.equal('%PDF-1.4 metrics test\n'.length);
    expect(value(samples, 'process_resident_memory_bytes')).to.be.greaterThan(0);
  });

  it('reports the registry size by type and status: the two stored submissions, none of the failed ones', async () => {
    expect(value(samples, 'koblingspunkt_registry_objects', { type: 'DocumentEntry', status: 'Approved' })).to.equal(2);
    expect(value(samples, 'koblingspunkt_registry_objects', { type: 'SubmissionSet', status: 'Approved' })).to.equal(2);
    expect(samples.filter((s) => s.name === 'koblingspunkt_registry_objects' && s.labels.status !== 'Approved')).to.deep.equal([]);
    // The maintained counts agree with counting the store.
    const associations = await node.registry.store.count({ type: 'Association' });
    expect(associations).to.be.greaterThan(0);
    expect(value(samples, 'koblingspunkt_registry_objects', { type: 'Association', status: 'Approved' })).to.equal(associations);
  });

  it('shows the run in the current minute of recentRates()', () => {
    const rates = node.metrics.recentRates();
    expect(rates).to.have.length(60);
    const starts = rates.map((r) => Date.parse(r.start));
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).to.equal(60_000);
    expect(Date.now() - starts[59]!).to.be.within(0, 60_000);
    // The run may straddle a minute boundary: the last two minutes hold all of it.
    const recent = rates.slice(-2);
    const sum = (f: (r: (typeof rates)[number]) => number) => recent.reduce((n, r) => n + f(r), 0);
    expect(sum((r) => r.requests)).to.equal(11);
    // Failures (2 × ITI-42, 1 × ITI-43) and the fault are errors.
    expect(sum((r) => r.errors)).to.equal(4);
    expect(sum((r) => r.byTransaction['ITI-42']?.requests ?? 0)).to.equal(3);
    expect(sum((r) => r.byTransaction['ITI-42']?.errors ?? 0)).to.equal(2);
    expect(sum((r) => r.byTransaction['ITI-18 federated']?.requests ?? 0)).to.equal(1);
    expect(sum((r) => r.byTransaction['unknown']?.errors ?? 0)).to.equal(1);
    expect(rates.slice(0, -2).every((r) => r.requests === 0 && Object.keys(r.byTransaction).length === 0)).to.equal(true);
  });
});

describe('metrics: reading an outcome from the reply', () => {
  const rs = 'urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0';
  const reply = (status: string, errors: string) =>
    parseXml(`<rs:RegistryResponse xmlns:rs="${rs}" status="${status}"><rs:RegistryErrorList>${errors}</rs:RegistryErrorList></rs:RegistryResponse>`);
  const err = (code: string, context: string, severity = 'Error') =>
    `<rs:RegistryError errorCode="${code}" codeContext="${context}" severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:${severity}"/>`;

  it('tells a denial (every error a refusal of the trust model) from a failure', () => {
    expect(classifyReply(reply('urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure', err('XDSRegistryError', 'access denied: ATT-5 blocked')))).to.deep.equal({
      outcome: 'denied',
      errorCodes: ['XDSRegistryError'],
    });
    expect(classifyReply(reply('urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure', err('XDSRegistryError', 'store down'))).outcome).to.equal('failure');
  });

  it('reads PartialSuccess and leaves warnings out', () => {
    const r = classifyReply(reply('urn:ihe:iti:2007:ResponseStatusType:PartialSuccess', err('XDSUnavailableCommunity', 'x') + err('XDSExtraMetadataNotSaved', 'y', 'Warning')));
    expect(r).to.deep.equal({ outcome: 'partial', errorCodes: ['XDSUnavailableCommunity'] });
  });

  it('keeps the rates of two nodes apart and rolls minutes out of the window', () => {
    let now = Date.parse('2026-12-06T05:00:30Z');
    const a = new NodeMetrics({ dataDir: 'unused-a', filesystemBlobs: false, now: () => now });
    const b = new NodeMetrics({ dataDir: 'unused-b', filesystemBlobs: false, now: () => now });
    const ok = { reply: reply('urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success', '') };
    a.soapObserver('registry')(ACTIONS.iti42.request, 200, 5, ok);
    expect(a.recentRates().at(-1)).to.deep.include({ start: '2026-12-06T05:00:00.000Z', requests: 1, errors: 0 });
    expect(b.recentRates().at(-1)!.requests).to.equal(0);
    now += 60 * 60_000;
    a.soapObserver('registry')(ACTIONS.iti42.request, 200, 5, ok);
    const rates = a.recentRates();
    expect(rates.reduce((n, r) => n + r.requests, 0)).to.equal(1);
    expect(rates.at(-1)!.start).to.equal('2026-12-06T06:00:00.000Z');
  });
});

describe('metrics: calls to communities', () => {
  const community = (id: string, query: () => Promise<never>): Community => ({
    homeCommunityId: id,
    timeoutMs: 30,
    local: false,
    query,
  });
  // The fake communities never read the request.
  const request = {} as StoredQueryRequest;

  it('counts a timeout and a failure apart, and leaves an abandoned call out', async () => {
    const metrics = new NodeMetrics({ dataDir: 'unused-c', filesystemBlobs: false });
    const limiter = new Limiter(4);
    const slow = community('urn:oid:1.2.3.1', () => new Promise<never>(() => {}));
    const broken = community('urn:oid:1.2.3.2', () => Promise.reject(new Error('connection refused')));
    metrics.knowCommunities([slow.homeCommunityId, broken.homeCommunityId, 'urn:oid:1.2.3.3']);
    await callCommunity(slow, limiter, {}, undefined, (ctx) => slow.query(request, ctx), metrics.communityObserver).catch(() => undefined);
    await callCommunity(broken, limiter, {}, undefined, (ctx) => broken.query(request, ctx), metrics.communityObserver).catch(() => undefined);
    const gone = new AbortController();
    gone.abort();
    await callCommunity(slow, limiter, {}, gone.signal, (ctx) => slow.query(request, ctx), metrics.communityObserver).catch(() => undefined);

    const byId = new Map(metrics.communities().map((c) => [c.homeCommunityId, c]));
    expect(byId.get('urn:oid:1.2.3.1')).to.include({ lastOk: false, timeouts: 1, failures: 0 });
    expect(byId.get('urn:oid:1.2.3.1')!.lastLatencyMs).to.be.at.least(25);
    expect(byId.get('urn:oid:1.2.3.2')).to.include({ lastOk: false, timeouts: 0, failures: 1 });
    expect(byId.get('urn:oid:1.2.3.3')).to.deep.equal({ homeCommunityId: 'urn:oid:1.2.3.3', timeouts: 0, failures: 0 });
    const samples = parseExposition(await metrics.exposition());
    expect(value(samples, 'koblingspunkt_gateway_call_timeouts_total', { community: 'urn:oid:1.2.3.1' })).to.equal(1);
    expect(value(samples, 'koblingspunkt_gateway_call_failures_total', { community: 'urn:oid:1.2.3.2' })).to.equal(1);
    expect(value(samples, 'koblingspunkt_gateway_call_duration_seconds_count', { community: 'urn:oid:1.2.3.1' })).to.equal(1);
  });
});
