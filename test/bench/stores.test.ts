/**
 * The benchmark measures on a fresh copy of each generated store, so that one run's registrations
 * and audit events never reach the next (scripts/bench/stores.ts).
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRegistryStore } from '../../registry/store/open.js';
import { generatedCounts, isPristine, markGenerated, storeCounts, workingStore } from '../../scripts/bench/stores.js';
import { generate } from '../../scripts/generate/run.js';

describe('benchmark working stores', function () {
  this.timeout(60_000);
  let root: string;
  let generated: string;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'kp-bench-stores-'));
    generated = join(root, 'entries-60');
    mkdirSync(generated);
    const store = await openRegistryStore({ dataDir: generated });
    try {
      await generate({ store, dataDir: generated, entries: 60, seed: 3 });
    } finally {
      await store.close();
    }
    markGenerated(generated);
    // What a node leaves beside a store: its audit trail, which a copy must not take along.
    writeFileSync(join(generated, 'audit.sqlite'), Buffer.alloc(4096));
    mkdirSync(join(generated, 'documents'));
    writeFileSync(join(generated, 'documents', 'blob'), 'x');
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  it('copies a store within the limit, without its audit store, and counts what it holds', () => {
    const counts = storeCounts(generated);
    expect(counts.documentEntries).to.be.at.least(60);
    expect(generatedCounts(generated)).to.deep.equal(counts);

    const work = workingStore(generated, 1024 ** 3);
    expect(work.copied).to.equal(true);
    expect(work.dataDir).to.equal(`${generated}.run`);
    expect(work.atStart).to.deep.equal(counts);
    expect(existsSync(join(work.dataDir, 'registry.sqlite'))).to.equal(true);
    expect(existsSync(join(work.dataDir, 'documents', 'blob'))).to.equal(true);
    expect(existsSync(join(work.dataDir, 'audit.sqlite'))).to.equal(false);
  });

  it('makes the copy anew for every run: what a run registered is gone in the next', async () => {
    const first = workingStore(generated, 1024 ** 3);
    const store = await openRegistryStore({ dataDir: first.dataDir });
    try {
      await store.commit({
        inserts: [{ type: 'Association', entryUuid: 'urn:uuid:5d1f6a4e-0b7c-4c1e-9d1a-3f1e2c4b5a61', associationType: 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember', sourceUuid: 'urn:uuid:a', targetUuid: 'urn:uuid:b', availabilityStatus: 'Approved', extra: { slots: [], classifications: [], externalIdentifiers: [] } }],
        replacements: [],
      });
    } finally {
      await store.close();
    }
    expect(storeCounts(first.dataDir).objects).to.equal(first.atStart.objects + 1);
    const second = workingStore(generated, 1024 ** 3);
    expect(second.atStart).to.deep.equal(first.atStart);
    expect(storeCounts(generated)).to.deep.equal(generatedCounts(generated));
  });

  it('measures a store over the limit in place', () => {
    const work = workingStore(generated, 1);
    expect(work).to.deep.include({ dataDir: generated, copied: false });
  });

  it('takes a store as generated only when it was noted so, or is too large to have been copied', () => {
    expect(isPristine(generated, 1024 ** 3)).to.equal(true);
    const unnoted = join(root, 'unnoted');
    mkdirSync(unnoted);
    expect(isPristine(unnoted, 1024 ** 3), 'nothing there yet').to.equal(true);
    writeFileSync(join(unnoted, 'registry.sqlite'), Buffer.alloc(8192));
    expect(isPristine(unnoted, 1024 ** 3), 'written by runs before copies').to.equal(false);
    expect(isPristine(unnoted, 1024), 'too large to copy: measured in place').to.equal(true);
  });
});
