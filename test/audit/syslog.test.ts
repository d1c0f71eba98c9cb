/**
 * Syslog transport against real listeners: RFC 5424 header fields (the event's own time, its id
 * as structured data), RFC 5425 octet counting in bytes (checked on the raw TLS byte stream with
 * a non-ASCII user name), UDP datagrams, the DICOM XML inside validating against the schema, and
 * when a TLS send counts as delivered: only after a clean close of its connection, never merely
 * because the kernel took the bytes.
 */
import { expect } from 'chai';
import { toDicomXml } from '../../connector/audit/dicom.js';
import { auditEvents } from '../../connector/audit/event.js';
import {
  auditSyslogMessage,
  formatSyslogMessage,
  octetCountedFrame,
  TlsSyslogSender,
  UdpSyslogSender,
  MAX_UDP_MESSAGE,
  MessageTooLargeError,
} from '../../connector/audit/syslog.js';
import { baseInput, dicomSchemaErrors } from './fixtures.js';
import { eventIdOf, startTlsReceiver, startUdpReceiver, TEST_CA, xmlOf } from './receiver.js';

const HEADER = /^<85>1 (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) (\S+) koblingspunkt (\d+) IHE\+RFC-3881 (-|\[[^\]]*\]) /;

/** The promise's outcome after `ms`: 'pending' when it has not settled by then. */
async function stateAfter(p: Promise<unknown>, ms: number): Promise<'resolved' | 'pending' | Error> {
  return Promise.race([
    p.then(
      () => 'resolved' as const,
      (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
    ),
    new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms)),
  ]);
}

function auditXml(): string {
  return toDicomXml(auditEvents.iti43({ ...baseInput(), documents: [{ uniqueId: '2.16.578.1.12.4.5.100.1.7.1', repositoryUniqueId: '2.16.578.1.12.4.5.100.1.2' }] }));
}

