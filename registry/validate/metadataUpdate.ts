/**
 * The rules of the XDS Metadata Update option (ITI-57 Update Document Set, ITI TF-2 3.57.4.1.3),
 * and the two that keep update content out of ITI-42. Pure, as every rule: the update write
 * (registry/update.ts) loads what they compare with first, `UpdateState` beside the usual snapshot.
 *
 * An ITI-57 request is a SubmissionSet plus operations, each recognised by its shape:
 * - a new version of a DocumentEntry or Folder: the object with the lid (logicalID) of a registered
 *   object and an entryUUID of its own, linked to the SubmissionSet by a HasMember carrying
 *   PreviousVersion (the version it supersedes) and optionally AssociationPropagation;
 * - a status change: an UpdateAvailabilityStatus association from the SubmissionSet to a
 *   DocumentEntry or an Association, with OriginalStatus and NewStatus;
 * - a new association between registered objects: a SubmitAssociation association from the
 *   SubmissionSet to the association submitted.
 *
 * The codes, as ITI TF-2 3.57.4.1.3 and the NIST reg_mu plans use them:
 * - XDSMetadataUpdateOperationError: the request cannot be read as update operations (something
 *   that is no operation, a malformed update slot, an operation the option does not define);
 * - XDSMetadataVersionError: PreviousVersion is not the latest version, or no version is registered
 *   under the lid at all (NIST 15800b, 15800e, 20000c; also the loser of two concurrent updates);
 * - XDSMetadataUpdateError: any other update that may not be made (an initial version sent as an
 *   update, a superseded or deprecated target, a status that does not match, an association that
 *   would hang on a deprecated object or already exists);
 * - XDSMetadataIdentifierError: a new version with another uniqueId than the logical object's;
 * - UnmodifiableMetadataError: a new version with another objectType (stable ↔ on-demand);
 * - XDSPatientIDReconciliationError: a patient change of an object that is linked to others, or an
 *   association between two patients' objects (NIST 20100a/b, 21002, 21003).
 */
import { error, type ErrorCode, type RegistryErrorInfo } from '../model/errors.js';
import {
  ASSOCIATION_TYPE,
  DOCUMENT_RELATIONSHIPS,
  isUuid,
  METADATA_UPDATE_ASSOCIATIONS,
  STATUS_URN_PREFIX,
  type Association,
  type AvailabilityStatus,
  type DocumentEntry,
  type Folder,
  type RegistryObject,
  type Submission,
} from '../model/metadata.js';
import { isBlank, perObject, resolve, type Rule, type RuleContext, type SubmittedObject } from './rule.js';

/** What the update rules compare the request with, beyond RegistrySnapshot; loaded by registry/update.ts. */
export interface UpdateState {
  /**
   * The registered versions of each logical object the request names, by lid: the lids of its new
   * versions and of the DocumentEntries whose status it changes.
   */
  readonly versions: ReadonlyMap<string, readonly (DocumentEntry | Folder)[]>;
  /** Registered associations (any status) naming the latest version of a lid the request versions, by that version's entryUUID. */
  readonly linksOfLatest: ReadonlyMap<string, readonly Association[]>;
  /** Registered associations from the source to the target of each association the request submits, keyed `source target`. */
  readonly between: ReadonlyMap<string, readonly Association[]>;
}

export const EMPTY_UPDATE_STATE: UpdateState = Object.freeze({ versions: new Map(), linksOfLatest: new Map(), between: new Map() });

export interface UpdateRuleContext extends RuleContext {
  readonly update: UpdateState;
}

export type UpdateRule = Rule<UpdateRuleContext>;

const { HasMember, UpdateAvailabilityStatus, SubmitAssociation, RPLC, XFRM_RPLC } = ASSOCIATION_TYPE;
const REPLACING: readonly string[] = [RPLC, XFRM_RPLC];

// ---------------------------------------------------------------- reading a request

/** The objects an ITI-57 request carries as new versions: all its DocumentEntries and Folders. */
export function newVersions(sub: Submission): (DocumentEntry | Folder)[] {
  return [...sub.documentEntries, ...sub.folders];
}

