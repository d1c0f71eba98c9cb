/** Reading the embedded audit store's file directly, as an auditor would: which submissions have an event. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { storedEventResource } from '../../connector/audit/store.js';

/** The SubmissionSet uniqueIds named by the audit store's ITI-41/ITI-42 events. */
export async function auditedSubmissions(dataDir: string): Promise<string[]> {
  const db = new Database(join(dataDir, 'audit.sqlite'), { readonly: true });
  try {
    const uids: string[] = [];
    for (const row of db.prepare('SELECT resource, event FROM audit_events').all() as { resource: string; event: string | null }[]) {
      const event = (row.event !== null ? storedEventResource(row.event) : JSON.parse(row.resource)) as { entity?: { what?: { identifier?: { value?: string } }; type?: { code?: string }; role?: { code?: string } }[] };
      for (const e of event.entity ?? []) {
        const v = e.what?.identifier?.value;
        if (v !== undefined) uids.push(v);
      }
    }
    return uids;
  } finally {
    db.close();
  }
}
