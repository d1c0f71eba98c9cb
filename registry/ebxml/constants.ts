/**
 * The ebRIM 3.0 vocabulary of XDS metadata (ITI TF-3 4.2.3 / 4.2.5): every classification scheme,
 * classification node, external identifier scheme, slot name and object type URN in one place.
 * UUIDs checked against ITI TF-3 Table 4.2.5-1 and the constants of NIST XDS Toolkit and IPF.
 */

export const OBJECT_TYPE = {
  Classification: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification',
  ExternalIdentifier: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier',
  RegistryPackage: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage',
  Association: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association',
} as const;

/** Classification nodes that turn a RegistryPackage into a SubmissionSet or Folder, and limitedMetadata flags. */
export const CLASSIFICATION_NODE = {
  SubmissionSet: 'urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd',
  Folder: 'urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2',
  DocumentEntryLimitedMetadata: 'urn:uuid:ab9b591b-83ab-4d03-8f5d-f93b1fb92e85',
  SubmissionSetLimitedMetadata: 'urn:uuid:5003a9db-8d8d-49e6-bf0c-990e34ac7707',
  FolderLimitedMetadata: 'urn:uuid:2c144a76-29a9-4b7c-af54-b25409fe7d03',
} as const;

export const DOCUMENT_ENTRY_SCHEME = {
  author: 'urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d',
  classCode: 'urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a',
  confidentialityCode: 'urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f',
  eventCodeList: 'urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4',
  formatCode: 'urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d',
  healthcareFacilityTypeCode: 'urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1',
  practiceSettingCode: 'urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead',
  typeCode: 'urn:uuid:f0306f51-975f-434e-a61c-c59651d33983',
  /** ExternalIdentifier schemes. */
  patientId: 'urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427',
  uniqueId: 'urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab',
} as const;

export const SUBMISSION_SET_SCHEME = {
  author: 'urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d',
  contentTypeCode: 'urn:uuid:aa543740-bdda-424e-8c96-df4873be8500',
  patientId: 'urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446',
  sourceId: 'urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832',
  uniqueId: 'urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8',
} as const;

export const FOLDER_SCHEME = {
  codeList: 'urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5',
  patientId: 'urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a',
  uniqueId: 'urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a',
} as const;

/** Association documentation (ITI TF-3 4.2.2: a code on RPLC/XFRM/APND… associations). */
export const ASSOCIATION_DOCUMENTATION_SCHEME = 'urn:uuid:abd807a3-4432-4053-87b4-fd82c643d1f3';

/** The Name conventionally written on XDS external identifiers. */
export const EXTERNAL_IDENTIFIER_NAME: Readonly<Record<string, string>> = {
  [DOCUMENT_ENTRY_SCHEME.patientId]: 'XDSDocumentEntry.patientId',
  [DOCUMENT_ENTRY_SCHEME.uniqueId]: 'XDSDocumentEntry.uniqueId',
  [SUBMISSION_SET_SCHEME.patientId]: 'XDSSubmissionSet.patientId',
  [SUBMISSION_SET_SCHEME.sourceId]: 'XDSSubmissionSet.sourceId',
  [SUBMISSION_SET_SCHEME.uniqueId]: 'XDSSubmissionSet.uniqueId',
  [FOLDER_SCHEME.patientId]: 'XDSFolder.patientId',
  [FOLDER_SCHEME.uniqueId]: 'XDSFolder.uniqueId',
};

export const SLOT = {
  codingScheme: 'codingScheme',
  authorPerson: 'authorPerson',
  authorInstitution: 'authorInstitution',
  authorRole: 'authorRole',
  authorSpecialty: 'authorSpecialty',
  authorTelecommunication: 'authorTelecommunication',
  creationTime: 'creationTime',
  serviceStartTime: 'serviceStartTime',
  serviceStopTime: 'serviceStopTime',
  hash: 'hash',
  size: 'size',
  languageCode: 'languageCode',
  repositoryUniqueId: 'repositoryUniqueId',
  uri: 'URI',
  sourcePatientId: 'sourcePatientId',
  sourcePatientInfo: 'sourcePatientInfo',
  legalAuthenticator: 'legalAuthenticator',
  referenceIdList: 'urn:ihe:iti:xds:2013:referenceIdList',
  /** The slot name IHE's examples, the NIST toolkit and IPF use (ITI TF-3 4.2.3.2.x). */
  documentAvailability: 'documentAvailability',
  /** The name this node wrote before; still read, so that what it once wrote reads back. */
  documentAvailabilityLegacy: 'urn:ihe:iti:2010:DocumentAvailability',
  submissionTime: 'submissionTime',
  intendedRecipient: 'intendedRecipient',
  lastUpdateTime: 'lastUpdateTime',
  submissionSetStatus: 'SubmissionSetStatus',
  previousVersion: 'PreviousVersion',
  associationPropagation: 'AssociationPropagation',
  originalStatus: 'OriginalStatus',
  newStatus: 'NewStatus',
} as const;

/** Values of the documentAvailability slot (ITI TF-3 4.2.3.2.x, RMD / on-demand). */
export const DOCUMENT_AVAILABILITY = {
  Online: 'urn:ihe:iti:2010:DocumentAvailability:Online',
  Offline: 'urn:ihe:iti:2010:DocumentAvailability:Offline',
} as const;

export const RETURN_TYPES = ['LeafClass', 'ObjectRef'] as const;
