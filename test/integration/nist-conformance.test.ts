/**
 * The NIST testkit's Document Registry and Document Repository collections, replayed against a
 * node started here: every applicable plan of R.b (ITI-42), SQ.b (ITI-18), PR.b (ITI-41),
 * Ret.b (ITI-43), reg_rm (ITI-62), rep_rd (ITI-86), reg_mu (ITI-57), reg_rmu (ITI-92), the wider reg, rep,
 * reg_catlifecycle and reg_catfolder collections, and, on a node of its own, reg_mpq (ITI-51) must pass. (The gateway collections need their own environment:
 * nist-gateway-conformance.test.ts.)
 */
import type { RunningNode } from '../../connector/node.js';
import { startConformanceNode } from '../../scripts/conformance/node.js';
import { MPQ_COLLECTION, mpqRunOptions } from '../../scripts/conformance/mpq.js';
import { runCollections, type ConformanceReport } from '../../scripts/conformance/runner.js';
import { expectAllApplicablePass } from './conformance-expect.js';

/** Each collection and the fewest applicable plans it must have (so an empty run cannot pass). */
const COLLECTIONS: ReadonlyArray<[collection: string, minimumPlans: number]> = [
  ['R.b', 20],
  ['SQ.b', 12],
  ['PR.b', 6],
  ['Ret.b', 4],
  ['reg_rm', 8],
  ['reg_rmd_rm', 8],
  ['rep_rd', 4],
  ['reg', 37],
  ['rep', 13],
  ['reg_catlifecycle', 10],
  ['reg_catfolder', 6],
  ['reg_mu', 25],
  ['reg_rmu', 9],
];

describe('NIST conformance: Document Registry and Repository', function () {
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
    it(`passes every applicable ${collection} plan`, () => expectAllApplicablePass(report, collection, minimumPlans));
  }
});

describe('NIST conformance: Multi-Patient Stored Query (reg_mpq), on a node of its own', function () {
  this.timeout(120_000);
  let node: RunningNode;
  let report: ConformanceReport;

  before(async () => {
    node = await startConformanceNode();
    report = await runCollections({
      baseUrl: node.url,
      collections: [MPQ_COLLECTION],
      ...(node.config.homeCommunityId ? { homeCommunityId: node.config.homeCommunityId } : {}),
      ...mpqRunOptions(),
    });
  });
  after(async () => node?.close());

  it('passes 12364 (FindDocumentsForMultiplePatients, eight queries) on the data 12361 loads', () => expectAllApplicablePass(report, MPQ_COLLECTION, 1));
});
