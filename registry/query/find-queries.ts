/**
 * The Find* stored queries: one filter over one object type (ITI TF-2a 3.18.4.1.2.3.7.1–3, .14
 * and the MPQ FindDocumentsForMultiplePatients).
 */
import type { DocumentEntry, Folder, SubmissionSet } from '../model/metadata.js';
import type { RegistryFilter } from '../store/store.js';
import { findLimited, type QueryContext, type QueryImplementation } from './context.js';
import { allOf, authorPersonLike, codeGroups, codeIn, documentTypeIn, fieldIn, statusIn, timeRange } from './filters.js';
import { P } from './parameter-tables.js';

/** The DocumentEntry attribute conditions shared by the FindDocuments variants. */
function documentEntryConditions(ctx: QueryContext): RegistryFilter {
  const p = ctx.params;
  return allOf([
    statusIn(p.statuses(P.deStatus) ?? []),
    documentTypeIn(p.list(P.deType)),
    codeIn('classCode', p.list(P.deClassCode)),
    codeIn('typeCode', p.list(P.deTypeCode)),
    codeIn('practiceSettingCode', p.list(P.dePracticeSettingCode)),
    codeIn('healthcareFacilityTypeCode', p.list(P.deHealthcareFacilityTypeCode)),
    codeIn('formatCode', p.list(P.deFormatCode)),
    timeRange('creationTime', p.single(P.deCreationTimeFrom), p.single(P.deCreationTimeTo)),
    timeRange('serviceStartTime', p.single(P.deServiceStartTimeFrom), p.single(P.deServiceStartTimeTo)),
    timeRange('serviceStopTime', p.single(P.deServiceStopTimeFrom), p.single(P.deServiceStopTimeTo)),
    codeGroups('eventCodes', p.andGroups(P.deEventCodeList)),
    codeGroups('confidentialityCodes', p.andGroups(P.deConfidentialityCode)),
    authorPersonLike(p.list(P.deAuthorPerson)),
  ]);
}

export const findDocuments: QueryImplementation = (ctx) =>
  findLimited<DocumentEntry>(ctx, 'DocumentEntry', { patientId: ctx.params.single(P.dePatientId) }, documentEntryConditions(ctx));

export const findDocumentsByReferenceId: QueryImplementation = (ctx) => {
  // Each slot is an OR-group over the referenceIdList values; the slots are AND-ed.
  const groups = ctx.params.andGroups(P.deReferenceIdList) ?? [];
  return findLimited<DocumentEntry>(
    ctx,
    'DocumentEntry',
    { patientId: ctx.params.single(P.dePatientId) },
    allOf(groups.map((g) => ({ $and: [fieldIn('referenceIdList', g)] }))),
    documentEntryConditions(ctx),
  );
};

export const findDocumentsForMultiplePatients: QueryImplementation = (ctx) => {
  const patients = ctx.params.list(P.dePatientId);
  return findLimited<DocumentEntry>(
    ctx,
    'DocumentEntry',
    patients === undefined ? undefined : fieldIn('patientId', patients),
    documentEntryConditions(ctx),
  );
};

export const findSubmissionSets: QueryImplementation = (ctx) => {
  const p = ctx.params;
  const author = p.single(P.ssAuthorPerson);
  return findLimited<SubmissionSet>(
    ctx,
    'SubmissionSet',
    { patientId: p.single(P.ssPatientId) },
    statusIn(p.statuses(P.ssStatus) ?? []),
    p.list(P.ssSourceId) === undefined ? undefined : fieldIn('sourceId', p.list(P.ssSourceId)!),
    timeRange('submissionTime', p.single(P.ssSubmissionTimeFrom), p.single(P.ssSubmissionTimeTo)),
    authorPersonLike(author === undefined ? undefined : [author]),
    codeIn('contentTypeCode', p.list(P.ssContentType)),
  );
};

export const findFolders: QueryImplementation = (ctx) => {
  const p = ctx.params;
  return findLimited<Folder>(
    ctx,
    'Folder',
    { patientId: p.single(P.folPatientId) },
    statusIn(p.statuses(P.folStatus) ?? []),
    timeRange('lastUpdateTime', p.single(P.folLastUpdateTimeFrom), p.single(P.folLastUpdateTimeTo)),
    codeGroups('codeList', p.andGroups(P.folCodeList)),
  );
};
