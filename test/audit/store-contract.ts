/**
 * The audit store contract, run against the embedded store and (with MONGODB_URI) MongoDB:
 * idempotent append and appendMany, the FHIR resource kept whole, patient access queries by id, authority and
 * time range, oldest or newest first, with keyset paging; the operator's search of the whole trail.
 */
import { expect } from 'chai';
import { auditEvents, denialEvent } from '../../connector/audit/event.js';
import { toFhirAuditEvent } from '../../connector/audit/fhir.js';
import type { AuditStore } from '../../connector/audit/store.js';
import { baseInput, PATIENT_ID, principal } from './fixtures.js';

export function describeAuditStoreContract(name: string, open: () => Promise<AuditStore>, cleanup: () => Promise<void>): void {
  describe(`audit store contract: ${name}`, () => {
    let store: AuditStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    const docs = [{ uniqueId: '2.16.578.1.12.4.5.100.1.7.1', repositoryUniqueId: '2.16.578.1.12.4.5.100.1.2' }];

    it('stores the FHIR AuditEvent once per id, even when appended twice', async () => {
      const e = auditEvents.iti43({ ...baseInput({ at: new Date('2026-03-01T10:00:00.000Z') }), documents: docs });
      await store.append(e);
      await store.append(e);
      const resource = (await store.get(e.id)) as Record<string, any>;
      expect(resource.id).to.equal(e.id);
      expect(resource.subtype[0].code).to.equal('ITI-43');
      const found = await store.patientAccesses({ patientId: '01017012343', from: new Date(0), to: new Date('2100-01-01'), limit: 10 });
      expect(found.map((f) => f.id)).to.deep.equal([e.id]);
      expect(found[0]!.recorded).to.equal('2026-03-01T10:00:00.000Z');
      expect(found[0]!.entry.documents).to.deep.equal([docs[0]!.uniqueId]);
    });

    it("serves a stored event as exactly the event's FHIR AuditEvent (rendered when read)", async () => {
      const query = { storedQueryId: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d', text: '<query:AdhocQueryRequest>Ø &amp; "x"</query:AdhocQueryRequest>' };
      const events = [
        auditEvents.iti18({ ...baseInput({ principal }), patientId: PATIENT_ID, query }),
        auditEvents.iti43({ ...baseInput({ principal }), documents: docs }),
        denialEvent({ ...baseInput({ principal }), transaction: 'ITI-18', query, reason: 'ATT-5' }),
      ];
      await store.appendMany(events);
      for (const e of events) expect(await store.get(e.id)).to.deep.equal(toFhirAuditEvent(e));
    });

    it('appendMany stores a group, skipping ids already stored or repeated within the group', async () => {
      const at = (iso: string) => ({ ...baseInput({ at: new Date(iso) }), documents: docs });
      const stored = auditEvents.iti43(at('2026-04-01T10:00:00.000Z'));
      await store.append(stored);
      const fresh = [
        auditEvents.iti43(at('2026-04-01T10:00:01.000Z')),
        denialEvent({ transaction: 'ITI-43', ...at('2026-04-01T10:00:02.000Z'), reason: 'ATT-5' }),
        auditEvents.iti43(at('2026-04-01T10:00:03.000Z')),
      ];
      // A redelivered group: the already-stored event first and an event twice; every new one must still be stored.
      await store.appendMany([stored, fresh[0]!, fresh[1]!, fresh[0]!, fresh[2]!]);
      await store.appendMany([]);
      const found = await store.patientAccesses({ patientId: '01017012343', from: new Date(0), to: new Date('2100-01-01'), limit: 10 });
      expect(found.map((f) => f.id)).to.deep.equal([stored, ...fresh].map((e) => e.id));
      expect(found[2]!.entry.outcome).to.equal('refused');
      for (const e of fresh) expect(await store.get(e.id)).to.have.nested.property('subtype[0].code', 'ITI-43');
      // The whole group again (a second redelivery) changes nothing.
      await store.appendMany(fresh);
      const again = await store.patientAccesses({ patientId: '01017012343', from: new Date(0), to: new Date('2100-01-01'), limit: 10 });
      expect(again.map((f) => f.id)).to.deep.equal(found.map((f) => f.id));
    });

    it('selects by patient, assigning authority and [from, to), oldest first', async () => {
      const at = (iso: string) => new Date(iso);
      const early = auditEvents.iti43({ ...baseInput({ at: at('2026-01-01T00:00:00.000Z') }), documents: docs });
      const middle = denialEvent({ transaction: 'ITI-43', ...baseInput({ at: at('2026-02-01T00:00:00.000Z') }), documents: docs, reason: 'ATT-5' });
      const late = auditEvents.iti43({ ...baseInput({ at: at('2026-03-01T00:00:00.000Z') }), documents: docs });
      const other = auditEvents.iti43({ ...baseInput({ at: at('2026-02-01T00:00:00.000Z'), patientId: '02027012372^^^&2.16.578.1.12.4.1.4.1&ISO' }), documents: docs });
      for (const e of [late, other, middle, early]) await store.append(e);
      const range = await store.patientAccesses({ patientId: '01017012343', from: at('2026-01-01T00:00:00.000Z'), to: at('2026-03-01T00:00:00.000Z'), limit: 10 });
      expect(range.map((r) => r.id)).to.deep.equal([early.id, middle.id]);
      expect(range[1]!.entry.outcome).to.equal('refused');
      const withAuthority = await store.patientAccesses({
        patientId: '01017012343',
        assigningAuthority: '2.16.578.1.12.4.1.4.1',
        from: at('2025-01-01'),
        to: at('2027-01-01'),
        limit: 2,
      });
      expect(withAuthority.map((r) => r.id)).to.deep.equal([early.id, middle.id]);
      const wrongAuthority = await store.patientAccesses({ patientId: '01017012343', assigningAuthority: '2.16.578.1.12.4.1.4.2', from: at('2025-01-01'), to: at('2027-01-01'), limit: 10 });
      expect(wrongAuthority).to.deep.equal([]);
      expect(PATIENT_ID.startsWith('01017012343^')).to.equal(true);
    });

    it('newest first, ties by id, and keyset pages strictly before a cursor', async () => {
      const at = (iso: string) => ({ ...baseInput({ at: new Date(iso) }), documents: docs });
      const events = [
        auditEvents.iti43(at('2026-05-01T10:00:00.000Z')),
        auditEvents.iti43(at('2026-05-02T10:00:00.000Z')),
        auditEvents.iti43(at('2026-05-02T10:00:00.000Z')),
        auditEvents.iti43(at('2026-05-03T10:00:00.000Z')),
      ];
      await store.appendMany(events);
      const q = { patientId: '01017012343', from: new Date('2026-01-01'), to: new Date('2027-01-01'), newestFirst: true };
      const all = await store.patientAccesses({ ...q, limit: 10 });
      const tie = [events[1]!.id, events[2]!.id].sort().reverse();
      expect(all.map((a) => a.id)).to.deep.equal([events[3]!.id, ...tie, events[0]!.id]);
      const page1 = await store.patientAccesses({ ...q, limit: 2 });
      const page2 = await store.patientAccesses({ ...q, limit: 2, before: { recorded: page1[1]!.recorded, id: page1[1]!.id } });
      const page3 = await store.patientAccesses({ ...q, limit: 2, before: { recorded: page2[1]!.recorded, id: page2[1]!.id } });
      expect([...page1, ...page2, ...page3].map((a) => a.id)).to.deep.equal(all.map((a) => a.id));
      expect(page3).to.have.length(0);
    });

    it('searches the whole trail by practitioner, organisation, transaction, outcome, patient and time, newest first', async () => {
      const at = (iso: string, overrides: Parameters<typeof baseInput>[0] = {}) => ({ ...baseInput({ at: new Date(iso), ...overrides }), documents: docs });
      const other = { name: 'Kari Nordmann', organisation: { id: '974633574', name: 'Universitetssykehuset Nord-Norge HF' } };
      const byAerlig = auditEvents.iti43(at('2026-06-01T10:00:00.000Z'));
      const refused = denialEvent({ transaction: 'ITI-43', ...at('2026-06-02T10:00:00.000Z'), reason: 'ATT-5' });
      const byKari = auditEvents.iti43(at('2026-06-03T10:00:00.000Z', { principal: other, patientId: '02027012372^^^&2.16.578.1.12.4.1.4.1&ISO' }));
      const anonymous = auditEvents.iti43(at('2026-06-04T10:00:00.000Z', { principal: undefined }));
      await store.appendMany([byAerlig, refused, byKari, anonymous]);
      const ids = async (q: Omit<Parameters<NonNullable<AuditStore['search']>>[0], 'limit'>) =>
        (await store.search!({ ...q, limit: 10 })).map((h) => h.id);
      expect(await ids({})).to.deep.equal([anonymous.id, byKari.id, refused.id, byAerlig.id]);
      // Part of the name, in another case, non-ASCII letters included.
      expect(await ids({ practitioner: 'øVERGÅ' })).to.deep.equal([refused.id, byAerlig.id]);
      expect(await ids({ organisation: '974633574' })).to.deep.equal([byKari.id]);
      expect(await ids({ organisation: 'finnmark' })).to.deep.equal([refused.id, byAerlig.id]);
      expect(await ids({ transaction: 'ITI-43', outcome: 'refused' })).to.deep.equal([refused.id]);
      expect(await ids({ transaction: 'ITI-18' })).to.deep.equal([]);
      expect(await ids({ patientId: '02027012372' })).to.deep.equal([byKari.id]);
      expect(await ids({ from: new Date('2026-06-02T00:00:00.000Z'), to: new Date('2026-06-04T10:00:00.000Z') })).to.deep.equal([byKari.id, refused.id]);
      expect(await ids({ practitioner: '.*' })).to.deep.equal([]);
      const [hit] = await store.search!({ practitioner: 'Kari', limit: 1 });
      expect(hit).to.deep.include({ id: byKari.id, recorded: '2026-06-03T10:00:00.000Z', patientId: '02027012372' });
      expect(hit!.entry.practitioner.name).to.equal('Kari Nordmann');
      expect(await store.search!({ limit: 2 })).to.have.length(2);
    });
  });
}
