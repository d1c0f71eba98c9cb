/**
 * Metadata model → ebRIM 3.0 registry objects (LeafClass), the reverse of read-objects.ts.
 *
 * Child Classifications and ExternalIdentifiers get ids derived from their owner's entryUUID and
 * position unless the model kept an id of their own, so the same object always serialises the same.
 */
import type { Association, Author, Code, DocumentEntry, ExtraMetadata, Folder, RegistryObject, SubmissionSet } from '../model/metadata.js';
import { NS } from '../xml/namespaces.js';
import { deferredFragment, escapedAttribute, FragmentWriter, storedFragment, type XmlFragment } from '../xml/serialize.js';
import { forgetStoredForm, inflatedStoredForm, packedStoredForm, storedFormText } from '../store/stored-forms.js';
import { ElementTreeBuilder, type ElementSink, type XmlElement } from '../xml/tree.js';
import {
  ASSOCIATION_DOCUMENTATION_SCHEME,
  CLASSIFICATION_NODE,
  DOCUMENT_ENTRY_SCHEME,
  EXTERNAL_IDENTIFIER_NAME,
  FOLDER_SCHEME,
  OBJECT_TYPE,
  SLOT,
  SUBMISSION_SET_SCHEME,
} from './constants.js';
import {
  derivedId,
  statusUrn,
  writeAuthorClassification,
  writeClassification,
  writeCodeClassification,
  writeExternalIdentifier,
  writeListSlot,
  writeLocalized,
  writeNodeClassification,
  writeSingleSlot,
  writeSlots,
} from './rim.js';

/** A registry object's LeafClass element as a readable tree (requests, tests). */
export function registryObjectElement(o: RegistryObject): XmlElement {
  const tree = new ElementTreeBuilder();
  writeRegistryObject(tree, o);
  return tree.element();
}

/** Writes a registry object's LeafClass element to `w`: the one description of each object type. */
export function writeRegistryObject(w: ElementSink, o: RegistryObject): void {
  switch (o.type) {
    case 'DocumentEntry':
      return writeDocumentEntry(w, o);
    case 'SubmissionSet':
      return writeSubmissionSet(w, o);
    case 'Folder':
      return writeFolder(w, o);
    case 'Association':
      return writeAssociation(w, o);
  }
}

const RIM = NS.rim;

/**
 * Ids of an object's Classifications and ExternalIdentifiers. Each child takes the next position
 * whether or not it has an id of its own, so a derived id depends only on what comes before it in
 * one fixed order: the object's own classifications, its own external identifiers, the extra
 * classifications, the extra identifiers. ebRIM's schema wants every Classification before every
 * ExternalIdentifier, so the writers reserve the own identifiers' positions, write the extra
 * classifications after them, and come back for the identifiers.
 */
class ChildIds {
  private next = 0;
  constructor(readonly owner: string) {}

  take(own?: string): string {
    const id = own ?? derivedId(this.owner, this.next);
    this.next++;
    return id;
  }

  /** Skips `n` positions and returns the first of them. */
  reserve(n: number): number {
    const first = this.next;
    this.next += n;
    return first;
  }

  at(position: number): string {
    return derivedId(this.owner, position);
  }
}

function writeCode(w: ElementSink, ids: ChildIds, code: Code | undefined, scheme: string): void {
  if (code !== undefined) writeCodeClassification(w, code, scheme, ids.take(), ids.owner);
}

function writeCodes(w: ElementSink, ids: ChildIds, codes: readonly Code[] | undefined, scheme: string): void {
  if (codes !== undefined) for (let i = 0; i < codes.length; i++) writeCodeClassification(w, codes[i]!, scheme, ids.take(), ids.owner);
}

function writeAuthors(w: ElementSink, ids: ChildIds, authors: readonly Author[], scheme: string): void {
  for (let i = 0; i < authors.length; i++) writeAuthorClassification(w, authors[i]!, scheme, ids.take(), ids.owner);
}

