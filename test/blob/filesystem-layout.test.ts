/**
 * What the filesystem store puts on disk for documents kept as files, and how it recovers from
 * crashes at each step. The small-document tier is off here (smallDocumentBytes 0) so that even
 * a few bytes make a file; small-blobs.test.ts covers the tier.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { link, mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import type { BlobStore } from '../../repository/blob/blob-store.js';
import { openFilesystemBlobStore } from '../../repository/blob/filesystem/index.js';
import { blobPath, partialPath } from '../../repository/blob/filesystem/paths.js';
import { FILESYSTEM_DIRECTORY, openBlobStore } from '../../repository/blob/open.js';
import { chunked, readAll, sha1Of } from './contract.js';

async function walk(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await walk(path)));
    else found.push(path);
  }
  return found;
}

describe('filesystem blob store on disk', () => {
  let base: string;
  let root: string;
  let store: BlobStore;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'kp-blob-fs-'));
    root = join(base, 'store');
    store = await openFilesystemBlobStore({ directory: root, smallDocumentBytes: 0 });
  });
  afterEach(async () => {
    await store.close();
    await rm(base, { recursive: true, force: true });
  });

  it('never turns a uniqueId into a path: every blob is blobs/<2 hex>/<2 hex>/<sha-256 hex>', async () => {
    const ids = ['../../escape', '/etc/passwd', 'a/../../b', '..', '1.2.3^ext', 'y'.repeat(5000)];
    for (const id of ids) await (await store.stage(chunked(randomBytes(32)))).commit(id);
    expect(await readdir(base)).to.deep.equal(['store']);
    const files = (await walk(root)).map((p) => relative(root, p).split(sep).join('/'));
    expect(files).to.have.length(ids.length);
    for (const file of files) expect(file).to.match(/^blobs\/([0-9a-f]{2})\/([0-9a-f]{2})\/\1\2[0-9a-f]{60}$/);
    expect(blobPath(root, '../../escape').startsWith(join(root, 'blobs') + sep)).to.equal(true);
  });

  it('commits into a shard directory that vanished after the store had used it (made again)', async () => {
    const bytes = randomBytes(64);
    await (await store.stage(chunked(bytes))).commit('doc-shard');
    expect(await store.remove('doc-shard')).to.equal(true);
    await rm(join(blobPath(root, 'doc-shard'), '..'), { recursive: true });
    await (await store.stage(chunked(bytes))).commit('doc-shard');
    expect((await readAll((await store.open('doc-shard'))!.stream())).equals(bytes)).to.equal(true);
  });

  it('stages 32 uploads at once into staging/, every one complete and listed', async () => {
    const staged = await Promise.all(Array.from({ length: 32 }, () => store.stage(chunked(randomBytes(2000)))));
    expect((await store.listStaged()).map((s) => s.stagingId).sort()).to.deep.equal(staged.map((s) => s.stagingId).sort());
    await Promise.all(staged.map((s, i) => s.commit(`doc-${i}`)));
    expect(await readdir(join(root, 'staging'))).to.deep.equal([]);
  });

  it('stages into staging/ and leaves it empty after commit and after abort', async () => {
    const a = await store.stage(chunked(randomBytes(1000)));
    const b = await store.stage(chunked(randomBytes(1000)));
    expect((await readdir(join(root, 'staging'))).sort()).to.deep.equal(
      [`${a.stagingId}.${a.sha1}.staged`, `${b.stagingId}.${b.sha1}.staged`].sort(),
    );
    await a.commit('doc-a');
    await b.abort();
    expect(await readdir(join(root, 'staging'))).to.deep.equal([]);
  });

  it('cleans a partial upload left by a crash mid-stream once it is old enough', async () => {
    const partial = partialPath(root, '11111111-2222-4333-8444-555555555555');
    await writeFile(partial, randomBytes(100));
    expect(await store.listStaged(), 'a partial upload is not recoverable').to.deep.equal([]);
    expect(await store.cleanOrphans(60_000), 'too young: maybe still uploading').to.equal(0);
    const anHourAgo = new Date(Date.now() - 3_600_000);
    await utimes(partial, anHourAgo, anHourAgo);
    expect(await store.cleanOrphans(60_000)).to.equal(1);
    expect(await readdir(join(root, 'staging'))).to.deep.equal([]);
  });

  it('survives a crash between linking the blob and unlinking the staging file', async () => {
    const bytes = randomBytes(5000);
    const staged = await store.stage(chunked(bytes));
    const stagedFile = join(root, 'staging', `${staged.stagingId}.${staged.sha1}.staged`);
    // Replay the commit up to the crash point: blob linked, staging file still present.
    const target = blobPath(root, 'doc-crash');
    await mkdir(join(target, '..'), { recursive: true });
    await link(stagedFile, target);
    await store.close();

    store = await openFilesystemBlobStore({ directory: root, smallDocumentBytes: 0 });
    expect((await readAll((await store.open('doc-crash'))!.stream())).equals(bytes)).to.equal(true);
    const [twin] = await store.listStaged();
    expect(twin!.sha1).to.equal(sha1Of(bytes));
    await twin!.commit('doc-crash'); // recovery: identical bytes, so idempotent
    expect(await store.listStaged()).to.deep.equal([]);
    expect((await readAll((await store.open('doc-crash'))!.stream())).equals(bytes)).to.equal(true);
    expect((await stat(target)).nlink).to.equal(1);
  });

  it('cleaning a staged twin of a committed blob keeps the blob', async () => {
    const bytes = randomBytes(5000);
    const staged = await store.stage(chunked(bytes));
    const stagedFile = join(root, 'staging', `${staged.stagingId}.${staged.sha1}.staged`);
    const target = blobPath(root, 'doc-twin');
    await mkdir(join(target, '..'), { recursive: true });
    await link(stagedFile, target);
    expect(await store.cleanOrphans(-60_000)).to.equal(1);
    expect((await readAll((await store.open('doc-twin'))!.stream())).equals(bytes)).to.equal(true);
  });

  it('refuses to work after close', async () => {
    await store.close();
    let error: unknown;
    try {
      await store.exists('x');
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.contain('closed');
    store = await openFilesystemBlobStore({ directory: root, smallDocumentBytes: 0 });
  });

  it('openBlobStore without a MongoDB URI opens the filesystem store under <dataDir>/documents', async () => {
    const dataDir = join(base, 'data');
    const opened = await openBlobStore({ dataDir, smallDocumentBytes: 0 });
    try {
      await (await opened.stage(chunked(Buffer.from('hei')))).commit('doc-1');
      const files = await walk(join(dataDir, FILESYSTEM_DIRECTORY));
      expect(files).to.have.length(1);
      expect(files[0]).to.equal(blobPath(join(dataDir, FILESYSTEM_DIRECTORY), 'doc-1'));
    } finally {
      await opened.close();
    }
  });
});
