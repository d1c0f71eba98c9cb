/** Reading a GridFS file's chunks as a byte stream. */
import type { Binary, Collection, GridFSFile, ObjectId } from 'mongodb';
import { Readable } from 'node:stream';
import { BlobStoreError } from '../blob-store.js';

export interface ChunkDocument {
  files_id: ObjectId;
  n: number;
  data: Binary | Uint8Array;
}

/** Chunks fetched per round trip: ~1 MB, instead of the server's default first batch of 101 (~25 MB). */
export const READ_BATCH_CHUNKS = 4;

/** The part of a collection `readChunks` uses (so that tests can hand it chunks without a server). */
export type ChunkSource = Pick<Collection<ChunkDocument>, 'find'>;

/**
 * Streams a file's chunks in order with a small cursor batch. The driver's download stream lets
 * the server pick the batch size, which holds up to 16 MB per open download; with many concurrent
 * retrieves of large documents that multiplies. Checks sequence and sizes as GridFS readers must.
 */
export function readChunks(chunks: ChunkSource, file: Pick<GridFSFile, '_id' | 'length' | 'chunkSize'>): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    if (file.length === 0) return;
    const cursor = chunks.find({ files_id: file._id }, { sort: { n: 1 }, batchSize: READ_BATCH_CHUNKS });
    let expectedN = 0;
    let read = 0;
    try {
      for await (const chunk of cursor) {
        const data = bytesOf(chunk.data);
        const expectedLength = Math.min(file.chunkSize, file.length - read);
        if (chunk.n !== expectedN || data.byteLength !== expectedLength || expectedLength <= 0) {
          throw new BlobStoreError(
            `GridFS file ${file._id.toHexString()} is damaged: chunk ${chunk.n} of ${data.byteLength} bytes where chunk ${expectedN} of ${expectedLength} bytes was expected`,
          );
        }
        read += data.byteLength;
        expectedN++;
        yield data;
      }
    } finally {
      await cursor.close();
    }
    if (read !== file.length) {
      throw new BlobStoreError(`GridFS file ${file._id.toHexString()} is damaged: ${read} of ${file.length} bytes found`);
    }
  }
  return Readable.from(generate(), { objectMode: false });
}

function bytesOf(data: Binary | Uint8Array): Buffer {
  const bytes = data instanceof Uint8Array ? data : data.buffer.subarray(0, data.position);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