/** The SubmissionSet's HasMember associations to an object of the request. */
export function membershipsOf(sub: Submission, id: string): Association[] {
  return sub.associations.filter((a) => a.associationType === HasMember && a.sourceUuid === sub.submissionSet.entryUuid && a.targetUuid === id);
}

/** The associations a SubmitAssociation of the request carries (targets of one, by id). */
export function submittedAssociationIds(sub: Submission): Set<string> {
  return new Set(sub.associations.filter((a) => a.associationType === SubmitAssociation).map((a) => a.targetUuid));
}

export function submittedAssociations(sub: Submission): Association[] {
  const ids = submittedAssociationIds(sub);
  return sub.associations.filter((a) => ids.has(a.entryUuid) && a.associationType !== SubmitAssociation);
}

export function statusUpdates(sub: Submission): Association[] {
  return sub.associations.filter((a) => a.associationType === UpdateAvailabilityStatus);
}

/** A version number: a positive decimal integer, as VersionInfo/@versionName and PreviousVersion carry it. */
export function parseVersion(value: string | undefined): number | undefined {
  return value !== undefined && /^[1-9][0-9]{0,8}$/.test(value.trim()) ? Number(value.trim()) : undefined;
}

/** The version of a registered object; 1 where none was recorded. */
export function versionOf(obj: { readonly version?: string }): number {
  return parseVersion(obj.version) ?? 1;
}

/** The latest of a logical object's versions (the highest version number). */
export function latestVersion<T extends { readonly version?: string }>(versions: readonly T[] | undefined): T | undefined {
  let latest: T | undefined;
  for (const v of versions ?? []) if (latest === undefined || versionOf(v) > versionOf(latest)) latest = v;
  return latest;
}

/** An availability status as OriginalStatus / NewStatus carry it: the full URN (or, as IPF accepts, the short form). */
export function statusValue(value: string | undefined): AvailabilityStatus | undefined {
  if (value === undefined) return undefined;
  const short = value.startsWith(STATUS_URN_PREFIX) ? value.slice(STATUS_URN_PREFIX.length) : value;
  return short === 'Approved' || short === 'Deprecated' ? short : undefined;
}

/** The PreviousVersion of a new version's one SubmissionSet HasMember, when it is a valid number. */
function previousVersionOf(sub: Submission, obj: DocumentEntry | Folder): number | undefined {
  const memberships = membershipsOf(sub, obj.entryUuid);
  return memberships.length === 1 ? parseVersion(memberships[0]!.previousVersion) : undefined;
}

/** The registered latest version a new version supersedes, when its lid names one of its own kind. */
export function supersededBy(ctx: UpdateRuleContext, obj: DocumentEntry | Folder): DocumentEntry | Folder | undefined {
  if (obj.logicalUuid === undefined) return undefined;
  const latest = latestVersion(ctx.update.versions.get(obj.logicalUuid));
  return latest?.type === obj.type ? latest : undefined;
}

/** Registered or submitted: the current availabilityStatus of what a status update targets (a new version is Approved). */
function currentStatus(ctx: RuleContext, target: SubmittedObject | RegistryObject): AvailabilityStatus {
  return ctx.inMessage.has(target.entryUuid) ? 'Approved' : target.availabilityStatus;
}

const typeName = (associationType: string): string => associationType.slice(associationType.lastIndexOf(':') + 1);

function ruleOf(meta: { id: string; description: string; errorCode: ErrorCode }, check: (ctx: UpdateRuleContext) => RegistryErrorInfo[]): UpdateRule {
  return { ...meta, check };
}

// ---------------------------------------------------------------- the request as operations

