import { expect } from 'chai';
import { parseXml, XmlParseError } from '../../registry/xml/parse.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, childElements, textContent, type XmlElement } from '../../registry/xml/tree.js';
import { nhnSample } from '../../fixtures/index.js';

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof XmlParseError) return e.reason;
    throw e;
  }
  return 'accepted';
}

describe('parseXml', () => {
  it('resolves prefixes, default namespaces and scoping', () => {
    const root = parseXml(
      `<s:Envelope xmlns:s="${NS.soap12}" xmlns:a="${NS.wsa}"><s:Header><a:Action>act</a:Action>` +
        `<x:Action xmlns:x="urn:other">foreign</x:Action><Action xmlns="${NS.wsa}">dflt</Action></s:Header>` +
        `<Body xmlns="urn:d"><inner/><c xmlns=""/></Body></s:Envelope>`,
    );
    expect(root).to.include({ ns: NS.soap12, local: 'Envelope', prefix: 's' });
    const header = childElement(root, NS.soap12, 'Header')!;
    const actions = childElements(header, NS.wsa, 'Action');
    expect(actions.map(textContent)).to.deep.equal(['act', 'dflt']);
    expect(childElements(header, 'urn:other', 'Action').map(textContent)).to.deep.equal(['foreign']);
    const body = childElements(root)[1]!;
    expect(body).to.include({ ns: 'urn:d', local: 'Body' });
    expect(childElements(body).map((e) => [e.ns, e.local])).to.deep.equal([
      ['urn:d', 'inner'],
      ['', 'c'],
    ]);
    expect(header.nsScope).to.deep.equal({ s: NS.soap12, a: NS.wsa });
    expect(actions[0]!.prefix).to.equal('a');
  });

  it('keys namespaced attributes in Clark notation and leaves unprefixed attributes in no namespace', () => {
    const root = parseXml(
      `<r xmlns="urn:d" xmlns:p="urn:p" a="1" p:b="2" xml:lang="nb-NO" xmlns:q="urn:p"/>`,
    );
    expect(root.attrs).to.deep.equal({ a: '1', '{urn:p}b': '2', [`{${NS.xml}}lang`]: 'nb-NO' });
    expect(reason(() => parseXml('<r xmlns:p="urn:p" xmlns:q="urn:p" p:b="1" q:b="2"/>'))).to.equal('malformed');
  });

  it('rejects undeclared prefixes, mismatched tags and garbage as malformed', () => {
    for (const bad of [
      '<p:a/>',
      '<a p:x="1"/>',
      '<a><b></a></b>',
      '<a><b></b>',
      'hello',
      '',
      '<a/><b/>',
      '<a/>junk',
      'x<a/>',
      '<a x=1/>',
      '<a x/>',
      '<a x="1" x="2"/>',
      '<a>1 < 2</a>',
      '<a>1 & 2</a>',
      '<a>&nbsp;</a>',
      '<a>&#0;</a>',
      '<a>&#xD800;</a>',
      '<a x="<"/>',
      '<a></a></b>',
      '<1a/>',
      '<a:b:c xmlns:a="u"/>',
      '<a>\u0001</a>',
      '<a/><?xml version="1.0"?>',
      '<a xmlns:p=""/>',
      '<a><!-- unterminated </a>',
      '<a><![CDATA[x</a>',
    ]) {
      expect(reason(() => parseXml(bad)), bad).to.equal('malformed');
    }
  });

  it('rejects DOCTYPE and ENTITY declarations before parsing', () => {
    const laughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>';
    expect(reason(() => parseXml(laughs))).to.equal('doctype');
    expect(reason(() => parseXml('<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>'))).to.equal('doctype');
    expect(reason(() => parseXml('<a><!ENTITY x "y"></a>'))).to.equal('doctype');
    expect(reason(() => parseXml('<a><!-- <!doctype --></a>'))).to.equal('doctype');
  });

  it('rejects a depth bomb without exhausting the stack', () => {
    const n = 200_000;
    expect(reason(() => parseXml('<a>'.repeat(n) + '</a>'.repeat(n)))).to.equal('too-deep');
    expect(reason(() => parseXml('<a>'.repeat(200) + '</a>'.repeat(200)))).to.equal('accepted');
    expect(reason(() => parseXml('<a>'.repeat(201) + '</a>'.repeat(201)))).to.equal('too-deep');
    expect(reason(() => parseXml('<a><b><c/></b></a>', { maxDepth: 2 }))).to.equal('too-deep');
  });

  it('rejects input over the size limit', () => {
    expect(reason(() => parseXml(`<a>${'x'.repeat(2000)}</a>`, { maxBytes: 1000 }))).to.equal('too-large');
    expect(reason(() => parseXml(new TextEncoder().encode(`<a>${'x'.repeat(2000)}</a>`), { maxBytes: 1000 }))).to.equal('too-large');
    // Multi-byte characters count as bytes, not UTF-16 units.
    expect(reason(() => parseXml(`<a>${'ø'.repeat(400)}</a>`, { maxBytes: 800 }))).to.equal('too-large');
    expect(reason(() => parseXml(`<a>${'ø'.repeat(300)}</a>`, { maxBytes: 800 }))).to.equal('accepted');
  });

  it('decodes the predefined entities and numeric character references only', () => {
    const root = parseXml('<a v="&lt;&#65;&#x42;&quot;&apos;">&amp;&lt;&gt;&#x1F600;&#233;&#10;<![CDATA[&amp;<b>]]></a>');
    expect(root.attrs['v']).to.equal(`<AB"'`);
    expect(root.children).to.deep.equal(['&<>😀é\n&amp;<b>']);
  });

  it('normalises attribute whitespace and line ends as XML 1.0 requires', () => {
    const root = parseXml('<a v="x\ty\r\nz" w="&#9;&#10;&#13;">l1\r\nl2\rl3</a>');
    expect(root.attrs).to.deep.equal({ v: 'x y z', w: '\t\n\r' });
    expect(root.children).to.deep.equal(['l1\nl2\nl3']);
  });

  it('accepts a BOM, an XML declaration, comments and processing instructions', () => {
    const text = '\ufeff<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><?pi x?>\n<a><?pi y?><!-- d -->t</a>\n<!-- e -->\n';
    expect(parseXml(text).children).to.deep.equal(['t']);
    expect(parseXml(new TextEncoder().encode(text)).children).to.deep.equal(['t']);
    expect(reason(() => parseXml(new Uint8Array([0x3c, 0x61, 0x3e, 0xff, 0x3c, 0x2f, 0x61, 0x3e])))).to.equal('malformed');
  });

  it('drops layout whitespace but keeps text in text-only and mixed content', () => {
    const root = parseXml('<a>\n  <b>  </b>\n  <c>x <i>y</i> z</c>\n</a>');
    const [b, c] = childElements(root) as [XmlElement, XmlElement];
    expect(root.children).to.have.length(2);
    expect(b.children).to.deep.equal(['  ']);
    expect(c.children[0]).to.equal('x ');
    expect(c.children[2]).to.equal(' z');
  });

  it('keeps names that are Object.prototype members as plain own properties', () => {
    const root = parseXml('<a __proto__="x" constructor="y"/>');
    expect(Object.keys(root.attrs)).to.deep.equal(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(root.attrs)).to.equal(Object.prototype);
  });

  it('reads the XML declaration by its grammar (issue 14)', () => {
    for (const ok of [
      '<?xml version="1.0"?><a/>',
      "<?xml version = '1.0' encoding = 'utf-8' standalone = 'no' ?><a/>",
      '<?xml version="1.0" standalone="yes"?><a/>',
      '<?xml\tversion="1.0"\nencoding="US-ASCII"?><a/>',
      '<?xml-stylesheet href="x.xsl"?><a/>',
    ]) {
      expect(reason(() => parseXml(Buffer.from(ok))), ok).to.equal('accepted');
    }
    for (const bad of [
      '<?xml?><a/>',
      '<?xml encoding="UTF-8"?><a/>',
      '<?xml encoding="UTF-8" version="1.0"?><a/>',
      '<?xml version="1.0" standalone="yes" encoding="UTF-8"?><a/>',
      '<?xml VERSION="1.0"?><a/>',
      `<?xml version="1.0'?><a/>`,
      '<?xml version="1.0"encoding="UTF-8"?><a/>',
      '<?xml version="1.0" version="1.0"?><a/>',
      '<?xml version="1.0" valid="no"?><a/>',
      '<?xml version="1.0" standalone="YES"?><a/>',
      '<?xml version="1.0" encoding=" UTF-8"?><a/>',
      '<?xml version="1.0" encoding="a/b"?><a/>',
      '<?xml version="1.0 "?><a/>',
      '<?xml version="1.1"?><a/>',
      '<?XML version="1.0"?><a/>',
      '<?xmL version="1.0"?><a/>',
      ' <?xml version="1.0"?><a/>',
      '<!-- c --><?xml version="1.0"?><a/>',
    ]) {
      expect(reason(() => parseXml(Buffer.from(bad))), bad).to.equal('malformed');
    }
  });

  it('refuses a declared encoding that contradicts the bytes, but not in a string the caller decoded', () => {
    const utf16 = '<?xml version="1.0" encoding="UTF-16"?><a/>';
    expect(reason(() => parseXml(Buffer.from(utf16)))).to.equal('malformed');
    expect(reason(() => parseXml(utf16))).to.equal('accepted');
    const latin1 = '<?xml version="1.0" encoding="ISO-8859-1"?><a>blåbær</a>';
    // A Latin-1 label on UTF-8 bytes reads as UTF-8, as it always did; after a UTF-8 BOM it is a contradiction.
    expect(parseXml(Buffer.from(latin1)).children).to.deep.equal(['blåbær']);
    expect(reason(() => parseXml(Buffer.from(`\ufeff${latin1}`)))).to.equal('malformed');
    expect(reason(() => parseXml(Buffer.from(`\ufeff${utf16.replace('UTF-16', 'utf-8')}`)))).to.equal('accepted');
  });

  it('refuses -- in comments, ]]> in text and malformed processing instructions (issue 14)', () => {
    for (const bad of [
      '<a><!-- a -- b --></a>',
      '<a><!-- a ---></a>',
      '<!-- a ---><a/>',
      '<a>]]></a>',
      '<a>x]]]>y</a>',
      '<a><![CDATA[<![CDATA[x]]>]]></a>',
      '<a><?a:b x?></a>',
      '<a><?pi+ x?></a>',
      '<a><?pi??></a>',
      '<a><? x?></a>',
      '<a><?XML x?></a>',
    ]) {
      expect(reason(() => parseXml(bad)), bad).to.equal('malformed');
    }
    for (const ok of ['<a b="]]>"><!-- ]]> --><![CDATA[]]]]>]]&gt;]]</a>', '<a><?pi?><?pi x?><?xml-stylesheet x?><!----></a>']) {
      expect(reason(() => parseXml(ok)), ok).to.equal('accepted');
    }
    expect(parseXml('<a>x]]&gt;<![CDATA[]]]]><![CDATA[>]]></a>').children).to.deep.equal(['x]]>]]>']);
  });

  it('refuses malformed namespace declarations, repeated ones included (issue 14)', () => {
    for (const bad of [
      '<a xmlns:="urn:x"/>',
      '<a xmlns:p="urn:1" xmlns:p="urn:2"/>',
      '<a xmlns="urn:1" xmlns="urn:2"/>',
      '<a xmlns:a:b="urn:x"/>',
      '<a xmlns:xmlns="urn:x"/>',
      '<a xmlns:xml="urn:x"/>',
      '<a xmlns:p="http://www.w3.org/XML/1998/namespace"/>',
      '<a xmlns:p="http://www.w3.org/2000/xmlns/"/>',
      '<xmlns:a/>',
    ]) {
      expect(reason(() => parseXml(bad)), bad).to.equal('malformed');
    }
    expect(parseXml('<a xmlns:xml="http://www.w3.org/XML/1998/namespace" xml:lang="nb"/>').attrs).to.deep.equal({ [`{${NS.xml}}lang`]: 'nb' });
  });

  it('reads names and references by XML 1.0 fifth edition', () => {
    expect(parseXml('<Ωmega x·y="1"/>')).to.include({ local: 'Ωmega' });
    expect(parseXml('<a\u{10000}b/>')).to.include({ local: 'a\u{10000}b' });
    expect(reason(() => parseXml('<a×b/>'))).to.equal('malformed');
    expect(reason(() => parseXml('<a\u{F0000}/>'))).to.equal('malformed');
    // Leading zeros make a reference long, not wrong.
    expect(parseXml('<a v="&#x0000000041;">&#00000000000000066;</a>').children).to.deep.equal(['B']);
    expect(reason(() => parseXml('<a>&#65</a>'))).to.equal('malformed');
    // A string a caller hands over may hold half a surrogate pair: no character at all.
    expect(reason(() => parseXml('<a>\ud800</a>'))).to.equal('malformed');
  });

  it('gives every element its bindings in scope, copied while few and inherited when many', () => {
    const root = parseXml('<a xmlns:p="urn:p"><b xmlns="urn:d"><c/></b></a>');
    const c = (root.children[0] as XmlElement).children[0] as XmlElement;
    expect(c.nsScope).to.deep.equal({ p: 'urn:p', '': 'urn:d' });
    expect(Object.keys(c.nsScope!)).to.have.members(['p', '']);
    // Past 16 bindings a scope holds only its own declarations and inherits the rest.
    const many = Array.from({ length: 20 }, (_, i) => ` xmlns:p${i}="urn:${i}"`).join('');
    const deep = parseXml(`<a${many}><b xmlns:q="urn:q"><c/></b></a>`);
    const inner = (deep.children[0] as XmlElement).children[0] as XmlElement;
    expect(Object.keys(inner.nsScope!)).to.deep.equal(['q']);
    expect(inner.nsScope?.['p19']).to.equal('urn:19');
    let n = 0;
    for (const prefix in inner.nsScope) if (prefix.startsWith('p') || prefix === 'q') n++;
    expect(n).to.equal(21);
  });

  it('reads the NHN Provide and Register sample', () => {
    const root = parseXml(nhnSample('PnR_request.xml'));
    expect(root).to.include({ ns: NS.soap12, local: 'Envelope' });
  });
});
