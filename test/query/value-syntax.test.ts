import { expect } from 'chai';
import { parseValue, ValueSyntaxError } from '../../registry/query/index.js';

describe('stored query value syntax (ITI TF-2a 3.18.4.1.2.3.5)', () => {
  it('reads a quoted string', () => {
    expect(parseValue("'13116900216^^^&2.16.578.1.12.4.1.4.1&ISO'")).to.deep.equal([
      { kind: 'string', text: '13116900216^^^&2.16.578.1.12.4.1.4.1&ISO' },
    ]);
  });

  it("unescapes doubled quotes: 'O''Brien' is O'Brien", () => {
    expect(parseValue("'%O''Brien%'")).to.deep.equal([{ kind: 'string', text: "%O'Brien%" }]);
    expect(parseValue("''''")).to.deep.equal([{ kind: 'string', text: "'" }]);
  });

  it('reads an unquoted number (a DTM)', () => {
    expect(parseValue(' 20041224 ')).to.deep.equal([{ kind: 'number', text: '20041224' }]);
  });

  it('reads a parenthesised list with or without spaces, keeping commas inside strings', () => {
    expect(parseValue("('a','b, c' ,  'd')").map((s) => s.text)).to.deep.equal(['a', 'b, c', 'd']);
    expect(parseValue(" ( 'x' ) ").map((s) => s.text)).to.deep.equal(['x']);
    expect(parseValue('(2004, 2005)')).to.deep.equal([
      { kind: 'number', text: '2004' },
      { kind: 'number', text: '2005' },
    ]);
  });

  const bad: [string, string][] = [
    ['an unterminated string', "'abc"],
    ['an unquoted word', 'Approved'],
    ['an unclosed list', "('a','b'"],
    ['an empty list', '()'],
    ['a missing list element', "('a',)"],
    ['text after the value', "'a' 'b'"],
    ['text after the list', "('a') x"],
    ['list elements without a comma', "('a' 'b')"],
    ['an empty value', '   '],
    ['a number followed by letters', '2004abc'],
  ];
  for (const [what, raw] of bad) {
    it(`rejects ${what}: ${JSON.stringify(raw)}`, () => {
      expect(() => parseValue(raw)).to.throw(ValueSyntaxError);
    });
  }
});