/**
 * An object's own ExternalIdentifiers (scheme and value; absent values skipped), written after the
 * extra Classifications, at the positions reserved for them before those (see ChildIds).
 */
class OwnIdentifiers {
  private readonly schemes: string[] = [];
  private readonly values: string[] = [];

  add(scheme: string, value: string | undefined): this {
    if (value !== undefined) {
      this.schemes.push(scheme);
      this.values.push(value);
    }
    return this;
  }

  /** Writes the extra Classifications after reserving this object's identifiers, then the identifiers, then the extra ones. */
  writeWithExtra(w: ElementSink, ids: ChildIds, extra: ExtraMetadata): void {
    const first = ids.reserve(this.schemes.length);
    const classifications = extra.classifications;
    for (let i = 0; i < classifications.length; i++) {
      const c = classifications[i]!;
      writeClassification(w, c, ids.take(c.id), ids.owner);
    }
    for (let i = 0; i < this.schemes.length; i++) {
      const scheme = this.schemes[i]!;
      const name = EXTERNAL_IDENTIFIER_NAME[scheme];
      const value = this.values[i]!;
      writeExternalIdentifier(w, name === undefined ? { identificationScheme: scheme, value } : { identificationScheme: scheme, value, name: { value: name } }, ids.at(first + i), ids.owner);
    }
    const identifiers = extra.externalIdentifiers;
    for (let i = 0; i < identifiers.length; i++) {
      const x = identifiers[i]!;
      writeExternalIdentifier(w, x, ids.take(x.id), ids.owner);
    }
  }
}

/** id, lid, status, home of a DocumentEntry, SubmissionSet or Folder, in that order. */
function writeCommonAttributes(w: ElementSink, o: DocumentEntry | SubmissionSet | Folder): void {
  w.attr('id', o.entryUuid);
  if (o.logicalUuid !== undefined) w.attr('lid', o.logicalUuid);
  w.attr('status', statusUrn(o.availabilityStatus));
  if (o.homeCommunityId !== undefined) w.attr('home', o.homeCommunityId);
}

/** After the object's own slots: its extra slots, Name, Description, VersionInfo. */
function writeHeaderEnd(w: ElementSink, o: DocumentEntry | SubmissionSet | Folder): void {
  writeSlots(w, o.extra.slots);
  writeLocalized(w, 'Name', o.title);
  writeLocalized(w, 'Description', o.comments);
  if (o.version !== undefined) {
    w.start(RIM, 'VersionInfo');
    w.attr('versionName', o.version);
    w.end();
  }
}

function writeDocumentEntry(w: ElementSink, d: DocumentEntry): void {
  w.start(RIM, 'ExtrinsicObject');
  writeCommonAttributes(w, d);
  if (d.objectType !== undefined) w.attr('objectType', d.objectType);
  if (d.mimeType !== undefined) w.attr('mimeType', d.mimeType);
  writeSingleSlot(w, SLOT.creationTime, d.creationTime);
  writeSingleSlot(w, SLOT.hash, d.hash);
  writeSingleSlot(w, SLOT.languageCode, d.languageCode);
  writeSingleSlot(w, SLOT.legalAuthenticator, d.legalAuthenticator);
  writeSingleSlot(w, SLOT.repositoryUniqueId, d.repositoryUniqueId);
  writeSingleSlot(w, SLOT.serviceStartTime, d.serviceStartTime);
  writeSingleSlot(w, SLOT.serviceStopTime, d.serviceStopTime);
  writeSingleSlot(w, SLOT.size, d.size);
  writeSingleSlot(w, SLOT.sourcePatientId, d.sourcePatientId);
  writeListSlot(w, SLOT.sourcePatientInfo, d.sourcePatientInfo);
  writeSingleSlot(w, SLOT.uri, d.uri);
  writeListSlot(w, SLOT.referenceIdList, d.referenceIdList);
  writeSingleSlot(w, SLOT.documentAvailability, d.documentAvailability);
  writeHeaderEnd(w, d);
  const ids = new ChildIds(d.entryUuid);
  writeAuthors(w, ids, d.authors, DOCUMENT_ENTRY_SCHEME.author);
  writeCode(w, ids, d.classCode, DOCUMENT_ENTRY_SCHEME.classCode);
  writeCodes(w, ids, d.confidentialityCodes, DOCUMENT_ENTRY_SCHEME.confidentialityCode);
  writeCodes(w, ids, d.eventCodes, DOCUMENT_ENTRY_SCHEME.eventCodeList);
  writeCode(w, ids, d.formatCode, DOCUMENT_ENTRY_SCHEME.formatCode);
  writeCode(w, ids, d.healthcareFacilityTypeCode, DOCUMENT_ENTRY_SCHEME.healthcareFacilityTypeCode);
  writeCode(w, ids, d.practiceSettingCode, DOCUMENT_ENTRY_SCHEME.practiceSettingCode);
  writeCode(w, ids, d.typeCode, DOCUMENT_ENTRY_SCHEME.typeCode);
  new OwnIdentifiers()
    .add(DOCUMENT_ENTRY_SCHEME.patientId, d.patientId)
    .add(DOCUMENT_ENTRY_SCHEME.uniqueId, d.uniqueId)
    .writeWithExtra(w, ids, d.extra);
  w.end();
}

