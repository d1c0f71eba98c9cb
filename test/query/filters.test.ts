/**
 * The filter builders, evaluated with mingo over stored records (toRecord), as the embedded store
 * evaluates them.
 */
import { expect } from 'chai';
import { Query } from 'mingo';
import { DOCUMENT_ENTRY_TYPE, type DocumentEntry } from '../../registry/model/metadata.js';
import {
  allOf,
  authorPersonLike,
  codeGroups,
  codeIn,
  documentTypeIn,
  likeToRegex,
  statusIn,
  timeRange,
} from '../../registry/query/filters.js';
import { toRecord } from '../../registry/store/record.js';
import type { RegistryFilter } from '../../registry/store/store.js';
import { author, code, documentEntry } from './fixtures.js';

const PATIENT = '13116900216^^^&2.16.578.1.12.4.1.4.1&ISO';
const V9603 = '2.16.578.1.12.4.1.1.9603';
const EVENT = '2.16.578.1.12.4.1.1.7210';

function matches(filter: RegistryFilter | undefined, ...docs: DocumentEntry[]): string[] {
  const query = new Query(filter ?? {});
  return docs.filter((d) => query.test(toRecord(d) as unknown as Record<string, unknown>)).map((d) => d.title?.value ?? d.entryUuid);
}

const named = (name: string, fields: Partial<DocumentEntry>): DocumentEntry => documentEntry(PATIENT, { title: { value: name }, ...fields });

