/**
 * What a stored query implementation works with, and the lookups several of them share.
 *
 * METADATA LEVEL (XDS Metadata Update option, ITI TF-2 3.18.4.1.2.3.5.1). A consumer asks with
 * $MetadataLevel 2 for everything; level 1, the default, is what a consumer without the option
 * understands, and the registry leaves out of the answer: DocumentEntries and Folders that are not
 * the latest version of their logical object, DocumentEntries whose documentAvailability is
 * Offline, Deprecated Folders and Deprecated Associations. They are left out where they are found,
 * in `findLimited` and the association lookups, not from the finished answer: what only a hidden
 * object leads to (the members of a superseded folder version, the documents a deprecated
 * relationship relates) is then not found either (NIST 20000e, 20001). $XDSAssociationStatus
 * (default Approved) chooses the statuses of the associations an answer follows and returns.
 */
import { DOCUMENT_AVAILABILITY } from '../ebxml/constants.js';
import { ASSOCIATION_TYPE, type Association, type AvailabilityStatus, type DocumentEntry, type RegistryObject, type RegistryObjectType } from '../model/metadata.js';
import type { RegistryFilter, RegistryStore } from '../store/store.js';
import { allOf, fieldIn, ofObjectType, statusIn } from './filters.js';
import type { QueryParameters } from './parameters.js';

export interface QueryContext {
  readonly store: RegistryStore;
  readonly params: QueryParameters;
  /**
   * maxResults + 1: finds whose results go straight into the answer ask for this many, which is
   * enough to tell that the answer is too big without reading all of it.
   */
  readonly limit: number;
  /** $MetadataLevel: 1 (default) hides what only a Metadata Update consumer understands. */
  readonly metadataLevel?: 1 | 2;
  /** The statuses of the associations the answer follows ($XDSAssociationStatus; Approved by default). */
  readonly associationStatuses?: readonly AvailabilityStatus[];
}

export type QueryImplementation = (ctx: QueryContext) => Promise<RegistryObject[]>;

/** The association statuses a query follows: those asked for, less Deprecated at level 1. */
export function associationStatuses(ctx: QueryContext): AvailabilityStatus[] {
  const asked = ctx.associationStatuses ?? ['Approved'];
  return (ctx.metadataLevel ?? 1) === 1 ? asked.filter((s) => s !== 'Deprecated') : [...asked];
}

/** Objects of one type matching the filter, at most `ctx.limit` of them, without what the metadata level hides. */
export async function findLimited<T extends RegistryObject>(
  ctx: QueryContext,
  type: T['type'] & RegistryObjectType,
  ...conditions: (RegistryFilter | undefined)[]
): Promise<T[]> {
  const status = type === 'Association' ? statusIn(associationStatuses(ctx)) : undefined;
  const found = (await ctx.store.find(allOf([ofObjectType(type), ...conditions, status]), { limit: ctx.limit })) as T[];
  // A find that reached the limit stays whole: its caller answers XDSTooManyResults, true of what
  // matched, where a shortened list could pass for the complete answer.
  if ((ctx.metadataLevel ?? 1) === 2 || found.length >= ctx.limit || (type !== 'DocumentEntry' && type !== 'Folder')) return found;
  return hiddenAtLevelOne(ctx.store, found);
}

/**
 * `objects` without what $MetadataLevel 1 leaves out. A version that is not the latest was
 * deprecated when the next one was registered, and only the latest version's status can change
 * (MU-status-latest), so only Deprecated DocumentEntries can be superseded: those alone cost a look
 * at their logical object's versions, one indexed read by uniqueId for all of them.
 */
async function hiddenAtLevelOne<T extends RegistryObject>(store: RegistryStore, objects: T[]): Promise<T[]> {
  let deprecated: DocumentEntry[] | undefined;
  let hides = false;
  for (const o of objects) {
    if (o.type === 'Folder' && o.availabilityStatus === 'Deprecated') hides = true;
    else if (o.type === 'DocumentEntry') {
      if (o.documentAvailability === DOCUMENT_AVAILABILITY.Offline) hides = true;
      else if (o.availabilityStatus === 'Deprecated') (deprecated ??= []).push(o);
    }
  }
  if (!hides && deprecated === undefined) return objects;
  const superseded = deprecated === undefined ? new Set<string>() : await supersededVersions(store, deprecated);
  return objects.filter((o) => {
    if (o.type === 'Folder') return o.availabilityStatus !== 'Deprecated';
    if (o.type === 'DocumentEntry') return o.documentAvailability !== DOCUMENT_AVAILABILITY.Offline && !superseded.has(o.entryUuid);
    return true;
  });
}

/** The entryUUIDs of those DocumentEntries that a later version of their logical DocumentEntry supersedes. */
async function supersededVersions(store: RegistryStore, entries: readonly DocumentEntry[]): Promise<Set<string>> {
  const uniqueIds = [...new Set(entries.flatMap((e) => (e.uniqueId === undefined ? [] : [e.uniqueId])))];
  const latest = new Map<string, number>();
  if (uniqueIds.length > 0) {
    for (const v of (await store.find({ type: 'DocumentEntry', uniqueId: { $in: uniqueIds } })) as DocumentEntry[]) {
      const lid = v.logicalUuid ?? v.entryUuid;
      latest.set(lid, Math.max(latest.get(lid) ?? 0, versionNumber(v)));
    }
  }
  return new Set(entries.filter((e) => versionNumber(e) < (latest.get(e.logicalUuid ?? e.entryUuid) ?? 0)).map((e) => e.entryUuid));
}

