/**
 * ebRIM 3.0 building blocks shared by every mapping: Slot, Name/Description, Classification,
 * ExternalIdentifier, status URNs, and the one error this layer raises.
 */
import { hash } from 'node:crypto';
import { error, RegistryFailure } from '../model/errors.js';
import { STATUS_URN_PREFIX, type AvailabilityStatus, type Author, type Code, type LocalizedText, type Slot } from '../model/metadata.js';
import { NS } from '../xml/namespaces.js';
import { childElement, childElements, ElementTreeBuilder, isElement, textContent, type ElementSink, type XmlElement, type XmlNode } from '../xml/tree.js';
import { OBJECT_TYPE, SLOT } from './constants.js';

const XML_LANG = `{${NS.xml}}lang`;

/**
 * A RegistryObject's or AdhocQuery's `home` attribute. An empty value means absent: IPF and other
 * peers write home="" on objects that have no community yet, and it names none.
 */
export function readHome(e: XmlElement): string | undefined {
  const home = e.attrs['home'];
  return home === undefined || home.trim() === '' ? undefined : home;
}

/** A structural problem the metadata model cannot represent: the request fails with XDSRegistryMetadataError. */
export function metadataError(message: string, location?: string): RegistryFailure {
  return new RegistryFailure(error('XDSRegistryMetadataError', message, location));
}

// ---------------------------------------------------------------- reading

export function readSlots(owner: XmlElement): Slot[] {
  return readSlotElements(childElements(owner, NS.rim, 'Slot'));
}

/** The rim:Slot elements given, read. */
export function readSlotElements(slots: readonly XmlElement[]): Slot[] {
  return slots.map((s) => {
    const values: string[] = [];
    const list = childElement(s, NS.rim, 'ValueList');
    if (list) for (const v of childElements(list, NS.rim, 'Value')) values.push(textContent(v));
    const slotType = s.attrs['slotType'];
    return slotType === undefined ? { name: s.attrs['name'] ?? '', values } : { name: s.attrs['name'] ?? '', slotType, values };
  });
}

/** The rim children a registry object's readers ask for, picked out in one pass over its children. */
export interface RimChildren {
  /** rim:Slot, rim:Classification and rim:ExternalIdentifier children in document order. */
  readonly slots: XmlElement[];
  readonly classifications: XmlElement[];
  readonly externalIdentifiers: XmlElement[];
  /** The first rim:Name, rim:Description and rim:VersionInfo child, if any. */
  readonly name: XmlElement | undefined;
  readonly description: XmlElement | undefined;
  readonly versionInfo: XmlElement | undefined;
}

/** What `childElements`/`childElement` would find for each of RimChildren's kinds, without a scan per kind. */
export function rimChildren(owner: XmlElement): RimChildren {
  const slots: XmlElement[] = [];
  const classifications: XmlElement[] = [];
  const externalIdentifiers: XmlElement[] = [];
  let name: XmlElement | undefined;
  let description: XmlElement | undefined;
  let versionInfo: XmlElement | undefined;
  for (const c of owner.children) {
    if (!isElement(c) || c.ns !== NS.rim) continue;
    switch (c.local) {
      case 'Slot':
        slots.push(c);
        break;
      case 'Classification':
        classifications.push(c);
        break;
      case 'ExternalIdentifier':
        externalIdentifiers.push(c);
        break;
      case 'Name':
        name ??= c;
        break;
      case 'Description':
        description ??= c;
        break;
      case 'VersionInfo':
        versionInfo ??= c;
        break;
    }
  }
  return { slots, classifications, externalIdentifiers, name, description, versionInfo };
}

/** The first LocalizedString of rim:Name or rim:Description (XDS uses one). */
export function readLocalized(owner: XmlElement, local: 'Name' | 'Description'): LocalizedText | undefined {
  return readLocalizedElement(childElement(owner, NS.rim, local));
}

