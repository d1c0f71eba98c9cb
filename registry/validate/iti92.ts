/**
 * The rule list of Restricted Update Document Set (ITI-92, IHE ITI Restricted Metadata Update
 * supplement): the ITI-57 rules for a new version of a DocumentEntry, less what RMU does not
 * allow, plus the attributes RMU does not let a new version change.
 *
 * An ITI-92 request has the shape of an ITI-57 one (a SubmissionSet, each new DocumentEntry version
 * carrying the lid of a registered one, linked by a HasMember with PreviousVersion), but it holds
 * nothing else: no Folder, no status change (UpdateAvailabilityStatus), no SubmitAssociation, no
 * other association. Anything else is no RMU operation: XDSMetadataUpdateOperationError, the code
 * the ITI-57 rules give an operation the option does not define. (The NIST toolkit's RMU simulator
 * answers these with XDSMetadataUpdateError; no NIST plan tests them.)
 *
 * WHERE IT DIFFERS FROM ITI-57 (iti57.ts), rule by rule:
 * - MU-latest-approved is left out: a Deprecated latest version may be updated, and the new version
 *   keeps its status (CP 1190; NIST 12319 / 12320 "RMU of DE with deprecated status"), which
 *   registry/update.ts plans;
 * - MU-patient-change is replaced by RMU-same-patientId: the patient never changes, linked or not
 *   (XDSPatientIDReconciliationError, NIST 40001b/patientId);
 * - RMU-same-sourcePatientId, -documentAvailability, -repositoryUniqueId and -availabilityStatus
 *   (UnmodifiableMetadataError, NIST 40001b) join MU-same-objectType (UnmodifiableMetadataError)
 *   and MU-same-uniqueId (XDSMetadataIdentifierError): the attributes the supplement keeps out of
 *   an update because they describe the stored document or the entry's state. Every other
 *   attribute may change (NIST 40001: author … URI, extra metadata);
 * - the operation, association and folder rules of ITI-57 (MU-operation-present,
 *   MU-association-role, MU-association-type, the status and submit rules, the Folder rules) give
 *   way to RMU-operation-present, RMU-association-kind and RMU-no-folder;
 * - SUB-homeCommunityId is replaced by RMU-homeCommunityId: an object that names another community
 *   is XDSUnknownCommunity, as for the responding gateway's other transactions, so that an update
 *   sent to the XCA Persistence Option (the responding gateway) and to the XDS Persistence Option
 *   (the registry) answer alike.
 * An attribute left out of the new version (a required one) is reported by the DE-required rules
 * with XDSRegistryMetadataError (NIST 40000d), not as a change: the unmodifiable rules compare only
 * what is sent.
 */
import { DOCUMENT_AVAILABILITY } from '../ebxml/constants.js';
import { error, type RegistryErrorInfo } from '../model/errors.js';
import { ASSOCIATION_TYPE, STATUS_URN_PREFIX, type Association, type DocumentEntry, type Folder, type Submission } from '../model/metadata.js';
import { associationRules } from './association.js';
import { documentEntryFormatRules, documentEntryRequiredRules } from './documentEntry.js';
import { validateUpdate, type UpdateValidationContext } from './iti57.js';
import { submissionSetUniqueIdNew, supersededBy, versionRules, type UpdateRule, type UpdateRuleContext } from './metadataUpdate.js';
import { documentUniqueIdKind, entryUuidNew } from './registryState.js';
import { isBlank, perObject, pickRules } from './rule.js';
import { identifierRules, patientRules } from './submission.js';
import { submissionSetFormatRules, submissionSetRequiredRules } from './submissionSet.js';

const entries = (sub: Submission): readonly DocumentEntry[] => sub.documentEntries;
const typeName = (associationType: string): string => associationType.slice(associationType.lastIndexOf(':') + 1);
const bareOid = (home: string): string => (home.startsWith('urn:oid:') ? home.slice('urn:oid:'.length) : home);

/** The registered latest version a new DocumentEntry version supersedes, if the lid names one. */
const previous = (ctx: UpdateRuleContext, de: DocumentEntry): DocumentEntry | undefined => {
  const latest = supersededBy(ctx, de);
  return latest?.type === 'DocumentEntry' ? latest : undefined;
};

/**
 * A rule that a new DocumentEntry version keeps one attribute of the version it supersedes; an
 * attribute not sent is the required rules' to report, an `absent` default (documentAvailability
 * Online) compares as sent.
 */
function unchanged(
  attribute: string,
  code: 'UnmodifiableMetadataError' | 'XDSPatientIDReconciliationError',
  value: (de: DocumentEntry) => string | undefined,
  absent?: string,
): UpdateRule {
  return perObject<DocumentEntry, UpdateRuleContext>(
    {
      id: `RMU-same-${attribute}`,
      description: `A Restricted Update does not change DocumentEntry.${attribute}`,
      errorCode: code,
    },
    entries,
    (de, ctx) => {
      const latest = previous(ctx, de);
      const sent = value(de) ?? absent;
      if (latest === undefined || sent === undefined || isBlank(sent)) return undefined;
      const registered = value(latest) ?? absent;
      return sent === registered ? undefined : `${attribute} of ${de.entryUuid} is ${sent}; lid ${de.logicalUuid} has ${registered ?? '(none)'}, which a Restricted Update may not change`;
    },
  );
}

