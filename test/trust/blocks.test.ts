import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { MemoryPatientBlockStore, SqlitePatientBlockStore, type PatientBlockStore } from '../../connector/trust/blocks.js';
import type { Principal } from '../../connector/trust/principal.js';

const PATIENT = '17055412345^^^&2.16.578.1.12.4.1.4.1&ISO';
const principal = (over: Partial<Principal> = {}): Principal => ({
  assertionId: '_a',
  issuer: 'i',
  subjectId: '13116900216',
  hprNumber: '565505933',
  organizationId: { extension: '960510542' },
  childOrganizationId: { extension: '874593842' },
  patientId: PATIENT,
  accessConsentPolicies: [],
  audiences: [],
  notOnOrAfter: new Date(0),
  attributes: {},
  ...over,
});

function contract(name: string, open: () => PatientBlockStore): void {
  describe(`patient blocks (ATT-5): ${name}`, () => {
    let store: PatientBlockStore;
    beforeEach(() => {
      store = open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('has no blocks at first', async () => {
      expect(await store.isBlocked(principal(), PATIENT)).to.equal(false);
      expect(await store.list(PATIENT)).to.deep.equal([]);
    });

    it('a block of all sharing stops everyone but the patient, until removed', async () => {
      const b = await store.add({ patientId: PATIENT, kind: 'all', reason: 'patient request' });
      expect(await store.isBlocked(principal(), PATIENT)).to.equal(true);
      expect(await store.isBlocked(principal({ subjectId: '17055412345' }), PATIENT)).to.equal(false);
      expect(await store.isBlocked(principal(), '13116900216^^^&2.16.578.1.12.4.1.4.1&ISO')).to.equal(false);
      expect(await store.list(PATIENT)).to.deep.equal([b]);
      expect(await store.remove(b.id)).to.equal(true);
      expect(await store.remove(b.id)).to.equal(false);
      expect(await store.isBlocked(principal(), PATIENT)).to.equal(false);
    });

    it('a practitioner block stops that practitioner (HPR number or fødselsnummer) only', async () => {
      await store.add({ patientId: PATIENT, kind: 'practitioner', value: '565505933' });
      expect(await store.isBlocked(principal(), PATIENT)).to.equal(true);
      expect(await store.isBlocked(principal({ hprNumber: '111111111', subjectId: '01010112345' }), PATIENT)).to.equal(false);
      await store.add({ patientId: PATIENT, kind: 'practitioner', value: '01010112345' });
      expect(await store.isBlocked(principal({ hprNumber: '111111111', subjectId: '01010112345' }), PATIENT)).to.equal(true);
    });

    it('an organisation block matches the legal entity or the point of care', async () => {
      await store.add({ patientId: PATIENT, kind: 'organization', value: '874593842' });
      expect(await store.isBlocked(principal(), PATIENT)).to.equal(true);
      expect(await store.isBlocked(principal({ childOrganizationId: { extension: '1' } }), PATIENT)).to.equal(false);
      await store.add({ patientId: PATIENT, kind: 'organization', value: '960510542' });
      expect(await store.isBlocked(principal({ childOrganizationId: { extension: '1' } }), PATIENT)).to.equal(true);
    });

    it('matches the patient with and without urn:oid:', async () => {
      await store.add({ patientId: '17055412345^^^&urn:oid:2.16.578.1.12.4.1.4.1&ISO', kind: 'all' });
      expect(await store.isBlocked(principal(), PATIENT)).to.equal(true);
    });

    it('refuses a block without the identifier it needs', async () => {
      let failed = false;
      try {
        await store.add({ patientId: PATIENT, kind: 'practitioner' });
      } catch {
        failed = true;
      }
      expect(failed).to.equal(true);
    });
  });
}

contract('in memory', () => new MemoryPatientBlockStore());
contract('embedded (better-sqlite3)', () => new SqlitePatientBlockStore(':memory:'));

describe('patient blocks: embedded file', () => {
  it('survives closing and reopening the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kp-blocks-'));
    try {
      const file = join(dir, 'sub', 'patient-blocks.sqlite');
      const a = new SqlitePatientBlockStore(file);
      const block = await a.add({ patientId: PATIENT, kind: 'organization', value: '960510542' });
      await a.close();
      const b = new SqlitePatientBlockStore(file);
      expect(await b.list(PATIENT)).to.deep.equal([block]);
      expect(await b.isBlocked(principal(), PATIENT)).to.equal(true);
      await b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
