/**
 * A graceful stop of a node of two processes: SIGTERM to the primary (systemd signals every process
 * of the unit; the primary alone is the harder case) drains every worker. Requests in flight on
 * both workers are answered, their registrations decided by the primary, which stays until the last
 * worker has exited, and the node exits 0.
 */
import { expect } from 'chai';
import { openRegistryStore } from '../../registry/store/open.js';
import { epikrise, uid } from '../helpers/ebxml.js';
import { halfSentRegistration } from '../helpers/soap.js';
import { startClusterNode } from './helpers.js';

describe('a node of two processes stopping', function () {
  this.timeout(120_000);

  it('SIGTERM drains every worker: the requests in flight are answered and stored, then the node exits 0', async () => {
    const node = await startClusterNode({ processes: 2, keepDataDir: true });
    const uids = [uid(), uid(), uid(), uid()];
    const inFlight = uids.map((u) => halfSentRegistration(node.url, epikrise({ docUid: u }).xml));
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
