/**
 * A RegistryStore overlay that gathers many commits in memory and writes them to the store
 * underneath in ONE atomic commit (`flush`).
 *
 * Why: every `store.commit` of the embedded store is one fsync of the WAL (synchronous=FULL), which
 * costs far more than the rows, and the store contract already accepts any number of objects in
 * one `CommitBatch`. So ITI-42 group commit (register.ts) and the data generator register each
 * submission through the full path (snapshot, every rule, commit planning) against an overlay and
 * then flush once. Reads answer exactly as the store would if every pending commit had been
 * applied to it: rules that look at the registry (duplicate uniqueIds and entryUUIDs, RPLC targets,
 * folder memberships and lastUpdateTime) judge later submissions of a group correctly.
 *
 * Read semantics kept from the store contract (`find` in insertion order, `limit`, inserts, then
 * replacements, then deletions): a replaced committed object keeps its place among the committed
 * ones (the store updates it in place), pending inserts follow every committed object in the order
 * they were inserted, deleted objects are gone.
 *
 * The store underneath may take in the overlay's own batch before the overlay forgets it (`flush`
 * clears it once the commit has returned; meanwhile the generator decides its next batch through
 * it): `find`, `getByUuids` and `count` answer the same before and after.
 *
 * A module of the registry actor, not a store implementation: it works over any `RegistryStore`.
 */
import type { RegistryObject } from './model/metadata.js';
import { deriveIndexHints } from './store/embedded/index-hints.js';
import { compileFilter, type RecordTest } from './store/embedded/simple-filter.js';
import { toRecord, type StoredRecord } from './store/record.js';
import {
  DuplicateEntryUuidError,
  UnknownEntryUuidError,
  type CommitBatch,
  type FindOptions,
  type ObjectCount,
  type RegistryFilter,
  type RegistryStore,
} from './store/store.js';

interface Pending {
  readonly obj: RegistryObject;
  /** Set when the object is new in this overlay: its place in insertion order. */
  readonly insertOrder?: number;
  /** Set when the object replaces a committed one: the committed version, to tell whether it matched a filter. */
  readonly original?: RegistryObject;
  record?: StoredRecord;
  originalRecord?: StoredRecord;
}

/** Fields of pending objects indexed in memory, so that a lookup by one of them does not scan the pending set. */
const INDEXED = ['uniqueId', 'sourceUuid', 'targetUuid', 'patientId'] as const;
type IndexedField = (typeof INDEXED)[number];

/** A committed object that was deleted and then inserted again under the same entryUUID in one overlay. */
export class ReinsertAfterDeleteError extends Error {
  constructor(readonly entryUuid: string) {
    // The store applies a batch's inserts before its deletions, so one flush cannot express it.
    super(`entryUUID ${entryUuid} was deleted and inserted again before the overlay was flushed`);
    this.name = 'ReinsertAfterDeleteError';
  }
}

/**
 * What a group of writes will look up, named before the group is decided (write-queue.ts
 * `RegistryWrite.reads`): the overlay reads them from the store underneath in one go.
 */
export interface ReadAhead {
  /** entryUUIDs the writes will ask `getByUuids` for. */
  readonly entryUuids: readonly string[];
  /** uniqueIds the writes will `find` objects by (a filter whose index hint is uniqueId). */
  readonly uniqueIds: readonly string[];
}

/**
 * The store underneath as it was when read ahead. The overlay never changes it before `flush` (and
 * forgets the read-ahead when it flushes or is cleared), so these answers are the ones the store
 * would give until then; a write by another process in between is the race that the time between
 * a write's checks and its commit always leaves (the store refuses a clashing entryUUID at commit).
 */
interface ReadAheadState {
  readonly entryUuids: ReadonlySet<string>;
  readonly byUuid: ReadonlyMap<string, RegistryObject>;
  readonly uniqueIds: ReadonlySet<string>;
  /** Every committed object with one of `uniqueIds`, in the store's order (insertion order). */
  readonly withUniqueId: readonly RegistryObject[];
}

