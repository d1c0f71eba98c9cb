/**
 * Builders of the Mongo filters stored queries run (see RegistryFilter in store.ts). They address
 * the model fields and the derived `_s` search fields, and use only operators that MongoDB and
 * mingo evaluate alike.
 */
import { DOCUMENT_ENTRY_TYPE, type AvailabilityStatus, type RegistryObjectType } from '../model/metadata.js';
import type { RegistryFilter, SearchFields } from '../store/store.js';

type SearchField = keyof SearchFields & string;

/** Conditions that must all hold, merged into one filter; conditions on the same key go to `$and`. */
export function allOf(conditions: readonly (RegistryFilter | undefined)[]): RegistryFilter {
  const merged: Record<string, unknown> = {};
  const and: RegistryFilter[] = [];
  for (const condition of conditions) {
    if (condition === undefined) continue;
    for (const [key, value] of Object.entries(condition)) {
      if (key === '$and' && Array.isArray(value)) and.push(...(value as RegistryFilter[]));
      else if (key in merged) and.push({ [key]: value });
      else merged[key] = value;
    }
  }
  if (and.length > 0) merged.$and = and;
  return merged;
}

export function ofObjectType(type: RegistryObjectType): RegistryFilter {
  return { type };
}

/** Equality with any of the values (one value compares with plain equality, which both engines index). */
export function fieldIn(field: string, values: readonly string[]): RegistryFilter {
  return values.length === 1 ? { [field]: values[0] } : { [field]: { $in: [...values] } };
}

export function statusIn(statuses: readonly AvailabilityStatus[]): RegistryFilter {
  return fieldIn('availabilityStatus', statuses);
}

/** A `code^^scheme` attribute (single or list) matching any of the codes. */
export function codeIn(field: SearchField, codes: readonly string[] | undefined): RegistryFilter | undefined {
  return codes === undefined ? undefined : { [`_s.${field}`]: { $in: [...codes] } };
}

/** AND/OR code semantics: every group must match, each by any of its codes. */
export function codeGroups(field: SearchField, groups: readonly (readonly string[])[] | undefined): RegistryFilter | undefined {
  if (groups === undefined) return undefined;
  return allOf(groups.map((g) => ({ $and: [codeIn(field, g)!] })));
}

/**
 * A time range on a padded DTM search field: From inclusive, To exclusive (ITI TF-2a
 * 3.18.4.1.2.3.6). An object without the attribute does not match a range on it.
 */
export function timeRange(field: SearchField, from: string | undefined, to: string | undefined): RegistryFilter | undefined {
  if (from === undefined && to === undefined) return undefined;
  const range: Record<string, string> = {};
  if (from !== undefined) range.$gte = from;
  if (to !== undefined) range.$lt = to;
  return { [`_s.${field}`]: range };
}

/** The regular expression for a SQL LIKE pattern: `%` any run, `_` one character, the rest literal. */
export function likeToRegex(pattern: string): string {
  let out = '^';
  for (const c of pattern) {
    if (c === '%') out += '.*';
    else if (c === '_') out += '.';
    else out += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return `${out}$`;
}

/**
 * Author person LIKE any of the patterns, on any author of the object. Case-insensitive, as LIKE
 * is in most SQL registries, so `%hansen%` finds `^HANSEN^KARI`.
 */
export function authorPersonLike(patterns: readonly string[] | undefined): RegistryFilter | undefined {
  if (patterns === undefined) return undefined;
  const alternatives = patterns.map((p) => ({ '_s.authorPersons': { $regex: likeToRegex(p), $options: 'is' } }));
  return alternatives.length === 1 ? alternatives[0] : { $or: alternatives };
}

/** DocumentEntry objectType: the requested types, or stable entries only when none are requested. */
export function documentTypeIn(types: readonly string[] | undefined): RegistryFilter {
  return fieldIn('objectType', types ?? [DOCUMENT_ENTRY_TYPE.stable]);
}
