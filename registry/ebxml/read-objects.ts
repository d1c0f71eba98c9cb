/**
 * ebRIM 3.0 RegistryObjectList → metadata model (ITI TF-3 4.2.3 / 4.2.5).
 *
 * Used for submissions (ITI-41/42) and for query responses read by our clients (ITI-18/38). Every
 * attribute XDS defines goes to its model field; everything else goes to `extra`. What the model
 * cannot hold (a single-valued attribute twice, an object that is neither DocumentEntry,
 * SubmissionSet, Folder nor Association) fails with XDSRegistryMetadataError.
 */
import {
  DOCUMENT_ENTRY_TYPE,
  type Association,
  type Author,
  type Code,
  type DocumentEntry,
  type ExtraClassification,
  type ExtraExternalIdentifier,
  type ExtraMetadata,
  type Folder,
  type LocalizedText,
  type RegistryObject,
  type Slot,
  type SubmissionSet,
} from '../model/metadata.js';
import { NS } from '../xml/namespaces.js';
import { childElements, type XmlElement } from '../xml/tree.js';
import {
  ASSOCIATION_DOCUMENTATION_SCHEME,
  CLASSIFICATION_NODE,
  DOCUMENT_ENTRY_SCHEME,
  FOLDER_SCHEME,
  SLOT,
  SUBMISSION_SET_SCHEME,
} from './constants.js';
import {
  metadataError,
  readClassification,
  readExternalIdentifier,
  readHome,
  readLocalizedElement,
  readSlotElements,
  readStatus,
  rimChildren,
  withoutUndefined,
  type RimClassification,
  type RimExternalIdentifier,
} from './rim.js';

export interface RegistryObjectListContent {
  /** Objects in document order. */
  readonly objects: RegistryObject[];
  readonly objectRefs: { id: string; home?: string }[];
}

/** Reads a rim:RegistryObjectList (or any element holding registry objects as children). */
export function readRegistryObjectList(list: XmlElement): RegistryObjectListContent {
  // Classifications and external identifiers may stand beside their object instead of inside it.
  const attachedClassifications = new Map<string, RimClassification[]>();
  const attachedIdentifiers = new Map<string, RimExternalIdentifier[]>();
  const ids = new Set<string>();
  for (const child of childElements(list)) {
    const holdsParts = child.local === 'ExtrinsicObject' || child.local === 'RegistryPackage' || child.local === 'Association';
    if (child.ns === NS.rim && holdsParts && child.attrs['id'] !== undefined) ids.add(child.attrs['id']);
  }
  for (const child of childElements(list, NS.rim)) {
    if (child.local === 'Classification') {
      const c = readClassification(child);
      const target = c.classifiedObject;
      if (target === undefined || !ids.has(target) || target === c.id) {
        throw metadataError(`Classification ${c.id ?? ''} classifies ${target ?? 'nothing'}, which is not in the request`, c.id ?? target);
      }
      push(attachedClassifications, target, c);
    } else if (child.local === 'ExternalIdentifier') {
      const x = readExternalIdentifier(child);
      const target = x.registryObject;
      if (target === undefined || !ids.has(target)) {
        throw metadataError(`ExternalIdentifier ${x.id ?? ''} identifies ${target ?? 'nothing'}, which is not in the request`, x.id ?? target);
      }
      push(attachedIdentifiers, target, x);
    }
  }

  const objects: RegistryObject[] = [];
  const objectRefs: { id: string; home?: string }[] = [];
  for (const child of childElements(list)) {
    const id = child.attrs['id'];
    if (child.ns !== NS.rim) throw metadataError(`unexpected element {${child.ns}}${child.local} in RegistryObjectList`, id);
    switch (child.local) {
      case 'ExtrinsicObject':
        objects.push(readDocumentEntry(child, attachedParts(child, id, attachedClassifications, attachedIdentifiers)));
        break;
      case 'RegistryPackage':
        objects.push(readPackage(child, attachedParts(child, id, attachedClassifications, attachedIdentifiers)));
        break;
      case 'Association':
        objects.push(readAssociation(child, attachedParts(child, id, attachedClassifications, attachedIdentifiers)));
        break;
      case 'ObjectRef':
        if (id === undefined) throw metadataError('ObjectRef without id');
        {
          const home = readHome(child);
          objectRefs.push(home === undefined ? { id } : { id, home });
        }
        break;
      case 'Classification':
      case 'ExternalIdentifier':
        break;
      default:
        throw metadataError(`registry object type ${child.local} is not part of XDS metadata`, id);
    }
  }
  return { objects, objectRefs };
}

