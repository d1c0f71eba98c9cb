import { expect } from 'chai';
import express from 'express';
import winston from 'winston';
import { Writable } from 'node:stream';
import { parseConfig } from '../../connector/config.js';
import { clientIdentity, listen, tlsConfigSchema } from '../../connector/http/index.js';
import { findDocumentsBody, KARI, retrieveBody } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, envelope, soapContentType } from '../helpers/soap.js';
import { httpsRequest, tlsFile } from './helpers.js';

const RSQ = ACTIONS.iti18.request;
const RETRIEVE = ACTIONS.iti43.request;
const FIND_DOCUMENTS = findDocumentsBody(KARI, { returnType: 'ObjectRef' });
const RETRIEVE_UNKNOWN = retrieveBody([{ repository: '2.25.309237645197082458325426232421537170187', document: '1.2.3.4.5' }]);

const tlsFiles = { certFile: tlsFile('server.pem'), keyFile: tlsFile('server.key'), caFile: tlsFile('ca.pem') };

function soap(url: string, action: string, body: string, client: 'trusted' | 'rogue' | 'none') {
  return httpsRequest(url, { body: envelope({ action, to: url, body }), contentType: soapContentType(action), client });
}

/** Asserts a SOAP 1.2 Sender fault with subcode wsse:FailedAuthentication. */
function expectAuthFault(res: { status: number; text: string }, reason: RegExp): void {
  expect(res.status).to.equal(403);
  expect(res.text).to.match(/<soap:Fault[\s>]/);
  expect(res.text).to.contain('<soap:Value>soap:Sender</soap:Value>');
  expect(res.text).to.match(/<soap:Value>f\d+:FailedAuthentication<\/soap:Value>/);
  expect(res.text).to.contain('http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd');
  expect(res.text).to.match(reason);
}

describe('TLS configuration', () => {
  it('defaults to plain HTTP with every endpoint requiring a client certificate once TLS is on', () => {
    const c = parseConfig({});
    expect(c.tls.enabled).to.equal(false);
    expect(c.tls.minVersion).to.equal('TLSv1.2');
    expect(c.tls.clientCertificates).to.deep.equal({ registry: 'required', repository: 'required', responding: 'required', initiating: 'required', blocksApi: 'required' });
  });

  it('refuses TLS without certificate, key or client CA, and unknown keys', () => {
    const r = tlsConfigSchema.safeParse({ enabled: true });
    expect(r.success).to.equal(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).to.have.members(['certFile', 'keyFile', 'caFile']);
    // Without any endpoint asking for client certificates no CA bundle is needed.
    const off = { registry: 'off', repository: 'off', responding: 'off', initiating: 'off', blocksApi: 'off' } as const;
    expect(tlsConfigSchema.safeParse({ enabled: true, certFile: 'a', keyFile: 'b', clientCertificates: off }).success).to.equal(true);
    expect(() => parseConfig({ tls: { enabled: true, ...tlsFiles, clientCertificate: {} } })).to.throw(/unknown key 'tls.clientCertificate'/);
    expect(() => parseConfig({ tls: { clientCertificates: { registry: 'sometimes' } } })).to.throw(/tls.clientCertificates.registry/);
  });
});

describe('listener', () => {
  function capture(): { logger: winston.Logger; lines: Array<{ level: string; message: unknown }> } {
    const lines: Array<{ level: string; message: unknown }> = [];
    const stream = new Writable({
      objectMode: true,
      write(info: { level: string; message: unknown }, _enc, done) {
        lines.push({ level: info.level, message: info.message });
        done();
      },
    });
    return { logger: winston.createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream })] }), lines };
  }

  it('plain HTTP logs a loud warning at start', async () => {
    const { logger, lines } = capture();
    const l = await listen(express(), { tls: tlsConfigSchema.parse({}), port: 0, host: '127.0.0.1', logger });
    try {
      expect(l.scheme).to.equal('http');
      expect(lines.some((x) => x.level === 'warn' && /PLAIN HTTP/.test(String(x.message)))).to.equal(true);
    } finally {
      await new Promise<void>((r) => l.server.close(() => r()));
    }
  });

  it('exposes the verified client certificate as clientIdentity(req), never an unverified one', async () => {
    const { logger, lines } = capture();
    const app = express();
    app.get('/who', (req, res) => {
      res.json(clientIdentity(req) ?? null);
    });
    const tls = tlsConfigSchema.parse({ enabled: true, ...tlsFiles, clientCertificates: { registry: 'optional' } });
    const l = await listen(app, { tls, port: 0, host: '127.0.0.1', logger });
    try {
      expect(l.scheme).to.equal('https');
      expect(lines.some((x) => /PLAIN HTTP/.test(String(x.message)))).to.equal(false);
      const url = `https://127.0.0.1:${l.port}/who`;
      const trusted = JSON.parse((await httpsRequest(url, { client: 'trusted' })).text);
      expect(trusted).to.include({
        subject: 'C=NO, O=koblingspunkt TEST ONLY, OU=Region Test, CN=test client 974760673',
        issuer: 'C=NO, O=koblingspunkt TEST ONLY, CN=koblingspunkt test TLS CA',
        serialNumber: '2001',
        fingerprint256: 'DC:DB:5B:FF:70:25:0C:5A:AD:EE:DD:E1:54:D2:95:A1:C0:F2:5E:3B:07:1A:0A:AB:5B:03:DA:47:AD:32:43:6B',
      });
      expect(trusted.subjectAttributes).to.include({ CN: 'test client 974760673', OU: 'Region Test' });
      expect(Date.parse(trusted.validTo)).to.be.greaterThan(Date.now());
      // Same subject, issued by a CA we do not trust: no identity.
      expect(JSON.parse((await httpsRequest(url, { client: 'rogue' })).text)).to.equal(null);
      expect(JSON.parse((await httpsRequest(url, { client: 'none' })).text)).to.equal(null);
    } finally {
      l.server.closeAllConnections();
      await new Promise<void>((r) => l.server.close(() => r()));
    }
  });
});

