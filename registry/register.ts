/**
 * ITI-42 Register Document Set-b: validate a submission against the profile and the registry's
 * current content, then store it whole in one commit, or store nothing.
 *
 * GROUP COMMIT. Registrations on one store are decided one at a time, in arrival order: the
 * uniqueness checks read the registry and the commit writes it, and two interleaved registrations
 * could both pass the checks for the same uniqueId or deprecate the same document twice. But a
 * durable commit costs one fsync (1–4 ms here), far more than deciding a registration, so the
 * registrations that arrive while a group is being decided or committed wait in a queue, and the
 * next group takes them all (up to a bound, see MAX_GROUP_*): each is decided in turn against a
 * `StoreOverlay` that answers reads from the committed registry plus the objects of the group's
 * earlier submissions (same snapshot, every rule, same commit planning as alone, so a later
 * submission sees an earlier one exactly as if it had been committed), then the group's accepted
 * submissions are written in ONE atomic commit, and only then is any caller answered. A
 * submission the rules reject fails alone; its objects never reach the overlay.
 *
 * If the group's commit fails, none of it is stored, and each caller gets what a serial registry
 * would have answered. An entryUUID that another writer inserted meanwhile fails the submission
 * that holds it with XDSRegistryMetadataError, as a single commit did, and every other submission
 * of the group is decided again without it, first in the queue. A full disk (SQLITE_FULL, ENOSPC)
 * fails each submission that would have been stored with XDSRegistryOutOfResources: nothing was
 * stored, and the source may try again later. Any other failure is thrown to each submission that
 * would have been stored, as a single commit threw it; the ones the rules rejected are decided
 * again, since their verdicts may have rested on objects never stored.
 *
 * COMMIT RECORDS. A caller may attach outbox records to a submission (`withCommitRecords`): the
 * audit event of its success, the staged documents to commit under their uniqueIds. They are
 * written in the group's transaction, only for the submissions that are stored, each with the
 * submission's SubmissionSet entryUUID as its witness (store.ts `OutboxRecord`), so that work owed
 * after a commit is on disk exactly when the commit is, whenever the process dies.
 */
import { error, type RegistryErrorInfo } from './model/errors.js';
import {
  ASSOCIATION_TYPE,
  NO_EXTRA,
  isUuid,
  type Association,
  type DocumentEntry,
  type Folder,
  type RegistryObject,
  type Submission,
  type SubmissionSet,
} from './model/metadata.js';
import { padDtm } from './model/hl7.js';
import { newEntryUuid } from './model/uuid.js';
import type { PatientIdPolicy } from './patients.js';
import { DuplicateEntryUuidError, isOutOfSpace, type CommitBatch, type OutboxRecord, type RegistryStore } from './store/store.js';
import { StoreOverlay } from './store-overlay.js';
import { validateSubmission, type RegistrySnapshot } from './validate/index.js';
import { allObjects, registryPackagesAndEntries } from './validate/rule.js';

export interface RegisterContext {
  readonly patientIds: PatientIdPolicy;
  readonly now: () => Date;
  /** This community's homeCommunityId (urn:oid:…); submitted objects may not name another one. */
  readonly homeCommunityId?: string;
}

export interface RegisterOutcome {
  readonly status: 'Success' | 'Failure';
  readonly errors: RegistryErrorInfo[];
}

/**
 * Bounds of one group. Past ~32 single-document submissions the fsync is already under a tenth
 * of the group's cost, while every submission added delays the answer to all the others (each is
 * decided, on the event loop, before any is answered) and lengthens the commit they all wait for.
 * The commit itself does not block the event loop: the embedded store runs it on its writer's
 * worker thread (store/embedded/sqlite-writer.ts), so queries and the parsing of the next
 * registrations go on while it runs; those registrations queue for the next group, which is
 * decided once this one is committed. The object bound keeps one commit small when submissions are
 * large (a single submission above it still forms a group of its own).
 */
export const MAX_GROUP_SUBMISSIONS = 32;
export const MAX_GROUP_OBJECTS = 2000;

const REPLACING: readonly string[] = [ASSOCIATION_TYPE.RPLC, ASSOCIATION_TYPE.XFRM_RPLC];
/** Documents hanging off a replaced document that are deprecated with it (CP 117, NIST 12022). */
const DEPRECATED_WITH_ORIGINAL: readonly string[] = [ASSOCIATION_TYPE.APND, ASSOCIATION_TYPE.XFRM];

/** An outbox record as a caller attaches it: the witness is added when the submission is stored. */
export type CommitRecord = Omit<OutboxRecord, 'witness'>;

/**
 * The commit records of each submission. They travel with the submission object rather than as a
 * parameter, so that every path from a caller to `registerSubmission` (DocumentRegistry.register,
 * the repository's in-process registry port, a test's wrapper around that port) carries them
 * without knowing of them.
 */
