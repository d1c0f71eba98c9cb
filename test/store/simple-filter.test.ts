/** The embedded store's compiled test of string filters (simple-filter.ts): exactly mingo's answer. */
import { expect } from 'chai';
import { Query } from 'mingo';
import { DOCUMENT_ENTRY_TYPE } from '../../registry/model/metadata.js';
import { allOf, documentTypeIn, fieldIn, ofObjectType, statusIn } from '../../registry/query/filters.js';
import { inSeqOrder } from '../../registry/store/embedded/embedded-store.js';
import { compileFilter, stringConditions } from '../../registry/store/embedded/simple-filter.js';
import { toRecord } from '../../registry/store/record.js';
import type { RegistryFilter } from '../../registry/store/store.js';
import { PATIENT_A, association, documentEntry } from './factory.js';

/** A small deterministic PRNG (mulberry32), so a failure names a reproducible case. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIELDS = ['a', 'b', 'c', 'type'];
const STRINGS = ['x', 'y', 'z', '', 'X'];
/** Record values: strings, and every kind mingo must judge (missing, null, numbers, arrays, objects). */
const VALUES: unknown[] = [
  ...STRINGS,
  undefined,
  null,
  0,
  1,
  true,
  ['x'],
  ['y', 'x'],
  [],
  [['x']],
  [null],
  ['x', 'x'],
  {},
  { x: 'x' },
  { $eq: 'x' },
];

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)]!;
}

function randomRecord(rnd: () => number): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const field of FIELDS) {
    const value = pick(rnd, VALUES);
    if (value !== undefined) record[field] = value;
  }
  return record;
}

/** A string condition: a string, $eq, $in (empty, with duplicates), or $eq with $in. */
function randomCondition(rnd: () => number): unknown {
  const strings = (): string[] => Array.from({ length: Math.floor(rnd() * 4) }, () => pick(rnd, STRINGS));
  switch (Math.floor(rnd() * 4)) {
    case 0:
      return pick(rnd, STRINGS);
    case 1:
      return { $eq: pick(rnd, STRINGS) };
    case 2:
      return { $in: strings() };
    default:
      return { $in: strings(), $eq: pick(rnd, STRINGS) };
  }
}

/** A conjunction of string conditions, some of them in (nested) `$and`s. */
function randomFilter(rnd: () => number, depth = 0): RegistryFilter {
  const filter: RegistryFilter = {};
  const n = Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) filter[pick(rnd, FIELDS)] = randomCondition(rnd);
  if (depth < 2 && rnd() < 0.3) filter.$and = Array.from({ length: Math.floor(rnd() * 3) }, () => randomFilter(rnd, depth + 1));
  return filter;
}

function mingo(filter: RegistryFilter, record: Record<string, unknown>): boolean {
  return new Query(filter).test(record);
}

