/**
 * The stored form of a registry object, shared by both stores: the model object as plain JSON
 * plus the derived search fields under `_s` (see `SearchFields` in store.ts).
 *
 * Both stores must hold byte-for-byte the same record so that the same Mongo filter means the
 * same thing in MongoDB and in mingo. That is why undefined properties are dropped here (MongoDB
 * would store them as null, JSON drops them) and why the search fields are computed in one place.
 */
import type { Author, Code, RegistryObject } from '../model/metadata.js';
import { padDtm } from '../model/hl7.js';
import type { SearchFields } from './store.js';

export type StoredRecord = RegistryObject & { readonly _s: SearchFields };

/** Fields a store may add to a record for its own bookkeeping; `fromRecord` removes them. */
const STORE_INTERNAL_FIELDS = ['_s', '_id', 'seq'] as const;

/** `code^^scheme`, the single string that code filters compare against. */
export function codeKey(code: Code): string {
  return `${code.code}^^${code.scheme ?? ''}`;
}

/**
 * The search fields of an object, in a fixed key order. The setters are functions of their own, not
 * closures over `s`: the node runs under tsx, whose keepNames gives every named closure a
 * `defineProperty` call each time it is made, and this runs for every object stored.
 */
export function searchFields(obj: RegistryObject): SearchFields {
  const s: Fields = {};
  switch (obj.type) {
    case 'DocumentEntry':
      setDtm(s, 'creationTime', obj.creationTime);
      setDtm(s, 'serviceStartTime', obj.serviceStartTime);
      setDtm(s, 'serviceStopTime', obj.serviceStopTime);
      setCode(s, 'classCode', obj.classCode);
      setCode(s, 'typeCode', obj.typeCode);
      setCode(s, 'formatCode', obj.formatCode);
      setCode(s, 'healthcareFacilityTypeCode', obj.healthcareFacilityTypeCode);
      setCode(s, 'practiceSettingCode', obj.practiceSettingCode);
      setCodes(s, 'confidentialityCodes', obj.confidentialityCodes);
      setCodes(s, 'eventCodes', obj.eventCodes);
      addAuthorFields(s, obj.authors);
      break;
    case 'SubmissionSet':
      setDtm(s, 'submissionTime', obj.submissionTime);
      setCode(s, 'contentTypeCode', obj.contentTypeCode);
      addAuthorFields(s, obj.authors);
      break;
    case 'Folder':
      setDtm(s, 'lastUpdateTime', obj.lastUpdateTime);
      setCodes(s, 'codeList', obj.codeList);
      break;
    case 'Association':
      break;
  }
  return s as SearchFields;
}

type Fields = Record<string, string | string[]>;

function setDtm(s: Fields, name: string, value: string | undefined): void {
  if (value !== undefined && value.trim() !== '') s[name] = padDtm(value);
}

function setCode(s: Fields, name: string, code: Code | undefined): void {
  if (code !== undefined) s[name] = codeKey(code);
}

function setCodes(s: Fields, name: string, codes: readonly Code[] | undefined): void {
  if (codes !== undefined && codes.length > 0) s[name] = codes.map(codeKey);
}

/**
 * Author values flattened across all authors, so one $in or $regex reaches any author; each key is
 * added when its first value is, after the fields already in `s`.
 */
function addAuthorFields(s: Fields, authors: readonly Author[] | undefined): void {
  if (authors === undefined) return;
  for (const author of authors) {
    if (author.person !== undefined) addValues(s, 'authorPersons', [author.person]);
    addValues(s, 'authorInstitutions', author.institutions ?? []);
    addValues(s, 'authorRoles', author.roles ?? []);
    addValues(s, 'authorSpecialties', author.specialties ?? []);
  }
}

function addValues(s: Fields, name: string, values: readonly string[]): void {
  if (values.length > 0) ((s[name] as string[] | undefined) ??= []).push(...values);
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

/**
 * `JSON.stringify(toRecord(obj))`, the text the embedded store keeps, without the copy in between:
 * the object's own JSON text with `_s` appended. The copy cost more than the text (16 against 13 µs
 * for a registration's three objects, measured) and was garbage at once. The text is the same:
 * JSON.stringify writes an object's own keys in the order the copy has them and leaves out what the
 * copy leaves out (and toRecord's fallback is this very JSON), and the search fields read only
 * strings, codes and authors, which are plain data in every registry object (model/metadata.ts), so
 * they are those of the copy. An object with an `_s` of its own (a record handed back), or one that
 * is not a plain object at its top, is left to `toRecord`.
 */
export function recordText(obj: RegistryObject): string {
  const proto: unknown = Object.getPrototypeOf(obj);
  if (Object.hasOwn(obj, '_s') || (proto !== Object.prototype && proto !== null) || typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
    return JSON.stringify(toRecord(obj));
  }
  const body = JSON.stringify(obj);
  const s = JSON.stringify(searchFields(obj));
  return body === '{}' ? `{"_s":${s}}` : `${body.slice(0, -1)},"_s":${s}}`;
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

/**
 * The model object of a stored record: the record without `_s` and store-internal fields. Copied
 * key by key, not spread and then `delete`d: deleting turned every object a query returns into a
 * slow dictionary-mode object, whose every property read and copy (the home stamp, the LeafClass
 * writer) cost several times more (7–8 µs against ~2 µs to build a DocumentEntry, and as much
 * again to stamp and read it).
 */
export function fromRecord(rec: object): RegistryObject {
  const obj: Record<string, unknown> = {};
  const fields = rec as Record<string, unknown>;
  for (const key in fields) {
    if (!Object.hasOwn(fields, key) || isStoreInternal(key)) continue;
    obj[key] = fields[key];
  }
  return obj as unknown as RegistryObject;
}

function isStoreInternal(key: string): boolean {
  return key === STORE_INTERNAL_FIELDS[0] || key === STORE_INTERNAL_FIELDS[1] || key === STORE_INTERNAL_FIELDS[2];
}
