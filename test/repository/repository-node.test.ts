/**
 * The Document Repository over real HTTP: ITI-41 (MTOM and inline), size/hash checks, parts and
 * entries that do not match, registry errors relayed, ITI-43 with PartialSuccess, a 50 MB round
 * trip, failure injected between blob write and registry commit, and a restart.
 */
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type NodeConfigInput } from '../../connector/config.js';
import { startNode, type RunningNode, type StartNodeOptions } from '../../connector/node.js';
import { SMALL_BLOBS_FILE } from '../../repository/blob/filesystem/small-blobs.js';
import type { RegistryPort } from '../../repository/registry-port.js';
import { NIST_PATIENT_AUTHORITY, startTestNode, type TestNode } from '../helpers/node.js';
import { epikrise, errorCodes, status, uid, type EpikriseOptions } from '../helpers/ebxml.js';
import { documents, provideInline, provideMtom, retrieve } from './client.js';

/**
 * What a node's blob store holds staged: files in documents/staging/ and rows of the small
 * documents' table without a uniqueId (repository.smallDocumentBytes, 64 KiB by default).
 */
function stagedIn(dataDir: string): string[] {
  const files = readdirSync(join(dataDir, 'documents', 'staging'));
  const path = join(dataDir, 'documents', SMALL_BLOBS_FILE);
  if (!existsSync(path)) return files;
  const table = new Database(path, { fileMustExist: true });
  try {
    return [...files, ...(table.prepare('SELECT staging_id FROM small_blobs WHERE unique_id IS NULL').pluck().all() as string[])];
  } finally {
    table.close();
  }
}

/** The epikrise as a repository gets it: hash, size and repositoryUniqueId left for it to fill in. */
const submitObjects = (options: EpikriseOptions = {}): { xml: string; docUid: string } => epikrise({ ...options, forRepository: true });

const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1';
const REPO = '2.16.578.1.12.4.5.100.1.2';
const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('hex');

