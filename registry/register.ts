/**
 * ITI-42 Register Document Set-b: validate a submission against the profile and the registry's
 * current content, then store it whole in one commit, or store nothing. A registration is one
 * kind of registry write (`write-queue.ts`: ordering, group commit, atomicity and outbox records
 * are the queue's, the same for every write); this module decides it: snapshot, every rule, and
 * the batch (the submission's objects, the documents it deprecates, folder updates).
 *
 * COMMIT RECORDS. A caller may attach outbox records to a submission (`withCommitRecords`): the
 * audit event of its success, the staged documents to commit under their uniqueIds. The queue
 * writes them with the submission's SubmissionSet entryUUID as their witness.
 */
import type { RegistryErrorInfo } from './model/errors.js';
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
import type { CommitBatch, RegistryStore } from './store/store.js';
import { validateSubmission, type RegistrySnapshot } from './validate/index.js';
import { allObjects, registryPackagesAndEntries } from './validate/rule.js';
import { write, type CommitRecord, type RegistryWrite, type WriteOutcome, type WritePlan } from './write-queue.js';

export interface RegisterContext {
  readonly patientIds: PatientIdPolicy;
  readonly now: () => Date;
  /** This community's homeCommunityId (urn:oid:…); submitted objects may not name another one. */
  readonly homeCommunityId?: string;
}

/** The answer to a registration (every registry write is answered alike). */
export type RegisterOutcome = WriteOutcome;

const REPLACING: readonly string[] = [ASSOCIATION_TYPE.RPLC, ASSOCIATION_TYPE.XFRM_RPLC];
/** Documents hanging off a replaced document that are deprecated with it (CP 117, NIST 12022). */
const DEPRECATED_WITH_ORIGINAL: readonly string[] = [ASSOCIATION_TYPE.APND, ASSOCIATION_TYPE.XFRM];

export type { CommitRecord } from './write-queue.js';

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
  return write(store, registration(submission, ctx));
}

/** A submission as a registry write. */
function registration(submission: Submission, ctx: RegisterContext): RegistryWrite {
  const reads = snapshotReads(submission);
  return {
    records: commitRecords.get(submission) ?? [],
    decide: (registry) => decideRegistration(registry, submission, ctx, reads),
    reads,
  };
}

/** Validates the submission against the registry and plans its batch. */
async function decideRegistration(store: RegistryStore, submission: Submission, ctx: RegisterContext, reads: SnapshotReads): Promise<WritePlan> {
  const registry = await loadSnapshot(store, submission, reads);
  // Validation runs on the submitted ids so that error locations name what the source sent.
  const errors: RegistryErrorInfo[] = validateSubmission(submission, {
    patientIds: ctx.patientIds,
    registry,
    ...(ctx.homeCommunityId === undefined ? {} : { homeCommunityId: ctx.homeCommunityId }),
  });
  if (errors.some((e) => e.severity === 'Error')) return { kind: 'rejected', outcome: { status: 'Failure', errors } };

  const resolved = resolveSymbolicIds(submission);
  const batch = await planCommit(store, resolved, registry, toDtm(ctx.now()));
  return {
    kind: 'accepted',
    batch,
    outcome: { status: 'Success', errors },
    witness: resolved.submissionSet.entryUuid,
    // Each insert's id is one the snapshot looked up and the rules found new (REG-entryUUID-new),
    // or a new UUID made just now (resolveSymbolicIds, model/uuid.ts).
    insertsChecked: true,
  };
}

/** What `loadSnapshot` looks up for a submission: the entryUUIDs it names and the uniqueIds it gives. */
interface SnapshotReads {
  readonly entryUuids: readonly string[];
  readonly uniqueIds: readonly string[];
}

function snapshotReads(submission: Submission): SnapshotReads {
  const uuids = new Set<string>();
  for (const obj of allObjects(submission)) if (isUuid(obj.entryUuid)) uuids.add(obj.entryUuid);
  for (const a of submission.associations) {
    if (isUuid(a.sourceUuid)) uuids.add(a.sourceUuid);
    if (isUuid(a.targetUuid)) uuids.add(a.targetUuid);
  }
  for (const ref of submission.objectRefs) if (isUuid(ref)) uuids.add(ref);
  const uniqueIds = new Set<string>();
  for (const o of registryPackagesAndEntries(submission)) if (o.uniqueId !== undefined && o.uniqueId !== '') uniqueIds.add(o.uniqueId);
  return { entryUuids: [...uuids], uniqueIds: [...uniqueIds] };
}

/** Loads the registered objects the submission names by entryUUID or shares a uniqueId with. */
export async function loadSnapshot(store: RegistryStore, submission: Submission, reads: SnapshotReads = snapshotReads(submission)): Promise<RegistrySnapshot> {
  const { entryUuids, uniqueIds } = reads;
  const byUuid = new Map<string, RegistryObject>();
  for (const obj of await store.getByUuids(entryUuids)) byUuid.set(obj.entryUuid, obj);

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

/**
 * Objects as the registry stores them: Approved, no homeCommunityId (queries add it), and the first
 * version of their own logical object (lid = entryUUID, version 1): a registration never continues
 * another object's versions (the rules refuse a lid other than the id, SUB-no-logical-id), and a
 * VersionInfo it sent is not the registry's count. ITI-57 stores its new versions with `asVersion`.
 */
export function asRegistered<T extends SubmissionSet | DocumentEntry | Folder>(obj: T): T {
  return asVersion(obj, obj.entryUuid, 1);
}

/** A registry object as stored: Approved, version `version` of the logical object `lid`, no homeCommunityId. */
export function asVersion<T extends SubmissionSet | DocumentEntry | Folder>(obj: T, lid: string, version: number): T {
  const out = ownCopy(obj, 'homeCommunityId');
  out['availabilityStatus'] = 'Approved';
  out['logicalUuid'] = lid;
  out['version'] = String(version);
  return out as unknown as T;
}

/** An association as stored: Approved, no homeCommunityId. */
export function asRegisteredAssociation(a: Association): Association {
  const out = ownCopy(a, 'homeCommunityId');
  out['availabilityStatus'] = 'Approved';
  return out as unknown as Association;
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

/** A new, Approved HasMember from `sourceUuid` to `targetUuid` (an inherited folder membership). */
export function newHasMember(sourceUuid: string, targetUuid: string): Association {
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
export function laterThan(previous: string | undefined, now: string): string {
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
    ...sub.associations.map(asRegisteredAssociation),
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
