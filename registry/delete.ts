/**
 * ITI-62 Delete Document Set (Remove Metadata and Documents, RMD): removes registry objects named
 * by entryUUID, all of them or none. A deletion is one kind of registry write (`write-queue.ts`):
 * it is decided against the registry plus the group's earlier writes and committed atomically.
 *
 * What a deletion may not leave behind (ITI TF-2 3.62.4.1.3, as the NIST plans 30000–30008 check
 * it), each with its own error code, every problem reported:
 * - UnresolvedReferenceException: an ObjectRef names nothing in the registry.
 * - XDSMetadataModelException: a document relationship (RPLC, APND, XFRM, XFRM_RPLC, signs) is
 *   removed while both DocumentEntries it relates stay: the source would lose what it is (an
 *   addendum of nothing, a replacement of nothing) while what it relates to is still there.
 *   Removed with either end it may go (NIST 30005, 30006 remove an original with its RPLC).
 * - ReferencesExistException: an Association that stays names a removed object.
 * - XDSUnreferencedObjectException: an object that stays is left unreferenced: a SubmissionSet
 *   whose every member is removed, or a DocumentEntry, Folder or Association whose SubmissionSet
 *   membership is removed while it stays.
 *
 * Nothing else changes: a deprecated original stays Deprecated when its replacement is removed
 * (the profile does not undo lifecycle changes), and the documents' bytes stay in the repository
 * until ITI-86 removes them.
 */
import type { DeleteRequest } from './model/delete.js';
import { error, type RegistryErrorInfo } from './model/errors.js';
import { ASSOCIATION_TYPE, DOCUMENT_RELATIONSHIPS, isUuid, type Association, type RegistryObject } from './model/metadata.js';
import { absenceWitness, type RegistryStore } from './store/store.js';
import { write, type CommitRecord, type WriteOutcome, type WritePlan } from './write-queue.js';

/** Removes the objects whole or not at all; `records` are written with the deletion if it is stored. */
export function deleteObjects(store: RegistryStore, request: DeleteRequest, records: readonly CommitRecord[] = []): Promise<WriteOutcome> {
  return write(store, { records, decide: (registry) => decideDeletion(registry, request) });
}

async function decideDeletion(registry: RegistryStore, request: DeleteRequest): Promise<WritePlan> {
  const ids = [...new Set(request.objectRefs)];
  if (ids.length === 0) {
    return rejected([error('XDSRegistryError', 'the request names no object to remove (rim:ObjectRefList is empty)')]);
  }
  const removing = new Set(ids);
  const found = new Map((await registry.getByUuids(ids.filter(isUuid))).map((o) => [o.entryUuid, o]));
  const unresolved = ids.filter((id) => !found.has(id));
  if (unresolved.length > 0) {
    return rejected(unresolved.map((id) => error('UnresolvedReferenceException', `no registry object has the id ${id}`, id)));
  }

  const errors: RegistryErrorInfo[] = [];
  const removedAssociations = [...found.values()].filter((o): o is Association => o.type === 'Association');

  // A document relationship goes only with one of the documents it relates.
  for (const a of removedAssociations) {
    if (!DOCUMENT_RELATIONSHIPS.includes(a.associationType) || removing.has(a.sourceUuid) || removing.has(a.targetUuid)) continue;
    const [source] = await registry.getByUuids([a.sourceUuid]);
    if (source?.type === 'DocumentEntry') {
      errors.push(
        error(
          'XDSMetadataModelException',
          `association ${a.entryUuid} relates DocumentEntries ${a.sourceUuid} and ${a.targetUuid}, neither of which is removed with it`,
          a.entryUuid,
        ),
      );
    }
  }

  // No association that stays may name a removed object.
  const touching = await associationsNaming(registry, ids);
  for (const a of touching) {
    if (removing.has(a.entryUuid)) continue;
    const named = removing.has(a.sourceUuid) ? a.sourceUuid : a.targetUuid;
    errors.push(error('ReferencesExistException', `association ${a.entryUuid}, which is not removed, references ${named}`, named));
  }

  // No object that stays may be left unreferenced.
  for (const membership of removedAssociations.filter((a) => a.associationType === ASSOCIATION_TYPE.HasMember)) {
    const [set] = await registry.getByUuids([membership.sourceUuid]);
    if (set?.type !== 'SubmissionSet') continue;
    if (!removing.has(set.entryUuid) && !(await hasMemberLeft(registry, set.entryUuid, removing))) {
      errors.push(error('XDSUnreferencedObjectException', `SubmissionSet ${set.entryUuid} would be left without members`, set.entryUuid));
    }
    const member = membership.targetUuid;
    if (!removing.has(member) && !(await memberOfASubmissionSet(registry, member, removing))) {
      errors.push(error('XDSUnreferencedObjectException', `${member} would be left in no SubmissionSet`, member));
    }
  }

  if (errors.length > 0) return rejected(dedupe(errors));
  return {
    kind: 'accepted',
    batch: { inserts: [], replacements: [], deletions: ids },
    outcome: { status: 'Success', errors: [] },
    witness: absenceWitness(ids[0]!),
    insertsChecked: true,
  };
}

function rejected(errors: RegistryErrorInfo[]): WritePlan {
  return { kind: 'rejected', outcome: { status: 'Failure', errors } };
}

/** Associations whose source or target is one of `ids` (two indexed lookups, no scan). */
async function associationsNaming(registry: RegistryStore, ids: readonly string[]): Promise<Association[]> {
  const [bySource, byTarget] = await Promise.all([
    registry.find({ type: 'Association', sourceUuid: { $in: ids } }),
    registry.find({ type: 'Association', targetUuid: { $in: ids } }),
  ]);
  const out = new Map<string, Association>();
  for (const a of [...bySource, ...byTarget] as Association[]) out.set(a.entryUuid, a);
  return [...out.values()];
}

/** Whether SubmissionSet `setId` keeps a HasMember association that is not removed. */
async function hasMemberLeft(registry: RegistryStore, setId: string, removing: ReadonlySet<string>): Promise<boolean> {
  const members = await registry.find({ type: 'Association', associationType: ASSOCIATION_TYPE.HasMember, sourceUuid: setId });
  return members.some((m) => !removing.has(m.entryUuid));
}

/** Whether `id` stays a member of some SubmissionSet that stays, through a HasMember that stays. */
async function memberOfASubmissionSet(registry: RegistryStore, id: string, removing: ReadonlySet<string>): Promise<boolean> {
  const memberships = (await registry.find({ type: 'Association', associationType: ASSOCIATION_TYPE.HasMember, targetUuid: id })) as Association[];
  const staying = memberships.filter((m) => !removing.has(m.entryUuid) && !removing.has(m.sourceUuid));
  if (staying.length === 0) return false;
  const sources: RegistryObject[] = await registry.getByUuids(staying.map((m) => m.sourceUuid));
  return sources.some((s) => s.type === 'SubmissionSet');
}

/** One error per (code, location): two removed memberships of one set say the same thing once. */
function dedupe(errors: readonly RegistryErrorInfo[]): RegistryErrorInfo[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.code} ${e.location ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