function writeSubmissionSet(w: ElementSink, s: SubmissionSet): void {
  w.start(RIM, 'RegistryPackage');
  writeCommonAttributes(w, s);
  w.attr('objectType', OBJECT_TYPE.RegistryPackage);
  writeSingleSlot(w, SLOT.submissionTime, s.submissionTime);
  writeListSlot(w, SLOT.intendedRecipient, s.intendedRecipients);
  writeHeaderEnd(w, s);
  const ids = new ChildIds(s.entryUuid);
  writeNodeClassification(w, CLASSIFICATION_NODE.SubmissionSet, ids.take(), ids.owner);
  if (s.limitedMetadata) writeNodeClassification(w, CLASSIFICATION_NODE.SubmissionSetLimitedMetadata, ids.take(), ids.owner);
  writeAuthors(w, ids, s.authors, SUBMISSION_SET_SCHEME.author);
  writeCode(w, ids, s.contentTypeCode, SUBMISSION_SET_SCHEME.contentTypeCode);
  new OwnIdentifiers()
    .add(SUBMISSION_SET_SCHEME.patientId, s.patientId)
    .add(SUBMISSION_SET_SCHEME.sourceId, s.sourceId)
    .add(SUBMISSION_SET_SCHEME.uniqueId, s.uniqueId)
    .writeWithExtra(w, ids, s.extra);
  w.end();
}

function writeFolder(w: ElementSink, f: Folder): void {
  w.start(RIM, 'RegistryPackage');
  writeCommonAttributes(w, f);
  w.attr('objectType', OBJECT_TYPE.RegistryPackage);
  writeSingleSlot(w, SLOT.lastUpdateTime, f.lastUpdateTime);
  writeHeaderEnd(w, f);
  const ids = new ChildIds(f.entryUuid);
  writeNodeClassification(w, CLASSIFICATION_NODE.Folder, ids.take(), ids.owner);
  writeCodes(w, ids, f.codeList, FOLDER_SCHEME.codeList);
  new OwnIdentifiers()
    .add(FOLDER_SCHEME.patientId, f.patientId)
    .add(FOLDER_SCHEME.uniqueId, f.uniqueId)
    .writeWithExtra(w, ids, f.extra);
  w.end();
}

