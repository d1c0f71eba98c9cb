/**
 * Our XML reader against saxes on generated and mutated documents (scripts/fuzz/differential.ts):
 * no document that one accepts and the other refuses, no accepted document read differently,
 * apart from the differences listed there by design. Seeded: the same documents on every run.
 * `npx tsx scripts/fuzz/differential.ts --cases 100000 --seed N` runs more.
 */
import { expect } from 'chai';
import { formatDifferential, namespaceWhitespace, runDifferential, treeDifference } from '../../scripts/fuzz/differential.js';
import { parseWithSaxes } from '../../scripts/fuzz/saxes-reader.js';
import { parseXml } from '../../registry/xml/parse.js';

describe('XML reader against saxes (differential fuzzing)', function () {
  this.timeout(60_000);

  it('4,000 documents: the readers agree but for the differences by design', () => {
    const s = runDifferential({ seed: 14, cases: 4000 });
    expect(s.findings, formatDifferential(s)).to.deep.equal([]);
    // The generator keeps both outcomes common, and reaches every difference by design it knows
    // of but the caps (which it stays under).
    expect(s.bothAccept, formatDifferential(s)).to.be.greaterThan(500);
    expect(s.bothRefuse, formatDifferential(s)).to.be.greaterThan(500);
    for (const k of ['doctype', 'version', 'encoding', 'namespace-trim', 'saxes-pi'] as const) expect(s.byDesign[k], k).to.be.greaterThan(0);
  });

  it('the comparison itself sees a difference in names, attributes, text and bindings', () => {
    const read = (x: string) => parseXml(x);
    const ref = (x: string) => parseWithSaxes(x).root;
    expect(treeDifference(read('<a xmlns="u" v="1">t<b/></a>'), ref('<a xmlns="u" v="1">t<b/></a>'))).to.equal(undefined);
    expect(treeDifference(read('<a v="1"/>'), ref('<a v="2"/>'))).to.contain('@v');
    expect(treeDifference(read('<a>x</a>'), ref('<a>y</a>'))).to.contain('text');
    expect(treeDifference(read('<a xmlns:p="u"><b/></a>'), ref('<a xmlns:p="w"><b/></a>'))).to.contain('nsScope');
    expect(treeDifference(read('<a><b/></a>'), ref('<a><c/></a>'))).to.contain('element');
    expect(namespaceWhitespace('<a xmlns:p=" u"/>')).to.equal(true);
    expect(namespaceWhitespace('<a xmlns:p="u&#x20;"/>')).to.equal(true);
    expect(namespaceWhitespace('<a xmlns:p="u v"/>')).to.equal(false);
  });
});
