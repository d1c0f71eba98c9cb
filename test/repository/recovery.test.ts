/**
 * Start-up recovery and the orphan sweep of the Document Repository (issue 14, item 7): leftovers
 * of a crashed process are resolved at start, registered ones committed and the others removed at
 * once, and the only registry reads are indexed ones (the commit records of one kind, the
 * SubmissionSets that witness them by entryUUID): never a search of DocumentEntries, which on the
 * embedded store was a scan of every entry.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { parseSubmitObjectsRequest } from '../../registry/ebxml/index.js';
import type { Submission } from '../../registry/model/metadata.js';
import { createPatientIdPolicy } from '../../registry/patients.js';
import { DocumentRegistry } from '../../registry/registry.js';
import { openEmbeddedStore } from '../../registry/store/embedded/index.js';
import type { RegistryFilter, RegistryStore } from '../../registry/store/store.js';
import { parseXml } from '../../registry/xml/parse.js';
import { openFilesystemBlobStore, type BlobStore } from '../../repository/blob/index.js';
import { inProcessRegistry, type RegistryPort } from '../../repository/registry-port.js';
import { DocumentRepository } from '../../repository/repository.js';
import { testSubmission } from '../durability/submit-client.js';

const REPO = '2.16.578.1.12.4.5.100.1.2';

/** A registry store that records every search (`find`, `count`) made through it. */
function watched(store: RegistryStore): { store: RegistryStore; searches: RegistryFilter[]; lookups: number } {
  const seen = { searches: [] as RegistryFilter[], lookups: 0 };
  const wrapper: RegistryStore = {
    find: (filter, options) => (seen.searches.push(filter), store.find(filter, options)),
    count: (filter) => (seen.searches.push(filter), store.count(filter)),
    getByUuids: (ids) => (seen.lookups++, store.getByUuids(ids)),
    objectCounts: () => store.objectCounts(),
    commit: (batch) => store.commit(batch),
    close: () => store.close(),
    ...(store.outbox ? { outbox: store.outbox } : {}),
  };
  return Object.assign(seen, { store: wrapper });
}

function parsed(xml: string): Submission {
  return parseSubmitObjectsRequest(parseXml(xml));
}

