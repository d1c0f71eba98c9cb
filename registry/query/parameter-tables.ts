/**
 * The parameter tables of the stored queries, as in ITI TF-2a 3.18.4.1.2.3.7.1–14 (ITI-18) and
 * ITI TF-2b 3.51.4.1.2 (ITI-51). Names are the exact slot names.
 *
 * The multi-patient queries are FindDocuments and FindFolders with the patient id optional and
 * multi-valued (any of the patients; none given: every patient), so they share the filter lists
 * below rather than copy them. What keeps them from being a query for the whole registry is the
 * rest of their table: FindDocumentsForMultiplePatients needs a class, event or healthcare
 * facility type code, FindFoldersForMultiplePatients a folder code list.
 */
import type { StoredQueryName } from '../model/query.js';
import type { ParamSpec, ParamTable } from './parameters.js';

export const P = {
  dePatientId: '$XDSDocumentEntryPatientId',
  deClassCode: '$XDSDocumentEntryClassCode',
  deTypeCode: '$XDSDocumentEntryTypeCode',
  dePracticeSettingCode: '$XDSDocumentEntryPracticeSettingCode',
  deCreationTimeFrom: '$XDSDocumentEntryCreationTimeFrom',
  deCreationTimeTo: '$XDSDocumentEntryCreationTimeTo',
  deServiceStartTimeFrom: '$XDSDocumentEntryServiceStartTimeFrom',
  deServiceStartTimeTo: '$XDSDocumentEntryServiceStartTimeTo',
  deServiceStopTimeFrom: '$XDSDocumentEntryServiceStopTimeFrom',
  deServiceStopTimeTo: '$XDSDocumentEntryServiceStopTimeTo',
  deHealthcareFacilityTypeCode: '$XDSDocumentEntryHealthcareFacilityTypeCode',
  deEventCodeList: '$XDSDocumentEntryEventCodeList',
  deConfidentialityCode: '$XDSDocumentEntryConfidentialityCode',
  deAuthorPerson: '$XDSDocumentEntryAuthorPerson',
  deFormatCode: '$XDSDocumentEntryFormatCode',
  deStatus: '$XDSDocumentEntryStatus',
  deType: '$XDSDocumentEntryType',
  deReferenceIdList: '$XDSDocumentEntryReferenceIdList',
  deEntryUuid: '$XDSDocumentEntryEntryUUID',
  deUniqueId: '$XDSDocumentEntryUniqueId',
  ssPatientId: '$XDSSubmissionSetPatientId',
  ssSourceId: '$XDSSubmissionSetSourceId',
  ssSubmissionTimeFrom: '$XDSSubmissionSetSubmissionTimeFrom',
  ssSubmissionTimeTo: '$XDSSubmissionSetSubmissionTimeTo',
  ssAuthorPerson: '$XDSSubmissionSetAuthorPerson',
  ssContentType: '$XDSSubmissionSetContentType',
  ssStatus: '$XDSSubmissionSetStatus',
  ssEntryUuid: '$XDSSubmissionSetEntryUUID',
  ssUniqueId: '$XDSSubmissionSetUniqueId',
  folPatientId: '$XDSFolderPatientId',
  folLastUpdateTimeFrom: '$XDSFolderLastUpdateTimeFrom',
  folLastUpdateTimeTo: '$XDSFolderLastUpdateTimeTo',
  folCodeList: '$XDSFolderCodeList',
  folStatus: '$XDSFolderStatus',
  folEntryUuid: '$XDSFolderEntryUUID',
  folUniqueId: '$XDSFolderUniqueId',
  deLogicalId: '$XDSDocumentEntryLogicalID',
  folLogicalId: '$XDSFolderLogicalID',
  associationStatus: '$XDSAssociationStatus',
  metadataLevel: '$MetadataLevel',
  patientId: '$patientId',
  uuid: '$uuid',
  associationTypes: '$AssociationTypes',
  homeCommunityId: '$homeCommunityId',
} as const;

const single = (name: string, type: ParamSpec['type'], required = false): ParamSpec => ({ name, type, multiple: false, required });
const many = (name: string, type: ParamSpec['type'], required = false): ParamSpec => ({ name, type, multiple: true, required });
const andOr = (name: string, type: ParamSpec['type'], required = false): ParamSpec => ({
  name,
  type,
  multiple: true,
  andOr: true,
  required,
});

/** The DocumentEntry attribute filters FindDocuments and its variants share (all but patient id). */
const DOCUMENT_ENTRY_FILTERS: readonly ParamSpec[] = [
  many(P.deClassCode, 'code'),
  many(P.deTypeCode, 'code'),
  many(P.dePracticeSettingCode, 'code'),
  single(P.deCreationTimeFrom, 'time'),
  single(P.deCreationTimeTo, 'time'),
  single(P.deServiceStartTimeFrom, 'time'),
  single(P.deServiceStartTimeTo, 'time'),
  single(P.deServiceStopTimeFrom, 'time'),
  single(P.deServiceStopTimeTo, 'time'),
  many(P.deHealthcareFacilityTypeCode, 'code'),
  andOr(P.deEventCodeList, 'code'),
  andOr(P.deConfidentialityCode, 'code'),
  many(P.deAuthorPerson, 'string'),
  many(P.deFormatCode, 'code'),
  many(P.deStatus, 'status', true),
  many(P.deType, 'string'),
];

