/**
 * The BlobStore contract: one suite every blob store must pass, so that the filesystem store and
 * the GridFS store are interchangeable under the repository.
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  BlobConflictError,
  BlobStateError,
  BlobTooLargeError,
  type BlobSource,
  type BlobStore,
  type StagedBlob,
} from '../../repository/blob/blob-store.js';
import { rejection } from '../helpers/util.js';

export interface BlobStoreContractHooks {
  /** A new, empty store on fresh storage. */
  readonly open: () => Promise<BlobStore>;
  /** Another store on the storage of the latest `open()` (a restart). */
  readonly reopen: () => Promise<BlobStore>;
  /** Called once after the suite; removes all storage `open()` created. */
  readonly cleanup: () => Promise<void>;
}

const MB = 1024 * 1024;

export const sha1Of = (bytes: Uint8Array): string => createHash('sha1').update(bytes).digest('hex');

export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Yields `bytes` in chunks of `chunkSize`, giving the event loop a turn between chunks. */
export async function* chunked(bytes: Uint8Array, chunkSize = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += chunkSize) {
    await new Promise((resolve) => setImmediate(resolve));
    yield bytes.subarray(offset, Math.min(offset + chunkSize, bytes.byteLength));
  }
}

/**
 * `total` pseudo-random bytes generated chunk by chunk (never held whole); `digest.sha1` is set
 * when the generator is exhausted.
 */
export async function* generated(total: number, digest: { sha1?: string }, chunkSize = 256 * 1024): AsyncGenerator<Uint8Array> {
  const hash = createHash('sha1');
  const block = randomBytes(chunkSize);
  for (let offset = 0, n = 0; offset < total; offset += chunkSize, n++) {
    const chunk = Buffer.from(block.subarray(0, Math.min(chunkSize, total - offset)));
    chunk.writeUInt32BE(n, 0); // every chunk differs, so reordering or duplication changes the hash
    hash.update(chunk);
    yield chunk;
  }
  digest.sha1 = hash.digest('hex');
}

/**
 * A full garbage collection. Dropped chunks are external memory that V8 collects only after tens
 * of MB have piled up, which would hide whether a store *retains* a document; collecting before
 * each RSS sample measures what is really held.
 */
const collectGarbage: () => void = (() => {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose_gc');
  return runInNewContext('gc') as () => void;
})();

function uniqueId(): string {
  return `2.16.578.1.12.4.5.100.1.${BigInt('0x' + randomBytes(6).toString('hex')).toString()}`;
}


async function stageBytes(store: BlobStore, bytes: Uint8Array): Promise<StagedBlob> {
  return store.stage(chunked(bytes));
}

async function contentOf(store: BlobStore, id: string): Promise<Buffer | undefined> {
  const blob = await store.open(id);
  if (!blob) return undefined;
  const bytes = await readAll(blob.stream());
  expect(blob.size).to.equal(bytes.byteLength);
  return bytes;
}

