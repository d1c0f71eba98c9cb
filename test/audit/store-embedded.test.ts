import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { auditEvents } from '../../connector/audit/event.js';
import { EMBEDDED_AUDIT_FILE, openAuditStore } from '../../connector/audit/store.js';
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
});
