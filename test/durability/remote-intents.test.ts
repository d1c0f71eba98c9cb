/**
 * Issue 14, item 5 with a remote registry (`repository.registryUrl`): the ITI-41 event cannot ride
 * in the registry's commit, so it is written as an intent before the registration is sent and
 * settled after (connector/audit/intents.ts). Whatever a crash leaves is settled at the next start
 * by asking the registry which documents it holds.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Auditor } from '../../connector/audit/auditor.js';
import { auditEvents } from '../../connector/audit/event.js';
import Database from 'better-sqlite3';
import { INTENTS_FILE } from '../../connector/audit/intents.js';
import { openEmbeddedAuditStore } from '../../connector/audit/store-embedded.js';
import { parseConfig } from '../../connector/config.js';
import { startNode, type RunningNode } from '../../connector/node.js';
import { baseInput } from '../audit/fixtures.js';
import { auditedSubmissions } from './audit-trail.js';
import { provide, testSubmission } from './submit-client.js';

const REPO = '2.16.578.1.12.4.5.100.1.2';
const silent = { warn: () => undefined, error: () => undefined };

/** Intents left in a data directory's file. */
function intentsIn(dataDir: string): number {
  const db = new Database(join(dataDir, INTENTS_FILE), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM intents').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('audit intents (remote registry)', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kp-intents-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('settles what a crash left: registered → its event is recorded, not registered → dropped, registry unreachable → kept', async () => {
    const registered = auditEvents.iti41({ ...baseInput(), submissionSetUniqueId: '1.2.1', documents: [{ uniqueId: '1.2.1.1' }] });
    const never = auditEvents.iti41({ ...baseInput(), submissionSetUniqueId: '1.2.2', documents: [{ uniqueId: '1.2.2.1' }] });
    const firstStore = openEmbeddedAuditStore({ path: join(dir, 'audit.sqlite') });
    const first = new Auditor({ dataDir: dir, store: firstStore, logger: silent });
    await first.recordIntent(registered, ['1.2.1.1']);
    await first.recordIntent(never, ['1.2.2.1']);
    // The process dies here: no event recorded, no intent settled (its file is what is left).
    await first.close();
    await firstStore.close();

    const store = openEmbeddedAuditStore({ path: join(dir, 'audit.sqlite') });
    const unreachable = new Auditor({ dataDir: dir, store, logger: silent });
    unreachable.attachRegistrationCheck(async () => Promise.reject(new Error('registry unreachable')));
    await unreachable.flush();
    await unreachable.close();
    expect(intentsIn(dir), 'kept while the registry cannot be asked').to.equal(2);

    const auditor = new Auditor({ dataDir: dir, store, logger: silent });
    auditor.attachRegistrationCheck(async (uids) => new Set(uids.filter((u) => u === '1.2.1.1')));
    await auditor.flush();
    expect(await store.get(registered.id)).not.to.equal(undefined);
    expect(await store.get(never.id)).to.equal(undefined);
    await auditor.close();
    await store.close();
    expect(intentsIn(dir), 'both settled').to.equal(0);
  });

  describe('over HTTP', () => {
    let registryNode: RunningNode | undefined;
    let repositoryNode: RunningNode | undefined;
    afterEach(async () => {
      await repositoryNode?.close();
      await registryNode?.close();
      repositoryNode = registryNode = undefined;
    });

    const startRepository = (registryUrl: string): Promise<RunningNode> =>
      startNode(parseConfig({ port: 0, host: '127.0.0.1', dataDir: join(dir, 'repository'), silent: true, repository: { repositoryUniqueId: REPO, registryUrl } }));

    it('an ITI-41 stored by the remote registry whose event was not recorded gets it at the next start', async () => {
      registryNode = await startNode(parseConfig({ port: 0, host: '127.0.0.1', dataDir: join(dir, 'registry'), silent: true }));
      const registryUrl = `${registryNode.url}/xds/registry`;
      repositoryNode = await startRepository(registryUrl);
      const ok = testSubmission(true);
      expect((await provide(`${repositoryNode.url}/xds/repository`, ok, randomBytes(1000))).status).to.equal('Success');
      // As if the process died right after the registry's commit: nothing reaches the audit store.
      repositoryNode.auditor.record = async () => Promise.reject(new Error('killed before the audit was written'));
      const lost = testSubmission(true);
      const answer = await provide(`${repositoryNode.url}/xds/repository`, lost, randomBytes(1000));
      expect(answer.status, 'stored: answered Success').to.equal('Success');
      await repositoryNode.close();

      repositoryNode = await startRepository(registryUrl);
      await repositoryNode.auditor.flush();
      const audited = await auditedSubmissions(join(dir, 'repository'));
      expect(audited).to.include(ok.submissionSetUid);
      expect(audited, 'recorded from its intent at start').to.include(lost.submissionSetUid);
      await repositoryNode.close();
      repositoryNode = undefined;
      expect(intentsIn(join(dir, 'repository')), 'settled and deleted').to.equal(0);
    });
  });
});