function versionNumber(o: { readonly version?: string }): number {
  const n = Number(o.version ?? '1');
  return Number.isInteger(n) && n > 0 ? n : 1;
}

/**
 * Objects by entryUUID, by uniqueId or by logicalID, whichever parameter was given (the parameter
 * table guarantees exactly one). A logicalID is the entryUUID of its first version, and every
 * version carries the first one's uniqueId: the versions are found through that uniqueId (indexed)
 * and told by their lid.
 */
export async function findByIdOrUniqueId<T extends RegistryObject>(
  ctx: QueryContext,
  type: T['type'] & RegistryObjectType,
  uuidParam: string,
  uniqueIdParam: string,
  logicalIdParam?: string,
  ...conditions: (RegistryFilter | undefined)[]
): Promise<T[]> {
  const uuids = ctx.params.list(uuidParam);
  if (uuids !== undefined) return findLimited<T>(ctx, type, fieldIn('entryUuid', uuids), ...conditions);
  const lids = logicalIdParam === undefined ? undefined : ctx.params.list(logicalIdParam);
  if (lids === undefined) return findLimited<T>(ctx, type, fieldIn('uniqueId', ctx.params.list(uniqueIdParam) ?? []), ...conditions);
  const first = await ctx.store.getByUuids(lids);
  const uniqueIds = [...new Set(first.flatMap((o) => (o.type === type && o.type !== 'Association' && o.uniqueId !== undefined ? [o.uniqueId] : [])))];
  if (uniqueIds.length === 0) return [];
  const wanted = new Set(lids);
  const versions = await findLimited<T>(ctx, type, fieldIn('uniqueId', uniqueIds), ...conditions);
  return versions.filter((o) => o.type !== 'Association' && wanted.has(o.logicalUuid ?? o.entryUuid));
}

/**
 * Associations whose source or target is one of the ids, in insertion order. Two indexed finds
 * (by source, by target) and one by entryUUID to restore the store's order.
 */
export async function associationsTouching(
  ctx: QueryContext,
  ids: readonly string[],
  ...conditions: (RegistryFilter | undefined)[]
): Promise<Association[]> {
  if (ids.length === 0) return [];
  const [bySource, byTarget] = await Promise.all([
    findLimited<Association>(ctx, 'Association', fieldIn('sourceUuid', ids), ...conditions),
    findLimited<Association>(ctx, 'Association', fieldIn('targetUuid', ids), ...conditions),
  ]);
  const found = new Set([...bySource, ...byTarget].map((a) => a.entryUuid));
  if (found.size === 0) return [];
  return findLimited<Association>(ctx, 'Association', fieldIn('entryUuid', [...found]));
}

/** HasMember associations from any of the sources, of the statuses the query follows (all of them: callers filter further). */
export function hasMemberFrom(ctx: QueryContext, sourceIds: readonly string[]): Promise<Association[]> {
  if (sourceIds.length === 0) return Promise.resolve([]);
  return ctx.store.find(
    allOf([ofObjectType('Association'), fieldIn('sourceUuid', sourceIds), { associationType: ASSOCIATION_TYPE.HasMember }, statusIn(associationStatuses(ctx))]),
  ) as Promise<Association[]>;
}

/** HasMember associations to any of the targets, of the statuses the query follows (all of them: callers filter further). */
export function hasMemberTo(ctx: QueryContext, targetIds: readonly string[]): Promise<Association[]> {
  if (targetIds.length === 0) return Promise.resolve([]);
  return ctx.store.find(
    allOf([ofObjectType('Association'), fieldIn('targetUuid', targetIds), { associationType: ASSOCIATION_TYPE.HasMember }, statusIn(associationStatuses(ctx))]),
  ) as Promise<Association[]>;
}

/**
 * The associations whose both ends are in the result (objects, or associations kept themselves),
 * so that an answer never points at something it does not contain. Repeated until nothing
 * changes because a SubmissionSet→Association HasMember depends on its target being kept.
 */
export function closedAssociations(objectIds: ReadonlySet<string>, candidates: readonly Association[]): Association[] {
  let kept = candidates;
  for (;;) {
    const present = new Set([...objectIds, ...kept.map((a) => a.entryUuid)]);
    const next = kept.filter((a) => present.has(a.sourceUuid) && present.has(a.targetUuid));
    if (next.length === kept.length) return next;
    kept = next;
  }
}

/** Drops repeated objects (same entryUUID), keeping the first. */
export function distinct<T extends RegistryObject>(objects: readonly T[]): T[] {
  const seen = new Set<string>();
  return objects.filter((o) => (seen.has(o.entryUuid) ? false : (seen.add(o.entryUuid), true)));
}
