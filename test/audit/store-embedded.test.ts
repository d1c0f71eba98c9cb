import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { auditEvents } from '../../connector/audit/event.js';
import { fhirAuditEventJson, toFhirAuditEvent } from '../../connector/audit/fhir.js';
import { EMBEDDED_AUDIT_FILE, openAuditStore } from '../../connector/audit/store.js';
import { AUDIT_PAGE_SIZE, AUDIT_SCHEMA_VERSION } from '../../connector/audit/store-embedded.js';
import { describeAuditStoreContract } from './store-contract.js';
import { baseInput } from './fixtures.js';

let dir = '';
describeAuditStoreContract(
  'embedded (SQLite)',
  async () => {
    dir = mkdtempSync(join(tmpdir(), 'kp-audit-store-'));
    return openAuditStore({ dataDir: dir });
  },
  async () => rmSync(dir, { recursive: true, force: true }),
);

describe('embedded audit store file', () => {
  it(`lives in its own file ${EMBEDDED_AUDIT_FILE} under dataDir and keeps events across reopen`, async () => {
    const d = mkdtempSync(join(tmpdir(), 'kp-audit-store-'));
    try {
      const e = auditEvents.iti43({ ...baseInput(), documents: [{ uniqueId: '1.2.3' }] });
      const a = await openAuditStore({ dataDir: d });
      await a.append(e);
      await a.close();
      const b = await openAuditStore({ dataDir: join(d) });
      expect(await b.get(e.id)).to.have.property('id', e.id);
      const file = new Database(join(d, EMBEDDED_AUDIT_FILE), { readonly: true });
      expect(file.pragma('page_size', { simple: true })).to.equal(AUDIT_PAGE_SIZE);
      file.close();
      await b.close();
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('appendMany is one transaction: an insert failing mid-group leaves none of the group stored', async () => {
    const d = mkdtempSync(join(tmpdir(), 'kp-audit-store-'));
    const store = await openAuditStore({ dataDir: d });
    // A second connection makes SQLite itself abort the third insert of the group.
    const saboteur = new Database(join(d, EMBEDDED_AUDIT_FILE));
    try {
      const group = Array.from({ length: 5 }, () => auditEvents.iti43({ ...baseInput(), documents: [{ uniqueId: '1.2.3' }] }));
      saboteur.prepare(`CREATE TRIGGER poison BEFORE INSERT ON audit_events WHEN NEW.id = ? BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END;`.replace('?', `'${group[2]!.id}'`)).run();
      let failure: unknown;
      await store.appendMany(group).catch((e: unknown) => (failure = e));
      expect(failure).to.have.property('message', 'disk full (simulated)');
      for (const e of group) expect(await store.get(e.id)).to.equal(undefined);
      saboteur.exec('DROP TRIGGER poison');
      await store.appendMany(group);
      for (const e of group) expect(await store.get(e.id)).to.have.property('id', e.id);
    } finally {
      saboteur.close();
      await store.close();
      rmSync(d, { recursive: true, force: true });
    }
  });

  /** A file as schema 0 left it: the first table, each row's FHIR AuditEvent text in `resource`. */
  const SCHEMA_0 = `CREATE TABLE audit_events (id TEXT PRIMARY KEY, recorded TEXT NOT NULL, patient_id TEXT,
    patient_authority TEXT, access TEXT NOT NULL, resource TEXT NOT NULL);
    CREATE INDEX audit_events_patient ON audit_events (patient_id, recorded);
    CREATE INDEX audit_events_recorded ON audit_events (recorded);`;

  it('keeps each event as its own JSON text, and reads a file of schema 0 (FHIR text per row) as it is, adding newer rows beside', async () => {
    const d = mkdtempSync(join(tmpdir(), 'kp-audit-store-'));
    try {
      const old = auditEvents.iti43({ ...baseInput({ at: new Date('2026-01-05T08:00:00.000Z') }), documents: [{ uniqueId: '1.2.3' }] });
      const v0 = new Database(join(d, EMBEDDED_AUDIT_FILE));
      v0.exec(SCHEMA_0);
      v0.prepare('INSERT INTO audit_events VALUES (?, ?, ?, ?, ?, ?)').run(old.id, old.recorded, '01017012343', '2.16.578.1.12.4.1.4.1', '{"transaction":"ITI-43"}', fhirAuditEventJson(old));
      v0.close();

      const store = await openAuditStore({ dataDir: d });
      const added = auditEvents.iti43({ ...baseInput(), documents: [{ uniqueId: '1.2.4' }] });
      await store.append(added);
      expect(await store.get(old.id)).to.deep.equal(toFhirAuditEvent(old));
      expect(await store.get(added.id)).to.deep.equal(toFhirAuditEvent(added));
      await store.close();

      const file = new Database(join(d, EMBEDDED_AUDIT_FILE), { readonly: true });
      try {
        expect(file.pragma('user_version', { simple: true })).to.equal(AUDIT_SCHEMA_VERSION);
        // A file made before keeps its page size; only a new one gets AUDIT_PAGE_SIZE.
        expect(file.pragma('page_size', { simple: true })).to.equal(4096);
        const rows = file.prepare('SELECT id, resource, event FROM audit_events ORDER BY recorded').all() as { id: string; resource: string; event: string | null }[];
        expect(rows.map((r) => [r.id, r.resource === '', r.event === null])).to.deep.equal([
          [old.id, false, true],
          [added.id, true, false],
        ]);
        expect(JSON.parse(rows[1]!.event!)).to.deep.equal(JSON.parse(JSON.stringify(added)));
      } finally {
        file.close();
      }
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('refuses a file of a newer schema than its own, changing nothing', async () => {
    const d = mkdtempSync(join(tmpdir(), 'kp-audit-store-'));
    try {
      const newer = new Database(join(d, EMBEDDED_AUDIT_FILE));
      newer.exec(SCHEMA_0);
      newer.pragma(`user_version = ${AUDIT_SCHEMA_VERSION + 1}`);
      newer.close();
      let failure: unknown;
      await openAuditStore({ dataDir: d }).catch((e: unknown) => (failure = e));
      expect(failure).to.be.instanceOf(Error).with.property('message').that.contains(`schema ${AUDIT_SCHEMA_VERSION + 1}`);
      const file = new Database(join(d, EMBEDDED_AUDIT_FILE), { readonly: true });
      try {
        expect(file.pragma('user_version', { simple: true })).to.equal(AUDIT_SCHEMA_VERSION + 1);
        expect((file.prepare('PRAGMA table_info(audit_events)').all() as { name: string }[]).map((c) => c.name)).to.not.include('event');
      } finally {
        file.close();
      }
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
