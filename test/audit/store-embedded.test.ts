import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { auditEvents } from '../../connector/audit/event';
import { EMBEDDED_AUDIT_FILE, openAuditStore } from '../../connector/audit/store';
import { describeAuditStoreContract } from './store-contract';
import { baseInput } from './fixtures';

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
});
