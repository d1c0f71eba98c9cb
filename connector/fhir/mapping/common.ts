/**
 * What DocumentReference and List share: the entryUUID identifier and resource id, the
 * homeCommunityId extension, metadata versions (ebRIM lid and versionName), and the node's own
 * extensions for the attributes FHIR has no element for.
 */
import { isOid } from '../../../registry/model/hl7.js';
import { isUuid, type AvailabilityStatus } from '../../../registry/model/metadata.js';
import { MHD_EXTENSION, NODE_EXTENSION, URI_SYSTEM, type Extension, type Identifier, type Meta } from './fhir.js';
import { extensionLike, extensionString, get, getArr, getStr, isObject, str, type Json } from './read.js';

/** The resource id of an object: its UUID without `urn:uuid:`; a symbolic id when it is a valid FHIR id. */
export function resourceIdOf(entryUuid: string): string | undefined {
  if (isUuid(entryUuid)) return entryUuid.slice('urn:uuid:'.length);
  return /^[A-Za-z0-9\-.]{1,64}$/.test(entryUuid) ? entryUuid : undefined;
}

/**
 * entryUUID as MHD's EntryUUID Identifier (use official, urn:ietf:rfc:3986, urn:uuid:…). A symbolic
 * id (an unregistered submission) is no UUID: it travels as a `temp` identifier instead.
 */
export function entryUuidIdentifier(entryUuid: string): Identifier {
  return isUuid(entryUuid) ? { use: 'official', system: URI_SYSTEM, value: entryUuid } : { use: 'temp', value: entryUuid };
}

/** The entryUUID a resource carries: its official urn:uuid identifier, else a temp one, else its id when that is a UUID. */
export function entryUuidOf(resource: Json): string | undefined {
  const identifiers = getArr(resource, 'identifier');
  const official = identifiers.find((i) => getStr(i, 'use') === 'official' && isUuid(getStr(i, 'value') ?? ''));
  if (official !== undefined) return getStr(official, 'value');
  const temp = identifiers.find((i) => getStr(i, 'use') === 'temp' && getStr(i, 'value') !== undefined);
  if (temp !== undefined) return getStr(temp, 'value');
  const id = getStr(resource, 'id');
  return id !== undefined && isUuid(`urn:uuid:${id}`) ? `urn:uuid:${id}` : undefined;
}

export function homeCommunityExtension(homeCommunityId: string): Extension {
  // valueOid is what MHD 4.2 defines; it has to be urn:oid:<OID> to be a FHIR oid.
  return /^urn:oid:/.test(homeCommunityId) && isOid(homeCommunityId.slice(8))
    ? { url: MHD_EXTENSION.homeCommunityId, valueOid: homeCommunityId }
    : { url: MHD_EXTENSION.homeCommunityId, valueString: homeCommunityId };
}

/** A homeCommunityId extension's value, whichever spelling and value type a peer used (valueOid, valueUri, valueIdentifier). */
export function homeCommunityOf(element: Json): string | undefined {
  const ext = extensionLike(element, MHD_EXTENSION.homeCommunityId);
  if (ext === undefined) return undefined;
  return str(ext['valueOid']) ?? str(ext['valueUri']) ?? str(ext['valueString']) ?? getStr(ext['valueIdentifier'], 'value');
}

export function repositoryExtension(repositoryUniqueId: string): Extension {
  return { url: MHD_EXTENSION.repositoryUniqueId, valueIdentifier: { system: URI_SYSTEM, value: isOid(repositoryUniqueId) ? `urn:oid:${repositoryUniqueId}` : repositoryUniqueId } };
}

export function repositoryOf(element: Json): string | undefined {
  const ext = extensionLike(element, MHD_EXTENSION.repositoryUniqueId);
  const value = getStr(ext?.['valueIdentifier'], 'value') ?? str(ext?.['valueOid']) ?? str(ext?.['valueString']);
  return value === undefined ? undefined : value.replace(/^urn:oid:/i, '');
}

export function stringExtension(url: string, value: string | undefined): Extension[] {
  return value === undefined ? [] : [{ url, valueString: value }];
}

/** meta: the profile claimed and the metadata version (ebRIM VersionInfo/@versionName) as versionId. */
export function metaOf(profile: string | false | undefined, version: string | undefined): Meta | undefined {
  const meta: Meta = {};
  if (profile) meta.profile = [profile];
  // versionId is a FHIR id; a versionName that is none (never seen: XDS writes 1, 2, …) is not written.
  if (version !== undefined && /^[A-Za-z0-9\-.]{1,64}$/.test(version)) meta.versionId = version;
  return Object.keys(meta).length === 0 ? undefined : meta;
}

export function versionOf(resource: Json): string | undefined {
  return getStr(get(resource, 'meta'), 'versionId');
}

export function logicalIdOf(resource: Json): string | undefined {
  return extensionString(resource, NODE_EXTENSION.logicalId);
}

/**
 * availabilityStatus beyond what the FHIR status says: FHIR has current and superseded/retired
 * (Approved, Deprecated) only, so Submitted (never stored, only in submissions) needs an extension.
 */
export function statusExtension(status: AvailabilityStatus): Extension[] {
  return status === 'Submitted' ? [{ url: NODE_EXTENSION.availabilityStatus, valueCode: status }] : [];
}

export function availabilityStatusOf(resource: Json): AvailabilityStatus {
  const ext = getArr(resource, 'extension').find((e) => isObject(e) && e['url'] === NODE_EXTENSION.availabilityStatus);
  const explicit = str(get(ext, 'valueCode'));
  if (explicit === 'Approved' || explicit === 'Deprecated' || explicit === 'Submitted') return explicit;
  const status = getStr(resource, 'status');
  return status === 'superseded' || status === 'retired' || status === 'entered-in-error' ? 'Deprecated' : 'Approved';
}

/** The location of a member: `<base>.<path>`. */
export function at(base: string, path: string): string {
  return path === '' ? base : `${base}.${path}`;
}
