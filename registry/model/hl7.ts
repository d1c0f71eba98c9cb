/**
 * HL7 v2 data types used by XDS metadata (ITI TF-3 Table 4.2.3.1.7-2): DTM timestamps, CX
 * identifiers, HD assigning authorities. The model keeps the submitted strings; these helpers
 * read their parts where a rule or query needs them.
 */

/** YYYY[MM[DD[hh[mm[ss]]]]] in UTC, as XDS requires (no fractions, no zone offset). */
const DTM = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?$/;

/** True when the value is a valid XDS DTM (precision to year … second, real calendar values). */
export function isValidDtm(value: string): boolean {
  const m = DTM.exec(value);
  if (!m) return false;
  // Each component may only be present if the previous one is (the regex allows gaps in theory).
  const parts = m.slice(2).map((p) => (p === undefined ? undefined : Number(p)));
  const [mo, d, h, mi, s] = parts;
  if (mo !== undefined && (mo < 1 || mo > 12)) return false;
  if (d !== undefined && (d < 1 || d > 31)) return false;
  if (h !== undefined && h > 23) return false;
  if (mi !== undefined && mi > 59) return false;
  if (s !== undefined && s > 59) return false;
  return true;
}

/**
 * Pads a DTM to 14 digits so that values of different precision compare as strings.
 * 'low' pads with the earliest instant the value stands for (month 01, day 01, zeros),
 * which is how ITI TF-2a 3.18.4.1.2.3.6 compares time ranges.
 */
export function padDtm(value: string): string {
  const v = value.trim();
  const pad = '00000101000000';
  if (v.length >= 14) return v.slice(0, 14);
  return v + pad.slice(v.length);
}

/** An HD (assigning authority): namespaceId&universalId&universalIdType. */
export interface Hd {
  readonly namespaceId: string;
  readonly universalId: string;
  readonly universalIdType: string;
}

/** A CX identifier: id^^^assigningAuthority (only the components XDS allows). */
export interface Cx {
  readonly id: string;
  readonly checkDigit: string;
  readonly checkDigitScheme: string;
  readonly assigningAuthority: Hd | undefined;
  /** Components after the fourth (identifier type code etc.), as raw strings. */
  readonly rest: readonly string[];
}

export function parseHd(value: string): Hd {
  const [namespaceId = '', universalId = '', universalIdType = ''] = value.split('&');
  return { namespaceId, universalId, universalIdType };
}

export function parseCx(value: string): Cx {
  const [id = '', checkDigit = '', checkDigitScheme = '', aa, ...rest] = value.split('^');
  return { id, checkDigit, checkDigitScheme, assigningAuthority: aa === undefined ? undefined : parseHd(aa), rest };
}

/**
 * True for an OID in dotted form (no urn:oid: prefix), at most 64 characters as XDS requires.
 * The first arc is not restricted to 0–2: deployed sources (and the NIST testkit, e.g. sourceId
 * 129.6.58.92.1.1) use such values and certified registries accept them.
 */
export function isOid(value: string): boolean {
  return /^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/.test(value) && value.length <= 64;
}

/**
 * The bare OID: `urn:oid:` (in any case) and surrounding white space removed, so that OIDs
 * compare equal however a peer wrote them (docs/norway.md: both forms occur on the wire).
 */
export function bareOid(value: string): string {
  const v = value.trim();
  return /^urn:oid:/i.test(v) ? v.slice('urn:oid:'.length) : v;
}

/** Whether two OIDs are the same, with or without `urn:oid:`. */
export function sameOid(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  return bareOid(a) === bareOid(b);
}
