/**
 * Group commit of the audit trail: concurrent `record` calls share one store transaction (or, when
 * the store does not take them, one queue transaction), each still resolves only once its event is
 * on disk, and a failed commit rejects every caller of the group (none of them may believe its
 * event was recorded).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { Auditor, QUEUE_FILE, STORE_SINK } from '../../connector/audit/auditor.js';
import { auditEvents, type AuditEvent } from '../../connector/audit/event.js';
import { DurableAuditQueue } from '../../connector/audit/queue.js';
import type { AuditStore } from '../../connector/audit/store.js';
import { openEmbeddedAuditStore } from '../../connector/audit/store-embedded.js';
import { baseInput } from './fixtures.js';

const silent = { warn: () => undefined, error: () => undefined };

function event(text = '<AdhocQueryRequest/>'): AuditEvent {
  return auditEvents.iti18({ ...baseInput(), query: { storedQueryId: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d', text } });
}

/** The real store, refusing appends while `failing()` says so (a store outage that ends). */
function flakyStore(real: AuditStore, failing: () => boolean): AuditStore {
  return {
    append: async (e) => {
      if (failing()) throw new Error('audit store unavailable');
      await real.append(e);
    },
    appendMany: async (events) => {
      if (failing()) throw new Error('audit store unavailable');
      await real.appendMany(events);
    },
    get: (id) => real.get(id),
    patientAccesses: (q) => real.patientAccesses(q),
    close: async () => undefined,
  };
}

