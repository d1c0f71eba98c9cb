import { expect } from 'chai';
import { checkCxFormat, createPatientIdPolicy, isValidNorwegianId, NORWEGIAN_ID_OID } from '../../registry/patients';

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
