/**
 * What the reg_mpq collection (ITI-51, plan 12364) needs around the SUT, as the toolkit's operator
 * sets it up: plan 12361 loads the data first, its submissions for the patients of the feed plans
 * 15819 ($patient_id1$, three documents) and 15820 ($patient_id2$, one document) — links the
 * testkit's copy of 12361 has commented out and 12364's queries rely on (its one_pid query expects
 * 15820's patient to have one document). The queries without a patient id count every matching
 * document in the registry, so the collection needs a node of its own (empty before 12361).
 */
import type { RunOptions } from './runner.js';

export const MPQ_COLLECTION = 'reg_mpq';

export function mpqRunOptions(): Pick<RunOptions, 'loaders' | 'feedTokens'> {
  return {
    loaders: ['12361'],
    feedTokens: { '12361': { '$patient_id1$': '15819', '$patient_id2$': '15820' } },
  };
}
