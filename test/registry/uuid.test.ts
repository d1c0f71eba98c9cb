/** Time-ordered UUIDs (v7), the entryUUIDs the registry assigns. */
import { expect } from 'chai';
import { isUuid } from '../../registry/model/metadata.js';
import { newEntryUuid, timeOrderedUuid } from '../../registry/model/uuid.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('time-ordered UUIDs', () => {
  it('are RFC 9562 version 7 with the millisecond time in the first 48 bits', () => {
    const ms = Date.UTC(2026, 10, 23, 17, 0, 0, 123);
    const id = timeOrderedUuid(ms);
    expect(id).to.match(V7);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).to.equal(ms);
    expect(timeOrderedUuid(0).slice(0, 15)).to.equal('00000000-0000-7');
    expect(timeOrderedUuid(2 ** 48 - 1).slice(0, 15)).to.equal('ffffffff-ffff-7');
  });

  it('sort by time, and differ within one millisecond', () => {
    const ms = Date.now();
    const same = Array.from({ length: 1000 }, () => timeOrderedUuid(ms));
    expect(new Set(same).size).to.equal(1000);
    const later = timeOrderedUuid(ms + 1);
    for (const id of same) expect(id < later).to.equal(true);
    // The cached prefix follows the time asked for, also backwards.
    expect(timeOrderedUuid(ms - 1) < same[0]!).to.equal(true);
  });

  it('refuse a time that has no 48-bit millisecond form', () => {
    for (const bad of [-1, 2 ** 48, 1.5, Number.NaN]) expect(() => timeOrderedUuid(bad)).to.throw(RangeError);
  });

  it('make entryUUIDs the registry recognises as UUIDs', () => {
    const id = newEntryUuid();
    expect(id.startsWith('urn:uuid:')).to.equal(true);
    expect(id.slice(9)).to.match(V7);
    expect(isUuid(id)).to.equal(true);
  });
});
