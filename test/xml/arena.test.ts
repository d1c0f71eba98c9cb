/** The answer arena (byte-slab.ts `Arena`) and deferred fragments written into it (serialize.ts). */
import { expect } from 'chai';
import { Arena } from '../../registry/xml/byte-slab.js';
import { NS } from '../../registry/xml/namespaces.js';
import { deferredFragment, serializeXmlBytes, serializeXmlChunks, storedFragment, type Place } from '../../registry/xml/serialize.js';
import { el } from '../../registry/xml/tree.js';

const element = (id: string): string => `<rim:ExtrinsicObject id="${id}" status="urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"/>`;

/** A deferred fragment that writes `text` through a scratch buffer it overwrites on every call, as an inflated form is. */
function deferred(text: string, scratch: Buffer): ReturnType<typeof deferredFragment> {
  return deferredFragment(
    NS.rim,
    'ExtrinsicObject',
    (place: Place) => {
      const n = scratch.write(text, 0, 'utf8');
      return place([scratch.subarray(0, n)]);
    },
    [NS.rim],
  );
}

describe('answer arena', () => {
  it('copies parts joined, and gives its blocks to the next arena once released', () => {
    const a = new Arena();
    const first = a.copy([Buffer.from('abc'), Buffer.from('def')]);
    expect(first.toString()).to.equal('abcdef');
    const block = first.buffer;
    a.release();
    const b = new Arena();
    const second = b.copy([Buffer.from('xyz')]);
    expect(second.buffer).to.equal(block);
    // The released arena's view now shows the next answer's bytes: what `release` promises never to be read.
    expect(first.subarray(0, 3).toString()).to.equal('xyz');
    expect(() => a.copy([Buffer.from('late')])).to.throw(/after its release/);
    b.release();
  });

  it('gives a part larger than a quarter block a Buffer of its own', () => {
    const a = new Arena();
    const big = Buffer.alloc(20_000, 0x61);
    const copy = a.copy([big]);
    expect(copy.equals(big)).to.equal(true);
    expect(copy.buffer.byteLength).to.be.at.least(20_000);
    a.release();
  });

  it('writes deferred fragments into the arena, the same bytes as without one, each answer its own', () => {
    const scratch = Buffer.alloc(4096);
    const answer = (ids: readonly string[]) =>
      el(NS.rim, 'RegistryObjectList', {}, [
        ...ids.map((id) => deferred(element(id), scratch)),
        storedFragment(NS.rim, 'ExtrinsicObject', [Buffer.from(element('stored'))], [NS.rim]),
      ]);
    const ids1 = Array.from({ length: 40 }, (_, i) => `urn:uuid:a-${i}`);
    const ids2 = Array.from({ length: 40 }, (_, i) => `urn:uuid:b-${i}`);
    const expected1 = serializeXmlBytes(answer(ids1));
    const expected2 = serializeXmlBytes(answer(ids2));
    expect(expected1.toString()).to.contain(element('urn:uuid:a-39'));

    const arena1 = new Arena();
    const chunks1 = serializeXmlChunks(answer(ids1), { arena: arena1 });
    expect(Buffer.concat(chunks1).equals(expected1)).to.equal(true);
    // While the first answer is still being sent, a second one writes into an arena of its own.
    const arena2 = new Arena();
    const chunks2 = serializeXmlChunks(answer(ids2), { arena: arena2 });
    expect(Buffer.concat(chunks1).equals(expected1), 'the first answer is untouched by the second').to.equal(true);
    expect(Buffer.concat(chunks2).equals(expected2)).to.equal(true);
    arena1.release();
    arena2.release();
    // The string writer inflates anew, without an arena.
    expect(deferred(element('x'), scratch).xml).to.equal(element('x'));
  });
});
