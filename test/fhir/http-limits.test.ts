/**
 * The bound on what one ITI-65 request may make the node validate: a Bundle with more entries than
 * fhir.maxBundleEntries is refused with 413 before any entry is looked at (validation costs per
 * entry on the event loop), and one within the bound is validated as usual.
 */
import { expect } from 'chai';
import { startTestNode, type TestNode } from '../helpers/node.js';

const bundle = (entries: number): string =>
  JSON.stringify({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: Array.from({ length: entries }, () => ({ resource: { resourceType: 'DocumentReference' }, request: { method: 'POST', url: 'DocumentReference' } })),
  });

describe('MHD: the bound on Bundle entries (fhir.maxBundleEntries)', function () {
  this.timeout(30_000);
  let node: TestNode;
  const post = (body: string) => fetch(`${node.url}/fhir`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body });

  before(async () => {
    node = await startTestNode({ fhir: { maxBundleEntries: 10 } });
  });
  after(async () => node?.close());

  it('refuses a Bundle over the bound with 413 and an OperationOutcome naming the setting', async () => {
    const res = await post(bundle(11));
    expect(res.status).to.equal(413);
    const outcome = (await res.json()) as { resourceType: string; issue: { code: string; diagnostics: string }[] };
    expect(outcome.resourceType).to.equal('OperationOutcome');
    expect(outcome.issue[0]!.code).to.equal('too-costly');
    expect(outcome.issue[0]!.diagnostics).to.contain('fhir.maxBundleEntries');
  });

  it('refuses 100,000 entries the same way, and the node answers the next request', async () => {
    const res = await post(bundle(100_000));
    expect(res.status).to.equal(413);
    expect((await fetch(`${node.url}/health`)).status).to.equal(200);
  });

  it('validates a Bundle within the bound as usual (these empty entries are refused by the MHD rules, not by the bound)', async () => {
    const res = await post(bundle(10));
    expect(res.status).to.equal(400);
    const outcome = (await res.json()) as { issue: { code: string }[] };
    expect(outcome.issue.map((i) => i.code)).to.not.include('too-costly');
  });
});
