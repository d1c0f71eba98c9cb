/**
 * Issue 14, item 6: a full disk gives the IHE out-of-resources codes, never an internal error, and
 * a submission whose registry commit succeeded is never answered as failed (the source would send
 * again what is stored). The full disk is injected here (ENOSPC from the blob store, SQLITE_FULL
 * from the registry's commit, a failing audit trail); full-disk.test.ts runs the same on a real
 * small file system.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { parseConfig } from '../../connector/config.js';
import { startNode, type RunningNode } from '../../connector/node.js';
import { parseSubmitObjectsRequest } from '../../registry/ebxml/index.js';
import type { Submission } from '../../registry/model/metadata.js';
import { createPatientIdPolicy } from '../../registry/patients.js';
import { registerSubmission } from '../../registry/register.js';
import { DocumentRegistry } from '../../registry/registry.js';
import { openEmbeddedStore } from '../../registry/store/embedded/index.js';
import { SqliteWriteError } from '../../registry/store/embedded/sqlite-writer.js';
import type { RegistryStore } from '../../registry/store/store.js';
import { parseXml } from '../../registry/xml/parse.js';
import { openFilesystemBlobStore, type BlobStore, type StagedBlob } from '../../repository/blob/index.js';
import { inProcessRegistry } from '../../repository/registry-port.js';
import { DocumentRepository } from '../../repository/repository.js';
import { auditedSubmissions } from './audit-trail.js';
import { findDocuments, provide, register, retrieveDocument, testSubmission } from './submit-client.js';

const REPO = '2.16.578.1.12.4.5.100.1.2';
const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });

function parsed(xml: string): Submission {
  return parseSubmitObjectsRequest(parseXml(xml));
}

/** A registry store whose commits fail as SQLite fails them on a full disk, while `full()` says so. */
function fillable(store: RegistryStore, full: () => boolean): RegistryStore {
  return {
    find: (f, o) => store.find(f, o),
    getByUuids: (ids) => store.getByUuids(ids),
    count: (f) => store.count(f),
    objectCounts: () => store.objectCounts(),
    commit: (batch) => (full() ? Promise.reject(new SqliteWriteError('database or disk is full', 'SQLITE_FULL')) : store.commit(batch)),
    close: () => store.close(),
    ...(store.outbox ? { outbox: store.outbox } : {}),
  };
}

