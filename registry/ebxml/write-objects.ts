/**
 * Metadata model → ebRIM 3.0 registry objects (LeafClass), the reverse of read-objects.ts.
 *
 * Child Classifications and ExternalIdentifiers get ids derived from their owner's entryUUID and
 * position unless the model kept an id of their own, so the same object always serialises the same.
 */
import type { Association, Author, Code, DocumentEntry, ExtraMetadata, Folder, RegistryObject, Slot, SubmissionSet } from '../model/metadata';
import { NS } from '../xml/namespaces';
import { el, type XmlElement } from '../xml/tree';
import {
  ASSOCIATION_DOCUMENTATION_SCHEME,
  CLASSIFICATION_NODE,
  DOCUMENT_ENTRY_SCHEME,
  EXTERNAL_IDENTIFIER_NAME,
  FOLDER_SCHEME,
  OBJECT_TYPE,
  SLOT,
  SUBMISSION_SET_SCHEME,
} from './constants';
import {
  classificationElement,
  codeClassification,
  derivedId,
  externalIdentifierElement,
  listSlot,
  localizedElement,
  singleSlot,
  slotElements,
  statusUrn,
  type RimClassification,
  type RimExternalIdentifier,
} from './rim';

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

/** Collects an object's Classifications and ExternalIdentifiers and numbers them for derived ids. */
class Children {
  private position = 0;
  readonly classifications: XmlElement[] = [];
  readonly identifiers: XmlElement[] = [];
  constructor(private readonly owner: string) {}

  classification(c: RimClassification): void {
    const id = c.id ?? derivedId(this.owner, this.position);
    this.position++;
    this.classifications.push(classificationElement({ ...c, id, classifiedObject: this.owner }));
  }

  code(code: Code | undefined, scheme: string): void {
    if (code !== undefined) this.classification(codeClassification(code, scheme));
  }

  codes(codes: readonly Code[] | undefined, scheme: string): void {
    for (const c of codes ?? []) this.code(c, scheme);
  }

  node(node: string): void {
    this.classification({ classificationNode: node, slots: [] });
  }

  authors(authors: readonly Author[], scheme: string): void {
    for (const a of authors) {
      const slots: (Slot | undefined)[] = [
        singleSlot(SLOT.authorPerson, a.person),
        listSlot(SLOT.authorInstitution, a.institutions),
        listSlot(SLOT.authorRole, a.roles),
        listSlot(SLOT.authorSpecialty, a.specialties),
        listSlot(SLOT.authorTelecommunication, a.telecommunications),
        ...(a.extraSlots ?? []),
      ];
      // ITI TF-3 4.2.3.1.4: an author classification has an empty nodeRepresentation.
      this.classification({ classificationScheme: scheme, nodeRepresentation: '', slots: slots.filter((s): s is Slot => s !== undefined) });
    }
  }

  identifier(scheme: string, value: string | undefined): void {
    if (value === undefined) return;
    const name = EXTERNAL_IDENTIFIER_NAME[scheme];
    this.external({ identificationScheme: scheme, value, ...(name === undefined ? {} : { name: { value: name } }) });
  }

  external(x: RimExternalIdentifier): void {
    const id = x.id ?? derivedId(this.owner, this.position);
    this.position++;
    this.identifiers.push(externalIdentifierElement({ ...x, id, registryObject: this.owner }));
  }

  extra(extra: ExtraMetadata): void {
    for (const c of extra.classifications) this.classification(c);
    for (const x of extra.externalIdentifiers) this.external(x);
  }
}

function commonAttributes(o: DocumentEntry | SubmissionSet | Folder): Record<string, string | undefined> {
  return { id: o.entryUuid, lid: o.logicalUuid, status: statusUrn(o.availabilityStatus), home: o.homeCommunityId };
}

function header(o: DocumentEntry | SubmissionSet | Folder, slots: readonly (Slot | undefined)[]): XmlElement[] {
  const out: (XmlElement | undefined)[] = [
    ...slotElements([...slots, ...o.extra.slots]),
    localizedElement('Name', o.title),
    localizedElement('Description', o.comments),
    o.version === undefined ? undefined : el(NS.rim, 'VersionInfo', { versionName: o.version }),
  ];
  return out.filter((e): e is XmlElement => e !== undefined);
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
  const slots = [
    singleSlot(SLOT.creationTime, d.creationTime),
    singleSlot(SLOT.hash, d.hash),
    singleSlot(SLOT.languageCode, d.languageCode),
    singleSlot(SLOT.legalAuthenticator, d.legalAuthenticator),
    singleSlot(SLOT.repositoryUniqueId, d.repositoryUniqueId),
    singleSlot(SLOT.serviceStartTime, d.serviceStartTime),
    singleSlot(SLOT.serviceStopTime, d.serviceStopTime),
    singleSlot(SLOT.size, d.size),
    singleSlot(SLOT.sourcePatientId, d.sourcePatientId),
    listSlot(SLOT.sourcePatientInfo, d.sourcePatientInfo),
    singleSlot(SLOT.uri, d.uri),
    listSlot(SLOT.referenceIdList, d.referenceIdList),
    singleSlot(SLOT.documentAvailability, d.documentAvailability),
  ];
  return el(
    NS.rim,
    'ExtrinsicObject',
    { ...commonAttributes(d), objectType: d.objectType, mimeType: d.mimeType },
    [...header(d, slots), ...kids.classifications, ...kids.identifiers],
  );
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
  const slots = [singleSlot(SLOT.submissionTime, s.submissionTime), listSlot(SLOT.intendedRecipient, s.intendedRecipients)];
  return el(
    NS.rim,
    'RegistryPackage',
    { ...commonAttributes(s), objectType: OBJECT_TYPE.RegistryPackage },
    [...header(s, slots), ...kids.classifications, ...kids.identifiers],
  );
}

function folderElement(f: Folder): XmlElement {
  const kids = new Children(f.entryUuid);
  kids.node(CLASSIFICATION_NODE.Folder);
  kids.codes(f.codeList, FOLDER_SCHEME.codeList);
  kids.identifier(FOLDER_SCHEME.patientId, f.patientId);
  kids.identifier(FOLDER_SCHEME.uniqueId, f.uniqueId);
  kids.extra(f.extra);
  return el(
    NS.rim,
    'RegistryPackage',
    { ...commonAttributes(f), objectType: OBJECT_TYPE.RegistryPackage },
    [...header(f, [singleSlot(SLOT.lastUpdateTime, f.lastUpdateTime)]), ...kids.classifications, ...kids.identifiers],
  );
}

function associationElement(a: Association): XmlElement {
  const kids = new Children(a.entryUuid);
  kids.codes(a.documentation, ASSOCIATION_DOCUMENTATION_SCHEME);
  kids.extra(a.extra);
  const slots = [singleSlot(SLOT.submissionSetStatus, a.submissionSetStatus), singleSlot(SLOT.previousVersion, a.previousVersion), ...a.extra.slots];
  return el(
    NS.rim,
    'Association',
    {
      id: a.entryUuid,
      objectType: OBJECT_TYPE.Association,
      associationType: a.associationType,
      sourceObject: a.sourceUuid,
      targetObject: a.targetUuid,
      status: statusUrn(a.availabilityStatus),
      home: a.homeCommunityId,
    },
    [...slotElements(slots), ...kids.classifications, ...kids.identifiers],
  );
}

/** ObjectRef form of a registry object (returnType ObjectRef). */
export function objectRefElement(o: RegistryObject): XmlElement {
  return el(NS.rim, 'ObjectRef', { id: o.entryUuid, home: o.homeCommunityId });
}