const commitRecords = new WeakMap<Submission, readonly CommitRecord[]>();

/** Attaches outbox records to a submission: written with it if, and only if, it is stored. Returns the submission. */
export function withCommitRecords(submission: Submission, records: readonly CommitRecord[]): Submission {
  if (records.length > 0) commitRecords.set(submission, [...(commitRecords.get(submission) ?? []), ...records]);
  return submission;
}

export function registerSubmission(store: RegistryStore, submission: Submission, ctx: RegisterContext): Promise<RegisterOutcome> {
  let committer = committers.get(store);
  if (committer === undefined) committers.set(store, (committer = new GroupCommitter(store)));
  return committer.register(submission, ctx);
}

const committers = new WeakMap<RegistryStore, GroupCommitter>();

/** One caller waiting for its registration to be decided and, if accepted, committed. */
interface Waiting {
  readonly submission: Submission;
  readonly ctx: RegisterContext;
  readonly resolve: (outcome: RegisterOutcome) => void;
  readonly reject: (e: unknown) => void;
}

/** What deciding one registration of a group gave. */
type Decided =
  | {
      readonly kind: 'accepted';
      readonly waiting: Waiting;
      readonly outcome: RegisterOutcome;
      readonly inserts: readonly RegistryObject[];
      readonly records: readonly OutboxRecord[];
    }
  | { readonly kind: 'rejected'; readonly waiting: Waiting; readonly outcome: RegisterOutcome }
  | { readonly kind: 'error'; readonly waiting: Waiting; readonly error: unknown };

class GroupCommitter {
  private queue: Waiting[] = [];
  /** A group is scheduled or running; the next one starts when it has ended. */
  private active = false;

  constructor(private readonly store: RegistryStore) {}

  register(submission: Submission, ctx: RegisterContext): Promise<RegisterOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ submission, ctx, resolve, reject });
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
    // The accepted submissions' records, added to the overlay's one commit (see withOutbox).
    const records: OutboxRecord[] = [];
    const overlay = new StoreOverlay(this.store.outbox ? withOutbox(this.store, records) : this.store);
    const decided: Decided[] = [];
    try {
      while (this.queue.length > 0 && decided.length < MAX_GROUP_SUBMISSIONS && overlay.pendingObjects < MAX_GROUP_OBJECTS) {
        const waiting = this.queue.shift()!;
        decided.push(await decide(overlay, waiting));
      }
      const accepted = decided.filter((d) => d.kind === 'accepted');
      for (const d of accepted) records.push(...d.records);
      if (accepted.length > 0) await overlay.flush();
    } catch (e) {
      this.groupFailed(decided, e);
      return;
    }
    for (const d of decided) {
      if (d.kind === 'error') d.waiting.reject(d.error);
      else d.waiting.resolve(d.outcome);
    }
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
function outOfResources(errors: readonly RegistryErrorInfo[]): RegisterOutcome {
  return {
    status: 'Failure',
    errors: [...errors, error('XDSRegistryOutOfResources', 'the registry has no storage space left; nothing of the submission was stored, try again later')],
  };
}

/** The answer to a commit that found one of the submission's entryUUIDs already stored. */
function duplicateEntryUuid(errors: readonly RegistryErrorInfo[], e: DuplicateEntryUuidError): RegisterOutcome {
  return { status: 'Failure', errors: [...errors, error('XDSRegistryMetadataError', e.message, e.entryUuid)] };
}

/** Decides one registration against the group's overlay and, if accepted, adds its objects to it. */
async function decide(overlay: StoreOverlay, waiting: Waiting): Promise<Decided> {
  const { submission, ctx } = waiting;
  try {
    const registry = await loadSnapshot(overlay, submission);
    // Validation runs on the submitted ids so that error locations name what the source sent.
    const errors = validateSubmission(submission, {
      patientIds: ctx.patientIds,
      registry,
      ...(ctx.homeCommunityId === undefined ? {} : { homeCommunityId: ctx.homeCommunityId }),
    });
    if (errors.some((e) => e.severity === 'Error')) return { kind: 'rejected', waiting, outcome: { status: 'Failure', errors } };

    const resolved = resolveSymbolicIds(submission);
    const batch = await planCommit(overlay, resolved, registry, toDtm(ctx.now()));
    try {
      // Checks the batch as the store would (nothing is taken if a check fails). The inserts' ids
      // need no lookup in the store: each is one the snapshot looked up and the rules found new
      // (REG-entryUUID-new), or a new UUID made just now (resolveSymbolicIds, model/uuid.ts).
      await overlay.commit(batch, { insertsChecked: true });
    } catch (e) {
      if (e instanceof DuplicateEntryUuidError) return { kind: 'rejected', waiting, outcome: duplicateEntryUuid(errors, e) };
      throw e;
    }
    const witness = resolved.submissionSet.entryUuid;
    const records = (commitRecords.get(submission) ?? []).map((r): OutboxRecord => ({ ...r, witness }));
    return { kind: 'accepted', waiting, outcome: { status: 'Success', errors }, inserts: batch.inserts, records };
  } catch (e) {
    // A full disk can fail reads too (SQLite growing its WAL index): the same answer as a failed commit.
    if (isOutOfSpace(e)) return { kind: 'rejected', waiting, outcome: outOfResources([]) };
    return { kind: 'error', waiting, error: e };
  }
}

