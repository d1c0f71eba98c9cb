/**
 * `koblingspunkt backup`: a copy of a running node's embedded store whose SQLite files open as
 * valid databases holding what was registered, and which a node started on it serves, even when
 * documents were being registered while it was taken.
 */
import { expect } from 'chai';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MANIFEST_FILE } from '../../connector/cli/commands/backup.js';
import { parseConfig } from '../../connector/config.js';
import { startNode, type RunningNode } from '../../connector/node.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { cli, cliProcess, SAMPLE_PDF } from './helpers.js';

const FNR = '13116900216';

/** Starts a node on a copy of a backup, as the restore procedure says. */
async function restore(backup: string, dataDir: string): Promise<RunningNode> {
  cpSync(backup, dataDir, { recursive: true });
  return startNode(parseConfig({ port: 0, host: '127.0.0.1', dataDir, silent: true, homeCommunityId: 'urn:oid:2.16.578.1.12.4.5.100.1' }));
}

describe('koblingspunkt backup', function () {
  this.timeout(120_000);
  let node: TestNode;
  let work: string;
  let uniqueId: string;

  before(async () => {
    node = await startTestNode();
    work = mkdtempSync(join(tmpdir(), 'kp-cli-backup-'));
    uniqueId = (await cli(['register', SAMPLE_PDF, '--patient', FNR, '--url', node.url])).stdout.trim();
  });
  after(async () => {
    await node?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('copies every SQLite file and the documents of the running node (the real program)', async () => {
    const target = join(work, 'backup-1');
    const res = await cliProcess(['backup', target, '--data-dir', node.dataDir, '--verify']);
    expect(res.stderr).to.equal('');
    expect(res.code).to.equal(0);
    expect(res.stdout).to.contain(`backup written to ${target}`);
    const names = readdirSync(target).sort();
    expect(names).to.include.members(['registry.sqlite', 'audit.sqlite', 'audit-queue.sqlite', 'documents', MANIFEST_FILE]);
    // One self-contained file per database: no WAL left beside them.
    expect(names.filter((n) => n.endsWith('-wal') || n.endsWith('-shm'))).to.deep.equal([]);
    for (const name of names.filter((n) => n.endsWith('.sqlite'))) {
      const db = new Database(join(target, name), { readonly: true, fileMustExist: true });
      try {
        expect(db.pragma('integrity_check', { simple: true }), name).to.equal('ok');
      } finally {
        db.close();
      }
    }
    const registry = new Database(join(target, 'registry.sqlite'), { readonly: true, fileMustExist: true });
    try {
      expect(registry.prepare('SELECT count(*) AS n FROM objects WHERE unique_id = ?').get(uniqueId)).to.deep.equal({ n: 1 });
    } finally {
      registry.close();
    }
    const manifest = JSON.parse(readFileSync(join(target, MANIFEST_FILE), 'utf8')) as { dataDir: string; documents: { blobs: number } };
    expect(manifest.dataDir).to.equal(node.dataDir);
    expect(manifest.documents.blobs).to.equal(1);
    // The sample (< 64 KiB) is a small document: a row of the table, copied as a database.
    const table = new Database(join(target, 'documents', 'small-blobs.sqlite'), { readonly: true, fileMustExist: true });
    try {
      expect(table.prepare('SELECT count(*) AS n FROM small_blobs WHERE unique_id = ?').get(uniqueId)).to.deep.equal({ n: 1 });
    } finally {
      table.close();
    }
  });

  it('a node started on the backup serves the registered document, byte for byte', async () => {
    const restored = await restore(join(work, 'backup-1'), join(work, 'restored-1'));
    try {
      const out = join(work, 'out-1');
      const res = await cli(['retrieve', uniqueId, '-o', out, '--url', restored.url]);
      expect(res.stderr).to.equal('');
      expect(res.code).to.equal(0);
      expect(readFileSync(join(out, `${uniqueId}.pdf`)).equals(readFileSync(SAMPLE_PDF))).to.equal(true);
    } finally {
      await restored.close();
    }
  });

  it('taken while documents are being registered: every entry of the copy can be retrieved from it', async () => {
    const files = join(work, 'files');
    mkdirSync(files);
    const registering = (async () => {
      for (let i = 0; i < 12; i++) {
        const file = join(files, `notat-${i}.txt`);
        writeFileSync(file, `Journalnotat ${i}\n`.repeat(200 * (i + 1)));
        const res = await cli(['register', file, '--patient', FNR, '--url', node.url]);
        expect(res.code, res.stderr).to.equal(0);
      }
    })();
    const target = join(work, 'backup-2');
    // Started once registrations are under way.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const res = await cli(['backup', target, '--data-dir', node.dataDir, '--json']);
    await registering;
    expect(res.code, res.stderr).to.equal(0);
    const restored = await restore(target, join(work, 'restored-2'));
    try {
      const listed = JSON.parse((await cli(['query', '--patient', FNR, '--url', restored.url, '--json'])).stdout) as { documents: { uniqueId: string }[] };
      expect(listed.documents.length).to.be.at.least(1);
      const got = await cli(['retrieve', ...listed.documents.map((d) => d.uniqueId), '-o', join(work, 'out-2'), '--url', restored.url]);
      expect(got.stderr).to.equal('');
      expect(got.code).to.equal(0);
    } finally {
      await restored.close();
    }
  });

  it('refuses a target that is not empty, and a directory without a registry', async () => {
    const full = join(work, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'x'), 'x');
    const res = await cli(['backup', full, '--data-dir', node.dataDir]);
    expect(res.code).to.equal(2);
    expect(res.stderr).to.contain('exists and is not empty');
    const empty = join(work, 'no-store');
    mkdirSync(empty);
    const none = await cli(['backup', join(work, 'backup-3'), '--data-dir', empty]);
    expect(none.code).to.equal(1);
    expect(none.stderr).to.contain('no embedded store in');
    expect(existsSync(join(work, 'backup-3'))).to.equal(false);
  });
});