describe('out of resources (injected)', function () {
  this.timeout(30_000);
  let dir: string;
  let store: RegistryStore;
  let blobs: BlobStore;
  let diskFull: boolean;
  let registry: DocumentRegistry;
  const logged: { level: string; message: string }[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kp-oor-'));
    store = openEmbeddedStore({ path: join(dir, 'registry.sqlite') });
    blobs = await openFilesystemBlobStore({ directory: join(dir, 'documents') });
    diskFull = false;
    registry = new DocumentRegistry(fillable(store, () => diskFull), { queryResultLimit: 100, patientIds: createPatientIdPolicy({ acceptedAssigningAuthorities: [] }) });
    logged.length = 0;
  });
  afterEach(async () => {
    await store.close();
    await blobs.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function repository(blobStore: BlobStore = blobs): DocumentRepository {
    return new DocumentRepository(blobStore, inProcessRegistry(registry), {
      repositoryUniqueId: REPO,
      maxDocumentBytes: 1 << 20,
      log: (level, message) => logged.push({ level, message }),
    });
  }

  it('ITI-42: a commit failing with SQLITE_FULL is XDSRegistryOutOfResources and stores nothing', async () => {
    diskFull = true;
    const sub = testSubmission(false);
    const outcome = await registerSubmission(registry.store, parsed(sub.xml), { patientIds: createPatientIdPolicy({ acceptedAssigningAuthorities: [] }), now: () => new Date() });
    expect(outcome.status).to.equal('Failure');
    expect(outcome.errors.map((e) => e.code)).to.deep.equal(['XDSRegistryOutOfResources']);
    expect(await store.count({ type: 'SubmissionSet', uniqueId: sub.submissionSetUid })).to.equal(0);
    diskFull = false;
    expect((await registry.register(parsed(sub.xml))).status, 'the same submission is accepted once there is space').to.equal('Success');
  });

  it('ITI-41: no space to stage a document is XDSRepositoryOutOfResources; nothing is registered', async () => {
    const full: BlobStore = { ...blobs, stage: async () => Promise.reject(enospc()) };
    const sub = testSubmission(true);
    const outcome = await repository(full).provideAndRegister(parsed(sub.xml), new Map([['Document01', Readable.from([randomBytes(100)])]]));
    expect(outcome.status).to.equal('Failure');
    expect(outcome.errors.map((e) => e.code)).to.deep.equal(['XDSRepositoryOutOfResources']);
    expect(await store.count({ type: 'DocumentEntry', uniqueId: sub.documentUid })).to.equal(0);
  });

  it('ITI-41: a registry out of space is relayed as XDSRegistryOutOfResources and the staged document is removed', async () => {
    diskFull = true;
    const sub = testSubmission(true);
    const outcome = await repository().provideAndRegister(parsed(sub.xml), new Map([['Document01', Readable.from([randomBytes(100)])]]));
    expect(outcome.errors.map((e) => e.code)).to.deep.equal(['XDSRegistryOutOfResources']);
    expect(await blobs.listStaged()).to.deep.equal([]);
  });

  it('ITI-41: a blob commit failing after the registry commit is still Success; the document is kept staged, logged, and committed on retry', async () => {
    let failCommits = true;
    const flaky: BlobStore = {
      ...blobs,
      stage: async (source, options) => {
        const staged = await blobs.stage(source, options);
        const wrapped: StagedBlob = { ...staged, commit: (id) => (failCommits ? Promise.reject(enospc()) : staged.commit(id)), abort: () => staged.abort() };
        return wrapped;
      },
      exists: (id) => blobs.exists(id),
      open: (id) => blobs.open(id),
    };
    const repo = repository(flaky);
    const sub = testSubmission(true);
    const bytes = randomBytes(1000);
    const outcome = await repo.provideAndRegister(parsed(sub.xml), new Map([['Document01', Readable.from([bytes])]]));
    expect(outcome.status, 'the registration is stored: never answered as failed').to.equal('Success');
    expect(await store.count({ type: 'DocumentEntry', uniqueId: sub.documentUid })).to.equal(1);
    expect(await blobs.listStaged(), 'kept staged, not aborted').to.have.length(1);
    expect(logged.some((l) => l.level === 'error' && /REGISTERED DOCUMENT NOT YET RETRIEVABLE/.test(l.message))).to.equal(true);
    // The disk has space again: the retry (first after ~2 s) commits it.
    failCommits = false;
    const deadline = Date.now() + 10_000;
    while (!(await blobs.exists(sub.documentUid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await blobs.exists(sub.documentUid)).to.equal(true);
    expect(await blobs.listStaged()).to.deep.equal([]);
  });
});

describe('audit trail failing (node over HTTP)', function () {
  this.timeout(60_000);
  let dataDir: string;
  let node: RunningNode | undefined;

  const start = (): Promise<RunningNode> =>
    startNode(parseConfig({ port: 0, host: '127.0.0.1', dataDir, silent: true, repository: { repositoryUniqueId: REPO } }));

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'kp-oor-node-'));
  });
  afterEach(async () => {
    await node?.close();
    node = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The audit trail refuses every write (store and queue both full), as on a full disk. */
  function breakAudit(n: RunningNode): () => void {
    const original = n.auditor.record.bind(n.auditor);
    n.auditor.record = async () => Promise.reject(Object.assign(new Error('SQLITE_FULL: database or disk is full'), { code: 'SQLITE_FULL' }));
    return () => {
      n.auditor.record = original;
    };
  }

  it('answers stored ITI-41 and ITI-42 submissions Success, and their events are recorded from the outbox at the next start', async () => {
    node = await start();
    const repair = breakAudit(node);
    const s42 = testSubmission(false);
    const s41 = testSubmission(true);
    const a42 = await register(`${node.url}/xds/registry`, s42);
    const a41 = await provide(`${node.url}/xds/repository`, s41, randomBytes(2000));
    expect([a42.httpStatus, a42.status, a42.codes]).to.deep.equal([200, 'Success', []]);
    expect([a41.httpStatus, a41.status, a41.codes]).to.deep.equal([200, 'Success', []]);
    repair();
    await node.close();

    node = await start();
    await node.auditor.flush();
    for (const uid of [s42.submissionSetUid, s41.submissionSetUid]) {
      expect(await node.registry.store.count({ type: 'SubmissionSet', uniqueId: uid })).to.equal(1);
      expect(await auditedSubmissions(node.config.dataDir), `audit event of ${uid}`).to.include(uid);
    }
  });

  it('refuses reads with a RegistryError, not a fault, while their access cannot be recorded (no access without audit)', async () => {
    node = await start();
    const s41 = testSubmission(true);
    expect((await provide(`${node.url}/xds/repository`, s41, randomBytes(2000))).status).to.equal('Success');
    const repair = breakAudit(node);
    const query = await findDocuments(`${node.url}/xds/registry`);
    expect([query.httpStatus, query.status, query.codes]).to.deep.equal([200, 'Failure', ['XDSRegistryError']]);
    expect(query.text).to.match(/no access without audit/);
    expect(query.text).not.to.contain('ObjectRef id=');
    const got = await retrieveDocument(`${node.url}/xds/repository`, REPO, s41.documentUid);
    expect([got.httpStatus, got.status, got.codes]).to.deep.equal([200, 'Failure', ['XDSRepositoryError']]);
    expect(got.text).not.to.contain('xop:Include');
    repair();
    expect((await findDocuments(`${node.url}/xds/registry`)).status).to.equal('Success');
  });
});
