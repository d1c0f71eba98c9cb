/**
 * The Find* stored queries: one filter over one object type (ITI TF-2a 3.18.4.1.2.3.7.1–3, .14
 * and the two multi-patient queries of ITI TF-2b 3.51.4.1.2). A multi-patient query is its
 * single-patient twin with the patient condition widened to a list, or dropped when no patient is
 * given. Every find stops at `ctx.limit` (maxResults + 1), which bounds what such a query returns
 * and holds in memory; without a patient the store may still have to examine every object of the
 * type and status to find that many (only the patient id, not the codes, is indexed).
 */
import type { DocumentEntry, Folder, SubmissionSet } from '../model/metadata.js';
import type { RegistryFilter } from '../store/store.js';
import { findLimited, type QueryContext, type QueryImplementation } from './context.js';
import { allOf, authorPersonLike, codeGroups, codeIn, documentTypeIn, fieldIn, statusIn, timeRange } from './filters.js';
import { P } from './parameter-tables.js';

/** Any of the patients; no condition when none is given (the multi-patient queries). */
function anyPatient(patients: readonly string[] | undefined): RegistryFilter | undefined {
  return patients === undefined ? undefined : fieldIn('patientId', patients);
}

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

export const findDocumentsForMultiplePatients: QueryImplementation = (ctx) =>
  findLimited<DocumentEntry>(ctx, 'DocumentEntry', anyPatient(ctx.params.list(P.dePatientId)), documentEntryConditions(ctx));

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

/** The Folder conditions shared by FindFolders and its multi-patient variant. */
function folderConditions(ctx: QueryContext): RegistryFilter {
  const p = ctx.params;
  return allOf([
    statusIn(p.statuses(P.folStatus) ?? []),
    timeRange('lastUpdateTime', p.single(P.folLastUpdateTimeFrom), p.single(P.folLastUpdateTimeTo)),
    codeGroups('codeList', p.andGroups(P.folCodeList)),
  ]);
}

export const findFolders: QueryImplementation = (ctx) =>
  findLimited<Folder>(ctx, 'Folder', { patientId: ctx.params.single(P.folPatientId) }, folderConditions(ctx));

export const findFoldersForMultiplePatients: QueryImplementation = (ctx) =>
  findLimited<Folder>(ctx, 'Folder', anyPatient(ctx.params.list(P.folPatientId)), folderConditions(ctx));
