/**
 * The rule list of Update Document Set (ITI-57), in the order the profile reads: what every
 * submission is checked for (identifiers, patient, required attributes and formats of the
 * SubmissionSet and of the new versions, the shape of associations), then the request as update
 * operations, then each kind of operation against the registry (metadataUpdate.ts).
 *
 * ITI-42 rules that do not hold for an update are left out, each for its reason:
 * - every DocumentEntry and Folder a member of the SubmissionSet (SUB-member-of-submissionSet):
 *   for a new version it is MU-version-membership, with the update's own code;
 * - ASSOC-type: the update's association types are MU-association-type's;
 * - the document relationship rules (REL-*): an update submits relationships between registered
 *   documents (MU-submitted-*), where ITI-42 needs the source in the submission;
 * - HM-folder-patient: a folder membership between two patients is MU-submitted-patient's
 *   XDSPatientIDReconciliationError;
 * - the resubmission rules (same uniqueId, same hash and size) and REG-package-uniqueId-new: a new
 *   version carries the uniqueId of its logical object, with any hash and size (NIST 15801), and
 *   only the SubmissionSet's uniqueId must be new (MU-submissionSet-uniqueId-new).
 */
import type { RegistryErrorInfo } from '../model/errors.js';
import type { Submission } from '../model/metadata.js';
import { associationRules } from './association.js';
import { documentEntryFormatRules, documentEntryRequiredRules } from './documentEntry.js';
import { folderFormatRules, folderRequiredRules } from './folder.js';
import { ruleContext } from './iti42.js';
import {
  operationRules,
  statusRules,
  submissionSetUniqueIdNew,
  submitRules,
  versionRules,
  type UpdateRule,
  type UpdateRuleContext,
  type UpdateState,
} from './metadataUpdate.js';
import { documentUniqueIdKind, entryUuidNew } from './registryState.js';
import { pickRules, type ValidationContext } from './rule.js';
import { identifierRules, patientRules } from './submission.js';
import { submissionSetFormatRules, submissionSetRequiredRules } from './submissionSet.js';

export const iti57Rules: readonly UpdateRule[] = [
  ...identifierRules,
  ...patientRules,
  ...submissionSetRequiredRules,
  ...submissionSetFormatRules,
  ...documentEntryRequiredRules,
  ...documentEntryFormatRules,
  ...folderRequiredRules,
  ...folderFormatRules,
  ...pickRules(associationRules, ['ASSOC-references-resolve', 'ASSOC-documentation-only-on-relationships', 'HM-shape', 'HM-submissionSetStatus']),
  entryUuidNew,
  documentUniqueIdKind,
  submissionSetUniqueIdNew,
  ...operationRules,
  ...versionRules,
  ...statusRules,
  ...submitRules,
];

export interface UpdateValidationContext extends ValidationContext {
  readonly update: UpdateState;
}

/** Runs every ITI-57 rule; all problems, located at the ids the source sent. */
export function validateUpdate(submission: Submission, ctx: UpdateValidationContext, rules: readonly UpdateRule[] = iti57Rules): RegistryErrorInfo[] {
  const context: UpdateRuleContext = { ...ruleContext(submission, ctx), update: ctx.update };
  const errors: RegistryErrorInfo[] = [];
  for (const rule of rules) errors.push(...rule.check(context));
  return errors;
}
