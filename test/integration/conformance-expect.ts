/** The one verdict of the NIST conformance tests: every applicable plan of a collection passed. */
import { expect } from 'chai';
import type { ConformanceReport } from '../../scripts/conformance/runner.js';

/** Every applicable plan of `collection` passed, and there were at least `atLeast` (so an empty run cannot pass). */
export function expectAllApplicablePass(report: ConformanceReport, collection: string, atLeast: number): void {
  const totals = report.totals.find((t) => t.collection === collection);
  expect(totals, `no totals for ${collection}`).to.not.equal(undefined);
  const failing = report.tests
    .filter((t) => !t.prerequisiteOnly && t.collections.includes(collection) && t.status !== 'pass' && t.status !== 'excluded')
    .map((t) => `${t.test} ${t.status}: ${t.sections.flatMap((s) => s.steps.flatMap((st) => st.reasons)).slice(0, 3).join(' | ')}`);
  expect(failing, failing.join('\n')).to.deep.equal([]);
  expect(totals!.applicable).to.be.greaterThanOrEqual(atLeast);
  expect(totals!.passed).to.equal(totals!.applicable);
}

