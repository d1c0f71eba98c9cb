/**
 * Reading the parameter slots of a stored query against the query's parameter table
 * (ITI TF-2a 3.18.4.1.2.3.7): presence, number of values, value syntax and value types.
 *
 * Repeated slots: for the parameters the TF gives AND/OR semantics (event codes,
 * confidentiality codes, folder code lists, reference ids) each slot is one OR-group and the
 * groups are AND-ed; other multi-valued parameters take the union of their slots; a
 * single-valued parameter given twice is XDSStoredQueryParamNumber.
 */
import { error, RegistryFailure, type RegistryErrorInfo } from '../model/errors.js';
import { isValidDtm, padDtm } from '../model/hl7.js';
import { STATUS_URN_PREFIX, type AvailabilityStatus } from '../model/metadata.js';
import type { QueryParameterSlot } from '../model/query.js';
import { parseValue, ValueSyntaxError, type Scalar } from './value-syntax.js';

/**
 * - string: a quoted string, kept as is;
 * - code: a quoted `code^^scheme`;
 * - time: an unquoted DTM, padded to 14 digits for comparison with the stored `_s` times;
 * - status: a quoted availability status URN, read as its short form (`Approved`);
 * - integer: an unquoted decimal number (`$MetadataLevel`).
 */
export type ParamType = 'string' | 'code' | 'time' | 'status' | 'integer';

export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  /** More than one value allowed. */
  readonly multiple: boolean;
  /** Repeated slots are AND-ed (each slot's values OR-ed). */
  readonly andOr?: boolean;
  readonly required?: boolean;
  /** The only values allowed (after conversion), when the parameter has a fixed set. */
  readonly allowed?: readonly string[];
}

export interface ParamTable {
  readonly params: readonly ParamSpec[];
  /** Groups of parameters of which exactly one must be present (e.g. entryUUID, uniqueId or logicalID). */
  readonly exactlyOne?: readonly (readonly string[])[];
  /**
   * Groups of parameters of which at least one must be present, each group on its own (the
   * multi-patient FindDocuments, which may leave out the patient, must name a class, event or
   * facility type code so that it is not a query for everything).
   */
  readonly atLeastOne?: readonly (readonly string[])[];
}

const STATUSES: readonly AvailabilityStatus[] = ['Approved', 'Deprecated', 'Submitted'];

/** The validated parameters of one request. Values are already converted to their type. */
export class QueryParameters {
  constructor(private readonly groups: ReadonlyMap<string, readonly (readonly string[])[]>) {}

  has(name: string): boolean {
    return this.groups.has(name);
  }

  /** The one value of a single-valued parameter. */
  single(name: string): string | undefined {
    return this.groups.get(name)?.[0]?.[0];
  }

  /** All values of a parameter, across its slots (OR semantics). */
  list(name: string): string[] | undefined {
    const groups = this.groups.get(name);
    return groups === undefined ? undefined : [...new Set(groups.flat())];
  }

  /** The OR-groups of an AND/OR parameter: each inner list is OR-ed, the lists are AND-ed. */
  andGroups(name: string): string[][] | undefined {
    const groups = this.groups.get(name);
    return groups === undefined ? undefined : groups.map((g) => [...new Set(g)]);
  }

  statuses(name: string): AvailabilityStatus[] | undefined {
    return this.list(name) as AvailabilityStatus[] | undefined;
  }
}

/**
 * Validates the slots against the table. Slots whose names are not in the table are ignored, as
 * the TF asks. Throws RegistryFailure with every problem found.
 */
