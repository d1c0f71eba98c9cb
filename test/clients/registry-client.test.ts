/**
 * The remote-registry client (connector/clients/registry-client.ts) against tiny HTTP peers: a
 * registry Failure comes back as data (relayed to the source), anything that leaves the outcome
 * unknown (SOAP fault, HTTP error without SOAP, no answer in time, nobody listening) rejects with
 * RemoteRegistryError. The happy path against a real node is in test/repository/repository-node.test.ts.
 */
import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RemoteRegistryError, remoteRegistry, type RemoteRegistryPort } from '../../connector/clients/registry-client.js';
import { richSubmission } from '../ebxml/fixtures.js';
import { ACTIONS, answerEnvelope, faultBody } from '../helpers/soap.js';

const SUBMISSION = richSubmission();

describe('remote registry client over SoapClient', function () {
  this.timeout(10_000);
  let server: Server;
  let url: string;
  let handler: (req: IncomingMessage, body: string, res: ServerResponse) => void;
  const seen: { contentType: string; body: string }[] = [];
  const ports: RemoteRegistryPort[] = [];
  const port = (options: { timeoutMs?: number } = {}): RemoteRegistryPort => {
    const p = remoteRegistry({ url, ...options });
    ports.push(p);
    return p;
  };

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({ contentType: req.headers['content-type'] ?? '', body });
        handler(req, body, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/xds/registry`;
  });
  after(async () => {
    await Promise.all(ports.map((p) => p.close()));
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('sends ITI-42 as SOAP 1.2 with WS-Addressing and relays a Failure with its codes', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/soap+xml' });
      res.end(answerEnvelope(
        '<rs:RegistryResponse xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure">' +
        '<rs:RegistryErrorList><rs:RegistryError errorCode="XDSPatientIdDoesNotMatch" codeContext="patient ids differ" ' +
        'severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"/></rs:RegistryErrorList></rs:RegistryResponse>'));
    };
    const answer = await port().register(SUBMISSION);
    expect(answer.status).to.equal('Failure');
    expect(answer.errors.map((e) => e.code)).to.deep.equal(['XDSPatientIdDoesNotMatch']);
    const last = seen.at(-1)!;
    expect(last.contentType).to.match(/^application\/soap\+xml/);
    expect(last.contentType).to.contain(ACTIONS.iti42.request);
    expect(last.body).to.contain(`<wsa:Action soap:mustUnderstand="1">${ACTIONS.iti42.request}</wsa:Action>`);
    expect(last.body).to.contain('SubmitObjectsRequest');
  });

  it('rejects on a SOAP fault (outcome unknown)', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(500, { 'content-type': 'application/soap+xml' });
      res.end(answerEnvelope(faultBody('Receiver', 'store down')));
    };
    const e = await port().register(SUBMISSION).then(() => undefined, (x: unknown) => x);
    expect(e).to.be.instanceOf(RemoteRegistryError);
    expect((e as Error).message).to.contain('SOAP fault').and.to.contain('store down');
  });

  it('rejects on an HTTP error without a SOAP envelope', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>bad gateway</html>');
    };
    const e = await port().documentEntries(['1.2.3']).then(() => undefined, (x: unknown) => x);
    expect(e).to.be.instanceOf(RemoteRegistryError);
    expect((e as Error).message).to.contain('HTTP 502');
  });

  it('rejects when the answer is SOAP but not a RegistryResponse', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/soap+xml' });
      res.end(answerEnvelope('<foo xmlns="urn:example"/>'));
    };
    const e = await port().register(SUBMISSION).then(() => undefined, (x: unknown) => x);
    expect(e).to.be.instanceOf(RemoteRegistryError);
    expect((e as Error).message).to.contain('unusable RegistryResponse');
  });

  it('looks entries up with GetDocuments and rejects a Failure answer', async () => {
    handler = (_req, body, res) => {
      expect(body).to.contain('urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4');
      expect(body).to.contain("('1.2.3','4.5''6')");
      res.writeHead(200, { 'content-type': 'application/soap+xml' });
      res.end(answerEnvelope(
        '<query:AdhocQueryResponse xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" ' +
        'status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"><rs:RegistryErrorList><rs:RegistryError errorCode="XDSRegistryError" ' +
        'codeContext="boom" severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"/></rs:RegistryErrorList></query:AdhocQueryResponse>'));
    };
    const e = await port().documentEntries(['1.2.3', "4.5'6"]).then(() => undefined, (x: unknown) => x);
    expect(e).to.be.instanceOf(RemoteRegistryError);
    expect((e as Error).message).to.contain('XDSRegistryError boom');
    expect(await port().documentEntries([])).to.deep.equal([]);
  });

  it('rejects when the registry does not answer within the deadline', async () => {
    handler = () => undefined;
    const started = Date.now();
    const e = await port({ timeoutMs: 150 }).register(SUBMISSION).then(() => undefined, (x: unknown) => x);
    expect(e).to.be.instanceOf(RemoteRegistryError);
    expect((e as Error).message).to.contain('did not answer in time');
    expect(Date.now() - started).to.be.lessThan(2_000);
    server.closeAllConnections();
  });

  it('rejects when nobody listens', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const free = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const p = remoteRegistry({ url: `http://127.0.0.1:${free}/xds/registry` });
    ports.push(p);
    const e = await p.register(SUBMISSION).then(() => undefined, (x: unknown) => x);
    expect(e).to.be.instanceOf(RemoteRegistryError);
    expect((e as Error).message).to.contain('is unreachable');
  });
});