export class StoreOverlay implements RegistryStore {
  private readonly pending = new Map<string, Pending>();
  private readAheadState: ReadAheadState | undefined;
  /** Committed objects deleted in this overlay. */
  private readonly deleted = new Set<string>();
  /**
   * Pending entryUuids by indexed field and value: the one id that has the value, or a Set once
   * several do. Most values belong to one object (uniqueIds, an association's ends), and a Set per
   * value per overlay was most of what `put` allocated (the generator keeps three overlays of a
   * thousand entries' objects alive at a time; garbage collection is a quarter of its main thread).
   */
  private readonly index = new Map<IndexedField, Map<string, string | Set<string>>>(INDEXED.map((f) => [f, new Map()]));
  private nextInsertOrder = 0;
  /** Pending objects that replace a committed one (each may drop out of, or newly enter, a committed result). */
  private replacedCommitted = 0;

  constructor(readonly underlying: RegistryStore) {}

  /** Objects waiting for `flush()` (inserts and replacements). */
  get pendingObjects(): number {
    return this.pending.size;
  }

  /**
   * Reads from the store underneath, in one lookup each, what a group's writes will look up one by
   * one: the objects of these entryUUIDs and every object with one of these uniqueIds. Lookups
   * that these answer are then answered from memory (`getByUuids` for a read-ahead entryUUID,
   * `find` for a filter whose index hint is read-ahead uniqueIds), with the same result: a
   * registration's uniqueId check was one read transaction and one SQL query per registration
   * (~15–20 µs of the main thread, profile in BENCHMARKS.md, issue 19: ITI-42 and the generator),
   * now one per group.
   */
  async readAhead(reads: ReadAhead): Promise<void> {
    const entryUuids = new Set(reads.entryUuids);
    const uniqueIds = new Set(reads.uniqueIds);
    const byUuid = new Map<string, RegistryObject>();
    if (entryUuids.size > 0) for (const obj of await this.underlying.getByUuids([...entryUuids])) byUuid.set(obj.entryUuid, obj);
    const withUniqueId = uniqueIds.size > 0 ? await this.underlying.find({ uniqueId: { $in: [...uniqueIds] } }) : [];
    this.readAheadState = { entryUuids, byUuid, uniqueIds, withUniqueId };
  }

  /**
   * The store's answer to `find(filter)` from the read-ahead, when the filter can only match
   * objects with a read-ahead uniqueId (its index hint, the very preselection the store makes);
   * else undefined. The store tests its candidates' records against the whole filter, in its
   * order; so does this, on the same records (`toRecord` of what the store handed out).
   */
  private readAheadFind(filter: RegistryFilter, test: () => RecordTest): RegistryObject[] | undefined {
    const state = this.readAheadState;
    if (state === undefined || state.uniqueIds.size === 0) return undefined;
    const wanted = deriveIndexHints(filter).uniqueId;
    if (wanted === undefined || !wanted.every((id) => state.uniqueIds.has(id))) return undefined;
    const out: RegistryObject[] = [];
    for (const obj of state.withUniqueId) {
      if (wanted.includes((obj as { uniqueId?: string }).uniqueId as string) && test()(toRecord(obj) as unknown as Record<string, unknown>)) out.push(obj);
    }
    return out;
  }