export const operationRules: readonly UpdateRule[] = [
  ruleOf(
    {
      id: 'MU-operation-present',
      description: 'An Update Document Set request carries at least one operation (ITI TF-2 3.57.4.1.3.1)',
      errorCode: 'XDSMetadataUpdateOperationError',
    },
    (ctx) => {
      const sub = ctx.submission;
      const any = newVersions(sub).length > 0 || sub.associations.some((a) => METADATA_UPDATE_ASSOCIATIONS.includes(a.associationType));
      return any ? [] : [error('XDSMetadataUpdateOperationError', 'the request holds no metadata update operation (a new version, a status change or a submitted association)', sub.submissionSet.entryUuid)];
    },
  ),
  perObject<Association, UpdateRuleContext>(
    {
      id: 'MU-association-role',
      description:
        'Every association is part of an operation: the SubmissionSet HasMember of a new version, an UpdateAvailabilityStatus, a SubmitAssociation or the association it submits',
      errorCode: 'XDSMetadataUpdateOperationError',
    },
    (sub) => sub.associations,
    (a, ctx) => {
      const sub = ctx.submission;
      if (METADATA_UPDATE_ASSOCIATIONS.includes(a.associationType)) return undefined;
      if (submittedAssociationIds(sub).has(a.entryUuid)) return undefined;
      const versioned = newVersions(sub).some((o) => o.entryUuid === a.targetUuid);
      if (a.associationType === HasMember && a.sourceUuid === sub.submissionSet.entryUuid && versioned) return undefined;
      return `${typeName(a.associationType)} association ${a.entryUuid} is no metadata update operation (associations between registered objects are submitted with a SubmitAssociation)`;
    },
  ),
  perObject<Association, UpdateRuleContext>(
    {
      id: 'MU-association-type',
      description:
        'associationType is HasMember, a document relationship, UpdateAvailabilityStatus or SubmitAssociation; what a SubmitAssociation submits is HasMember or a document relationship',
      errorCode: 'XDSRegistryMetadataError',
    },
    (sub) => sub.associations,
    (a, ctx) => {
      const plain = a.associationType === HasMember || DOCUMENT_RELATIONSHIPS.includes(a.associationType);
      if (submittedAssociationIds(ctx.submission).has(a.entryUuid)) {
        return plain ? undefined : `a SubmitAssociation submits a HasMember or a document relationship, not "${a.associationType}"`;
      }
      return plain || METADATA_UPDATE_ASSOCIATIONS.includes(a.associationType) ? undefined : `associationType "${a.associationType}" is not allowed in Update Document Set`;
    },
  ),
];

// ---------------------------------------------------------------- new versions of DocumentEntries and Folders