/** Attributes RMU keeps out of an update (besides uniqueId and objectType, which ITI-57 keeps too). */
export const unmodifiableRules: readonly UpdateRule[] = [
  unchanged('patientId', 'XDSPatientIDReconciliationError', (de) => de.patientId),
  unchanged('sourcePatientId', 'UnmodifiableMetadataError', (de) => de.sourcePatientId),
  unchanged('documentAvailability', 'UnmodifiableMetadataError', (de) => de.documentAvailability, DOCUMENT_AVAILABILITY.Online),
  unchanged('repositoryUniqueId', 'UnmodifiableMetadataError', (de) => de.repositoryUniqueId),
  // A status is sent only where the source writes @status; unsent, the parser reads "Submitted".
  unchanged('availabilityStatus', 'UnmodifiableMetadataError', (de) =>
    de.availabilityStatus === 'Submitted' ? undefined : `${STATUS_URN_PREFIX}${de.availabilityStatus}`,
  ),
];

export const restrictedOperationRules: readonly UpdateRule[] = [
  {
    id: 'RMU-operation-present',
    description: 'A Restricted Update Document Set request carries at least one new DocumentEntry version',
    errorCode: 'XDSMetadataUpdateOperationError',
    check(ctx) {
      const sub = ctx.submission;
      return sub.documentEntries.length > 0 ? [] : [error('XDSMetadataUpdateOperationError', 'the request holds no new version of a DocumentEntry', sub.submissionSet.entryUuid)];
    },
  },
  perObject<Folder, UpdateRuleContext>(
    { id: 'RMU-no-folder', description: 'A Restricted Update makes no Folder (new or new version)', errorCode: 'XDSMetadataUpdateOperationError' },
    (sub) => sub.folders,
    (f) => `Folder ${f.entryUuid}: a Restricted Update Document Set updates DocumentEntries only (Folders through Update Document Set, ITI-57)`,
  ),
  perObject<Association, UpdateRuleContext>(
    {
      id: 'RMU-association-kind',
      description:
        'Every association is the SubmissionSet HasMember of a new DocumentEntry version: no status change, no SubmitAssociation, no other association',
      errorCode: 'XDSMetadataUpdateOperationError',
    },
    (sub) => sub.associations,
    (a, ctx) => {
      const sub = ctx.submission;
      if (a.associationType === ASSOCIATION_TYPE.HasMember && a.sourceUuid === sub.submissionSet.entryUuid && sub.documentEntries.some((d) => d.entryUuid === a.targetUuid)) {
        return undefined;
      }
      if (a.associationType === ASSOCIATION_TYPE.UpdateAvailabilityStatus) return `${a.entryUuid}: a Restricted Update changes no availabilityStatus (that is Update Document Set, ITI-57)`;
      if (a.associationType === ASSOCIATION_TYPE.SubmitAssociation) return `${a.entryUuid}: a Restricted Update submits no association (that is Update Document Set, ITI-57)`;
      return `${typeName(a.associationType)} association ${a.entryUuid} is no Restricted Update operation (only the SubmissionSet HasMember of a new DocumentEntry version)`;
    },
  ),
];

/** ITI-92 is an update of this community's entries: an object naming another community is not ours to update. */
export const homeCommunityRule: UpdateRule = perObject<Submission['submissionSet'] | DocumentEntry, UpdateRuleContext>(
  {
    id: 'RMU-homeCommunityId',
    description: 'A homeCommunityId sent on the SubmissionSet or a DocumentEntry names this community (bare OID or urn:oid:)',
    errorCode: 'XDSUnknownCommunity',
  },
  (sub) => [sub.submissionSet, ...sub.documentEntries],
  (obj, ctx) => {
    const home = obj.homeCommunityId?.trim();
    if (home === undefined || home === '' || ctx.homeCommunityId === undefined) return undefined;
    return bareOid(home) === bareOid(ctx.homeCommunityId) ? undefined : `${obj.type} ${obj.entryUuid} names community ${home}; this is ${ctx.homeCommunityId}`;
  },
);

/**
 * An ITI-57 version rule as RMU applies it: to the DocumentEntries only. A Folder in an RMU request
 * is RMU-no-folder's to report, once, not also a Folder version the version rules would judge.
 */
function onEntries(rule: UpdateRule): UpdateRule {
  return { ...rule, check: (ctx) => rule.check(ctx.submission.folders.length === 0 ? ctx : { ...ctx, submission: { ...ctx.submission, folders: [] } }) };
}

export const iti92Rules: readonly UpdateRule[] = [
  ...identifierRules.filter((r) => r.id !== 'SUB-homeCommunityId'),
  homeCommunityRule,
  ...patientRules,
  ...submissionSetRequiredRules,
  ...submissionSetFormatRules,
  ...documentEntryRequiredRules,
  ...documentEntryFormatRules,
  ...pickRules(associationRules, ['ASSOC-references-resolve', 'HM-shape', 'HM-submissionSetStatus']),
  entryUuidNew,
  documentUniqueIdKind,
  submissionSetUniqueIdNew,
  ...restrictedOperationRules,
  ...pickRules(versionRules, [
    'MU-logical-id',
    'MU-logical-id-once',
    'MU-version-membership',
    'MU-previous-version-slot',
    'MU-association-propagation-slot',
    'MU-logical-object-registered',
    'MU-logical-object-type',
    'MU-previous-version-latest',
    'MU-same-uniqueId',
    'MU-same-objectType',
  ]).map(onEntries),
  ...unmodifiableRules,
];

/** Runs every ITI-92 rule; all problems, located at the ids the source sent. */
export function validateRestrictedUpdate(submission: Submission, ctx: UpdateValidationContext): RegistryErrorInfo[] {
  return validateUpdate(submission, ctx, iti92Rules);
}
