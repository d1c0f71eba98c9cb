/**
 * ITI-57 Update Document Set (XDS Metadata Update option, ITI TF-2 3.57): new versions of
 * DocumentEntries and Folders, status changes, new associations between registered objects. An
 * update is one more kind of registry write (`write-queue.ts`), on the path of registrations and
 * deletions: decided against the registry plus the group's earlier writes, committed whole with its
 * audit event, or refused whole. The rules are registry/validate/metadataUpdate.ts; this module loads
 * what they compare with and plans the batch.
 *
 * WHAT A NEW VERSION CHANGES. Its logical object's latest version is looked up inside `decide`, so
 * that writes racing for one logical object are judged one after the other: the first commits
 * version n+1, the second names version n as PreviousVersion and is refused with
 * XDSMetadataVersionError. The batch then holds
 * - the new version, Approved, with the lid, version n+1 and a fresh entryUUID;
 * - the superseded version, now Deprecated (a Folder as much as a DocumentEntry: NIST 20000);
 * - every association of the request as sent, Approved (the SubmissionSet HasMember with its
 *   PreviousVersion says which version superseded which);
 * - unless its HasMember says AssociationPropagation "no", the associations of the superseded
 *   version carried to the new one (ITI TF-2 3.57.4.1.3.3.1.5 / .3.3.5): a DocumentEntry keeps its
 *   folders and its document relationships (a copy with the new version at its end), a Folder keeps
 *   the Approved DocumentEntries it holds. The originals stay as they were, Approved, on the
 *   superseded version (NIST 20000d/e query both), and the copies belong to no SubmissionSet: they
 *   are the registry's, not the source's (NIST 20000d counts one association on the update's set).
 *   Folders that gain a member move their lastUpdateTime.
 *
 * STATUS CHANGES replace the target with its NewStatus. A status change of a DocumentEntry that the
 * same request also versions applies to the new version; the superseded one is deprecated as any
 * superseded version is (ITI TF-2 3.57.4.1.3.1).
 *
 * SUBMITTED ASSOCIATIONS are stored as sent, with the SubmitAssociation that carries them; a
 * HasMember into a folder moves the folder's lastUpdateTime.
 *
 * ITI-92 Restricted Update Document Set (Restricted Metadata Update, XDS and XCA Persistence
 * Options) is the same write with its own rule list (validate/iti92.ts: new DocumentEntry versions
 * only, some attributes unmodifiable) and one difference in the plan: the new version takes the
 * availabilityStatus of the version it supersedes, so that a Deprecated latest version, which RMU
 * may update (CP 1190, NIST 12319), stays Deprecated in its new version instead of coming back.
 */
import type { RegistryErrorInfo } from './model/errors.js';
import {
  ASSOCIATION_TYPE,
  DOCUMENT_RELATIONSHIPS,
  isUuid,
  type Association,
  type DocumentEntry,
  type Folder,
  type RegistryObject,
  type Submission,
} from './model/metadata.js';
import { newEntryUuid } from './model/uuid.js';
import type { PatientIdPolicy } from './patients.js';
import {
  asRegistered,
  asRegisteredAssociation,
  asVersion,
  laterThan,
  loadSnapshot,
  newHasMember,
  resolveSymbolicIds,
  toDtm,
} from './register.js';
import type { CommitBatch, RegistryStore } from './store/store.js';
import { validateRestrictedUpdate, validateUpdate, type RegistrySnapshot, type UpdateState, type UpdateValidationContext } from './validate/index.js';
import {
  latestVersion,
  newVersions,
  statusUpdates,
  statusValue,
  submittedAssociations,
  versionOf,
} from './validate/metadataUpdate.js';
import { write, type CommitRecord, type WriteOutcome, type WritePlan } from './write-queue.js';

export interface UpdateContext {
  readonly patientIds: PatientIdPolicy;
  readonly now: () => Date;
  /** This community's homeCommunityId (urn:oid:…); submitted objects may not name another one. */
  readonly homeCommunityId?: string;
}

/** What tells the two update transactions apart once the request is loaded. */
interface UpdateKind {
  readonly validate: (submission: Submission, ctx: UpdateValidationContext) => RegistryErrorInfo[];
  /** A new version keeps the superseded version's availabilityStatus (ITI-92) instead of becoming Approved (ITI-57). */
  readonly inheritStatus: boolean;
}

