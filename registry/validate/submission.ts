/**
 * Rules over the submission as a whole: identifiers, uniqueness inside the message, one patient
 * for everything submitted, and membership of every entry and folder in the SubmissionSet.
 */
import { error, type RegistryErrorInfo } from '../model/errors.js';
import { ASSOCIATION_TYPE, isUuid } from '../model/metadata.js';
import { homeCommunityIdProblem } from './formats.js';
import { allObjects, isBlank, perObject, registryPackagesAndEntries, type Rule } from './rule.js';

export const identifierRules: readonly Rule[] = [
  perObject(
    {
      id: 'SUB-entryUUID-format',
      description: 'An id is either symbolic or a well-formed urn:uuid',
      errorCode: 'XDSRegistryMetadataError',
    },
    allObjects,
    (obj) => {
      if (isBlank(obj.entryUuid)) return 'an object has an empty id';
      if (obj.entryUuid.toLowerCase().startsWith('urn:uuid:') && !isUuid(obj.entryUuid)) {
        return `id "${obj.entryUuid}" starts with urn:uuid: but is not a UUID`;
      }
      return undefined;
    },
  ),
  {
    id: 'SUB-entryUUID-unique',
    description: 'Each id appears on one object of the submission only',
    errorCode: 'XDSRegistryMetadataError',
    check(ctx) {
      const seen = new Set<string>();
      const errors: RegistryErrorInfo[] = [];
      for (const obj of allObjects(ctx.submission)) {
        if (seen.has(obj.entryUuid)) errors.push(error('XDSRegistryMetadataError', `id ${obj.entryUuid} is used by more than one object`, obj.entryUuid));
        seen.add(obj.entryUuid);
      }
      return errors;
    },
  },
  {
    id: 'SUB-uniqueId-unique',
    description: 'A uniqueId appears on one DocumentEntry, Folder or SubmissionSet of the submission only',
    errorCode: 'XDSRegistryDuplicateUniqueIdInMessage',
    check(ctx) {
      const firstHolder = new Map<string, string>();
      const errors: RegistryErrorInfo[] = [];
      for (const obj of registryPackagesAndEntries(ctx.submission)) {
        if (isBlank(obj.uniqueId)) continue;
        const uid = obj.uniqueId ?? '';
        const first = firstHolder.get(uid);
        if (first === undefined) firstHolder.set(uid, obj.entryUuid);
        else errors.push(error('XDSRegistryDuplicateUniqueIdInMessage', `uniqueId ${uid} is also used by ${first}`, obj.entryUuid));
      }
      return errors;
    },
  },
  perObject(
    {
      id: 'SUB-homeCommunityId',
      description: 'A submitted homeCommunityId is urn:oid:<OID> and names this community',
      errorCode: 'XDSRegistryMetadataError',
    },
    allObjects,
    (obj, ctx) => {
      if (obj.homeCommunityId === undefined) return undefined;
      const p = homeCommunityIdProblem(obj.homeCommunityId);
      if (p) return p;
      if (ctx.homeCommunityId !== undefined && obj.homeCommunityId !== ctx.homeCommunityId) {
        return `homeCommunityId ${obj.homeCommunityId} is not this registry's community ${ctx.homeCommunityId}`;
      }
      return undefined;
    },
  ),
];

export const patientRules: readonly Rule[] = [
  perObject(
    { id: 'SUB-patientId-format', description: 'patientId is a CX id^^^&oid&ISO', errorCode: 'XDSRegistryMetadataError' },
    registryPackagesAndEntries,
    (obj, ctx) => (isBlank(obj.patientId) ? undefined : ctx.patientIds.checkFormat(obj.patientId ?? '')),
  ),
  perObject(
    {
      id: 'SUB-patientId-match',
      description: 'Every DocumentEntry and Folder has the SubmissionSet patientId',
      errorCode: 'XDSPatientIdDoesNotMatch',
    },
    (sub) => [...sub.documentEntries, ...sub.folders],
    (obj, ctx) => {
      const ssPatient = ctx.submission.submissionSet.patientId;
      if (isBlank(obj.patientId) || isBlank(ssPatient) || obj.patientId === ssPatient) return undefined;
      return `patientId ${obj.patientId} of ${obj.type} ${obj.entryUuid} differs from the SubmissionSet patientId ${ssPatient}`;
    },
  ),
  {
    id: 'SUB-patientId-known',
    description: 'The patient is known to the registry (valid Norwegian id or configured assigning authority)',
    errorCode: 'XDSUnknownPatientId',
    check(ctx) {
      // One error per distinct unknown patient, at the first object naming it: repeating it for
      // every entry of the same patient adds nothing for the submitter.
      const reported = new Set<string>();
      const errors: RegistryErrorInfo[] = [];
      for (const obj of registryPackagesAndEntries(ctx.submission)) {
        const pid = obj.patientId;
        if (pid === undefined || isBlank(pid) || reported.has(pid) || ctx.patientIds.checkFormat(pid) !== undefined) continue;
        if (!ctx.patientIds.isKnown(pid)) {
          reported.add(pid);
          errors.push(error('XDSUnknownPatientId', `patientId ${pid} is not known to this registry`, obj.entryUuid));
        }
      }
      return errors;
    },
  },
];

export const membershipRules: readonly Rule[] = [
  perObject(
    {
      id: 'SUB-member-of-submissionSet',
      description: 'Every submitted DocumentEntry and Folder is a HasMember target of the SubmissionSet',
      errorCode: 'XDSRegistryMetadataError',
    },
    (sub) => [...sub.documentEntries, ...sub.folders],
    (obj, ctx) => {
      const ssId = ctx.submission.submissionSet.entryUuid;
      const member = ctx.submission.associations.some(
        (a) => a.associationType === ASSOCIATION_TYPE.HasMember && a.sourceUuid === ssId && a.targetUuid === obj.entryUuid,
      );
      return member ? undefined : `${obj.type} ${obj.entryUuid} is not a member of the SubmissionSet`;
    },
  ),
];
