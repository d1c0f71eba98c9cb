/** Reading a `BlobSource` chunk by chunk while counting, hashing and enforcing the size limit. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobTooLargeError, type BlobSource } from './blob-store.js';

export interface Digest {
  readonly size: number;
  /** Lower-case hex SHA-1. */
  readonly sha1: string;
}

/**
 * Yields the source's chunks unchanged (no copies: a chunk is handed on and then released), and
 * fills `digest` when the source ended. Throws `BlobTooLargeError` before yielding the chunk that
 * crosses `maxBytes`. Leaving the loop early (break, throw) destroys a Readable source.
 */
export async function* measuredChunks(
  source: BlobSource,
  maxBytes: number | undefined,
  digest: { result?: Digest },
): AsyncGenerator<Uint8Array> {
  if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes < 0)) {
    throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
  }
  const hash = createHash('sha1');
  let size = 0;
  for await (const chunk of asyncIterable(source)) {
    if (typeof chunk === 'string') {
      // A stream in string mode has already decoded the bytes; re-encoding could alter them.
      throw new TypeError('document source must yield bytes, not strings (no setEncoding on the stream)');
    }
    size += chunk.byteLength;
    if (maxBytes !== undefined && size > maxBytes) throw new BlobTooLargeError(maxBytes);
    hash.update(chunk);
    yield chunk;
  }
  digest.result = { size, sha1: hash.digest('hex') };
}

function asyncIterable(source: BlobSource): AsyncIterable<Uint8Array | string> {
  if (Symbol.asyncIterator in source) return source as AsyncIterable<Uint8Array | string>;
  // Old-style streams (only 'data'/'end' events) get a Readable wrapper, which is iterable.
  return new Readable().wrap(source as NodeJS.ReadableStream);
}
