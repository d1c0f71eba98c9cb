/**
 * Embedded audit store: one SQLite file (WAL, synchronous=FULL so an appended event survives a
 * power loss, as an audit trail must). Rows are never updated or deleted by the node.
 *
 * Appends go through a `SqliteWriter` (its worker thread commits and waits for the fsync, not the
 * event loop); this connection creates the schema and serves the reads.
 *
 * Schema (`PRAGMA user_version`): 0, the first, kept each event's FHIR AuditEvent text in
 * `resource`; 1 adds `event`, the event's own JSON text (store.ts), which rows written since hold,
 * with `resource` left empty (the column is NOT NULL in files of version 0, and SQLite cannot drop
 * that without copying the table, which a long-lived audit trail makes a long start). A row is read
 * from `event` when it has one, else from `resource`. A program of schema 0 refuses nothing but
 * cannot read the newer rows' resource: going back past this version needs the audit file kept
 * aside (docs/operations.md).
 */
import Database from 'better-sqlite3';
import { SqliteWriter, type SqlStatement } from '../../registry/store/embedded/sqlite-writer.js';
import type { AuditEvent } from './event.js';
import type { FhirResource } from './fhir.js';
import { auditRecordOf, storedEventResource, type AccessLogQuery, type AuditSearchHit, type AuditSearchQuery, type AuditStore, type StoredAccess } from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_events (
  id TEXT PRIMARY KEY,
  recorded TEXT NOT NULL,
  patient_id TEXT,
  patient_authority TEXT,
  access TEXT NOT NULL,
  resource TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_patient ON audit_events (patient_id, recorded);
CREATE INDEX IF NOT EXISTS audit_events_recorded ON audit_events (recorded);
`;

/** The page size of a new audit file (see `openEmbeddedAuditStore`). */
export const AUDIT_PAGE_SIZE = 16_384;

/** The schema this program writes (see above). */
export const AUDIT_SCHEMA_VERSION = 1;

/** Brings a file of any earlier version to `AUDIT_SCHEMA_VERSION`, in one transaction; refuses a newer one. */
function migrate(db: Database.Database): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > AUDIT_SCHEMA_VERSION) {
      throw new Error(`the audit store is of schema ${version}, newer than this program's ${AUDIT_SCHEMA_VERSION}: run the newer program, or restore a backup`);
    }
    if (version < 1) db.exec('ALTER TABLE audit_events ADD COLUMN event TEXT');
    if (version !== AUDIT_SCHEMA_VERSION) db.pragma(`user_version = ${AUDIT_SCHEMA_VERSION}`);
  }).immediate();
}

