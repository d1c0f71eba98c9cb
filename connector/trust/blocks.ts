/**
 * Patient blocks (ATT-5, enforced at the source): a patient may block all sharing of their
 * records, or block named practitioners or organisations. Every query and retrieve asks
 * `isBlocked(principal, patientId)` before the actor's result leaves the node.
 *
 * Two implementations behind one interface: in memory (tests, demo) and embedded better-sqlite3
 * in its own file (blocks are administrative data with their own lifecycle: they must survive a
 * registry rebuild, and the registry store knows nothing of principals).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { bareOid, parseCx } from '../../registry/model/hl7.js';
import type { Principal } from './principal.js';

export type BlockKind = 'all' | 'practitioner' | 'organization';

export interface NewPatientBlock {
  /** The patient (CX). */
  readonly patientId: string;
  /**
   * all: no one but the patient sees anything; practitioner: `value` is the practitioner's HPR
   * number or fødselsnummer; organization: `value` is an organisation number (legal entity or
   * point of care).
   */
  readonly kind: BlockKind;
  readonly value?: string;
  readonly reason?: string;
}

export interface PatientBlock extends NewPatientBlock {
  readonly id: string;
  /** ISO 8601. */
  readonly createdAt: string;
}

export interface PatientBlockStore {
  add(block: NewPatientBlock): Promise<PatientBlock>;
  /** True when a block with this id existed. */
  remove(id: string): Promise<boolean>;
  list(patientId: string): Promise<PatientBlock[]>;
  /** True when any block of this patient applies to this principal. */
  isBlocked(principal: Principal, patientId: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Patients compared on id and bare assigning-authority OID, so `urn:oid:` spellings meet. */
export function patientKey(cx: string): string {
  const p = parseCx(cx.trim());
  return `${p.id}^^^&${bareOid(p.assigningAuthority?.universalId ?? '')}&ISO`;
}

function checkBlock(block: NewPatientBlock): void {
  if (patientKey(block.patientId).startsWith('^')) throw new Error('a patient block needs a patient id (CX)');
  if (block.kind !== 'all' && !block.value?.trim()) throw new Error(`a ${block.kind} block needs the blocked ${block.kind}'s identifier`);
}

/** Whether one block applies to this principal. The patient is never blocked from their own records. */
export function blockApplies(block: NewPatientBlock, principal: Principal): boolean {
  if (parseCx(block.patientId.trim()).id === principal.subjectId) return false;
  const value = block.value?.trim();
  switch (block.kind) {
    case 'all':
      return true;
    case 'practitioner':
      return value === principal.hprNumber || value === principal.subjectId || value === principal.providerIdentifier?.extension;
    case 'organization':
      return value === principal.organizationId?.extension || value === principal.childOrganizationId?.extension;
  }
}

export class MemoryPatientBlockStore implements PatientBlockStore {
  private readonly blocks = new Map<string, PatientBlock>();

  async add(block: NewPatientBlock): Promise<PatientBlock> {
    checkBlock(block);
    const stored: PatientBlock = { ...block, id: randomUUID(), createdAt: new Date().toISOString() };
    this.blocks.set(stored.id, stored);
    return stored;
  }

  async remove(id: string): Promise<boolean> {
    return this.blocks.delete(id);
  }

  async list(patientId: string): Promise<PatientBlock[]> {
    const key = patientKey(patientId);
    return [...this.blocks.values()].filter((b) => patientKey(b.patientId) === key);
  }

  async isBlocked(principal: Principal, patientId: string): Promise<boolean> {
    return (await this.list(patientId)).some((b) => blockApplies(b, principal));
  }

  async close(): Promise<void> {}
}

interface BlockRow {
  id: string;
  patient_id: string;
  kind: BlockKind;
  value: string | null;
  reason: string | null;
  created_at: string;
}

export class SqlitePatientBlockStore implements PatientBlockStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[string, string, string, string, string | null, string | null, string]>;
  private readonly byPatient: Database.Statement<[string], BlockRow>;
  private readonly deleteById: Database.Statement<[string]>;

  /** Opens (creating when needed) the block store in `file`; ':memory:' for a throwaway one. */
  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    if (file !== ':memory:') this.db.pragma('journal_mode = WAL');
    // A block that is acknowledged and then lost would expose what the patient asked to hide.
    this.db.pragma('synchronous = FULL');
    // Every worker of a multi-process node has this file open (connector/cluster): a block added
    // through one waits for another's write to end instead of failing with SQLITE_BUSY. Reads take
    // no lock (WAL) and read the table each time, so every process sees a block once it is added.
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS patient_blocks (
      id TEXT PRIMARY KEY,
      patient_key TEXT NOT NULL,
      patient_id TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('all', 'practitioner', 'organization')),
      value TEXT,
      reason TEXT,
      created_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS patient_blocks_patient ON patient_blocks (patient_key);`);
    this.insert = this.db.prepare(
      'INSERT INTO patient_blocks (id, patient_key, patient_id, kind, value, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.byPatient = this.db.prepare('SELECT id, patient_id, kind, value, reason, created_at FROM patient_blocks WHERE patient_key = ? ORDER BY created_at, id');
    this.deleteById = this.db.prepare('DELETE FROM patient_blocks WHERE id = ?');
  }

  async add(block: NewPatientBlock): Promise<PatientBlock> {
    checkBlock(block);
    const stored: PatientBlock = { ...block, id: randomUUID(), createdAt: new Date().toISOString() };
    this.insert.run(stored.id, patientKey(block.patientId), block.patientId, block.kind, block.value ?? null, block.reason ?? null, stored.createdAt);
    return stored;
  }

  async remove(id: string): Promise<boolean> {
    return this.deleteById.run(id).changes > 0;
  }

  async list(patientId: string): Promise<PatientBlock[]> {
    return this.byPatient.all(patientKey(patientId)).map((r) => ({
      id: r.id,
      patientId: r.patient_id,
      kind: r.kind,
      ...(r.value !== null ? { value: r.value } : {}),
      ...(r.reason !== null ? { reason: r.reason } : {}),
      createdAt: r.created_at,
    }));
  }

  async isBlocked(principal: Principal, patientId: string): Promise<boolean> {
    return (await this.list(patientId)).some((b) => blockApplies(b, principal));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
