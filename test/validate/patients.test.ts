import { expect } from 'chai';
import { checkCxFormat, createPatientIdPolicy, isValidNorwegianId, NORWEGIAN_ID_OID } from '../../registry/patients.js';

const cx = (id: string, oid: string) => `${id}^^^&${oid}&ISO`;

describe('patient-id policy', () => {
  describe('Norwegian ids', () => {
    it('accepts the synthetic test person 13116900216 as a fødselsnummer', () => {
      expect(isValidNorwegianId('13116900216', 'F')).to.equal(true);
    });
    it('rejects a wrong first or second check digit', () => {
      expect(isValidNorwegianId('13116900226', 'F')).to.equal(false);
      expect(isValidNorwegianId('13116900217', 'F')).to.equal(false);
    });
    it('rejects non-digits and wrong lengths', () => {
      expect(isValidNorwegianId('1311690021', 'F')).to.equal(false);
      expect(isValidNorwegianId('1311690021x', 'F')).to.equal(false);
    });
    it('rejects impossible dates even with valid check digits', () => {
      expect(isValidNorwegianId('32010012308', 'F')).to.equal(false); // day 32
      expect(isValidNorwegianId('01130012384', 'F')).to.equal(false); // month 13
    });
    it('uses the individual number to find the century for 29 February', () => {
      expect(isValidNorwegianId('29020012380', 'F')).to.equal(false); // 1900 was no leap year
      expect(isValidNorwegianId('29020051386', 'F')).to.equal(true); // 2000 was
    });
    it('validates D-numbers (first digit + 4) only as D-numbers', () => {
      expect(isValidNorwegianId('41010112360', 'D')).to.equal(true);
      expect(isValidNorwegianId('41010112360', 'F')).to.equal(false);
      expect(isValidNorwegianId('01010112377', 'D')).to.equal(false);
    });
    it('validates H-numbers (third digit + 4) only as H-numbers', () => {
      expect(isValidNorwegianId('01410112430', 'H')).to.equal(true);
      expect(isValidNorwegianId('01410112430', 'F')).to.equal(false);
    });
    it('accepts Tenor synthetic ids (month + 80) only when asked to', () => {
      expect(isValidNorwegianId('13916900281', 'F')).to.equal(false);
      expect(isValidNorwegianId('13916900281', 'F', { synthetic: true })).to.equal(true);
    });
    it('agrees with the straightforward check (Date for the calendar) on every birth date and check digit', () => {
      // The check as it was written first: the fast one must answer exactly the same.
      const mod11 = (digits: number[], weights: number[]) => {
        const k = 11 - (weights.reduce((acc, w, i) => acc + w * (digits[i] ?? 0), 0) % 11);
        return k === 11 ? 0 : k === 10 ? undefined : k;
      };
      const reference = (id: string, kind: 'F' | 'D' | 'H', synthetic: boolean): boolean => {
        if (!/^\d{11}$/.test(id)) return false;
        const d = [...id].map(Number);
        if (mod11(d, [3, 7, 6, 1, 8, 9, 4, 5, 2]) !== d[9] || mod11(d, [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) !== d[10]) return false;
        let day = Number(id.slice(0, 2));
        let month = Number(id.slice(2, 4));
        const yy = Number(id.slice(4, 6));
        const individual = Number(id.slice(6, 9));
        if (kind === 'D') {
          if (day < 41 || day > 71) return false;
          day -= 40;
        }
        if (kind === 'H') {
          if (month < 41 || month > 52) return false;
          month -= 40;
        }
        if (synthetic && month >= 81 && month <= 92) month -= 80;
        const years: number[] = [];
        if (individual <= 499) years.push(1900 + yy);
        if (individual >= 500 && individual <= 749 && yy >= 54) years.push(1800 + yy);
        if (individual >= 500 && yy <= 39) years.push(2000 + yy);
        if (individual >= 900 && yy >= 40) years.push(1900 + yy);
        const candidates = years.length > 0 ? years : [1800 + yy, 1900 + yy, 2000 + yy];
        return candidates.some((y) => month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(y, month, 0)).getUTCDate());
      };
      let accepted = 0;
      // Every day and month around each kind's offset (D: day + 40, H: month + 40, synthetic: month
      // + 80), in leap and common years of each century (individual numbers from each range), with
      // both check digits right, and with the second one wrong.
      const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
      for (const day of [...range(0, 33), ...range(39, 73)]) {
        for (const month of [...range(0, 14), ...range(39, 54), ...range(79, 94)]) {
          for (const yy of [0, 4, 54, 96]) {
            for (const individual of [0, 500, 750, 900]) {
              const nine = `${String(day).padStart(2, '0')}${String(month).padStart(2, '0')}${String(yy).padStart(2, '0')}${String(individual).padStart(3, '0')}`;
              const d = [...nine].map(Number);
              const k1 = mod11(d, [3, 7, 6, 1, 8, 9, 4, 5, 2]);
              if (k1 === undefined) continue;
              const k2 = mod11([...d, k1], [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) ?? 0;
              for (const id of [`${nine}${k1}${k2}`, `${nine}${k1}${(k2 + 1) % 10}`]) {
                for (const kind of ['F', 'D', 'H'] as const) {
                  for (const synthetic of [false, true]) {
                    const expected = reference(id, kind, synthetic);
                    if (isValidNorwegianId(id, kind, { synthetic }) !== expected) expect.fail(`${id} ${kind} synthetic=${synthetic}: expected ${expected}`);
                    if (expected) accepted++;
                  }
                }
              }
            }
          }
        }
      }
      expect(accepted).to.be.greaterThan(5_000);
      for (const odd of ['', '1311690021', '131169002160', '1311690021a', '13116900216 ', '١٣١١٦٩٠٠٢١٦', '1311690021\u0036']) {
        expect(isValidNorwegianId(odd, 'F'), odd).to.equal(reference(odd, 'F', false));
      }
    });
  });

  describe('CX format', () => {
    it('accepts id^^^&oid&ISO', () => {
      expect(checkCxFormat(cx('13116900216', NORWEGIAN_ID_OID.fodselsnummer))).to.equal(undefined);
    });
    for (const bad of [
      '13116900216',
      '13116900216^^^&2.16.578.1.12.4.1.4.1&ISO^PI',
      '13116900216^1^^&2.16.578.1.12.4.1.4.1&ISO',
      '^^^&2.16.578.1.12.4.1.4.1&ISO',
      '13116900216^^^FNR&2.16.578.1.12.4.1.4.1&ISO',
      '13116900216^^^&urn:oid:2.16.578.1.12.4.1.4.1&ISO',
      '13116900216^^^&2.16.578.1.12.4.1.4.1&DNS',
      '13116900216^^^&2.16.578.1.12.4.1.4.1',
    ]) {
      it(`rejects ${bad}`, () => expect(checkCxFormat(bad)).to.be.a('string'));
    }
  });

  describe('isKnown', () => {
    const policy = createPatientIdPolicy({
      acceptedAssigningAuthorities: ['urn:oid:1.2.3.4'],
      knownPatientIds: ['ABC^^^&1.9.8.7&ISO'],
    });
    it('knows valid F-, D- and H-numbers under their OIDs', () => {
      expect(policy.isKnown(cx('13116900216', NORWEGIAN_ID_OID.fodselsnummer))).to.equal(true);
      expect(policy.isKnown(cx('41010112360', NORWEGIAN_ID_OID.dNumber))).to.equal(true);
      expect(policy.isKnown(cx('01410112430', NORWEGIAN_ID_OID.hNumber))).to.equal(true);
    });
    it('does not know invalid Norwegian numbers, nor a D-number under the F-number OID', () => {
      expect(policy.isKnown(cx('13116900217', NORWEGIAN_ID_OID.fodselsnummer))).to.equal(false);
      expect(policy.isKnown(cx('41010112360', NORWEGIAN_ID_OID.fodselsnummer))).to.equal(false);
    });
    it('knows any id of a configured authority (urn:oid: prefix in config tolerated)', () => {
      expect(policy.isKnown(cx('whatever', '1.2.3.4'))).to.equal(true);
    });
    it('knows configured exact CX values and nothing else of unconfigured authorities', () => {
      expect(policy.isKnown('ABC^^^&1.9.8.7&ISO')).to.equal(true);
      expect(policy.isKnown('ABD^^^&1.9.8.7&ISO')).to.equal(false);
    });
    it('never knows a malformed CX', () => {
      expect(policy.isKnown('13116900216^^^&2.16.578.1.12.4.1.4.1&ISO^x')).to.equal(false);
    });
    it('honours acceptSyntheticNorwegianIds', () => {
      const synthetic = createPatientIdPolicy({ acceptedAssigningAuthorities: [], acceptSyntheticNorwegianIds: true });
      expect(synthetic.isKnown(cx('13916900281', NORWEGIAN_ID_OID.fodselsnummer))).to.equal(true);
      expect(policy.isKnown(cx('13916900281', NORWEGIAN_ID_OID.fodselsnummer))).to.equal(false);
    });
  });
});
