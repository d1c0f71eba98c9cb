/**
 * Value formats of XDS metadata (ITI TF-3 4.2.3.1.7 data types), as predicates returning a
 * problem description or undefined. Codes are checked for structure only: value sets belong to
 * the affinity domain, and NIST's test data uses Connectathon codes.
 */
import { isOid } from '../model/hl7.js';
import type { Author, Code } from '../model/metadata.js';

/** A DocumentEntry.uniqueId is at most 128 bytes long (ITI TF-3 4.2.3.2.26). */
export const MAX_DOCUMENT_UNIQUE_ID_BYTES = 128;

/** An RFC 4122 UUID as text, the form Norwegian EPJ systems and NHN's gateways give their documents. */
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** White space, control characters and the HL7 component separator: never inside an identifier. */
const NOT_IN_EXTENSION = /[\s\p{Cc}^]/u;

/** What decides a uniqueId's structure: the document's format (ITI TF-3 4.2.3.2.26). */
export interface DocumentFormat {
  readonly mimeType?: string | undefined;
  readonly formatCodeScheme?: string | undefined;
}

/** DICOM's own coding scheme for formatCodes (transfer syntaxes and SOP classes), and its MIME type. */
const DICOM_FORMAT_SCHEME = '1.2.840.10008.2.6.1';
const DICOM_MIME_TYPE = 'application/dicom';

function isDicom(format: DocumentFormat): boolean {
  return format.formatCodeScheme === DICOM_FORMAT_SCHEME || format.mimeType?.trim().toLowerCase() === DICOM_MIME_TYPE;
}

/**
 * DocumentEntry.uniqueId (ITI TF-3 4.2.3.2.26): its structure follows the document's format, and
 * it is at most 128 bytes. A DICOM document's id is a DICOM UID (an OID of at most 64 characters);
 * any other document's id is an OID, an OID^extension (the serialised CDA ClinicalDocument.id,
 * root^extension), or a UUID, which NHN's reference gateway, its hub and Norwegian EPJ systems use.
 * No form may hold white space or control characters.
 */
export function documentUniqueIdProblem(value: string, format: DocumentFormat = {}): string | undefined {
  if (Buffer.byteLength(value, 'utf8') > MAX_DOCUMENT_UNIQUE_ID_BYTES) {
    return `uniqueId "${value.slice(0, 40)}…" is longer than ${MAX_DOCUMENT_UNIQUE_ID_BYTES} bytes`;
  }
  if (isDicom(format)) {
    return isOid(value) ? undefined : `uniqueId "${value}" of a DICOM document must be a DICOM UID (an OID of at most 64 characters)`;
  }
  if (UUID.test(value)) return undefined;
  const caret = value.indexOf('^');
  const root = caret < 0 ? value : value.slice(0, caret);
  if (!isOid(root)) return `uniqueId "${value}" must be an OID, OID^extension or a UUID`;
  if (caret < 0) return undefined;
  const extension = value.slice(caret + 1);
  if (extension === '') return `uniqueId "${value}" has an empty extension`;
  if (NOT_IN_EXTENSION.test(extension)) return `uniqueId "${value}" has white space, a control character or a second ^ in its extension`;
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
