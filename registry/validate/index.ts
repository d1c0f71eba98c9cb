export { iti42Rules, validateSubmission, ruleContext } from './iti42.js';
export { EMPTY_SNAPSHOT, type RegistrySnapshot, type Rule, type RuleContext, type ValidationContext } from './rule.js';
export { ITI42_ASSOCIATION_TYPES } from './association.js';
