import type { AvailabilityStatus, RegistryObject, RegistryObjectType } from '../model/metadata.js';

/**
 * A MongoDB query filter over stored registry objects.
 *
 * Both stores evaluate the same filter: MongoDB natively, the embedded store with mingo. Stored
 * queries build these filters from the model's field names (e.g. `patientId`, `classCode.code`,
 * `authors.person`) plus the derived search fields of `SearchFields` (under `_s`). Use only
 * operators both engines evaluate identically: $and $or $in $nin $eq $ne $gte $gt $lte $lt
 * $exists $elemMatch $regex (with a string pattern and options 's'/'i'), $not.
 */
export type RegistryFilter = Record<string, unknown>;

/**
 * Search fields derived from a model object when it is stored (see `record.ts`), so that time
 * ranges compare correctly across HL7 DTM precisions and code lists match as single strings.
 * Filters address them as `_s.<name>`.
 */
export interface SearchFields {
  /** DTM values padded to 14 digits (YYYYMMDDHHMMSS) with zeros: creationTime, serviceStartTime, serviceStopTime, submissionTime, lastUpdateTime. */
  readonly creationTime?: string;
  readonly serviceStartTime?: string;
  readonly serviceStopTime?: string;
  readonly submissionTime?: string;
  readonly lastUpdateTime?: string;
  /** `code^^scheme` for each single code attribute present (classCode, typeCode, …, contentTypeCode). */
  readonly classCode?: string;
  readonly typeCode?: string;
  readonly formatCode?: string;
  readonly healthcareFacilityTypeCode?: string;
  readonly practiceSettingCode?: string;
  readonly contentTypeCode?: string;
  /** `code^^scheme` lists. */
  readonly confidentialityCodes?: readonly string[];
  readonly eventCodes?: readonly string[];
  readonly codeList?: readonly string[];
  /** Author persons, institutions, roles, specialties flattened across authors. */
  readonly authorPersons?: readonly string[];
  readonly authorInstitutions?: readonly string[];
  readonly authorRoles?: readonly string[];
  readonly authorSpecialties?: readonly string[];
}

export interface FindOptions {
  /** Return at most this many objects (the caller asks for limit+1 to detect "too many"). */
  readonly limit?: number;
}

/**
 * One atomic change to the registry: everything in it becomes visible together, or nothing does.
 * `inserts` must have new entryUuids; `replacements` overwrite existing objects (same entryUuid),
 * e.g. a deprecated DocumentEntry or a folder with a new lastUpdateTime.
 */
export interface CommitBatch {
  readonly inserts: readonly RegistryObject[];
  readonly replacements: readonly RegistryObject[];
  readonly deletions?: readonly string[];
  /**
   * Records written together with the objects (see `CommitOutbox`). Only a store with an `outbox`
   * takes them; the group committer leaves them out for any other.
   */
  readonly outbox?: readonly OutboxRecord[];
}

/**
 * Work that must follow a commit whatever happens to the process: the audit event of the
 * submission, the staged document to be committed under its uniqueId. Written in the same
 * transaction as the submission (embedded store, MongoDB replica set) or before it (MongoDB
 * standalone), so a record whose `witness` is stored names work that is owed; one whose witness is
 * missing belongs to a batch that was never (or not wholly) stored and must be ignored.
 */
export interface OutboxRecord {
  /** Unique: a record with an id already present replaces it. */
  readonly id: string;
  /** Which consumer it is for (`audit`, `blob-commit`). */
  readonly kind: string;
  /** The consumer's data, opaque to the store. */
  readonly payload: string;
  /**
   * An entryUuid inserted by the same batch (its SubmissionSet): present exactly when the batch
   * was stored. A batch that inserts nothing (a deletion) names one entryUuid it deletes instead,
   * marked by `absenceWitness`: absent exactly when the batch was stored. Read with `witnessed`.
   */
  readonly witness: string;
}

const ABSENT = 'absent:';

/** The witness of a batch that deletes `entryUuid` (see `OutboxRecord.witness`). */
export function absenceWitness(entryUuid: string): string {
  return `${ABSENT}${entryUuid}`;
}

/**
 * The records whose witness holds, i.e. whose batches were stored: one indexed lookup by entryUuid
 * for all of them. A record of a batch that was never (or not wholly) stored is not owed.
 */
export async function witnessed(
  store: { getByUuids(entryUuids: readonly string[]): Promise<readonly { readonly entryUuid: string }[]> },
  records: readonly OutboxRecord[],
): Promise<OutboxRecord[]> {
  if (records.length === 0) return [];
  const named = (r: OutboxRecord): string => (r.witness.startsWith(ABSENT) ? r.witness.slice(ABSENT.length) : r.witness);
  const stored = new Set((await store.getByUuids([...new Set(records.map(named))])).map((o) => o.entryUuid));
  return records.filter((r) => stored.has(named(r)) !== r.witness.startsWith(ABSENT));
}

/**
 * The records of committed batches whose work is not yet confirmed done. Consumers must be
 * idempotent: `done` is lazy (the deletion rides on a later write), so after a crash a record may
 * come back although its work was finished.
 */
