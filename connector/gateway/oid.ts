/**
 * homeCommunityIds and other OIDs arrive both bare and as `urn:oid:…` (NORWAY.md, Wire): every
 * comparison goes through normaliseOid, and what we write is always the urn:oid form.
 */

/** The bare OID: `urn:oid:` (any case) and surrounding white space removed. */
export function normaliseOid(value: string): string {
  const v = value.trim();
  return /^urn:oid:/i.test(v) ? v.slice(8) : v;
}

/** `urn:oid:<OID>` whichever way the OID was written. */
export function urnOid(value: string): string {
  return `urn:oid:${normaliseOid(value)}`;
}

export function sameOid(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  return normaliseOid(a) === normaliseOid(b);
}
