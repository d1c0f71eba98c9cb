/**
 * ITI-42 Register Document Set-b: validate a submission against the profile and the registry's
 * current content, then store it whole in one commit, or store nothing.
 *
 * Registrations on one store run one at a time (an in-process mutex per store): the uniqueness
 * checks read the store and the commit writes it, and two interleaved registrations could both
 * pass the checks for the same uniqueId or deprecate the same document twice.
 */
import { randomUUID } from 'node:crypto';
import { error, type RegistryErrorInfo } from './model/errors';
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
} from './model/metadata';
import { padDtm } from './model/hl7';
import type { PatientIdPolicy } from './patients';
import { DuplicateEntryUuidError, type CommitBatch, type RegistryStore } from './store/store';
import { validateSubmission, type RegistrySnapshot } from './validate';
import { allObjects, registryPackagesAndEntries } from './validate/rule';

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

const REPLACING: readonly string[] = [ASSOCIATION_TYPE.RPLC, ASSOCIATION_TYPE.XFRM_RPLC];
/** Documents hanging off a replaced document that are deprecated with it (CP 117, NIST 12022). */
const DEPRECATED_WITH_ORIGINAL: readonly string[] = [ASSOCIATION_TYPE.APND, ASSOCIATION_TYPE.XFRM];

const queues = new WeakMap<RegistryStore, Promise<unknown>>();

/** Runs `task` after every task queued earlier on the same store, whatever their outcome. */
function serialised<T>(store: RegistryStore, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(store) ?? Promise.resolve();
  const run = previous.then(task, task);
  queues.set(
    store,
    run.catch(() => undefined),
  );
  return run;
}

export function registerSubmission(store: RegistryStore, submission: Submission, ctx: RegisterContext): Promise<RegisterOutcome> {
  return serialised(store, () => registerNow(store, submission, ctx));
}

async function registerNow(store: RegistryStore, submission: Submission, ctx: RegisterContext): Promise<RegisterOutcome> {
  const registry = await loadSnapshot(store, submission);
  // Validation runs on the submitted ids so that error locations name what the source sent.
  const errors = validateSubmission(submission, {
    patientIds: ctx.patientIds,
    registry,
    ...(ctx.homeCommunityId === undefined ? {} : { homeCommunityId: ctx.homeCommunityId }),
  });
  if (errors.some((e) => e.severity === 'Error')) return { status: 'Failure', errors };

  const resolved = resolveSymbolicIds(submission);
  const batch = await planCommit(store, resolved, registry, toDtm(ctx.now()));
  try {
    await store.commit(batch);
  } catch (e) {
    if (e instanceof DuplicateEntryUuidError) {
      return { status: 'Failure', errors: [...errors, error('XDSRegistryMetadataError', e.message, e.entryUuid)] };
    }
    throw e;
  }
  return { status: 'Success', errors };
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
    if (!isUuid(obj.entryUuid) && !ids.has(obj.entryUuid)) ids.set(obj.entryUuid, `urn:uuid:${randomUUID()}`);
  }
  const map = (id: string) => ids.get(id) ?? id;
  return {
    submissionSet: { ...submission.submissionSet, entryUuid: map(submission.submissionSet.entryUuid) },
    documentEntries: submission.documentEntries.map((de) => ({ ...de, entryUuid: map(de.entryUuid) })),
    folders: submission.folders.map((f) => ({ ...f, entryUuid: map(f.entryUuid) })),
    associations: submission.associations.map((a) => ({
      ...a,
      entryUuid: map(a.entryUuid),
      sourceUuid: map(a.sourceUuid),
      targetUuid: map(a.targetUuid),
    })),
    objectRefs: submission.objectRefs,
  };
}

/** YYYYMMDDHHMMSS in UTC: XDS DTM at second precision. */
export function toDtm(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** Objects as the registry stores them: Approved, first version, no homeCommunityId (queries add it). */
function asRegistered<T extends SubmissionSet | DocumentEntry | Folder>(obj: T): T {
  const { homeCommunityId: _home, ...rest } = obj;
  return { ...rest, availabilityStatus: 'Approved', logicalUuid: obj.logicalUuid ?? obj.entryUuid, version: obj.version ?? '1' } as T;
}

function newHasMember(sourceUuid: string, targetUuid: string): Association {
  return {
    type: 'Association',
    entryUuid: `urn:uuid:${randomUUID()}`,
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
      const { homeCommunityId: _home, ...rest } = a;
      return { ...rest, availabilityStatus: 'Approved' };
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
