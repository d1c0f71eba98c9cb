/**
 * The rule list of Register Document Set-b (ITI-42), in the order the profile reads: the
 * submission's identity and patient, then each object type's required attributes and formats,
 * then associations, then what the registry already holds.
 */
import type { RegistryErrorInfo } from '../model/errors.js';
import type { Submission } from '../model/metadata.js';
import { associationRules } from './association.js';
import { documentEntryFormatRules, documentEntryRequiredRules } from './documentEntry.js';
import { folderFormatRules, folderRequiredRules } from './folder.js';
import { notAnUpdateRules } from './metadataUpdate.js';
import { registryStateRules } from './registryState.js';
import { allObjects, EMPTY_SNAPSHOT, type Rule, type RuleContext, type SubmittedObject, type ValidationContext } from './rule.js';
import { identifierRules, membershipRules, patientRules } from './submission.js';
import { submissionSetFormatRules, submissionSetRequiredRules } from './submissionSet.js';

export const iti42Rules: readonly Rule[] = [
  ...identifierRules,
  ...patientRules,
  ...submissionSetRequiredRules,
  ...submissionSetFormatRules,
  ...documentEntryRequiredRules,
  ...documentEntryFormatRules,
  ...folderRequiredRules,
  ...folderFormatRules,
  ...membershipRules,
  ...associationRules,
  ...registryStateRules,
];

/**
 * What a registration is checked for: the rules above, and that it carries no metadata update
 * (metadataUpdate.ts `notAnUpdateRules`: a lid other than the object's id, the update slots).
 */
export const registerRules: readonly Rule[] = [...iti42Rules, ...notAnUpdateRules];

export function ruleContext(submission: Submission, ctx: ValidationContext): RuleContext {
  const inMessage = new Map<string, SubmittedObject>();
  for (const obj of allObjects(submission)) if (!inMessage.has(obj.entryUuid)) inMessage.set(obj.entryUuid, obj);
  return {
    submission,
    patientIds: ctx.patientIds,
    registry: ctx.registry ?? EMPTY_SNAPSHOT,
    ...(ctx.homeCommunityId === undefined ? {} : { homeCommunityId: ctx.homeCommunityId }),
    inMessage,
  };
}

/** Runs every rule and returns all problems found (not just the first), located at the submitted ids. */
export function validateSubmission(submission: Submission, ctx: ValidationContext, rules: readonly Rule[] = registerRules): RegistryErrorInfo[] {
  const context = ruleContext(submission, ctx);
  // A loop, not flatMap: nearly every rule finds nothing, and flatMap spent more on ~50 empty
  // arrays than the rules on the submission.
  const errors: RegistryErrorInfo[] = [];
  for (const rule of rules) {
    const found = rule.check(context);
    for (let i = 0; i < found.length; i++) errors.push(found[i]!);
  }
  return errors;
}