function writeAssociation(w: ElementSink, a: Association): void {
  w.start(RIM, 'Association');
  w.attr('id', a.entryUuid);
  w.attr('objectType', OBJECT_TYPE.Association);
  w.attr('associationType', a.associationType);
  w.attr('sourceObject', a.sourceUuid);
  w.attr('targetObject', a.targetUuid);
  w.attr('status', statusUrn(a.availabilityStatus));
  if (a.homeCommunityId !== undefined) w.attr('home', a.homeCommunityId);
  writeSingleSlot(w, SLOT.submissionSetStatus, a.submissionSetStatus);
  writeSingleSlot(w, SLOT.previousVersion, a.previousVersion);
  writeSingleSlot(w, SLOT.associationPropagation, a.associationPropagation);
  writeSingleSlot(w, SLOT.originalStatus, a.originalStatus);
  writeSingleSlot(w, SLOT.newStatus, a.newStatus);
  writeSlots(w, a.extra.slots);
  const ids = new ChildIds(a.entryUuid);
  writeCodes(w, ids, a.documentation, ASSOCIATION_DOCUMENTATION_SCHEME);
  new OwnIdentifiers().writeWithExtra(w, ids, a.extra);
  w.end();
}

/** ObjectRef form of a registry object (returnType ObjectRef). */
export function objectRefElement(o: RegistryObject): XmlElement {
  return { ns: RIM, local: 'ObjectRef', attrs: o.homeCommunityId === undefined ? { id: o.entryUuid } : { id: o.entryUuid, home: o.homeCommunityId }, children: [] };
}

// ---------------------------------------------------------------- written once per object
//
// The store hands out the same frozen object for a record that has not changed, and the query
// stamps it with our homeCommunityId once (registry/query/run.ts), so an object's identity is a
// key for what it serialises to: a LeafClass answer is then mostly the concatenation of fragments
// written for earlier answers, the derived ids' SHA-1s included. A changed record is a new object
// and misses; a WeakMap lets the fragment go with its object.
//
// Only frozen objects are remembered: anything else could still change after it was written (the
// store freezes deeply; policy masking makes fresh, unfrozen stubs, which are simply written anew).
// ObjectRefs are not remembered: one short element costs less to write than to remember.

const leafFragments = new WeakMap<RegistryObject, XmlElement>();

/**
 * The LeafClass element of an object for an answer, written straight to a fragment's text (no
 * element tree: on a cold answer every entry is written), the same fragment every time for a
 * frozen object. Byte for byte what `registryObjectElement` serialises to in the same place.
 */
export function registryObjectNode(o: RegistryObject): XmlElement {
  const hit = leafFragments.get(o);
  if (hit !== undefined) return hit;
  if (!Object.isFrozen(o)) {
    // Read for this answer only (a cold miss): inflated into the answer itself when it is written.
    const packed = packedStoredForm(o);
    if (packed !== undefined) return deferredLeaf(o, packed);
  }
  const form = storedFormText(o);
  const node = (form !== undefined ? leafFromForm(o, form) : undefined) ?? writtenFragment(o);
  if (Object.isFrozen(o)) {
    leafFragments.set(o, node);
    forgetStoredForm(o);
  }
  return node;
}

function writtenFragment(o: RegistryObject): XmlElement {
  const writer = new FragmentWriter();
  writeRegistryObject(writer, o);
  // ebRIM objects use only rim and xml, which have preferred prefixes, so this is never undefined.
  return writer.finish() ?? registryObjectElement(o);
}

// ---------------------------------------------------------------- stored LeafClass forms
//
// The embedded store keeps each DocumentEntry's LeafClass element as this writer writes it (schema
// v7: packed with the entry's record), made when the entry is committed, so that a cold FindDocuments answer
// inflates it instead of writing the element from the parsed record (issue 19's design: an object
// is immutable once registered but for its status, and a status change writes the row, and with it
// the form, anew). What varies between answers is left out and put back when the form is used:
// the `home` attribute (the query stamps our homeCommunityId on what it returns,
// registry/query/run.ts), which goes right after `status` (`writeCommonAttributes`). Nothing else
// in the element depends on the answer it lands in.

const FORM_NAMESPACES: readonly string[] = Object.freeze([NS.rim]);
const STATUS_ATTRIBUTE = Buffer.from(' status="', 'latin1');
const QUOTE = 0x22;

