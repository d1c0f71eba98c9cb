/** The parts of the MongoDB store that need no server. */
import { expect } from 'chai';
import { MongoBulkWriteError, MongoServerError } from 'mongodb';
import { duplicateEntryUuidOf } from '../../registry/store/mongo/duplicate-key.js';
import { countDeltas, databaseInUri, foldIntoInserts } from '../../registry/store/mongo/mongo-store.js';
import { documentEntry, submissionSet } from './factory.js';

/** The driver's WriteError (exported as a type only): the server's write error plus the failed operation. */
function writeError(err: { code: number; index: number; errmsg: string; op: Record<string, unknown> }) {
  return { err, code: err.code, index: err.index, errmsg: err.errmsg, errInfo: undefined, getOperation: () => err.op };
}

describe('MongoDB store helpers', () => {
  describe('duplicateEntryUuidOf', () => {
    const errmsg =
      'E11000 duplicate key error collection: kp.registryObjects index: entryUuid_1 dup key: { entryUuid: "urn:uuid:11111111-2222-3333-4444-555555555555" }';

    it('reads the entryUuid of a single-write duplicate key error', () => {
      const withKey = new MongoServerError({ message: errmsg, errmsg, code: 11000, keyValue: { entryUuid: 'urn:uuid:k' } });
      expect(duplicateEntryUuidOf(withKey)).to.equal('urn:uuid:k');
      const withoutKey = new MongoServerError({ message: errmsg, errmsg, code: 11000 });
      expect(duplicateEntryUuidOf(withoutKey)).to.equal('urn:uuid:11111111-2222-3333-4444-555555555555');
    });

    it('reads the failing document of an insertMany', () => {
      const doc = { entryUuid: 'urn:uuid:dup', type: 'DocumentEntry' };
      const failed = writeError({ code: 11000, index: 1, errmsg, op: doc });
      const bulk = new MongoBulkWriteError({ message: errmsg, code: 11000, writeErrors: [failed as never] }, {} as never);
      expect(duplicateEntryUuidOf(bulk)).to.equal('urn:uuid:11111111-2222-3333-4444-555555555555');
      const bare = writeError({ code: 11000, index: 0, errmsg: 'E11000 duplicate key error index: entryUuid_1', op: doc });
      expect(duplicateEntryUuidOf(new MongoBulkWriteError({ message: 'x', code: 11000, writeErrors: [bare as never] }, {} as never))).to.equal(
        'urn:uuid:dup',
      );
    });

    it('ignores other errors and duplicates on other indexes', () => {
      const onSeq = 'E11000 duplicate key error collection: kp.registryObjects index: seq_1 dup key: { seq: 5 }';
      expect(duplicateEntryUuidOf(new MongoServerError({ message: onSeq, errmsg: onSeq, code: 11000, keyValue: { seq: 5 } }))).to.equal(undefined);
      expect(duplicateEntryUuidOf(new MongoServerError({ message: 'WriteConflict', code: 112 }))).to.equal(undefined);
      expect(duplicateEntryUuidOf(new Error(errmsg))).to.equal(undefined);
    });
  });

  it('databaseInUri reads the path of mongodb and mongodb+srv URIs', () => {
    expect(databaseInUri('mongodb://localhost:27017/registry?replicaSet=rs0')).to.equal('registry');
    expect(databaseInUri('mongodb+srv://u:p@cluster.example.net/kp')).to.equal('kp');
    expect(databaseInUri('mongodb://h1:27017,h2:27017/?replicaSet=rs0')).to.equal(undefined);
    expect(databaseInUri('mongodb://localhost')).to.equal(undefined);
  });

  it('foldIntoInserts gives the end state of inserts, replacements and deletions applied in order', () => {
    const kept = documentEntry();
    const replacedInBatch = documentEntry();
    const deletedInBatch = documentEntry();
    const stored = documentEntry();
    const set = submissionSet();
    const newer = { ...replacedInBatch, availabilityStatus: 'Deprecated' as const };
    const folded = foldIntoInserts({
      inserts: [set, kept, replacedInBatch, deletedInBatch],
      replacements: [newer, { ...stored, availabilityStatus: 'Deprecated' }],
      deletions: [deletedInBatch.entryUuid, 'urn:uuid:elsewhere'],
    });
    expect(folded.inserts).to.deep.equal([set, kept, newer]);
    expect(folded.replacements.map((o) => o.entryUuid)).to.deep.equal([stored.entryUuid]);
    expect(folded.deletions).to.deep.equal(['urn:uuid:elsewhere']);
  });

  describe('countDeltas', () => {
    const byGroup = (deltas: ReturnType<typeof countDeltas>) =>
      Object.fromEntries(deltas.map((d) => [`${d.type} ${d.availabilityStatus}`, d.count]));

    it('counts inserts, moves replacements and uncounts deletions from what they were before the batch', () => {
      const old = documentEntry();
      const gone = documentEntry({ availabilityStatus: 'Deprecated' });
      const set = submissionSet();
      const before = new Map([
        [old.entryUuid, old],
        [gone.entryUuid, gone],
      ]);
      const deltas = countDeltas(
        { inserts: [set], replacements: [{ ...old, availabilityStatus: 'Deprecated' }], deletions: [gone.entryUuid] },
        before,
      );
      // DocumentEntry Deprecated: +1 (old) −1 (gone) = 0, so it is left out.
      expect(byGroup(deltas)).to.deep.equal({ 'SubmissionSet Approved': 1, 'DocumentEntry Approved': -1 });
    });

    it('follows an object through the batch in order', () => {
      const fresh = documentEntry();
      const deltas = countDeltas(
        {
          inserts: [fresh],
          replacements: [
            { ...fresh, availabilityStatus: 'Deprecated' },
            { ...fresh, availabilityStatus: 'Submitted' },
          ],
          deletions: [],
        },
        new Map(),
      );
      expect(byGroup(deltas)).to.deep.equal({ 'DocumentEntry Submitted': 1 });
      const dropped = countDeltas({ inserts: [fresh], replacements: [{ ...fresh, availabilityStatus: 'Deprecated' }], deletions: [fresh.entryUuid] }, new Map());
      expect(dropped).to.deep.equal([]);
    });
  });
});