/** Loads the registered objects the submission names by entryUUID or shares a uniqueId with. */
export async function loadSnapshot(store: RegistryStore, submission: Submission): Promise<RegistrySnapshot> {
  const uuids = new Set<string>();
  for (const obj of allObjects(submission)) if (isUuid(obj.entryUuid)) uuids.add(obj.entryUuid);
  for (const a of submission.associations) {
    if (isUuid(a.sourceUuid)) uuids.add(a.sourceUuid);
    if (isUuid(a.targetUuid)) uuids.add(a.targetUuid);
  }
  for (const ref of submission.objectRefs) if (isUuid(ref)) uuids.add(ref);
  const byUuid = new Map<string, RegistryObject>();
  for (const obj of await store.getByUuids([...uuids])) byUuid.set(obj.entryUuid, obj);

  const uniqueIds = [
    ...new Set(registryPackagesAndEntries(submission).flatMap((o) => (o.uniqueId === undefined || o.uniqueId === '' ? [] : [o.uniqueId]))),
  ];
  const byUniqueId = new Map<string, RegistryObject[]>();
  if (uniqueIds.length > 0) {
    const found = await store.find({ type: { $in: ['DocumentEntry', 'SubmissionSet', 'Folder'] }, uniqueId: { $in: uniqueIds } });
    for (const obj of found) {
      const uid = (obj as { uniqueId?: string }).uniqueId;
      if (uid === undefined) continue;
      byUniqueId.set(uid, [...(byUniqueId.get(uid) ?? []), obj]);
    }
  }
  return { byUuid, byUniqueId };
}

/** Replaces every symbolic id (anything not a urn:uuid) with a new UUID, consistently in associations. */
export function resolveSymbolicIds(submission: Submission): Submission {
  const ids = new Map<string, string>();
  for (const obj of allObjects(submission)) {
    if (!isUuid(obj.entryUuid) && !ids.has(obj.entryUuid)) ids.set(obj.entryUuid, newEntryUuid());
  }
  return {
    submissionSet: { ...submission.submissionSet, entryUuid: resolvedId(ids, submission.submissionSet.entryUuid) },
    documentEntries: submission.documentEntries.map((de) => ({ ...de, entryUuid: resolvedId(ids, de.entryUuid) })),
    folders: submission.folders.map((f) => ({ ...f, entryUuid: resolvedId(ids, f.entryUuid) })),
    associations: submission.associations.map((a) => ({
      ...a,
      entryUuid: resolvedId(ids, a.entryUuid),
      sourceUuid: resolvedId(ids, a.sourceUuid),
      targetUuid: resolvedId(ids, a.targetUuid),
    })),
    objectRefs: submission.objectRefs,
  };
}

/**
 * The UUID a symbolic id was given, or the id itself. Not a closure over `ids`: the node runs under
 * tsx, whose keepNames costs every named closure a `defineProperty` call each time it is made.
 */
function resolvedId(ids: ReadonlyMap<string, string>, id: string): string {
  return ids.get(id) ?? id;
}

