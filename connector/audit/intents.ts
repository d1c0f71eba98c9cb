/**
 * Audit intents: "recorded first, completed after", for a submission whose store is not ours to
 * write into. An ITI-41 registered with a remote registry (`repository.registryUrl`) is stored by
 * that registry's commit, which cannot carry this node's audit event (with the node's own registry
 * the event rides in the commit itself, see auditor.ts). So the success event is written here,
 * durably, BEFORE the registration is sent, and settled after:
 *
 *   - answered Success: the event is recorded (same id), then the intent is deleted;
 *   - answered anything else: the intent is deleted (the failure has its own event);
 *   - the process died in between: at the next start each intent is resolved by asking whether its
 *     documents are registered (`resolve`): registered → its event is recorded; not → dropped;
 *     the registry cannot be asked → kept, and asked again later.
 *
 * Every crash point is covered: before the intent is durable nothing was sent; between the intent
 * and the registry's commit the documents are not registered and the intent is dropped; after the
 * commit they are, and the event is recorded; after the event, recording it again is a no-op (the
 * audit stores keep one copy per id).
 *
 * Its own file (`audit-intents.sqlite`, WAL, synchronous=FULL), written through a SqliteWriter (off
 * the event loop). The intents of one turn of the event loop share one transaction, one fsync;
 * deletions are not durable (a lost one only means asking again at start) and ride with the next
 * group, or go on their own after a second.
 */
import Database from 'better-sqlite3';
import { SqliteWriter, type SqlStatement } from '../../registry/store/embedded/sqlite-writer.js';
import { eventFromJson, eventJson, type AuditEvent } from './event.js';

export const INTENTS_FILE = 'audit-intents.sqlite';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS intents (
  id TEXT PRIMARY KEY,
  event TEXT NOT NULL,
  -- JSON list of the document uniqueIds whose registration decides the intent.
  documents TEXT NOT NULL
);
`;

const INSERT = 'INSERT OR REPLACE INTO intents (id, event, documents) VALUES (?, ?, ?)';
const DELETE = 'DELETE FROM intents WHERE id IN (SELECT value FROM json_each(?))';
const DELETE_DELAY_MS = 1000;

/** Which of these documents have a stored registration; throws when that cannot be told now. */
export type RegisteredCheck = (documentUniqueIds: readonly string[]) => Promise<ReadonlySet<string>>;

interface Waiting {
  readonly statement: SqlStatement;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export class AuditIntents {
  private readonly db: Database.Database;
  private readonly writer: SqliteWriter;
  private waiting: Waiting[] = [];
  private finished = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(path: string) {
    this.db = new Database(path);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.exec(SCHEMA);
    } catch (e) {
      this.db.close();
      throw e;
    }
    this.writer = new SqliteWriter(path);
  }

  /** Writes the intent durably; resolves once it is on disk (only then may the registration be sent). */
  begin(event: AuditEvent, documentUniqueIds: readonly string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ statement: { sql: INSERT, params: [event.id, eventJson(event), JSON.stringify(documentUniqueIds)] }, resolve, reject });
      // Every begin of this turn of the event loop joins one transaction.
      if (this.waiting.length === 1) setImmediate(() => void this.flush());
    });
  }

  /** The intent is settled (its event recorded, or its registration failed): deleted lazily. */
  end(eventId: string): void {
    this.finished.add(eventId);
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.deleteFinished();
    }, DELETE_DELAY_MS);
    this.timer.unref();
  }

  /**
   * Settles what a crash left, or what a failed answer left undecided: records the event of every
   * intent at least `minAgeMs` old whose documents are registered, drops those whose documents are
   * not, keeps them all when the registry cannot be asked now. One registry question for all.
   */
  async resolve(
    isRegistered: RegisteredCheck,
    record: (event: AuditEvent) => Promise<void>,
    minAgeMs = 0,
  ): Promise<{ recorded: number; dropped: number }> {
    const rows = this.db.prepare('SELECT id, event, documents FROM intents').all() as { id: string; event: string; documents: string }[];
    const before = Date.now() - minAgeMs;
    const due = rows
      .filter((r) => !this.finished.has(r.id))
      .map((r) => ({ id: r.id, event: eventFromJson(r.event), documents: JSON.parse(r.documents) as string[] }))
      .filter((r) => minAgeMs === 0 || Date.parse(r.event.recorded) <= before);
    if (due.length === 0) return { recorded: 0, dropped: 0 };
    const registered = await isRegistered([...new Set(due.flatMap((r) => r.documents))]);
    let recorded = 0;
    let dropped = 0;
    for (const r of due) {
      if (r.documents.some((d) => registered.has(d))) {
        await record(r.event);
        recorded++;
      } else dropped++;
      this.end(r.id);
    }
    return { recorded, dropped };
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.flush();
    await this.deleteFinished();
    await this.writer.close();
    if (this.db.open) this.db.close();
  }

  private async flush(): Promise<void> {
    const group = this.waiting;
    this.waiting = [];
    if (group.length === 0) return;
    const finished = this.takeFinished();
    try {
      await this.writer.run([...(finished.length > 0 ? [deleteOf(finished)] : []), ...group.map((w) => w.statement)]);
    } catch (e) {
      for (const id of finished) this.finished.add(id);
      for (const w of group) w.reject(e);
      return;
    }
    for (const w of group) w.resolve();
  }

  private async deleteFinished(): Promise<void> {
    const finished = this.takeFinished();
    if (finished.length === 0) return;
    await this.writer.run([deleteOf(finished)]).catch(() => {
      for (const id of finished) this.finished.add(id);
    });
  }

  private takeFinished(): string[] {
    const ids = [...this.finished];
    this.finished = new Set();
    return ids;
  }
}

function deleteOf(ids: readonly string[]): SqlStatement {
  return { sql: DELETE, params: [JSON.stringify(ids)] };
}
