/**
 * The operator page's JSON API over real HTTP (connector/admin/router.ts): the bearer token, the
 * masked configuration, the community probes, the audit search over events made by real requests,
 * and the patient access log behind the admin token; not mounted at all without a token.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { PATIENT_FNR, PRACTITIONER_FNR, PRACTITIONER_NAME } from '../wiring/helpers.js';
import { parseConfig } from '../../connector/config.js';
import { ACCESS_LOG_TOKEN, ADMIN_TOKEN, adminGet, BLOCKS_TOKEN, DEAD_COMMUNITY, populate, startAdminNode } from './helpers.js';

const LIVE_COMMUNITY = 'urn:oid:2.16.578.1.12.4.5.100.8';

describe('operator page API', function () {
  this.timeout(20_000);
  let node: TestNode;
  let peer: Server;
  let peerUrl: string;

  before(async () => {
    // A server that answers every request with 404: reachable, though it serves no WSDL.
    peer = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    peerUrl = `http://127.0.0.1:${(peer.address() as AddressInfo).port}/xca/responding`;
    node = await startAdminNode([{ homeCommunityId: LIVE_COMMUNITY, queryUrl: peerUrl }]);
    await populate(node);
  });
  after(async () => {
    await node?.close();
    await new Promise<void>((resolve) => (peer ? peer.close(() => resolve()) : resolve()));
  });

  it('refuses the API without a token and with a wrong one (401, nothing else said)', async () => {
    for (const token of [null, 'x'.repeat(40), `${ADMIN_TOKEN}x`, ACCESS_LOG_TOKEN]) {
      for (const path of ['api/overview', 'api/communities', 'api/rates', 'api/audit', `api/access-log?patientId=${PATIENT_FNR}`]) {
        const res = await adminGet(node, path, token);
        expect(res.status, `${path} with ${token}`).to.equal(401);
        expect(res.json).to.deep.equal({ error: 'unauthorized' });
        expect(res.headers.get('www-authenticate')).to.match(/^Bearer/);
      }
    }
  });

  it('serves the page itself without a token, under a strict content security policy', async () => {
    const bare = await fetch(`${node.url}/admin`, { redirect: 'manual' });
    expect(bare.status).to.equal(308);
    expect(bare.headers.get('location')).to.equal('/admin/');
    const page = await adminGet(node, '', null);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(page.text).to.include('<script type="module" src="admin.js">');
    expect(page.headers.get('content-security-policy')).to.include("script-src 'self'");
    const script = await adminGet(node, 'admin.js', null);
    expect(script.status).to.equal(200);
    expect(script.headers.get('content-type')).to.match(/javascript/);
    expect((await adminGet(node, 'admin.css', null)).status).to.equal(200);
  });

  it('shows the roles and the effective configuration with every secret masked', async () => {
    const res = await adminGet(node, 'api/overview');
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    expect(res.json.node).to.include({ homeCommunityId: node.config.homeCommunityId, trust: true, gatewayMode: 'node' });
    expect(res.json.roles.map((r: { path: string }) => r.path)).to.include.members(['/xds/registry', '/xds/repository', '/xca/responding', '/audit/access-log', '/admin']);
    expect(res.json.config.admin).to.deep.equal({ token: '****', path: '/admin' });
    expect(res.json.config.audit.accessLog.token).to.equal('****');
    expect(res.json.config.gateway.communities[0].homeCommunityId).to.equal(DEAD_COMMUNITY);
    expect(res.text).not.to.include(ADMIN_TOKEN);
    expect(res.text).not.to.include(ACCESS_LOG_TOKEN);
    expect(res.text).not.to.include(BLOCKS_TOKEN);
    expect(res.json.config.trust.blocksApi.token).to.equal('****');
  });

  it('leaves the patient-block API at its default path under /admin to its own token', async () => {
    const blocks = await fetch(`${node.url}/admin/patient-blocks?patientId=${PATIENT_FNR}`, { headers: { authorization: `Bearer ${BLOCKS_TOKEN}` } });
    expect(blocks.status).to.equal(200);
    expect(await blocks.json()).to.have.property('blocks').that.deep.equals([]);
    const withAdminToken = await fetch(`${node.url}/admin/patient-blocks?patientId=${PATIENT_FNR}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(withAdminToken.status).to.equal(401);
  });

  it('probes each community: the dead one down, the one answering 404 up', async () => {
    const res = await adminGet(node, 'api/communities?refresh=1');
    expect(res.status).to.equal(200);
    const [dead, live] = res.json.communities;
    expect(dead).to.include({ homeCommunityId: DEAD_COMMUNITY, up: false });
    expect(dead.error).to.match(/ECONNREFUSED/);
    expect(live).to.include({ homeCommunityId: LIVE_COMMUNITY, up: true, status: 404, queryUrl: peerUrl });
    expect(live.latencyMs).to.be.a('number');
  });

  it('searches the audit trail by practitioner (part of the name, any case) and finds the requests made', async () => {
    const res = await adminGet(node, `api/audit?practitioner=${encodeURIComponent('øvergård')}`);
    expect(res.status).to.equal(200);
    const transactions = res.json.events.map((e: { entry: { transaction: string } }) => e.entry.transaction);
    // Newest first: the query, then the provide-and-register (and the registration it made).
    expect(transactions[0]).to.equal('ITI-18');
    expect(transactions).to.include('ITI-41');
    for (const e of res.json.events) {
      expect(e.entry.practitioner.name).to.equal(PRACTITIONER_NAME);
      expect(e.patientId).to.equal(PATIENT_FNR);
    }
    // ATT-8 holds here too: the practitioner's fødselsnummer is not in the projection searched.
    expect(res.text).not.to.include(PRACTITIONER_FNR);
    expect(res.json.truncated).to.equal(false);
  });

  it('narrows by transaction, patient, outcome and time, and refuses bad parameters with 400', async () => {
    const byTransaction = await adminGet(node, `api/audit?transaction=ITI-18&patient=${PATIENT_FNR}&outcome=success`);
    expect(byTransaction.json.events).to.have.length(1);
    const nobody = await adminGet(node, 'api/audit?practitioner=Nordmann');
    expect(nobody.json.events).to.deep.equal([]);
    const future = await adminGet(node, `api/audit?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(future.json.events).to.deep.equal([]);
    const limited = await adminGet(node, 'api/audit?limit=1');
    expect(limited.json.events).to.have.length(1);
    expect(limited.json.truncated).to.equal(true);
    for (const [query, field] of [
      ['transaction=ITI-99', 'transaction'],
      ['outcome=maybe', 'outcome'],
      ['from=yesterday', 'from'],
      ['patient=12345678901', 'patient'],
      ['limit=0', 'limit'],
      ['practitioner=a&practitioner=b', 'practitioner'],
    ]) {
      const res = await adminGet(node, `api/audit?${query}`);
      expect(res.status, query).to.equal(400);
      expect(res.json.field).to.equal(field);
    }
  });

  it("serves one patient's access log behind the admin token", async () => {
    const res = await adminGet(node, `api/access-log?patientId=${PATIENT_FNR}`);
    expect(res.status).to.equal(200);
    expect(res.json.patientId).to.equal(PATIENT_FNR);
    expect(res.json.accesses.map((a: { transaction: string }) => a.transaction)).to.include.members(['ITI-18', 'ITI-41']);
    expect(res.json.accesses[0].practitioner.name).to.equal(PRACTITIONER_NAME);
  });

  it('refuses an admin token shorter than 32 characters at start', () => {
    expect(() => parseConfig({ admin: { token: 'x'.repeat(31) } })).to.throw(/admin\.token: expected a token of at least 32 characters/);
    expect(parseConfig({ admin: { token: 'x'.repeat(32) } }).admin).to.deep.equal({ token: 'x'.repeat(32), path: '/admin' });
  });

  it('is not mounted without a token', async () => {
    const plain = await startTestNode({});
    try {
      expect(plain.config.admin.token).to.equal(undefined);
      const res = await fetch(`${plain.url}/admin/api/overview`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.status).to.equal(404);
      expect((await fetch(`${plain.url}/admin/`)).status).to.equal(404);
    } finally {
      await plain.close();
    }
  });
});
