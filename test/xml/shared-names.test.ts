/**
 * The reader keeps the names it has met from document to document (issue 19, SHARED_NAMES in
 * registry/xml/parse.ts), with what each resolved to in the document being read. These tests make
 * sure that nothing one document bound leaks into the next: the same prefixes bound to other
 * namespaces, the same names in no namespace, documents read in turn, a document refused half
 * way, and names crafted to share a bucket of the table.
 */
import { expect } from 'chai';
import { parseXml, XmlParseError } from '../../registry/xml/parse.js';
import type { XmlElement } from '../../registry/xml/tree.js';

/** The names, namespaces and attribute keys of a tree, in document order. */
function shape(el: XmlElement): string[] {
  const out = [`${el.ns}|${el.local}|${Object.keys(el.attrs).join(',')}`];
  for (const c of el.children) if (typeof c !== 'string') out.push(...shape(c));
  return out;
}

function document(uriA: string, uriB: string): string {
  return (
    `<p:root xmlns:p="${uriA}" xmlns:q="${uriB}" p:x="1" q:y="2" z="3">` +
    `<p:child q:y="4"><q:leaf p:x="5"/></p:child>` +
    `<q:child xmlns:p="${uriB}" p:x="6"><p:leaf/></q:child>` +
    `<plain z="7"/></p:root>`
  );
}

describe('parseXml keeps names across documents (issue 19)', () => {
  it('resolves the same prefixes by each document’s own bindings', () => {
    const first = parseXml(document('urn:a', 'urn:b'));
    const second = parseXml(document('urn:c', 'urn:d'));
    expect(shape(first)).to.deep.equal([
      'urn:a|root|{urn:a}x,{urn:b}y,z',
      'urn:a|child|{urn:b}y',
      'urn:b|leaf|{urn:a}x',
      'urn:b|child|{urn:b}x',
      'urn:b|leaf|',
      '|plain|z',
    ]);
    expect(shape(second)).to.deep.equal([
      'urn:c|root|{urn:c}x,{urn:d}y,z',
      'urn:c|child|{urn:d}y',
      'urn:d|leaf|{urn:c}x',
      'urn:d|child|{urn:d}x',
      'urn:d|leaf|',
      '|plain|z',
    ]);
  });

  it('reads documents in turn as each reads alone', () => {
    const docs = [
      document('urn:a', 'urn:b'),
      '<root xmlns="urn:default"><child z="1"/><p:x xmlns:p="urn:p"/></root>',
      document('urn:b', 'urn:a'),
      '<root><child z="1"/></root>',
      document('urn:a', 'urn:b'),
      '<p:root xmlns:p="urn:other"><p:child/></p:root>',
    ];
    const alone = docs.map((d) => JSON.stringify(parseXml(d)));
    for (let round = 0; round < 3; round++) {
      docs.forEach((d, i) => expect(JSON.stringify(parseXml(d)), `document ${i}, round ${round}`).to.equal(alone[i]));
    }
    expect(parseXml(docs[3]!).ns).to.equal('');
    expect(parseXml(docs[1]!).ns).to.equal('urn:default');
  });

  it('forgets a refused document’s bindings', () => {
    const refused = '<p:root xmlns:p="urn:refused"><p:child/><p:child/></p:wrong>';
    expect(() => parseXml(refused)).to.throw(XmlParseError);
    // Same names, the prefix now undeclared: refused, not resolved by what the last document bound.
    expect(() => parseXml('<p:root/>')).to.throw(XmlParseError, /undeclared namespace prefix/);
    expect(() => parseXml('<root><p:child/></root>')).to.throw(XmlParseError, /undeclared namespace prefix/);
    expect(parseXml('<p:root xmlns:p="urn:next"><p:child/></p:root>').ns).to.equal('urn:next');
  });

  it('reads names that share a bucket of the table, more than a bucket holds', () => {
    // Names whose hashes (as parse.ts computes them) agree in the bits that pick the bucket.
    const hash = (s: string) => [...s].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, 0);
    const colliding: string[] = [];
    for (let i = 0; colliding.length < 20; i++) {
      const name = `n${i.toString(36)}`;
      if ((hash(name) & 255) === (hash('rim:Slot') & 255)) colliding.push(name);
    }
    const body = colliding.map((n, i) => `<${n} ${colliding[(i + 1) % colliding.length]}="${i}"><rim:Slot/></${n}>`).join('');
    const doc = `<rim:root xmlns:rim="urn:rim">${body}${body}</rim:root>`;
    for (let round = 0; round < 3; round++) {
      const root = parseXml(doc);
      const elements = root.children as XmlElement[];
      expect(elements.map((e) => e.local)).to.deep.equal([...colliding, ...colliding]);
      elements.forEach((e, i) => {
        expect(e.attrs).to.deep.equal({ [colliding[(i + 1) % colliding.length]!]: String(i % colliding.length) });
        expect((e.children[0] as XmlElement).ns).to.equal('urn:rim');
      });
      // The names the crafted document pushed out are read again as before.
      expect(shape(parseXml(document('urn:a', 'urn:b')))[0]).to.equal('urn:a|root|{urn:a}x,{urn:b}y,z');
    }
  });

  it('reads long names, which it does not keep, as any other', () => {
    const long = `p:${'x'.repeat(150)}`;
    const doc = `<${long} xmlns:p="urn:p" ${long}="1"><${long}/></${long}>`;
    const root = parseXml(doc);
    expect(root.ns).to.equal('urn:p');
    expect(root.local).to.equal('x'.repeat(150));
    expect(root.attrs).to.deep.equal({ [`{urn:p}${'x'.repeat(150)}`]: '1' });
    expect(() => parseXml(`<${long} xmlns:p="urn:p"></${long}x>`)).to.throw(XmlParseError, /does not match/);
  });
});