/** The first LocalizedString of this rim:Name or rim:Description element. */
export function readLocalizedElement(holder: XmlElement | undefined): LocalizedText | undefined {
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
  const children = rimChildren(c);
  return withoutUndefined({
    id: c.attrs['id'],
    classificationScheme: c.attrs['classificationScheme'],
    classificationNode: c.attrs['classificationNode'],
    classifiedObject: c.attrs['classifiedObject'],
    nodeRepresentation: c.attrs['nodeRepresentation'],
    name: readLocalizedElement(children.name),
    slots: readSlotElements(children.slots),
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
  // for…in over own keys is Object.entries without an array of pairs per call (this runs for every
  // Classification, ExternalIdentifier and object a request holds).
  for (const k in o) {
    if (!Object.hasOwn(o, k)) continue;
    const v: unknown = o[k];
    if (v !== undefined) out[k] = v;
  }
  return out as T;
}

// ---------------------------------------------------------------- writing
//
// A LeafClass answer of 50 entries is ~20,000 elements. The writers below describe each element
// once, as calls on an ElementSink (registry/xml/tree.ts), with only defined attributes, in the
// order they are written: the same calls build a readable tree (requests, tests) or write a
// fragment's text directly (answers), so the two can never disagree.

const RIM = NS.rim;

/** rim:Slot with its ValueList (an empty list is written as such: extra slots may have no values). */
export function writeSlot(w: ElementSink, name: string, slotType: string | undefined, values: readonly string[]): void {
  w.start(RIM, 'Slot');
  w.attr('name', name);
  if (slotType !== undefined) w.attr('slotType', slotType);
  w.start(RIM, 'ValueList');
  for (let i = 0; i < values.length; i++) {
    w.start(RIM, 'Value');
    w.text(values[i]!);
    w.end();
  }
  w.end();
  w.end();
}

/** rim:Slot as a tree (the parameters of a query request). */
export function slotElement(slot: Slot): XmlElement {
  const tree = new ElementTreeBuilder();
  writeSlot(tree, slot.name, slot.slotType, slot.values);
  return tree.element();
}

/** A slot element per slot. */
export function writeSlots(w: ElementSink, slots: readonly Slot[]): void {
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]!;
    writeSlot(w, slot.name, slot.slotType, slot.values);
  }
}

/** A Slot with one value, unless the value is absent. */
export function writeSingleSlot(w: ElementSink, name: string, value: string | undefined): void {
  if (value === undefined) return;
  w.start(RIM, 'Slot');
  w.attr('name', name);
  w.start(RIM, 'ValueList');
  w.start(RIM, 'Value');
  w.text(value);
  w.end();
  w.end();
  w.end();
}

/** A Slot with these values, unless there are none. */
export function writeListSlot(w: ElementSink, name: string, values: readonly string[]): void {
  if (values.length > 0) writeSlot(w, name, undefined, values);
}

/** rim:Name or rim:Description with its LocalizedString, unless the text is absent. */
export function writeLocalized(w: ElementSink, local: 'Name' | 'Description', text: LocalizedText | undefined): void {
  if (text === undefined) return;
  w.start(RIM, local);
  w.start(RIM, 'LocalizedString');
  if (text.lang !== undefined) w.attr(XML_LANG, text.lang);
  if (text.charset !== undefined) w.attr('charset', text.charset);
  if (text.value !== undefined) w.attr('value', text.value);
  w.end();
  w.end();
}

/** A Classification as the model keeps it (extra classifications); `id` is the one to write. */
export function writeClassification(w: ElementSink, c: RimClassification, id: string, classifiedObject: string): void {
  w.start(RIM, 'Classification');
  w.attr('id', id);
  w.attr('objectType', OBJECT_TYPE.Classification);
  if (c.classificationScheme !== undefined) w.attr('classificationScheme', c.classificationScheme);
  if (c.classificationNode !== undefined) w.attr('classificationNode', c.classificationNode);
  w.attr('classifiedObject', classifiedObject);
  if (c.nodeRepresentation !== undefined) w.attr('nodeRepresentation', c.nodeRepresentation);
  writeSlots(w, c.slots);
  writeLocalized(w, 'Name', c.name);
  w.end();
}