describe('Document Repository node over HTTP', function () {
  this.timeout(60_000);
  let node: TestNode;
  let url: string;

  before(async () => {
    node = await startTestNode({
      homeCommunityId: HOME,
      repository: { repositoryUniqueId: REPO, maxDocumentBytes: 60 * 1024 * 1024 },
      limits: { maxRequestBytes: 80 * 1024 * 1024 },
    });
    url = `${node.url}/xds/repository`;
  });
  after(async () => node?.close());

  async function entryCount(docUid: string): Promise<number> {
    return node.registry.store.count({ type: 'DocumentEntry', uniqueId: docUid });
  }

  describe('ITI-41', () => {
    it('stores an MTOM document, fills in size, hash and repositoryUniqueId, and ITI-43 returns it', async () => {
      const bytes = Buffer.from('%PDF-1.4 epikrise for Kari Nordmann æøå\n');
      const sub = submitObjects();
      const res = await provideMtom(url, sub.xml, [{ id: 'Document01', bytes }]);
      expect(res.httpStatus).to.equal(200);
      expect(errorCodes(res.body)).to.deep.equal([]);
      expect(status(res.body)).to.equal('Success');
      const [entry] = (await node.registry.store.find({ type: 'DocumentEntry', uniqueId: sub.docUid })) as { hash?: string; size?: string; repositoryUniqueId?: string }[];
      expect(entry).to.include({ hash: sha1(bytes), size: String(bytes.length), repositoryUniqueId: REPO });

      const got = await retrieve(url, [{ repositoryUniqueId: REPO, documentUniqueId: sub.docUid }]);
      expect(got.contentType).to.match(/^multipart\/related/);
      expect(status(got.body)).to.equal('Success');
      const [doc] = documents(got);
      expect(doc).to.deep.include({ repositoryUniqueId: REPO, documentUniqueId: sub.docUid, homeCommunityId: HOME, mimeType: 'application/pdf' });
      expect(doc!.bytes.equals(bytes)).to.equal(true);
    });

    it('stores an inline base64 document', async () => {
      const bytes = randomBytes(3000);
      const sub = submitObjects({ mimeType: 'text/plain' });
      const res = await provideInline(url, sub.xml, [{ id: 'Document01', bytes }]);
      expect(status(res.body)).to.equal('Success');
      const [doc] = documents(await retrieve(url, [{ repositoryUniqueId: REPO, documentUniqueId: sub.docUid }]));
      expect(doc!.mimeType).to.equal('text/plain');
      expect(doc!.bytes.equals(bytes)).to.equal(true);
    });

    it('accepts a correct size and an upper-case hash', async () => {
      const bytes = Buffer.from('checked document');
      const sub = submitObjects({ hash: sha1(bytes).toUpperCase(), size: String(bytes.length) });
      const res = await provideMtom(url, sub.xml, [{ id: 'Document01', bytes }]);
      expect(errorCodes(res.body)).to.deep.equal([]);
      expect(status(res.body)).to.equal('Success');
    });

    for (const [what, meta] of [
      ['hash', { hash: 'da39a3ee5e6b4b0d3255bfef95601890afd80709' }],
      ['size', { size: '3' }],
    ] as const) {
      it(`refuses a wrong ${what} with XDSRepositoryMetadataError and stores nothing`, async () => {
        const sub = submitObjects(meta);
        const res = await provideMtom(url, sub.xml, [{ id: 'Document01', bytes: Buffer.from('not what the metadata says') }]);
        expect(status(res.body)).to.equal('Failure');
        expect(errorCodes(res.body)).to.deep.equal(['XDSRepositoryMetadataError']);
        expect(await entryCount(sub.docUid)).to.equal(0);
        expect(errorCodes((await retrieve(url, [{ repositoryUniqueId: REPO, documentUniqueId: sub.docUid }])).body)).to.deep.equal(['XDSDocumentUniqueIdError']);
      });
    }

    it('answers XDSMissingDocument for an entry without a part, XDSMissingDocumentMetadata for a part without an entry', async () => {
      const sub = submitObjects();
      const noDoc = await provideMtom(url, sub.xml, []);
      expect(status(noDoc.body)).to.equal('Failure');
      expect(errorCodes(noDoc.body)).to.deep.equal(['XDSMissingDocument']);
      const extra = await provideMtom(url, sub.xml, [
        { id: 'Document01', bytes: Buffer.from('one') },
        { id: 'Document99', bytes: Buffer.from('two') },
      ]);
      expect(errorCodes(extra.body)).to.deep.equal(['XDSMissingDocumentMetadata']);
      expect(await entryCount(sub.docUid)).to.equal(0);
      expect(stagedIn(node.dataDir)).to.deep.equal([]);
    });

    it('relays the registry\'s errors unchanged (unknown patient id)', async () => {
      const sub = submitObjects({ patient: '12345678901^^^&2.16.578.1.12.4.1.4.1&ISO' });
      const res = await provideMtom(url, sub.xml, [{ id: 'Document01', bytes: Buffer.from('x') }]);
      expect(status(res.body)).to.equal('Failure');
      expect(errorCodes(res.body)).to.include('XDSUnknownPatientId');
      expect(stagedIn(node.dataDir)).to.deep.equal([]);
    });

    it('drops a part that no xop:Include references', async () => {
      const sub = submitObjects();
      const res = await provideMtom(url, sub.xml, [{ id: 'Document01', bytes: Buffer.from('doc') }], [{ id: 'stray@x', bytes: Buffer.from('stray') }]);
      expect(status(res.body)).to.equal('Success');
      expect(stagedIn(node.dataDir)).to.deep.equal([]);
    });
  });

  describe('ITI-43', () => {
    const stored: { docUid: string; bytes: Buffer }[] = [];
    before(async () => {
      for (let i = 0; i < 2; i++) {
        const bytes = randomBytes(1000 + i);
        const sub = submitObjects();
        expect(status((await provideMtom(url, sub.xml, [{ id: 'Document01', bytes }])).body)).to.equal('Success');
        stored.push({ docUid: sub.docUid, bytes });
      }
    });

    it('returns several documents in request order', async () => {
      const got = await retrieve(url, stored.map((s) => ({ repositoryUniqueId: REPO, documentUniqueId: s.docUid })));
      expect(status(got.body)).to.equal('Success');
      const docs = documents(got);
      expect(docs.map((d) => d.documentUniqueId)).to.deep.equal(stored.map((s) => s.docUid));
      docs.forEach((d, i) => expect(d.bytes.equals(stored[i]!.bytes)).to.equal(true));
    });

    it('answers PartialSuccess when some are found, with XDSDocumentUniqueIdError and XDSUnknownRepositoryId for the others', async () => {
      const unknown = uid();
      const got = await retrieve(url, [
        { repositoryUniqueId: REPO, documentUniqueId: stored[0]!.docUid },
        { repositoryUniqueId: REPO, documentUniqueId: unknown },
        { repositoryUniqueId: '1.2.3.4.5', documentUniqueId: stored[1]!.docUid },
      ]);
      expect(status(got.body)).to.equal('PartialSuccess');
      expect(errorCodes(got.body)).to.deep.equal(['XDSDocumentUniqueIdError', 'XDSUnknownRepositoryId']);
      expect(documents(got).map((d) => d.documentUniqueId)).to.deep.equal([stored[0]!.docUid]);
    });

    it('answers Failure, still as MTOM, when nothing is found', async () => {
      const got = await retrieve(url, [{ repositoryUniqueId: '1.2.3.4.5', documentUniqueId: stored[0]!.docUid }]);
      expect(got.contentType).to.match(/^multipart\/related/);
      expect(status(got.body)).to.equal('Failure');
      expect(errorCodes(got.body)).to.deep.equal(['XDSUnknownRepositoryId']);
    });
  });

  it('round-trips a 50 MB document byte for byte', async function () {
    this.timeout(120_000);
    const bytes = randomBytes(50 * 1024 * 1024);
    const sub = submitObjects({ mimeType: 'application/octet-stream' });
    const res = await provideMtom(url, sub.xml, [{ id: 'Document01', bytes }]);
    expect(errorCodes(res.body)).to.deep.equal([]);
    const [doc] = documents(await retrieve(url, [{ repositoryUniqueId: REPO, documentUniqueId: sub.docUid }]));
    expect(doc!.bytes.length).to.equal(bytes.length);
    expect(sha1(doc!.bytes)).to.equal(sha1(bytes));
  });

  it('answers a document over maxDocumentBytes with XDSRepositoryError and keeps nothing', async () => {
    const small = await startTestNode({ repository: { repositoryUniqueId: REPO, maxDocumentBytes: 1024 } });
    try {
      const sub = submitObjects();
      const res = await provideMtom(`${small.url}/xds/repository`, sub.xml, [{ id: 'Document01', bytes: randomBytes(5000) }]);
      expect(status(res.body)).to.equal('Failure');
      expect(errorCodes(res.body)).to.deep.equal(['XDSRepositoryError']);
      expect(stagedIn(small.dataDir)).to.deep.equal([]);
    } finally {
      await small.close();
    }
  });
});