/**
 * The UTF-8 text to keep for an object as committed, or undefined for one that has no stored form:
 * only DocumentEntries (what cold answers are made of), and only those without a homeCommunityId
 * of their own (a registry's objects get ours when they are answered; one that came with another
 * is written from its fields). Bytes, not a string: a commit holds its batch's forms until its
 * writer has them, and a string built by appending is a tree of hundreds of pieces until it is
 * flattened, which the garbage collector copies one by one (kept for a batch of the generator,
 * ~180 µs per form against ~45 µs as bytes).
 */
export function leafForm(object: RegistryObject): Buffer | undefined {
  if (object.type !== 'DocumentEntry' || object.homeCommunityId !== undefined) return undefined;
  const written = writtenText(object);
  // ebRIM elements use only the rim namespace (and xml:lang, never declared): anything else is
  // written from the fields, not kept.
  if (written === undefined || written.namespaces.length !== 1 || written.namespaces[0] !== NS.rim) return undefined;
  return Buffer.from(written.text, 'utf8');
}

/**
 * The LeafClass element of `object` from its stored form's text (`leafForm` of the object as
 * committed): with the object's homeCommunityId, if the query stamped one, put back after
 * `status`. Byte for byte what `registryObjectNode` writes from the fields; undefined for a form
 * without a status attribute (not one this writer wrote: the caller writes from the fields).
 */
export function leafFromForm(object: RegistryObject, form: Buffer): XmlFragment | undefined {
  const parts = formParts(object, form);
  return parts === undefined ? undefined : storedFragment(NS.rim, 'ExtrinsicObject', parts, FORM_NAMESPACES);
}

/** The element's bytes from its form, in parts: the form with the object's `home` put back after `status`. */
function formParts(object: RegistryObject, form: Buffer): Buffer[] | undefined {
  if (object.homeCommunityId === undefined) return [form];
  const status = form.indexOf(STATUS_ATTRIBUTE);
  // Attribute values are escaped, so the first ` status="` is the root's own, and its value ends
  // at the next quote.
  const end = status < 0 ? -1 : form.indexOf(QUOTE, status + STATUS_ATTRIBUTE.length);
  if (end < 0) return undefined;
  return [form.subarray(0, end + 1), homeAttribute(object.homeCommunityId), form.subarray(end + 1)];
}

/**
 * The element of an object read for one answer, from its packed form, inflated when the answer is
 * written: the same bytes `leafFromForm` gives, put straight into the answer's memory. A form that
 * does not inflate, or lacks its status, is written from the object's fields instead, as an object
 * without a form is.
 */
function deferredLeaf(object: RegistryObject, packed: Uint8Array): XmlFragment {
  return deferredFragment(
    NS.rim,
    'ExtrinsicObject',
    (place) => {
      const form = inflatedStoredForm(packed);
      // Copied by `place` before anything can inflate into the same scratch again.
      const parts = form === undefined ? undefined : formParts(object, form);
      if (parts !== undefined) return place(parts);
      const written = writtenText(object);
      // ebRIM objects use only rim and xml, which have preferred prefixes (see writtenFragment).
      if (written === undefined) throw new Error(`the ${object.type} ${object.entryUuid} could not be written as a fragment`);
      return place([Buffer.from(written.text, 'utf8')]);
    },
    FORM_NAMESPACES,
  );
}

/** The object's element as this writer writes it from its fields, as text (see `FragmentWriter.finishText`). */
function writtenText(object: RegistryObject): ReturnType<FragmentWriter['finishText']> {
  const writer = new FragmentWriter();
  writeRegistryObject(writer, object);
  return writer.finishText();
}

/** ` home="…"` as bytes: the same for every entry of an answer (and of every answer of this node). */
let lastHome: { readonly id: string; readonly bytes: Buffer } | undefined;

function homeAttribute(homeCommunityId: string): Buffer {
  if (lastHome?.id !== homeCommunityId) lastHome = { id: homeCommunityId, bytes: Buffer.from(escapedAttribute('home', homeCommunityId), 'utf8') };
  return lastHome.bytes;
}
