/**
 * Value formats of XDS metadata (ITI TF-3 4.2.3.1.7 data types), as predicates returning a
 * problem description or undefined. Codes are checked for structure only: value sets belong to
 * the affinity domain, and NIST's test data uses Connectathon codes.
 */
import { isOid } from '../model/hl7.js';
import type { Author, Code } from '../model/metadata.js';

/** DocumentEntry.uniqueId: an OID, optionally `^extension` (CDA II root^extension), 128 characters at most. */
export function documentUniqueIdProblem(value: string): string | undefined {
  if (value.length > 128) return `uniqueId "${value}" is longer than 128 characters`;
  const [root = '', extension, ...rest] = value.split('^');
  if (rest.length > 0) return `uniqueId "${value}" has more than one ^`;
  if (!isOid(root)) return `uniqueId "${value}" must be an OID or OID^extension`;
  if (extension !== undefined && extension.trim() === '') return `uniqueId "${value}" has an empty extension`;
  return undefined;
}

/** SubmissionSet and Folder uniqueIds, sourceId and repositoryUniqueId: a bare OID of at most 64 characters. */
export function oidProblem(attribute: string, value: string): string | undefined {
  return isOid(value) ? undefined : `${attribute} "${value}" must be an OID (digits and dots, at most 64 characters)`;
}

export function isSha1Hex(value: string): boolean {
  return /^[0-9a-fA-F]{40}$/.test(value);
}

export function isSize(value: string): boolean {
  return /^\d+$/.test(value);
}

/** RFC 3066 / BCP 47 shape: a primary tag of letters and optional subtags (en-US, nb-NO, no). */
export function isLanguageTag(value: string): boolean {
  return /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(value);
}

/** RFC 2045 type/subtype, parameters tolerated. */
export function isMimeType(value: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;.*)?$/.test(value);
}

/** A code needs a value, a coding scheme and a display name (ITI TF-3 Code data type). */
export function codeProblem(attribute: string, code: Code): string | undefined {
  if (code.code.trim() === '') return `${attribute} has an empty code`;
  if (code.scheme === undefined || code.scheme.trim() === '') return `${attribute} code "${code.code}" has no codingScheme`;
  if (code.displayName === undefined || code.displayName.value.trim() === '') {
    return `${attribute} code "${code.code}" has no display name`;
  }
  return undefined;
}

/** XCN: an id number (component 1) or a family name (component 2) must be present. */
export function xcnProblem(attribute: string, value: string): string | undefined {
  const [id = '', family = ''] = value.split('^');
  if (id.trim() === '' && family.trim() === '') return `${attribute} "${value}" has neither an id number nor a family name`;
  return undefined;
}

/** XON: the organisation name (component 1) is required. */
export function xonProblem(attribute: string, value: string): string | undefined {
  const [name = ''] = value.split('^');
  return name.trim() === '' ? `${attribute} "${value}" has no organization name` : undefined;
}

/**
 * Author (ITI TF-3 4.2.3.1.4): at least one of authorPerson, authorInstitution or
 * authorTelecommunication, and each person / institution well formed.
 */
export function authorProblem(owner: string, author: Author): string | undefined {
  const hasPerson = author.person !== undefined && author.person.trim() !== '';
  if (!hasPerson && author.institutions.length === 0 && author.telecommunications.length === 0) {
    return `${owner} author has none of authorPerson, authorInstitution, authorTelecommunication`;
  }
  if (hasPerson) {
    const p = xcnProblem('authorPerson', author.person ?? '');
    if (p) return p;
  }
  for (const institution of author.institutions) {
    const p = xonProblem('authorInstitution', institution);
    if (p) return p;
  }
  return undefined;
}

/** homeCommunityId is a URI of the form urn:oid:<OID>. */
export function homeCommunityIdProblem(value: string): string | undefined {
  return value.startsWith('urn:oid:') && isOid(value.slice(8)) ? undefined : `homeCommunityId "${value}" must be urn:oid:<OID>`;
}

/** sourcePatientInfo lines are `PID-n|value`. */
export function isPidLine(value: string): boolean {
  return /^PID-\d+\|/.test(value);
}
