/**
 * sendSoap's bytes on the wire: status line, header lines in their order, and body, exactly what
 * setting the headers one by one with setHeader wrote (the reference below), for a plain SOAP
 * answer, one sent with Connection: close, and an MTOM package.
 */
import http, { type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { expect } from 'chai';
import { mtomPackage, sendSoap, soapContentType, type SendOptions } from '../../connector/soap/response.js';
import { ACTIONS } from '../helpers/soap.js';

/** What sendSoap wrote before it used writeHead (in-memory attachments only). */
function reference(res: ServerResponse, options: SendOptions): void {
  res.statusCode = options.status;
  if (options.close) res.setHeader('Connection', 'close');
  const attachments = options.attachments ?? new Map();
  const chunks = Array.isArray(options.envelopeXml) ? options.envelopeXml : [Buffer.from(options.envelopeXml as string, 'utf8')];
  if (!options.mtom && attachments.size === 0) {
    res.setHeader('Content-Type', soapContentType(options.action));
    res.setHeader('Content-Length', chunks.reduce((n: number, b: Buffer) => n + b.length, 0));
    res.cork();
    for (const b of chunks) res.write(b);
    res.end();
    return;
  }
  const pkg = mtomPackage(options.action, options.envelopeXml, attachments);
  res.setHeader('Content-Type', pkg.contentType);
  res.setHeader('Content-Length', pkg.length);
  for (const c of pkg.chunks) res.write(c as Buffer);
  res.end();
}

/** The raw response of one request to a server answering with `answer`, its Date header blanked out. */
async function raw(answer: (res: ServerResponse) => void | Promise<void>): Promise<string> {
  const server = http.createServer((_req, res) => void answer(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
      const parts: Buffer[] = [];
      socket.on('data', (d: Buffer) => parts.push(d));
      socket.on('end', () => resolve(Buffer.concat(parts).toString('latin1').replace(/\r\nDate: [^\r]*/, '\r\nDate: -')));
      socket.on('error', reject);
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('sendSoap on the wire', () => {
  const envelope = [Buffer.from('<?xml version="1.0"?><soap:Envelope>', 'utf8'), Buffer.from('æøå</soap:Envelope>', 'utf8')];
  const cases: Record<string, SendOptions> = {
    'a SOAP answer': { status: 200, action: ACTIONS.iti18.response, envelopeXml: envelope },
    'a fault on a connection that closes': { status: 500, action: 'http://www.w3.org/2005/08/addressing/soap/fault', envelopeXml: envelope, close: true },
    'an MTOM package': {
      status: 200,
      action: ACTIONS.iti43.response,
      envelopeXml: envelope,
      mtom: true,
      attachments: new Map([['doc1@koblingspunkt', { contentType: 'text/plain', data: Buffer.from('document') }]]),
    },
  };
  for (const [name, options] of Object.entries(cases)) {
    it(`writes what setting each header wrote: ${name}`, async () => {
      const ours = await raw((res) => sendSoap(res, options));
      const theirs = await raw((res) => reference(res, options));
      // An MTOM package has a fresh boundary and root Content-ID each time.
      const stable = (s: string) => s.replace(/MIMEBoundary_[0-9a-f]+/g, 'B').replace(/root\.[0-9a-f-]+@/g, 'root.X@');
      expect(stable(ours)).to.equal(stable(theirs));
      expect(ours).to.match(/^HTTP\/1\.1 \d{3} /);
    });
  }
});
