/**
 * Nothing lost when the Audit Record Repository dies: a real TLS syslog listener that freezes
 * under load (stops reading; what it was sent sits unread in buffers) and is then killed (every
 * connection destroyed) and, after a while, started again on the same port. Every event recorded
 * before, during and after reaches a repository; an event sent twice is the same message with
 * the same event id. (Measured before this design: 292 of 293 events lost in this scenario.)
 *
 * Run twice: through the Auditor as the node wires it, events told apart by their query text;
 * and with the queue and `auditSyslogMessage`, events told apart by the id in the message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Auditor } from '../../connector/audit/auditor.js';
import { auditEvents, type AuditEvent } from '../../connector/audit/event.js';
import { DurableAuditQueue } from '../../connector/audit/queue.js';
import { openEmbeddedAuditStore } from '../../connector/audit/store-embedded.js';
import { auditSyslogMessage, TlsSyslogSender } from '../../connector/audit/syslog.js';
import { baseInput } from './fixtures.js';
import { eventIdOf, startTlsReceiver, TEST_CA, xmlOf, type ReceivedFrame, type TlsReceiver } from './receiver.js';

const silent = { warn: () => undefined, error: () => undefined };

/** Short timers, so that the test takes seconds: the design is the same with the defaults. */
function sender(port: number): TlsSyslogSender {
  return new TlsSyslogSender({
    host: '127.0.0.1',
    port,
    ca: TEST_CA,
    servername: 'localhost',
    maxInFlight: 50,
    confirmIdleMs: 50,
    confirmMaxMs: 200,
    closeTimeoutMs: 300,
    writeTimeoutMs: 300,
    connectTimeoutMs: 300,
  });
}

function event(n: number): AuditEvent {
  return auditEvents.iti18({ ...baseInput(), query: { storedQueryId: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d', text: `<q n="${n}"/>` } });
}

/** The event number of a received message, read from its query text (in the DICOM XML, base64). */
function numberOf(frame: ReceivedFrame): number {
  const b64 = /<ParticipantObjectQuery>([^<]+)<\/ParticipantObjectQuery>/.exec(xmlOf(frame.message))?.[1];
  const n = b64 !== undefined ? /n="(\d+)"/.exec(Buffer.from(b64, 'base64').toString('utf8'))?.[1] : undefined;
  if (n === undefined) throw new Error('a received message is not one of the test events');
  return Number(n);
}

const TOTAL = 600;

/**
 * Records TOTAL events, 10 every 50 ms; freezes the repository after 150, kills it after 300,
 * starts a new one on the same port after 400. Returns both repositories and the number of events
 * recorded before the kill.
 */
async function underLoad(record: (n: number) => Promise<void>, first: TlsReceiver): Promise<{ second: TlsReceiver }> {
  let second: TlsReceiver | undefined;
  const recording: Promise<void>[] = [];
  for (let n = 0; n < TOTAL; n++) {
    recording.push(record(n));
    if (n % 10 !== 9) continue;
    await new Promise((r) => setTimeout(r, 50));
    if (n === 149) first.freeze();
    if (n === 299) await first.close();
    if (n === 399) second = await startTlsReceiver(first.port);
  }
  // Every record resolved: each event is durable in the queue (and the store).
  await Promise.all(recording);
  return { second: second! };
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('audit delivery: an ARR frozen under load, then killed, then back', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kp-audit-delivery-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('through the Auditor: every event reaches a repository; a duplicate is the same event', async () => {
    const first = await startTlsReceiver();
    const store = openEmbeddedAuditStore({ path: join(dir, 'audit.sqlite') });
    const auditor = new Auditor({ dataDir: dir, store, syslog: sender(first.port), logger: silent, retryBaseMs: 50, retryMaxMs: 400 });
    let second: TlsReceiver | undefined;
    try {
      ({ second } = await underLoad((n) => auditor.record(event(n)), first));
      // Drained: every row of the syslog sink confirmed by a clean close.
      expect(await auditor.flush(20_000)).to.equal(true);
      const got = new Map<number, Buffer[]>();
      for (const f of [...first.frames, ...second.frames]) got.set(numberOf(f), [...(got.get(numberOf(f)) ?? []), f.message]);
      const missing = Array.from({ length: TOTAL }, (_, n) => n).filter((n) => !got.has(n));
      expect(missing, 'events never delivered').to.deep.equal([]);
      // The freeze did swallow events: sent into the frozen repository, they reached only the new one.
      const swallowed = Array.from({ length: 300 }, (_, n) => n).filter((n) => !first.frames.some((f) => numberOf(f) === n));
      expect(swallowed.length, 'events recorded before the kill that the first repository never read').to.be.greaterThan(0);
      // A duplicate is the same event: the same XML. Messages built by auditSyslogMessage (they carry
      // the event id) are the same byte for byte, the header's time being the event's.
      for (const copies of got.values()) {
        for (const c of copies) {
          expect(xmlOf(c)).to.equal(xmlOf(copies[0]!));
          if (eventIdOf(c) !== undefined) expect(c.equals(copies[0]!)).to.equal(true);
        }
      }
      expect(await auditor.pending()).to.deep.equal({ pending: 0, dead: 0 });
    } finally {
      await auditor.close();
      await store.close();
      await first.close();
      await second?.close();
    }
  });

  it('with the event id in the message: every id arrives, duplicates carry the same id', async () => {
    const first = await startTlsReceiver();
    const tls = sender(first.port);
    const queue = new DurableAuditQueue({
      path: join(dir, 'audit-queue.sqlite'),
      // What the Auditor's syslog sink sends once it builds its messages with auditSyslogMessage.
      sinks: [{ name: 'syslog', deliver: (e) => tls.send(auditSyslogMessage(e)) }],
      logger: silent,
      retryBaseMs: 50,
      retryMaxMs: 400,
    });
    const events = Array.from({ length: TOTAL }, (_, n) => event(n));
    let second: TlsReceiver | undefined;
    try {
      ({ second } = await underLoad(async (n) => {
        await queue.enqueue(events[n]!);
        queue.kick();
      }, first));
      expect(await queue.drained(20_000)).to.equal(true);
      await waitUntil(() => second!.frames.length > 0, 2000, 'frames at the second repository');
      const byId = new Map<string, Buffer[]>();
      for (const f of [...first.frames, ...second.frames]) {
        const id = eventIdOf(f.message);
        expect(id, 'every message carries its event id').to.be.a('string');
        byId.set(id!, [...(byId.get(id!) ?? []), f.message]);
      }
      expect(events.filter((e) => !byId.has(e.id)).map((e) => e.id), 'event ids never delivered').to.deep.equal([]);
      expect(byId.size).to.equal(TOTAL);
      for (const [id, copies] of byId) {
        for (const c of copies) {
          expect(eventIdOf(c)).to.equal(id);
          expect(c.equals(copies[0]!), 'a duplicate is the same message').to.equal(true);
        }
      }
      // The header's TIMESTAMP is the event's time, however late the message was sent.
      const last = events[TOTAL - 1]!;
      expect(byId.get(last.id)![0]!.toString('utf8')).to.match(new RegExp(`^<85>1 ${last.recorded.replace(/\./g, '\\.')} `));
      expect(queue.metrics()).to.deep.include({ depth: 0, oldestUndeliveredAgeMs: null });
    } finally {
      await queue.close();
      await tls.close();
      await first.close();
      await second?.close();
    }
  });
});
