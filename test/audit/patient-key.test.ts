/** patientKeyOf: CX.1 and the assigning authority's OID, for well-formed and odd patient ids alike. */
import { expect } from 'chai';
import { patientKeyOf } from '../../connector/audit/store.js';

/** The reading by split arrays that patientKeyOf replaced: the reference. */
function reference(cx: string): { id: string; authority: string | undefined } {
  const [id = '', , , authority = ''] = cx.split('^');
  const universal = authority.split('&')[1];
  const oid = universal !== undefined && universal !== '' ? universal.replace(/^urn:oid:/, '') : undefined;
  return { id: id.trim(), authority: oid };
}

describe('patientKeyOf', () => {
  it('reads what splitting the CX read, for every shape', () => {
    const ids = [
      '13116900216^^^&2.16.578.1.12.4.1.4.1&ISO',
      '13116900216^^^&urn:oid:2.16.578.1.12.4.1.4.1&ISO',
      ' 13116900216 ^^^&2.16.578.1.12.4.1.4.1&ISO^PI',
      '13116900216',
      '13116900216^^^',
      '13116900216^^^NO',
      '13116900216^^^&&ISO',
      '13116900216^^^&urn:oid:&ISO',
      '13116900216^^^&2.16.578.1.12.4.1.4.1',
      '13116900216^^^a&b&c&d^e^f',
      '^^^&1.2.3&ISO',
      '^',
      '&',
      '',
      'x^y',
      'x^y^z',
      'urn:oid:1.2^^^&urn:oid:urn:oid:1.2&ISO',
    ];
    for (const cx of ids) expect(patientKeyOf(cx), cx).to.deep.equal(reference(cx));
  });
});
