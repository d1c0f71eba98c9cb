/**
 * ITI-43 HomeCommunityId matching in the repository actor: an OID written bare and the same OID
 * written `urn:oid:…` name the same community (docs/norway.md, Identifiers); another OID is XDSUnknownCommunity.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { DocumentEntry } from '../../registry/model/metadata.js';
import { openBlobStore, type BlobStore } from '../../repository/blob/index.js';
import type { RegistryPort } from '../../repository/registry-port.js';
import { DocumentRepository } from '../../repository/repository.js';

const REPO = '2.16.578.1.12.4.5.100.1.2';
const DOC = '2.25.118920342397421508911184392046577389011';

describe('Document Repository: homeCommunityId bare or urn:oid', () => {
  let dir: string;
  let blobs: BlobStore;
  const entry = { type: 'DocumentEntry', uniqueId: DOC, repositoryUniqueId: REPO, mimeType: 'text/plain' } as unknown as DocumentEntry;
  const registry: RegistryPort = {
    register: () => Promise.reject(new Error('not used')),
    documentEntries: (ids) => Promise.resolve(ids.includes(DOC) ? [entry] : []),
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kp-home-'));
    blobs = await openBlobStore({ dataDir: dir });
    const staged = await blobs.stage(Readable.from([Buffer.from('hello')]), {});
    await staged.commit(DOC);
  });
  after(async () => {
    await blobs?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const repository = (homeCommunityId: string): DocumentRepository =>
    new DocumentRepository(blobs, registry, { repositoryUniqueId: REPO, homeCommunityId, maxDocumentBytes: 1024 });

  const cases: [configured: string, requested: string][] = [
    ['urn:oid:2.16.578.1.12.4.5.100.1', '2.16.578.1.12.4.5.100.1'],
    ['2.16.578.1.12.4.5.100.1', 'urn:oid:2.16.578.1.12.4.5.100.1'],
    ['urn:oid:2.16.578.1.12.4.5.100.1', 'urn:oid:2.16.578.1.12.4.5.100.1'],
    ['urn:oid:2.16.578.1.12.4.5.100.1', ' urn:oid:2.16.578.1.12.4.5.100.1 '],
  ];
  for (const [configured, requested] of cases) {
    it(`serves a request for '${requested}' when the node is '${configured}'`, async () => {
      const outcome = await repository(configured).retrieve([{ repositoryUniqueId: REPO, documentUniqueId: DOC, homeCommunityId: requested }]);
      expect(outcome.errors).to.deep.equal([]);
      expect(outcome.status).to.equal('Success');
      expect(outcome.documents.map((d) => [d.documentUniqueId, d.homeCommunityId])).to.deep.equal([[DOC, configured]]);
    });
  }

  it('answers XDSUnknownCommunity for another community, bare or urn:oid', async () => {
    for (const other of ['2.16.578.1.12.4.5.100.2', 'urn:oid:2.16.578.1.12.4.5.100.2', 'urn:oid:2.16.578.1.12.4.5.100.10']) {
      const outcome = await repository('urn:oid:2.16.578.1.12.4.5.100.1').retrieve([{ repositoryUniqueId: REPO, documentUniqueId: DOC, homeCommunityId: other }]);
      expect(outcome.status, other).to.equal('Failure');
      expect(outcome.errors.map((e) => e.code), other).to.deep.equal(['XDSUnknownCommunity']);
    }
  });
});
