/**
 * ebRIM 3.0 building blocks shared by every mapping: Slot, Name/Description, Classification,
 * ExternalIdentifier, status URNs, and the one error this layer raises.
 */
import { createHash } from 'node:crypto';
import { error, RegistryFailure } from '../model/errors';
import { STATUS_URN_PREFIX, type AvailabilityStatus, type Code, type LocalizedText, type Slot } from '../model/metadata';
import { NS } from '../xml/namespaces';
import { childElement, childElements, el, textContent, type XmlElement, type XmlNode } from '../xml/tree';
import { OBJECT_TYPE } from './constants';

const XML_LANG = `{${NS.xml}}lang`;

/** A structural problem the metadata model cannot represent: the request fails with XDSRegistryMetadataError. */
export function metadataError(message: string, location?: string): RegistryFailure {
  return new RegistryFailure(error('XDSRegistryMetadataError', message, location));
}

// ---------------------------------------------------------------- reading

export function readSlots(owner: XmlElement): Slot[] {
  return childElements(owner, NS.rim, 'Slot').map((s) => {
    const values: string[] = [];
    const list = childElement(s, NS.rim, 'ValueList');
    if (list) for (const v of childElements(list, NS.rim, 'Value')) values.push(textContent(v));
    const slotType = s.attrs['slotType'];
    return slotType === undefined ? { name: s.attrs['name'] ?? '', values } : { name: s.attrs['name'] ?? '', slotType, values };
  });
}

/** The first LocalizedString of rim:Name or rim:Description (XDS uses one). */
export function readLocalized(owner: XmlElement, local: 'Name' | 'Description'): LocalizedText | undefined {
  const holder = childElement(owner, NS.rim, local);
  const ls = holder && childElement(holder, NS.rim, 'LocalizedString');
  if (!ls) return undefined;
  const out: { value: string; lang?: string; charset?: string } = { value: ls.attrs['value'] ?? '' };
  if (ls.attrs[XML_LANG] !== undefined) out.lang = ls.attrs[XML_LANG];
  if (ls.attrs['charset'] !== undefined) out.charset = ls.attrs['charset'];
  return out;
}

export interface RimClassification {
  readonly id?: string;
  readonly classificationScheme?: string;
  readonly classificationNode?: string;
  readonly classifiedObject?: string;
  readonly nodeRepresentation?: string;
  readonly name?: LocalizedText;
  readonly slots: readonly Slot[];
}

export interface RimExternalIdentifier {
  readonly id?: string;
  readonly identificationScheme: string;
  readonly value: string;
  readonly registryObject?: string;
  readonly name?: LocalizedText;
}

export function readClassification(c: XmlElement): RimClassification {
  return withoutUndefined({
    id: c.attrs['id'],
    classificationScheme: c.attrs['classificationScheme'],
    classificationNode: c.attrs['classificationNode'],
    classifiedObject: c.attrs['classifiedObject'],
    nodeRepresentation: c.attrs['nodeRepresentation'],
    name: readLocalized(c, 'Name'),
    slots: readSlots(c),
  });
}

export function readExternalIdentifier(x: XmlElement): RimExternalIdentifier {
  return withoutUndefined({
    id: x.attrs['id'],
    identificationScheme: x.attrs['identificationScheme'] ?? '',
    value: x.attrs['value'] ?? '',
    registryObject: x.attrs['registryObject'],
    name: readLocalized(x, 'Name'),
  });
}

export function readStatus(value: string | undefined, location: string): AvailabilityStatus {
  if (value === undefined) return 'Submitted';
  if (value.startsWith(STATUS_URN_PREFIX)) {
    const short = value.slice(STATUS_URN_PREFIX.length);
    if (short === 'Approved' || short === 'Deprecated' || short === 'Submitted') return short;
  }
  throw metadataError(`unknown status ${value}`, location);
}

/** Drops keys whose value is undefined, so that absent attributes stay absent (deep-equal friendly). */
export function withoutUndefined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

// ---------------------------------------------------------------- writing

export function slotElement(slot: Slot): XmlElement {
  return el(NS.rim, 'Slot', { name: slot.name, slotType: slot.slotType }, [
    el(
      NS.rim,
      'ValueList',
      {},
      slot.values.map((v) => el(NS.rim, 'Value', {}, [v])),
    ),
  ]);
}

export function slotElements(slots: readonly (Slot | undefined)[]): XmlElement[] {
  const out: XmlElement[] = [];
  for (const s of slots) if (s !== undefined) out.push(slotElement(s));
  return out;
}

/** A Slot for a single optional value; undefined when the value is absent. */
export function singleSlot(name: string, value: string | undefined): Slot | undefined {
  return value === undefined ? undefined : { name, values: [value] };
}

export function listSlot(name: string, values: readonly string[]): Slot | undefined {
  return values.length === 0 ? undefined : { name, values };
}

export function localizedElement(local: 'Name' | 'Description', text: LocalizedText | undefined): XmlElement | undefined {
  if (text === undefined) return undefined;
  return el(NS.rim, local, {}, [
    el(NS.rim, 'LocalizedString', { [XML_LANG]: text.lang, charset: text.charset, value: text.value }),
  ]);
}

export function classificationElement(c: RimClassification & { id: string; classifiedObject: string }): XmlElement {
  return el(
    NS.rim,
    'Classification',
    {
      id: c.id,
      objectType: OBJECT_TYPE.Classification,
      classificationScheme: c.classificationScheme,
      classificationNode: c.classificationNode,
      classifiedObject: c.classifiedObject,
      nodeRepresentation: c.nodeRepresentation,
    },
    [...slotElements(c.slots), localizedElement('Name', c.name)],
  );
}

export function codeClassification(code: Code, scheme: string): RimClassification {
  return withoutUndefined({
    classificationScheme: scheme,
    nodeRepresentation: code.code,
    name: code.displayName,
    slots: code.scheme === undefined ? [] : [{ name: 'codingScheme', values: [code.scheme] }],
  });
}

export function externalIdentifierElement(x: RimExternalIdentifier & { id: string; registryObject: string }): XmlElement {
  return el(
    NS.rim,
    'ExternalIdentifier',
    {
      id: x.id,
      objectType: OBJECT_TYPE.ExternalIdentifier,
      identificationScheme: x.identificationScheme,
      registryObject: x.registryObject,
      value: x.value,
    },
    [localizedElement('Name', x.name)],
  );
}

export function statusUrn(status: AvailabilityStatus): string {
  return STATUS_URN_PREFIX + status;
}

/**
 * A stable `urn:uuid:` for a child element (Classification, ExternalIdentifier) that has no id of
 * its own: the same owner and position always give the same id, so responses are reproducible.
 * Name-based like RFC 4122 version 5 (SHA-1), in a namespace of our own.
 */
export function derivedId(ownerId: string, position: number): string {
  const h = createHash('sha1').update(`koblingspunkt:${ownerId}#${position}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export type { XmlNode };
