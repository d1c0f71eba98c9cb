import { expect } from 'chai';
import { codeKey, fromRecord, searchFields, toRecord } from '../../registry/store/record';
import {
  AUTHOR_GEIRAAS,
  AUTHOR_HANSEN,
  CONFIDENTIALITY_N,
  CONFIDENTIALITY_NORS,
  VOLVEN_9602,
  VOLVEN_9603,
  association,
  documentEntry,
  folder,
  submissionSet,
} from './factory';

describe('store record', () => {
  it('derives padded times, code strings and flattened authors for a DocumentEntry', () => {
    const doc = documentEntry({
      creationTime: '2024',
      serviceStartTime: '202403140800',
      serviceStopTime: '20240315235959',
      confidentialityCodes: [CONFIDENTIALITY_N, CONFIDENTIALITY_NORS],
      eventCodes: [],
      authors: [AUTHOR_GEIRAAS, AUTHOR_HANSEN, { institutions: ['Legekontor AS'], roles: [], specialties: [], telecommunications: [] }],
    });
    const s = searchFields(doc);
    expect(s.creationTime).to.equal('20240101000000');
    expect(s.serviceStartTime).to.equal('20240314080000');
    expect(s.serviceStopTime).to.equal('20240315235959');
    expect(s.classCode).to.equal(`A00-1^^${VOLVEN_9602}`);
    expect(s.typeCode).to.equal(`A03-2^^${VOLVEN_9602}`);
    expect(s.formatCode).to.equal('urn:no:ehelse:document:pdf^^2.16.578.1.12.4.1.1.9608');
    expect(s.confidentialityCodes).to.deep.equal([`N^^${VOLVEN_9603}`, `NORS^^${VOLVEN_9603}`]);
    expect(s).not.to.have.property('eventCodes');
    expect(s.authorPersons).to.deep.equal([AUTHOR_GEIRAAS.person, AUTHOR_HANSEN.person]);
    expect(s.authorInstitutions).to.deep.equal([...AUTHOR_GEIRAAS.institutions, ...AUTHOR_HANSEN.institutions, 'Legekontor AS']);
    expect(s.authorRoles).to.deep.equal(['LE', 'SP']);
    expect(s.authorSpecialties).to.deep.equal(['Indremedisin', 'Allmennmedisin']);
  });

  it('derives the fields of submission sets, folders and (none for) associations', () => {
    const set = searchFields(submissionSet({ submissionTime: '20240315102000', authors: [] }));
    expect(set).to.deep.equal({ submissionTime: '20240315102000', contentTypeCode: `A03-2^^${VOLVEN_9602}` });
    const fol = searchFields(folder({ lastUpdateTime: '202403' }));
    expect(fol).to.deep.equal({ lastUpdateTime: '20240301000000', codeList: ['S03^^2.16.578.1.12.4.1.1.8655'] });
    expect(searchFields(association('urn:uuid:a', 'urn:uuid:b'))).to.deep.equal({});
  });

  it('writes a code without scheme as code^^', () => {
    expect(codeKey({ code: 'X' })).to.equal('X^^');
  });

  it('makes plain JSON, drops undefined, replaces a stale _s, and round-trips', () => {
    const doc = { ...documentEntry({ creationTime: '20240101' }), title: undefined, _s: { creationTime: 'stale' } };
    const rec = toRecord(doc);
    expect(rec).not.to.have.property('title');
    expect(rec._s.creationTime).to.equal('20240101000000');
    expect(JSON.parse(JSON.stringify(rec))).to.deep.equal(rec);
    const { _s, ...withoutSearchFields } = doc;
    void _s;
    expect(fromRecord(rec)).to.deep.equal(JSON.parse(JSON.stringify(withoutSearchFields)));
  });

  it('fromRecord strips store-internal fields and does not modify the record', () => {
    const doc = documentEntry();
    const stored = { ...toRecord(doc), _id: 'abc', seq: 7 };
    expect(fromRecord(stored)).to.deep.equal(doc);
    expect(stored).to.have.property('_id', 'abc');
  });
});
