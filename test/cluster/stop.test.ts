/**
 * A graceful stop of a node of two processes: SIGTERM to the primary (systemd signals every process
 * of the unit; the primary alone is the harder case) drains every worker. Requests in flight on
 * both workers are answered, their registrations decided by the primary, which stays until the last
 * worker has exited, and the node exits 0.
 */
import { expect } from 'chai';
import { request } from 'node:http';
import { openRegistryStore } from '../../registry/store/open.js';
import { epikrise, uid } from '../helpers/ebxml.js';
import { ACTIONS, envelope, soapContentType } from '../helpers/soap.js';
import { startClusterNode } from './helpers.js';

/** An ITI-42 on a connection of its own whose body is sent in two halves. */
function halfSentRequest(url: string, docUid: string): { finish: () => void; answer: Promise<{ status: number; body: string }> } {
  const body = Buffer.from(envelope({ action: ACTIONS.iti42.request, to: `${url}/xds/registry`, body: epikrise({ docUid }).xml }));
  const half = Math.floor(body.length / 2);
  const req = request(`${url}/xds/registry`, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': soapContentType(ACTIONS.iti42.request), 'content-length': body.length },
  });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
  });
  req.write(body.subarray(0, half));
  return { finish: () => req.end(body.subarray(half)), answer };
}

describe('a node of two processes stopping', function () {
  this.timeout(120_000);

  it('SIGTERM drains every worker: the requests in flight are answered and stored, then the node exits 0', async () => {
    const node = await startClusterNode({ processes: 2, keepDataDir: true });
    const uids = [uid(), uid(), uid(), uid()];
    const inFlight = uids.map((u) => halfSentRequest(node.url, u));
    await new Promise((r) => setTimeout(r, 300));
    const exited = node.stop();
    await node.waitForLine((l) => l.message.includes('stopping (asked by the primary)'));
    await new Promise((r) => setTimeout(r, 300));
    for (const r of inFlight) r.finish();
    const answers = await Promise.all(inFlight.map((r) => r.answer));
    for (const a of answers) {
      expect(a.status).to.equal(200);
      expect(a.body).to.include('ResponseStatusType:Success');
    }
    expect(await exited).to.equal(0);
    // Both workers drained (each logs its stop), and what they answered is stored.
    expect(node.lines.filter((l) => l.message.includes('stopping (asked by the primary)'))).to.have.length(2);
    const store = await openRegistryStore({ dataDir: node.dataDir, cacheEntries: 0 });
    try {
      expect(await store.find({ type: 'DocumentEntry', uniqueId: { $in: uids } })).to.have.length(uids.length);
    } finally {
      await store.close();
      node.removeDataDir();
    }
  });
});
