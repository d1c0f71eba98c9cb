/**
 * The embedded store's SQLite schema. Each registry object is one row: its JSON record (see
 * record.ts) in `body`, and copies of the fields queries select on in indexed columns. The columns
 * only preselect candidates; the filter itself is always evaluated on the JSON record.
 */
import type Database from 'better-sqlite3';

export const SCHEMA_VERSION = 1;

const SCHEMA_V1 = `
CREATE TABLE objects (
  -- AUTOINCREMENT: a seq is never reused after a deletion, so seq order is insertion order.
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  entry_uuid TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  patient_id TEXT,
  status TEXT,
  unique_id TEXT,
  source_uuid TEXT,
  target_uuid TEXT,
  body TEXT NOT NULL
);
CREATE INDEX objects_type_patient_status ON objects (type, patient_id, status);
CREATE INDEX objects_unique_id ON objects (unique_id);
CREATE INDEX objects_source_uuid ON objects (source_uuid);
CREATE INDEX objects_target_uuid ON objects (target_uuid);

-- One row per referenceIdList value (a DocumentEntry may carry several).
CREATE TABLE reference_ids (
  value TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (value, seq)
) WITHOUT ROWID;
CREATE INDEX reference_ids_seq ON reference_ids (seq);
`;

/**
 * Sets the connection pragmas and creates the schema in a new file. WAL lets readers run beside
 * the writer; synchronous=FULL fsyncs the WAL on every commit, so an acknowledged submission
 * survives a power loss, as the design requires.
 */
export function prepareDatabase(db: Database.Database): void {
  if (db.name !== ':memory:') db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // Another process writing the same file holds the lock only for one commit: wait, don't fail.
  db.pragma('busy_timeout = 10000');
  if (schemaVersion(db) === SCHEMA_VERSION) return;
  // Checked again under the write lock: another process may have created the schema meanwhile.
  db.transaction(() => {
    const version = schemaVersion(db);
    if (version === SCHEMA_VERSION) return;
    if (version !== 0) {
      throw new Error(`registry database ${db.name} has schema version ${version}; this program knows ${SCHEMA_VERSION}`);
    }
    db.exec(SCHEMA_V1);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}
