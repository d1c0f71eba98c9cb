/**
 * The embedded store's read cache: parsed records kept in memory between requests, validated on
 * every read by the row's `rev` (see schema.ts), so a query pays JSON.parse only for rows it has
 * not seen in their current version.
 *
 * Keyed by `seq`, not entryUuid: the candidate statements then read two integers per row and
 * create no strings, and (seq, rev) names one body for ever just as (entryUuid, rev) would (seq is
 * never reused; a deleted and re-inserted entryUuid gets a new seq).
 *
 * Entries are shared by every caller, so they are deep-frozen when they enter: a caller that
 * mutated a returned object would otherwise change what the next query matches and returns.
 * Records parsed for one read only (cache disabled, a scan too large to cache, or a row missed for
 * the first time: see `admits`) are not frozen: nobody else holds them, and freezing costs ~4 µs
 * per DocumentEntry on top of ~10 µs of parsing.
 * Bounded by object count (least recently used first out); capacity 0 disables it.
 *
 * Recency is kept in a linked list through the entries' nodes, so a hit costs one Map lookup and
 * a few pointer moves: the Map's own insertion order, kept by deleting and re-inserting on every
 * hit, cost ~9× a plain lookup (75 hits of a FindDocuments answer: 9.8 µs against 1.1 µs).
 */
import type { RegistryObject } from '../../model/metadata.js';
import { fromRecord } from '../record.js';
import { unpackRecord } from './record-codec.mjs';

export interface CachedRecord {
  /** The row's rev when this body was read. */
  readonly rev: number;
  /** The stored record (model object plus `_s`), which filters are evaluated on. Deep-frozen if shared. */
  readonly record: Readonly<Record<string, unknown>>;
  /**
   * The model object handed to callers: the record without `_s`, made once per body and sharing
   * the record's values, so a read returns it without a per-request copy. Frozen if shared.
   */
  readonly object: RegistryObject;
}

/**
 * Parses a stored body (packed, or JSON text as v5 wrote it: record-codec.mjs) into the record and
 * model object a cache entry holds; `shared`: deep-frozen, as every entry that goes into the cache
 * must be.
 */
export function parseRecord(rev: number, body: string | Uint8Array, shared = true): CachedRecord {
  return parseRecordText(rev, unpackRecord(body), shared);
}

/** `parseRecord` of a record's JSON text, already unpacked. */
function parseRecordText(rev: number, text: string, shared = true): CachedRecord {
  const record = JSON.parse(text) as Record<string, unknown>;
  if (!shared) return { rev, record, object: fromRecord(record) };
  deepFreeze(record);
  return { rev, record, object: Object.freeze(fromRecord(record)) };
}

/**
 * Default capacity, from the measured heap cost of a cache entry (record, model object, Map entry
 * and recency slot) on the bench generator's data
 * (`node --expose-gc --import tsx scripts/measure-cache-heap.ts`): DocumentEntry 3.7 KiB (2.4 KiB
 * of JSON), SubmissionSet 1.7 KiB, Folder 0.9 KiB, Association 0.7 KiB. 25,000 entries stay under
 * ~90 MiB even if all of them are DocumentEntries, and hold the working set of the bench's 32
 * patients (~1,600 entries, their sets and associations) many times over.
 */
export const DEFAULT_CACHE_ENTRIES = 25_000;

/** A cache slot: its entry and its neighbours in recency order (the entry itself is frozen). */
interface Slot {
  readonly seq: number;
  entry: CachedRecord;
  /** The next less recently used slot. */
  older: Slot | undefined;
  /** The next more recently used slot. */
  newer: Slot | undefined;
}

export class RecordCache {
  private readonly slots = new Map<number, Slot>();
  /**
   * Rows missed lately that the cache did not take (two generations of up to `capacity` seqs
   * each): a row enters the cache on its second miss. A patient asked for once (a kjernejournal
   * lookup) then costs no frozen copy, no remembered fragment and nothing that lives long enough
   * to burden the garbage collector, and does not push a clinic's current patients out.
   */
  private missed = new Set<number>();
  private missedBefore = new Set<number>();
  /** Ends of the recency list: the least recently used goes first. */
  private oldest: Slot | undefined;
  private newest: Slot | undefined;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`cache capacity must be a whole number ≥ 0, got ${capacity}`);
  }

  get size(): number {
    return this.slots.size;
  }

  /** The entry of row `seq` if it holds the body of revision `rev`; an older one is dropped. */
  get(seq: number, rev: number): CachedRecord | undefined {
    const slot = this.slots.get(seq);
    if (slot === undefined) return undefined;
    if (slot.entry.rev !== rev) {
      this.unlink(slot);
      this.slots.delete(seq);
      return undefined;
    }
    if (slot !== this.newest) {
      this.unlink(slot);
      this.link(slot);
    }
    return slot.entry;
  }

  /**
   * Whether row `seq`, just missed, should enter the cache: true when it was missed before (within
   * the last one to two capacities' worth of misses), otherwise false, and the miss is noted.
   */
  admits(seq: number): boolean {
    if (this.capacity === 0) return false;
    if (this.missed.has(seq) || this.missedBefore.has(seq)) return true;
    if (this.missed.size >= this.capacity) {
      this.missedBefore = this.missed;
      this.missed = new Set();
    }
    this.missed.add(seq);
    return false;
  }

  set(seq: number, entry: CachedRecord): void {
    if (this.capacity === 0) return;
    let slot = this.slots.get(seq);
    if (slot === undefined) {
      slot = { seq, entry, older: undefined, newer: undefined };
      this.slots.set(seq, slot);
    } else {
      slot.entry = entry;
      this.unlink(slot);
    }
    this.link(slot);
    if (this.slots.size > this.capacity) {
      const out = this.oldest!;
      this.unlink(out);
      this.slots.delete(out.seq);
    }
  }

  clear(): void {
    this.slots.clear();
    this.missed.clear();
    this.missedBefore.clear();
    this.oldest = this.newest = undefined;
  }

  /** Takes a slot out of the recency list. */
  private unlink(slot: Slot): void {
    if (slot.older === undefined) this.oldest = slot.newer;
    else slot.older.newer = slot.newer;
    if (slot.newer === undefined) this.newest = slot.older;
    else slot.newer.older = slot.older;
    slot.older = slot.newer = undefined;
  }

  /** Puts an unlinked slot at the most recently used end. */
  private link(slot: Slot): void {
    slot.older = this.newest;
    if (this.newest === undefined) this.oldest = slot;
    else this.newest.newer = slot;
    this.newest = slot;
  }
}

/** Freezes a parsed JSON value and everything in it (only plain objects and arrays occur). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.freeze(value);
    for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