describe('Document Repository atomicity and restart', function () {
  this.timeout(60_000);
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'kp-repo-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  function start(options: StartNodeOptions = {}, overrides: NodeConfigInput = {}): Promise<RunningNode> {
    return startNode(
      parseConfig({
        port: 0,
        host: '127.0.0.1',
        dataDir,
        silent: true,
        repository: { repositoryUniqueId: REPO },
        registry: { patientIds: { acceptedAssigningAuthorities: [NIST_PATIENT_AUTHORITY] } },
        ...overrides,
      }),
      options,
    );
  }

  it('leaves nothing visible when the registry fails between blob write and registry commit', async () => {
    const failing = (port: RegistryPort): RegistryPort => ({
      ...port,
      register: async () => {
        throw new Error('injected: registry store unavailable');
      },
    });
    const node = await start({ wrapRegistryPort: failing });
    try {
      const sub = submitObjects();
      const res = await provideMtom(`${node.url}/xds/repository`, sub.xml, [{ id: 'Document01', bytes: randomBytes(200_000) }]);
      expect(status(res.body)).to.equal('Failure');
      expect(errorCodes(res.body)).to.deep.equal(['XDSRepositoryError']);
      expect(await node.registry.store.count({ type: 'DocumentEntry', uniqueId: sub.docUid })).to.equal(0);
      const got = await retrieve(`${node.url}/xds/repository`, [{ repositoryUniqueId: REPO, documentUniqueId: sub.docUid }]);
      expect(errorCodes(got.body)).to.deep.equal(['XDSDocumentUniqueIdError']);
      expect(stagedIn(dataDir)).to.deep.equal([]);
    } finally {
      await node.close();
    }
  });

  it('keeps an acknowledged submission across a restart', async () => {
    const bytes = randomBytes(10_000);
    const sub = submitObjects();
    const first = await start();
    try {
      expect(status((await provideMtom(`${first.url}/xds/repository`, sub.xml, [{ id: 'Document01', bytes }])).body)).to.equal('Success');
    } finally {
      await first.close();
    }
    const second = await start();
    try {
      const [doc] = documents(await retrieve(`${second.url}/xds/repository`, [{ repositoryUniqueId: REPO, documentUniqueId: sub.docUid }]));
      expect(doc!.bytes.equals(bytes)).to.equal(true);
    } finally {
      await second.close();
    }
  });

  it('commits at start a document whose registration completed before a crash, and cleans orphans', async () => {
    // Registration succeeds, then the node "crashes": the answer is lost and the registry cannot be asked.
    const crashAfterCommit = (port: RegistryPort): RegistryPort => ({
      ...port,
      register: async (s) => {
        await port.register(s);
        throw new Error('injected: crash after the registry commit');
      },
      documentEntries: async () => {
        throw new Error('injected: registry unreachable');
      },
    });
    const bytes = randomBytes(4096);
    const sub = submitObjects();
    const first = await start({ wrapRegistryPort: crashAfterCommit });
    try {
      const res = await provideMtom(`${first.url}/xds/repository`, sub.xml, [{ id: 'Document01', bytes }]);
      expect(errorCodes(res.body)).to.deep.equal(['XDSRepositoryError']);
      expect(stagedIn(dataDir)).to.have.length(1);
    } finally {
      await first.close();
    }
    const second = await start();
    try {
      expect(stagedIn(dataDir)).to.deep.equal([]);
      const [doc] = documents(await retrieve(`${second.url}/xds/repository`, [{ repositoryUniqueId: REPO, documentUniqueId: sub.docUid }]));
      expect(doc!.bytes.equals(bytes)).to.equal(true);
    } finally {
      await second.close();
    }
  });
});


