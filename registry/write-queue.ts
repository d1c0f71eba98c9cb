/**
 * The one path every registry write takes: registration (ITI-42, and ITI-41 through the
 * repository), deletion (ITI-62), and any later kind. A write is a `RegistryWrite`: it decides
 * itself against the registry (reads only), and if it is accepted it hands back the batch to
 * commit. This module owns everything else: ordering, group commit, atomicity, outbox records,
 * and the answers to a failed commit.
 *
 * GROUP COMMIT. Writes on one store are decided one at a time, in arrival order: checks read the
 * registry and the commit writes it, and two interleaved writes could both pass the checks for
 * the same uniqueId or delete what the other one references. But a durable commit costs one fsync
 * (1–4 ms here), far more than deciding a write, so the writes that arrive while a group is being
 * decided or committed wait in a queue, and the next group takes them all (up to a bound, see
 * MAX_GROUP_*): each is decided in turn against a `StoreOverlay` that answers reads from the
 * committed registry plus the batches of the group's earlier writes (so a later write sees an
 * earlier one exactly as if it had been committed), then the group's accepted batches are written
 * in ONE atomic commit, and only then is any caller answered. A write that is rejected fails
 * alone; nothing of it reaches the overlay.
 *
 * If the group's commit fails, none of it is stored, and each caller gets what a serial registry
 * would have answered. An entryUUID that another writer inserted meanwhile fails the write that
 * holds it with XDSRegistryMetadataError, as a single commit did, and every other write of the
 * group is decided again without it, first in the queue. A full disk (SQLITE_FULL, ENOSPC) fails
 * each write that would have been stored with XDSRegistryOutOfResources: nothing was stored, and
 * the source may try again later. Any other failure is thrown to each write that would have been
 * stored, as a single commit threw it; the ones that were rejected are decided again, since their
 * verdicts may have rested on objects never stored.
 *
 * COMMIT RECORDS. A write may carry outbox records (`CommitRecord`): the audit event of its
 * success, the staged documents to commit under their uniqueIds. They are written in the group's
 * transaction, only for the writes that are stored, each with the write's witness (store.ts
 * `OutboxRecord`), so that work owed after a commit is on disk exactly when the commit is,
 * whenever the process dies.
 */
import { error, type RegistryErrorInfo } from './model/errors.js';
import {
  DuplicateEntryUuidError,
  UnknownEntryUuidError,
  isOutOfSpace,
  type CommitBatch,
  type OutboxRecord,
  type RegistryStore,
} from './store/store.js';
import { restampRelationshipSources } from './relationships.js';
import { ReinsertAfterDeleteError, StoreOverlay, type ReadAhead } from './store-overlay.js';

/** The answer to a registry write: stored whole (Success, perhaps with warnings) or not at all. */
export interface WriteOutcome {
  readonly status: 'Success' | 'Failure';
  readonly errors: RegistryErrorInfo[];
}

/** An outbox record as a write carries it: the witness is the write's, added when it is stored. */
export type CommitRecord = Omit<OutboxRecord, 'witness'>;

/** What deciding a write gave: the batch to commit, or the answer that it is refused. */
export type WritePlan =
  | {
      readonly kind: 'accepted';
      readonly batch: CommitBatch;
      /** The answer once the batch is stored (Success, with any warnings). */
      readonly outcome: WriteOutcome;
      /** What proves the batch was stored (store.ts `OutboxRecord.witness`, `absenceWitness`). */
      readonly witness: string;
      /**
       * The write established that none of its inserts' entryUuids is stored (the overlay then
       * skips that lookup; see StoreOverlay.commit).
       */
      readonly insertsChecked: boolean;
    }
  | { readonly kind: 'rejected'; readonly outcome: WriteOutcome };

/** One registry write. */
export interface RegistryWrite {
  /**
   * Decides the write against `registry`: the committed registry plus the batches of the group's
   * earlier writes. Reads only; the queue stages and commits the batch. May throw: the error is
   * the caller's answer (or XDSRegistryOutOfResources for a full disk).
   */
  decide(registry: RegistryStore): Promise<WritePlan>;
  /** Outbox records written with the batch, if and only if it is stored. */
  readonly records: readonly CommitRecord[];
  /**
   * What `decide` will look up, if the write knows it beforehand: the queue reads it for the whole
   * group in one go before the group is decided (StoreOverlay.readAhead). Only a hint: a lookup
   * not named here goes to the store as before, and the answers are the same either way.
   */
  readonly reads?: ReadAhead;
}

