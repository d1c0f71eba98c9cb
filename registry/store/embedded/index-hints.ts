/**
 * Index hints: the values a Mongo filter pins an indexed field to, read from the filter so that
 * the embedded store can preselect candidate rows with SQL before mingo evaluates the whole filter.
 *
 * A hint must never exclude a row the filter would match, so only conditions that every matching
 * object must satisfy are read: top-level fields (and those inside a top-level `$and`) compared
 * with a string by equality, `$eq` or `$in` of strings. Anything else (`$nin`, regexes,
 * non-string values such as `null`, which also matches a missing field) gives no hint for that
 * field, and mingo alone decides.
 *
 * A top-level `$or` gives no hint to `deriveIndexHints`; `deriveAlternativeHints` reads it as
 * alternatives (a matching object satisfies the hints of at least one), so that the store can
 * preselect by the union of each branch's index lookups rather than scan every row: the registry's
 * write overlay asks `{ $or: [filter, { entryUuid: { $in: … } }] }` (registry/store-overlay.ts).
 */
import type { RegistryFilter } from '../store.js';

export const HINT_FIELDS = [
  'entryUuid',
  'uniqueId',
  'patientId',
  'sourceUuid',
  'targetUuid',
  'type',
  'availabilityStatus',
  'referenceIdList',
] as const;

export type HintField = (typeof HINT_FIELDS)[number];

/** Per field, the values one of which every matching object has. An empty list matches nothing. */
export type IndexHints = Partial<Record<HintField, readonly string[]>>;

const HINTED = new Set<string>(HINT_FIELDS);

export function deriveIndexHints(filter: RegistryFilter): IndexHints {
  const hints: Record<string, string[]> = {};
  collect(filter, hints);
  return hints as IndexHints;
}

function collect(filter: RegistryFilter, hints: Record<string, string[]>): void {
  for (const [key, condition] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(condition)) {
      for (const part of condition) {
        if (isPlainObject(part)) collect(part, hints);
      }
      continue;
    }
    if (!HINTED.has(key)) continue;
    const values = requiredValues(condition);
    if (values === undefined) continue;
    // Both conditions must hold, so the candidates are the values allowed by both.
    const previous = hints[key];
    hints[key] = previous === undefined ? values : previous.filter((v) => values.includes(v));
  }
}

/**
 * At most this many alternatives are planned (the product of the `$or`s' branch counts); a filter
 * with more is preselected by its other conditions only.
 */
export const MAX_ALTERNATIVES = 16;

/**
 * The filter as alternatives: every object the filter matches satisfies the hints of at least one
 * of them (each is the top-level conditions with one branch of every top-level `$or`, also those
 * inside a top-level `$and`). Undefined when the filter has no such `$or`, or too many
 * alternatives. A `$or` with a branch that is not a plain filter is left out (it only narrows).
 */
export function deriveAlternativeHints(filter: RegistryFilter): IndexHints[] | undefined {
  const ors: RegistryFilter[][] = [];
  collectOrs(filter, ors);
  if (ors.length === 0) return undefined;
  let alternatives: Record<string, string[]>[] = [{}];
  collect(filter, alternatives[0]!);
  for (const branches of ors) {
    if (alternatives.length * branches.length > MAX_ALTERNATIVES) return undefined;
    const next: Record<string, string[]>[] = [];
    for (const alternative of alternatives) {
      for (const branch of branches) {
        const merged: Record<string, string[]> = { ...alternative };
        collect(branch, merged);
        next.push(merged);
      }
    }
    alternatives = next;
  }
  return alternatives as IndexHints[];
}

/** The branch lists of the top-level `$or`s (also inside top-level `$and`s) whose branches are all plain filters. */
function collectOrs(filter: RegistryFilter, ors: RegistryFilter[][]): void {
  for (const [key, condition] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(condition)) {
      for (const part of condition) if (isPlainObject(part)) collectOrs(part, ors);
    } else if (key === '$or' && Array.isArray(condition) && condition.length > 0 && condition.every(isPlainObject)) {
      ors.push(condition as RegistryFilter[]);
    }
  }
}

/** The string values a field condition requires one of, or undefined if it requires none. */
function requiredValues(condition: unknown): string[] | undefined {
  if (typeof condition === 'string') return [condition];
  if (!isPlainObject(condition)) return undefined;
  let values: string[] | undefined;
  for (const [op, operand] of Object.entries(condition)) {
    // A key without `$` makes the condition an embedded-document match: not a string value.
    if (!op.startsWith('$')) return undefined;
    if (op === '$eq' && typeof operand === 'string') values = narrowed(values, [operand]);
    else if (op === '$in' && Array.isArray(operand) && operand.every((v) => typeof v === 'string')) {
      values = narrowed(values, [...new Set(operand as string[])]);
    }
  }
  return values;
}

/**
 * The values allowed so far that `allowed` allows too. A function of its own rather than a closure
 * over `values`: the node runs under tsx, whose keepNames gives every named closure a
 * `defineProperty` call each time it is made, on a path every query takes.
 */
function narrowed(values: string[] | undefined, allowed: string[]): string[] {
  return values === undefined ? allowed : values.filter((v) => allowed.includes(v));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof RegExp);
}