/** The parts of the registry object `e` (id `id`), with the Classifications and ExternalIdentifiers the list attaches to it. */
function attachedParts(
  e: XmlElement,
  id: string | undefined,
  classifications: ReadonlyMap<string, RimClassification[]>,
  identifiers: ReadonlyMap<string, RimExternalIdentifier[]>,
): Parts {
  return readParts(e, classifications.get(id ?? '') ?? [], identifiers.get(id ?? '') ?? []);
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** What every registry object carries, before XDS meaning is applied. */
interface Parts {
  readonly id: string;
  readonly slots: SlotTaker;
  readonly classifications: ClassificationTaker;
  readonly identifiers: IdentifierTaker;
  readonly name?: LocalizedText;
  readonly description?: LocalizedText;
  readonly version?: string;
  readonly lid?: string;
  readonly home?: string;
}

function readParts(e: XmlElement, attachedC: RimClassification[], attachedX: RimExternalIdentifier[]): Parts {
  const id = e.attrs['id'];
  if (id === undefined || id === '') throw metadataError(`${e.local} without id`);
  const children = rimChildren(e);
  const nested = children.classifications.map(readClassification);
  const nestedX = children.externalIdentifiers.map(readExternalIdentifier);
  return withoutUndefined({
    id,
    slots: new SlotTaker(readSlotElements(children.slots), id),
    classifications: new ClassificationTaker([...nested, ...attachedC], id),
    identifiers: new IdentifierTaker([...nestedX, ...attachedX], id),
    name: readLocalizedElement(children.name),
    description: readLocalizedElement(children.description),
    version: children.versionInfo?.attrs['versionName'],
    lid: e.attrs['lid'],
    home: readHome(e),
  });
}

/** Hands out the slots XDS defines; what is left over becomes extra metadata. */
class SlotTaker {
  private readonly left: Slot[];
  constructor(
    slots: readonly Slot[],
    private readonly owner: string,
  ) {
    this.left = [...slots];
  }

  private take(name: string): Slot | undefined {
    const i = this.left.findIndex((s) => s.name === name);
    if (i === -1) return undefined;
    const [slot] = this.left.splice(i, 1);
    if (this.left.some((s) => s.name === name)) throw metadataError(`slot ${name} appears more than once`, this.owner);
    return slot;
  }

  single(name: string): string | undefined {
    const slot = this.take(name);
    if (slot === undefined || slot.values.length === 0) return undefined;
    if (slot.values.length > 1) throw metadataError(`slot ${name} is single-valued but has ${slot.values.length} values`, this.owner);
    return slot.values[0];
  }

  multi(name: string): string[] {
    return [...(this.take(name)?.values ?? [])];
  }

  /** The URI slot: one value, or the XDS.a form split over values prefixed `1|`, `2|`, … */
  uri(): string | undefined {
    const slot = this.take(SLOT.uri);
    if (slot === undefined || slot.values.length === 0) return undefined;
    if (slot.values.length === 1) return slot.values[0];
    const parts = slot.values.map((v) => /^(\d+)\|(.*)$/s.exec(v));
    if (parts.some((p) => p === null)) throw metadataError('slot URI has several values that are not numbered parts', this.owner);
    return parts
      .map((p) => ({ n: Number(p![1]), s: p![2]! }))
      .sort((a, b) => a.n - b.n)
      .map((p) => p.s)
      .join('');
  }

  rest(): Slot[] {
    return this.left;
  }
}

class ClassificationTaker {
  private readonly left: RimClassification[];
  constructor(
    list: readonly RimClassification[],
    private readonly owner: string,
  ) {
    this.left = [...list];
  }

  private takeAll(pred: (c: RimClassification) => boolean): RimClassification[] {
    const out: RimClassification[] = [];
    for (let i = 0; i < this.left.length; ) {
      if (pred(this.left[i]!)) out.push(...this.left.splice(i, 1));
      else i++;
    }
    return out;
  }

  node(node: string): boolean {
    return this.takeAll((c) => c.classificationNode === node && c.classificationScheme === undefined).length > 0;
  }

  hasNode(node: string): boolean {
    return this.left.some((c) => c.classificationNode === node);
  }

  codes(scheme: string): Code[] {
    return this.takeAll((c) => c.classificationScheme === scheme).map((c) => this.toCode(c, scheme));
  }

  code(scheme: string, attribute: string): Code | undefined {
    const codes = this.codes(scheme);
    if (codes.length > 1) throw metadataError(`${attribute} appears ${codes.length} times; it is single-valued`, this.owner);
    return codes[0];
  }

  authors(scheme: string): Author[] {
    return this.takeAll((c) => c.classificationScheme === scheme).map((c) => {
      const slots = new SlotTaker(c.slots, this.owner);
      const person = slots.multi(SLOT.authorPerson);
      if (person.length > 1) throw metadataError('authorPerson has more than one value', this.owner);
      const author = {
        person: person[0],
        institutions: slots.multi(SLOT.authorInstitution),
        roles: slots.multi(SLOT.authorRole),
        specialties: slots.multi(SLOT.authorSpecialty),
        telecommunications: slots.multi(SLOT.authorTelecommunication),
      };
      const rest = slots.rest();
      return withoutUndefined(rest.length > 0 ? { ...author, extraSlots: rest } : author);
    });
  }

  private toCode(c: RimClassification, scheme: string): Code {
    const slots = new SlotTaker(c.slots, this.owner);
    const codingScheme = slots.multi(SLOT.codingScheme);
    if (codingScheme.length > 1) throw metadataError(`codingScheme of a ${scheme} classification has more than one value`, this.owner);
    return withoutUndefined({ code: c.nodeRepresentation ?? '', scheme: codingScheme[0], displayName: c.name });
  }

  rest(): ExtraClassification[] {
    return this.left.map((c) =>
      withoutUndefined({
        id: c.id,
        classificationScheme: c.classificationScheme,
        classificationNode: c.classificationNode,
        nodeRepresentation: c.nodeRepresentation,
        name: c.name,
        slots: c.slots,
      }),
    );
  }
}

class IdentifierTaker {
  private readonly left: RimExternalIdentifier[];
  constructor(
    list: readonly RimExternalIdentifier[],
    private readonly owner: string,
  ) {
    this.left = [...list];
  }

  single(scheme: string, attribute: string): string | undefined {
    const found = this.left.filter((x) => x.identificationScheme === scheme);
    if (found.length > 1) throw metadataError(`${attribute} appears ${found.length} times; it is single-valued`, this.owner);
    if (found.length === 0) return undefined;
    this.left.splice(this.left.indexOf(found[0]!), 1);
    return found[0]!.value;
  }

  rest(): ExtraExternalIdentifier[] {
    return this.left.map((x) => withoutUndefined({ id: x.id, identificationScheme: x.identificationScheme, value: x.value, name: x.name }));
  }
}

function extraOf(p: Parts): ExtraMetadata {
  return { slots: p.slots.rest(), classifications: p.classifications.rest(), externalIdentifiers: p.identifiers.rest() };
}

function base(e: XmlElement, p: Parts) {
  return {
    entryUuid: p.id,
    logicalUuid: p.lid,
    version: p.version,
    availabilityStatus: readStatus(e.attrs['status'], p.id),
    homeCommunityId: p.home,
    title: p.name,
    comments: p.description,
  };
}

const DOCUMENT_ENTRY_TYPES: readonly string[] = Object.values(DOCUMENT_ENTRY_TYPE);

/** A DocumentEntry while its defined members are added. */
type DocumentEntryBuilding = { -readonly [K in keyof DocumentEntry]?: DocumentEntry[K] };

/**
 * Read member by member, each defined one added by name (`entry.x = v`): the members of
 * `completed`'s literal and copy, in the same order, read in the same order (a reader that throws
 * throws at the same point), without undefined ones. A DocumentEntry has ~30 members, and copied
 * by keyed stores (`out[k] = v`, withoutUndefined) past V8's 16 it became a slow dictionary-mode
 * object, which every later read (the rules, the overlay's indexes, the audit event) and its stored
 * record's JSON text then paid for; added by name it keeps fast properties.
 */
function readDocumentEntry(e: XmlElement, p: Parts): DocumentEntry {
  const objectType = e.attrs['objectType'];
  if (objectType === undefined || !DOCUMENT_ENTRY_TYPES.includes(objectType)) {
    throw metadataError(`ExtrinsicObject objectType ${objectType ?? '(none)'} is neither a stable nor an on-demand DocumentEntry`, p.id);
  }
  const s = p.slots;
  const c = p.classifications;
  const x = p.identifiers;
  const entry: DocumentEntryBuilding = { type: 'DocumentEntry' };
  let v;
  // base(e, p), member by member
  if ((v = p.id) !== undefined) entry.entryUuid = v;
  if ((v = p.lid) !== undefined) entry.logicalUuid = v;
  if ((v = p.version) !== undefined) entry.version = v;
  entry.availabilityStatus = readStatus(e.attrs['status'], p.id);
  if ((v = p.home) !== undefined) entry.homeCommunityId = v;
  if ((v = p.name) !== undefined) entry.title = v;
  if ((v = p.description) !== undefined) entry.comments = v;
  entry.objectType = objectType;
  if ((v = e.attrs['mimeType']) !== undefined) entry.mimeType = v;
  if ((v = x.single(DOCUMENT_ENTRY_SCHEME.uniqueId, 'XDSDocumentEntry.uniqueId')) !== undefined) entry.uniqueId = v;
  if ((v = x.single(DOCUMENT_ENTRY_SCHEME.patientId, 'XDSDocumentEntry.patientId')) !== undefined) entry.patientId = v;
  entry.authors = c.authors(DOCUMENT_ENTRY_SCHEME.author);
  let code;
  if ((code = c.code(DOCUMENT_ENTRY_SCHEME.classCode, 'classCode')) !== undefined) entry.classCode = code;
  if ((code = c.code(DOCUMENT_ENTRY_SCHEME.typeCode, 'typeCode')) !== undefined) entry.typeCode = code;
  if ((code = c.code(DOCUMENT_ENTRY_SCHEME.formatCode, 'formatCode')) !== undefined) entry.formatCode = code;
  if ((code = c.code(DOCUMENT_ENTRY_SCHEME.healthcareFacilityTypeCode, 'healthcareFacilityTypeCode')) !== undefined) entry.healthcareFacilityTypeCode = code;
  if ((code = c.code(DOCUMENT_ENTRY_SCHEME.practiceSettingCode, 'practiceSettingCode')) !== undefined) entry.practiceSettingCode = code;
  entry.confidentialityCodes = c.codes(DOCUMENT_ENTRY_SCHEME.confidentialityCode);
  entry.eventCodes = c.codes(DOCUMENT_ENTRY_SCHEME.eventCodeList);
  if ((v = s.single(SLOT.creationTime)) !== undefined) entry.creationTime = v;
  if ((v = s.single(SLOT.serviceStartTime)) !== undefined) entry.serviceStartTime = v;
  if ((v = s.single(SLOT.serviceStopTime)) !== undefined) entry.serviceStopTime = v;
  if ((v = s.single(SLOT.hash)) !== undefined) entry.hash = v;
  if ((v = s.single(SLOT.size)) !== undefined) entry.size = v;
  if ((v = s.single(SLOT.languageCode)) !== undefined) entry.languageCode = v;
  if ((v = s.single(SLOT.repositoryUniqueId)) !== undefined) entry.repositoryUniqueId = v;
  if ((v = s.uri()) !== undefined) entry.uri = v;
  if ((v = s.single(SLOT.sourcePatientId)) !== undefined) entry.sourcePatientId = v;
  entry.sourcePatientInfo = s.multi(SLOT.sourcePatientInfo);
  if ((v = s.single(SLOT.legalAuthenticator)) !== undefined) entry.legalAuthenticator = v;
  entry.referenceIdList = s.multi(SLOT.referenceIdList);
  if ((v = s.single(SLOT.documentAvailability) ?? s.single(SLOT.documentAvailabilityLegacy)) !== undefined) entry.documentAvailability = v;
  entry.extra = extraOf(p);
  return entry as DocumentEntry;
}

function readPackage(e: XmlElement, p: Parts): SubmissionSet | Folder {
  const isSubmissionSet = p.classifications.hasNode(CLASSIFICATION_NODE.SubmissionSet);
  const isFolder = p.classifications.hasNode(CLASSIFICATION_NODE.Folder);
  if (isSubmissionSet && isFolder) throw metadataError('RegistryPackage is classified both as SubmissionSet and as Folder', p.id);
  if (!isSubmissionSet && !isFolder) throw metadataError('RegistryPackage is classified neither as SubmissionSet nor as Folder', p.id);
  const c = p.classifications;
  const x = p.identifiers;
  const s = p.slots;
  if (isSubmissionSet) {
    c.node(CLASSIFICATION_NODE.SubmissionSet);
    const set: SubmissionSet = {
      type: 'SubmissionSet',
      ...base(e, p),
      uniqueId: x.single(SUBMISSION_SET_SCHEME.uniqueId, 'XDSSubmissionSet.uniqueId'),
      patientId: x.single(SUBMISSION_SET_SCHEME.patientId, 'XDSSubmissionSet.patientId'),
      sourceId: x.single(SUBMISSION_SET_SCHEME.sourceId, 'XDSSubmissionSet.sourceId'),
      submissionTime: s.single(SLOT.submissionTime),
      intendedRecipients: s.multi(SLOT.intendedRecipient),
      authors: c.authors(SUBMISSION_SET_SCHEME.author),
      contentTypeCode: c.code(SUBMISSION_SET_SCHEME.contentTypeCode, 'contentTypeCode'),
      limitedMetadata: c.node(CLASSIFICATION_NODE.SubmissionSetLimitedMetadata) || undefined,
      extra: NO_EXTRA_PLACEHOLDER,
    };
    return completed(set, p);
  }
  c.node(CLASSIFICATION_NODE.Folder);
  const folder: Folder = {
    type: 'Folder',
    ...base(e, p),
    uniqueId: x.single(FOLDER_SCHEME.uniqueId, 'XDSFolder.uniqueId'),
    patientId: x.single(FOLDER_SCHEME.patientId, 'XDSFolder.patientId'),
    codeList: c.codes(FOLDER_SCHEME.codeList),
    lastUpdateTime: s.single(SLOT.lastUpdateTime),
    extra: NO_EXTRA_PLACEHOLDER,
  };
  return completed(folder, p);
}

function readAssociation(e: XmlElement, p: Parts): Association {
  const associationType = e.attrs['associationType'];
  const sourceUuid = e.attrs['sourceObject'];
  const targetUuid = e.attrs['targetObject'];
  if (associationType === undefined) throw metadataError('Association without associationType', p.id);
  if (sourceUuid === undefined) throw metadataError('Association without sourceObject', p.id);
  if (targetUuid === undefined) throw metadataError('Association without targetObject', p.id);
  const documentation = p.classifications.codes(ASSOCIATION_DOCUMENTATION_SCHEME);
  const assoc: Association = {
    type: 'Association',
    entryUuid: p.id,
    associationType,
    sourceUuid,
    targetUuid,
    availabilityStatus: readStatus(e.attrs['status'], p.id),
    submissionSetStatus: p.slots.single(SLOT.submissionSetStatus),
    previousVersion: p.slots.single(SLOT.previousVersion),
    associationPropagation: p.slots.single(SLOT.associationPropagation),
    originalStatus: p.slots.single(SLOT.originalStatus),
    newStatus: p.slots.single(SLOT.newStatus),
    documentation: documentation.length > 0 ? documentation : undefined,
    homeCommunityId: p.home,
    extra: NO_EXTRA_PLACEHOLDER,
  };
  return completed(assoc, p);
}

/** Filled in last, once every XDS attribute has been taken out of the parts. */
const NO_EXTRA_PLACEHOLDER: ExtraMetadata = { slots: [], classifications: [], externalIdentifiers: [] };

/**
 * The object read, without its undefined attributes, and with what the XDS attributes left of the
 * parts as its `extra` (in the placeholder's place, the last key): `withoutUndefined({ ...obj,
 * extra: extraOf(p) })` with one copy of the object instead of two (the spread of a ~30-key
 * DocumentEntry cost ~2.5 µs, measured).
 */
function completed<T extends RegistryObject>(obj: T, p: Parts): T {
  const out = withoutUndefined(obj) as { extra: ExtraMetadata };
  out.extra = extraOf(p);
  return out as unknown as T;
}