/**
 * Bounds of one group. Past ~32 single-document submissions the fsync is already under a tenth
 * of the group's cost, while every write added delays the answer to all the others (each is
 * decided, on the event loop, before any is answered) and lengthens the commit they all wait for.
 * The commit itself does not block the event loop: the embedded store runs it on its writer's
 * worker thread (store/embedded/sqlite-writer.ts), so queries and the parsing of the next writes
 * go on while it runs; those writes queue for the next group, which is decided once this one is
 * committed. The object bound keeps one commit small when writes are large (a single write above
 * it still forms a group of its own).
 */
export const MAX_GROUP_WRITES = 32;
export const MAX_GROUP_OBJECTS = 2000;

/** Queues a write on the store's one queue; resolves once it is stored or refused. */
export function write(store: RegistryStore, w: RegistryWrite): Promise<WriteOutcome> {
  const owner = owners.get(store);
  if (owner !== undefined) return owner(w);
  let queue = queues.get(store);
  if (queue === undefined) queues.set(store, (queue = new WriteQueue(store)));
  return queue.add(w);
}

const queues = new WeakMap<RegistryStore, WriteQueue>();

/**
 * Stores whose writes another process decides (registry/forwarded-writes.ts: a worker of a
 * multi-process node hands each write to the write owner, which runs it on this queue). A store
 * named here never gets a queue of its own: `write` passes the write on, untouched, and answers
 * what the owner answered.
 */
const owners = new WeakMap<RegistryStore, (w: RegistryWrite) => Promise<WriteOutcome>>();

/** Makes every write on `store` go to `owner` instead of this process's queue (see `owners`). */
export function writeThrough(store: RegistryStore, owner: (w: RegistryWrite) => Promise<WriteOutcome>): void {
  owners.set(store, owner);
}

/** One caller waiting for its write to be decided and, if accepted, committed. */
interface Waiting {
  readonly write: RegistryWrite;
  readonly resolve: (outcome: WriteOutcome) => void;
  readonly reject: (e: unknown) => void;
}

/** What deciding one write of a group gave. */
type Decided =
  | {
      readonly kind: 'accepted';
      readonly waiting: Waiting;
      readonly outcome: WriteOutcome;
      readonly inserts: readonly CommitBatch['inserts'][number][];
      readonly records: readonly OutboxRecord[];
    }
  | { readonly kind: 'rejected'; readonly waiting: Waiting; readonly outcome: WriteOutcome }
  /** Conflicts with an earlier write of the group in a way one commit cannot express: next group. */
  | { readonly kind: 'deferred'; readonly waiting: Waiting }
  | { readonly kind: 'error'; readonly waiting: Waiting; readonly error: unknown };

class WriteQueue {
  private queue: Waiting[] = [];
  /** A group is scheduled or running; the next one starts when it has ended. */
  private active = false;

  constructor(private readonly store: RegistryStore) {}

  add(write: RegistryWrite): Promise<WriteOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.active || this.queue.length === 0) return;
    this.active = true;
    // setImmediate runs after this turn's I/O callbacks: every request read in it joins the group.
    setImmediate(() => {
      void this.runGroup().finally(() => {
        this.active = false;
        this.schedule();
      });
    });
  }

  private async runGroup(): Promise<void> {
    // The accepted writes' records, added to the overlay's one commit (see withOutbox).
    const records: OutboxRecord[] = [];
    const overlay = new StoreOverlay(this.store.outbox ? withOutbox(this.store, records) : this.store);
    const decided: Decided[] = [];
    try {
      await readAhead(overlay, this.queue);
      while (this.queue.length > 0 && decided.length < MAX_GROUP_WRITES && overlay.pendingObjects < MAX_GROUP_OBJECTS) {
        const d = await decide(overlay, this.queue.shift()!);
        decided.push(d);
        if (d.kind === 'deferred') break;
      }
      const accepted = decided.filter((d) => d.kind === 'accepted');
      for (const d of accepted) records.push(...d.records);
      if (accepted.length > 0) await overlay.flush();
    } catch (e) {
      this.groupFailed(decided, e);
      return;
    }
    const deferred: Waiting[] = [];
    for (const d of decided) {
      if (d.kind === 'error') d.waiting.reject(d.error);
      else if (d.kind === 'deferred') deferred.push(d.waiting);
      else d.waiting.resolve(d.outcome);
    }
    this.queue.unshift(...deferred);
  }

  /** The group's commit failed, so none of it is stored: answer as a serial registry would have. */
  private groupFailed(decided: readonly Decided[], e: unknown): void {
    const owner =
      e instanceof DuplicateEntryUuidError
        ? decided.find((d) => d.kind === 'accepted' && d.inserts.some((o) => o.entryUuid === e.entryUuid))
        : undefined;
    const again: Waiting[] = [];
    const outOfSpace = isOutOfSpace(e);
    for (const d of decided) {
      if (d.kind === 'error') d.waiting.reject(d.error);
      else if (d.kind === 'deferred') again.push(d.waiting);
      else if (owner !== undefined) {
        // Only the owner of the clashing entryUUID failed; the others are decided again without it.
        if (d === owner) d.waiting.resolve(duplicateEntryUuid(d.outcome.errors, e as DuplicateEntryUuidError));
        else again.push(d.waiting);
      } else if (d.kind === 'accepted') {
        if (e instanceof DuplicateEntryUuidError) d.waiting.resolve(duplicateEntryUuid(d.outcome.errors, e));
        else if (outOfSpace) d.waiting.resolve(outOfResources(d.outcome.errors));
        else d.waiting.reject(e);
      } else again.push(d.waiting);
    }
    this.queue.unshift(...again);
  }
}

