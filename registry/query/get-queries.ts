/**
 * The Get* stored queries and GetAll (ITI TF-2a 3.18.4.1.2.3.7.4–13): objects by id, and the
 * objects linked to them through associations.
 *
 * Association semantics follow the NIST registry simulator, which the SQ.b tests grade:
 * an answer only carries associations whose both ends it also carries.
 */
import type { Association, DocumentEntry, Folder, RegistryObject, SubmissionSet } from '../model/metadata.js';
import type { RegistryFilter } from '../store/store.js';
import {
  associationStatuses,
  associationsTouching,
  closedAssociations,
  distinct,
  findByIdOrUniqueId,
  findLimited,
  hasMemberFrom,
  hasMemberTo,
  type QueryContext,
  type QueryImplementation,
} from './context.js';
import { allOf, codeGroups, codeIn, documentTypeIn, fieldIn, statusIn } from './filters.js';
import { P } from './parameter-tables.js';

/** Format, confidentiality and type conditions on DocumentEntries (the "contents" filters). */
function contentConditions(ctx: QueryContext): RegistryFilter {
  const p = ctx.params;
  return allOf([
    documentTypeIn(p.list(P.deType)),
    codeIn('formatCode', p.list(P.deFormatCode)),
    codeGroups('confidentialityCodes', p.andGroups(P.deConfidentialityCode)),
  ]);
}

const ids = (objects: readonly RegistryObject[]): string[] => objects.map((o) => o.entryUuid);

export const getAll: QueryImplementation = async (ctx) => {
  const p = ctx.params;
  const patient = { patientId: p.single(P.patientId) };
  const [submissionSets, documents, folders] = await Promise.all([
    findLimited<SubmissionSet>(ctx, 'SubmissionSet', patient, statusIn(p.statuses(P.ssStatus) ?? [])),
    findLimited<DocumentEntry>(ctx, 'DocumentEntry', patient, statusIn(p.statuses(P.deStatus) ?? []), contentConditions(ctx)),
    findLimited<Folder>(ctx, 'Folder', patient, statusIn(p.statuses(P.folStatus) ?? [])),
  ]);
  const objects = [...submissionSets, ...documents, ...folders];
  const candidates = await ctx.store.find(allOf([{ type: 'Association' }, fieldIn('sourceUuid', ids(objects)), statusIn(associationStatuses(ctx))]));
  return [...objects, ...closedAssociations(new Set(ids(objects)), candidates as Association[])];
};

export const getDocuments: QueryImplementation = (ctx) =>
  findByIdOrUniqueId<DocumentEntry>(ctx, 'DocumentEntry', P.deEntryUuid, P.deUniqueId, P.deLogicalId);

export const getFolders: QueryImplementation = (ctx) => findByIdOrUniqueId<Folder>(ctx, 'Folder', P.folEntryUuid, P.folUniqueId, P.folLogicalId);

export const getAssociations: QueryImplementation = (ctx) => associationsTouching(ctx, ctx.params.list(P.uuid) ?? []);

export const getDocumentsAndAssociations: QueryImplementation = async (ctx) => {
  const documents = await findByIdOrUniqueId<DocumentEntry>(ctx, 'DocumentEntry', P.deEntryUuid, P.deUniqueId);
  return [...documents, ...(await associationsTouching(ctx, ids(documents)))];
};

/** The SubmissionSets that contain any of the objects, with the HasMember associations that say so. */
export const getSubmissionSets: QueryImplementation = async (ctx) => {
  const memberships = await hasMemberTo(ctx, ctx.params.list(P.uuid) ?? []);
  if (memberships.length === 0) return [];
  const submissionSets = await findLimited<SubmissionSet>(ctx, 'SubmissionSet', fieldIn('entryUuid', memberships.map((a) => a.sourceUuid)));
  const ssIds = new Set(ids(submissionSets));
  // Folder→DocumentEntry memberships also target documents; only SubmissionSet ones belong here.
  return [...submissionSets, ...memberships.filter((a) => ssIds.has(a.sourceUuid))];
};

