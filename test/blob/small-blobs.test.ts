/**
 * The filesystem store's small-document tier (repository/blob/filesystem/small-blobs.ts): where a
 * document goes at the size boundary, documents of one tier seen from the other (existing files
 * after the tier is turned on, table rows after it is turned off), and staged rows across a crash.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BlobConflictError, isOutOfSpace, type BlobStore } from '../../repository/blob/blob-store.js';
import { openFilesystemBlobStore } from '../../repository/blob/filesystem/index.js';
import { SMALL_BLOBS_FILE } from '../../repository/blob/filesystem/small-blobs.js';
import { rejection } from '../helpers/util.js';
import { chunked, readAll, sha1Of } from './contract.js';

describe('filesystem blob store: small documents in a table', () => {
  let root: string;
  const open: BlobStore[] = [];
  const store = async (smallDocumentBytes?: number): Promise<BlobStore> => {
    const s = await openFilesystemBlobStore({ directory: root, ...(smallDocumentBytes !== undefined ? { smallDocumentBytes } : {}) });
    open.push(s);
    return s;
  };
  const contentOf = async (s: BlobStore, id: string): Promise<Buffer | undefined> => {
    const blob = await s.open(id);
    return blob === undefined ? undefined : readAll(blob.stream());
  };
  const files = async (dir: string): Promise<number> => {
    let n = 0;
    for (const e of await readdir(join(root, dir), { withFileTypes: true, recursive: true })) if (e.isFile()) n++;
    return n;
  };
  const rows = (): { committed: number; staged: number } => {
    const db = new Database(join(root, SMALL_BLOBS_FILE), { readonly: true });
    try {
      return db.prepare('SELECT count(unique_id) AS committed, count(*) - count(unique_id) AS staged FROM small_blobs').get() as { committed: number; staged: number };
    } finally {
      db.close();
    }
  };

  beforeEach(async () => {
    root = join(await mkdtemp(join(tmpdir(), 'kp-small-blobs-')), 'documents');
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await rm(join(root, '..'), { recursive: true, force: true });
  });

  it('keeps a document of exactly smallDocumentBytes in the table and one byte more as a file', async () => {
    const s = await store(1000);
    const small = randomBytes(1000);
    const large = randomBytes(1001);
    const stagedSmall = await s.stage(chunked(small, 300));
    const stagedLarge = await s.stage(chunked(large, 300));
    expect(rows()).to.deep.equal({ committed: 0, staged: 1 });
    expect(await files('staging')).to.equal(1);
    await stagedSmall.commit('small');
    await stagedLarge.commit('large');
    expect(rows()).to.deep.equal({ committed: 1, staged: 0 });
    expect(await files('staging')).to.equal(0);
    expect(await files('blobs')).to.equal(1);
    expect((await contentOf(s, 'small'))!.equals(small)).to.equal(true);
    expect((await contentOf(s, 'large'))!.equals(large)).to.equal(true);
    expect(stagedSmall.sha1).to.equal(sha1Of(small));
  });

  it('serves and removes documents stored as files before the tier existed; a small retry of one is identical, other bytes conflict', async () => {
    const before = await store(0);
    const bytes = randomBytes(2000);
    await (await before.stage(chunked(bytes))).commit('old');
    await before.close();
    const s = await store();
    expect((await contentOf(s, 'old'))!.equals(bytes)).to.equal(true);
    await (await s.stage(chunked(bytes))).commit('old');
    expect(rows(), 'no second copy in the table').to.deep.equal({ committed: 0, staged: 0 });
    const other = await s.stage(chunked(randomBytes(2000)));
    expect(await rejection(other.commit('old'))).to.be.instanceOf(BlobConflictError);
    await other.abort();
    expect(await s.remove('old')).to.equal(true);
    expect(await s.exists('old')).to.equal(false);
    expect(await files('blobs')).to.equal(0);
  });

  it('with the tier turned off, serves and removes what the table holds; a file onto a uniqueId in the table conflicts', async () => {
    const s = await store();
    const bytes = randomBytes(3000);
    await (await s.stage(chunked(bytes))).commit('in-table');
    await (await s.stage(chunked(randomBytes(10)))).commit('to-remove');
    await s.close();
    const off = await store(0);
    expect((await contentOf(off, 'in-table'))!.equals(bytes)).to.equal(true);
    const conflicting = await off.stage(chunked(randomBytes(3000)));
    expect(await rejection(conflicting.commit('in-table'))).to.be.instanceOf(BlobConflictError);
    await conflicting.abort();
    // The same bytes as a file, a retried submission: accepted, and not stored twice.
    await (await off.stage(chunked(bytes))).commit('in-table');
    expect(await files('blobs')).to.equal(0);
    expect(await off.remove('to-remove')).to.equal(true);
    expect(await off.exists('to-remove')).to.equal(false);
    expect(await files('staging')).to.equal(0);
  });

  it('a staged row outlives a process that died without closing, and is committed or cleaned by the next', async () => {
    const crashed = await store();
    const owed = randomBytes(5000);
    const stagedOwed = await crashed.stage(chunked(owed));
    await crashed.stage(chunked(randomBytes(5000)));
    // The next process opens the same files while the first one's connections are still open.
    const next = await store();
    const listed = await next.listStaged();
    expect(listed).to.have.length(2);
    await listed.find((b) => b.stagingId === stagedOwed.stagingId)!.commit('owed');
    expect(await next.cleanOrphans(0, { keep: new Set() })).to.equal(1);
    expect(rows()).to.deep.equal({ committed: 1, staged: 0 });
    expect((await contentOf(next, 'owed'))!.equals(owed)).to.equal(true);
  });

  it('a full disk under the table (SQLITE_FULL) counts as out of space (ITI-41: XDSRepositoryOutOfResources)', () => {
    expect(isOutOfSpace(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }))).to.equal(true);
  });

  it('refuses a smallDocumentBytes outside 0 … 1 MiB', async () => {
    expect(await rejection(openFilesystemBlobStore({ directory: root, smallDocumentBytes: -1 }))).to.be.instanceOf(RangeError);
    expect(await rejection(openFilesystemBlobStore({ directory: root, smallDocumentBytes: 2 * 1024 * 1024 }))).to.be.instanceOf(RangeError);
  });
});
