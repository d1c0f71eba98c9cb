/** isoTime: the text of Date.prototype.toISOString, whether the millisecond was formatted just before or not. */
import { expect } from 'chai';
import { isoTime } from '../../connector/clock.js';

describe('isoTime', () => {
  it('is toISOString of the time, for repeated, alternating and extreme times', () => {
    const times = [0, 0, 1, 1_764_000_000_123, 1_764_000_000_123, 1_764_000_000_124, 1_764_000_000_123, -1, 253_402_300_799_999, 253_402_300_800_000, Date.now()];
    for (const ms of times) expect(isoTime(ms), String(ms)).to.equal(new Date(ms).toISOString());
  });
});
