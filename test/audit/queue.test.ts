/**
 * The durable queue: an event recorded while the Audit Record Repository is down survives a
 * restart of the node (close and reopen over the same data directory) and is delivered when the
 * repository comes up. Delivery is at-least-once; in this run, exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Auditor } from '../../connector/audit/auditor.js';
import { auditEvents, type AuditEvent } from '../../connector/audit/event.js';
import { openEmbeddedAuditStore } from '../../connector/audit/store-embedded.js';
import type { AuditStore } from '../../connector/audit/store.js';
import { TlsSyslogSender } from '../../connector/audit/syslog.js';
import { baseInput, dicomSchemaErrors } from './fixtures.js';
import { freePort, startTlsReceiver, TEST_CA } from './receiver.js';

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
      const xml = receiver.frames[0]!.message.toString('utf8').replace(/^.*? IHE\+RFC-3881 - /, '');
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
      const log = await real.patientAccesses({ patientId: '01017012345', from: new Date(0), to: new Date(Date.now() + 1000), limit: 10 });
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
