import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { ACTIONS } from '../../connector/soap/actions.js';
import { parseXml } from '../../registry/xml/parse.js';
import { childElements, descendants, type XmlElement } from '../../registry/xml/tree.js';
import { send, startServer } from './harness.js';

const WSDL_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../xsd/wsdl');
const WSDL = 'http://schemas.xmlsoap.org/wsdl/';
const SOAP12_WSDL = 'http://schemas.xmlsoap.org/wsdl/soap12/';
const WSAW = 'http://www.w3.org/2006/05/addressing/wsdl';
const XSD = 'http://www.w3.org/2001/XMLSchema';

const expected: Record<string, (keyof typeof ACTIONS)[]> = {
  'DocumentRegistry.wsdl': ['iti42', 'iti18', 'iti57', 'iti62', 'iti51', 'iti92'],
  'DocumentRepository.wsdl': ['iti41', 'iti43', 'iti86'],
  'RespondingGateway.wsdl': ['iti38', 'iti39', 'iti92'],
  'InitiatingGateway.wsdl': ['iti18', 'iti43'],
};

function operations(root: XmlElement): { input: string; output: string }[] {
  return descendants(root, WSDL, 'portType').flatMap((pt) =>
    childElements(pt, WSDL, 'operation').map((op) => ({
      input: childElements(op, WSDL, 'input')[0]!.attrs[`{${WSAW}}Action`]!,
      output: childElements(op, WSDL, 'output')[0]!.attrs[`{${WSAW}}Action`]!,
    })),
  );
}

describe('WSDL files', () => {
  it('exist for the four endpoints and nothing else', () => {
    expect(readdirSync(WSDL_DIR).sort()).to.deep.equal(Object.keys(expected).sort());
  });

  for (const [file, keys] of Object.entries(expected)) {
    it(`${file}: SOAP 1.2 binding, the IHE actions, schema imports that resolve`, () => {
      const root = parseXml(readFileSync(join(WSDL_DIR, file)));
      expect(root.ns).to.equal(WSDL);
      expect(operations(root)).to.deep.equal(keys.map((k) => ({ input: ACTIONS[k].request, output: ACTIONS[k].response })));
      const soapOps = descendants(root, SOAP12_WSDL, 'operation').map((o) => o.attrs.soapAction);
      expect(soapOps).to.deep.equal(keys.map((k) => ACTIONS[k].request));
      expect(descendants(root, SOAP12_WSDL, 'binding')).to.have.length(1);
      expect(descendants(root, SOAP12_WSDL, 'address')).to.have.length(1);
      const imports = descendants(root, XSD, 'import');
      expect(imports.length).to.be.greaterThan(0);
      for (const imp of imports) {
        const schema = resolve(WSDL_DIR, imp.attrs.schemaLocation!);
        expect(existsSync(schema), schema).to.equal(true);
        expect(parseXml(readFileSync(schema)).attrs.targetNamespace).to.equal(imp.attrs.namespace);
      }
    });
  }

  it('is served at GET <endpoint>?wsdl with the address pointing at the endpoint; other GETs are 405', async () => {
    const server = await startServer({ wsdl: join(WSDL_DIR, 'DocumentRegistry.wsdl') });
    try {
      const res = await send(`${server.url}?wsdl`, '', { method: 'GET' });
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.match(/^text\/xml/);
      const root = parseXml(res.body);
      expect(descendants(root, SOAP12_WSDL, 'address')[0]!.attrs.location).to.equal(server.url);
      const upper = await send(`${server.url}?WSDL`, '', { method: 'GET' });
      expect(upper.status).to.equal(200);
      const plain = await send(server.url, '', { method: 'GET' });
      expect(plain.status).to.equal(405);
      expect(plain.headers.allow).to.equal('POST, GET');
    } finally {
      await server.close();
    }
  });

  it('serves the imported schemas at ?xsd=<file> and points every schemaLocation there; nothing else', async () => {
    const server = await startServer({ wsdl: join(WSDL_DIR, 'DocumentRepository.wsdl') });
    try {
      const wsdl = await send(`${server.url}?wsdl`, '', { method: 'GET' });
      const locations = descendants(parseXml(wsdl.body), XSD, 'import').map((i) => i.attrs.schemaLocation!);
      expect(locations).to.not.be.empty;
      for (const l of locations) expect(l).to.match(new RegExp(`^${server.url.replace(/[.?]/g, '\\$&')}\\?xsd=[\\w.-]+\\.xsd$`));
      const lcm = await send(`${server.url}?xsd=lcm.xsd`, '', { method: 'GET' });
      expect(lcm.status).to.equal(200);
      const lcmRoot = parseXml(lcm.body);
      expect(lcmRoot.local).to.equal('schema');
      for (const i of descendants(lcmRoot, XSD, 'import')) expect(i.attrs.schemaLocation).to.contain(`${server.url}?xsd=`);
      expect((await send(`${server.url}?xsd=missing.xsd`, '', { method: 'GET' })).status).to.equal(404);
      for (const bad of ['..%2Fpackage.json', '../rs.xsd', '%2Fetc%2Fpasswd', 'wsdl%2FDocumentRegistry.wsdl']) {
        const res = await send(`${server.url}?xsd=${bad}`, '', { method: 'GET' });
        expect(res.status, bad).to.equal(405);
      }
    } finally {
      await server.close();
    }
  });
});
