import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { parseXml } from '../../registry/xml/parse.js';
import { serializeXml } from '../../registry/xml/serialize.js';
import { NS } from '../../registry/xml/namespaces.js';
import { el, sameElement } from '../../registry/xml/tree.js';
import { NHN_SAMPLES } from '../../fixtures/index.js';

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

  it('numbers unknown namespaces in order of first use and declares the conventional ones first', () => {
    const tree = el('urn:first', 'root', { '{urn:on-root}a': '1' }, [
      el(NS.rim, 'x', {}, [el('urn:deep', 'y', { '{urn:first}b': '2' })]),
      el(NS.rs, 'z', { '{urn:later}c': '3' }),
    ]);
    expect(serializeXml(tree)).to.equal(
      `<ns1:root xmlns:rim="${NS.rim}" xmlns:rs="${NS.rs}" xmlns:ns1="urn:first" xmlns:ns2="urn:on-root" xmlns:ns3="urn:deep" xmlns:ns4="urn:later" ns2:a="1">` +
        '<rim:x><ns3:y ns1:b="2"/></rim:x><rs:z ns4:c="3"/></ns1:root>',
    );
  });

  it('writes a very deep tree without exhausting the call stack', () => {
    let tree = el(NS.rim, 'Value', {}, ['bottom']);
    for (let i = 0; i < 50_000; i++) tree = el(NS.rim, 'ValueList', {}, [tree]);
    const text = serializeXml(tree);
    expect(text.startsWith(`<rim:ValueList xmlns:rim="${NS.rim}"><rim:ValueList>`)).to.equal(true);
    expect(text).to.include('<rim:ValueList><rim:Value>bottom</rim:Value></rim:ValueList></rim:ValueList>');
    expect(text.split('<rim:ValueList').length - 1).to.equal(50_000);
    expect(text.split('</rim:ValueList>').length - 1).to.equal(50_000);
    expect(text.endsWith('</rim:ValueList>')).to.equal(true);
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
    const dir = NHN_SAMPLES;
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
