/**
 * Audit queues of processes a node no longer runs (connector/audit/adopt.ts): after `processes` is
 * lowered, the files of the workers above the new count are pumped by exactly one of the workers
 * that remain (or by the single process), so an event waiting in one for a sink is delivered, and
 * the file is closed once nothing waits in it.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { adoptAuditQueues, queuesToAdopt } from '../../connector/audit/adopt.js';
import { QUEUE_FILE } from '../../connector/audit/auditor.js';
import { auditEvents, type AuditEvent } from '../../connector/audit/event.js';
import { auditQueueMetrics, DurableAuditQueue } from '../../connector/audit/queue.js';
import { openEmbeddedAuditStore } from '../../connector/audit/store-embedded.js';
import { baseInput } from '../audit/fixtures.js';

function event(): AuditEvent {
  return auditEvents.iti18({ ...baseInput(), query: { storedQueryId: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d', text: '<AdhocQueryRequest/>' } });
}

/** A queue file in `dir` holding `e` for the store sink (its delivery failed). */
async function leftQueue(dir: string, e: AuditEvent): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const queue = new DurableAuditQueue({
    path: join(dir, QUEUE_FILE),
    sinks: [{ name: 'store', deliver: () => Promise.reject(new Error('the audit store is down')) }],
    logger: { warn: () => undefined, error: () => undefined },
    retryBaseMs: 60_000,
  });
  await queue.enqueue(e, ['store']);
  await queue.close();
}

describe('audit queues of former processes', function () {
  this.timeout(30_000);
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'kp-adopt-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('each file has one adopter: worker i of N takes the indexes above N with k ≡ i (mod N), worker 1 the single process file, a single process every worker file', async () => {
    for (const k of [1, 2, 3, 4, 5]) await leftQueue(join(dataDir, 'workers', String(k)), event());
    await leftQueue(dataDir, event());
    const w = (k: number) => join(dataDir, 'workers', String(k));
    expect(queuesToAdopt(dataDir, { index: 1, processes: 2 })).to.deep.equal([dataDir, w(3), w(5)]);
    expect(queuesToAdopt(dataDir, { index: 2, processes: 2 })).to.deep.equal([w(4)]);
    expect(queuesToAdopt(dataDir, { index: 1, processes: 5 })).to.deep.equal([dataDir]);
    expect(queuesToAdopt(dataDir, { index: 3, processes: 5 })).to.deep.equal([]);
    expect(queuesToAdopt(dataDir, undefined)).to.deep.equal([1, 2, 3, 4, 5].map(w));
  });

  it('delivers what waits in an adopted file to the audit store, then closes it', async () => {
    const e = event();
    const dir = join(dataDir, 'workers', '3');
    await leftQueue(dir, e);
    const store = openEmbeddedAuditStore({ path: join(dataDir, 'audit.sqlite') });
    const adopted = adoptAuditQueues({ dirs: [dir], store });
    try {
      const until = Date.now() + 5_000;
      while ((await store.get(e.id)) === undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(await store.get(e.id)).to.have.property('id', e.id);
      // Closed at the next check once empty (every 5 s).
      const path = join(dir, QUEUE_FILE);
      const closedBy = Date.now() + 12_000;
      while (auditQueueMetrics().some((q) => q.path === path) && Date.now() < closedBy) await new Promise((r) => setTimeout(r, 100));
      expect(auditQueueMetrics().some((q) => q.path === path)).to.equal(false);
    } finally {
      await adopted.close();
      await store.close();
    }
  });
});