export const getSubmissionSetAndContents: QueryImplementation = async (ctx) => {
  const submissionSets = await findByIdOrUniqueId<SubmissionSet>(ctx, 'SubmissionSet', P.ssEntryUuid, P.ssUniqueId);
  if (submissionSets.length === 0) return [];
  const ssAssociations = await hasMemberFrom(ctx, ids(submissionSets));
  const memberIds = ssAssociations.map((a) => a.targetUuid);
  if (memberIds.length === 0) return [...submissionSets];
  const [documents, folders, memberAssociations] = await Promise.all([
    findLimited<DocumentEntry>(ctx, 'DocumentEntry', fieldIn('entryUuid', memberIds), contentConditions(ctx)),
    findLimited<Folder>(ctx, 'Folder', fieldIn('entryUuid', memberIds)),
    findLimited<Association>(ctx, 'Association', fieldIn('entryUuid', memberIds)),
  ]);
  // Folder membership of the returned documents, even when filed by an earlier submission.
  const folderAssociations = (await hasMemberFrom(ctx, ids(folders))).filter((a) => ids(documents).includes(a.targetUuid));
  const objects = [...submissionSets, ...documents, ...folders];
  const associations = closedAssociations(
    new Set(ids(objects)),
    distinct([...ssAssociations, ...memberAssociations, ...folderAssociations]),
  );
  return [...objects, ...associations];
};

export const getFolderAndContents: QueryImplementation = async (ctx) => {
  const folders = await findByIdOrUniqueId<Folder>(ctx, 'Folder', P.folEntryUuid, P.folUniqueId);
  if (folders.length === 0) return [];
  const memberships = await hasMemberFrom(ctx, ids(folders));
  if (memberships.length === 0) return [...folders];
  const documents = await findLimited<DocumentEntry>(
    ctx,
    'DocumentEntry',
    fieldIn('entryUuid', memberships.map((a) => a.targetUuid)),
    contentConditions(ctx),
  );
  const documentIds = new Set(ids(documents));
  return [...folders, ...documents, ...memberships.filter((a) => documentIds.has(a.targetUuid))];
};

export const getFoldersForDocument: QueryImplementation = async (ctx) => {
  const documents = await findByIdOrUniqueId<DocumentEntry>(ctx, 'DocumentEntry', P.deEntryUuid, P.deUniqueId);
  const memberships = await hasMemberTo(ctx, ids(documents));
  if (memberships.length === 0) return [];
  return findLimited<Folder>(ctx, 'Folder', fieldIn('entryUuid', memberships.map((a) => a.sourceUuid)));
};

/**
 * The document, the documents related to it by the given association types (either direction),
 * and those associations. Nothing at all when there is no related document (NIST 11909), and
 * associations to non-documents (a folder's HasMember) are not relations.
 */
export const getRelatedDocuments: QueryImplementation = async (ctx) => {
  const originals = await findByIdOrUniqueId<DocumentEntry>(ctx, 'DocumentEntry', P.deEntryUuid, P.deUniqueId);
  if (originals.length === 0) return [];
  const originalIds = new Set(ids(originals));
  const types = ctx.params.list(P.associationTypes) ?? [];
  const associations = await associationsTouching(ctx, [...originalIds], fieldIn('associationType', types));
  const otherEnd = (a: Association): string => (originalIds.has(a.sourceUuid) ? a.targetUuid : a.sourceUuid);
  const otherIds = associations.map(otherEnd).filter((id) => !originalIds.has(id));
  if (otherIds.length === 0) return [];
  const related = await findLimited<DocumentEntry>(
    ctx,
    'DocumentEntry',
    fieldIn('entryUuid', otherIds),
    documentTypeIn(ctx.params.list(P.deType)),
  );
  if (related.length === 0) return [];
  const relatedIds = new Set(ids(related));
  return [...originals, ...related, ...associations.filter((a) => relatedIds.has(otherEnd(a)))];
};
