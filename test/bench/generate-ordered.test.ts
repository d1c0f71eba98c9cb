/**
 * Generator version 3 (issue 19): entryUUIDs ascending in the order the generator registers them,
 * drawn from the same random numbers as version 2's, so nothing else about a patient changes.
 */
import { expect } from 'chai';
import { isUuid } from '../../registry/model/metadata.js';
import { createWorld, GENERATOR_VERSION, planPatient } from '../../scripts/generate/patient.js';
import { Random } from '../../scripts/generate/random.js';

describe('synthetic data generator: ordered entryUUIDs (version 3)', () => {
  it('orderedUuid draws what uuid draws and keeps its random tail, with (major, minor) in front', () => {
    for (let k = 0; k < 50; k++) {
      const a = new Random(1, k);
      const b = new Random(1, k);
      const random = a.uuid();
      const ordered = b.orderedUuid(k, k * 3);
      expect(isUuid(ordered)).to.equal(true);
      expect(ordered.slice(0, 22)).to.equal(`urn:uuid:${k.toString(16).padStart(8, '0')}-${(k * 3).toString(16).padStart(4, '0')}`);
      expect(ordered.slice(22)).to.equal(random.slice(22));
      expect(ordered[23]).to.equal('4');
      expect(b.uint32()).to.equal(a.uint32());
    }
    expect(() => new Random(1).orderedUuid(0x1_0000_0000, 0)).to.throw(RangeError);
    expect(() => new Random(1).orderedUuid(0, 0x1_0000)).to.throw(RangeError);
  });

  it('gives every object an entryUUID above all earlier ones, in registration order across patients', () => {
    expect(GENERATOR_VERSION).to.equal(3);
    const world = createWorld(1);
    let last = '';
    const seen = new Set<string>();
    for (let p = 0; p < 40; p++) {
      const made: string[] = [];
      for (const { submission } of planPatient(world, p).submissions) {
        // The order planPatient makes them in; every object of a submission is made before the next submission's.
        for (const o of [...submission.documentEntries, submission.submissionSet, ...submission.folders, ...submission.associations]) {
          expect(isUuid(o.entryUuid)).to.equal(true);
          expect(seen.has(o.entryUuid)).to.equal(false);
          seen.add(o.entryUuid);
          made.push(o.entryUuid);
        }
      }
      const sorted = [...made].sort();
      expect(sorted[0]! > last, `patient ${p} starts above the patient before`).to.equal(true);
      last = sorted[sorted.length - 1]!;
    }
  });
});
