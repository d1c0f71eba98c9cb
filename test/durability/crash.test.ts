/**
 * Issue 14, item 5: kill -9 at random moments while ITI-41 and ITI-42 submissions run
 * concurrently against a node in a child process, restart it each time, and at the end check that
 * every submission the registry holds has its audit event, every acknowledged one is stored, every
 * stored document is retrievable, and nothing is left staged. The audit event is written in the
 * registry's commit (connector/audit/auditor.ts), so no moment of the kill can separate the two.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parseConfig } from '../../connector/config.js';
import { startNode } from '../../connector/node.js';
import type { DocumentEntry, SubmissionSet } from '../../registry/model/metadata.js';
import { auditedSubmissions } from './audit-trail.js';
import { provide, register, testSubmission, type SubmitAnswer } from './submit-client.js';

const REPO = '2.16.578.1.12.4.5.100.1.2';
const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const KILLS = 5;
const CLIENTS = 8;

/** Starts the child node; resolves with its process and URL once it serves. */
function startChild(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.startsWith('READY ')) resolve({ child, url: line.slice(6) });
    });
    child.once('exit', (code, signal) => reject(new Error(`child node exited before it was ready (${code ?? signal})`)));
  });
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));

describe('kill -9 during concurrent ITI-41 and ITI-42', function () {
  this.timeout(240_000);
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'kp-crash-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('leaves every stored submission audited, every acknowledged one stored, every stored document retrievable', async () => {
    const acknowledged: string[] = [];
    /** Documents sent with ITI-41 (ITI-42 registers entries whose documents live elsewhere). */
    const provided = new Set<string>();
    let unanswered = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const { child, url } = await startChild(dataDir);
      let running = true;
      const client = async (n: number): Promise<void> => {
        for (let i = 0; running; i++) {
          const iti41 = (n + i) % 2 === 0;
          const submission = testSubmission(iti41);
          if (iti41) provided.add(submission.documentUid);
          let answer: SubmitAnswer;
          try {
            answer = iti41 ? await provide(`${url}/xds/repository`, submission, randomBytes(16 * 1024)) : await register(`${url}/xds/registry`, submission);
          } catch {
            // The connection died with the process: the outcome is unknown to the client.
            unanswered++;
            return;
          }
          if (answer.status === 'Success') acknowledged.push(submission.submissionSetUid);
          else expect.fail(`a submission failed before the kill: ${answer.httpStatus} ${answer.codes.join(' ')} ${answer.text.slice(0, 300)}`);
        }
      };
      const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));
      // A random moment under load: during staging, deciding, the commit, the audit, the blob commit.
      await new Promise((r) => setTimeout(r, 500 + Math.random() * 1500));
      child.kill('SIGKILL');
      await exited(child);
      running = false;
      await Promise.all(clients);
    }

    const node = await startNode(parseConfig({ port: 0, host: '127.0.0.1', dataDir, silent: true, repository: { repositoryUniqueId: REPO } }));
    try {
      await node.auditor.flush();
      const sets = (await node.registry.store.find({ type: 'SubmissionSet' })) as SubmissionSet[];
      const stored = new Set(sets.flatMap((s) => (s.uniqueId === undefined ? [] : [s.uniqueId])));
      const audited = new Set(await auditedSubmissions(dataDir));
      const unaudited = [...stored].filter((uid) => !audited.has(uid));
      const lost = acknowledged.filter((uid) => !stored.has(uid));
      const entries = (await node.registry.store.find({ type: 'DocumentEntry', repositoryUniqueId: REPO })) as DocumentEntry[];
      const missing: string[] = [];
      const documents = entries.filter((e) => provided.has(e.uniqueId!));
      for (const e of documents) if (!(await node.repository.blobs.exists(e.uniqueId!))) missing.push(e.uniqueId!);
      process.stdout.write(
        `      (${KILLS} kills: ${stored.size} submissions stored, ${acknowledged.length} acknowledged, ${stored.size - acknowledged.length} stored unacknowledged, ${unanswered} unanswered; ${documents.length} ITI-41 documents)\n`,
      );
      expect(stored.size, 'the load stored something').to.be.greaterThan(0);
      expect(unaudited, 'stored submissions without an audit event').to.deep.equal([]);
      expect(lost, 'acknowledged submissions not stored').to.deep.equal([]);
      expect(missing, 'registered documents not retrievable').to.deep.equal([]);
      expect(readdirSync(join(dataDir, 'documents', 'staging')), 'leftovers resolved at start').to.deep.equal([]);
    } finally {
      await node.close();
    }
  });
});
