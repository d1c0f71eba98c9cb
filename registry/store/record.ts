/**
 * The stored form of a registry object, shared by both stores: the model object as plain JSON
 * plus the derived search fields under `_s` (see `SearchFields` in store.ts).
 *
 * Both stores must hold byte-for-byte the same record so that the same Mongo filter means the
 * same thing in MongoDB and in mingo. That is why undefined properties are dropped here (MongoDB
 * would store them as null, JSON drops them) and why the search fields are computed in one place.
 */
import type { Author, Code, RegistryObject } from '../model/metadata';
import { padDtm } from '../model/hl7';
import type { SearchFields } from './store';

export type StoredRecord = RegistryObject & { readonly _s: SearchFields };

/** Fields a store may add to a record for its own bookkeeping; `fromRecord` removes them. */
const STORE_INTERNAL_FIELDS = ['_s', '_id', 'seq'] as const;

/** `code^^scheme`, the single string that code filters compare against. */
export function codeKey(code: Code): string {
  return `${code.code}^^${code.scheme ?? ''}`;
}

export function searchFields(obj: RegistryObject): SearchFields {
  const s: Record<string, string | string[]> = {};
  const setDtm = (name: string, value: string | undefined): void => {
    if (value !== undefined && value.trim() !== '') s[name] = padDtm(value);
  };
  const setCode = (name: string, code: Code | undefined): void => {
    if (code !== undefined) s[name] = codeKey(code);
  };
  const setCodes = (name: string, codes: readonly Code[] | undefined): void => {
    if (codes !== undefined && codes.length > 0) s[name] = codes.map(codeKey);
  };

  switch (obj.type) {
    case 'DocumentEntry':
      setDtm('creationTime', obj.creationTime);
      setDtm('serviceStartTime', obj.serviceStartTime);
      setDtm('serviceStopTime', obj.serviceStopTime);
      setCode('classCode', obj.classCode);
      setCode('typeCode', obj.typeCode);
      setCode('formatCode', obj.formatCode);
      setCode('healthcareFacilityTypeCode', obj.healthcareFacilityTypeCode);
      setCode('practiceSettingCode', obj.practiceSettingCode);
      setCodes('confidentialityCodes', obj.confidentialityCodes);
      setCodes('eventCodes', obj.eventCodes);
      Object.assign(s, authorFields(obj.authors));
      break;
    case 'SubmissionSet':
      setDtm('submissionTime', obj.submissionTime);
      setCode('contentTypeCode', obj.contentTypeCode);
      Object.assign(s, authorFields(obj.authors));
      break;
    case 'Folder':
      setDtm('lastUpdateTime', obj.lastUpdateTime);
      setCodes('codeList', obj.codeList);
      break;
    case 'Association':
      break;
  }
  return s as SearchFields;
}

/** Author values flattened across all authors, so one $in or $regex reaches any author. */
function authorFields(authors: readonly Author[] | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (authors === undefined) return out;
  const add = (name: string, values: readonly string[]): void => {
    if (values.length > 0) (out[name] ??= []).push(...values);
  };
  for (const author of authors) {
    if (author.person !== undefined) add('authorPersons', [author.person]);
    add('authorInstitutions', author.institutions ?? []);
    add('authorRoles', author.roles ?? []);
    add('authorSpecialties', author.specialties ?? []);
  }
  return out;
}

/** The record a store persists: plain JSON (no undefined, no prototypes) with `_s`. */
export function toRecord(obj: RegistryObject): StoredRecord {
  // A caller may hand back an object read from a store; its old `_s` must not survive.
  const plain = jsonCopy(obj, '_s') as Record<string, unknown> | undefined;
  if (plain === undefined) {
    const parsed = JSON.parse(JSON.stringify(obj)) as RegistryObject & { _s?: unknown };
    delete parsed._s;
    return { ...parsed, _s: searchFields(parsed) } as StoredRecord;
  }
  plain['_s'] = searchFields(plain as unknown as RegistryObject);
  return plain as unknown as StoredRecord;
}

/** Deeper than any registry object: a structure this deep (or a cycle) is left to JSON itself. */
const MAX_COPY_DEPTH = 32;

/**
 * `JSON.parse(JSON.stringify(value))` without the text in between, leaving out the top-level key
 * `omit`, for what registry objects are made of: plain objects and arrays of strings, finite
 * numbers, booleans and null. The round trip was most of what building a record cost. Undefined
 * (and function) members are left out of objects and become null in arrays, -0 becomes 0, keys keep
 * their order; anything JSON treats in some other way (toJSON, a class instance, a boxed or
 * non-finite number, a bigint, a cycle) gives undefined, and the caller takes the JSON way.
 */
function jsonCopy(value: object, omit: string): unknown {
  try {
    return copyValue(value, 0, omit);
  } catch (e) {
    if (e === NOT_PLAIN) return undefined;
    throw e;
  }
}

const NOT_PLAIN = Symbol('not plain JSON');

function copyValue(value: unknown, depth: number, omit?: string): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw NOT_PLAIN;
      return value === 0 ? 0 : value;
    case 'object':
      break;
    default:
      throw NOT_PLAIN;
  }
  if (value === null) return null;
  if (depth >= MAX_COPY_DEPTH) throw NOT_PLAIN;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) throw NOT_PLAIN;
    const out: unknown[] = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      out[i] = v === undefined || typeof v === 'function' || typeof v === 'symbol' ? null : copyValue(v, depth + 1);
    }
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if ((proto !== Object.prototype && proto !== null) || typeof (value as { toJSON?: unknown }).toJSON === 'function') throw NOT_PLAIN;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (key === omit) continue;
    const v: unknown = (value as Record<string, unknown>)[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    const copy = copyValue(v, depth + 1);
    // JSON.parse defines `__proto__` as an own key like any other.
    if (key === '__proto__') Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true });
    else out[key] = copy;
  }
  return out;
}

/** The model object of a stored record: the record without `_s` and store-internal fields. */
export function fromRecord(rec: object): RegistryObject {
  const obj: Record<string, unknown> = { ...rec };
  for (const field of STORE_INTERNAL_FIELDS) delete obj[field];
  return obj as unknown as RegistryObject;
}
