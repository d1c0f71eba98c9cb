/**
 * The repository endpoint's PartSpooler: each MTOM part is staged in the blob store while the
 * request streams in (size and SHA-1 computed on the way, fsynced, invisible until committed), so a
 * document is written once, straight from the socket, and never held in memory. A part nobody
 * commits is aborted when the request is done (`release`).
 */
import { Readable } from 'node:stream';
import { BlobTooLargeError, isOutOfSpace, type BlobStore, type StagedBlob } from '../../repository/blob/index.js';
import type { PartSpooler } from '../soap/mime-stream.js';

/** A part that passed the document size limit: its bytes were dropped, ITI-41 answers XDSRepositoryError. */
export interface TooLargePart {
  readonly kind: 'too-large';
  readonly maxBytes: number;
}

export function isTooLargePart(value: unknown): value is TooLargePart {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'too-large';
}

/** A part the blob store had no space for (ENOSPC): nothing of it was kept, ITI-41 answers XDSRepositoryOutOfResources. */
export interface OutOfSpacePart {
  readonly kind: 'out-of-space';
}

export function isOutOfSpacePart(value: unknown): value is OutOfSpacePart {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'out-of-space';
}

/**
 * Staged blobs handed over to the repository: from then on the repository commits, aborts, or
 * (when the registry's answer is unknown) keeps them for recovery, and the endpoint's release must
 * not abort them behind its back.
 */
const adopted = new WeakSet<StagedBlob>();

export function adoptStagedBlob(blob: StagedBlob): StagedBlob {
  adopted.add(blob);
  return blob;
}

export function blobSpooler(blobs: BlobStore, maxDocumentBytes: number): PartSpooler {
  return {
    async spool({ contentType, bytes }) {
      let staged: StagedBlob;
      try {
        staged = await blobs.stage(bytes, { maxBytes: maxDocumentBytes });
      } catch (e) {
        // Reported in the RegistryResponse by ITI-41 rather than as a fault: the rest of the part
        // is dropped by the parser (the stream was destroyed) and the request completes.
        if (e instanceof BlobTooLargeError) {
          const marker: TooLargePart = { kind: 'too-large', maxBytes: maxDocumentBytes };
          return { contentType, size: 0, spooled: marker, stream: () => unreadable('was larger than the size limit') };
        }
        // A full disk is the repository's condition, not a broken request: a RegistryResponse
        // error code the source understands (and may retry on), not a SOAP fault.
        if (isOutOfSpace(e)) {
          const marker: OutOfSpacePart = { kind: 'out-of-space' };
          return { contentType, size: 0, spooled: marker, stream: () => unreadable('could not be stored (no space left)') };
        }
        throw e;
      }
      return {
        contentType,
        size: staged.size,
        spooled: staged,
        // Staged bytes become readable only once committed under a document uniqueId.
        stream: () => unreadable('is staged; it becomes readable once committed'),
        release: async () => {
          if (!adopted.has(staged)) await staged.abort();
        },
      };
    },
  };
}

function unreadable(why: string): Readable {
  const r = new Readable({ read() {} });
  r.destroy(new Error(`this MIME part ${why}`));
  return r;
}
