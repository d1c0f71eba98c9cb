/**
 * The NIST testkit's Document Registry and Document Repository collections, replayed against a
 * node started here: every applicable plan of R.b (ITI-42), SQ.b (ITI-18), PR.b (ITI-41),
 * Ret.b (ITI-43), reg_rm (ITI-62) and rep_rd (ITI-86) must pass. (The gateway collections need their own environment:
 * nist-gateway-conformance.test.ts.)
 */
import { expect } from 'chai';
import type { RunningNode } from '../../connector/node.js';
import { startConformanceNode } from '../../scripts/conformance/node.js';
import { runCollections, type ConformanceReport } from '../../scripts/conformance/runner.js';

/** Each collection and the fewest applicable plans it must have (so an empty run cannot pass). */
const COLLECTIONS: ReadonlyArray<[collection: string, minimumPlans: number]> = [
  ['R.b', 20],
  ['SQ.b', 12],
  ['PR.b', 6],
  ['Ret.b', 4],
  ['reg_rm', 8],
  ['rep_rd', 4],
];

describe('NIST conformance: Document Registry and Repository (R.b, SQ.b, PR.b, Ret.b, reg_rm, rep_rd)', function () {
  this.timeout(300_000);
  let node: RunningNode;
  let report: ConformanceReport;

  before(async () => {
    node = await startConformanceNode();
    report = await runCollections({
      baseUrl: node.url,
      collections: COLLECTIONS.map(([c]) => c),
      ...(node.config.homeCommunityId ? { homeCommunityId: node.config.homeCommunityId } : {}),
    });
  });
  after(async () => node?.close());

  for (const [collection, minimumPlans] of COLLECTIONS) {
    it(`passes every applicable ${collection} plan`, () => {
      const totals = report.totals.find((t) => t.collection === collection);
      expect(totals, `no totals for ${collection}`).to.not.equal(undefined);
      const failing = report.tests
        .filter((t) => !t.prerequisiteOnly && t.collections.includes(collection) && t.status !== 'pass' && t.status !== 'excluded')
        .map((t) => `${t.test} ${t.status}: ${t.sections.flatMap((s) => s.steps.flatMap((st) => st.reasons)).slice(0, 3).join(' | ')}`);
      expect(failing, failing.join('\n')).to.deep.equal([]);
      expect(totals!.applicable).to.be.at.least(minimumPlans);
      expect(totals!.passed).to.equal(totals!.applicable);
    });
  }
});