export const versionRules: readonly UpdateRule[] = [
  perObject<DocumentEntry | Folder, UpdateRuleContext>(
    {
      id: 'MU-logical-id',
      description:
        'A DocumentEntry or Folder in an update is a new version: its lid is a urn:uuid other than its id (initial versions are registered with ITI-42; NIST 15800c, 20000b)',
      errorCode: 'XDSMetadataUpdateError',
    },
    newVersions,
    (obj) => {
      const lid = obj.logicalUuid;
      if (lid === undefined || isBlank(lid)) return `${obj.type} ${obj.entryUuid} has no lid: an initial version is registered with Register Document Set-b (ITI-42), not updated`;
      if (lid === obj.entryUuid) return `${obj.type} ${obj.entryUuid} has its own id as lid: an initial version is registered with ITI-42, not updated`;
      if (!isUuid(lid)) return `lid "${lid}" of ${obj.type} ${obj.entryUuid} is not a urn:uuid (a logicalID is never symbolic)`;
      return undefined;
    },
  ),
  {
    id: 'MU-logical-id-once',
    description: 'One request makes at most one new version of a logical object (NIST 20007)',
    errorCode: 'XDSMetadataUpdateOperationError',
    check(ctx) {
      const seen = new Set<string>();
      const errors: RegistryErrorInfo[] = [];
      for (const obj of newVersions(ctx.submission)) {
        const lid = obj.logicalUuid;
        if (lid === undefined) continue;
        if (seen.has(lid)) errors.push(error('XDSMetadataUpdateOperationError', `lid ${lid} is updated more than once in one request`, obj.entryUuid));
        seen.add(lid);
      }
      return errors;
    },
  },
  perObject<DocumentEntry | Folder, UpdateRuleContext>(
    {
      id: 'MU-version-membership',
      description: 'A new version is linked to the SubmissionSet by exactly one HasMember association',
      errorCode: 'XDSMetadataUpdateError',
    },
    newVersions,
    (obj, ctx) => {
      const n = membershipsOf(ctx.submission, obj.entryUuid).length;
      return n === 1 ? undefined : `${obj.type} ${obj.entryUuid} has ${n} SubmissionSet HasMember associations; a new version has one, carrying PreviousVersion`;
    },
  ),
  perObject<DocumentEntry | Folder, UpdateRuleContext>(
    {
      id: 'MU-previous-version-slot',
      description: 'The SubmissionSet HasMember of a new version carries PreviousVersion, a version number (NIST 20002b)',
      errorCode: 'XDSMetadataUpdateOperationError',
    },
    newVersions,
    (obj, ctx) => {
      const [membership] = membershipsOf(ctx.submission, obj.entryUuid);
      if (membership === undefined) return undefined;
      if (membership.previousVersion === undefined) return `the HasMember of ${obj.type} ${obj.entryUuid} has no PreviousVersion slot`;
      return parseVersion(membership.previousVersion) === undefined ? `PreviousVersion "${membership.previousVersion}" is not a version number` : undefined;
    },
  ),
  perObject<Association, UpdateRuleContext>(
    {
      id: 'MU-association-propagation-slot',
      description: 'AssociationPropagation is "yes" or "no", on the SubmissionSet HasMember of a new version only (NIST 20002b)',
      errorCode: 'XDSMetadataUpdateOperationError',
    },
    (sub) => sub.associations.filter((a) => a.associationPropagation !== undefined),
    (a, ctx) => {
      const onVersion = newVersions(ctx.submission).some((o) => membershipsOf(ctx.submission, o.entryUuid).includes(a));
      if (!onVersion) return `AssociationPropagation belongs on the SubmissionSet HasMember of a new version, not on association ${a.entryUuid}`;
      return a.associationPropagation === 'yes' || a.associationPropagation === 'no' ? undefined : `AssociationPropagation "${a.associationPropagation}" is neither yes nor no`;
    },
  ),
  perObject<DocumentEntry | Folder, UpdateRuleContext>(
    {
      id: 'MU-logical-object-registered',
      description: 'The lid of a new version names a registered logical object (NIST 15800b)',
      errorCode: 'XDSMetadataVersionError',
    },
    newVersions,
    (obj, ctx) => {
      const lid = obj.logicalUuid;
      if (lid === undefined || lid === obj.entryUuid || !isUuid(lid)) return undefined;
      return (ctx.update.versions.get(lid)?.length ?? 0) > 0 ? undefined : `no version of lid ${lid} is registered`;
    },
  ),
  perObject<DocumentEntry | Folder, UpdateRuleContext>(
    {
      id: 'MU-logical-object-type',
      description: 'A new version is of the kind of the logical object it versions (a DocumentEntry of a DocumentEntry, a Folder of a Folder)',
      errorCode: 'XDSMetadataUpdateError',
    },
    newVersions,
    (obj, ctx) => {
      const latest = obj.logicalUuid === undefined ? undefined : latestVersion(ctx.update.versions.get(obj.logicalUuid));
      return latest === undefined || latest.type === obj.type ? undefined : `lid ${obj.logicalUuid} names a ${latest.type}, not a ${obj.type}`;
    },
  ),
  perObject<DocumentEntry | Folder, UpdateRuleContext>(
    {
      id: 'MU-previous-version-latest',
      description: 'PreviousVersion is the version number of the latest registered version (NIST 15800e, 20000c; concurrent updates of one logical object)',
      errorCode: 'XDSMetadataVersionError',
    },
    newVersions,
    (obj, ctx) => {
      const latest = supersededBy(ctx, obj);
      const previous = previousVersionOf(ctx.submission, obj);
      if (latest === undefined || previous === undefined || previous === versionOf(latest)) return undefined;
      return `PreviousVersion ${previous} of ${obj.entryUuid} is not the latest version of lid ${obj.logicalUuid}, which is ${versionOf(latest)}`;
    },
  ),
  perObject<DocumentEntry | Folder, UpdateRuleContext>(
    {
      id: 'MU-latest-approved',
      description: 'The version a new version supersedes is Approved (a deprecated logical object is not updated)',
      errorCode: 'XDSMetadataUpdateError',
    },
    newVersions,
    (obj, ctx) => {
      const latest = supersededBy(ctx, obj);
      return latest === undefined || latest.availabilityStatus === 'Approved'
        ? undefined
        : `the latest version ${latest.entryUuid} of lid ${obj.logicalUuid} is ${latest.availabilityStatus}, not Approved`;
    },
  ),
  perObject<DocumentEntry | Folder, UpdateRuleContext>(
    {
      id: 'MU-same-uniqueId',
      description: 'A new version keeps the uniqueId of the logical object',
      errorCode: 'XDSMetadataIdentifierError',
    },
    newVersions,
    (obj, ctx) => {
      const latest = supersededBy(ctx, obj);
      if (latest === undefined || isBlank(obj.uniqueId) || obj.uniqueId === latest.uniqueId) return undefined;
      return `${obj.type} ${obj.entryUuid} has uniqueId ${obj.uniqueId}; lid ${obj.logicalUuid} has ${latest.uniqueId ?? '(none)'}`;
    },
  ),
  perObject<DocumentEntry, UpdateRuleContext>(
    {
      id: 'MU-same-objectType',
      description: 'A new DocumentEntry version keeps its objectType (stable or on-demand)',
      errorCode: 'UnmodifiableMetadataError',
    },
    (sub) => sub.documentEntries,
    (de, ctx) => {
      const latest = supersededBy(ctx, de);
      if (latest?.type !== 'DocumentEntry' || latest.objectType === de.objectType) return undefined;
      return `objectType ${de.objectType} of ${de.entryUuid} differs from ${latest.objectType} of the version it supersedes`;
    },
  ),
  perObject<DocumentEntry | Folder, UpdateRuleContext>(
    {
      id: 'MU-patient-change',
      description:
        'A new version may name another patient only when the version it supersedes is linked to nothing but SubmissionSets: no folder, no document relationship (NIST 21002, 21003)',
      errorCode: 'XDSPatientIDReconciliationError',
    },
    newVersions,
    (obj, ctx) => {
      const latest = supersededBy(ctx, obj);
      if (latest === undefined || isBlank(obj.patientId) || obj.patientId === latest.patientId) return undefined;
      const linked = (ctx.update.linksOfLatest.get(latest.entryUuid) ?? []).find((a) => {
        if (a.availabilityStatus !== 'Approved') return false;
        const other = a.sourceUuid === latest.entryUuid ? a.targetUuid : a.sourceUuid;
        return ctx.registry.byUuid.get(other)?.type !== 'SubmissionSet';
      });
      return linked === undefined
        ? undefined
        : `${obj.type} ${obj.entryUuid} moves lid ${obj.logicalUuid} from patient ${latest.patientId} to ${obj.patientId}, but it is linked by ${typeName(linked.associationType)} ${linked.entryUuid}`;
    },
  ),
];