const UPDATE: UpdateKind = { validate: (submission, ctx) => validateUpdate(submission, ctx), inheritStatus: false };
const RESTRICTED_UPDATE: UpdateKind = { validate: validateRestrictedUpdate, inheritStatus: true };

/** Applies an ITI-57 request whole, or nothing of it; `records` are written with it if it is stored. */
export function updateDocumentSet(store: RegistryStore, submission: Submission, ctx: UpdateContext, records: readonly CommitRecord[] = []): Promise<WriteOutcome> {
  return write(store, { records, decide: (registry) => decideUpdate(registry, submission, ctx, UPDATE) });
}

/**
 * Applies an ITI-92 request whole, or nothing of it, on the same write path as ITI-57 (so that an
 * RMU and an ITI-57 update of one logical DocumentEntry racing each other are judged one after the
 * other too); `records` are written with it if it is stored.
 */
export function restrictedUpdateDocumentSet(
  store: RegistryStore,
  submission: Submission,
  ctx: UpdateContext,
  records: readonly CommitRecord[] = [],
): Promise<WriteOutcome> {
  return write(store, { records, decide: (registry) => decideUpdate(registry, submission, ctx, RESTRICTED_UPDATE) });
}

async function decideUpdate(store: RegistryStore, submission: Submission, ctx: UpdateContext, kind: UpdateKind): Promise<WritePlan> {
  const { snapshot, state } = await loadUpdate(store, submission);
  const errors: RegistryErrorInfo[] = kind.validate(submission, {
    patientIds: ctx.patientIds,
    registry: snapshot,
    update: state,
    ...(ctx.homeCommunityId === undefined ? {} : { homeCommunityId: ctx.homeCommunityId }),
  });
  if (errors.some((e) => e.severity === 'Error')) return { kind: 'rejected', outcome: { status: 'Failure', errors } };
  const resolved = resolveSymbolicIds(submission);
  return {
    kind: 'accepted',
    batch: planUpdate(resolved, snapshot, state, toDtm(ctx.now()), kind.inheritStatus),
    outcome: { status: 'Success', errors },
    witness: resolved.submissionSet.entryUuid,
    // Submitted urn:uuid ids were looked up and found new (REG-entryUUID-new); every other insert has a new UUID.
    insertsChecked: true,
  };
}

/**
 * The registered objects an update request would change, read without deciding it: the versions
 * its new versions supersede, the objects whose status it changes, and the associations it
 * submits (as sent; their ends are registered). For the trust decision and the audit, which run
 * before the write; the write decides on its own reads.
 */
export async function objectsChangedBy(store: RegistryStore, submission: Submission): Promise<RegistryObject[]> {
  const { snapshot, state } = await loadUpdate(store, submission);
  const out = new Map<string, RegistryObject>();
  for (const obj of newVersions(submission)) {
    const latest = obj.logicalUuid === undefined ? undefined : latestVersion(state.versions.get(obj.logicalUuid));
    if (latest !== undefined) out.set(latest.entryUuid, latest);
  }
  for (const a of statusUpdates(submission)) {
    const target = snapshot.byUuid.get(a.targetUuid);
    if (target !== undefined) out.set(target.entryUuid, target);
  }
  for (const a of submittedAssociations(submission)) out.set(a.entryUuid, a);
  return [...out.values()];
}

// ---------------------------------------------------------------- what the rules compare with

/**
 * Reads what the rules need: the usual snapshot (the objects the request names, those sharing its
 * uniqueIds), every version of each logical object it versions or changes the status of, the
 * associations of the latest versions it supersedes (with their far ends), and the associations
 * already linking the ends of each association it submits. Indexed reads only (entryUUID, uniqueId,
 * association ends).
 */
