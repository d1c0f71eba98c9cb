/**
 * ConsumerCall: the signal handed to the gateway aborts when the consumer closes the connection
 * before the answer, whether it was asked for before the close or only after it, and never when
 * the answer was sent.
 */
import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import type { SoapRequest } from '../../connector/soap/endpoint.js';
import type { TransactionContext } from '../../connector/transactions/context.js';
import { ConsumerCall } from '../../connector/transactions/iti38.js';

/** A request whose response can be closed by hand. */
function request(): { req: SoapRequest; res: EventEmitter & { writableFinished: boolean } } {
  const res = Object.assign(new EventEmitter(), { writableFinished: false });
  return { req: { httpRequest: { res } } as unknown as SoapRequest, res };
}

const ctx = { record: async () => {}, services: { node: { id: 'node' } }, server: { userId: 'http://127.0.0.1/xca/responding' } } as unknown as TransactionContext;

describe('ConsumerCall', () => {
  it('a signal asked for before the consumer leaves aborts when it leaves', () => {
    const { req, res } = request();
    const call = new ConsumerCall(req, ctx, undefined);
    const signal = call.signal;
    expect(signal.aborted).to.equal(false);
    res.emit('close');
    expect(signal.aborted).to.equal(true);
    expect((signal.reason as Error).message).to.equal('the consumer closed the connection');
  });

  it('a signal asked for after the consumer left is aborted already', () => {
    const { req, res } = request();
    const call = new ConsumerCall(req, ctx, undefined);
    res.emit('close');
    expect(call.signal.aborted).to.equal(true);
    expect((call.signal.reason as Error).message).to.equal('the consumer closed the connection');
  });

  it('does not abort when the answer was sent before the close', () => {
    const { req, res } = request();
    const call = new ConsumerCall(req, ctx, undefined);
    const early = call.signal;
    res.writableFinished = true;
    res.emit('close');
    expect(early.aborted).to.equal(false);
    expect(call.signal).to.equal(early);
  });

  it('carries the credentials only when there are some, and the outbound audit', () => {
    const { req } = request();
    expect('credentials' in new ConsumerCall(req, ctx, undefined)).to.equal(false);
    const credentials = { assertion: '<saml:Assertion/>' } as unknown as ConstructorParameters<typeof ConsumerCall>[2];
    const call = new ConsumerCall(req, ctx, credentials);
    expect(call.credentials).to.equal(credentials);
    expect(call.audit.query).to.be.a('function');
  });
});