// ---------------------------------------------------------------- status changes (UpdateAvailabilityStatus)

const statusTarget = (ctx: RuleContext, a: Association) => resolve(ctx, a.targetUuid);

export const statusRules: readonly UpdateRule[] = [
  perObject<Association, UpdateRuleContext>(
    { id: 'MU-status-source', description: 'An UpdateAvailabilityStatus association starts at the SubmissionSet of the request', errorCode: 'XDSMetadataUpdateError' },
    statusUpdates,
    (a, ctx) => (a.sourceUuid === ctx.submission.submissionSet.entryUuid ? undefined : `UpdateAvailabilityStatus ${a.entryUuid} starts at ${a.sourceUuid}, not at the SubmissionSet`),
  ),
  perObject<Association, UpdateRuleContext>(
    {
      id: 'MU-status-slots',
      description: 'An UpdateAvailabilityStatus association carries OriginalStatus and NewStatus, each Approved or Deprecated',
      errorCode: 'XDSMetadataUpdateOperationError',
    },
    statusUpdates,
    (a) => {
      if (statusValue(a.originalStatus) === undefined) return `OriginalStatus "${a.originalStatus ?? '(none)'}" of ${a.entryUuid} is not Approved or Deprecated`;
      if (statusValue(a.newStatus) === undefined) return `NewStatus "${a.newStatus ?? '(none)'}" of ${a.entryUuid} is not Approved or Deprecated`;
      return undefined;
    },
  ),
  perObject<Association, UpdateRuleContext>(
    {
      id: 'MU-status-target-kind',
      description: 'The status of a DocumentEntry or an Association may be changed, not that of a SubmissionSet or Folder (NIST 21001)',
      errorCode: 'XDSMetadataUpdateOperationError',
    },
    statusUpdates,
    (a, ctx) => {
      const target = statusTarget(ctx, a);
      return target === undefined || target.type === 'DocumentEntry' || target.type === 'Association'
        ? undefined
        : `the availabilityStatus of a ${target.type} (${a.targetUuid}) is not changed by an update`;
    },
  ),
  perObject<Association, UpdateRuleContext>(
    { id: 'MU-status-original', description: 'OriginalStatus is the current availabilityStatus of the target', errorCode: 'XDSMetadataUpdateError' },
    statusUpdates,
    (a, ctx) => {
      const target = statusTarget(ctx, a);
      const original = statusValue(a.originalStatus);
      if (target === undefined || original === undefined || currentStatus(ctx, target) === original) return undefined;
      return `OriginalStatus ${original} of ${a.entryUuid}, but ${a.targetUuid} is ${currentStatus(ctx, target)}`;
    },
  ),
  perObject<Association, UpdateRuleContext>(
    { id: 'MU-status-latest', description: 'A DocumentEntry whose status changes is the latest version of its logical DocumentEntry (NIST 15802b)', errorCode: 'XDSMetadataUpdateError' },
    statusUpdates,
    (a, ctx) => {
      const target = statusTarget(ctx, a);
      if (target?.type !== 'DocumentEntry' || ctx.inMessage.has(target.entryUuid)) return undefined;
      const latest = latestVersion(ctx.update.versions.get(target.logicalUuid ?? target.entryUuid));
      return latest === undefined || latest.entryUuid === target.entryUuid
        ? undefined
        : `${target.entryUuid} is version ${versionOf(target)} of lid ${target.logicalUuid ?? target.entryUuid}; only the latest version (${versionOf(latest)}) changes status`;
    },
  ),
  perObject<Association, UpdateRuleContext>(
    {
      id: 'MU-status-association-kind',
      description: 'An association whose status changes is a Folder HasMember or a document relationship, never a SubmissionSet membership',
      errorCode: 'XDSMetadataUpdateError',
    },
    statusUpdates,
    (a, ctx) => {
      const target = statusTarget(ctx, a);
      if (target?.type !== 'Association') return undefined;
      if (DOCUMENT_RELATIONSHIPS.includes(target.associationType)) return undefined;
      if (target.associationType === HasMember && resolve(ctx, target.sourceUuid)?.type === 'Folder') return undefined;
      return `the status of ${typeName(target.associationType)} association ${target.entryUuid} cannot be changed (only Folder memberships and document relationships)`;
    },
  ),
  {
    id: 'MU-status-once',
    description: 'One request changes the status of an object at most once',
    errorCode: 'XDSMetadataUpdateOperationError',
    check(ctx) {
      const seen = new Set<string>();
      const errors: RegistryErrorInfo[] = [];
      for (const a of statusUpdates(ctx.submission)) {
        if (seen.has(a.targetUuid)) errors.push(error('XDSMetadataUpdateOperationError', `the status of ${a.targetUuid} is changed more than once`, a.entryUuid));
        seen.add(a.targetUuid);
      }
      return errors;
    },
  },
  perObject<Association, UpdateRuleContext>(
    { id: 'MU-status-patient', description: 'A DocumentEntry whose status changes belongs to the patient of the SubmissionSet', errorCode: 'XDSPatientIdDoesNotMatch' },
    statusUpdates,
    (a, ctx) => {
      const target = statusTarget(ctx, a);
      const patient = ctx.submission.submissionSet.patientId;
      if (target?.type !== 'DocumentEntry' || isBlank(patient) || isBlank(target.patientId) || target.patientId === patient) return undefined;
      return `${target.entryUuid} belongs to patient ${target.patientId}, the SubmissionSet to ${patient}`;
    },
  ),
];