export function readParameters(table: ParamTable, slots: readonly QueryParameterSlot[]): QueryParameters {
  const errors: RegistryErrorInfo[] = [];
  const groups = new Map<string, string[][]>();
  const specs = new Map(table.params.map((p) => [p.name, p]));
  const malformed = new Set<string>();

  for (const slot of slots) {
    const spec = specs.get(slot.name);
    if (spec === undefined) continue;
    const group: string[] = [];
    for (const raw of slot.values) {
      try {
        for (const scalar of parseValue(raw)) group.push(convert(spec, scalar));
      } catch (e) {
        if (!(e instanceof ValueSyntaxError)) throw e;
        errors.push(error('XDSRegistryError', `${spec.name}: ${e.message}`, spec.name));
        malformed.add(spec.name);
      }
    }
    const existing = groups.get(spec.name);
    if (existing === undefined) groups.set(spec.name, [group]);
    else existing.push(group);
  }

  for (const spec of table.params) {
    const given = groups.get(spec.name);
    if (given === undefined || malformed.has(spec.name)) continue;
    const count = given.reduce((n, g) => n + g.length, 0);
    if (count === 0) {
      errors.push(error('XDSRegistryError', `${spec.name} has no value`, spec.name));
    } else if (!spec.multiple && (given.length > 1 || count > 1)) {
      errors.push(error('XDSStoredQueryParamNumber', `${spec.name} takes a single value but ${count} were given`, spec.name));
    }
  }

  const inPair = new Set((table.exactlyOne ?? []).flat());
  for (const spec of table.params) {
    if (spec.required && !inPair.has(spec.name) && !groups.has(spec.name)) {
      errors.push(error('XDSStoredQueryMissingParam', `required parameter ${spec.name} is missing`, spec.name));
    }
  }
  for (const group of table.exactlyOne ?? []) {
    const given = group.filter((name) => groups.has(name)).length;
    const names = `${group.slice(0, -1).join(', ')} and ${group.at(-1)!}`;
    if (given > 1) {
      errors.push(error('XDSStoredQueryParamNumber', `only one of ${names} may be given`, group.join(' ')));
    } else if (given === 0) {
      errors.push(error('XDSStoredQueryMissingParam', `one of ${names} is required`, group.join(' ')));
    }
  }
  // A required parameter missing is XDSStoredQueryMissingParam (ITI TF-3 Table 4.2.4.1-2), also
  // when the requirement is "one of these".
  for (const group of table.atLeastOne ?? []) {
    if (!group.some((name) => groups.has(name))) {
      errors.push(error('XDSStoredQueryMissingParam', `at least one of ${group.join(', ')} is required`, group.join(' ')));
    }
  }

  if (errors.length > 0) throw new RegistryFailure(errors);
  return new QueryParameters(groups);
}

function convert(spec: ParamSpec, scalar: Scalar): string {
  const value = convertType(spec, scalar);
  if (spec.allowed !== undefined && !spec.allowed.includes(value)) {
    throw new ValueSyntaxError(`'${scalar.text}' is not one of ${spec.allowed.join(', ')}`);
  }
  return value;
}

function convertType(spec: ParamSpec, scalar: Scalar): string {
  switch (spec.type) {
    case 'string':
      requireString(scalar);
      return scalar.text;
    case 'code':
      requireString(scalar);
      return checkedCode(scalar.text);
    case 'time':
      return checkedTime(scalar);
    case 'status':
      requireString(scalar);
      return checkedStatus(scalar.text);
    case 'integer':
      // Unquoted, as ITI TF-2 writes $MetadataLevel; a quoted number is taken too (as for times).
      if (!/^[0-9]+$/.test(scalar.text.trim())) throw new ValueSyntaxError(`'${scalar.text}' is not a number`);
      return String(Number(scalar.text.trim()));
  }
}

function requireString(scalar: Scalar): void {
  if (scalar.kind !== 'string') throw new ValueSyntaxError(`expected a quoted string, found ${scalar.text}`);
  if (scalar.text.trim() === '') throw new ValueSyntaxError('empty string value');
}

/** `code^^scheme` with both parts present (NIST 11897 expects a Failure for `'a^^'` and `'Dialysis'`). */
function checkedCode(text: string): string {
  const at = text.lastIndexOf('^^');
  if (at <= 0 || at + 2 >= text.length) {
    throw new ValueSyntaxError(`code value '${text}' is not in the form code^^codingScheme`);
  }
  return text;
}

function checkedTime(scalar: Scalar): string {
  // Times are unquoted numbers; a quoted all-digit value is accepted too because some clients send it.
  const text = scalar.text.trim();
  if (!isValidDtm(text)) throw new ValueSyntaxError(`'${scalar.text}' is not an HL7 DTM (YYYY[MM[DD[hh[mm[ss]]]]])`);
  return padDtm(text);
}

/** Full URNs are what the TF requires; the short form is accepted as IPF does. */
function checkedStatus(text: string): string {
  const short = text.startsWith(STATUS_URN_PREFIX) ? text.slice(STATUS_URN_PREFIX.length) : text;
  if (!(STATUSES as readonly string[]).includes(short)) {
    throw new ValueSyntaxError(`'${text}' is not an availability status (${STATUS_URN_PREFIX}Approved or …Deprecated)`);
  }
  return short;
}
