/**
 * The test of a stored record against a Mongo filter, without mingo for the filters most queries
 * are made of: a conjunction of top-level fields, each compared with a string (`field: 's'`,
 * `{ $eq: 's' }`, `{ $in: ['s', …] }`, also inside a top-level `$and`). FindDocuments and its
 * kind (`{ type, patientId, availabilityStatus, objectType }`) are such filters, and for them
 * `new Query(filter)` cost more than the test itself (mingo clones the filter and initialises its
 * options per query: ~4.6 % of the warm FindDocuments line, `query.test` another ~3.7 %).
 *
 * The result is exactly mingo's: when the record's value of a field is a string, such a condition
 * holds iff the string equals the operand or is one of the `$in` strings, in mingo as in MongoDB.
 * Any other value (missing, null, a number, an array, which equality searches element by element,
 * an object) is mingo's to judge: the record is tested with a mingo Query, built once per filter
 * and only when a record needs it. A condition that fails on a string value fails the whole
 * conjunction, whatever the other fields hold. Every other filter (dotted paths, other operators,
 * regexes, non-string operands) is mingo's alone, built up front as before, so a filter mingo
 * rejects still fails the same way.
 */
import { Query } from 'mingo';
import type { RegistryFilter } from '../store.js';

/** Whether a stored record matches: exactly `new Query(filter).test(record)`. */
export type RecordTest = (record: Readonly<Record<string, unknown>>) => boolean;

/** The strings of an `$in`: a Set when long (an `$in` of many entryUUIDs), where a scan would cost more. */
type OneOf = readonly string[] | ReadonlySet<string>;

/** One top-level field compared with strings: the value must be each of `equals` and one of each `oneOf`. */
interface StringCondition {
  readonly field: string;
  readonly equals: readonly string[];
  readonly oneOf: readonly OneOf[];
  /** The one string of a plain equality (one `equals`, no `oneOf`), the common case, tested without `holds`. */
  readonly only: string | undefined;
}

/** Longer `$in` lists are looked up in a Set. */
const SET_FROM = 8;

/** The test for a filter: the compiled string conditions where the filter is made of them, else mingo's. */
export function compileFilter(filter: RegistryFilter): RecordTest {
  const conditions = stringConditions(filter);
  if (conditions === undefined) {
    const query = new Query(filter);
    return (record) => query.test(record);
  }
  let query: Query | undefined;
  return (record) => {
    for (let k = 0; k < conditions.length; k++) {
      const c = conditions[k]!;
      const value = fieldValue(record, c.field);
      if (typeof value !== 'string') return (query ??= new Query(filter)).test(record);
      if (c.only !== undefined ? value !== c.only : !holds(c, value)) return false;
    }
    return true;
  };
}

function holds(c: StringCondition, value: string): boolean {
  const { equals, oneOf } = c;
  for (let i = 0; i < equals.length; i++) if (value !== equals[i]) return false;
  for (let i = 0; i < oneOf.length; i++) if (!isIn(oneOf[i]!, value)) return false;
  return true;
}

function isIn(list: OneOf, value: string): boolean {
  return Array.isArray(list) ? (list as readonly string[]).includes(value) : (list as ReadonlySet<string>).has(value);
}

/**
 * `record[field]`, read by name for the fields registry filters compare with strings. A load by
 * a computed key, fed different names, is megamorphic in V8: for the FindDocuments filter's four
 * fields on ~75 records it cost 9.7 µs, against 4.3 µs through the named loads below (measured
 * on the 1M bench store's records).
 */
function fieldValue(record: Readonly<Record<string, unknown>>, field: string): unknown {
  switch (field) {
    case 'type':
      return record.type;
    case 'patientId':
      return record.patientId;
    case 'availabilityStatus':
      return record.availabilityStatus;
    case 'objectType':
      return record.objectType;
    case 'entryUuid':
      return record.entryUuid;
    case 'uniqueId':
      return record.uniqueId;
    case 'sourceUuid':
      return record.sourceUuid;
    case 'targetUuid':
      return record.targetUuid;
    case 'associationType':
      return record.associationType;
    default:
      return record[field];
  }
}

/** The filter as string conditions, or undefined if any part of it is not one. */
export function stringConditions(filter: RegistryFilter): StringCondition[] | undefined {
  const out: StringCondition[] = [];
  return collect(filter, out) ? out : undefined;
}

function collect(filter: unknown, out: StringCondition[]): boolean {
  if (!isPlainObject(filter)) return false;
  for (const key of Object.keys(filter)) {
    const condition = filter[key];
    if (key === '$and') {
      if (!Array.isArray(condition)) return false;
      for (let i = 0; i < condition.length; i++) if (!collect(condition[i], out)) return false;
      continue;
    }
    const c = fieldCondition(key, condition);
    if (c === undefined) return false;
    out.push(c);
  }
  return true;
}

/**
 * `field: 's'`, or `field: { $eq: 's', $in: [...] }` with only those operators. Fields that
 * mingo resolves as paths (a dot), operators and `__proto__` (which mingo refuses) are not.
 */
function fieldCondition(field: string, condition: unknown): StringCondition | undefined {
  if (field === '' || field.startsWith('$') || field.includes('.') || field === '__proto__') return undefined;
  if (typeof condition === 'string') return { field, equals: [condition], oneOf: [], only: condition };
  if (!isPlainObject(condition)) return undefined;
  const equals: string[] = [];
  const oneOf: OneOf[] = [];
  for (const op of Object.keys(condition)) {
    const operand = condition[op];
    if (op === '$eq' && typeof operand === 'string') equals.push(operand);
    else if (op === '$in' && isStringArray(operand)) oneOf.push(operand.length < SET_FROM ? operand : new Set(operand));
    else return undefined;
  }
  // `{}` is equality with an empty document, not "no condition".
  if (equals.length + oneOf.length === 0) return undefined;
  return { field, equals, oneOf, only: equals.length === 1 && oneOf.length === 0 ? equals[0] : undefined };
}

/** Every element a string (a hole is not: mingo sees undefined there). */
function isStringArray(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return false;
  return true;
}

/** An object mingo treats as a query object (not an array, Date, RegExp or class instance). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