// ---------------------------------------------------------------- new associations (SubmitAssociation)

/** The registered objects at the two ends of a submitted association (undefined where not registered). */
function registeredEnds(ctx: RuleContext, a: Association): [RegistryObject | undefined, RegistryObject | undefined] {
  const end = (id: string): RegistryObject | undefined => (ctx.inMessage.has(id) ? undefined : ctx.registry.byUuid.get(id));
  return [end(a.sourceUuid), end(a.targetUuid)];
}

const patientOf = (o: RegistryObject | undefined): string | undefined => (o === undefined || o.type === 'Association' ? undefined : o.patientId);

export const submitRules: readonly UpdateRule[] = [
  perObject<Association, UpdateRuleContext>(
    {
      id: 'MU-submit-association',
      description: 'A SubmitAssociation association starts at the SubmissionSet and points at an association of the request',
      errorCode: 'XDSMetadataUpdateError',
    },
    (sub) => sub.associations.filter((a) => a.associationType === SubmitAssociation),
    (a, ctx) => {
      if (a.sourceUuid !== ctx.submission.submissionSet.entryUuid) return `SubmitAssociation ${a.entryUuid} starts at ${a.sourceUuid}, not at the SubmissionSet`;
      const target = ctx.inMessage.get(a.targetUuid);
      if (target?.type !== 'Association') return `SubmitAssociation ${a.entryUuid} points at ${a.targetUuid}, which is no association of this request`;
      return METADATA_UPDATE_ASSOCIATIONS.includes(target.associationType) ? `SubmitAssociation ${a.entryUuid} points at an update operation, not at an association to register` : undefined;
    },
  ),
  perObject<Association, UpdateRuleContext>(
    {
      id: 'MU-submitted-ends',
      description:
        'A submitted association links registered objects named by entryUUID: a Folder to a DocumentEntry (HasMember) or two DocumentEntries (relationships), never a SubmissionSet (NIST 20008)',
      errorCode: 'XDSMetadataUpdateError',
    },
    submittedAssociations,
    (a, ctx) => {
      const [source, target] = registeredEnds(ctx, a);
      if (source === undefined || target === undefined) {
        return `${typeName(a.associationType)} ${a.entryUuid} must link two registered objects by entryUUID (${source === undefined ? a.sourceUuid : a.targetUuid} is not one)`;
      }
      if (a.associationType === HasMember) {
        return source.type === 'Folder' && target.type === 'DocumentEntry' ? undefined : `a submitted HasMember links a Folder to a DocumentEntry, not a ${source.type} to a ${target.type}`;
      }
      return source.type === 'DocumentEntry' && target.type === 'DocumentEntry'
        ? undefined
        : `a submitted ${typeName(a.associationType)} links two DocumentEntries, not a ${source.type} and a ${target.type}`;
    },
  ),
  perObject<Association, UpdateRuleContext>(
    { id: 'MU-submitted-approved', description: 'Neither end of a submitted association is Deprecated (NIST 21004)', errorCode: 'XDSMetadataUpdateError' },
    submittedAssociations,
    (a, ctx) => {
      const deprecated = registeredEnds(ctx, a).find((o) => o !== undefined && o.availabilityStatus !== 'Approved');
      return deprecated === undefined ? undefined : `${typeName(a.associationType)} ${a.entryUuid} would hang on ${deprecated.entryUuid}, which is ${deprecated.availabilityStatus}`;
    },
  ),
  perObject<Association, UpdateRuleContext>(
    { id: 'MU-submitted-patient', description: 'A submitted association links objects of one patient (NIST 20100a, 20100b)', errorCode: 'XDSPatientIDReconciliationError' },
    submittedAssociations,
    (a, ctx) => {
      const [s, t] = registeredEnds(ctx, a).map(patientOf);
      return s === undefined || t === undefined || s === t ? undefined : `${typeName(a.associationType)} ${a.entryUuid} would link patient ${s} to patient ${t}`;
    },
  ),
  perObject<Association, UpdateRuleContext>(
    { id: 'MU-submitted-patient-submission', description: 'The objects a submitted association links belong to the patient of the SubmissionSet', errorCode: 'XDSPatientIdDoesNotMatch' },
    submittedAssociations,
    (a, ctx) => {
      const [s, t] = registeredEnds(ctx, a).map(patientOf);
      const patient = ctx.submission.submissionSet.patientId;
      // Ends of two patients are reported by MU-submitted-patient; this rule adds nothing then.
      if (s === undefined || s !== t || isBlank(patient) || s === patient) return undefined;
      return `${typeName(a.associationType)} ${a.entryUuid} links objects of patient ${s}, the SubmissionSet is of ${patient}`;
    },
  ),
  perObject<Association, UpdateRuleContext>(
    { id: 'MU-submitted-new', description: 'No Approved association of the same type links the same two objects already (NIST 20008)', errorCode: 'XDSMetadataUpdateError' },
    submittedAssociations,
    (a, ctx) => {
      const existing = (ctx.update.between.get(`${a.sourceUuid} ${a.targetUuid}`) ?? []).find(
        (r) => r.associationType === a.associationType && r.availabilityStatus === 'Approved',
      );
      return existing === undefined ? undefined : `${typeName(a.associationType)} ${existing.entryUuid} already links ${a.sourceUuid} to ${a.targetUuid}`;
    },
  ),
  perObject<Association, UpdateRuleContext>(
    {
      id: 'MU-submitted-no-replacement',
      description: 'RPLC and XFRM_RPLC are not submitted between registered documents: a replacement is registered with its new document (ITI-42)',
      errorCode: 'XDSMetadataUpdateOperationError',
    },
    submittedAssociations,
    (a) => (REPLACING.includes(a.associationType) ? `${typeName(a.associationType)} is registered with the replacing document (ITI-42), not submitted between registered ones` : undefined),
  ),
];

