/**
 * The initiating gateway against scripted communities on loopback: fan-out and merge, a community
 * down or slow (PartialSuccess within its deadline, XDSUnavailableCommunity at its id), relayed
 * errors, answers without home, the concurrency cap, SAML forwarding, and no leaked sockets or
 * timers after 1,000 timed-out calls.
 */
import { expect } from 'chai';
import { InitiatingGateway } from '../../connector/gateway/initiating.js';
import { Limiter } from '../../connector/gateway/limiter.js';
import { remoteCommunity } from '../../connector/gateway/remote.js';
import { credentialsFrom } from '../../connector/gateway/security.js';
import type { Community } from '../../connector/gateway/types.js';
import { SoapClient } from '../../connector/soap/client.js';
import { error } from '../../registry/model/errors.js';
import { STORED_QUERY_ID, type StoredQueryRequest } from '../../registry/model/query.js';
import { parseXml } from '../../registry/xml/parse.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement } from '../../registry/xml/tree.js';
import { documentEntry } from '../query/fixtures.js';
import { deadUrl, startPeer, type Peer } from './helpers.js';
import { nhnSample } from '../../fixtures/index.js';

const PID = '13116900216^^^&2.16.578.1.12.4.1.4.1&ISO';
const QUERY: StoredQueryRequest = {
  queryId: STORED_QUERY_ID.FindDocuments,
  returnType: 'LeafClass',
  parameters: [
    { name: '$XDSDocumentEntryPatientId', values: [`'${PID}'`] },
    { name: '$XDSDocumentEntryStatus', values: ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"] },
  ],
};
const A = 'urn:oid:1.2.3.1';
const B = 'urn:oid:1.2.3.2';
const C = 'urn:oid:1.2.3.3';

describe('gateway: federation (initiating gateway)', function () {
  this.timeout(20_000);
  const peers: Peer[] = [];
  const clients: SoapClient[] = [];
  const peer = async (...args: Parameters<typeof startPeer>): Promise<Peer> => {
    const p = await startPeer(...args);
    peers.push(p);
    return p;
  };
  const community = (home: string, url: string, timeoutMs = 2_000): Community => {
    const client = new SoapClient();
    clients.push(client);
    return remoteCommunity({ homeCommunityId: home, queryUrl: url, timeoutMs, client });
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(peers.splice(0).map((p) => p.close()));
  });

  it('merges the answers of three communities, each object keeping its home', async () => {
    const urls = await Promise.all([A, B, C].map((home) => peer({ kind: 'answer', objects: [documentEntry(PID, { homeCommunityId: home })] })));
    const gw = new InitiatingGateway({ communities: [A, B, C].map((h, i) => community(h, urls[i]!.url)), limiter: new Limiter(8) });
    const result = await gw.query(QUERY);
    expect(result.status).to.equal('Success');
    expect(result.objects.map((o) => o.homeCommunityId).sort()).to.deep.equal([A, B, C]);
  });

  it('a community that is down or too slow → PartialSuccess within its deadline, XDSUnavailableCommunity located at it', async () => {
    const ok = await peer({ kind: 'answer', objects: [documentEntry(PID, { homeCommunityId: A })] });
    const slow = await peer({ kind: 'hang' });
    const gw = new InitiatingGateway({
      communities: [community(A, ok.url), community(B, await deadUrl()), community(C, slow.url, 150)],
      limiter: new Limiter(8),
    });
    const started = performance.now();
    const result = await gw.query(QUERY);
    const elapsed = performance.now() - started;
    expect(elapsed).to.be.at.least(140).and.below(600);
    expect(result.status).to.equal('PartialSuccess');
    expect(result.objects).to.have.length(1);
    expect(result.errors.map((e) => [e.code, e.location])).to.have.deep.members([
      ['XDSUnavailableCommunity', B],
      ['XDSUnavailableCommunity', C],
    ]);
  });

  it('every community failing → Failure', async () => {
    const gw = new InitiatingGateway({ communities: [community(A, await deadUrl())], limiter: new Limiter(2) });
    const result = await gw.query(QUERY);
    expect(result.status).to.equal('Failure');
    expect(result.errors[0]).to.include({ code: 'XDSUnavailableCommunity', location: A });
  });

  it('a community answering with errors has them relayed with its id as location; a SOAP fault is XDSRegistryError there', async () => {
    const ok = await peer({ kind: 'answer', objects: [documentEntry(PID, { homeCommunityId: A })] });
    const failing = await peer({ kind: 'answer', errors: [error('XDSRegistryOutOfResources', 'busy', 'somewhere')] });
    const faulting = await peer({ kind: 'fault' });
    const gw = new InitiatingGateway({
      communities: [community(A, ok.url), community(B, failing.url), community(C, faulting.url)],
      limiter: new Limiter(8),
    });
    const result = await gw.query(QUERY);
    expect(result.status).to.equal('PartialSuccess');
    const relayed = result.errors.find((e) => e.code === 'XDSRegistryOutOfResources')!;
    expect(relayed.location).to.equal(B);
    expect(relayed.message).to.contain('somewhere');
    expect(result.errors.find((e) => e.location === C)?.code).to.equal('XDSRegistryError');
  });

  it('objects returned without home → that community\'s answer rejected as XDSMissingHomeCommunityId naming it', async () => {
    const ok = await peer({ kind: 'answer', objects: [documentEntry(PID, { homeCommunityId: A })] });
    const homeless = await peer({ kind: 'answer', objects: [documentEntry(PID)] });
    const gw = new InitiatingGateway({ communities: [community(A, ok.url), community(B, homeless.url)], limiter: new Limiter(8) });
    const result = await gw.query(QUERY);
    expect(result.status).to.equal('PartialSuccess');
    expect(result.objects.map((o) => o.homeCommunityId)).to.deep.equal([A]);
    expect(result.errors).to.have.length(1);
    expect(result.errors[0]).to.include({ code: 'XDSMissingHomeCommunityId', location: B });
  });

  it('restricting to a community by bare OID or urn:oid asks only it', async () => {
    const a = await peer({ kind: 'answer', objects: [documentEntry(PID, { homeCommunityId: A })] });
    const b = await peer({ kind: 'answer', objects: [documentEntry(PID, { homeCommunityId: B })] });
    const gw = new InitiatingGateway({ communities: [community(A, a.url), community(B, b.url)], limiter: new Limiter(8) });
    for (const home of ['1.2.3.2', 'urn:oid:1.2.3.2']) {
      const result = await gw.query({ ...QUERY, homeCommunityId: home });
      expect(result.objects.map((o) => o.homeCommunityId)).to.deep.equal([B]);
    }
    expect(a.received()).to.equal(0);
    // The $homeCommunityId parameter restricts the same way.
    const viaSlot = await gw.query({ ...QUERY, parameters: [...QUERY.parameters, { name: '$homeCommunityId', values: [`'${A}'`] }] });
    expect(viaSlot.objects.map((o) => o.homeCommunityId)).to.deep.equal([A]);
  });

  it('forwards the consumer\'s SAML assertion (original prefixes) in a wsse:Security header', async () => {
    const a = await peer({ kind: 'answer', objects: [] });
    const raw = nhnSample('iti38-iti40-request-hn.xml');
    const sample = parseXml(raw);
    const credentials = credentialsFrom(childElement(sample, NS.soap12, 'Header'), raw);
    expect(credentials?.requesterCommunityId).to.equal('urn:oid:2.16.578.1.12.4.1.7.1.1');
    const gw = new InitiatingGateway({ communities: [community(A, a.url)], limiter: new Limiter(2) });
    await gw.query(QUERY, { credentials: credentials! });
    const sent = parseXml(a.bodies[0]!);
    const security = childElement(childElement(sent, NS.soap12, 'Header')!, NS.wsse, 'Security')!;
    const assertion = childElement(security, NS.saml2, 'Assertion')!;
    expect(assertion.prefix).to.equal('saml');
    expect(assertion.attrs['ID']).to.equal('_6ceb5186-dc67-41bb-b734-4eb013aaec82');
    expect(childElement(security, NS.wsu, 'Timestamp')).to.not.equal(undefined);
  });

  it('the concurrency cap bounds the calls in flight over all communities', async () => {
    const slowPeers = await Promise.all([0, 1, 2, 3, 4, 5].map(() => peer({ kind: 'hang' })));
    const limiter = new Limiter(2);
    const gw = new InitiatingGateway({ communities: slowPeers.map((p, i) => community(`urn:oid:1.2.4.${i}`, p.url, 150)), limiter });
    const pending = gw.query(QUERY);
    await new Promise((r) => setTimeout(r, 60));
    expect(limiter.running).to.equal(2);
    expect(slowPeers.reduce((n, p) => n + p.received(), 0)).to.equal(2);
    const result = await pending;
    // The deadline covers the wait for a slot: queued calls time out too, nothing waits longer.
    expect(result.status).to.equal('Failure');
    expect(result.errors).to.have.length(6);
    // Aborted calls hand their slot back as soon as their socket is torn down.
    await settle(() => String(limiter.running), '0');
    expect(limiter.running).to.equal(0);
    expect(limiter.queued).to.equal(0);
  });

  it('1,000 queries to a slow community that times out leave no socket or timer behind', async function () {
    this.timeout(30_000);
    const slow = await peer({ kind: 'hang' });
    const client = new SoapClient({ connections: 128 });
    clients.push(client);
    const gw = new InitiatingGateway({
      communities: [remoteCommunity({ homeCommunityId: A, queryUrl: slow.url, timeoutMs: 20, client })],
      limiter: new Limiter(128),
    });
    const resources = (): Record<string, number> => {
      const counts: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
      return counts;
    };
    // One warm-up call, so that lazily created process-wide handles are part of the baseline.
    await gw.query(QUERY);
    await settle(() => JSON.stringify(resources()));
    const baseline = resources();
    let unavailable = 0;
    for (let batch = 0; batch < 10; batch++) {
      const results = await Promise.all(Array.from({ length: 100 }, () => gw.query(QUERY)));
      unavailable += results.filter((r) => r.errors[0]?.code === 'XDSUnavailableCommunity').length;
    }
    expect(unavailable).to.equal(1_000);
    const after = await settle(() => JSON.stringify(resources()), JSON.stringify(baseline));
    expect(JSON.parse(after)).to.deep.equal(baseline);
  });
});

/** Polls until `read()` stops changing (or equals `target`), up to 3 s; returns the last reading. */
async function settle(read: () => string, target?: string): Promise<string> {
  let last = read();
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const now = read();
    if (target !== undefined ? now === target : now === last) return now;
    last = now;
  }
  return last;
}
