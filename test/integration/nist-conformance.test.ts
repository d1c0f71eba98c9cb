/**
 * The NIST testkit's Document Registry collections, replayed against a node started here: every
 * applicable plan of R.b (ITI-42) and SQ.b (ITI-18) must pass.
 */
import { expect } from 'chai';
import { startConformanceNode } from '../../scripts/conformance/node';
import { runCollections, type ConformanceReport } from '../../scripts/conformance/runner';
import type { RunningNode } from '../../connector/node';

describe('NIST conformance: Document Registry (R.b, SQ.b)', function () {
  this.timeout(300_000);
  let node: RunningNode;
  let report: ConformanceReport;

  before(async () => {
    node = await startConformanceNode();
    report = await runCollections({
      baseUrl: node.url,
      collections: ['R.b', 'SQ.b'],
      ...(node.config.homeCommunityId ? { homeCommunityId: node.config.homeCommunityId } : {}),
    });
  });
  after(async () => node?.close());

  for (const collection of ['R.b', 'SQ.b']) {
    it(`passes every applicable ${collection} plan`, () => {
      const totals = report.totals.find((t) => t.collection === collection);
      expect(totals, `no totals for ${collection}`).to.not.equal(undefined);
      const failing = report.tests
        .filter((t) => !t.prerequisiteOnly && t.collections.includes(collection) && t.status !== 'pass' && t.status !== 'excluded')
        .map((t) => `${t.test} ${t.status}: ${t.sections.flatMap((s) => s.steps.flatMap((st) => st.reasons)).slice(0, 3).join(' | ')}`);
      expect(failing, failing.join('\n')).to.deep.equal([]);
      expect(totals!.applicable).to.be.greaterThan(10);
      expect(totals!.passed).to.equal(totals!.applicable);
    });
  }
});