/** The update's SubmissionSet is new like any other; a new Folder version keeps its uniqueId (MU-same-uniqueId). */
export const submissionSetUniqueIdNew: UpdateRule = perObject<Submission['submissionSet'], UpdateRuleContext>(
  {
    id: 'MU-submissionSet-uniqueId-new',
    description: 'The SubmissionSet uniqueId is not already registered',
    errorCode: 'XDSDuplicateUniqueIdInRegistry',
  },
  (sub) => [sub.submissionSet],
  (ss, ctx) => ((ctx.registry.byUniqueId.get(ss.uniqueId ?? '')?.length ?? 0) > 0 && !isBlank(ss.uniqueId) ? `SubmissionSet.uniqueId ${ss.uniqueId} is already registered` : undefined),
);

// ---------------------------------------------------------------- what ITI-42 refuses

/**
 * Update content sent as a registration (NIST 21000, and the reverse of 15800c): ITI-42 registers
 * initial versions only, so an object whose lid is not its own id, or an association carrying the
 * update slots, is refused rather than stored as if it were an initial version.
 */
export const notAnUpdateRules: readonly Rule[] = [
  perObject<SubmittedObject, RuleContext>(
    {
      id: 'SUB-no-logical-id',
      description: 'An object registered with ITI-42 has no lid but its own id (new versions go through ITI-57)',
      errorCode: 'XDSRegistryMetadataError',
    },
    (sub) => [sub.submissionSet, ...sub.documentEntries, ...sub.folders],
    (obj) => {
      const lid = obj.type === 'Association' ? undefined : obj.logicalUuid;
      return lid === undefined || lid === obj.entryUuid ? undefined : `${obj.type} ${obj.entryUuid} has lid ${lid}: a new version of a registered object is submitted with Update Document Set (ITI-57)`;
    },
  ),
  perObject<Association, RuleContext>(
    {
      id: 'ASSOC-no-update-slots',
      description: 'PreviousVersion, AssociationPropagation, OriginalStatus and NewStatus belong to Update Document Set (ITI-57), not to ITI-42',
      errorCode: 'XDSRegistryMetadataError',
    },
    (sub) => sub.associations,
    (a) => {
      const slot = a.previousVersion !== undefined ? 'PreviousVersion' : a.associationPropagation !== undefined ? 'AssociationPropagation' : a.originalStatus !== undefined ? 'OriginalStatus' : a.newStatus !== undefined ? 'NewStatus' : undefined;
      return slot === undefined ? undefined : `association ${a.entryUuid} carries the ${slot} slot of a metadata update; send it with Update Document Set (ITI-57)`;
    },
  ),
];
