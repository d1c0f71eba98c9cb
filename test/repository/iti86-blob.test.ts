/**
 * ITI-86 at the blob stores: a removal while a retrieve holds the document. The filesystem store
 * always; the GridFS store when MONGODB_URI is set. A blob handed out by `open` before the removal
 * must still stream the bytes its size promised; one opened after it is gone; a removal does not
 * wait for reads that are never streamed.
 */
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { MongoClient } from 'mongodb';
import type { BlobStore } from '../../repository/blob/blob-store.js';
import { openFilesystemBlobStore } from '../../repository/blob/filesystem/index.js';
import { SMALL_BLOBS_FILE } from '../../repository/blob/filesystem/small-blobs.js';
import { openGridFsBlobStore } from '../../repository/blob/gridfs/index.js';

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

async function put(store: BlobStore, id: string, bytes: Buffer): Promise<void> {
  await (await store.stage(Readable.from([bytes]))).commit(id);
}

const newId = (): string => `2.16.578.1.12.4.5.100.1.86.${Date.now()}.${randomBytes(3).readUIntBE(0, 3)}`;

interface Hooks {
  readonly open: () => Promise<BlobStore>;
  readonly cleanup: () => Promise<void>;
}

function removalWhileReading(name: string, hooks: Hooks): void {
  describe(`ITI-86 removal and reads in flight: ${name}`, function () {
    this.timeout(60_000);
    let store: BlobStore;
    before(async () => {
      store = await hooks.open();
    });
    after(async () => {
      await store?.close();
      await hooks.cleanup();
    });

    it('a blob opened before the removal streams its bytes in full; one opened after is gone', async () => {
      const id = newId();
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      await put(store, id, bytes);
      const blob = (await store.open(id))!;
      expect(await store.remove(id)).to.equal(true);
      expect(await store.open(id)).to.equal(undefined);
      expect(await store.exists(id)).to.equal(false);
      const read = await readAll(blob.stream());
      expect(read.byteLength).to.equal(blob.size);
      expect(read.equals(bytes)).to.equal(true);
    });

    it('a stream already reading finishes after the removal', async () => {
      const id = newId();
      const bytes = randomBytes(8 * 1024 * 1024);
      await put(store, id, bytes);
      const blob = (await store.open(id))!;
      const iterator = (blob.stream() as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.done).to.equal(false);
      expect(await store.remove(id)).to.equal(true);
      const rest: Buffer[] = [Buffer.from(first.value as Buffer)];
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) rest.push(Buffer.from(r.value as Buffer));
      expect(Buffer.concat(rest).equals(bytes)).to.equal(true);
    });

    it('the removed bytes stay those promised even when the uniqueId is stored again before the stream starts', async () => {
      const id = newId();
      const before = randomBytes(1000);
      const after = randomBytes(2000);
      await put(store, id, before);
      const blob = (await store.open(id))!;
      expect(await store.remove(id)).to.equal(true);
      await put(store, id, after);
      expect((await readAll(blob.stream())).equals(before)).to.equal(true);
      const again = (await store.open(id))!;
      expect((await readAll(again.stream())).equals(after)).to.equal(true);
    });

    it('a removal does not wait for a blob that is never streamed, nor for concurrent removals of the same id', async () => {
      const id = newId();
      await put(store, id, randomBytes(100));
      const neverStreamed = await store.open(id);
      expect(neverStreamed).to.not.equal(undefined);
      const results = await Promise.all([store.remove(id), store.remove(id), store.remove(id)]);
      expect(results.filter((r) => r)).to.have.length(1);
      expect(await store.exists(id)).to.equal(false);
      // Let go of it now (as a response that was cut off would), rather than after the grace period.
      neverStreamed!.stream().destroy();
    });

    it('many blobs opened and streamed while their documents are removed all complete', async () => {
      const ids = Array.from({ length: 20 }, newId);
      const contents = ids.map(() => randomBytes(200_000));
      for (const [i, id] of ids.entries()) await put(store, id, contents[i]!);
      const blobs = await Promise.all(ids.map((id) => store.open(id)));
      const reads = blobs.map((b, i) => (i % 2 === 0 ? readAll(b!.stream()) : undefined));
      const removed = await Promise.all(ids.map((id) => store.remove(id)));
      expect(removed.every((r) => r)).to.equal(true);
      const late = blobs.map((b, i) => reads[i] ?? readAll(b!.stream()));
      const all = await Promise.all(late);
      for (const [i, bytes] of all.entries()) expect(bytes.equals(contents[i]!), `document ${i}`).to.equal(true);
    });
  });
}

let fsRoot = '';
removalWhileReading('filesystem', {
  open: async () => {
    fsRoot = mkdtempSync(join(tmpdir(), 'kp-iti86-blob-'));
    return openFilesystemBlobStore({ directory: fsRoot });
  },
  cleanup: async () => {
    // Every removal's descriptors are closed once the reads ended: nothing is left in the blob tree.
    const left: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(dir, e.name));
        else left.push(e.name);
      }
    };
    await walk(join(fsRoot, 'blobs'));
    // Small documents (here the re-stored one of the third test) are rows of the store's table.
    const table = new Database(join(fsRoot, SMALL_BLOBS_FILE), { readonly: true });
    const rows = table.prepare('SELECT unique_id FROM small_blobs').pluck().all() as string[];
    table.close();
    rmSync(fsRoot, { recursive: true, force: true });
    // The re-stored document of the third test is the only blob left.
    expect([...left, ...rows]).to.have.length(1);
  },
});

const uri = process.env.MONGODB_URI;
if (uri !== undefined && uri !== '') {
  const database = `koblingspunkt_iti86_${randomUUID().slice(0, 8)}`;
  removalWhileReading('GridFS', {
    open: () => openGridFsBlobStore({ uri, database }),
    cleanup: async () => {
      const client = new MongoClient(uri);
      try {
        await client.connect();
        // Chunks owed to reads are deleted in the background once the reads end.
        await new Promise((resolve) => setTimeout(resolve, 500));
        // The chunks of every removed document are gone once its reads ended.
        const chunks = client.db(database).collection('documents.chunks');
        const files = await client.db(database).collection('documents.files').find({}, { projection: { _id: 1 } }).toArray();
        const orphaned = await chunks.countDocuments({ files_id: { $nin: files.map((f) => f._id) } });
        expect(orphaned).to.equal(0);
        await client.db(database).dropDatabase();
      } finally {
        await client.close();
      }
    },
  });
} else {
  console.log('ITI-86 removal and reads in flight: GridFS skipped, MONGODB_URI is not set');
}