describe('Document Repository with a remote registry (ITI-42/ITI-18 client)', function () {
  this.timeout(60_000);
  let registryNode: TestNode;
  let repositoryNode: TestNode;
  let url: string;

  before(async () => {
    registryNode = await startTestNode();
    repositoryNode = await startTestNode({ repository: { repositoryUniqueId: REPO, registryUrl: `${registryNode.url}/xds/registry` } });
    url = `${repositoryNode.url}/xds/repository`;
  });
  after(async () => {
    await repositoryNode?.close();
    await registryNode?.close();
  });

  it('registers with the remote registry and retrieves with the mimeType it holds', async () => {
    const bytes = randomBytes(5000);
    const sub = submitObjects({ mimeType: 'text/xml' });
    const res = await provideMtom(url, sub.xml, [{ id: 'Document01', bytes }]);
    expect(errorCodes(res.body)).to.deep.equal([]);
    expect(await registryNode.registry.store.count({ type: 'DocumentEntry', uniqueId: sub.docUid, repositoryUniqueId: REPO })).to.equal(1);
    expect(await repositoryNode.registry.store.count({ type: 'DocumentEntry' })).to.equal(0);
    const [doc] = documents(await retrieve(url, [{ repositoryUniqueId: REPO, documentUniqueId: sub.docUid }]));
    expect(doc!.mimeType).to.equal('text/xml');
    expect(doc!.bytes.equals(bytes)).to.equal(true);
  });

  it('relays the remote registry\'s error codes unchanged', async () => {
    const sub = submitObjects({ patient: '12345678901^^^&2.16.578.1.12.4.1.4.1&ISO' });
    const res = await provideMtom(url, sub.xml, [{ id: 'Document01', bytes: Buffer.from('x') }]);
    expect(status(res.body)).to.equal('Failure');
    expect(errorCodes(res.body)).to.include('XDSUnknownPatientId');
    expect(stagedIn(repositoryNode.dataDir)).to.deep.equal([]);
  });
});