  async find(filter: RegistryFilter, options: FindOptions = {}): Promise<RegistryObject[]> {
    if (this.pending.size === 0 && this.deleted.size === 0) {
      let compiled: RecordTest | undefined;
      const known = this.readAheadFind(filter, () => (compiled ??= compileFilter(filter)));
      if (known === undefined) return this.underlying.find(filter, options);
      const limit = options.limit;
      return limit === undefined ? known : limit <= 0 ? [] : known.slice(0, limit);
    }
    const limit = options.limit;
    if (limit !== undefined && limit <= 0) return [];
    // Compiling the filter costs more than the whole lookup when no pending object is a candidate
    // (a registration's uniqueId check, nearly always): compile it only once one is.
    let test: RecordTest | undefined;
    const matches = (record: StoredRecord): boolean => (test ??= compileFilter(filter))(record as unknown as Record<string, unknown>);

    const fresh: { obj: RegistryObject; order: number }[] = [];
    // Committed objects whose pending replacement matches although the committed version does not:
    // the store would return them at their old place, which only the store knows.
    const entering: string[] = [];
    for (const id of this.candidates(filter)) {
      const p = this.pending.get(id);
      if (p === undefined) continue;
      p.record ??= toRecord(p.obj);
      if (!matches(p.record)) continue;
      if (p.insertOrder !== undefined) fresh.push({ obj: p.obj, order: p.insertOrder });
      else {
        p.originalRecord ??= toRecord(p.original!);
        if (!matches(p.originalRecord)) entering.push(id);
      }
    }
    fresh.sort((a, b) => a.order - b.order);

    // At most this many committed results drop out (replaced so they no longer match, deleted, or
    // pending inserts the store already holds), so asking the store for that many more than the
    // limit still yields the first `limit`.
    const spare = this.pending.size + this.deleted.size;
    const underlyingFilter = entering.length === 0 ? filter : { $or: [filter, { entryUuid: { $in: entering } }] };
    const committed =
      (entering.length === 0 ? this.readAheadFind(filter, () => (test ??= compileFilter(filter))) : undefined) ??
      (await this.underlying.find(underlyingFilter, limit === undefined ? {} : { limit: limit + spare }));
    const out: RegistryObject[] = [];
    for (const obj of committed) {
      if (this.deleted.has(obj.entryUuid)) continue;
      const p = this.pending.get(obj.entryUuid);
      if (p === undefined) out.push(obj);
      // A pending insert the store already holds: the overlay's batch was stored while the overlay
      // still holds it (the generator decides its next batch through an overlay being flushed). It
      // goes with the other pending inserts, after every committed object, where the store put it.
      else if (p.insertOrder !== undefined) continue;
      else {
        // A replacement keeps the committed object's place, as the store's in-place update does.
        p.record ??= toRecord(p.obj);
        if (matches(p.record)) out.push(p.obj);
      }
    }
    for (const f of fresh) out.push(f.obj);
    return limit === undefined ? out : out.slice(0, limit);
  }

  async getByUuids(entryUuids: readonly string[]): Promise<RegistryObject[]> {
    const out: RegistryObject[] = [];
    const rest: string[] = [];
    const ahead = this.readAheadState;
    for (const id of new Set(entryUuids)) {
      const p = this.pending.get(id);
      if (p !== undefined) out.push(p.obj);
      else if (this.deleted.has(id)) continue;
      else if (ahead !== undefined && ahead.entryUuids.has(id)) {
        const obj = ahead.byUuid.get(id);
        if (obj !== undefined) out.push(obj);
      } else rest.push(id);
    }
    if (rest.length === 0) return out;
    return [...out, ...(await this.underlying.getByUuids(rest))];
  }

  async count(filter: RegistryFilter): Promise<number> {
    if (this.pending.size === 0 && this.deleted.size === 0) return this.underlying.count(filter);
    return (await this.find(filter)).length;
  }

  /** The underlying counts with the pending inserts, replacements and deletions applied. */
  async objectCounts(): Promise<ObjectCount[]> {
    const counts = new Map<string, ObjectCount>();
    const add = (obj: Pick<RegistryObject, 'type' | 'availabilityStatus'>, delta: number): void => {
      const key = `${obj.type}\n${obj.availabilityStatus}`;
      const count = (counts.get(key)?.count ?? 0) + delta;
      counts.set(key, { type: obj.type, availabilityStatus: obj.availabilityStatus, count });
    };
    for (const c of await this.underlying.objectCounts()) add(c, c.count);
    for (const p of this.pending.values()) {
      add(p.obj, 1);
      if (p.original !== undefined) add(p.original, -1);
    }
    if (this.deleted.size > 0) for (const obj of await this.underlying.getByUuids([...this.deleted])) add(obj, -1);
    return [...counts.values()].filter((c) => c.count !== 0);
  }

