export { iti42Rules, registerRules, validateSubmission, ruleContext } from './iti42.js';
export { iti57Rules, validateUpdate, type UpdateValidationContext } from './iti57.js';
export { iti92Rules, validateRestrictedUpdate } from './iti92.js';
export { EMPTY_UPDATE_STATE, notAnUpdateRules, type UpdateRule, type UpdateRuleContext, type UpdateState } from './metadataUpdate.js';
export { EMPTY_SNAPSHOT, type RegistrySnapshot, type Rule, type RuleContext, type ValidationContext } from './rule.js';
export { ITI42_ASSOCIATION_TYPES } from './association.js';
