/**
 * What a stored query implementation works with, and the lookups several of them share.
 */
import { ASSOCIATION_TYPE, type Association, type RegistryObject, type RegistryObjectType } from '../model/metadata.js';
import type { RegistryFilter, RegistryStore } from '../store/store.js';
import { allOf, fieldIn, ofObjectType } from './filters.js';
import type { QueryParameters } from './parameters.js';

export interface QueryContext {
  readonly store: RegistryStore;
  readonly params: QueryParameters;
  /**
   * maxResults + 1: finds whose results go straight into the answer ask for this many, which is
   * enough to tell that the answer is too big without reading all of it.
   */
  readonly limit: number;
}

export type QueryImplementation = (ctx: QueryContext) => Promise<RegistryObject[]>;

/** Objects of one type matching the filter, at most `ctx.limit` of them. */
export function findLimited<T extends RegistryObject>(
  ctx: QueryContext,
  type: T['type'] & RegistryObjectType,
  ...conditions: (RegistryFilter | undefined)[]
): Promise<T[]> {
  return ctx.store.find(allOf([ofObjectType(type), ...conditions]), { limit: ctx.limit }) as Promise<T[]>;
}

/**
 * Objects by entryUUID or by uniqueId, whichever of the two parameters was given (the parameter
 * table guarantees exactly one).
 */
export function findByIdOrUniqueId<T extends RegistryObject>(
  ctx: QueryContext,
  type: T['type'] & RegistryObjectType,
  uuidParam: string,
  uniqueIdParam: string,
  ...conditions: (RegistryFilter | undefined)[]
): Promise<T[]> {
  const uuids = ctx.params.list(uuidParam);
  const id = uuids !== undefined ? fieldIn('entryUuid', uuids) : fieldIn('uniqueId', ctx.params.list(uniqueIdParam) ?? []);
  return findLimited<T>(ctx, type, id, ...conditions);
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

/** HasMember associations from any of the sources (all of them: callers filter further). */
export function hasMemberFrom(ctx: QueryContext, sourceIds: readonly string[]): Promise<Association[]> {
  if (sourceIds.length === 0) return Promise.resolve([]);
  return ctx.store.find(
    allOf([ofObjectType('Association'), fieldIn('sourceUuid', sourceIds), { associationType: ASSOCIATION_TYPE.HasMember }]),
  ) as Promise<Association[]>;
}

/** HasMember associations to any of the targets (all of them: callers filter further). */
export function hasMemberTo(ctx: QueryContext, targetIds: readonly string[]): Promise<Association[]> {
  if (targetIds.length === 0) return Promise.resolve([]);
  return ctx.store.find(
    allOf([ofObjectType('Association'), fieldIn('targetUuid', targetIds), { associationType: ASSOCIATION_TYPE.HasMember }]),
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
