/**
 * Up to issue 19 the reader scanned the whole text for DOCTYPE/ENTITY declarations and for
 * illegal characters before it read anything; now it checks them while it reads, and repeats the
 * two scans only once it has refused a document, to give the same reason. These tests hold it to
 * the old behaviour: wherever a declaration or an illegal character stands (in text, an attribute
 * value, a comment, a CDATA section, a processing instruction, a name, between attributes, after
 * the root) and whatever else is wrong with the document, the refusal is the one the two scans
 * give, in their order: a declaration first, then the first illegal character.
 */
import { expect } from 'chai';
import { parseXml, XmlParseError } from '../../registry/xml/parse.js';

/** What the two scans before reading refused, as the reader did up to issue 19, or undefined. */
function eagerRefusal(text: string): string | undefined {
  for (let i = text.indexOf('<!'); i !== -1; i = text.indexOf('<!', i + 2)) {
    const word = text.substr(i + 2, 7).toUpperCase();
    if (word === 'DOCTYPE' || word.startsWith('ENTITY')) return 'doctype: DOCTYPE and ENTITY declarations are not accepted';
  }
  const m = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/.exec(text);
  if (m) return `malformed: illegal character U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} at offset ${m.index}`;
  return undefined;
}

function outcome(input: string | Uint8Array): string {
  try {
    parseXml(input, { maxElements: 12 });
    return 'accepted';
  } catch (e) {
    if (!(e instanceof XmlParseError)) throw e;
    return `${e.reason}: ${e.message}`;
  }
}

/** A document with every kind of content the reader passes over with a search rather than reads. */
const DOCUMENT =
  '<?xml version="1.0"?><!-- head --><?pi data?>' +
  '<r:root xmlns:r="urn:r" xmlns="urn:d" a="v1" r:b=\'v&amp;2\'>' +
  '<x>text &lt; more</x><!-- a comment --><y c="plain"/><![CDATA[ raw <b> ]]>' +
  '<z>\r\n line &#65; </z><?target body?>' +
  '</r:root><!-- tail -->';

describe('parseXml checks declarations and characters while it reads (issue 19)', () => {
  it('reads the document used below', () => {
    expect(outcome(DOCUMENT)).to.equal('accepted');
  });

  it('refuses an illegal character wherever it stands, with the first one named', () => {
    for (const c of ['\u0001', '\u000B', '\u001F', '\uFFFE', '\uFFFF']) {
      for (let at = 0; at <= DOCUMENT.length; at++) {
        const doc = DOCUMENT.slice(0, at) + c + DOCUMENT.slice(at);
        expect(outcome(doc), JSON.stringify(doc)).to.equal(eagerRefusal(doc));
      }
    }
  });

  it('refuses a declaration wherever it stands, before an illegal character', () => {
    for (const decl of ['<!DOCTYPE a>', '<!ENTITY x "y">', '<!doctype', '<!entityx']) {
      for (let at = 0; at <= DOCUMENT.length; at++) {
        const doc = DOCUMENT.slice(0, at) + decl + DOCUMENT.slice(at);
        expect(outcome(doc), JSON.stringify(doc)).to.match(/^doctype: /);
        const withIllegal = `${doc.slice(0, 30)}\u0002${doc.slice(30)}`;
        expect(outcome(withIllegal), JSON.stringify(withIllegal)).to.equal(eagerRefusal(withIllegal));
      }
    }
  });

  it('gives the illegal character, not what else is wrong, however early that is', () => {
    const broken = [
      '<a><b></a>', // mismatched end tag, met first
      '<a x="1" x="2">\u0003</a>', // repeated attribute
      '<p:a>\u0003</p:a>', // undeclared prefix
      `<a>${'<b/>'.repeat(20)}\u0003</a>`, // more elements than the cap (12)
      '<a>&bogus;\u0003</a>', // unknown entity
      '<a/>\u0003', // content after the root
      '<a>\u0003', // unclosed
    ];
    for (const doc of broken) {
      const withEnd = doc.includes('\u0003') ? doc : `${doc}\u0003`;
      expect(outcome(withEnd), JSON.stringify(withEnd)).to.equal(eagerRefusal(withEnd));
      expect(eagerRefusal(withEnd)).to.match(/^malformed: illegal character U\+0003/);
    }
  });

  it('reads bytes the same way, with or without a byte order mark', () => {
    for (const at of [0, 40, 90, 150, 200]) {
      const doc = `${DOCUMENT.slice(0, at)}\u0008${DOCUMENT.slice(at)}`;
      expect(outcome(Buffer.from(doc, 'utf8'))).to.equal(eagerRefusal(doc));
      // After a byte order mark the offsets are those of the text without it.
      expect(outcome(Buffer.from(`\uFEFF${doc}`, 'utf8'))).to.equal(eagerRefusal(doc));
    }
  });

  it('refuses a lone surrogate in a string only after declarations and illegal characters', () => {
    expect(outcome('<a>\uD800</a>')).to.equal('malformed: XML text holds a lone surrogate');
    expect(outcome('<a>\uD800\u0001</a>')).to.equal('malformed: illegal character U+0001 at offset 4');
    expect(outcome('<!DOCTYPE a><a>\uD800\u0001</a>')).to.match(/^doctype: /);
  });
});
