/**
 * Issue 14, item 1: N namespace declarations on one element plus M children that declare one
 * prefix each. The reader used to copy the whole namespace table into every declaring child
 * (N × M time and memory: a 0.92 MB body with N = M = 20,000 ran the node out of heap), and
 * connector/trust/locate.ts did the same. Time is compared between sizes, never against a clock:
 * when the input grows 8×, linear work grows about 8× (up to twice that here: the collector has
 * a larger heap to walk, the caches hold less), quadratic work 64×. Times are CPU time of this
 * process, the best of three runs, so that other work on a shared machine does not count.
 */
import { expect } from 'chai';
import { locateAssertions } from '../../connector/trust/locate.js';
import { NS } from '../../registry/xml/namespaces.js';
import { parseXml, XmlParseError, type XmlParseLimits } from '../../registry/xml/parse.js';
import type { XmlElement } from '../../registry/xml/tree.js';

/**
 * `<r xmlns:p0=… … xmlns:pN-1=…>` then M × `<p0:c xmlns:qJ=…/>`: every child sees N + 1 bindings.
 * With `samePrefix` every child declares the same prefix `q` (each one then adds and removes one
 * binding beside the N others: with a Map `delete`, V8 rehashed the whole table again and again).
 */
function bomb(n: number, m: number, samePrefix = false): string {
  const parts: string[] = ['<r'];
  for (let i = 0; i < n; i++) parts.push(` xmlns:p${i}="urn:p:${i}"`);
  parts.push('>');
  for (let j = 0; j < m; j++) parts.push(`<p0:c xmlns:q${samePrefix ? '' : j}="urn:q:${j}"/>`);
  parts.push('</r>');
  return parts.join('');
}

const UNCAPPED: XmlParseLimits = { maxNamespaceDeclarationsPerElement: Infinity, maxNamespaceDeclarations: Infinity };

function refusal(fn: () => unknown): XmlParseError {
  try {
    fn();
  } catch (e) {
    if (e instanceof XmlParseError) return e;
    throw e;
  }
  throw new Error('accepted');
}