/**
 * Reads ahead for the group (see `RegistryWrite.reads`). A failed read-ahead is no failure of the
 * group: the writes then look up what they need themselves, and a read that fails again fails
 * its write alone, as it always did (`decide`: the caller's error, or XDSRegistryOutOfResources).
 */
async function readAhead(overlay: StoreOverlay, queue: readonly Waiting[]): Promise<void> {
  try {
    await overlay.readAhead(readsOf(queue));
  } catch {
    // Nothing was read ahead (the overlay keeps no partial read-ahead).
  }
}

/**
 * What the writes that can join the next group will look up (their `reads`): at most
 * MAX_GROUP_WRITES of them, the group's bound by count (the object bound may end it sooner; what
 * was read ahead for the others is then simply not used).
 */
function readsOf(queue: readonly Waiting[]): ReadAhead {
  const entryUuids: string[] = [];
  const uniqueIds: string[] = [];
  for (let i = 0; i < queue.length && i < MAX_GROUP_WRITES; i++) {
    const reads = queue[i]!.write.reads;
    if (reads === undefined) continue;
    for (const id of reads.entryUuids) entryUuids.push(id);
    for (const id of reads.uniqueIds) uniqueIds.push(id);
  }
  return { entryUuids, uniqueIds };
}

/** Decides one write against the group's overlay and, if accepted, stages its batch there. */
async function decide(overlay: StoreOverlay, waiting: Waiting): Promise<Decided> {
  try {
    const plan = await waiting.write.decide(overlay);
    if (plan.kind === 'rejected') return { kind: 'rejected', waiting, outcome: plan.outcome };
    try {
      // Checks the batch as the store would (nothing is taken if a check fails). Every write keeps
      // the invariant relationships.ts's memo rests on.
      await overlay.commit(await restampRelationshipSources(overlay, plan.batch), { insertsChecked: plan.insertsChecked });
    } catch (e) {
      if (e instanceof DuplicateEntryUuidError) return { kind: 'rejected', waiting, outcome: duplicateEntryUuid(plan.outcome.errors, e) };
      // Deleted by an earlier write of the group after this write read it: decided again next group.
      if (e instanceof UnknownEntryUuidError || e instanceof ReinsertAfterDeleteError) return { kind: 'deferred', waiting };
      throw e;
    }
    const records = waiting.write.records.map((r): OutboxRecord => ({ ...r, witness: plan.witness }));
    return { kind: 'accepted', waiting, outcome: plan.outcome, inserts: plan.batch.inserts, records };
  } catch (e) {
    // A full disk can fail reads too (SQLite growing its WAL index): the same answer as a failed commit.
    if (isOutOfSpace(e)) return { kind: 'rejected', waiting, outcome: outOfResources([]) };
    return { kind: 'error', waiting, error: e };
  }
}

/**
 * The store as a group's overlay writes to it: its one commit carries the group's outbox records
 * (filled in once the group is decided, before the overlay is flushed).
 */
function withOutbox(store: RegistryStore, records: readonly OutboxRecord[]): RegistryStore {
  return {
    find: (filter, options) => store.find(filter, options),
    getByUuids: (ids) => store.getByUuids(ids),
    count: (filter) => store.count(filter),
    objectCounts: () => store.objectCounts(),
    commit: (batch) => store.commit(records.length > 0 ? { ...batch, outbox: records } : batch),
    close: () => store.close(),
  };
}

/** The answer to a commit that failed for lack of disk space: nothing was stored. */
function outOfResources(errors: readonly RegistryErrorInfo[]): WriteOutcome {
  return {
    status: 'Failure',
    errors: [...errors, error('XDSRegistryOutOfResources', 'the registry has no storage space left; nothing was stored, try again later')],
  };
}

/** The answer to a commit that found one of the write's entryUUIDs already stored. */
function duplicateEntryUuid(errors: readonly RegistryErrorInfo[], e: DuplicateEntryUuidError): WriteOutcome {
  return { status: 'Failure', errors: [...errors, error('XDSRegistryMetadataError', e.message, e.entryUuid)] };
}