export function describeBlobStoreContract(name: string, hooks: BlobStoreContractHooks): void {
  describe(`BlobStore contract: ${name}`, function () {
    this.timeout(120_000);
    let store: BlobStore;

    beforeEach(async () => {
      store = await hooks.open();
    });
    afterEach(async () => {
      await store.close();
    });
    after(async () => {
      await hooks.cleanup();
    });

    describe('round trip', () => {
      for (const [label, size] of [
        ['empty', 0],
        ['1 byte', 1],
        ['5 MB random', 5 * MB],
      ] as const) {
        it(`stores and returns ${label} byte-identical with correct size and sha1`, async () => {
          const bytes = randomBytes(size);
          const staged = await stageBytes(store, bytes);
          expect(staged.size).to.equal(size);
          expect(staged.sha1).to.equal(sha1Of(bytes));
          expect(staged.sha1).to.match(/^[0-9a-f]{40}$/);
          const id = uniqueId();
          await staged.commit(id);
          expect(await store.exists(id)).to.equal(true);
          expect((await contentOf(store, id))!.equals(bytes)).to.equal(true);
        });
      }

      it('accepts a Node Readable and chunks of any size', async () => {
        const bytes = randomBytes(300_000);
        const fromStream = await store.stage(Readable.from([bytes.subarray(0, 7), bytes.subarray(7, 250_000), bytes.subarray(250_000)]));
        const fromTinyChunks = await store.stage(chunked(bytes, 997));
        for (const staged of [fromStream, fromTinyChunks]) {
          expect(staged.sha1).to.equal(sha1Of(bytes));
          const id = uniqueId();
          await staged.commit(id);
          expect((await contentOf(store, id))!.equals(bytes)).to.equal(true);
        }
      });

      it('streams a committed blob more than once', async () => {
        const bytes = randomBytes(10_000);
        const id = uniqueId();
        await (await stageBytes(store, bytes)).commit(id);
        const blob = (await store.open(id))!;
        expect((await readAll(blob.stream())).equals(bytes)).to.equal(true);
        expect((await readAll(blob.stream())).equals(bytes)).to.equal(true);
      });

      it('rejects a source that yields strings, leaving nothing', async () => {
        const error = await rejection(store.stage(Readable.from(['text'], { objectMode: true })));
        expect(error).to.be.instanceOf(TypeError);
        expect(await store.listStaged()).to.deep.equal([]);
        expect(await store.cleanOrphans(-60_000)).to.equal(0);
      });
    });

    describe('two phases', () => {
      it('keeps a staged blob invisible until it is committed', async () => {
        const staged = await stageBytes(store, randomBytes(1000));
        const id = uniqueId();
        expect(await store.exists(id)).to.equal(false);
        expect(await store.open(id)).to.equal(undefined);
        expect((await store.listStaged()).map((s) => s.stagingId)).to.deep.equal([staged.stagingId]);
        await staged.commit(id);
        expect(await store.exists(id)).to.equal(true);
        expect(await store.listStaged()).to.deep.equal([]);
      });

      it('abort leaves nothing and forbids a later commit', async () => {
        const staged = await stageBytes(store, randomBytes(100_000));
        await staged.abort();
        await staged.abort();
        expect(await store.listStaged()).to.deep.equal([]);
        expect(await store.cleanOrphans(-60_000)).to.equal(0);
        const id = uniqueId();
        expect(await rejection(staged.commit(id))).to.be.instanceOf(BlobStateError);
        expect(await store.exists(id)).to.equal(false);
      });

      it('abort after commit keeps the committed blob', async () => {
        const bytes = randomBytes(500);
        const staged = await stageBytes(store, bytes);
        const id = uniqueId();
        await staged.commit(id);
        await staged.abort();
        expect((await contentOf(store, id))!.equals(bytes)).to.equal(true);
      });

      it('commit is idempotent for one staged blob and refuses a second uniqueId', async () => {
        const staged = await stageBytes(store, randomBytes(500));
        const id = uniqueId();
        await staged.commit(id);
        await staged.commit(id);
        expect(await rejection(staged.commit(uniqueId()))).to.be.instanceOf(BlobStateError);
      });

      // 20 KB stays below the filesystem store's small-document size (a table row), 200 KB above it (a file).
      for (const size of [20_000, 200_000]) {
        it(`a retried submission of identical bytes (${size / 1000} KB) commits without a second copy; different bytes conflict`, async () => {
          const bytes = randomBytes(size);
          const id = uniqueId();
          await (await stageBytes(store, bytes)).commit(id);
          const retry = await stageBytes(store, bytes);
          await retry.commit(id);
          expect(await store.listStaged()).to.deep.equal([]);
          expect((await contentOf(store, id))!.equals(bytes)).to.equal(true);
          const conflicting = await stageBytes(store, randomBytes(size));
          expect(await rejection(conflicting.commit(id))).to.be.instanceOf(BlobConflictError);
          await conflicting.abort();
        });
      }

      it('committing different bytes onto an existing uniqueId fails with BlobConflictError', async () => {
        const original = randomBytes(1000);
        const other = randomBytes(1000);
        const id = uniqueId();
        await (await stageBytes(store, original)).commit(id);
        const conflicting = await stageBytes(store, other);
        const error = await rejection(conflicting.commit(id));
        expect(error).to.be.instanceOf(BlobConflictError);
        expect((error as BlobConflictError).documentUniqueId).to.equal(id);
        expect((error as BlobConflictError).existingSha1).to.equal(sha1Of(original));
        expect((await contentOf(store, id))!.equals(original)).to.equal(true);
        // The loser stays staged so that the caller's abort cleans it.
        expect((await store.listStaged()).map((s) => s.stagingId)).to.deep.equal([conflicting.stagingId]);
        await conflicting.abort();
        expect(await store.listStaged()).to.deep.equal([]);
      });

      it('of two racing commits of different bytes onto one uniqueId exactly one wins', async () => {
        const a = randomBytes(50_000);
        const b = randomBytes(50_000);
        const [stagedA, stagedB] = await Promise.all([stageBytes(store, a), stageBytes(store, b)]);
        const id = uniqueId();
        const results = await Promise.allSettled([stagedA.commit(id), stagedB.commit(id)]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(won).to.have.length(1);
        expect(lost).to.have.length(1);
        expect(lost[0]!.reason).to.be.instanceOf(BlobConflictError);
        const stored = (await contentOf(store, id))!;
        expect(stored.equals(results[0]!.status === 'fulfilled' ? a : b)).to.equal(true);
      });
    });

    describe('size limit', () => {
      it('rejects a document over maxBytes with BlobTooLargeError and leaves nothing', async () => {
        const source = Readable.from(chunked(randomBytes(200_000), 16_384));
        const error = await rejection(store.stage(source, { maxBytes: 100_000 }));
        expect(error).to.be.instanceOf(BlobTooLargeError);
        expect((error as BlobTooLargeError).maxBytes).to.equal(100_000);
        expect(source.destroyed, 'the source is not read further').to.equal(true);
        expect(await store.listStaged()).to.deep.equal([]);
        expect(await store.cleanOrphans(-60_000), 'no partial upload left').to.equal(0);
      });

      it('accepts a document of exactly maxBytes', async () => {
        const bytes = randomBytes(100_000);
        const staged = await store.stage(chunked(bytes), { maxBytes: 100_000 });
        expect(staged.size).to.equal(100_000);
        await staged.abort();
      });
    });

    describe('failures while staging', () => {
      it('a source that fails midway rejects with its error and leaves nothing', async () => {
        async function* failing(): AsyncGenerator<Uint8Array> {
          yield randomBytes(300_000);
          await new Promise((resolve) => setImmediate(resolve));
          throw new Error('client went away');
        }
        const error = await rejection(store.stage(failing()));
        expect((error as Error).message).to.equal('client went away');
        expect(await store.listStaged()).to.deep.equal([]);
        expect(await store.cleanOrphans(-60_000)).to.equal(0);
      });
    });

    describe('orphans', () => {
      it('cleanOrphans removes only staged blobs older than the threshold', async () => {
        const old = await stageBytes(store, randomBytes(1000));
        await new Promise((resolve) => setTimeout(resolve, 400));
        const recent = await stageBytes(store, randomBytes(1000));
        const committedId = uniqueId();
        await (await stageBytes(store, randomBytes(1000))).commit(committedId);

        expect(await store.cleanOrphans(200)).to.equal(1);
        expect((await store.listStaged()).map((s) => s.stagingId)).to.deep.equal([recent.stagingId]);
        expect(await store.exists(committedId)).to.equal(true);
        expect(await rejection(old.commit(uniqueId()))).to.be.instanceOf(BlobStateError);
        const recentId = uniqueId();
        await recent.commit(recentId);
        expect(await store.exists(recentId)).to.equal(true);
      });

      it('listStaged hands back blobs whose commit was interrupted, committable after a restart', async () => {
        const bytes = randomBytes(70_000);
        const staged = await stageBytes(store, bytes);
        await store.close();
        store = await hooks.reopen();
        const [recovered, ...rest] = await store.listStaged();
        expect(rest).to.deep.equal([]);
        expect(recovered!.stagingId).to.equal(staged.stagingId);
        expect(recovered!.size).to.equal(bytes.byteLength);
        expect(recovered!.sha1).to.equal(sha1Of(bytes));
        expect(recovered!.stagedAt.getTime()).to.be.closeTo(staged.stagedAt.getTime(), 60_000);
        const id = uniqueId();
        await recovered!.commit(id);
        expect((await contentOf(store, id))!.equals(bytes)).to.equal(true);
        expect(await store.listStaged()).to.deep.equal([]);
      });
    });

    describe('small documents (the filesystem store keeps those up to 64 KiB in a table by default)', () => {
      it('stores, retrieves and removes documents on both sides of 64 KiB', async () => {
        for (const size of [20_000, 64 * 1024, 64 * 1024 + 1]) {
          const bytes = randomBytes(size);
          const id = uniqueId();
          const staged = await stageBytes(store, bytes);
          expect(staged.size).to.equal(size);
          expect(staged.sha1).to.equal(sha1Of(bytes));
          await staged.commit(id);
          expect((await contentOf(store, id))!.equals(bytes), `${size} bytes`).to.equal(true);
          expect(await store.remove(id)).to.equal(true);
          expect(await store.exists(id)).to.equal(false);
          expect(await store.remove(id)).to.equal(false);
        }
      });

      it('a retrieve opened before a removal still streams the small document', async () => {
        const bytes = randomBytes(20_000);
        const id = uniqueId();
        await (await stageBytes(store, bytes)).commit(id);
        const opened = (await store.open(id))!;
        expect(await store.remove(id)).to.equal(true);
        expect((await readAll(opened.stream())).equals(bytes)).to.equal(true);
      });

      it('staged small documents survive a restart: one is committed, the other cleaned as an orphan', async () => {
        const owed = randomBytes(20_000);
        const orphan = randomBytes(20_000);
        const stagedOwed = await stageBytes(store, owed);
        const stagedOrphan = await stageBytes(store, orphan);
        await store.close();
        store = await hooks.reopen();
        const listed = await store.listStaged();
        expect(listed.map((s) => s.stagingId).sort()).to.deep.equal([stagedOwed.stagingId, stagedOrphan.stagingId].sort());
        const recovered = listed.find((s) => s.stagingId === stagedOwed.stagingId)!;
        expect(recovered.sha1).to.equal(sha1Of(owed));
        expect(recovered.size).to.equal(owed.byteLength);
        const id = uniqueId();
        await recovered.commit(id);
        expect(await store.cleanOrphans(-60_000)).to.equal(1);
        expect(await store.listStaged()).to.deep.equal([]);
        expect((await contentOf(store, id))!.equals(owed)).to.equal(true);
        expect(await rejection(listed.find((s) => s.stagingId === stagedOrphan.stagingId)!.commit(uniqueId()))).to.be.instanceOf(BlobStateError);
      });

      it('concurrent small uploads, commits and removals are each durable and distinct', async () => {
        const contents = Array.from({ length: 32 }, () => randomBytes(20_000));
        const ids = contents.map(() => uniqueId());
        const staged = await Promise.all(contents.map((c) => stageBytes(store, c)));
        await Promise.all(staged.map((s, i) => s.commit(ids[i]!)));
        await store.close();
        store = await hooks.reopen();
        for (const [i, id] of ids.entries()) expect((await contentOf(store, id))!.equals(contents[i]!)).to.equal(true);
        expect(await Promise.all(ids.slice(0, 16).map((id) => store.remove(id)))).to.deep.equal(Array(16).fill(true));
        for (const [i, id] of ids.entries()) expect(await store.exists(id), `document ${i}`).to.equal(i >= 16);
      });
    });

    describe('concurrency', () => {
      it('concurrent stages and commits do not interfere', async () => {
        const documents = Array.from({ length: 8 }, (_, i) => randomBytes(100_000 + i * 37_001));
        const staged = await Promise.all(documents.map((bytes, i) => store.stage(chunked(bytes, 8192 + i * 1000))));
        staged.forEach((s, i) => {
          expect(s.sha1).to.equal(sha1Of(documents[i]!));
          expect(s.size).to.equal(documents[i]!.byteLength);
        });
        expect(new Set(staged.map((s) => s.stagingId)).size).to.equal(documents.length);
        const ids = documents.map(() => uniqueId());
        await Promise.all(staged.map((s, i) => s.commit(ids[i]!)));
        const read = await Promise.all(ids.map((id) => contentOf(store, id)));
        read.forEach((bytes, i) => expect(bytes!.equals(documents[i]!)).to.equal(true));
      });
    });

    describe('memory', () => {
      it('stages and streams a 50 MB blob with RSS growth far below its size', async function () {
        const size = 50 * MB;
        const written: { sha1?: string } = {};
        let peak = 0;
        let seen = 0;
        // Every ~4 MB: collect garbage, then sample, so the peak shows retained memory only.
        const sample = (bytes: number) => {
          seen += bytes;
          if (seen < 4 * MB) return;
          seen = 0;
          collectGarbage();
          peak = Math.max(peak, process.memoryUsage().rss);
        };
        const baseline = () => {
          collectGarbage();
          seen = 0;
          return (peak = process.memoryUsage().rss);
        };

        async function* sampled(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
          for await (const chunk of source) {
            sample(chunk.byteLength);
            yield chunk;
          }
        }
        const beforeStage = baseline();
        const staged = await store.stage(sampled(generated(size, written)));
        sample(4 * MB);
        const stageGrowth = peak - beforeStage;
        expect(staged.size).to.equal(size);
        expect(staged.sha1).to.equal(written.sha1);

        const id = uniqueId();
        await staged.commit(id);
        const blob = (await store.open(id))!;
        expect(blob.size).to.equal(size);

        const beforeRead = baseline();
        const hash = createHash('sha1');
        let read = 0;
        for await (const chunk of blob.stream() as AsyncIterable<Buffer>) {
          hash.update(chunk);
          read += chunk.byteLength;
          sample(chunk.byteLength);
        }
        const readGrowth = peak - beforeRead;
        expect(read).to.equal(size);
        expect(hash.digest('hex')).to.equal(written.sha1);
        // Generous bounds: holding the blob once adds 50 MB (measured: a source that keeps its
        // chunks grows RSS by ~48 MB under this sampling; the filesystem store by ~5 MB).
        expect(stageGrowth, `RSS grew ${(stageGrowth / MB).toFixed(1)} MB while staging`).to.be.below(20 * MB);
        expect(readGrowth, `RSS grew ${(readGrowth / MB).toFixed(1)} MB while streaming`).to.be.below(20 * MB);
      });
    });

    describe('durability and identifiers', () => {
      it('keeps committed blobs across a reopen', async () => {
        const bytes = randomBytes(123_456);
        const id = uniqueId();
        await (await stageBytes(store, bytes)).commit(id);
        await store.close();
        store = await hooks.reopen();
        expect(await store.exists(id)).to.equal(true);
        expect((await contentOf(store, id))!.equals(bytes)).to.equal(true);
      });

      it('stores uniqueIds with /, .., ^, unicode and very long values safely and distinctly', async () => {
        const ids = [
          '../../../../etc/passwd',
          '..',
          '.',
          '/absolute/path',
          'a/b/../c',
          'a\\b\\..\\c',
          '1.2.3.4^extension',
          '2.16.578.1.12.4.5.100.1^^^&2.16.578&ISO',
          'æøå-Ærlig-dokument',
          'x'.repeat(10_000),
          'x'.repeat(10_001),
          ' leading and trailing ',
          'NUL\u0000inside',
        ];
        const contents = ids.map(() => randomBytes(64));
        for (const [i, id] of ids.entries()) await (await stageBytes(store, contents[i]!)).commit(id);
        for (const [i, id] of ids.entries()) {
          expect((await contentOf(store, id))!.equals(contents[i]!), JSON.stringify(id.slice(0, 40))).to.equal(true);
        }
        expect(await store.exists('etc/passwd')).to.equal(false);
        expect(await store.exists('x'.repeat(9_999))).to.equal(false);
      });

      it('remove deletes a committed blob and reports whether it existed', async () => {
        const id = uniqueId();
        await (await stageBytes(store, randomBytes(1000))).commit(id);
        expect(await store.remove(id)).to.equal(true);
        expect(await store.exists(id)).to.equal(false);
        expect(await store.open(id)).to.equal(undefined);
        expect(await store.remove(id)).to.equal(false);
        // The uniqueId is free again (ITI-86 then a new submission).
        const bytes = randomBytes(10);
        await (await stageBytes(store, bytes)).commit(id);
        expect((await contentOf(store, id))!.equals(bytes)).to.equal(true);
      });
    });
  });
}

export type { BlobSource };
