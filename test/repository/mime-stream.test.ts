/**
 * The streaming MTOM reader on its own: parts split at every possible chunk boundary, base64 parts,
 * a preamble, and broken bodies answered with Sender faults, with every spooled part released.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { SoapFault } from '../../connector/soap/fault.js';
import { parseMediaType } from '../../connector/soap/media-type.js';
import { readMultipartStream, type PartSpooler } from '../../connector/soap/mime-stream.js';
import type { SpooledAttachment } from '../../connector/soap/mime.js';
import { answerEnvelope } from '../helpers/soap.js';

function fakeRequest(body: Buffer, chunkSize: number): IncomingMessage {
  const chunks: Buffer[] = [];
  for (let i = 0; i < body.length; i += chunkSize) chunks.push(body.subarray(i, i + chunkSize));
  const r = Readable.from(chunks, { objectMode: false }) as unknown as IncomingMessage & { complete: boolean };
  Object.assign(r, { headers: {}, complete: false });
  r.on('end', () => (r.complete = true));
  return r;
}

function memorySpooler(): PartSpooler & { released: number; live: number } {
  const s = {
    released: 0,
    live: 0,
    async spool({ contentType, bytes }: { contentType: string; bytes: Readable }): Promise<SpooledAttachment> {
      const parts: Buffer[] = [];
      for await (const c of bytes) parts.push(c as Buffer);
      const data = Buffer.concat(parts);
      s.live++;
      return {
        contentType,
        size: data.length,
        spooled: data,
        stream: () => Readable.from([data]),
        release: async () => {
          s.released++;
          s.live--;
        },
      };
    },
  };
  return s;
}

const B = 'MIMEBoundary_0123';
const TYPE = parseMediaType(`multipart/related; boundary=${B}; type="application/xop+xml"; start="<root@x>"`);
const ENV = answerEnvelope('');

function body(parts: { id: string; bytes: Buffer; headers?: string }[], preamble = ''): Buffer {
  const out: Buffer[] = [Buffer.from(`${preamble}--${B}\r\nContent-Type: application/xop+xml; type="application/soap+xml"\r\nContent-ID: <root@x>\r\n\r\n${ENV}`)];
  for (const p of parts) {
    out.push(Buffer.from(`\r\n--${B}\r\nContent-ID: <${p.id}>\r\n${p.headers ?? ''}Content-Type: application/pdf\r\n\r\n`), p.bytes);
  }
  out.push(Buffer.from(`\r\n--${B}--\r\nepilogue`));
  return Buffer.concat(out);
}

const limits = { maxBytes: 10 * 1024 * 1024, idleTimeoutMs: 2000, maxParts: 10, maxRootBytes: 64 * 1024 };

describe('streaming multipart/related reader', () => {
  // Bytes that look like the start of a delimiter inside the document must not split it.
  const doc = Buffer.concat([randomBytes(3000), Buffer.from(`\r\n--${B.slice(0, 8)}`), randomBytes(500), Buffer.from('\r\n-')]);

  for (const chunkSize of [1, 7, 64, 65536]) {
    it(`splits envelope and parts exactly with ${chunkSize}-byte chunks`, async () => {
      const spooler = memorySpooler();
      const msg = await readMultipartStream(fakeRequest(body([{ id: 'a@x', bytes: doc }, { id: 'b@x', bytes: Buffer.alloc(0) }], 'preamble text\r\n'), chunkSize), TYPE, spooler, limits);
      expect(msg.envelope.toString()).to.equal(ENV);
      expect(((msg.attachments.get('a@x') as SpooledAttachment).spooled as Buffer).equals(doc)).to.equal(true);
      expect((msg.attachments.get('b@x') as SpooledAttachment).size).to.equal(0);
    });
  }

  it('decodes base64 parts whose groups straddle chunks', async () => {
    const spooler = memorySpooler();
    const encoded = Buffer.from(doc.toString('base64').replace(/(.{76})/g, '$1\r\n'));
    const msg = await readMultipartStream(fakeRequest(body([{ id: 'a@x', bytes: encoded, headers: 'Content-Transfer-Encoding: base64\r\n' }]), 5), TYPE, spooler, limits);
    expect(((msg.attachments.get('a@x') as SpooledAttachment).spooled as Buffer).equals(doc)).to.equal(true);
  });

  const broken: [string, Buffer, RegExp][] = [
    ['a body without its closing boundary', body([{ id: 'a@x', bytes: doc }]).subarray(0, 2000), /truncated/],
    ['a missing root part', Buffer.from(`--${B}\r\nContent-ID: <a@x>\r\n\r\nxyz\r\n--${B}--\r\n`), /root part/],
    ['a duplicate Content-ID', body([{ id: 'a@x', bytes: doc }, { id: 'a@x', bytes: doc }]), /duplicate Content-ID/],
  ];
  for (const [what, bytes, reason] of broken) {
    it(`answers ${what} with a Sender fault and releases what was spooled`, async () => {
      const spooler = memorySpooler();
      const err = await readMultipartStream(fakeRequest(bytes, 100), TYPE, spooler, limits).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(SoapFault);
      expect((err as SoapFault).code).to.equal('Sender');
      expect((err as SoapFault).reason).to.match(reason);
      expect(spooler.live).to.equal(0);
    });
  }

  it('refuses more parts than allowed', async () => {
    const parts = Array.from({ length: 12 }, (_, i) => ({ id: `p${i}@x`, bytes: Buffer.from('x') }));
    const err = await readMultipartStream(fakeRequest(body(parts), 1000), TYPE, memorySpooler(), limits).catch((e: unknown) => e);
    expect((err as SoapFault).reason).to.match(/more than 10 parts/);
  });
});
