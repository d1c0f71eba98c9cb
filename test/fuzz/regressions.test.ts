/** Problems the fuzzer found, pinned down as plain tests. */
import { expect } from 'chai';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, envelope } from '../helpers/soap.js';

describe('fuzz regressions', () => {
  let node: TestNode;
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown): void => {
    uncaught.push(e);
  };
  before(async () => {
    node = await startTestNode();
    process.on('uncaughtException', onUncaught);
  });
  after(async () => {
    process.off('uncaughtException', onUncaught);
    await node.close();
  });

  // Found by `npm run fuzz -- --seed 1` (mtom/no-closing-boundary): the request ended before the
  // blob store had opened its staging file, so the failed part's stream was destroyed with an
  // error nobody listened to, and Node's uncaughtException ended the node.
  it('an MTOM request cut off inside a document part is a Sender fault, not an uncaught exception', async () => {
    const boundary = 'MIMEBoundary_cut';
    const root = envelope({ action: ACTIONS.iti41.request, to: `${node.url}/xds/repository` });
    for (let i = 0; i < 10; i++) {
      const body =
        `--${boundary}\r\nContent-Type: application/xop+xml; type="application/soap+xml"\r\nContent-ID: <root@x>\r\n\r\n${root}\r\n` +
        `--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-ID: <doc@x>\r\n\r\n${'x'.repeat(100)}`;
      const res = await fetch(`${node.url}/xds/repository`, {
        method: 'POST',
        headers: { 'content-type': `multipart/related; type="application/xop+xml"; boundary="${boundary}"; start="<root@x>"; start-info="application/soap+xml"` },
        body,
      });
      expect(res.status).to.equal(400);
      expect(await res.text()).to.contain('truncated (no closing boundary)');
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(uncaught).to.deep.equal([]);
    expect((await fetch(`${node.url}/health`)).status).to.equal(200);
  });

  // Issue 14: N namespace declarations on the Envelope and M declaring elements in the Header,
  // N = M = 20,000 (0.92 MB, no credentials needed), ran the node out of heap while it parsed,
  // before wsse:Security was looked at. Now the per-element cap refuses it at the 65th declaration.
  it('the namespace bomb is a Sender fault, and the node stays up', async () => {
    const n = 20_000;
    let decls = '';
    for (let i = 0; i < n; i++) decls += ` xmlns:p${i}="u${i}"`;
    let blocks = '';
    for (let j = 0; j < n; j++) blocks += `<q${j}:b xmlns:q${j}="u"/>`;
    const body = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"${decls}><s:Header>${blocks}</s:Header><s:Body/></s:Envelope>`;
    expect(body.length).to.be.within(800_000, 1_000_000);
    const res = await fetch(`${node.url}/xds/registry`, {
      method: 'POST',
      headers: { 'content-type': 'application/soap+xml; charset=UTF-8; action="urn:ihe:iti:2007:RegisterDocumentSet-b"' },
      body,
    });
    expect(res.status).to.equal(400);
    const text = await res.text();
    expect(text).to.contain('Sender').and.contain('more than 64 namespace declarations');
    expect((await fetch(`${node.url}/health`)).status).to.equal(200);
  });
});