/** An audit store that is down: every event stays in the queue file. */
function downStore(real: AuditStore): AuditStore {
  return {
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
}

describe('audit queue: group commit', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kp-audit-group-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('concurrent records are all persisted in the queue and survive a reopen', async () => {
    const real = openEmbeddedAuditStore({ path: join(dir, 'audit.sqlite') });
    const first = new Auditor({ dataDir: dir, store: downStore(real), logger: silent, retryBaseMs: 60_000 });
    const events = Array.from({ length: 40 }, () => event());
    await Promise.all(events.map((e) => first.record(e)));
    expect(await first.pending()).to.deep.equal({ pending: 40, dead: 0 });
    await first.close();

    const second = new Auditor({ dataDir: dir, store: real, logger: silent, retryBaseMs: 20 });
    try {
      expect(await second.flush(3000)).to.equal(true);
      for (const e of events) expect(await real.get(e.id), e.id).to.have.property('id', e.id);
      const log = await real.patientAccesses({ patientId: '01017012343', from: new Date(0), to: new Date(Date.now() + 1000), limit: 100 });
      expect(log).to.have.length(40);
    } finally {
      await second.close();
      await real.close();
    }
  });

  it('concurrent records reach the audit store before they resolve; the queue stays empty', async () => {
    const store = openEmbeddedAuditStore({ path: join(dir, 'audit.sqlite') });
    const auditor = new Auditor({ dataDir: dir, store, logger: silent });
    try {
      const events = Array.from({ length: 25 }, () => event());
      await Promise.all(
        events.map(async (e) => {
          await auditor.record(e);
          expect(await store.get(e.id)).to.have.property('id', e.id);
        }),
      );
      expect(await auditor.pending()).to.deep.equal({ pending: 0, dead: 0 });
    } finally {
      await auditor.close();
      await store.close();
    }
  });

  it('each group reaches the audit store in one appendMany, and no event is appended alone', async () => {
    const store = openEmbeddedAuditStore({ path: join(dir, 'audit.sqlite') });
    const groups: string[][] = [];
    let singles = 0;
    const counting: AuditStore = {
      append: async (e) => {
        singles++;
        await store.append(e);
      },
      appendMany: async (events) => {
        groups.push(events.map((e) => e.id));
        await store.appendMany(events);
      },
      get: (id) => store.get(id),
      patientAccesses: (q) => store.patientAccesses(q),
      close: async () => undefined,
    };
    const auditor = new Auditor({ dataDir: dir, store: counting, logger: silent });
    try {
      const first = Array.from({ length: 25 }, () => event());
      await Promise.all(first.map((e) => auditor.record(e)));
      const second = Array.from({ length: 3 }, () => event());
      await Promise.all(second.map((e) => auditor.record(e)));
      expect(groups).to.deep.equal([first.map((e) => e.id), second.map((e) => e.id)]);
      expect(singles).to.equal(0);
      for (const e of [...first, ...second]) expect(await store.get(e.id)).to.have.property('id', e.id);
      expect(await auditor.pending()).to.deep.equal({ pending: 0, dead: 0 });
    } finally {
      await auditor.close();
      await store.close();
    }
  });

  it('a failing appendMany leaves its whole group in the queue, which redelivers every event once the store is back', async () => {
    const store = openEmbeddedAuditStore({ path: join(dir, 'audit.sqlite') });
    let failing = true;
    const flaky = flakyStore(store, () => failing);
    const auditor = new Auditor({ dataDir: dir, store: flaky, logger: silent, retryBaseMs: 20, retryMaxMs: 40 });
    try {
      const group = Array.from({ length: 10 }, () => event());
      // Each record still resolves: its event is durable in the queue, which is the caller's guarantee.
      await Promise.all(group.map((e) => auditor.record(e)));
      expect(await auditor.pending()).to.deep.equal({ pending: 10, dead: 0 });
      for (const e of group) expect(await store.get(e.id)).to.equal(undefined);
      failing = false;
      expect(await auditor.flush(3000)).to.equal(true);
      const log = await store.patientAccesses({ patientId: '01017012343', from: new Date(0), to: new Date(Date.now() + 1000), limit: 100 });
      expect(log.map((a) => a.id).sort()).to.deep.equal(group.map((e) => e.id).sort());
    } finally {
      await auditor.close();
      await store.close();
    }
  });

  it('a failing commit rejects every waiter of its group and writes none of them; the next group commits', async () => {
    const store = openEmbeddedAuditStore({ path: join(dir, 'audit.sqlite') });
    // The store is down for the first group, so that group goes to the queue, whose commit fails.
    let failing = true;
    const flaky = flakyStore(store, () => failing);
    const auditor = new Auditor({ dataDir: dir, store: flaky, logger: silent, retryBaseMs: 60_000 });
    // A second connection makes SQLite itself abort the insert of one event mid-transaction.
    const saboteur = new Database(join(dir, QUEUE_FILE));
    try {
      saboteur.exec(`CREATE TRIGGER poison BEFORE INSERT ON queue WHEN NEW.event LIKE '%POISON%'
                     BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END;`);
      const group = [event(), event(), event('<POISON/>'), event(), event()];
      const settled = await Promise.allSettled(group.map((e) => auditor.record(e)));
      expect(settled.map((s) => s.status)).to.deep.equal(Array(5).fill('rejected'));
      for (const s of settled) expect((s as PromiseRejectedResult).reason).to.have.property('message', 'disk full (simulated)');
      // All or none: the events before the poisoned one were rolled back too, and none reached the store.
      expect(await auditor.pending()).to.deep.equal({ pending: 0, dead: 0 });
      for (const e of group) expect(await store.get(e.id)).to.equal(undefined);

      failing = false;
      const later = [event(), event()];
      await Promise.all(later.map((e) => auditor.record(e)));
      for (const e of later) expect(await store.get(e.id)).to.have.property('id', e.id);
    } finally {
      saboteur.close();
      await auditor.close();
      await store.close();
    }
  });

  it('with the audit store up, events go to the store alone: the queue is not written at all', async () => {
    const store = openEmbeddedAuditStore({ path: join(dir, 'audit.sqlite') });
    const auditor = new Auditor({ dataDir: dir, store, logger: silent });
    // Any insert into the queue would fail, and with it the record that caused it.
    const saboteur = new Database(join(dir, QUEUE_FILE));
    try {
      saboteur.exec(`CREATE TRIGGER refuse BEFORE INSERT ON queue BEGIN SELECT RAISE(ABORT, 'queue written'); END;`);
      const events = Array.from({ length: 20 }, () => event());
      await Promise.all(events.map((e) => auditor.record(e)));
      for (const e of events) expect(await store.get(e.id), e.id).to.have.property('id', e.id);
      expect(await auditor.pending()).to.deep.equal({ pending: 0, dead: 0 });
    } finally {
      saboteur.close();
      await auditor.close();
      await store.close();
    }
  });

  it('a group that arrives while one is being stored waits for it and goes out as one appendMany', async () => {
    const store = openEmbeddedAuditStore({ path: join(dir, 'audit.sqlite') });
    const groups: number[] = [];
    let out = 0;
    let most = 0;
    let firstOut: () => void = () => undefined;
    const firstGroupOut = new Promise<void>((resolve) => (firstOut = resolve));
    const counting: AuditStore = {
      append: (e) => store.append(e),
      appendMany: async (events) => {
        groups.push(events.length);
        most = Math.max(most, ++out);
        firstOut();
        try {
          await new Promise((r) => setTimeout(r, 30));
          await store.appendMany(events);
        } finally {
          out--;
        }
      },
      get: (id) => store.get(id),
      patientAccesses: (q) => store.patientAccesses(q),
      close: async () => undefined,
    };
    const auditor = new Auditor({ dataDir: dir, store: counting, logger: silent });
    try {
      const first = auditor.record(event());
      // Not a fixed wait: on a loaded machine the first group may take longer than any to go out.
      await firstGroupOut;
      // Three turns of the event loop while the first group is out: they form one group after it.
      const rest: Promise<void>[] = [];
      for (let i = 0; i < 3; i++) {
        rest.push(auditor.record(event()), auditor.record(event()));
        await new Promise((r) => setImmediate(r));
      }
      await Promise.all([first, ...rest]);
      expect(groups).to.deep.equal([1, 6]);
      expect(most).to.equal(1);
    } finally {
      await auditor.close();
      await store.close();
    }
  });

  it('with syslog, the repository copy is queued first: when that commit fails, the event is not stored either', async () => {
    const store = openEmbeddedAuditStore({ path: join(dir, 'audit.sqlite') });
    const sent: Buffer[] = [];
    const syslog = { send: async (m: Buffer) => void sent.push(m), close: async () => undefined };
    const auditor = new Auditor({ dataDir: dir, store, syslog, logger: silent });
    const saboteur = new Database(join(dir, QUEUE_FILE));
    try {
      saboteur.exec(`CREATE TRIGGER poison BEFORE INSERT ON queue WHEN NEW.event LIKE '%POISON%'
                     BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END;`);
      const poisoned = event('<POISON/>');
      const fine = event();
      const [bad, good] = await Promise.allSettled([auditor.record(poisoned), auditor.record(fine)]);
      expect(bad).to.have.property('status', 'rejected');
      expect(good).to.have.property('status', 'rejected');
      expect(await store.get(poisoned.id)).to.equal(undefined);
      expect(await store.get(fine.id)).to.equal(undefined);

      const later = event();
      await auditor.record(later);
      expect(await store.get(later.id)).to.have.property('id', later.id);
      expect(await auditor.flush(2000)).to.equal(true);
      expect(sent).to.have.length(1);
      expect(sent[0]!.toString('utf8')).to.contain(later.recorded);
    } finally {
      saboteur.close();
      await auditor.close();
      await store.close();
    }
  });

  it('close() still stores the group waiting for its turn', async () => {
    const store = openEmbeddedAuditStore({ path: join(dir, 'audit.sqlite') });
    const auditor = new Auditor({ dataDir: dir, store, logger: silent });
    const events = [event(), event()];
    const recorded = Promise.all(events.map((e) => auditor.record(e)));
    await auditor.close();
    await recorded;
    for (const e of events) expect(await store.get(e.id)).to.have.property('id', e.id);
    await store.close();
  });

  it('a row acked but not yet deleted is not delivered again by the sink pump', async () => {
    const delivered: string[] = [];
    const queue = new DurableAuditQueue({
      path: join(dir, QUEUE_FILE),
      sinks: [{ name: STORE_SINK, deliver: async (e) => void delivered.push(e.id) }],
      logger: silent,
      ackDelayMs: 60_000,
    });
    try {
      const acked = event();
      const other = event();
      const [rowsAcked] = await Promise.all([queue.enqueue(acked), queue.enqueue(other)]);
      queue.ack(rowsAcked.get(STORE_SINK)!);
      queue.kick(STORE_SINK);
      expect(await queue.drained(2000)).to.equal(true);
      expect(delivered).to.deep.equal([other.id]);
    } finally {
      await queue.close();
    }
  });
});