/** CPU ms of the fastest of three runs (after one to warm up): the least disturbed by anything else. */
function cpuTime(fn: () => unknown): number {
  fn();
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const start = process.cpuUsage();
    fn();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

/** How much longer `large` takes than `small` (whose input is 8× smaller). */
function growth(small: () => unknown, large: () => unknown): number {
  return cpuTime(large) / Math.max(cpuTime(small), 0.5);
}

describe('namespace bomb (issue 14)', function () {
  this.timeout(60_000);

  it('a small one within the caps parses, with every binding in scope where it should be', () => {
    const root = parseXml(bomb(60, 2000));
    expect(root.children).to.have.length(2000);
    const last = root.children[1999] as XmlElement;
    expect(last).to.include({ ns: 'urn:p:0', local: 'c' });
    expect(last.nsScope?.['q1999']).to.equal('urn:q:1999');
    expect(last.nsScope?.['p59']).to.equal('urn:p:59');
    // A sibling's declaration is not in scope; inherited bindings read through the chain.
    expect(last.nsScope?.['q1998']).to.equal(undefined);
    let seen = 0;
    for (const prefix in last.nsScope) if (prefix.startsWith('p') || prefix === 'q1999') seen++;
    expect(seen).to.equal(61);
  });

  it('the N = M = 20,000 body (about 1 MB) is refused by the per-element cap before it costs anything', () => {
    const text = bomb(20_000, 20_000);
    expect(text.length).to.be.within(800_000, 1_200_000);
    // Bounded memory: what the refusal leaves on the heap (a collection can only make it less)
    // is about the decoded input, where the old reader needed gigabytes.
    const before = process.memoryUsage().heapUsed;
    const e = refusal(() => parseXml(Buffer.from(text)));
    expect(process.memoryUsage().heapUsed - before).to.be.lessThan(32 * 1024 * 1024);
    expect(e.reason).to.equal('malformed');
    expect(e.limit).to.equal('maxNamespaceDeclarationsPerElement');
    expect(e.message).to.contain('more than 64 namespace declarations on <r>');
    // It stopped at the 65th declaration, exactly where a 2,000 × 2,000 one (90 KB) stops: the
    // work done is bounded whatever follows, and what remains is the input's linear scans.
    const small = bomb(2000, 2000);
    expect(refusal(() => parseXml(small)).message).to.equal(e.message);
    const ratio = cpuTime(() => refusal(() => parseXml(text))) / Math.max(cpuTime(() => refusal(() => parseXml(small))), 0.05);
    expect(ratio, `time ratio ${ratio.toFixed(1)} for 11× the input`).to.be.lessThan(40);
  });

  it('many declaring children are refused by the per-document cap', () => {
    const e = refusal(() => parseXml(bomb(10, 1000), { maxNamespaceDeclarations: 500 }));
    expect(e.limit).to.equal('maxNamespaceDeclarations');
    expect(e.message).to.contain('more than 500 namespace declarations in the document');
  });

  it('without caps, parse time grows linearly: 8× the input, well under 64× the time', () => {
    for (const samePrefix of [false, true]) {
      const small = bomb(4000, 4000, samePrefix);
      const large = bomb(32_000, 32_000, samePrefix);
      const ratio = growth(() => parseXml(small, UNCAPPED), () => parseXml(large, UNCAPPED));
      expect(ratio, `time ratio ${ratio.toFixed(1)}${samePrefix ? ', one prefix redeclared' : ''}`).to.be.lessThan(40);
    }
  });

  it('attributes are capped per element and per document', () => {
    const many = `<r ${Array.from({ length: 300 }, (_, i) => `a${i}="${i}"`).join(' ')}/>`;
    expect(refusal(() => parseXml(many)).limit).to.equal('maxAttributesPerElement');
    expect(parseXml(many, { maxAttributesPerElement: 300 }).attrs['a299']).to.equal('299');
    const spread = `<r>${'<c a="1" b="2"/>'.repeat(100)}</r>`;
    expect(parseXml(spread, { maxAttributes: 200 }).children).to.have.length(100);
    expect(refusal(() => parseXml(spread, { maxAttributes: 199 })).limit).to.equal('maxAttributes');
    // Declarations count as declarations, not as attributes.
    expect(parseXml('<r xmlns="urn:a" xmlns:p="urn:p" a="1"/>', { maxAttributesPerElement: 1, maxNamespaceDeclarationsPerElement: 2 }).attrs).to.deep.equal({ a: '1' });
  });

  it('undoes a declaration when its element closes, for the element itself and for self-closing ones', () => {
    const root = parseXml('<r xmlns:p="urn:1"><a xmlns:p="urn:2"><p:x/></a><p:y/><b xmlns:p="urn:3"/><p:z xmlns="urn:d"/><w/></r>');
    const kids = root.children as XmlElement[];
    expect((kids[0]!.children[0] as XmlElement).ns).to.equal('urn:2');
    expect(kids.slice(1).map((e) => e.ns)).to.deep.equal(['urn:1', '', 'urn:1', '']);
    expect(kids[3]!.nsScope).to.deep.equal({ p: 'urn:1', '': 'urn:d' });
    expect(kids[4]!.nsScope).to.deep.equal({ p: 'urn:1' });
  });

  describe('locateAssertions (connector/trust/locate.ts)', () => {
    /** An envelope whose Envelope declares N prefixes and whose Header holds M declaring blocks, then the assertion. */
    function envelope(n: number, m: number): string {
      const decls = Array.from({ length: n }, (_, i) => ` xmlns:p${i}="urn:p:${i}"`).join('');
      const blocks = Array.from({ length: m }, (_, j) => `<q${j}:b xmlns:q${j}="urn:q:${j}"/>`).join('');
      return (
        `<s:Envelope xmlns:s="${NS.soap12}"${decls}><s:Header>${blocks}<wsse:Security xmlns:wsse="${NS.wsse}">` +
        `<saml2:Assertion xmlns:saml2="${NS.saml2}" ID="a1"><saml2:Issuer>i</saml2:Issuer></saml2:Assertion>` +
        `</wsse:Security></s:Header><s:Body/></s:Envelope>`
      );
    }

    it('cuts the assertion out with every inherited declaration, none of the siblings', () => {
      const [found] = locateAssertions(envelope(3, 5));
      expect(found!.id).to.equal('a1');
      expect(found!.xml).to.contain(`xmlns:p2="urn:p:2"`).and.contain(`xmlns:s="${NS.soap12}"`).and.contain(`xmlns:wsse="${NS.wsse}"`);
      expect(found!.xml).not.to.contain('xmlns:q');
      expect(parseXml(found!.xml)).to.include({ ns: NS.saml2, local: 'Assertion' });
    });

    it('scans in linear time: 8× the input, well under 64× the time', () => {
      const small = envelope(4000, 4000);
      const large = envelope(32_000, 32_000);
      const ratio = growth(() => locateAssertions(small), () => locateAssertions(large));
      expect(ratio, `time ratio ${ratio.toFixed(1)}`).to.be.lessThan(40);
    });

    it('counts self-closing assertions against the limit too', () => {
      const many = `<saml2:Assertion xmlns:saml2="${NS.saml2}" ID="x"/>`.repeat(9);
      const text = `<s:Envelope xmlns:s="${NS.soap12}"><s:Header><wsse:Security xmlns:wsse="${NS.wsse}">${many}</wsse:Security></s:Header><s:Body/></s:Envelope>`;
      expect(() => locateAssertions(text)).to.throw(/too many SAML assertions/);
    });
  });
});