describe('mutual TLS on a running node', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode({
      tls: {
        enabled: true,
        ...tlsFiles,
        clientCertificates: { registry: 'required', repository: 'optional', responding: 'required', initiating: 'off' },
      },
      trust: { blocksApi: { token: 'b'.repeat(32) } },
    });
  });
  after(async () => {
    await node.close();
  });

  it('serves HTTPS', () => {
    expect(node.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('a trusted client certificate gets its answer (200)', async () => {
    const res = await soap(`${node.url}/xds/registry`, RSQ, FIND_DOCUMENTS, 'trusted');
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('AdhocQueryResponse');
    expect(res.text).to.contain('urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success');
  });

  it('a required endpoint answers a request without a certificate with a SOAP fault, not a hang', async () => {
    const started = Date.now();
    const res = await soap(`${node.url}/xds/registry`, RSQ, FIND_DOCUMENTS, 'none');
    expectAuthFault(res, /client certificate issued by a trusted CA is required/);
    expect(res.headers.connection).to.equal('close');
    expect(Date.now() - started).to.be.lessThan(2000);
    // The WSDL is behind the same guard.
    const wsdl = await httpsRequest(`${node.url}/xds/registry?wsdl`, { client: 'none' });
    expect(wsdl.status).to.equal(403);
  });

  it('an untrusted client certificate is refused on required and optional endpoints alike', async () => {
    expectAuthFault(await soap(`${node.url}/xds/registry`, RSQ, FIND_DOCUMENTS, 'rogue'), /not trusted/);
    expectAuthFault(await soap(`${node.url}/xds/repository`, RETRIEVE, RETRIEVE_UNKNOWN, 'rogue'), /not trusted/);
  });

  it('an optional endpoint works without a certificate, and with a trusted one', async () => {
    for (const client of ['none', 'trusted'] as const) {
      const res = await soap(`${node.url}/xds/repository`, RETRIEVE, RETRIEVE_UNKNOWN, client);
      expect(res.status, client).to.equal(200);
      expect(res.text).to.contain('XDSDocumentUniqueIdError');
    }
  });

  it('an endpoint with client certificates off does not look at them', async () => {
    const res = await httpsRequest(`${node.url}/xca/initiating?wsdl`, { client: 'none' });
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('definitions');
  });

  it('the patient-block API takes a client certificate besides its token, and refuses in JSON', async () => {
    const headers = { authorization: `Bearer ${'b'.repeat(32)}` };
    const url = `${node.url}/admin/patient-blocks?patientId=13116900216`;
    const none = await httpsRequest(url, { client: 'none', headers });
    expect(none.status).to.equal(403);
    expect(JSON.parse(none.text).error).to.match(/client certificate/);
    const ok = await httpsRequest(url, { client: 'trusted', headers });
    expect(ok.status).to.equal(200);
    expect(JSON.parse(ok.text).blocks).to.deep.equal([]);
  });

    it('health stays open, and a plain-HTTP client on the TLS port does not disturb the node', async () => {
    const plain = await fetch(node.url.replace('https:', 'http:') + '/health').then(
      (r) => r.status,
      () => 'refused',
    );
    expect(plain).to.not.equal(200);
    const health = await httpsRequest(`${node.url}/health`, { client: 'none' });
    expect(health.status).to.equal(200);
  });
});
