/**
 * The durable queue: an event recorded while the Audit Record Repository is down survives a
 * restart of the node (close and reopen over the same data directory) and is delivered when the
 * repository comes up. Delivery is at-least-once; in this run, exactly once. And how it delivers:
 * a window of deliveries in flight, exponential backoff after a failure, the metrics and the
 * warning about events waiting too long.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Auditor } from '../../connector/audit/auditor.js';
import { auditQueueMetrics, DurableAuditQueue } from '../../connector/audit/queue.js';
import { auditEvents, type AuditEvent } from '../../connector/audit/event.js';
import { openEmbeddedAuditStore } from '../../connector/audit/store-embedded.js';
import type { AuditStore } from '../../connector/audit/store.js';
import { TlsSyslogSender } from '../../connector/audit/syslog.js';
import { baseInput, dicomSchemaErrors } from './fixtures.js';
import { eventIdOf, freePort, startTlsReceiver, TEST_CA, xmlOf } from './receiver.js';

const silent = { warn: () => undefined, error: () => undefined };

function event(): AuditEvent {
  return auditEvents.iti18({ ...baseInput(), query: { storedQueryId: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d', text: '<AdhocQueryRequest/>' } });
}

describe('audit queue: durable across restarts with the sink down', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kp-audit-queue-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('records with the repository down, survives a restart, delivers once the repository is up', async () => {
    const port = await freePort();
    const sender = () => new TlsSyslogSender({ host: '127.0.0.1', port, ca: TEST_CA, servername: 'localhost', connectTimeoutMs: 500 });
    const store1 = openEmbeddedAuditStore({ path: join(dir, 'audit.sqlite') });
    const first = new Auditor({ dataDir: dir, store: store1, syslog: sender(), logger: silent, retryBaseMs: 20, retryMaxMs: 50 });
    const e = event();
    await first.record(e);
    // Stored locally at once; the syslog copy waits on disk.
    expect(await store1.get(e.id)).to.have.property('id', e.id);
    await new Promise((r) => setTimeout(r, 100));
    expect(await first.pending()).to.deep.equal({ pending: 1, dead: 0 });
    await first.close();
    await store1.close();

    // "Restart": a new process would open the same files; the repository is up now.
    const receiver = await startTlsReceiver(port);
    const store2 = openEmbeddedAuditStore({ path: join(dir, 'audit.sqlite') });
    const second = new Auditor({ dataDir: dir, store: store2, syslog: sender(), logger: silent, retryBaseMs: 20, retryMaxMs: 50 });
    try {
      await receiver.waitFor(1);
      expect(await second.flush(2000)).to.equal(true);
      await new Promise((r) => setTimeout(r, 100));
      expect(receiver.frames).to.have.length(1);
      // The Auditor's syslog copy names the event (structured data) and carries its time.
      expect(eventIdOf(receiver.frames[0]!.message)).to.equal(e.id);
      const xml = xmlOf(receiver.frames[0]!.message);
      expect(xml).to.contain(e.recorded).and.to.contain('Ærlig Øvergård');
      expect(await dicomSchemaErrors([xml])).to.deep.equal([]);
      expect(await second.pending()).to.deep.equal({ pending: 0, dead: 0 });
    } finally {
      await second.close();
      await store2.close();
      await receiver.close();
    }
  });

  it('an event the audit store could not take is kept on disk and stored after the restart, once', async () => {
    const real = openEmbeddedAuditStore({ path: join(dir, 'audit.sqlite') });
    const down: AuditStore = {
      append: async () => {
        throw new Error('audit store unavailable');
      },
      appendMany: async () => {
        throw new Error('audit store unavailable');
      },
      get: (id) => real.get(id),
      patientAccesses: (q) => real.patientAccesses(q),
      close: async () => undefined,
    };
    const first = new Auditor({ dataDir: dir, store: down, logger: silent, retryBaseMs: 20, retryMaxMs: 50 });
    const e = event();
    await first.record(e);
    expect((await first.pending()).pending).to.equal(1);
    expect(await real.get(e.id)).to.equal(undefined);
    await first.close();

    const second = new Auditor({ dataDir: dir, store: real, logger: silent, retryBaseMs: 20 });
    try {
      expect(await second.flush(2000)).to.equal(true);
      expect(await real.get(e.id)).to.have.property('id', e.id);
      // A redelivery (the at-least-once window) does not duplicate it.
      await real.append(e);
      const log = await real.patientAccesses({ patientId: '01017012343', from: new Date(0), to: new Date(Date.now() + 1000), limit: 10 });
      expect(log.map((a) => a.id)).to.deep.equal([e.id]);
    } finally {
      await second.close();
      await real.close();
    }
  });

  it('a store that hangs does not hold up the response beyond storeTimeoutMs; the event stays queued', async () => {
    const hanging: AuditStore = {
      append: () => new Promise<void>(() => undefined),
      appendMany: () => new Promise<void>(() => undefined),
      get: async () => undefined,
      patientAccesses: async () => [],
      close: async () => undefined,
    };
    const auditor = new Auditor({ dataDir: dir, store: hanging, logger: silent, storeTimeoutMs: 50, retryBaseMs: 10_000, closeTimeoutMs: 100 });
    try {
      const started = Date.now();
      await auditor.record(event());
      expect(Date.now() - started).to.be.lessThan(1000);
      expect((await auditor.pending()).pending).to.equal(1);
    } finally {
      // close() waits only closeTimeoutMs for the hung delivery.
      const closing = Date.now();
      await auditor.close();
      expect(Date.now() - closing).to.be.lessThan(1000);
    }
  });
});

describe('audit queue: window, backoff, metrics and the undelivered warning', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kp-audit-queue-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hands a sink up to `window` events at once, in order, and removes each once its delivery resolves', async () => {
    const waiting: Array<{ id: string; resolve: () => void }> = [];
    let most = 0;
    const queue = new DurableAuditQueue({
      path: join(dir, 'q.sqlite'),
      window: 8,
      // A sink that confirms late (as the TLS sender does): deliveries pile up until released.
      sinks: [{ name: 'late', deliver: (e) => new Promise<void>((resolve) => void waiting.push({ id: e.id, resolve })) }],
      logger: silent,
    });
    try {
      const events = Array.from({ length: 20 }, () => event());
      await Promise.all(events.map((e) => queue.enqueue(e)));
      queue.kick();
      const delivered: string[] = [];
      while (delivered.length < 20) {
        await new Promise((r) => setTimeout(r, 20));
        most = Math.max(most, waiting.length);
        for (const w of waiting.splice(0)) {
          delivered.push(w.id);
          w.resolve();
        }
      }
      expect(most).to.equal(8);
      expect(delivered).to.deep.equal(events.map((e) => e.id));
      expect(await queue.drained(2000)).to.equal(true);
    } finally {
      await queue.close();
    }
  });

  it('after a failure, hands out nothing more, lets the rest settle, and retries every unconfirmed event with growing delays', async () => {
    const attempts: number[] = [];
    let failing = true;
    const got: string[] = [];
    const queue = new DurableAuditQueue({
      path: join(dir, 'q.sqlite'),
      retryBaseMs: 40,
      retryMaxMs: 1000,
      sinks: [
        {
          name: 'flaky',
          deliver: async (e) => {
            attempts.push(Date.now());
            await new Promise((r) => setTimeout(r, 5));
            if (failing) throw new Error('connection reset');
            got.push(e.id);
          },
        },
      ],
      logger: silent,
    });
    try {
      const events = Array.from({ length: 5 }, () => event());
      await Promise.all(events.map((e) => queue.enqueue(e)));
      queue.kick();
      await new Promise((r) => setTimeout(r, 900));
      // Attempts come in rounds (one per retry, all five events each time), further and further apart.
      const rounds: number[] = [];
      for (const t of attempts) if (rounds.length === 0 || t - rounds[rounds.length - 1]! > 20) rounds.push(t);
      expect(rounds.length).to.be.within(3, 7);
      const gaps = rounds.slice(1).map((t, i) => t - rounds[i]!);
      // Each wait is at least the doubled delay (40, 80, 160 … ms; timers may fire a millisecond early), so they grow.
      for (let i = 0; i < gaps.length; i++) expect(gaps[i]!, `gap ${i}: ${gaps.join(', ')}`).to.be.at.least(40 * 2 ** i - 2);
      for (let i = 1; i < gaps.length; i++) expect(gaps[i]!, `gap ${i}: ${gaps.join(', ')}`).to.be.greaterThan(gaps[i - 1]!);
      expect(attempts.length).to.equal(rounds.length * 5);
      failing = false;
      expect(await queue.drained(3000)).to.equal(true);
      expect(got).to.deep.equal(events.map((e) => e.id));
    } finally {
      await queue.close();
    }
  });

  it('reports depth and the age of the oldest undelivered event, and warns once it passes the threshold', async () => {
    const warnings: Array<{ message: string; meta?: Record<string, unknown> }> = [];
    const infos: string[] = [];
    let up = false;
    const queue = new DurableAuditQueue({
      path: join(dir, 'q.sqlite'),
      retryBaseMs: 20,
      retryMaxMs: 50,
      warnAfterMs: 200,
      sinks: [
        {
          name: 'arr',
          deliver: async () => {
            if (!up) throw new Error('repository down');
          },
        },
      ],
      logger: { warn: (message, meta) => void warnings.push({ message, meta }), error: () => undefined, info: (m) => void infos.push(m) },
    });
    try {
      expect(queue.metrics()).to.deep.include({ depth: 0, oldestUndeliveredAgeMs: null });
      const old = auditEvents.iti18({ ...baseInput({ at: new Date(Date.now() - 10_000) }), query: { storedQueryId: 'urn:uuid:x', text: '<q/>' } });
      // One group commit: the watch (every 50 ms here) sees both or neither.
      await Promise.all([queue.enqueue(old), queue.enqueue(event())]);
      queue.kick();
      const m = queue.metrics();
      expect(m.depth).to.equal(2);
      expect(m.oldestUndeliveredAgeMs).to.be.within(10_000, 12_000);
      expect(m.sinks).to.have.length(1);
      expect(m.sinks[0]).to.deep.include({ sink: 'arr', depth: 2, dead: 0 });
      expect(queue.depth()).to.equal(2);
      expect(auditQueueMetrics().some((q) => q.path === join(dir, 'q.sqlite') && q.depth === 2)).to.equal(true);
      const undelivered = () => warnings.filter((w) => w.message.startsWith('AUDIT EVENTS UNDELIVERED'));
      await new Promise((r) => setTimeout(r, 150));
      expect(undelivered()).to.have.length(1);
      expect(undelivered()[0]!.meta).to.deep.include({ sink: 'arr', depth: 2, warnAfterMs: 200 });
      // Repeated every warnAfterMs while the backlog stays.
      await new Promise((r) => setTimeout(r, 250));
      expect(undelivered()).to.have.length(2);
      up = true;
      expect(await queue.drained(3000)).to.equal(true);
      await new Promise((r) => setTimeout(r, 150));
      expect(queue.oldestUndeliveredAgeMs()).to.equal(null);
      expect(infos.some((m) => m.startsWith('audit sink caught up'))).to.equal(true);
    } finally {
      await queue.close();
    }
    expect(auditQueueMetrics().some((q) => q.path === join(dir, 'q.sqlite'))).to.equal(false);
  });
});
