import { expect } from 'chai';
import { deriveIndexHints } from '../../registry/store/embedded/index-hints.js';
import { candidateQuery } from '../../registry/store/embedded/embedded-store.js';

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
});