async function loadUpdate(store: RegistryStore, submission: Submission): Promise<{ snapshot: RegistrySnapshot; state: UpdateState }> {
  const base = await loadSnapshot(store, submission);
  const byUuid = new Map(base.byUuid);
  const learn = async (ids: Iterable<string>): Promise<void> => {
    const missing = [...new Set(ids)].filter((id) => isUuid(id) && !byUuid.has(id));
    if (missing.length > 0) for (const o of await store.getByUuids(missing)) byUuid.set(o.entryUuid, o);
  };

  // The logical objects the request names, and a uniqueId of each to find its versions by.
  const lids = new Set<string>();
  const uniqueIds = new Set<string>();
  for (const obj of newVersions(submission)) {
    if (obj.logicalUuid === undefined || !isUuid(obj.logicalUuid)) continue;
    lids.add(obj.logicalUuid);
    if (obj.uniqueId !== undefined) uniqueIds.add(obj.uniqueId);
  }
  for (const a of statusUpdates(submission)) {
    const target = byUuid.get(a.targetUuid);
    if (target?.type !== 'DocumentEntry') continue;
    lids.add(target.logicalUuid ?? target.entryUuid);
    if (target.uniqueId !== undefined) uniqueIds.add(target.uniqueId);
  }
  // The first version's entryUUID is the lid: its uniqueId finds the others, also when the request
  // sent another uniqueId (which MU-same-uniqueId then reports).
  await learn(lids);
  for (const lid of lids) {
    const first = byUuid.get(lid);
    if (first !== undefined && first.type !== 'Association' && first.uniqueId !== undefined) uniqueIds.add(first.uniqueId);
  }
  const versions = new Map<string, (DocumentEntry | Folder)[]>();
  if (lids.size > 0 && uniqueIds.size > 0) {
    const found = await store.find({ type: { $in: ['DocumentEntry', 'Folder'] }, uniqueId: { $in: [...uniqueIds] } });
    for (const o of found as (DocumentEntry | Folder)[]) {
      const lid = o.logicalUuid ?? o.entryUuid;
      if (!lids.has(lid)) continue;
      versions.set(lid, [...(versions.get(lid) ?? []), o]);
      byUuid.set(o.entryUuid, o);
    }
  }

  // The associations of each latest version a new version supersedes (propagation, patient changes).
  const latestIds = [...new Set(newVersions(submission).flatMap((o) => {
    const latest = o.logicalUuid === undefined ? undefined : latestVersion(versions.get(o.logicalUuid));
    return latest === undefined ? [] : [latest.entryUuid];
  }))];
  const linksOfLatest = new Map<string, Association[]>();
  if (latestIds.length > 0) {
    const [bySource, byTarget] = await Promise.all([
      store.find({ type: 'Association', sourceUuid: { $in: latestIds } }),
      store.find({ type: 'Association', targetUuid: { $in: latestIds } }),
    ]);
    const links = new Map<string, Association>();
    for (const a of [...bySource, ...byTarget] as Association[]) links.set(a.entryUuid, a);
    for (const a of links.values()) {
      for (const id of new Set([a.sourceUuid, a.targetUuid])) if (latestIds.includes(id)) linksOfLatest.set(id, [...(linksOfLatest.get(id) ?? []), a]);
    }
    await learn([...links.values()].flatMap((a) => [a.sourceUuid, a.targetUuid]));
  }

  // What already links the ends of each submitted association, and the source of each association
  // whose status changes (a Folder's membership or a SubmissionSet's).
  const submitted = submittedAssociations(submission).filter((a) => isUuid(a.sourceUuid) && isUuid(a.targetUuid));
  const between = new Map<string, Association[]>();
  if (submitted.length > 0) {
    const found = (await store.find({
      type: 'Association',
      sourceUuid: { $in: [...new Set(submitted.map((a) => a.sourceUuid))] },
      targetUuid: { $in: [...new Set(submitted.map((a) => a.targetUuid))] },
    })) as Association[];
    const wanted = new Set(submitted.map((a) => `${a.sourceUuid} ${a.targetUuid}`));
    for (const a of found) {
      const key = `${a.sourceUuid} ${a.targetUuid}`;
      if (wanted.has(key)) between.set(key, [...(between.get(key) ?? []), a]);
    }
  }
  await learn(statusUpdates(submission).flatMap((a) => {
    const target = byUuid.get(a.targetUuid);
    return target?.type === 'Association' ? [target.sourceUuid, target.targetUuid] : [];
  }));

  return { snapshot: { byUuid, byUniqueId: base.byUniqueId }, state: { versions, linksOfLatest, between } };
}

// ---------------------------------------------------------------- the batch

/**
 * The batch of a request that passed the rules (ids resolved: symbolic ones are new UUIDs).
 * `inheritStatus`: new versions take the status of the versions they supersede (ITI-92).
 */
