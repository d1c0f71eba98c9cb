import { expect } from 'chai';
import { deriveAlternativeHints, deriveIndexHints, MAX_ALTERNATIVES } from '../../registry/store/embedded/index-hints.js';
import { candidateQuery, candidateQueryFor } from '../../registry/store/embedded/embedded-store.js';

describe('embedded store index hints', () => {
  it('reads top-level equality, $eq and $in of strings', () => {
    expect(
      deriveIndexHints({
        type: 'DocumentEntry',
        patientId: { $eq: 'P1' },
        availabilityStatus: { $in: ['Approved', 'Deprecated', 'Approved'] },
        mimeType: 'text/plain',
      }),
    ).to.deep.equal({ type: ['DocumentEntry'], patientId: ['P1'], availabilityStatus: ['Approved', 'Deprecated'] });
  });

  it('reads inside a top-level $and and intersects repeated fields', () => {
    expect(
      deriveIndexHints({
        patientId: { $in: ['P1', 'P2'] },
        $and: [{ patientId: { $in: ['P2', 'P3'] } }, { $and: [{ entryUuid: 'U' }] }],
      }),
    ).to.deep.equal({ patientId: ['P2'], entryUuid: ['U'] });
    expect(deriveIndexHints({ $and: [{ uniqueId: 'A' }, { uniqueId: 'B' }] })).to.deep.equal({ uniqueId: [] });
  });

  it('gives no hint where the filter does not pin a field to strings', () => {
    expect(
      deriveIndexHints({
        $or: [{ patientId: 'P1' }, { patientId: 'P2' }],
        uniqueId: null,
        entryUuid: { $regex: '^urn' },
        sourceUuid: { $in: ['a', /b/] },
        targetUuid: { $nin: ['x'] },
        referenceIdList: { $elemMatch: { $eq: 'R' } },
        type: ['DocumentEntry'],
        availabilityStatus: { $ne: 'Deprecated' },
      }),
    ).to.deep.equal({});
  });

  it('keeps the $in part of a condition with further operators', () => {
    expect(deriveIndexHints({ patientId: { $in: ['P1', 'P2'], $nin: ['P1'] } })).to.deep.equal({ patientId: ['P1', 'P2'] });
    expect(deriveIndexHints({ patientId: { $in: ['P1', 'P2'], $eq: 'P2' } })).to.deep.equal({ patientId: ['P2'] });
  });

  it('chooses one index by selectivity and lists every type for a bare patientId', () => {
    expect(candidateQuery({ entryUuid: ['U'], patientId: ['P'] })).to.deep.equal({
      sql: 'SELECT json_array(json_group_array(seq), json_group_array(rev)) FROM objects WHERE entry_uuid = ?',
      params: ['U'],
      paged: false,
    });
    expect(candidateQuery({ referenceIdList: ['R1', 'R2'], type: ['DocumentEntry'] })).to.deep.equal({
      sql: 'SELECT json_array(json_group_array(seq), json_group_array(rev)) FROM objects WHERE seq IN (SELECT seq FROM reference_ids WHERE value IN (SELECT value FROM json_each(?)))',
      params: ['["R1","R2"]'],
      paged: false,
    });
    expect(candidateQuery({ patientId: ['P'], availabilityStatus: ['Approved'] })).to.deep.equal({
      sql: 'SELECT json_array(json_group_array(seq), json_group_array(rev)) FROM objects WHERE type IN (SELECT value FROM json_each(?)) AND patient_id = ? AND status = ?',
      params: ['["DocumentEntry","SubmissionSet","Folder","Association"]', 'P', 'Approved'],
      paged: false,
    });
    expect(candidateQuery({ availabilityStatus: ['Approved'] })).to.deep.equal({
      sql: 'SELECT json_array(json_group_array(seq), json_group_array(rev)) FROM (SELECT seq, rev FROM objects WHERE seq > ? ORDER BY seq LIMIT ?)',
      params: [],
      paged: true,
    });
    expect(candidateQuery({ patientId: [] })).to.equal(undefined);
  });

  it('reads a top-level $or (also inside $and) as alternatives, each with the top-level conditions', () => {
    expect(deriveAlternativeHints({ type: 'DocumentEntry' })).to.equal(undefined);
    expect(deriveAlternativeHints({ type: 'Association', $or: [{ sourceUuid: 'S' }, { targetUuid: { $in: ['T1', 'T2'] } }] })).to.deep.equal([
      { type: ['Association'], sourceUuid: ['S'] },
      { type: ['Association'], targetUuid: ['T1', 'T2'] },
    ]);
    expect(deriveAlternativeHints({ $and: [{ uniqueId: 'U' }, { $or: [{ patientId: 'P' }, { patientId: 'Q', uniqueId: 'V' }] }] })).to.deep.equal([
      { uniqueId: ['U'], patientId: ['P'] },
      { uniqueId: [], patientId: ['Q'] },
    ]);
    // Two $or: every combination of their branches.
    expect(deriveAlternativeHints({ $or: [{ entryUuid: 'A' }, { entryUuid: 'B' }], $and: [{ $or: [{ type: 'Folder' }, { type: 'DocumentEntry' }] }] })).to.have.length(4);
    // A branch that is no plain filter leaves its $or out; too many alternatives leave them all out.
    expect(deriveAlternativeHints({ $or: [{ entryUuid: 'A' }, 'B'] as unknown as Record<string, unknown>[] })).to.equal(undefined);
    const many = Array.from({ length: MAX_ALTERNATIVES + 1 }, (_, i) => ({ entryUuid: `U${i}` }));
    expect(deriveAlternativeHints({ $or: many })).to.equal(undefined);
  });

  it('preselects a $or of indexed alternatives by the union of their rows, not by a scan', () => {
    expect(candidateQueryFor({ $or: [{ type: 'DocumentEntry', uniqueId: 'U' }, { entryUuid: { $in: ['A', 'B'] } }] })).to.deep.equal({
      sql: 'SELECT json_array(json_group_array(seq), json_group_array(rev)) FROM (SELECT seq, rev FROM objects WHERE unique_id = ? UNION SELECT seq, rev FROM objects WHERE entry_uuid IN (SELECT value FROM json_each(?)))',
      params: ['U', '["A","B"]'],
      paged: false,
    });
    // An alternative that matches nothing drops out; none left: nothing to read.
    expect(candidateQueryFor({ $or: [{ uniqueId: { $in: [] } }, { entryUuid: 'A' }] })).to.deep.equal(candidateQuery({ entryUuid: ['A'] }));
    expect(candidateQueryFor({ $or: [{ uniqueId: { $in: [] } }, { entryUuid: { $in: [] } }] })).to.equal(undefined);
    // Hints outside the $or that already go through an index win; an alternative without one means a scan.
    expect(candidateQueryFor({ uniqueId: 'U', $or: [{ entryUuid: 'A' }, { entryUuid: 'B' }] })).to.deep.equal(candidateQuery({ uniqueId: ['U'] }));
    expect(candidateQueryFor({ $or: [{ entryUuid: 'A' }, { mimeType: 'text/plain' }] })!.paged).to.equal(true);
  });
});