describe('stored query filters (mingo over stored records)', () => {
  describe('codes', () => {
    const a = named('a', { confidentialityCodes: [code('N', V9603)], eventCodes: [code('X1', EVENT), code('X2', EVENT)] });
    const b = named('b', { confidentialityCodes: [code('NORS', V9603)], eventCodes: [code('X1', EVENT)] });
    const c = named('c', { confidentialityCodes: [code('N', V9603), code('NORS', V9603)], eventCodes: [] });

    it('a single code attribute matches any of the codes (OR)', () => {
      const d = named('d', { classCode: code('A00-1', '2.16.578.1.12.4.1.1.9602') });
      const e = named('e', { classCode: code('B00-1', '2.16.578.1.12.4.1.1.9602') });
      expect(matches(codeIn('classCode', ['A00-1^^2.16.578.1.12.4.1.1.9602', 'C00-1^^2.16.578.1.12.4.1.1.9602']), d, e)).to.deep.equal(['d']);
    });

    it('the scheme is part of the match', () => {
      const d = named('d', { classCode: code('A00-1', '2.16.578.1.12.4.1.1.9602') });
      expect(matches(codeIn('classCode', ['A00-1^^1.2.3']), d)).to.deep.equal([]);
    });

    it('one group: any of its codes (OR)', () => {
      expect(matches(codeGroups('confidentialityCodes', [[`NORS^^${V9603}`, `R^^${V9603}`]]), a, b, c)).to.deep.equal(['b', 'c']);
    });

    it('two groups: both must match (AND)', () => {
      expect(matches(codeGroups('eventCodes', [[`X1^^${EVENT}`], [`X2^^${EVENT}`]]), a, b, c)).to.deep.equal(['a']);
      expect(matches(codeGroups('confidentialityCodes', [[`N^^${V9603}`], [`NORS^^${V9603}`]]), a, b, c)).to.deep.equal(['c']);
    });

    it('(X1 OR X9) AND (X2 OR X9)', () => {
      expect(
        matches(codeGroups('eventCodes', [[`X1^^${EVENT}`, `X9^^${EVENT}`], [`X2^^${EVENT}`, `X9^^${EVENT}`]]), a, b, c),
      ).to.deep.equal(['a']);
    });
  });

  describe('time ranges on padded DTMs', () => {
    const day = named('day', { creationTime: '20041224' });
    const minute = named('minute', { creationTime: '200412240930' });
    const none = named('none', {});

    it('From is inclusive', () => {
      expect(matches(timeRange('creationTime', '20041224000000', undefined), day, minute, none)).to.deep.equal(['day', 'minute']);
    });

    it('To is exclusive', () => {
      expect(matches(timeRange('creationTime', undefined, '20041224000000'), day, minute, none)).to.deep.equal([]);
      expect(matches(timeRange('creationTime', undefined, '20041224093000'), day, minute, none)).to.deep.equal(['day']);
      expect(matches(timeRange('creationTime', undefined, '20041224093001'), day, minute, none)).to.deep.equal(['day', 'minute']);
    });

    it('values of different precision compare by their first instant', () => {
      expect(matches(timeRange('creationTime', '20041224090000', '20041225000000'), day, minute)).to.deep.equal(['minute']);
    });

    it('no range gives no condition; an object without the attribute does not match a range', () => {
      expect(timeRange('creationTime', undefined, undefined)).to.equal(undefined);
      expect(matches(timeRange('creationTime', '1900', undefined), none)).to.deep.equal([]);
    });
  });

  describe('author LIKE', () => {
    const geiraas = named('geiraas', { authors: [author('502116685^GEIRAAS^BENEDIKTE^^^^^^&2.16.578.1.12.4.1.4.4&ISO')] });
    const two = named('two', {
      authors: [author('^Smitty^Gerald^^^'), author('565505933^HANSEN^KARI^^^^^^&2.16.578.1.12.4.1.4.4&ISO')],
    });
    const odd = named('odd', { authors: [author('^O.Brien^(Dr)^^^')] });

    it('% matches any run, on any author', () => {
      expect(matches(authorPersonLike(['%HANSEN%']), geiraas, two, odd)).to.deep.equal(['two']);
      expect(matches(authorPersonLike(['502116685^%']), geiraas, two, odd)).to.deep.equal(['geiraas']);
    });

    it('matches the whole value: no % means an exact (case-insensitive) match', () => {
      expect(matches(authorPersonLike(['HANSEN']), two)).to.deep.equal([]);
      expect(matches(authorPersonLike(['^smitty^gerald^^^']), two)).to.deep.equal(['two']);
    });

    it('_ matches exactly one character', () => {
      expect(matches(authorPersonLike(['%GEIRAA_^%']), geiraas)).to.deep.equal(['geiraas']);
      expect(matches(authorPersonLike(['%GEIRA_^%']), geiraas)).to.deep.equal([]);
    });

    it('regex characters in the pattern are literal', () => {
      expect(matches(authorPersonLike(['^O.Brien^(Dr)%']), odd)).to.deep.equal(['odd']);
      expect(matches(authorPersonLike(['^OxBrien%']), odd)).to.deep.equal([]);
      expect(likeToRegex('a.b*(c)[d]+?^$|\\')).to.equal('^a\\.b\\*\\(c\\)\\[d\\]\\+\\?\\^\\$\\|\\\\$');
    });

    it('several patterns: any of them (OR)', () => {
      expect(matches(authorPersonLike(['%GEIRAAS%', '%Smitty%']), geiraas, two, odd)).to.deep.equal(['geiraas', 'two']);
    });
  });

  describe('status and type', () => {
    const approved = named('approved', {});
    const deprecated = named('deprecated', { availabilityStatus: 'Deprecated' });
    const onDemand = named('onDemand', { objectType: DOCUMENT_ENTRY_TYPE.onDemand });

    it('status in the list', () => {
      expect(matches(statusIn(['Deprecated']), approved, deprecated)).to.deep.equal(['deprecated']);
      expect(matches(statusIn(['Approved', 'Deprecated']), approved, deprecated)).to.deep.equal(['approved', 'deprecated']);
    });

    it('stable entries only unless types are asked for', () => {
      expect(matches(documentTypeIn(undefined), approved, onDemand)).to.deep.equal(['approved']);
      expect(matches(documentTypeIn([DOCUMENT_ENTRY_TYPE.onDemand]), approved, onDemand)).to.deep.equal(['onDemand']);
      expect(matches(documentTypeIn([DOCUMENT_ENTRY_TYPE.stable, DOCUMENT_ENTRY_TYPE.onDemand]), approved, onDemand)).to.deep.equal([
        'approved',
        'onDemand',
      ]);
    });
  });

  describe('allOf', () => {
    it('keeps distinct keys flat (indexable) and moves repeated keys and $and parts into one $and', () => {
      const filter = allOf([{ type: 'DocumentEntry' }, { patientId: PATIENT }, undefined, { patientId: 'x' }, { $and: [{ a: 1 }] }]);
      expect(filter).to.deep.equal({ type: 'DocumentEntry', patientId: PATIENT, $and: [{ patientId: 'x' }, { a: 1 }] });
    });

    it('combined conditions all apply', () => {
      const a = named('a', { classCode: code('A', 's'), creationTime: '2020' });
      const b = named('b', { classCode: code('A', 's'), creationTime: '2010' });
      expect(matches(allOf([codeIn('classCode', ['A^^s']), timeRange('creationTime', '20150101000000', undefined)]), a, b)).to.deep.equal(['a']);
    });
  });
});