export interface CommitOutbox {
  /** Every record of this kind, found through an index (the table holds only unfinished work). */
  pending(kind: string): Promise<OutboxRecord[]>;
  /** The work of these records is done; they are deleted with the next write (or soon after). */
  done(ids: readonly string[]): void;
}

/**
 * Persistence of registry objects. Implementations: `embedded/` (better-sqlite3 + mingo, the
 * default, no server) and `mongo/` (MongoDB). Both pass `test/store/contract.ts`.
 *
 * Objects returned by `find` and `getByUuids` are read-only: the embedded store hands the same
 * deep-frozen object to every caller from its read cache (mutating one throws a TypeError), so a
 * caller that needs a changed object builds a new one (`{ ...obj, availabilityStatus }`). Objects
 * not shared (cache disabled, a scan too large to cache, MongoDB) may be unfrozen.
 */
export interface RegistryStore {
  /** Objects matching the filter, in insertion order. `type` narrows to one object type. */
  find(filter: RegistryFilter, options?: FindOptions): Promise<RegistryObject[]>;
  /** Objects with the given entryUuids (any type), in no particular order; unknown ids are left out. */
  getByUuids(entryUuids: readonly string[]): Promise<RegistryObject[]>;
  /** Count of objects matching the filter. */
  count(filter: RegistryFilter): Promise<number>;
  /**
   * How many objects the registry holds, per type and availability status. Kept up to date by
   * every commit (in the same transaction where the store has transactions), so reading it costs
   * the same at 10 objects as at 10 million: unlike `count`, it is meant to be asked often (the
   * `/metrics` scrape). Only groups with at least one object are listed, in no particular order.
   */
  objectCounts(): Promise<ObjectCount[]>;
  /**
   * Applies the batch atomically: inserts, then replacements, then deletions. Throws
   * `DuplicateEntryUuidError` if an insert's entryUuid exists (or occurs twice in the batch) and
   * `UnknownEntryUuidError` if a replacement or deletion names an object that does not exist; in
   * both cases nothing of the batch is written. (MongoDB without a replica set cannot give this
   * guarantee in full; see `mongo/mongo-store.ts`.)
   */
  commit(batch: CommitBatch): Promise<void>;
  /**
   * Does now, on the caller's thread, what a later `commit` of these objects would do there before
   * handing them to its writer (the embedded store: their records' text and stored LeafClass
   * forms), so that the work can overlap an earlier commit being written: the generator decides
   * and prepares its next batch while the store writes the last one. Only an optimisation: a
   * commit of objects not prepared does the same work itself. The objects must not change in
   * between (none does: a changed object is a new object). Absent where there is nothing to do.
   */
  prepare?(objects: readonly RegistryObject[]): void;
  /** Absent when the store cannot write records with its commits (a test double, an overlay). */
  readonly outbox?: CommitOutbox;
  close(): Promise<void>;
}

/** One group of `RegistryStore.objectCounts`. */
export interface ObjectCount {
  readonly type: RegistryObjectType;
  readonly availabilityStatus: AvailabilityStatus;
  readonly count: number;
}

export class DuplicateEntryUuidError extends Error {
  constructor(readonly entryUuid: string) {
    super(`entryUUID ${entryUuid} already exists in the registry`);
    this.name = 'DuplicateEntryUuidError';
  }
}

/** A replacement or deletion named an entryUuid that is not in the store (e.g. deleted meanwhile). */
export class UnknownEntryUuidError extends Error {
  constructor(readonly entryUuid: string) {
    super(`entryUUID ${entryUuid} is not in the registry`);
    this.name = 'UnknownEntryUuidError';
  }
}

/** A filter narrowed to one object type, for readability at call sites. */
export function ofType(type: RegistryObjectType, filter: RegistryFilter = {}): RegistryFilter {
  return { type, ...filter };
}

/**
 * Whether a store error means the disk (or quota) is full: SQLite's SQLITE_FULL (an ENOSPC while
 * writing the WAL) and SQLITE_IOERR_SHMSIZE (the WAL index could not grow: its file is extended by
 * writing, which on a full disk fails), ENOSPC / EDQUOT from the file system, MongoDB's
 * OutOfDiskSpace. Such a failed commit stored nothing and is answered XDSRegistryOutOfResources,
 * not as an internal error.
 */
const OUT_OF_SPACE_CODES: ReadonlySet<unknown> = new Set(['SQLITE_FULL', 'SQLITE_IOERR_SHMSIZE', 'ENOSPC', 'EDQUOT']);

export function isOutOfSpace(e: unknown): boolean {
  for (let cause: unknown = e, depth = 0; typeof cause === 'object' && cause !== null && depth < 5; depth++) {
    const c = cause as { code?: unknown; codeName?: unknown; errors?: unknown; cause?: unknown };
    if (OUT_OF_SPACE_CODES.has(c.code) || c.codeName === 'OutOfDiskSpace' || c.code === 14031) return true;
    if (Array.isArray(c.errors) && c.errors.some((x) => isOutOfSpace(x))) return true;
    cause = c.cause;
  }
  return false;
}
