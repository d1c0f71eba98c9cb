/**
 * Metadata model → ebRIM 3.0 registry objects (LeafClass), the reverse of read-objects.ts.
 *
 * Child Classifications and ExternalIdentifiers get ids derived from their owner's entryUUID and
 * position unless the model kept an id of their own, so the same object always serialises the same.
 */
import type { Association, Author, Code, DocumentEntry, ExtraMetadata, Folder, RegistryObject, SubmissionSet } from '../model/metadata.js';
import { NS } from '../xml/namespaces.js';
import { serializeFragment } from '../xml/serialize.js';
import type { XmlElement, XmlNode } from '../xml/tree.js';
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
  authorClassificationElement,
  classificationElement,
  codeClassificationElement,
  derivedId,
  externalIdentifierElement,
  nodeClassificationElement,
  pushListSlot,
  pushLocalized,
  pushSingleSlot,
  pushSlots,
  statusUrn,
} from './rim.js';

export function registryObjectElement(o: RegistryObject): XmlElement {
  switch (o.type) {
    case 'DocumentEntry':
      return documentEntryElement(o);
    case 'SubmissionSet':
      return submissionSetElement(o);
    case 'Folder':
      return folderElement(o);
    case 'Association':
      return associationElement(o);
  }
}

const RIM = NS.rim;

/**
 * Collects an object's Classifications and ExternalIdentifiers and numbers them for derived ids.
 * Every child takes the next position whether or not it has an id of its own, so a derived id
 * depends only on what comes before it in this fixed order.
 */
class Children {
  private position = 0;
  readonly classifications: XmlElement[] = [];
  readonly identifiers: XmlElement[] = [];
  constructor(private readonly owner: string) {}

  private nextId(own: string | undefined): string {
    const id = own ?? derivedId(this.owner, this.position);
    this.position++;
    return id;
  }

  code(code: Code | undefined, scheme: string): void {
    if (code !== undefined) this.classifications.push(codeClassificationElement(code, scheme, this.nextId(undefined), this.owner));
  }

  codes(codes: readonly Code[] | undefined, scheme: string): void {
    if (codes !== undefined) for (let i = 0; i < codes.length; i++) this.code(codes[i], scheme);
  }

  node(node: string): void {
    this.classifications.push(nodeClassificationElement(node, this.nextId(undefined), this.owner));
  }

  authors(authors: readonly Author[], scheme: string): void {
    for (let i = 0; i < authors.length; i++) this.classifications.push(authorClassificationElement(authors[i]!, scheme, this.nextId(undefined), this.owner));
  }

  identifier(scheme: string, value: string | undefined): void {
    if (value === undefined) return;
    const name = EXTERNAL_IDENTIFIER_NAME[scheme];
    const id = this.nextId(undefined);
    this.identifiers.push(externalIdentifierElement(name === undefined ? { identificationScheme: scheme, value } : { identificationScheme: scheme, value, name: { value: name } }, id, this.owner));
  }

  extra(extra: ExtraMetadata): void {
    for (const c of extra.classifications) this.classifications.push(classificationElement(c, this.nextId(c.id), this.owner));
    for (const x of extra.externalIdentifiers) this.identifiers.push(externalIdentifierElement(x, this.nextId(x.id), this.owner));
  }

  /** Appends the Classifications, then the ExternalIdentifiers (the order ebRIM's schema requires). */
  appendTo(out: XmlNode[]): void {
    for (let i = 0; i < this.classifications.length; i++) out.push(this.classifications[i]!);
    for (let i = 0; i < this.identifiers.length; i++) out.push(this.identifiers[i]!);
  }
}

/** id, lid, status, home of a DocumentEntry, SubmissionSet or Folder, in that order. */
function commonAttributes(o: DocumentEntry | SubmissionSet | Folder): Record<string, string> {
  const attrs: Record<string, string> = { id: o.entryUuid };
  if (o.logicalUuid !== undefined) attrs['lid'] = o.logicalUuid;
  attrs['status'] = statusUrn(o.availabilityStatus);
  if (o.homeCommunityId !== undefined) attrs['home'] = o.homeCommunityId;
  return attrs;
}

/** After the object's own slots (already in `out`): its extra slots, Name, Description, VersionInfo. */
function finishHeader(out: XmlNode[], o: DocumentEntry | SubmissionSet | Folder): void {
  pushSlots(out, o.extra.slots);
  pushLocalized(out, 'Name', o.title);
  pushLocalized(out, 'Description', o.comments);
  if (o.version !== undefined) out.push({ ns: RIM, local: 'VersionInfo', attrs: { versionName: o.version }, children: [] });
}

