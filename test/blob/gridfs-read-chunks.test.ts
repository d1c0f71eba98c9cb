/** The GridFS chunk reader, fed by an in-memory cursor (no server needed). */
import { expect } from 'chai';
import { Binary, ObjectId } from 'mongodb';
import { randomBytes } from 'node:crypto';
import { BlobStoreError } from '../../repository/blob/blob-store.js';
import { READ_BATCH_CHUNKS, readChunks, type ChunkDocument, type ChunkSource } from '../../repository/blob/gridfs/read-chunks.js';
import { readAll } from './contract.js';

interface FindCall {
  filter: unknown;
  options: unknown;
  closed: boolean;
}

function fakeChunks(docs: ChunkDocument[]): { source: ChunkSource; calls: FindCall[] } {
  const calls: FindCall[] = [];
  const source = {
    find(filter: unknown, options: unknown) {
      const call: FindCall = { filter, options, closed: false };
      calls.push(call);
      return {
        async *[Symbol.asyncIterator]() {
          yield* docs;
        },
        async close() {
          call.closed = true;
        },
      };
    },
  } as unknown as ChunkSource;
  return { source, calls };
}

function split(bytes: Buffer, chunkSize: number, fileId: ObjectId, asBinary = true): ChunkDocument[] {
  const docs: ChunkDocument[] = [];
  for (let n = 0; n * chunkSize < bytes.byteLength; n++) {
    const data = bytes.subarray(n * chunkSize, Math.min((n + 1) * chunkSize, bytes.byteLength));
    docs.push({ files_id: fileId, n, data: asBinary ? new Binary(data) : data });
  }
  return docs;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  return expect.fail('expected a failure');
}

describe('GridFS readChunks', () => {
  const fileId = new ObjectId();

  it('streams the chunks in order with a small cursor batch and closes the cursor', async () => {
    const bytes = randomBytes(1000);
    const { source, calls } = fakeChunks(split(bytes, 300, fileId));
    const read = await readAll(readChunks(source, { _id: fileId, length: 1000, chunkSize: 300 }));
    expect(read.equals(bytes)).to.equal(true);
    expect(calls).to.have.length(1);
    expect(calls[0]!.filter).to.deep.equal({ files_id: fileId });
    expect(calls[0]!.options).to.deep.equal({ sort: { n: 1 }, batchSize: READ_BATCH_CHUNKS });
    expect(calls[0]!.closed).to.equal(true);
  });

  it('accepts chunk data deserialised as plain bytes', async () => {
    const bytes = randomBytes(600);
    const { source } = fakeChunks(split(bytes, 300, fileId, false));
    expect((await readAll(readChunks(source, { _id: fileId, length: 600, chunkSize: 300 }))).equals(bytes)).to.equal(true);
  });

  it('reads an empty file without querying chunks', async () => {
    const { source, calls } = fakeChunks([]);
    expect((await readAll(readChunks(source, { _id: fileId, length: 0, chunkSize: 300 }))).byteLength).to.equal(0);
    expect(calls).to.have.length(0);
  });

  it('fails on a missing, extra or wrongly sized chunk', async () => {
    const bytes = randomBytes(900);
    const complete = split(bytes, 300, fileId);
    const damaged: [string, ChunkDocument[]][] = [
      ['missing middle chunk', [complete[0]!, complete[2]!]],
      ['missing last chunk', complete.slice(0, 2)],
      ['extra chunk', [...complete, { files_id: fileId, n: 3, data: new Binary(Buffer.alloc(10)) }]],
      ['short chunk', [complete[0]!, { files_id: fileId, n: 1, data: new Binary(bytes.subarray(300, 500)) }, complete[2]!]],
    ];
    for (const [label, docs] of damaged) {
      const { source, calls } = fakeChunks(docs);
      const error = await failure(readAll(readChunks(source, { _id: fileId, length: 900, chunkSize: 300 })));
      expect(error, label).to.be.instanceOf(BlobStoreError);
      expect(error.message, label).to.contain('damaged');
      expect(calls[0]!.closed, label).to.equal(true);
    }
  });
});
