/**
 * The Auditor's side of the registry outbox (issue 14, item 5): a submission's event written in the
 * registry's commit is recorded from there when nobody recorded it (at attach, i.e. at start), once
 * (the store keeps one copy per id), and the outbox forgets it; a record whose submission was never
 * stored is not an event.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Auditor, auditCommitRecord, AUDIT_OUTBOX_KIND, type AuditOutboxSource } from '../../connector/audit/auditor.js';
import { auditEvents, type AuditEvent } from '../../connector/audit/event.js';
import { openEmbeddedAuditStore } from '../../connector/audit/store-embedded.js';
import type { AuditStore } from '../../connector/audit/store.js';
import type { OutboxRecord } from '../../registry/store/store.js';
import { baseInput } from './fixtures.js';

const silent = { warn: () => undefined, error: () => undefined };

function submissionEvent(recorded?: string): AuditEvent {
  const e = auditEvents.iti42({ ...baseInput(), submissionSetUniqueId: '1.2.3', documents: [{ uniqueId: '1.2.3.4' }] });
  return recorded === undefined ? e : { ...e, recorded };
}

/** An outbox in memory, with the entryUUIDs that are stored. */
function memoryOutbox(records: OutboxRecord[], stored: readonly string[]): AuditOutboxSource & { done: string[] } {
  const done: string[] = [];
  return {
    done,
    outbox: {
      pending: async (kind) => records.filter((r) => r.kind === kind && !done.includes(r.id)),
      done: (ids) => void done.push(...ids),
    },
    getByUuids: async (ids) => ids.filter((id) => stored.includes(id)).map((entryUuid) => ({ entryUuid })),
  };
}

describe('audit events from the registry outbox', () => {
  let dir: string;
  let store: AuditStore;
  let auditor: Auditor;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kp-audit-outbox-'));
    store = openEmbeddedAuditStore({ path: join(dir, 'audit.sqlite') });
    auditor = new Auditor({ dataDir: dir, store, logger: silent });
  });
  afterEach(async () => {
    await auditor.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records at attach the events of stored submissions, ignores the others, and forgets what it recorded', async () => {
    const stored = submissionEvent();
    const notStored = submissionEvent();
    const old = submissionEvent(new Date(Date.now() - 3600_000).toISOString());
    const records: OutboxRecord[] = [
      { ...auditCommitRecord(stored), witness: 'urn:uuid:stored' },
      { ...auditCommitRecord(notStored), witness: 'urn:uuid:never-stored' },
      { ...auditCommitRecord(old), witness: 'urn:uuid:never-stored-either' },
      { id: 'blob:x', kind: 'blob-commit', payload: '{}', witness: 'urn:uuid:stored' },
    ];
    const source = memoryOutbox(records, ['urn:uuid:stored']);
    auditor.attachOutbox(source);
    await auditor.flush();
    expect(await store.get(stored.id)).not.to.equal(undefined);
    expect(await store.get(notStored.id)).to.equal(undefined);
    expect(await store.get(old.id)).to.equal(undefined);
    // Recorded, and an unwitnessed record old enough that no commit can still be under way: both done.
    expect([...source.done].sort()).to.deep.equal([auditCommitRecord(stored).id, auditCommitRecord(old).id].sort());
    expect(records.filter((r) => r.kind === AUDIT_OUTBOX_KIND)).to.have.length(3);
  });

  it('recordCommitted stores the event once although the outbox records it too, and lets the outbox forget it', async () => {
    const event = submissionEvent();
    const source = memoryOutbox([{ ...auditCommitRecord(event), witness: 'urn:uuid:s' }], ['urn:uuid:s']);
    await auditor.recordCommitted(event);
    auditor.attachOutbox(source);
    await auditor.flush();
    expect(source.done).to.include(auditCommitRecord(event).id);
    const db = (await import('better-sqlite3')).default;
    const file = new db(join(dir, 'audit.sqlite'), { readonly: true });
    try {
      expect(file.prepare('SELECT count(*) AS n FROM audit_events WHERE id = ?').get(event.id)).to.deep.equal({ n: 1 });
    } finally {
      file.close();
    }
  });
});