/** YYYYMMDDHHMMSS in UTC: XDS DTM at second precision. */
export function toDtm(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** Objects as the registry stores them: Approved, first version, no homeCommunityId (queries add it). */
function asRegistered<T extends SubmissionSet | DocumentEntry | Folder>(obj: T): T {
  const out = ownCopy(obj, 'homeCommunityId');
  out['availabilityStatus'] = 'Approved';
  out['logicalUuid'] = obj.logicalUuid ?? obj.entryUuid;
  out['version'] = obj.version ?? '1';
  return out as unknown as T;
}

/**
 * A shallow copy of a model object without the key `omit`: what `const { [omit]: _, ...rest } = obj`
 * gives for the model's plain string-keyed objects (own enumerable keys in their order, undefined
 * values too). Made by hand because V8 runs object rest through a slow runtime path: per object of
 * an ITI-42 submission, 6.3 µs for the rest and the spread after it, 1.0 µs copied here (measured),
 * ~15 µs of every registration. (A plain spread is no such case: measured in the whole
 * registration, the spreads of `resolveSymbolicIds` cost less than copies made here.)
 */
function ownCopy(obj: object, omit: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in obj) {
    if (key === omit || !Object.hasOwn(obj, key)) continue;
    const value: unknown = (obj as Record<string, unknown>)[key];
    // Object rest defines `__proto__` as an own key like any other; an assignment would set the prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  return out;
}

function newHasMember(sourceUuid: string, targetUuid: string): Association {
  return {
    type: 'Association',
    entryUuid: newEntryUuid(),
    associationType: ASSOCIATION_TYPE.HasMember,
    sourceUuid,
    targetUuid,
    availabilityStatus: 'Approved',
    extra: NO_EXTRA,
  };
}

/**
 * A folder's new lastUpdateTime: now, but always later than the previous value. DTMs have
 * one-second precision, and a consumer that polls a folder must see lastUpdateTime change
 * whenever the folder changed (NIST 12323 checks exactly that), even for two updates in one second.
 */
function laterThan(previous: string | undefined, now: string): string {
  if (previous === undefined) return now;
  const prev = padDtm(previous);
  if (padDtm(now) > prev) return now;
  const p = prev;
  const next = new Date(Date.UTC(+p.slice(0, 4), +p.slice(4, 6) - 1, +p.slice(6, 8), +p.slice(8, 10), +p.slice(10, 12), +p.slice(12, 14) + 1));
  return toDtm(next);
}

/**
 * Everything the submission changes, as one batch: its objects, the documents it deprecates
 * (replaced originals and their addenda and transformations), the folder memberships a
 * replacement inherits, and the folders whose lastUpdateTime moves.
 */
async function planCommit(store: RegistryStore, sub: Submission, registry: RegistrySnapshot, now: string): Promise<CommitBatch> {
  const inserts: RegistryObject[] = [
    asRegistered(sub.submissionSet),
    ...sub.documentEntries.map(asRegistered),
    ...sub.folders.map((f) => ({ ...asRegistered(f), lastUpdateTime: now })),
    ...sub.associations.map((a): Association => {
      const out = ownCopy(a, 'homeCommunityId');
      out['availabilityStatus'] = 'Approved';
      return out as unknown as Association;
    }),
  ];
  const replacements = new Map<string, RegistryObject>();
  const current = (id: string): RegistryObject | undefined => replacements.get(id) ?? registry.byUuid.get(id);
  const touchFolder = (folderId: string): void => {
    const folder = current(folderId);
    if (folder?.type === 'Folder') replacements.set(folderId, { ...folder, lastUpdateTime: laterThan(folder.lastUpdateTime, now) });
  };
  const deprecate = (doc: RegistryObject | undefined): void => {
    if (doc?.type === 'DocumentEntry' && doc.availabilityStatus === 'Approved') {
      replacements.set(doc.entryUuid, { ...doc, availabilityStatus: 'Deprecated' });
    }
  };

  const folderMembers = new Set<string>();
  for (const a of sub.associations) {
    if (a.associationType !== ASSOCIATION_TYPE.HasMember) continue;
    folderMembers.add(`${a.sourceUuid} ${a.targetUuid}`);
    // A document added to an already registered folder moves its lastUpdateTime (NIST 12323).
    if (registry.byUuid.get(a.sourceUuid)?.type === 'Folder') touchFolder(a.sourceUuid);
  }

  for (const a of sub.associations.filter((x) => REPLACING.includes(x.associationType))) {
    deprecate(current(a.targetUuid));
    const hanging = await store.find({
      type: 'Association',
      associationType: { $in: DEPRECATED_WITH_ORIGINAL },
      targetUuid: a.targetUuid,
    });
    const hangingDocs = await store.getByUuids(hanging.map((h) => (h as Association).sourceUuid));
    for (const doc of hangingDocs) deprecate(current(doc.entryUuid) ?? doc);

    // The replacement joins every folder the original was in (NIST 12327).
    const memberships = (await store.find({
      type: 'Association',
      associationType: ASSOCIATION_TYPE.HasMember,
      targetUuid: a.targetUuid,
    })) as Association[];
    const folders = await store.getByUuids(memberships.map((m) => m.sourceUuid));
    for (const folder of folders) {
      if (folder.type !== 'Folder' || folderMembers.has(`${folder.entryUuid} ${a.sourceUuid}`)) continue;
      folderMembers.add(`${folder.entryUuid} ${a.sourceUuid}`);
      inserts.push(newHasMember(folder.entryUuid, a.sourceUuid));
      if (!replacements.has(folder.entryUuid)) replacements.set(folder.entryUuid, folder);
      touchFolder(folder.entryUuid);
    }
  }
  return { inserts, replacements: [...replacements.values()] };
}
