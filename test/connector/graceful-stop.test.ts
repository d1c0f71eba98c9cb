/**
 * A graceful stop (SIGTERM in production): the listener stops accepting, and a request in flight
 * still gets its answer within the drain time; without a drain time every connection is cut.
 */
import { expect } from 'chai';
import { connect } from 'node:net';
import { epikrise } from '../helpers/ebxml.js';
import { halfSentRegistration } from '../helpers/soap.js';
import { startTestNode } from '../helpers/node.js';

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
    const inFlight = halfSentRegistration(node.url, epikrise().xml);
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
    const inFlight = halfSentRegistration(node.url, epikrise().xml);
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
