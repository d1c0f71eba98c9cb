/**
 * Deadlines and the memory budget of the listener (connector/http/deadlines.ts, budget.ts), over
 * real HTTP against started nodes with small limits: headers and bodies trickled too slowly are
 * answered 408 and their connections closed in time, honest bodies are not, and bodies held back
 * beyond the memory budget are refused with 503 + Retry-After while the node stays healthy, the
 * budget returning to 0 once they are done.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { serverTimeouts } from '../../connector/http/deadlines.js';
import { httpConfigSchema } from '../../connector/http/config.js';
import { NS } from '../../registry/xml/namespaces.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { tlsFile } from './helpers.js';

const ITI18 = 'urn:ihe:iti:2007:RegistryStoredQuery';
const ITI43 = 'urn:ihe:iti:2007:RetrieveDocumentSet';
const FIND_DOCUMENTS = 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d';
const KARI = '13116900216^^^&amp;2.16.578.1.12.4.1.4.1&amp;ISO';
const SOAP_TYPE = (action: string): string => `application/soap+xml; charset=UTF-8; action="${action}"`;

/** Time the machine may add to a deadline (two cores shared by several test runs). */
const SLACK_MS = 750;

function envelope(action: string, to: string, bodyXml: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<soap:Envelope xmlns:soap="${NS.soap12}" xmlns:wsa="${NS.wsa}"><soap:Header>` +
    `<wsa:Action soap:mustUnderstand="1">${action}</wsa:Action>` +
    `<wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID>` +
    `<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>` +
    `<wsa:To soap:mustUnderstand="1">${to}</wsa:To>` +
    `</soap:Header><soap:Body>${bodyXml}</soap:Body></soap:Envelope>`
  );
}

const FIND_DOCUMENTS_BODY =
  `<query:AdhocQueryRequest xmlns:query="${NS.query}" xmlns:rim="${NS.rim}">` +
  `<query:ResponseOption returnType="LeafClass" returnComposedObjects="true"/>` +
  `<rim:AdhocQuery id="${FIND_DOCUMENTS}">` +
  `<rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'${KARI}'</rim:Value></rim:ValueList></rim:Slot>` +
  `<rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>` +
  `</rim:AdhocQuery></query:AdhocQueryRequest>`;

/** A valid ITI-18 FindDocuments request of exactly `size` bytes (padded with an XML comment). */
function paddedQuery(url: string, size: number): Uint8Array<ArrayBuffer> {
  const bare = envelope(ITI18, url, `<!---->${FIND_DOCUMENTS_BODY}`);
  const pad = size - Buffer.byteLength(bare);
  if (pad < 0) throw new Error(`a query cannot be smaller than ${Buffer.byteLength(bare)} bytes`);
  return new Uint8Array(Buffer.from(envelope(ITI18, url, `<!--${' '.repeat(pad)}-->${FIND_DOCUMENTS_BODY}`), 'utf8'));
}

interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * One connection driven byte by byte: what a slow or stalling peer sends, and when the node
 * answers and closes. A response is complete at its Content-Length, or (Node's own 408) at close.
 */
class RawConnection {
  private data = Buffer.alloc(0);
  private readonly opened = performance.now();
  /** Milliseconds from connecting to the close, once closed. */
  closedAfterMs: number | undefined;
  private trickle: NodeJS.Timeout | undefined;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => (this.data = Buffer.concat([this.data, d])));
    // The node may reset a connection it refused mid-body: only the close matters here.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closedAfterMs = performance.now() - this.opened;
      clearInterval(this.trickle);
    });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Over TLS, trusting the test CA (no client certificate). */
  static openTls(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ port, host: '127.0.0.1', ca: readFileSync(tlsFile('ca.pem')), servername: 'localhost' });
      socket.once('secureConnect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.closedAfterMs !== undefined;
  }

  send(bytes: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (e) => (e ? reject(e) : resolve())));
  }

  /** Sends `piece()` every `everyMs` until the connection closes or `stopTrickle` is called. */
  startTrickle(piece: () => string | Buffer, everyMs: number): void {
    this.trickle = setInterval(() => {
      if (!this.socket.destroyed && this.socket.writable) this.socket.write(piece());
    }, everyMs);
  }

  stopTrickle(): void {
    clearInterval(this.trickle);
  }

  /** The response, when complete. */
  response(): RawResponse | undefined {
    const end = this.data.indexOf('\r\n\r\n');
    if (end === -1) return undefined;
    const lines = this.data.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const body = this.data.subarray(end + 4);
    const length = headers['content-length'];
    if (length === undefined ? !this.closed : body.length < Number(length)) return undefined;
    return { status, headers, body: body.toString('utf8') };
  }

  destroy(): void {
    this.stopTrickle();
    this.socket.destroy();
  }
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 3_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function postHeaders(path: string, contentType: string, framing: { length: number } | 'chunked'): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\n` +
    (framing === 'chunked' ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${framing.length}\r\n`) +
    '\r\n'
  );
}

describe('HTTP deadlines and the memory budget (real HTTP)', function () {
  this.timeout(10_000);

  describe('Node 20 server options', () => {
    it('checks headers every tenth of their deadline, and backs bodies up past the longest body deadline', () => {
      const config = httpConfigSchema.parse({ headersTimeoutMs: 20_000, bodyTimeoutFloorMs: 20_000, bodyMinBytesPerSecond: 65_536 });
      const t = serverTimeouts(config, 100 * 1024 * 1024);
      expect(t.headersTimeout).to.equal(20_000);
      expect(t.connectionsCheckingInterval).to.equal(2_000);
      // 20 s headers + 20 s floor + 1600 s for 100 MiB at 64 KiB/s + one floor of slack.
      expect(t.requestTimeout).to.equal(20_000 + 20_000 + 1_600_000 + 20_000);
      expect(serverTimeouts(config).requestTimeout).to.equal(0);
    });
  });

  describe('deadlines', () => {
    const HEADERS_MS = 500;
    const FLOOR_MS = 500;
    const RATE = 100_000;
    let node: TestNode;
    let registryUrl: string;

    before(async () => {
      node = await startTestNode({ http: { headersTimeoutMs: HEADERS_MS, bodyTimeoutFloorMs: FLOOR_MS, bodyMinBytesPerSecond: RATE } });
      registryUrl = `${node.url}/xds/registry`;
    });
    after(async () => {
      await node?.close();
    });

    it('closes a connection whose headers trickle in, with 408, within the headers deadline', async () => {
      const c = await RawConnection.open(node.port);
      await c.send('POST /xds/registry HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      c.startTrickle(() => 'X-Slow: y\r\n', 50);
      await until('the close', () => c.closed, HEADERS_MS + 50 + SLACK_MS);
      expect(c.closedAfterMs).to.be.at.least(HEADERS_MS - 20);
      expect(c.response()?.status).to.equal(408);
    });

    it('closes a connection that sends nothing, within the headers deadline', async () => {
      const c = await RawConnection.open(node.port);
      await until('the close', () => c.closed, HEADERS_MS + 50 + SLACK_MS);
      expect(c.closedAfterMs).to.be.at.least(HEADERS_MS - 20);
    });

    it('answers a body trickled too slowly with a 408 SOAP fault and closes within its computed deadline', async () => {
      const length = 50_000;
      // floor + size / rate: 500 ms + 500 ms. A body at 20 bytes/s falls behind right after the floor.
      const computedMs = FLOOR_MS + (length * 1000) / RATE;
      const c = await RawConnection.open(node.port);
      await c.send(postHeaders('/xds/registry', SOAP_TYPE(ITI18), { length }));
      c.startTrickle(() => ' ', 50);
      await until('the close', () => c.closed, computedMs + SLACK_MS);
      expect(c.closedAfterMs).to.be.at.least(FLOOR_MS - 20).and.at.most(computedMs + SLACK_MS);
      const res = c.response()!;
      expect(res.status).to.equal(408);
      expect(res.headers['connection']).to.equal('close');
      expect(res.headers['content-type']).to.match(/^application\/soap\+xml/);
      expect(res.body).to.contain(':Fault>').and.contain('Sender').and.contain('too slowly');
      await until('the budget back at 0', () => node.bufferBudget.usedBytes === 0);
    });

    it('holds a chunked body without a length to the minimum rate over the bytes so far', async () => {
      const c = await RawConnection.open(node.port);
      await c.send(postHeaders('/xds/registry', SOAP_TYPE(ITI18), 'chunked'));
      c.startTrickle(() => '1\r\n \r\n', 50);
      await until('the close', () => c.closed, FLOOR_MS + FLOOR_MS / 8 + SLACK_MS);
      expect(c.closedAfterMs).to.be.at.least(FLOOR_MS - 20);
      expect(c.response()?.status).to.equal(408);
      await until('the budget back at 0', () => node.bufferBudget.usedBytes === 0);
    });

    it('lets a body at a good rate take longer than the floor', async () => {
      // 300 KB in 30 KB pieces every 100 ms: ~1 s, twice the floor, at three times the minimum rate.
      const body = paddedQuery(registryUrl, 300_000);
      const c = await RawConnection.open(node.port);
      await c.send(postHeaders('/xds/registry', SOAP_TYPE(ITI18), { length: body.length }));
      const started = performance.now();
      for (let at = 0; at < body.length; at += 30_000) {
        await c.send(body.subarray(at, at + 30_000));
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(performance.now() - started).to.be.above(FLOOR_MS);
      const res = await until('the response', () => c.response(), 5_000);
      expect(res.status, res.body.slice(0, 500)).to.equal(200);
      expect(res.body).to.contain('AdhocQueryResponse');
      expect(c.closed).to.equal(false);
      c.destroy();
    });

    it('does not blame the client for a stall of our own event loop: a late check looks once more', async () => {
      // The body is in our socket, unread, when the check runs: the loop was blocked past the floor.
      const body = paddedQuery(registryUrl, 100_000);
      const c = await RawConnection.open(node.port);
      await c.send(postHeaders('/xds/registry', SOAP_TYPE(ITI18), { length: body.length }));
      await new Promise((r) => setTimeout(r, 50)); // the headers are read: the body's deadline runs
      void c.send(body); // written to the kernel at once (loopback buffers hold it)
      const blockedUntil = performance.now() + FLOOR_MS + 300;
      while (performance.now() < blockedUntil); // the event loop stalls past the floor
      const res = await until('the response', () => c.response(), 5_000);
      expect(res.status, res.body.slice(0, 500)).to.equal(200);
      expect(res.body).to.contain('AdhocQueryResponse');
      c.destroy();
    });

    it('reads what is waiting in the socket before it finds a body behind, even after a short stall of ours', async () => {
      // The loop stalls until just past the floor, less than an eighth of it: the check runs almost
      // on time, before the loop has read the body that has been in the socket all along.
      const body = paddedQuery(registryUrl, 100_000);
      const c = await RawConnection.open(node.port);
      const headersSent = performance.now();
      await c.send(postHeaders('/xds/registry', SOAP_TYPE(ITI18), { length: body.length }));
      await new Promise((r) => setTimeout(r, 50));
      void c.send(body);
      const blockedUntil = headersSent + FLOOR_MS + FLOOR_MS / 16;
      while (performance.now() < blockedUntil);
      const res = await until('the response', () => c.response(), 5_000);
      expect(res.status, res.body.slice(0, 500)).to.equal(200);
      expect(res.body).to.contain('AdhocQueryResponse');
      c.destroy();
    });

    it('leaves a large body sent at full speed alone', async () => {
      const body = paddedQuery(registryUrl, 20 * 1024 * 1024);
      const res = await fetch(registryUrl, { method: 'POST', headers: { 'content-type': SOAP_TYPE(ITI18) }, body });
      const text = await res.text();
      expect(res.status, text.slice(0, 500)).to.equal(200);
      expect(text).to.contain('AdhocQueryResponse').and.contain('ResponseStatusType:Success');
      await until('the budget back at 0', () => node.bufferBudget.usedBytes === 0);
    });
  });

  describe('deadlines over TLS', () => {
    const HEADERS_MS = 500;
    const FLOOR_MS = 500;
    let node: TestNode;

    before(async () => {
      node = await startTestNode({
        tls: {
          enabled: true,
          certFile: tlsFile('server.pem'),
          keyFile: tlsFile('server.key'),
          clientCertificates: { registry: 'off', repository: 'off', responding: 'off', initiating: 'off', blocksApi: 'off' },
        },
        http: { headersTimeoutMs: HEADERS_MS, bodyTimeoutFloorMs: FLOOR_MS, bodyMinBytesPerSecond: 100_000 },
      });
    });
    after(async () => {
      await node?.close();
    });

    it('closes a connection that never completes its TLS handshake within the headers deadline', async () => {
      // Node's own handshake limit is 120 s; before the handshake there is no HTTP parser to time.
      const c = await RawConnection.open(node.port);
      await until('the close', () => c.closed, HEADERS_MS + SLACK_MS);
      expect(c.closedAfterMs).to.be.at.least(HEADERS_MS - 20);
    });

    it('answers a body trickled over TLS with a 408 SOAP fault and closes', async () => {
      const c = await RawConnection.openTls(node.port);
      await c.send(postHeaders('/xds/registry', SOAP_TYPE(ITI18), { length: 50_000 }));
      c.startTrickle(() => ' ', 50);
      await until('the close', () => c.closed, FLOOR_MS + 500 + SLACK_MS);
      const res = c.response()!;
      expect(res.status).to.equal(408);
      expect(res.body).to.contain(':Fault>').and.contain('too slowly');
      await until('the budget back at 0', () => node.bufferBudget.usedBytes === 0);
    });
  });

  describe('memory budget', () => {
    const BUDGET = 1024 * 1024;
    const HELD = 400_000;
    let node: TestNode;
    let registryUrl: string;

    before(async () => {
      // Deadlines long enough that nothing here is cut off for being slow.
      node = await startTestNode({ http: { maxBufferedBytes: BUDGET, bodyTimeoutFloorMs: 8_000, headersTimeoutMs: 8_000 } });
      registryUrl = `${node.url}/xds/registry`;
    });
    after(async () => {
      await node?.close();
    });

    /** A query whose last byte is held back: its declared length stays charged. */
    async function heldBack(size: number): Promise<{ c: RawConnection; last: Uint8Array }> {
      const body = paddedQuery(registryUrl, size);
      const c = await RawConnection.open(node.port);
      await c.send(postHeaders('/xds/registry', SOAP_TYPE(ITI18), { length: body.length }));
      await c.send(body.subarray(0, body.length - 1));
      return { c, last: body.subarray(body.length - 1) };
    }

    it('refuses bodies beyond the budget with 503 + Retry-After, stays healthy, and is back at 0 when they are done', async () => {
      const a = await heldBack(HELD);
      const b = await heldBack(HELD);
      await until('both bodies charged', () => node.bufferBudget.usedBytes === 2 * HELD);

      // A third declared body does not fit in what is left: refused before it is read.
      const third = await RawConnection.open(node.port);
      await third.send(postHeaders('/xds/registry', SOAP_TYPE(ITI18), { length: HELD }));
      const refused = await until('the 503', () => third.response());
      expect(refused.status).to.equal(503);
      expect(refused.headers['retry-after']).to.equal('5');
      expect(refused.headers['connection']).to.equal('close');
      expect(refused.body).to.contain(':Fault>').and.contain('Receiver');
      await until('the refused connection closed', () => third.closed);

      // A chunked body without a length is refused once its bytes push the total over.
      const chunked = await RawConnection.open(node.port);
      await chunked.send(postHeaders('/xds/registry', SOAP_TYPE(ITI18), 'chunked'));
      const chunk = Buffer.alloc(300_000, 0x20);
      await chunked.send(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])).catch(() => undefined);
      const overflow = await until('the 503 for the chunked body', () => chunked.response());
      expect(overflow.status).to.equal(503);
      expect(overflow.headers['retry-after']).to.equal('5');
      await until('the refused chunked connection closed', () => chunked.closed);
      await until('the chunked body released', () => node.bufferBudget.usedBytes === 2 * HELD);

      // The node still answers what needs no buffering.
      const health = await fetch(`${node.url}/health`);
      expect(health.status).to.equal(200);

      // An aborted body gives its share back…
      a.c.destroy();
      await until('the aborted body released', () => node.bufferBudget.usedBytes === HELD);
      // …and so does a finished one, once answered.
      await b.c.send(b.last);
      const done = await until('the held-back query answered', () => b.c.response());
      expect(done.status, done.body.slice(0, 500)).to.equal(200);
      expect(done.body).to.contain('AdhocQueryResponse');
      await until('the budget back at 0', () => node.bufferBudget.usedBytes === 0);
      b.c.destroy();

      // New requests succeed, and leave nothing behind.
      const again = await fetch(registryUrl, { method: 'POST', headers: { 'content-type': SOAP_TYPE(ITI18) }, body: paddedQuery(registryUrl, HELD) });
      expect(again.status).to.equal(200);
      await again.text();
      await until('the budget back at 0 again', () => node.bufferBudget.usedBytes === 0);
    });

    it('refuses with 413 a declared body the budget could never hold', async () => {
      const c = await RawConnection.open(node.port);
      await c.send(postHeaders('/xds/registry', SOAP_TYPE(ITI18), { length: BUDGET + 1 }));
      const res = await until('the 413', () => c.response());
      expect(res.status).to.equal(413);
      c.destroy();
      await until('the budget back at 0', () => node.bufferBudget.usedBytes === 0);
    });

    it('does not charge the documents of a streamed MTOM upload, only its envelope', async () => {
      // 3 MB in a non-root part: three times the budget, spooled to the blob store as it arrives.
      const boundary = `uuid:${randomUUID()}`;
      const repositoryUrl = `${node.url}/xds/repository`;
      const request =
        `<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="${NS.xdsb}"><xdsb:DocumentRequest>` +
        `<xdsb:RepositoryUniqueId>1.2.3</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>1.2.3.4</xdsb:DocumentUniqueId>` +
        `</xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>`;
      const body = new Uint8Array(Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n` +
            `Content-ID: <root@test>\r\n\r\n${envelope(ITI43, repositoryUrl, request)}\r\n` +
            `--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-ID: <doc@test>\r\n\r\n`,
        ),
        Buffer.alloc(3 * 1024 * 1024, 0x41),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]));
      const contentType =
        `multipart/related; type="application/xop+xml"; boundary="${boundary}"; start="<root@test>"; ` +
        `start-info="application/soap+xml"; action="${ITI43}"`;
      const res = await fetch(repositoryUrl, { method: 'POST', headers: { 'content-type': contentType }, body });
      const text = await res.text();
      expect(res.status, text.slice(0, 500)).to.equal(200);
      expect(text).to.contain('RetrieveDocumentSetResponse');
      await until('the budget back at 0', () => node.bufferBudget.usedBytes === 0);
    });
  });
});
