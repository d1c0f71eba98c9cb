/**
 * The reusable raw deflater and inflater of record-codec.mjs for dictionaries of the caller's (the
 * stored-form measurement, scripts/bench-stored-form.ts): one zlib handle each, reset per input.
 */
import { expect } from 'chai';
import zlib from 'node:zlib';
import { reusableDeflater, reusableInflater } from '../../registry/store/embedded/record-codec.mjs';

const dictionary = Buffer.from('<rim:ExtrinsicObject id="urn:uuid:" status="urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"><rim:Slot name="creationTime">'.repeat(4));
const texts = ['', 'x', '<rim:ExtrinsicObject id="urn:uuid:1234" status="urn:oasis:names:tc:ebxml-regrep:StatusType:Approved">Løpende journal</rim:ExtrinsicObject>', 'ø'.repeat(70_000)];

describe('record codec: reusable deflater and inflater', () => {
  it('round-trips every input through one handle each, as zlib itself inflates it', () => {
    const pack = reusableDeflater(dictionary);
    const unpack = reusableInflater(dictionary);
    for (let round = 0; round < 2; round++) {
      for (const text of texts) {
        const input = Buffer.from(text, 'utf8');
        const packed = Buffer.from(pack(input));
        expect(zlib.inflateRawSync(packed, { dictionary }).equals(input)).to.equal(true);
        expect(Buffer.from(unpack(packed, 0, input.length)).equals(input)).to.equal(true);
      }
    }
  });

  it('leaves the headroom before the compressed bytes, and inflates from an offset', () => {
    const pack = reusableDeflater(dictionary, 5);
    const unpack = reusableInflater(dictionary);
    const input = Buffer.from(texts[2]!, 'utf8');
    const packed = Buffer.from(pack(input));
    expect(Buffer.from(unpack(packed, 5, input.length)).equals(input)).to.equal(true);
  });

  it('refuses an input that inflates to another length, and a corrupt one, and goes on working after', () => {
    const pack = reusableDeflater(dictionary);
    const unpack = reusableInflater(dictionary);
    const input = Buffer.from(texts[2]!, 'utf8');
    const packed = Buffer.from(pack(input));
    expect(() => unpack(packed, 0, input.length - 1)).to.throw(/unpacked to/);
    expect(() => unpack(Buffer.from([0xff, 0xff, 0xff, 0xff]), 0, 10)).to.throw();
    expect(Buffer.from(unpack(packed, 0, input.length)).equals(input)).to.equal(true);
  });
});
