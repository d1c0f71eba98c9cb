/**
 * The state machine every store's StagedBlob follows (staged → committed | aborted), so that the
 * stores only implement the storage operations and agree on the edge cases.
 */
import { BlobStateError, type StagedBlob } from './blob-store.js';

export interface StagedBlobInfo {
  readonly stagingId: string;
  readonly size: number;
  readonly sha1: string;
  readonly stagedAt: Date;
}

export interface StagedBlobOperations {
  /** Makes the staged bytes addressable by the uniqueId (or drops them if identical bytes are already there). */
  commit(documentUniqueId: string): Promise<void>;
  /** Deletes the staged bytes; must tolerate that they are already gone. */
  abort(): Promise<void>;
}

type State = { kind: 'staged' } | { kind: 'committed'; documentUniqueId: string } | { kind: 'aborted' };

export function stagedBlob(info: StagedBlobInfo, operations: StagedBlobOperations): StagedBlob {
  let state: State = { kind: 'staged' };
  // Calls are serialised so that a commit racing an abort on the same object has one outcome.
  let queue: Promise<unknown> = Promise.resolve();
  const serialised = (step: () => Promise<void>): Promise<void> => {
    const next = queue.then(step);
    queue = next.catch(() => undefined);
    return next;
  };

  return {
    ...info,
    commit: (documentUniqueId: string) =>
      serialised(async () => {
        if (typeof documentUniqueId !== 'string' || documentUniqueId === '') {
          throw new TypeError('documentUniqueId must be a non-empty string');
        }
        if (state.kind === 'aborted') throw new BlobStateError(`staged blob ${info.stagingId} was aborted`);
        if (state.kind === 'committed') {
          if (state.documentUniqueId === documentUniqueId) return;
          throw new BlobStateError(`staged blob ${info.stagingId} is already committed as ${state.documentUniqueId}`);
        }
        await operations.commit(documentUniqueId);
        state = { kind: 'committed', documentUniqueId };
      }),
    abort: () =>
      serialised(async () => {
        if (state.kind !== 'staged') return;
        await operations.abort();
        state = { kind: 'aborted' };
      }),
  };
}