// Both tiers of the filesystem store: small documents in its table (the default), and every document a file.
for (const [tier, smallDocumentBytes] of [['small documents in the table', undefined], ['every document a file', 0]] as const) describe(`Document Repository recovery (indexed, at start): ${tier}`, function () {
  this.timeout(30_000);
  let dir: string;
  let store: RegistryStore;
  let blobs: BlobStore;
  let registry: DocumentRegistry;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kp-recovery-'));
    await reopen();
  });
  afterEach(async () => {
    await store.close();
    await blobs.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function reopen(): Promise<void> {
    store = openEmbeddedStore({ path: join(dir, 'registry.sqlite') });
    blobs = await openFilesystemBlobStore({ directory: join(dir, 'documents'), ...(smallDocumentBytes !== undefined ? { smallDocumentBytes } : {}) });
    registry = new DocumentRegistry(store, { queryResultLimit: 100, patientIds: createPatientIdPolicy({ acceptedAssigningAuthorities: [] }) });
  }

  function repository(port: RegistryPort = inProcessRegistry(registry), orphanAgeMs?: number): DocumentRepository {
    return new DocumentRepository(blobs, port, { repositoryUniqueId: REPO, maxDocumentBytes: 1 << 20, ...(orphanAgeMs !== undefined ? { orphanAgeMs } : {}) });
  }

  /** Registers a submission whose answer is then lost with the process: its document stays staged. */
  async function registeredThenCrashed(): Promise<{ documentUid: string; bytes: Buffer }> {
    const port = inProcessRegistry(registry);
    const crashing: RegistryPort = {
      ...port,
      register: async (s) => {
        await port.register(s);
        throw new Error('injected: the process dies after the registry commit');
      },
      documentEntries: async () => {
        throw new Error('injected: the registry cannot be asked');
      },
    };
    const sub = testSubmission(true);
    const bytes = randomBytes(3000);
    const outcome = await repository(crashing).provideAndRegister(parsed(sub.xml), new Map([['Document01', Readable.from([bytes])]]));
    expect(outcome.status).to.equal('Failure');
    return { documentUid: sub.documentUid, bytes };
  }

  /** What is staged, in either tier, and partial uploads (files only: a table row is written whole). */
  const staging = async (): Promise<string[]> => [
    ...(await blobs.listStaged()).map((b) => b.stagingId),
    ...readdirSync(join(dir, 'documents', 'staging')).filter((name) => name.endsWith('.part')),
  ];

  it('commits a registered leftover and removes unregistered ones at once (not an hour later), with no search of the registry', async () => {
    const registered = await registeredThenCrashed();
    // Two leftovers never registered: a complete staged blob and a partial upload.
    await blobs.stage(Readable.from([randomBytes(500)]));
    writeFileSync(join(dir, 'documents', 'staging', '00000000-0000-4000-8000-000000000000.part'), 'half');
    expect(await staging()).to.have.length(3);

    await store.close();
    await blobs.close();
    await reopen();
    const seen = watched(store);
    const port = inProcessRegistry(new DocumentRegistry(seen.store, { queryResultLimit: 100, patientIds: createPatientIdPolicy({ acceptedAssigningAuthorities: [] }) }));
    const report = await repository(port).recover();

    expect(report).to.deep.equal({ recovered: 1, removed: 2 });
    expect(await staging()).to.deep.equal([]);
    const blob = await blobs.open(registered.documentUid);
    expect(blob?.size).to.equal(registered.bytes.length);
    expect(seen.searches, 'no find/count: leftovers are resolved from commit records, not by searching entries').to.deep.equal([]);
    expect(seen.lookups, 'one lookup of the witnesses by entryUUID').to.equal(1);
    // Its record is done: a second start has nothing to do.
    expect(await repository(port).recover()).to.deep.equal({ recovered: 0, removed: 0 });
  });

  it('the sweep leaves young staged blobs (uploads in flight) alone and resolves the old ones', async () => {
    const registered = await registeredThenCrashed();
    await blobs.stage(Readable.from([randomBytes(500)]));
    const sweep = repository(inProcessRegistry(registry), 60_000);
    expect(await sweep.recover(60_000)).to.deep.equal({ recovered: 0, removed: 0 });
    expect(await staging()).to.have.length(2);
    expect(await blobs.exists(registered.documentUid)).to.equal(false);
    // Aged past the orphan age (a negative age makes every staged blob old enough).
    expect(await repository(inProcessRegistry(registry), -1000).recover(-1000)).to.deep.equal({ recovered: 1, removed: 1 });
    expect(await staging()).to.deep.equal([]);
    expect(await blobs.exists(registered.documentUid)).to.equal(true);
  });

  it('keeps a registered leftover it cannot commit yet, and commits it on a later run', async () => {
    const registered = await registeredThenCrashed();
    let failing = true;
    const port = inProcessRegistry(registry);
    const flaky: BlobStore = {
      ...blobs,
      listStaged: async () =>
        (await blobs.listStaged()).map((b) => ({
          ...b,
          commit: (id: string) => (failing ? Promise.reject(Object.assign(new Error('injected: no space left on device'), { code: 'ENOSPC' })) : b.commit(id)),
        })),
      cleanOrphans: (age, options) => blobs.cleanOrphans(age, options),
      exists: (id) => blobs.exists(id),
    };
    const repo = new DocumentRepository(flaky, port, { repositoryUniqueId: REPO, maxDocumentBytes: 1 << 20 });
    expect(await repo.recover()).to.deep.equal({ recovered: 0, removed: 0 });
    expect(await staging(), 'kept for the next try').to.have.length(1);
    failing = false;
    expect(await repo.recover()).to.deep.equal({ recovered: 1, removed: 0 });
    expect(await blobs.exists(registered.documentUid)).to.equal(true);
  });

  it('reads the commit records and their witnesses through indexes (query plans)', async () => {
    await registeredThenCrashed();
    const db = new Database(join(dir, 'registry.sqlite'), { readonly: true });
    try {
      const plan = (sql: string, ...params: unknown[]): string =>
        (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ');
      expect(plan('SELECT id, kind, payload, witness FROM outbox WHERE kind = ?', 'blob-commit')).to.match(/USING (COVERING )?INDEX outbox_kind/);
      expect(plan('SELECT seq FROM objects WHERE entry_uuid IN (SELECT value FROM json_each(?))', '["x"]')).to.match(/USING (COVERING )?INDEX sqlite_autoindex_objects/);
      expect(plan('SELECT seq FROM objects WHERE entry_uuid IN (SELECT value FROM json_each(?))', '["x"]')).not.to.match(/SCAN objects/);
      const rows = db.prepare('SELECT kind FROM outbox').all() as { kind: string }[];
      expect(rows.map((r) => r.kind)).to.deep.equal(['blob-commit']);
    } finally {
      db.close();
    }
  });

  it('removes leftovers only after the orphan age when the registry is remote (it keeps no records)', async () => {
    await blobs.stage(Readable.from([randomBytes(500)]));
    const remote: RegistryPort = { register: async () => ({ status: 'Success', errors: [] }), documentEntries: async () => [] };
    expect(await repository(remote, 60_000).recover()).to.deep.equal({ recovered: 0, removed: 0 });
    expect(await staging()).to.have.length(1);
  });
});
