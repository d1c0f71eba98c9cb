/**
 * Syslog transport against real listeners: RFC 5424 header fields, RFC 5425 octet counting in
 * bytes (checked on the raw TLS byte stream with a non-ASCII user name), UDP datagrams, and the
 * DICOM XML inside validating against the schema.
 */
import { expect } from 'chai';
import { toDicomXml } from '../../connector/audit/dicom.js';
import { auditEvents } from '../../connector/audit/event.js';
import { formatSyslogMessage, octetCountedFrame, TlsSyslogSender, UdpSyslogSender, MAX_UDP_MESSAGE, MessageTooLargeError } from '../../connector/audit/syslog.js';
import { baseInput, dicomSchemaErrors } from './fixtures.js';
import { startTlsReceiver, startUdpReceiver, TEST_CA } from './receiver.js';

const HEADER = /^<85>1 (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) (\S+) koblingspunkt (\d+) IHE\+RFC-3881 - /;

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
});