describe('audit syslog (RFC 5424 / 5425 / 5426)', () => {
  it('counts octets, not characters: "Ærlig Øvergård" is 14 characters and 17 bytes', () => {
    const name = 'Ærlig Øvergård';
    expect(name.length).to.equal(14);
    const message = formatSyslogMessage(name, { hostname: 'node1', procId: '42', timestamp: new Date('2026-01-02T03:04:05.678Z') });
    const header = '<85>1 2026-01-02T03:04:05.678Z node1 koblingspunkt 42 IHE+RFC-3881 - ';
    expect(message.length).to.equal(header.length + 17);
    expect(octetCountedFrame(message).toString('utf8')).to.equal(`${header.length + 17} ${header}${name}`);
    // The BOM (when asked for) is counted too.
    expect(formatSyslogMessage(name, { hostname: 'node1', procId: '42', bom: true }).length).to.equal(header.length + 3 + 17);
    // Header fields are printable ASCII without spaces, whatever the host is called.
    expect(formatSyslogMessage('x', { hostname: 'sykehus øst 1' }).toString('utf8')).to.match(/^<85>1 \S+ sykehusst1 koblingspunkt /);
  });

  it('sends octet-counted frames over TLS that a real listener reads back byte-exactly, with schema-valid XML', async () => {
    const receiver = await startTlsReceiver();
    const sender = new TlsSyslogSender({ host: '127.0.0.1', port: receiver.port, ca: TEST_CA, servername: 'localhost' });
    try {
      const xml = auditXml();
      expect(xml).to.contain('Ærlig Øvergård');
      const sent = [formatSyslogMessage(xml), formatSyslogMessage(xml.replace('Ærlig Øvergård', 'Åse Ødegård-Ærø')), formatSyslogMessage('<AuditMessage/>')];
      await Promise.all(sent.map((m) => sender.send(m)));
      await receiver.waitFor(3);
      // The whole byte stream is exactly the three frames, nothing more or less.
      expect(receiver.raw().equals(Buffer.concat(sent.map(octetCountedFrame)))).to.equal(true);
      for (const [i, frame] of receiver.frames.entries()) {
        expect(frame.declaredLength).to.equal(sent[i]!.length);
        expect(frame.message.equals(sent[i]!)).to.equal(true);
      }
      const text = receiver.frames[0]!.message.toString('utf8');
      const header = HEADER.exec(text);
      expect(header, text.slice(0, 120)).to.not.equal(null);
      expect(header![3]).to.equal(String(process.pid));
      const received = text.slice(header![0].length);
      expect(received).to.equal(xml);
      expect(await dicomSchemaErrors([received, receiver.frames[1]!.message.toString('utf8').replace(HEADER, '')])).to.deep.equal([]);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  it('reconnects after the repository restarts, and refuses to send while it is down', async () => {
    const first = await startTlsReceiver();
    const port = first.port;
    const sender = new TlsSyslogSender({ host: '127.0.0.1', port, ca: TEST_CA, servername: 'localhost', connectTimeoutMs: 1000 });
    try {
      await sender.send(formatSyslogMessage('one'));
      await first.waitFor(1);
      await first.close();
      let refused: unknown;
      // The first write after the peer went away may still be accepted by the kernel; keep sending until the sender notices.
      for (let i = 0; i < 20 && refused === undefined; i++) {
        try {
          await sender.send(formatSyslogMessage('lost-while-down'));
          await new Promise((r) => setTimeout(r, 20));
        } catch (e) {
          refused = e;
        }
      }
      expect(refused).to.be.instanceOf(Error);
      const second = await startTlsReceiver(port);
      try {
        await sender.send(formatSyslogMessage('two'));
        await second.waitFor(1);
        expect(second.frames[0]!.message.toString('utf8')).to.match(/ - two$/);
      } finally {
        await second.close();
      }
    } finally {
      await sender.close();
    }
  });

  it('with an in-flight bound of 2, fifty concurrent sends all arrive, in order', async () => {
    const receiver = await startTlsReceiver();
    const sender = new TlsSyslogSender({ host: '127.0.0.1', port: receiver.port, ca: TEST_CA, servername: 'localhost', maxInFlight: 2 });
    try {
      const messages = Array.from({ length: 50 }, (_, i) => formatSyslogMessage(`message ${i} Ærlig Øvergård`));
      await Promise.all(messages.map((m) => sender.send(m)));
      await receiver.waitFor(50);
      expect(receiver.frames.map((f) => f.message.toString('utf8').replace(/^.* - /, ''))).to.deep.equal(messages.map((_, i) => `message ${i} Ærlig Øvergård`));
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  it('refuses a repository certificate that is not signed by the configured CA', async () => {
    const receiver = await startTlsReceiver();
    const sender = new TlsSyslogSender({ host: '127.0.0.1', port: receiver.port, servername: 'localhost' });
    try {
      let error: unknown;
      try {
        await sender.send(formatSyslogMessage('x'));
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(Error);
      expect(receiver.frames).to.have.length(0);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  it('sends one RFC 5426 datagram per message over UDP, without octet counting', async () => {
    const receiver = await startUdpReceiver();
    const sender = new UdpSyslogSender({ host: '127.0.0.1', port: receiver.port });
    try {
      const xml = auditXml();
      const message = formatSyslogMessage(xml);
      await sender.send(message);
      await receiver.waitFor(1);
      expect(receiver.datagrams[0]!.equals(message)).to.equal(true);
      expect(await dicomSchemaErrors([receiver.datagrams[0]!.toString('utf8').replace(HEADER, '')])).to.deep.equal([]);
      let tooLarge: unknown;
      try {
        await sender.send(Buffer.alloc(MAX_UDP_MESSAGE + 1, 0x41));
      } catch (e) {
        tooLarge = e;
      }
      expect(tooLarge).to.be.instanceOf(MessageTooLargeError);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });
  it("carries the event's own time as TIMESTAMP and its id as structured data", () => {
    const event = auditEvents.iti43({ ...baseInput({ at: new Date('2026-03-04T05:06:07.089Z') }), documents: [{ uniqueId: '2.16.578.1.12.4.5.100.1.7.1' }] });
    const message = auditSyslogMessage(event, { hostname: 'node1', procId: '42' });
    const text = message.toString('utf8');
    // Sent (long) after the event: the header still says when it happened.
    expect(text.startsWith(`<85>1 2026-03-04T05:06:07.089Z node1 koblingspunkt 42 IHE+RFC-3881 [koblingspunkt@32473 eventId="${event.id}"] <?xml`)).to.equal(true);
    expect(eventIdOf(message)).to.equal(event.id);
    expect(xmlOf(message)).to.equal(toDicomXml(event));
    // Characters RFC 5424 reserves in a PARAM-VALUE are escaped.
    expect(formatSyslogMessage('x', { eventId: 'a"b\\c]d' }).toString('utf8')).to.contain('eventId="a\\"b\\\\c\\]d"] x');
  });

  it('a send resolves only once a clean close confirmed it, not when the kernel took the bytes', async () => {
    const receiver = await startTlsReceiver();
    const sender = new TlsSyslogSender({ host: '127.0.0.1', port: receiver.port, ca: TEST_CA, servername: 'localhost', confirmIdleMs: 500 });
    try {
      const sent = sender.send(formatSyslogMessage('confirmed'));
      // Written at once, but not confirmed before the idle pause closed the connection and the repository answered.
      await receiver.waitFor(1);
      expect(await stateAfter(sent, 20)).to.equal('pending');
      expect(sender.stats().unconfirmed).to.equal(1);
      expect(await stateAfter(sent, 2000)).to.equal('resolved');
      expect(sender.stats()).to.deep.include({ unconfirmed: 0, confirmed: 1, confirmedConnections: 1, failedConnections: 0 });
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  it('a repository that stops reading confirms nothing: the send fails when it does not answer the close', async () => {
    const receiver = await startTlsReceiver();
    receiver.freeze();
    const sender = new TlsSyslogSender({ host: '127.0.0.1', port: receiver.port, ca: TEST_CA, servername: 'localhost', confirmIdleMs: 50, closeTimeoutMs: 300 });
    try {
      const started = Date.now();
      const outcome = await stateAfter(sender.send(formatSyslogMessage('into a frozen repository')), 3000);
      expect(outcome).to.be.instanceOf(Error);
      expect((outcome as Error).message).to.match(/did not answer the close/);
      expect(Date.now() - started).to.be.lessThan(2000);
      expect(receiver.frames).to.have.length(0);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  it('a hung repository trips the write timeout: writes that make no progress fail the connection', async () => {
    const receiver = await startTlsReceiver();
    receiver.freeze();
    // Confirmation timers far away: only the write timeout can end this.
    const sender = new TlsSyslogSender({
      host: '127.0.0.1',
      port: receiver.port,
      ca: TEST_CA,
      servername: 'localhost',
      writeTimeoutMs: 300,
      confirmIdleMs: 60_000,
      confirmMaxMs: 60_000,
      closeTimeoutMs: 60_000,
    });
    try {
      const big = Buffer.alloc(1024 * 1024, 0x41);
      // More than the kernels' buffers between the two applications hold: the writes stall.
      const sends = Array.from({ length: 40 }, () => stateAfter(sender.send(formatSyslogMessage(big.toString('latin1'))), 5000));
      const outcomes = await Promise.all(sends);
      for (const o of outcomes) {
        expect(o).to.be.instanceOf(Error);
        expect((o as Error).message).to.match(/no progress for 300 ms/);
      }
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  it('a repository that closes first (it may have read and then died) confirms nothing', async () => {
    const receiver = await startTlsReceiver();
    const sender = new TlsSyslogSender({ host: '127.0.0.1', port: receiver.port, ca: TEST_CA, servername: 'localhost', confirmIdleMs: 500 });
    try {
      const sent = sender.send(formatSyslogMessage('read, then the repository went away'));
      await receiver.waitFor(1);
      // The frame was read whole; the repository then closes (a FIN, no reset) before we asked.
      await receiver.close();
      const outcome = await stateAfter(sent, 2000);
      expect(outcome).to.be.instanceOf(Error);
      expect((outcome as Error).message).to.match(/closed the connection before|closed before/);
    } finally {
      await sender.close();
    }
  });

  it('under continuous traffic confirms by age and by count, on fresh connections, in order', async () => {
    const receiver = await startTlsReceiver();
    const sender = new TlsSyslogSender({ host: '127.0.0.1', port: receiver.port, ca: TEST_CA, servername: 'localhost', maxInFlight: 10, confirmMaxMs: 100, confirmIdleMs: 1000 });
    try {
      const sends: Promise<void>[] = [];
      for (let i = 0; i < 60; i++) {
        sends.push(sender.send(formatSyslogMessage(`m${i}`)));
        if (i % 5 === 4) await new Promise((r) => setTimeout(r, 10));
      }
      await Promise.all(sends);
      expect(receiver.frames.map((f) => f.message.toString('utf8').replace(/^.* - /, ''))).to.deep.equal(sends.map((_, i) => `m${i}`));
      // At most maxInFlight per connection: at least six connections, each confirmed by its close.
      expect(receiver.connections()).to.be.at.least(6);
      expect(sender.stats()).to.deep.include({ confirmed: 60, failedConnections: 0 });
    } finally {
      await sender.close();
      await receiver.close();
    }
  });
});