  /**
   * Checks the batch as the store contract demands (nothing of it is taken if a check fails), then
   * adds it to the pending commit.
   *
   * `insertsChecked`: the caller has established that the underlying store holds none of the
   * inserts' entryUuids (it looked them up through this overlay and found nothing, or made them up
   * as new UUIDs), so they are not looked up there again; at 1M entries that lookup of keys spread
   * over the whole index costs more than deciding a registration. Every other check is made. Should another
   * writer have inserted one of them meanwhile, the store refuses it when the overlay is flushed
   * (DuplicateEntryUuidError, which ITI-42 group commit answers exactly as this check would have).
   */
  async commit(batch: CommitBatch, options: { readonly insertsChecked?: boolean } = {}): Promise<void> {
    const inserted = new Set<string>();
    for (const obj of batch.inserts) {
      if (inserted.has(obj.entryUuid) || this.pending.has(obj.entryUuid)) throw new DuplicateEntryUuidError(obj.entryUuid);
      inserted.add(obj.entryUuid);
    }
    const fromStore = [...inserted].filter((id) => !this.deleted.has(id));
    const reinserted = [...inserted].find((id) => this.deleted.has(id));
    if (reinserted !== undefined) throw new ReinsertAfterDeleteError(reinserted);
    if (fromStore.length > 0 && options.insertsChecked !== true) {
      const [clash] = await this.underlying.getByUuids(fromStore);
      if (clash !== undefined) throw new DuplicateEntryUuidError(clash.entryUuid);
    }
    const named = [...batch.replacements.map((o) => o.entryUuid), ...(batch.deletions ?? [])].filter((id) => !inserted.has(id));
    const known = new Map((await this.getByUuids(named)).map((o) => [o.entryUuid, o]));
    const unknown = named.find((id) => !known.has(id));
    if (unknown !== undefined) throw new UnknownEntryUuidError(unknown);

    for (const obj of batch.inserts) {
      this.put({ obj, insertOrder: this.nextInsertOrder++ });
    }
    for (const obj of batch.replacements) {
      const previous = this.pending.get(obj.entryUuid);
      if (previous?.insertOrder !== undefined) this.put({ obj, insertOrder: previous.insertOrder });
      else {
        if (previous === undefined) this.replacedCommitted++;
        this.put({ obj, original: previous?.original ?? known.get(obj.entryUuid)! });
      }
    }
    for (const id of batch.deletions ?? []) {
      const p = this.pending.get(id);
      if (p !== undefined) {
        this.unindex(id, p.obj);
        this.pending.delete(id);
        if (p.insertOrder === undefined) this.replacedCommitted--;
      }
      if (p === undefined || p.insertOrder === undefined) this.deleted.add(id);
    }
  }

  /** The pending change as one batch, in the order the store must apply it. */
  batch(): CommitBatch {
    const inserts: RegistryObject[] = [];
    const replacements: RegistryObject[] = [];
    // Map order is first-insertion order (a replaced pending insert keeps its key's place).
    for (const p of this.pending.values()) (p.insertOrder !== undefined ? inserts : replacements).push(p.obj);
    return { inserts, replacements, deletions: [...this.deleted] };
  }

  /** Writes everything pending to the underlying store in one atomic commit; on failure nothing is written and the overlay keeps it. */
  async flush(): Promise<void> {
    if (this.pending.size === 0 && this.deleted.size === 0) return;
    await this.underlying.commit(this.batch());
    this.clear();
  }

  /** Forgets everything pending. */
  clear(): void {
    this.readAheadState = undefined;
    this.pending.clear();
    this.deleted.clear();
    for (const byValue of this.index.values()) byValue.clear();
    this.replacedCommitted = 0;
  }

  async close(): Promise<void> {
    await this.underlying.close();
  }

  private put(entry: Pending): void {
    const id = entry.obj.entryUuid;
    const previous = this.pending.get(id);
    if (previous !== undefined) this.unindex(id, previous.obj);
    this.pending.set(id, entry);
    for (const field of INDEXED) {
      const value = (entry.obj as unknown as Record<string, unknown>)[field];
      if (typeof value !== 'string') continue;
      const byValue = this.index.get(field)!;
      const ids = byValue.get(value);
      if (ids === undefined) byValue.set(value, id);
      else if (typeof ids !== 'string') ids.add(id);
      else if (ids !== id) byValue.set(value, new Set([ids, id]));
    }
  }

  private unindex(id: string, obj: RegistryObject): void {
    for (const field of INDEXED) {
      const value = (obj as unknown as Record<string, unknown>)[field];
      if (typeof value !== 'string') continue;
      const byValue = this.index.get(field)!;
      const ids = byValue.get(value);
      if (ids === id) byValue.delete(value);
      else if (ids !== undefined && typeof ids !== 'string') ids.delete(id);
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
      const byValue = this.index.get(field)!;
      for (const v of values) {
        const found = byValue.get(v);
        if (typeof found === 'string') ids.add(found);
        else if (found !== undefined) for (const id of found) ids.add(id);
      }
      return ids;
    }
    return this.pending.keys();
  }
}