describe('embedded store string filters', () => {
  it('answers exactly as mingo on generated filters and records (missing, null, numbers, arrays, objects)', () => {
    const rnd = random(7);
    const records = Array.from({ length: 60 }, () => randomRecord(rnd));
    let matched = 0;
    for (let i = 0; i < 1500; i++) {
      const filter = randomFilter(rnd);
      expect(stringConditions(filter), JSON.stringify(filter)).not.to.equal(undefined);
      const test = compileFilter(filter);
      const query = new Query(filter);
      for (const record of records) {
        const expected = query.test(record);
        expect(test(record), `${JSON.stringify(filter)} on ${JSON.stringify(record)}`).to.equal(expected);
        if (expected) matched++;
      }
    }
    expect(matched).to.be.greaterThan(1000); // the generated cases match often enough to mean something
  });

  it('answers exactly as mingo on stored records, with a long $in (a Set) among the conditions', () => {
    const docs = Array.from({ length: 20 }, (_, i) => documentEntry({ availabilityStatus: i % 3 === 0 ? 'Deprecated' : 'Approved', referenceIdList: i % 2 ? ['R'] : [] }));
    const records = [...docs, association(docs[0]!.entryUuid, docs[1]!.entryUuid)].map((o) => toRecord(o) as unknown as Record<string, unknown>);
    const filters: RegistryFilter[] = [
      { entryUuid: { $in: docs.slice(0, 12).map((d) => d.entryUuid) }, availabilityStatus: 'Approved' },
      { entryUuid: { $in: [...docs.map((d) => d.entryUuid), ...docs.map((d) => d.entryUuid)] }, type: { $in: ['DocumentEntry'] } },
      { referenceIdList: 'R', type: 'DocumentEntry' }, // an array field: mingo decides
      { patientId: PATIENT_A, $and: [{ type: 'Association' }] }, // associations have no patientId: mingo decides
      { uniqueId: docs[4]!.uniqueId!, $and: [{ availabilityStatus: { $in: ['Approved', 'Deprecated'] } }] },
      {},
    ];
    for (const filter of filters) {
      expect(stringConditions(filter), JSON.stringify(filter)).not.to.equal(undefined);
      const test = compileFilter(filter);
      for (const record of records) expect(test(record), JSON.stringify(filter)).to.equal(mingo(filter, record));
    }
  });

  it('takes the FindDocuments filter, as the stored query builds it', () => {
    const filter = allOf([ofObjectType('DocumentEntry'), { patientId: PATIENT_A }, statusIn(['Approved']), documentTypeIn(undefined)]);
    expect(stringConditions(filter)?.map((c) => [c.field, c.only])).to.deep.equal([
      ['type', 'DocumentEntry'],
      ['patientId', PATIENT_A],
      ['availabilityStatus', 'Approved'],
      ['objectType', DOCUMENT_ENTRY_TYPE.stable],
    ]);
    const multi = allOf([ofObjectType('DocumentEntry'), fieldIn('patientId', [PATIENT_A, 'P2']), statusIn(['Approved', 'Deprecated'])]);
    expect(stringConditions(multi)).to.have.length(3);
  });

  it('leaves everything else to mingo: paths, other operators, regexes, non-string operands', () => {
    const notString: RegistryFilter[] = [
      { 'classCode.code': 'A' },
      { a: { $ne: 'x' } },
      { a: { $in: ['x', null] } },
      { a: { $in: ['x', 1] } },
      { a: { $in: ['x', , 'y'] } }, // a hole
      { a: { $in: 'x' } },
      { a: { $eq: 'x', $nin: ['y'] } },
      { a: { $eq: 1 } },
      { a: /x/ },
      { a: { $regex: 'x' } },
      { a: null },
      { a: 1 },
      { a: ['x'] },
      { a: {} },
      { a: { b: 'x' } },
      { a: new Date(0) },
      { $or: [{ a: 'x' }] },
      { $and: { a: 'x' } },
      { $and: [{ a: 'x' }, null] },
      { $and: [{ a: 'x' }, new Date(0)] },
      { $and: [{ a: 'x' }, { b: { $exists: true } }] },
      { $nor: [{ a: 'x' }] },
      { $expr: { $eq: ['$a', 'x'] } },
      JSON.parse('{"__proto__": "x"}') as RegistryFilter,
      { '': 'x' },
    ];
    for (const filter of notString) expect(stringConditions(filter), String(JSON.stringify(filter))).to.equal(undefined);
    // A filter mingo refuses still fails when compiled, not only when some record reaches the test.
    expect(() => compileFilter({ a: 'x', $foo: 1 })).to.throw(/unknown top level operator/);
    expect(() => compileFilter({ a: { $eq: 'x', foo: 1 } })).to.throw(/unknown query operator/);
  });

  it('answers exactly as mingo for filters it leaves to mingo', () => {
    const rnd = random(11);
    const records = Array.from({ length: 40 }, () => randomRecord(rnd));
    const filters: RegistryFilter[] = [{ a: { $ne: 'x' } }, { a: { $in: ['x', null] } }, { a: null }, { a: ['x'] }, { $or: [{ a: 'x' }, { b: 'y' }] }, { a: { $exists: false } }];
    for (const filter of filters) {
      const test = compileFilter(filter);
      for (const record of records) expect(test(record), JSON.stringify(filter)).to.equal(mingo(filter, record));
    }
  });

  it('puts candidate rows in seq order, keeping each seq with its rev', () => {
    const sorted = { seqs: [1, 4, 9], revs: [7, 2, 3] };
    expect(inSeqOrder(sorted)).to.equal(sorted);
    expect(inSeqOrder({ seqs: [], revs: [] })).to.deep.equal({ seqs: [], revs: [] });
    expect(inSeqOrder({ seqs: [9, 1, 4], revs: [3, 7, 2] })).to.deep.equal(sorted);
    expect(inSeqOrder({ seqs: [4, 9, 1], revs: [2, 3, 7] })).to.deep.equal(sorted);
  });
});
