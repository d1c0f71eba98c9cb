/**
 * homeCommunityIds and other OIDs arrive both bare and as `urn:oid:…` (docs/norway.md, Identifiers): every
 * comparison goes through the registry model's bareOid / sameOid, and what we write is always
 * the urn:oid form.
 */
import { bareOid, sameOid } from '../../registry/model/hl7.js';

export { sameOid };
export const normaliseOid = bareOid;

/** `urn:oid:<OID>` whichever way the OID was written. */
export function urnOid(value: string): string {
  return `urn:oid:${bareOid(value)}`;
}
