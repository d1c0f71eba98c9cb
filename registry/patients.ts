/**
 * Patient-id policy of the registry: which CX values are well formed and which patients are known.
 *
 * Norway runs no PIX feed for the national identifiers: a fødselsnummer, D-number or H-number is
 * known when its check digits and date parts are valid (docs/norway.md). Other assigning authorities
 * (a regional authority, a test domain) are accepted when configured, either wholesale or as a
 * list of exact CX values.
 */
import { isOid } from './model/hl7.js';

export const NORWEGIAN_ID_OID = {
  fodselsnummer: '2.16.578.1.12.4.1.4.1',
  dNumber: '2.16.578.1.12.4.1.4.2',
  hNumber: '2.16.578.1.12.4.1.4.3',
} as const;

export type NorwegianIdKind = 'F' | 'D' | 'H';

const KIND_BY_OID: Readonly<Record<string, NorwegianIdKind>> = {
  [NORWEGIAN_ID_OID.fodselsnummer]: 'F',
  [NORWEGIAN_ID_OID.dNumber]: 'D',
  [NORWEGIAN_ID_OID.hNumber]: 'H',
};

export interface PatientIdPolicyConfig {
  /** Assigning-authority OIDs (bare) whose ids are all known. */
  readonly acceptedAssigningAuthorities: readonly string[];
  /** Exact CX values that are known, whatever their authority. */
  readonly knownPatientIds?: readonly string[];
  /**
   * Accept synthetic Norwegian ids from Skatteetaten's test register (Tenor), whose month is
   * raised by 80. Off by default: production must not accept ids that cannot be real persons.
   */
  readonly acceptSyntheticNorwegianIds?: boolean;
}

export interface PatientIdPolicy {
  /** True when the CX is well formed and denotes a patient this registry accepts. */
  isKnown(cx: string): boolean;
  /** Why the CX is malformed for XDS (ITI TF-3 4.2.3.1.7 CX), or undefined when it is well formed. */
  checkFormat(cx: string): string | undefined;
}

/**
 * XDS restricts CX to `id^^^&oid&ISO`: the id number and an assigning authority given only by
 * its universal id (an OID) and type ISO; every other component must be empty and absent.
 */
export function checkCxFormat(cx: string): string | undefined {
  const components = cx.split('^');
  if (components.length !== 4) {
    return `CX "${cx}" must have exactly four components (id^^^&oid&ISO)`;
  }
  const [id = '', checkDigit = '', checkDigitScheme = '', authority = ''] = components;
  if (id.trim() === '' || id !== id.trim()) return `CX "${cx}" has no id number or one with surrounding blanks`;
  if (checkDigit !== '' || checkDigitScheme !== '') return `CX "${cx}" must leave components 2 and 3 empty`;
  const sub = authority.split('&');
  if (sub.length !== 3) return `CX "${cx}" assigning authority must be &oid&ISO`;
  const [namespaceId = '', universalId = '', universalIdType = ''] = sub;
  if (namespaceId !== '') return `CX "${cx}" assigning authority must not have a namespace id`;
  if (!isOid(universalId)) return `CX "${cx}" assigning authority "${universalId}" is not an OID`;
  if (universalIdType !== 'ISO') return `CX "${cx}" assigning authority type must be ISO`;
  return undefined;
}

const WEIGHTS_K1 = [3, 7, 6, 1, 8, 9, 4, 5, 2] as const;
const WEIGHTS_K2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2] as const;

/** The mod-11 check digit over the given digits, or undefined when the remainder makes none (10). */
function mod11(digits: readonly number[], weights: readonly number[]): number | undefined {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += weights[i]! * (digits[i] ?? 0);
  const k = 11 - (sum % 11);
  if (k === 11) return 0;
  if (k === 10) return undefined;
  return k;
}

/**
 * Candidate birth years from the two-digit year and the individual number (Skatteetaten's
 * century ranges). When the ranges give none, all centuries stay possible: the date check then
 * only guards day and month, which is safer than rejecting a real person over a range table.
 */
function candidateYears(yy: number, individual: number): number[] {
  const years: number[] = [];
  if (individual <= 499) years.push(1900 + yy);
  if (individual >= 500 && individual <= 749 && yy >= 54) years.push(1800 + yy);
  if (individual >= 500 && yy <= 39) years.push(2000 + yy);
  if (individual >= 900 && yy >= 40) years.push(1900 + yy);
  return years.length > 0 ? years : [1800 + yy, 1900 + yy, 2000 + yy];
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** Whether the day exists in the (proleptic Gregorian) calendar: what `Date.UTC` would agree to, without making a Date. */
function isRealDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
}

/**
 * Validates a Norwegian F-, D- or H-number: 11 digits, a real birth date once the kind's offset
 * is removed (D: day + 40, H: month + 40, synthetic: month + 80), and both mod-11 check digits.
 */
export function isValidNorwegianId(id: string, kind: NorwegianIdKind, options: { synthetic?: boolean } = {}): boolean {
  // Every registration checks its patient here: digits are read once, no array of strings made.
  if (id.length !== 11) return false;
  const digits: number[] = [];
  for (let i = 0; i < 11; i++) {
    const d = id.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return false;
    digits.push(d);
  }
  const k1 = mod11(digits, WEIGHTS_K1);
  if (k1 === undefined || k1 !== digits[9]) return false;
  const k2 = mod11(digits, WEIGHTS_K2);
  if (k2 === undefined || k2 !== digits[10]) return false;

  let day = digits[0]! * 10 + digits[1]!;
  let month = digits[2]! * 10 + digits[3]!;
  const yy = digits[4]! * 10 + digits[5]!;
  const individual = digits[6]! * 100 + digits[7]! * 10 + digits[8]!;
  if (kind === 'D') {
    if (day < 41 || day > 71) return false;
    day -= 40;
  }
  if (kind === 'H') {
    if (month < 41 || month > 52) return false;
    month -= 40;
  }
  if (options.synthetic && month >= 81 && month <= 92) month -= 80;
  return candidateYears(yy, individual).some((year) => isRealDate(year, month, day));
}

export function createPatientIdPolicy(config: PatientIdPolicyConfig): PatientIdPolicy {
  const accepted = new Set(config.acceptedAssigningAuthorities.map((oid) => oid.replace(/^urn:oid:/, '')));
  const known = new Set(config.knownPatientIds ?? []);
  const synthetic = config.acceptSyntheticNorwegianIds ?? false;
  return {
    checkFormat: checkCxFormat,
    isKnown(cx: string): boolean {
      if (checkCxFormat(cx) !== undefined) return false;
      if (known.has(cx)) return true;
      const [id = '', , , authority = ''] = cx.split('^');
      const oid = authority.split('&')[1] ?? '';
      const kind = KIND_BY_OID[oid];
      if (kind !== undefined) return isValidNorwegianId(id, kind, { synthetic });
      return accepted.has(oid);
    },
  };
}
