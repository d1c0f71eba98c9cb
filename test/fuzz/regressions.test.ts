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
});
