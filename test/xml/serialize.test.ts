import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { parseXml } from '../../registry/xml/parse';
import { serializeXml } from '../../registry/xml/serialize';
import { NS } from '../../registry/xml/namespaces';
import { el, sameElement } from '../../registry/xml/tree';

describe('serializeXml', () => {
  it('declares every namespace once on the root with the preferred prefixes', () => {
    const tree = el(NS.rs, 'RegistryResponse', { status: 'x' }, [
      el(NS.rim, 'Slot', { name: 'a', '{urn:unknown}attr': 'v' }, [el('urn:other', 'Thing'), el('', 'plain')]),
    ]);
    expect(serializeXml(tree)).to.equal(
      `<rs:RegistryResponse xmlns:rs="${NS.rs}" xmlns:rim="${NS.rim}" xmlns:ns1="urn:unknown" xmlns:ns2="urn:other" status="x">` +
        '<rim:Slot name="a" ns1:attr="v"><ns2:Thing/><plain/></rim:Slot></rs:RegistryResponse>',
    );
  });

  it('writes xml:lang without declaring the xml prefix, and an optional declaration', () => {
    const tree = el(NS.rim, 'LocalizedString', { [`{${NS.xml}}lang`]: 'nb-NO', value: 'v' });
    expect(serializeXml(tree, { declaration: true })).to.equal(
      `<?xml version="1.0" encoding="UTF-8"?><rim:LocalizedString xmlns:rim="${NS.rim}" xml:lang="nb-NO" value="v"/>`,
    );
  });

  it('escapes text and attributes so that they read back unchanged', () => {
    const tricky = 'a&b<c>d"e\'f\tg\nh\r\ni]]>j';
    const tree = el('urn:t', 'r', { v: tricky }, [tricky]);
    const text = serializeXml(tree);
    expect(text).to.not.include(']]>j');
    const back = parseXml(text);
    expect(back.attrs['v']).to.equal(tricky);
    expect(back.children).to.deep.equal([tricky]);
  });

  it('round-trips every NHN sample: parse → serialize → parse is structurally equal', () => {
    const dir = '/work/shared/conformance/nhn-samples';
    const files = readdirSync(dir).filter((f) => f.endsWith('.xml'));
    expect(files.length).to.be.greaterThan(5);
    for (const f of files) {
      const first = parseXml(readFileSync(`${dir}/${f}`));
      const second = parseXml(serializeXml(first));
      expect(sameElement(first, second), f).to.equal(true);
    }
  });

  it('sameElement notices differences in text, attributes and names', () => {
    const a = parseXml('<a x="1"><b>t</b></a>');
    expect(sameElement(a, parseXml('<p:a xmlns:p="" x="1"><b>t</b></p:a>'.replace('xmlns:p=""', 'xmlns:p="urn:q"')))).to.equal(false);
    expect(sameElement(a, parseXml('<a x="2"><b>t</b></a>'))).to.equal(false);
    expect(sameElement(a, parseXml('<a x="1"><b>u</b></a>'))).to.equal(false);
    expect(sameElement(a, parseXml('<a x="1">\n  <b>t</b>\n</a>'))).to.equal(true);
  });
});