function planUpdate(sub: Submission, snapshot: RegistrySnapshot, state: UpdateState, now: string, inheritStatus: boolean): CommitBatch {
  const inserts = new Map<string, RegistryObject>();
  const replacements = new Map<string, RegistryObject>();
  const current = (id: string): RegistryObject | undefined => inserts.get(id) ?? replacements.get(id) ?? snapshot.byUuid.get(id);
  const change = (obj: RegistryObject): void => {
    if (inserts.has(obj.entryUuid)) inserts.set(obj.entryUuid, obj);
    else replacements.set(obj.entryUuid, obj);
  };
  // Once per folder: a folder gaining two members in one commit changed once. A new Folder version
  // (an insert) already has its lastUpdateTime.
  const touched = new Set<string>();
  const touchFolder = (id: string): void => {
    const folder = current(id);
    if (folder?.type !== 'Folder' || touched.has(id) || inserts.has(id)) return;
    touched.add(id);
    change({ ...folder, lastUpdateTime: laterThan(folder.lastUpdateTime, now) });
  };

  inserts.set(sub.submissionSet.entryUuid, asRegistered(sub.submissionSet));

  // New versions supersede the latest ones.
  const replacedBy = new Map<string, string>();
  for (const obj of newVersions(sub)) {
    const lid = obj.logicalUuid!;
    const latest = latestVersion(state.versions.get(lid))!;
    const versioned = asVersion(obj, lid, versionOf(latest) + 1);
    const version = inheritStatus ? { ...versioned, availabilityStatus: latest.availabilityStatus } : versioned;
    inserts.set(version.entryUuid, version.type === 'Folder' ? { ...version, lastUpdateTime: laterThan(latest.type === 'Folder' ? latest.lastUpdateTime : undefined, now) } : version);
    change({ ...(current(latest.entryUuid) ?? latest), availabilityStatus: 'Deprecated' });
    replacedBy.set(latest.entryUuid, version.entryUuid);
  }

  for (const a of sub.associations) inserts.set(a.entryUuid, asRegisteredAssociation(a));
  const linked = new Set(sub.associations.map((a) => `${a.associationType} ${a.sourceUuid} ${a.targetUuid}`));

  // Status changes: on the new version when the same request versions the target.
  for (const a of statusUpdates(sub)) {
    const target = current(replacedBy.get(a.targetUuid) ?? a.targetUuid);
    const status = statusValue(a.newStatus);
    if (target !== undefined && status !== undefined) change({ ...target, availabilityStatus: status });
  }

  for (const a of submittedAssociations(sub)) if (a.associationType === ASSOCIATION_TYPE.HasMember) touchFolder(a.sourceUuid);

  // Association propagation.
  const carry = (a: Association): void => {
    const key = `${a.associationType} ${a.sourceUuid} ${a.targetUuid}`;
    if (linked.has(key)) return;
    linked.add(key);
    inserts.set(a.entryUuid, a);
    if (a.associationType === ASSOCIATION_TYPE.HasMember) touchFolder(a.sourceUuid);
  };
  const remapped = (id: string): string => replacedBy.get(id) ?? id;
  for (const obj of newVersions(sub)) {
    const membership = sub.associations.find(
      (a) => a.associationType === ASSOCIATION_TYPE.HasMember && a.sourceUuid === sub.submissionSet.entryUuid && a.targetUuid === obj.entryUuid,
    );
    if (membership?.associationPropagation === 'no') continue;
    const latest = latestVersion(state.versions.get(obj.logicalUuid!))!;
    for (const a of state.linksOfLatest.get(latest.entryUuid) ?? []) {
      if (a.availabilityStatus !== 'Approved') continue;
      if (obj.type === 'DocumentEntry') {
        if (a.associationType === ASSOCIATION_TYPE.HasMember) {
          if (a.targetUuid === latest.entryUuid && snapshot.byUuid.get(a.sourceUuid)?.type === 'Folder') carry(newHasMember(remapped(a.sourceUuid), obj.entryUuid));
        } else if (DOCUMENT_RELATIONSHIPS.includes(a.associationType)) {
          carry({ ...a, entryUuid: newEntryUuid(), sourceUuid: remapped(a.sourceUuid), targetUuid: remapped(a.targetUuid), availabilityStatus: 'Approved' });
        }
      } else if (a.associationType === ASSOCIATION_TYPE.HasMember && a.sourceUuid === latest.entryUuid) {
        const member = snapshot.byUuid.get(a.targetUuid);
        if (member?.type === 'DocumentEntry' && member.availabilityStatus === 'Approved') carry(newHasMember(obj.entryUuid, remapped(member.entryUuid)));
      }
    }
  }

  return { inserts: [...inserts.values()], replacements: [...replacements.values()] };
}
