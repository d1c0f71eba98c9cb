/**
 * sendSoap and the answer's arena (byte-slab.ts): the arena a response's chunks were written into
 * goes back to the next answers only once the response has finished, i.e. has been handed to the
 * kernel whole, however long the socket holds the chunks before that.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { expect } from 'chai';
import { buildEnvelopeBytes, sendSoap } from '../../connector/soap/response.js';
import { Arena } from '../../registry/xml/byte-slab.js';
import { NS } from '../../registry/xml/namespaces.js';
import { deferredFragment } from '../../registry/xml/serialize.js';
import { el } from '../../registry/xml/tree.js';
import { ACTIONS } from '../helpers/soap.js';

/** A response whose socket keeps every chunk written to it (a client that reads nothing yet), finishing only when told. */
class HeldResponse extends EventEmitter {
  readonly chunks: Buffer[] = [];
  writeHead(): this {
    return this;
  }
  setHeader(): this {
    return this;
  }
  cork(): void {}
  write(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }
  end(callback?: () => void): this {
    if (typeof callback === 'function') this.once('finish', callback);
    return this;
  }
  /** The kernel took the last byte. */
  finish(): void {
    this.emit('finish');
  }
}

/** An answer of `n` elements written as a cold answer's are: deferred, through one scratch buffer. */
function answer(tag: string, n: number) {
  const scratch = Buffer.alloc(2048);
  return el(
    NS.rim,
    'RegistryObjectList',
    {},
    Array.from({ length: n }, (_, i) =>
      deferredFragment(NS.rim, 'ExtrinsicObject', (place) => place([scratch.subarray(0, scratch.write(`<rim:ExtrinsicObject id="${tag}-${i}" status="s">${'x'.repeat(1500)}</rim:ExtrinsicObject>`))]), [NS.rim]),
    ),
  );
}

async function send(res: HeldResponse, tag: string): Promise<string> {
  const arena = new Arena();
  const built = buildEnvelopeBytes({ action: ACTIONS.iti18.response, body: answer(tag, 100) }, arena);
  const expected = Buffer.concat(built.chunks).toString('utf8');
  await sendSoap(res as unknown as ServerResponse, { status: 200, action: ACTIONS.iti18.response, envelopeXml: built.chunks, arena });
  return expected;
}

describe('sendSoap with an answer arena', () => {
  it('releases the arena at finish, not before: answers written meanwhile leave the held chunks as they were', async () => {
    const held = new HeldResponse();
    const expected = await send(held, 'held');
    expect(Buffer.concat(held.chunks).toString('utf8')).to.equal(expected);
    // Many answers sent and finished while the first is still held by its socket.
    for (let k = 0; k < 20; k++) {
      const other = new HeldResponse();
      await send(other, `other-${k}`);
      other.finish();
    }
    expect(Buffer.concat(held.chunks).toString('utf8'), 'the held answer is intact').to.equal(expected);
    held.finish();
    // Released now: the next answer writes into its blocks.
    const next = new HeldResponse();
    await send(next, 'next');
    const heldBlocks = new Set(held.chunks.map((c) => c.buffer));
    expect(next.chunks.some((c) => heldBlocks.has(c.buffer)), 'the released blocks are reused').to.equal(true);
  });

  it('never releases the arena of a response that does not finish (the client left): it is left to the collector', async () => {
    const gone = new HeldResponse();
    const expected = await send(gone, 'gone');
    gone.emit('close');
    for (let k = 0; k < 5; k++) {
      const other = new HeldResponse();
      await send(other, `after-${k}`);
      other.finish();
    }
    expect(Buffer.concat(gone.chunks).toString('utf8')).to.equal(expected);
  });
});
