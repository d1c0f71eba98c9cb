/**
 * A RegistryStore that groups many registrations into one commit of the store underneath.
 *
 * Why: each `registerSubmission` ends in one `store.commit`, and the embedded store makes every
 * commit durable (SQLite WAL with synchronous=FULL: one fsync per commit). The store contract
 * already accepts any number of objects in one atomic `CommitBatch`, so the generator registers
 * each submission through the full ITI-42 path (snapshot, every rule, commit planning) against
 * this overlay, and `flush()` writes the accumulated objects in one commit. Reads see pending
 * objects exactly as if they had been committed, so rules that look at the registry (duplicate
 * uniqueIds, RPLC targets, folder memberships) judge later submissions of a batch correctly.
 */
import { Query } from 'mingo';
import type { RegistryObject } from '../../registry/model/metadata';
import { deriveIndexHints } from '../../registry/store/embedded/index-hints';
import { toRecord, type StoredRecord } from '../../registry/store/record';
import {
  DuplicateEntryUuidError,
  UnknownEntryUuidError,
  type CommitBatch,
  type FindOptions,
  type RegistryFilter,
  type RegistryStore,
} from '../../registry/store/store';

interface Pending {
  obj: RegistryObject;
  /** True when the object is new in this batch, false when it replaces a committed one. */
  readonly insert: boolean;
  record?: StoredRecord;
}

/** Fields of pending objects indexed in memory, so that a lookup by one of them does not scan the batch. */
const INDEXED = ['uniqueId', 'sourceUuid', 'targetUuid', 'patientId'] as const;
type IndexedField = (typeof INDEXED)[number];

export class BatchingStore implements RegistryStore {
  private readonly pending = new Map<string, Pending>();
  private readonly deleted = new Set<string>();
  private readonly index = new Map<IndexedField, Map<string, Set<string>>>(INDEXED.map((f) => [f, new Map()]));
  private insertedObjects = 0;

  constructor(readonly underlying: RegistryStore) {}

  /** Objects waiting for `flush()` (inserts and replacements). */
  get pendingObjects(): number {
    return this.pending.size;
  }

  get pendingInserts(): number {
    return this.insertedObjects;
  }

  async find(filter: RegistryFilter, options: FindOptions = {}): Promise<RegistryObject[]> {
    if (this.pending.size === 0 && this.deleted.size === 0) return this.underlying.find(filter, options);
    const committed = (await this.underlying.find(filter)).filter((o) => !this.pending.has(o.entryUuid) && !this.deleted.has(o.entryUuid));
    const query = new Query(filter);
    const fresh: RegistryObject[] = [];
    for (const id of this.candidates(filter)) {
      const p = this.pending.get(id);
      if (p === undefined) continue;
      p.record ??= toRecord(p.obj);
      if (query.test(p.record as unknown as Record<string, unknown>)) fresh.push(p.obj);
    }
    const all = [...committed, ...fresh];
    return options.limit === undefined ? all : all.slice(0, Math.max(0, options.limit));
  }

  async getByUuids(entryUuids: readonly string[]): Promise<RegistryObject[]> {
    const out: RegistryObject[] = [];
    const rest: string[] = [];
    for (const id of new Set(entryUuids)) {
      const p = this.pending.get(id);
      if (p !== undefined) out.push(p.obj);
      else if (!this.deleted.has(id)) rest.push(id);
    }
    return [...out, ...(await this.underlying.getByUuids(rest))];
  }

  async count(filter: RegistryFilter): Promise<number> {
    return (await this.find(filter)).length;
  }

  /** Checks the batch as the store contract demands, then adds it to the pending commit. */
  async commit(batch: CommitBatch): Promise<void> {
    const inserted = new Set<string>();
    for (const obj of batch.inserts) {
      if (inserted.has(obj.entryUuid) || this.pending.has(obj.entryUuid)) throw new DuplicateEntryUuidError(obj.entryUuid);
      inserted.add(obj.entryUuid);
    }
    const existing = await this.underlying.getByUuids([...inserted]);
    const clash = existing.find((o) => !this.deleted.has(o.entryUuid));
    if (clash !== undefined) throw new DuplicateEntryUuidError(clash.entryUuid);
    const named = [...batch.replacements.map((o) => o.entryUuid), ...(batch.deletions ?? [])].filter((id) => !inserted.has(id));
    const known = new Set((await this.getByUuids(named)).map((o) => o.entryUuid));
    const unknown = named.find((id) => !known.has(id));
    if (unknown !== undefined) throw new UnknownEntryUuidError(unknown);

    for (const obj of batch.inserts) {
      this.deleted.delete(obj.entryUuid);
      this.put(obj, true);
      this.insertedObjects++;
    }
    for (const obj of batch.replacements) this.put(obj, this.pending.get(obj.entryUuid)?.insert ?? false);
    for (const id of batch.deletions ?? []) {
      const p = this.pending.get(id);
      if (p !== undefined) this.unindex(id, p.obj);
      this.pending.delete(id);
      if (p === undefined || !p.insert) this.deleted.add(id);
    }
  }

  /** Writes everything pending to the underlying store in one atomic commit. */
  async flush(): Promise<void> {
    if (this.pending.size === 0 && this.deleted.size === 0) return;
    const inserts: RegistryObject[] = [];
    const replacements: RegistryObject[] = [];
    for (const p of this.pending.values()) (p.insert ? inserts : replacements).push(p.obj);
    await this.underlying.commit({ inserts, replacements, deletions: [...this.deleted] });
    this.pending.clear();
    this.deleted.clear();
    for (const byValue of this.index.values()) byValue.clear();
    this.insertedObjects = 0;
  }

  async close(): Promise<void> {
    await this.underlying.close();
  }

  private put(obj: RegistryObject, insert: boolean): void {
    const previous = this.pending.get(obj.entryUuid);
    if (previous !== undefined) this.unindex(obj.entryUuid, previous.obj);
    this.pending.set(obj.entryUuid, { obj, insert });
    for (const field of INDEXED) {
      const value = (obj as unknown as Record<string, unknown>)[field];
      if (typeof value !== 'string') continue;
      const byValue = this.index.get(field)!;
      let ids = byValue.get(value);
      if (ids === undefined) byValue.set(value, (ids = new Set()));
      ids.add(obj.entryUuid);
    }
  }

  private unindex(id: string, obj: RegistryObject): void {
    for (const field of INDEXED) {
      const value = (obj as unknown as Record<string, unknown>)[field];
      if (typeof value === 'string') this.index.get(field)!.get(value)?.delete(id);
    }
  }

  /** Pending entryUuids that can match the filter: through an index hint when there is one, else all. */
  private candidates(filter: RegistryFilter): Iterable<string> {
    const hints = deriveIndexHints(filter);
    if (hints.entryUuid) return hints.entryUuid;
    for (const field of INDEXED) {
      const values = hints[field];
      if (values === undefined) continue;
      const ids = new Set<string>();
      for (const v of values) for (const id of this.index.get(field)!.get(v) ?? []) ids.add(id);
      return ids;
    }
    return [...this.pending.keys()];
  }
}
