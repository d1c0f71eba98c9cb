import { expect } from 'chai';
import type { RegistryObject } from '../../registry/model/metadata.js';
import { codeKey, fromRecord, recordText, searchFields, toRecord } from '../../registry/store/record.js';
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
} from './factory.js';

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

  it('is exactly the JSON round trip plus _s, also for what JSON treats specially', () => {
    /** What toRecord made before it copied objects itself: the text of the record must not change. */
    const viaJson = (obj: object): string => {
      const plain = JSON.parse(JSON.stringify(obj)) as Record<string, unknown>;
      delete plain['_s'];
      return JSON.stringify({ ...plain, _s: searchFields(plain as unknown as RegistryObject) });
    };
    const proto = JSON.parse('{"__proto__": "x", "a": 1}') as object;
    const cases: object[] = [
      documentEntry({ creationTime: '20240101', authors: [AUTHOR_GEIRAAS] }),
      { ...documentEntry(), title: undefined, extra: { slots: [{ name: 's', values: ['a', undefined, 'b'] }], classifications: [], externalIdentifiers: [] } },
      { ...documentEntry(), _s: { stale: true }, size: -0, n: 1.5e300, t: true, z: null, f: () => 1, sym: Symbol('s') },
      { ...documentEntry(), list: [undefined, () => 1, Symbol('x'), null, -0, [[]], {}], 10: 'ten', 2: 'two', b: 'b' },
      { ...documentEntry(), nested: proto, nullProto: Object.assign(Object.create(null) as object, { k: 'v' }) },
      // Not plain JSON data: toJSON, class instances, non-finite numbers and boxed values go the JSON way.
      { ...documentEntry(), when: new Date(Date.UTC(2024, 0, 1)) },
      { ...documentEntry(), size: Number.NaN, other: Number.POSITIVE_INFINITY },
      { ...documentEntry(), custom: { toJSON: (key: string) => `key ${key}` } },
      { ...documentEntry(), boxed: Object('text') as object, map: new Map([['a', 1]]) },
      { ...documentEntry(), deep: JSON.parse('['.repeat(60) + ']'.repeat(60)) as unknown },
    ];
    for (const obj of cases) expect(JSON.stringify(toRecord(obj as RegistryObject))).to.equal(viaJson(obj));
    expect(Object.getOwnPropertyDescriptor(toRecord({ ...documentEntry(), nested: proto } as RegistryObject), 'nested')!.value).to.have.own.property('__proto__', 'x');
    const cyclic: Record<string, unknown> = { ...documentEntry() };
    cyclic['self'] = cyclic;
    expect(() => toRecord(cyclic as unknown as RegistryObject)).to.throw(TypeError);
  });

  it('recordText is the text of toRecord, without the copy, also for what JSON treats specially', () => {
    const proto = JSON.parse('{"__proto__": "x", "a": 1}') as object;
    class Custom {
      readonly type = 'DocumentEntry';
      readonly entryUuid = 'urn:uuid:c';
    }
    const cases: object[] = [
      documentEntry({ creationTime: '20240101', serviceStartTime: '2024', authors: [AUTHOR_GEIRAAS, AUTHOR_HANSEN] }),
      submissionSet(),
      folder({ lastUpdateTime: '20240102030405' }),
      association('urn:uuid:s', 'urn:uuid:t'),
      Object.freeze({ ...documentEntry(), referenceIdList: ['a^^^^urn:ihe:iti:xds:2013:accession'] }),
      { ...documentEntry(), title: undefined, extra: { slots: [{ name: 's', values: ['a', undefined, 'b'] }], classifications: [], externalIdentifiers: [] } },
      // A stale `_s` (a record handed back), and what JSON drops or rewrites.
      { ...documentEntry(), _s: { stale: true }, size: -0, n: 1.5e300, t: true, z: null, f: () => 1, sym: Symbol('s') },
      { ...documentEntry(), list: [undefined, () => 1, Symbol('x'), null, -0, [[]], {}], 10: 'ten', 2: 'two', b: 'b' },
      { ...documentEntry(), nested: proto, nullProto: Object.assign(Object.create(null) as object, { k: 'v' }) },
      Object.assign(Object.create(null) as object, documentEntry()),
      { ...documentEntry(), when: new Date(Date.UTC(2024, 0, 1)) },
      { ...documentEntry(), size: Number.NaN, other: Number.POSITIVE_INFINITY },
      { ...documentEntry(), custom: { toJSON: (key: string) => `key ${key}` } },
      { ...documentEntry(), boxed: Object('text') as object, map: new Map([['a', 1]]) },
      { ...documentEntry(), deep: JSON.parse('['.repeat(60) + ']'.repeat(60)) as unknown },
      // Not a plain object at the top: the way of toRecord.
      new Custom(),
      { ...association('urn:uuid:s', 'urn:uuid:t'), toJSON: () => ({ type: 'Association', entryUuid: 'urn:uuid:j' }) },
    ];
    for (const obj of cases) expect(recordText(obj as RegistryObject)).to.equal(JSON.stringify(toRecord(obj as RegistryObject)));
    const cyclic: Record<string, unknown> = { ...documentEntry() };
    cyclic['self'] = cyclic;
    expect(() => recordText(cyclic as unknown as RegistryObject)).to.throw(TypeError);
  });

  it('fromRecord strips store-internal fields and does not modify the record', () => {
    const doc = documentEntry();
    const stored = { ...toRecord(doc), _id: 'abc', seq: 7 };
    expect(fromRecord(stored)).to.deep.equal(doc);
    expect(stored).to.have.property('_id', 'abc');
  });
});