/** The Classification of a coded value: nodeRepresentation, codingScheme slot, display name. */
export function writeCodeClassification(w: ElementSink, code: Code, scheme: string, id: string, classifiedObject: string): void {
  w.start(RIM, 'Classification');
  w.attr('id', id);
  w.attr('objectType', OBJECT_TYPE.Classification);
  w.attr('classificationScheme', scheme);
  w.attr('classifiedObject', classifiedObject);
  if (code.code !== undefined) w.attr('nodeRepresentation', code.code);
  if (code.scheme !== undefined) writeSingleSlot(w, 'codingScheme', code.scheme);
  writeLocalized(w, 'Name', code.displayName);
  w.end();
}

/** A Classification that only names a ClassificationNode (SubmissionSet, Folder). */
export function writeNodeClassification(w: ElementSink, node: string, id: string, classifiedObject: string): void {
  w.start(RIM, 'Classification');
  w.attr('id', id);
  w.attr('objectType', OBJECT_TYPE.Classification);
  w.attr('classificationNode', node);
  w.attr('classifiedObject', classifiedObject);
  w.end();
}

/**
 * An author Classification. ITI TF-3 4.2.3.1.4: it has an empty nodeRepresentation; the slots are
 * authorPerson, authorInstitution, authorRole, authorSpecialty, authorTelecommunication (those
 * with a value), then any others the submission carried.
 */
export function writeAuthorClassification(w: ElementSink, a: Author, scheme: string, id: string, classifiedObject: string): void {
  w.start(RIM, 'Classification');
  w.attr('id', id);
  w.attr('objectType', OBJECT_TYPE.Classification);
  w.attr('classificationScheme', scheme);
  w.attr('classifiedObject', classifiedObject);
  w.attr('nodeRepresentation', '');
  writeSingleSlot(w, SLOT.authorPerson, a.person);
  writeListSlot(w, SLOT.authorInstitution, a.institutions);
  writeListSlot(w, SLOT.authorRole, a.roles);
  writeListSlot(w, SLOT.authorSpecialty, a.specialties);
  writeListSlot(w, SLOT.authorTelecommunication, a.telecommunications);
  if (a.extraSlots !== undefined) writeSlots(w, a.extraSlots);
  w.end();
}

export function writeExternalIdentifier(w: ElementSink, x: RimExternalIdentifier, id: string, registryObject: string): void {
  w.start(RIM, 'ExternalIdentifier');
  w.attr('id', id);
  w.attr('objectType', OBJECT_TYPE.ExternalIdentifier);
  if (x.identificationScheme !== undefined) w.attr('identificationScheme', x.identificationScheme);
  w.attr('registryObject', registryObject);
  if (x.value !== undefined) w.attr('value', x.value);
  writeLocalized(w, 'Name', x.name);
  w.end();
}

export function statusUrn(status: AvailabilityStatus): string {
  return STATUS_URN_PREFIX + status;
}

/**
 * A stable `urn:uuid:` for a child element (Classification, ExternalIdentifier) that has no id of
 * its own: the same owner and position always give the same id, so responses are reproducible.
 * Name-based like RFC 4122 version 5 (SHA-1), in a namespace of our own.
 *
 * Every LeafClass answer derives ~12 of these per entry, so this is on the hot path: the one-shot
 * `crypto.hash` with hex output costs about a third of a `createHash` object, a Buffer and its hex
 * conversion, and gives the same digest, so the ids are the same as they always were. The version
 * and variant bits are set on the hex digits: digit 12 becomes 5, and digit 16 keeps its low two
 * bits with the high two set to 10 (8, 9, a or b).
 */
export function derivedId(ownerId: string, position: number): string {
  const x = hash('sha1', `koblingspunkt:${ownerId}#${position}`, 'hex');
  const variant = VARIANT_DIGIT[x.charCodeAt(16)]!;
  return `urn:uuid:${x.slice(0, 8)}-${x.slice(8, 12)}-5${x.slice(13, 16)}-${variant}${x.slice(17, 20)}-${x.slice(20, 32)}`;
}

/** Lower-case hex digit (by char code) → the same digit with its two high bits set to binary 10. */
const VARIANT_DIGIT: readonly string[] = (() => {
  const table: string[] = [];
  for (let v = 0; v < 16; v++) table[v.toString(16).charCodeAt(0)] = ((v & 0x3) | 0x8).toString(16);
  return table;
})();

export type { XmlNode };