function documentEntryElement(d: DocumentEntry): XmlElement {
  const kids = new Children(d.entryUuid);
  kids.authors(d.authors, DOCUMENT_ENTRY_SCHEME.author);
  kids.code(d.classCode, DOCUMENT_ENTRY_SCHEME.classCode);
  kids.codes(d.confidentialityCodes, DOCUMENT_ENTRY_SCHEME.confidentialityCode);
  kids.codes(d.eventCodes, DOCUMENT_ENTRY_SCHEME.eventCodeList);
  kids.code(d.formatCode, DOCUMENT_ENTRY_SCHEME.formatCode);
  kids.code(d.healthcareFacilityTypeCode, DOCUMENT_ENTRY_SCHEME.healthcareFacilityTypeCode);
  kids.code(d.practiceSettingCode, DOCUMENT_ENTRY_SCHEME.practiceSettingCode);
  kids.code(d.typeCode, DOCUMENT_ENTRY_SCHEME.typeCode);
  kids.identifier(DOCUMENT_ENTRY_SCHEME.patientId, d.patientId);
  kids.identifier(DOCUMENT_ENTRY_SCHEME.uniqueId, d.uniqueId);
  kids.extra(d.extra);
  const children: XmlNode[] = [];
  pushSingleSlot(children, SLOT.creationTime, d.creationTime);
  pushSingleSlot(children, SLOT.hash, d.hash);
  pushSingleSlot(children, SLOT.languageCode, d.languageCode);
  pushSingleSlot(children, SLOT.legalAuthenticator, d.legalAuthenticator);
  pushSingleSlot(children, SLOT.repositoryUniqueId, d.repositoryUniqueId);
  pushSingleSlot(children, SLOT.serviceStartTime, d.serviceStartTime);
  pushSingleSlot(children, SLOT.serviceStopTime, d.serviceStopTime);
  pushSingleSlot(children, SLOT.size, d.size);
  pushSingleSlot(children, SLOT.sourcePatientId, d.sourcePatientId);
  pushListSlot(children, SLOT.sourcePatientInfo, d.sourcePatientInfo);
  pushSingleSlot(children, SLOT.uri, d.uri);
  pushListSlot(children, SLOT.referenceIdList, d.referenceIdList);
  pushSingleSlot(children, SLOT.documentAvailability, d.documentAvailability);
  finishHeader(children, d);
  kids.appendTo(children);
  const attrs = commonAttributes(d);
  if (d.objectType !== undefined) attrs['objectType'] = d.objectType;
  if (d.mimeType !== undefined) attrs['mimeType'] = d.mimeType;
  return { ns: RIM, local: 'ExtrinsicObject', attrs, children };
}

function submissionSetElement(s: SubmissionSet): XmlElement {
  const kids = new Children(s.entryUuid);
  kids.node(CLASSIFICATION_NODE.SubmissionSet);
  if (s.limitedMetadata) kids.node(CLASSIFICATION_NODE.SubmissionSetLimitedMetadata);
  kids.authors(s.authors, SUBMISSION_SET_SCHEME.author);
  kids.code(s.contentTypeCode, SUBMISSION_SET_SCHEME.contentTypeCode);
  kids.identifier(SUBMISSION_SET_SCHEME.patientId, s.patientId);
  kids.identifier(SUBMISSION_SET_SCHEME.sourceId, s.sourceId);
  kids.identifier(SUBMISSION_SET_SCHEME.uniqueId, s.uniqueId);
  kids.extra(s.extra);
  const children: XmlNode[] = [];
  pushSingleSlot(children, SLOT.submissionTime, s.submissionTime);
  pushListSlot(children, SLOT.intendedRecipient, s.intendedRecipients);
  finishHeader(children, s);
  kids.appendTo(children);
  const attrs = commonAttributes(s);
  attrs['objectType'] = OBJECT_TYPE.RegistryPackage;
  return { ns: RIM, local: 'RegistryPackage', attrs, children };
}

function folderElement(f: Folder): XmlElement {
  const kids = new Children(f.entryUuid);
  kids.node(CLASSIFICATION_NODE.Folder);
  kids.codes(f.codeList, FOLDER_SCHEME.codeList);
  kids.identifier(FOLDER_SCHEME.patientId, f.patientId);
  kids.identifier(FOLDER_SCHEME.uniqueId, f.uniqueId);
  kids.extra(f.extra);
  const children: XmlNode[] = [];
  pushSingleSlot(children, SLOT.lastUpdateTime, f.lastUpdateTime);
  finishHeader(children, f);
  kids.appendTo(children);
  const attrs = commonAttributes(f);
  attrs['objectType'] = OBJECT_TYPE.RegistryPackage;
  return { ns: RIM, local: 'RegistryPackage', attrs, children };
}

function associationElement(a: Association): XmlElement {
  const kids = new Children(a.entryUuid);
  kids.codes(a.documentation, ASSOCIATION_DOCUMENTATION_SCHEME);
  kids.extra(a.extra);
  const children: XmlNode[] = [];
  pushSingleSlot(children, SLOT.submissionSetStatus, a.submissionSetStatus);
  pushSingleSlot(children, SLOT.previousVersion, a.previousVersion);
  pushSingleSlot(children, SLOT.associationPropagation, a.associationPropagation);
  pushSingleSlot(children, SLOT.originalStatus, a.originalStatus);
  pushSingleSlot(children, SLOT.newStatus, a.newStatus);
  pushSlots(children, a.extra.slots);
  kids.appendTo(children);
  const attrs: Record<string, string> = {
    id: a.entryUuid,
    objectType: OBJECT_TYPE.Association,
    associationType: a.associationType,
    sourceObject: a.sourceUuid,
    targetObject: a.targetUuid,
    status: statusUrn(a.availabilityStatus),
  };
  if (a.homeCommunityId !== undefined) attrs['home'] = a.homeCommunityId;
  return { ns: RIM, local: 'Association', attrs, children };
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
 * The LeafClass element of an object for an answer: a pre-serialised fragment, the same one every
 * time, for a frozen object; the element itself otherwise. Byte for byte what `registryObjectElement`
 * serialises to in the same place.
 */
export function registryObjectNode(o: RegistryObject): XmlElement {
  const hit = leafFragments.get(o);
  if (hit !== undefined) return hit;
  const element = registryObjectElement(o);
  if (!Object.isFrozen(o)) return element;
  // A fragment needs every namespace to have a preferred prefix; ebRIM objects always do (rim, xml).
  const node = serializeFragment(element) ?? element;
  leafFragments.set(o, node);
  return node;
}
