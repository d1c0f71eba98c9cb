/** The staged → committed | aborted state machine shared by the stores. */
import { expect } from 'chai';
import { BlobStateError } from '../../repository/blob/blob-store.js';
import { stagedBlob } from '../../repository/blob/staged-blob.js';

function recording() {
  const calls: string[] = [];
  const blob = stagedBlob(
    { stagingId: 's1', size: 3, sha1: 'a'.repeat(40), stagedAt: new Date(0) },
    {
      commit: async (id) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        calls.push(`commit ${id}`);
      },
      abort: async () => {
        calls.push('abort');
      },
    },
  );
  return { blob, calls };
}

describe('stagedBlob state machine', () => {
  it('runs a racing commit and abort one after the other: the commit wins, the abort is a no-op', async () => {
    const { blob, calls } = recording();
    await Promise.all([blob.commit('doc'), blob.abort()]);
    expect(calls).to.deep.equal(['commit doc']);
  });

  it('a failed commit leaves the blob staged, so it can still be aborted', async () => {
    let fail = true;
    const calls: string[] = [];
    const blob = stagedBlob(
      { stagingId: 's2', size: 1, sha1: 'b'.repeat(40), stagedAt: new Date(0) },
      {
        commit: async () => {
          if (fail) throw new Error('conflict');
          calls.push('commit');
        },
        abort: async () => {
          calls.push('abort');
        },
      },
    );
    let error: unknown;
    try {
      await blob.commit('doc');
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.equal('conflict');
    fail = false;
    await blob.abort();
    expect(calls).to.deep.equal(['abort']);
  });

  it('rejects an empty uniqueId without touching storage', async () => {
    const { blob, calls } = recording();
    let error: unknown;
    try {
      await blob.commit('');
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(TypeError);
    expect(error).not.to.be.instanceOf(BlobStateError);
    expect(calls).to.deep.equal([]);
  });
});
