/**
 * A graceful stop (SIGTERM in production): the listener stops accepting, and a request in flight
 * still gets its answer within the drain time; without a drain time every connection is cut.
 */
import { expect } from 'chai';
import { request } from 'node:http';
import { connect } from 'node:net';
import { epikrise } from '../helpers/ebxml.js';
import { ACTIONS, envelope, soapContentType } from '../helpers/soap.js';
import { startTestNode } from '../helpers/node.js';

/** Starts an ITI-42 whose body is sent in two halves; returns the second half's sender and the answer. */
function halfSentRequest(url: string): { finish: () => void; answer: Promise<{ status: number; body: string }> } {
  const body = Buffer.from(envelope({ action: ACTIONS.iti42.request, to: `${url}/xds/registry`, body: epikrise().xml }));
  const half = Math.floor(body.length / 2);
  const req = request(`${url}/xds/registry`, { method: 'POST', headers: { 'content-type': soapContentType(ACTIONS.iti42.request), 'content-length': body.length } });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
  });
  req.write(body.subarray(0, half));
  return { finish: () => req.end(body.subarray(half)), answer };
}

function refusesConnections(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });
}

describe('graceful stop', function () {
  this.timeout(20_000);

  it('with a drain time: no new connection, the request in flight is answered', async () => {
    const node = await startTestNode();
    const inFlight = halfSentRequest(node.url);
    await new Promise((r) => setTimeout(r, 100));
    const closed = node.close({ drainMs: 5_000 });
    await new Promise((r) => setTimeout(r, 100));
    expect(await refusesConnections(node.url)).to.equal(true);
    inFlight.finish();
    const answer = await inFlight.answer;
    expect(answer.status).to.equal(200);
    expect(answer.body).to.include('ResponseStatusType:Success');
    const started = Date.now();
    await closed;
    expect(Date.now() - started, 'the drain ends with the last answer, not at its deadline').to.be.below(2_000);
  });

  it('without one, the request in flight is cut at once', async () => {
    const node = await startTestNode();
    const inFlight = halfSentRequest(node.url);
    const outcome = inFlight.answer.then(
      () => undefined,
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await node.close();
    expect(Date.now() - started).to.be.below(3_000);
    expect(await outcome, 'the client saw its connection cut').to.be.instanceOf(Error);
  });
});