export function openEmbeddedAuditStore(options: { path: string }): AuditStore {
  const db = new Database(options.path);
  try {
    // 16 KB pages, for a new file (an existing one keeps its own): a row is ~2.1 KB (the event and
    // its access projection), two of which do not fit a 4 KB page, which then held one row and
    // ~1.9 KB of nothing. 2.49 KB per event on disk against 4.25 with 4 KB pages; under load (32
    // events in flight) 0.051 against 0.057 ms of CPU per event, one at a time 0.28 against 0.25
    // (a commit writes whole pages to the WAL; BENCHMARKS.md, issue 19, tenth session).
    db.pragma(`page_size = ${AUDIT_PAGE_SIZE}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
    migrate(db);
    // Case-insensitive containment for the audit search: SQLite's lower() and LIKE fold ASCII only,
    // and Norwegian names (Ø, Æ, Å) must match whatever case the operator types. Read side only.
    db.function('audit_contains', { deterministic: true }, (haystack: unknown, needle: unknown) =>
      typeof haystack === 'string' && typeof needle === 'string' && haystack.toLocaleLowerCase('nb').includes(needle.toLocaleLowerCase('nb')) ? 1 : 0,
    );
  } catch (e) {
    db.close();
    throw e;
  }
  return new EmbeddedAuditStore(db, new SqliteWriter(options.path));
}

const INSERT = `INSERT OR IGNORE INTO audit_events (id, recorded, patient_id, patient_authority, access, resource, event)
  VALUES (?, ?, ?, ?, ?, '', ?)`;

function insertOf(event: AuditEvent): SqlStatement {
  const r = auditRecordOf(event);
  return {
    sql: INSERT,
    params: [r.id, r.recorded, r.patient?.id ?? null, r.patient?.authority ?? null, JSON.stringify(r.access), r.eventJson],
  };
}

interface AccessRow {
  id: string;
  recorded: string;
  access: string;
}

class EmbeddedAuditStore implements AuditStore {
  private readonly select: Database.Statement;
  /** The access queries, by shape (authority given, newest first, after a cursor), prepared on first use. */
  private readonly accessQueries = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly writer: SqliteWriter,
  ) {
    this.select = db.prepare('SELECT resource, event FROM audit_events WHERE id = ?');
  }

  /**
   * ISO 8601 UTC strings of one length sort as the instants they denote, so `recorded` is compared
   * as text; the index (patient_id, recorded) serves both directions. A cursor bounds `recorded`
   * from above (`<= ?`, usable by the index) and breaks ties by id.
   */
  private accessQuery(authority: boolean, newestFirst: boolean, cursor: boolean): Database.Statement {
    const key = `${authority}/${newestFirst}/${cursor}`;
    let statement = this.accessQueries.get(key);
    if (statement === undefined) {
      const direction = newestFirst ? 'DESC' : 'ASC';
      statement = this.db.prepare(
        `SELECT id, recorded, access FROM audit_events
         WHERE patient_id = ?${authority ? ' AND patient_authority = ?' : ''} AND recorded >= ? AND recorded < ?
         ${cursor ? 'AND recorded <= ? AND (recorded < ? OR id < ?)' : ''}
         ORDER BY recorded ${direction}, id ${direction} LIMIT ?`,
      );
      this.accessQueries.set(key, statement);
    }
    return statement;
  }

  async append(event: AuditEvent): Promise<void> {
    await this.writer.run([insertOf(event)]);
  }

  async appendMany(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    // One transaction: one WAL sync for the whole group, and all or none of it on disk.
    await this.writer.run(events.map(insertOf));
  }

  async get(id: string): Promise<FhirResource | undefined> {
    const row = this.select.get(id) as { resource: string; event: string | null } | undefined;
    if (row === undefined) return undefined;
    return row.event !== null ? storedEventResource(row.event) : (JSON.parse(row.resource) as FhirResource);
  }

  async patientAccesses(q: AccessLogQuery): Promise<StoredAccess[]> {
    const authority = q.assigningAuthority !== undefined;
    const newestFirst = q.newestFirst === true;
    // Paging is defined for newest first only (what the access log asks for).
    const cursor = newestFirst && q.before !== undefined;
    const params: unknown[] = [q.patientId];
    if (authority) params.push(q.assigningAuthority);
    params.push(q.from.toISOString(), q.to.toISOString());
    if (cursor) params.push(q.before!.recorded, q.before!.recorded, q.before!.id);
    params.push(q.limit);
    const rows = this.accessQuery(authority, newestFirst, cursor).all(...params) as AccessRow[];
    return rows.map((r) => ({ id: r.id, recorded: r.recorded, entry: JSON.parse(r.access) }));
  }

  /**
   * Built per call from the criteria given: a patient uses the (patient_id, recorded) index, a time
   * range alone the recorded index; the other criteria are read from the access projection's JSON.
   */
  async search(q: AuditSearchQuery): Promise<AuditSearchHit[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.patientId !== undefined) {
      where.push('patient_id = ?');
      params.push(q.patientId);
    }
    if (q.from !== undefined) {
      where.push('recorded >= ?');
      params.push(q.from.toISOString());
    }
    if (q.to !== undefined) {
      where.push('recorded < ?');
      params.push(q.to.toISOString());
    }
    if (q.transaction !== undefined) {
      where.push("json_extract(access, '$.transaction') = ?");
      params.push(q.transaction);
    }
    if (q.outcome !== undefined) {
      where.push("json_extract(access, '$.outcome') = ?");
      params.push(q.outcome);
    }
    if (q.practitioner !== undefined) {
      where.push("audit_contains(json_extract(access, '$.practitioner.name'), ?)");
      params.push(q.practitioner);
    }
    if (q.organisation !== undefined) {
      where.push("(json_extract(access, '$.organisation.id') = ? OR audit_contains(json_extract(access, '$.organisation.name'), ?))");
      params.push(q.organisation, q.organisation);
    }
    params.push(q.limit);
    const rows = this.db
      .prepare(
        `SELECT id, recorded, patient_id, access FROM audit_events
         ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY recorded DESC, id DESC LIMIT ?`,
      )
      .all(...params) as (AccessRow & { patient_id: string | null })[];
    return rows.map((r) => ({
      id: r.id,
      recorded: r.recorded,
      ...(r.patient_id !== null ? { patientId: r.patient_id } : {}),
      entry: JSON.parse(r.access),
    }));
  }

  async close(): Promise<void> {
    await this.writer.close();
    if (this.db.open) this.db.close();
  }
}