/** The content filters of GetSubmissionSetAndContents, GetFolderAndContents and GetAll. */
const CONTENT_FILTERS: readonly ParamSpec[] = [
  many(P.deFormatCode, 'code'),
  andOr(P.deConfidentialityCode, 'code'),
  many(P.deType, 'string'),
];

/** The Folder attribute filters FindFolders and its multi-patient variant share (all but patient id and codes). */
const FOLDER_FILTERS: readonly ParamSpec[] = [
  single(P.folLastUpdateTimeFrom, 'time'),
  single(P.folLastUpdateTimeTo, 'time'),
  many(P.folStatus, 'status', true),
];

const HOME = single(P.homeCommunityId, 'string');

/**
 * Accepted by every stored query with the Metadata Update option (ITI TF-2 3.18.4.1.2.3.5.1):
 * $MetadataLevel 1 (the default: what a consumer without the option understands) or 2, and
 * $XDSAssociationStatus (default Approved), the statuses of the associations an answer follows.
 */
const METADATA_UPDATE: readonly ParamSpec[] = [
  { ...single(P.metadataLevel, 'integer'), allowed: ['1', '2'] },
  many(P.associationStatus, 'status'),
];

/** Every query's table with the Metadata Update parameters added. */
function withMetadataUpdate(tables: Record<StoredQueryName, ParamTable>): Record<StoredQueryName, ParamTable> {
  const out = {} as Record<StoredQueryName, ParamTable>;
  for (const [name, table] of Object.entries(tables) as [StoredQueryName, ParamTable][]) out[name] = { ...table, params: [...table.params, ...METADATA_UPDATE] };
  return out;
}

export const PARAMETER_TABLES: Record<StoredQueryName, ParamTable> = withMetadataUpdate({
  FindDocuments: { params: [single(P.dePatientId, 'string', true), ...DOCUMENT_ENTRY_FILTERS] },
  FindDocumentsByReferenceId: {
    params: [single(P.dePatientId, 'string', true), ...DOCUMENT_ENTRY_FILTERS, andOr(P.deReferenceIdList, 'string', true)],
  },
  FindDocumentsForMultiplePatients: {
    params: [many(P.dePatientId, 'string'), ...DOCUMENT_ENTRY_FILTERS],
    atLeastOne: [[P.deClassCode, P.deEventCodeList, P.deHealthcareFacilityTypeCode]],
  },
  FindSubmissionSets: {
    params: [
      single(P.ssPatientId, 'string', true),
      many(P.ssSourceId, 'string'),
      single(P.ssSubmissionTimeFrom, 'time'),
      single(P.ssSubmissionTimeTo, 'time'),
      single(P.ssAuthorPerson, 'string'),
      many(P.ssContentType, 'code'),
      many(P.ssStatus, 'status', true),
    ],
  },
  FindFolders: { params: [single(P.folPatientId, 'string', true), ...FOLDER_FILTERS, andOr(P.folCodeList, 'code')] },
  FindFoldersForMultiplePatients: { params: [many(P.folPatientId, 'string'), ...FOLDER_FILTERS, andOr(P.folCodeList, 'code', true)] },
  GetAll: {
    params: [
      single(P.patientId, 'string', true),
      many(P.deStatus, 'status', true),
      many(P.ssStatus, 'status', true),
      many(P.folStatus, 'status', true),
      ...CONTENT_FILTERS,
    ],
  },
  // The logicalID selects every version of the logical objects (ITI TF-2 3.18.4.1.2.3.7.5, .6).
  GetDocuments: {
    params: [many(P.deEntryUuid, 'string'), many(P.deUniqueId, 'string'), many(P.deLogicalId, 'string'), HOME],
    exactlyOne: [[P.deEntryUuid, P.deUniqueId, P.deLogicalId]],
  },
  GetFolders: {
    params: [many(P.folEntryUuid, 'string'), many(P.folUniqueId, 'string'), many(P.folLogicalId, 'string'), HOME],
    exactlyOne: [[P.folEntryUuid, P.folUniqueId, P.folLogicalId]],
  },
  GetAssociations: { params: [many(P.uuid, 'string', true), HOME] },
  GetDocumentsAndAssociations: {
    params: [many(P.deEntryUuid, 'string'), many(P.deUniqueId, 'string'), HOME],
    exactlyOne: [[P.deEntryUuid, P.deUniqueId]],
  },
  GetSubmissionSets: { params: [many(P.uuid, 'string', true), HOME] },
  GetSubmissionSetAndContents: {
    params: [single(P.ssEntryUuid, 'string'), single(P.ssUniqueId, 'string'), ...CONTENT_FILTERS, HOME],
    exactlyOne: [[P.ssEntryUuid, P.ssUniqueId]],
  },
  GetFolderAndContents: {
    params: [single(P.folEntryUuid, 'string'), single(P.folUniqueId, 'string'), ...CONTENT_FILTERS, HOME],
    exactlyOne: [[P.folEntryUuid, P.folUniqueId]],
  },
  GetFoldersForDocument: {
    params: [single(P.deEntryUuid, 'string'), single(P.deUniqueId, 'string'), HOME],
    exactlyOne: [[P.deEntryUuid, P.deUniqueId]],
  },
  GetRelatedDocuments: {
    params: [single(P.deEntryUuid, 'string'), single(P.deUniqueId, 'string'), many(P.associationTypes, 'string', true), many(P.deType, 'string'), HOME],
    exactlyOne: [[P.deEntryUuid, P.deUniqueId]],
  },
});
