/**
 * The NIST testkit's Document Repository collections, replayed against a node started here: every
 * applicable plan of PR.b (ITI-41) and Ret.b (ITI-43) must pass.
 */
import { expect } from 'chai';
import type { RunningNode } from '../../connector/node';
import { startConformanceNode } from '../../scripts/conformance/node';
import { runCollections, type ConformanceReport } from '../../scripts/conformance/runner';

describe('NIST conformance: Document Repository (PR.b, Ret.b)', function () {
  this.timeout(300_000);
  let node: RunningNode;
  let report: ConformanceReport;

  before(async () => {
    node = await startConformanceNode();
    report = await runCollections({
      baseUrl: node.url,
      collections: ['PR.b', 'Ret.b'],
      ...(node.config.homeCommunityId ? { homeCommunityId: node.config.homeCommunityId } : {}),
    });
  });
  after(async () => node?.close());

  for (const collection of ['PR.b', 'Ret.b']) {
    it(`passes every applicable ${collection} plan`, () => {
      const totals = report.totals.find((t) => t.collection === collection);
      expect(totals, `no totals for ${collection}`).to.not.equal(undefined);
      const failing = report.tests
        .filter((t) => !t.prerequisiteOnly && t.collections.includes(collection) && t.status !== 'pass' && t.status !== 'excluded')
        .map((t) => `${t.test} ${t.status}: ${t.sections.flatMap((s) => s.steps.flatMap((st) => st.reasons)).slice(0, 3).join(' | ')}`);
      expect(failing, failing.join('\n')).to.deep.equal([]);
      expect(totals!.applicable).to.be.greaterThanOrEqual(4);
      expect(totals!.passed).to.equal(totals!.applicable);
    });
  }
});
