/**
 * A node of two processes (`processes: 2`, connector/cluster): started as `npm start` starts it, a
 * primary that decides every registry write and two workers sharing the port, over real HTTP.
 * Each client keeps one connection, which one worker serves (helpers.ts), so a test knows which
 * process answered.
 *
 * What must hold with several processes: every transaction answers as with one; a write decided in
 * one place (one uniqueId registered through two workers at once: one Success); read-your-writes
 * across processes; a worker killed with SIGKILL is replaced and no acknowledged submission is lost;
 * /metrics describes the node, not one worker; the start-up sweep runs once, before any worker, and
 * a replaced worker takes no other worker's upload in flight for a leftover.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomUUID, createHash } from 'node:crypto';
import { join } from 'node:path';
import { DEMO_REPOSITORY_UNIQUE_ID } from '../../connector/config.js';
import type { Association, DocumentEntry } from '../../registry/model/metadata.js';
import { openRegistryStore } from '../../registry/store/open.js';
import type { RegistryStore } from '../../registry/store/store.js';
import { NS } from '../../registry/xml/namespaces.js';
import { cx, epikrise, errorCodes, findDocumentsBody, provideBody, retrieveBody, status, uid } from '../helpers/ebxml.js';
import { ACTIONS } from '../helpers/soap.js';
import { auditRows } from '../wiring/helpers.js';
import { startClusterNode, workerClients, type ClusterNode, type WorkerClient } from './helpers.js';

const REGISTRY = '/xds/registry';
const REPOSITORY = '/xds/repository';
/** Synthetic fødselsnumre (valid check digits), one patient per test where it matters. */
const PATIENTS = ['13116900216', '12057900499', '01017012343'].map(cx);

const slot = (name: string, ...values: string[]): string =>
  `<rim:Slot name="${name}"><rim:ValueList>${values.map((v) => `<rim:Value>${v}</rim:Value>`).join('')}</rim:ValueList></rim:Slot>`;

/** ITI-57: a new version (title changed) of the epikrise registered under `lid`. */
function newVersion(patient: string, lid: string, docUid: string, title: string): string {
  let xml = epikrise({ patient, docUid }).xml.replace(/^<\?xml[^>]*>\s*/, '');
  xml = xml.replace('<rim:ExtrinsicObject id="Document01"', `<rim:ExtrinsicObject id="Document01" lid="${lid}"`);
  xml = xml.replace(/(<rim:Slot name="SubmissionSetStatus">[\s\S]*?<\/rim:Slot>)/, `$1${slot('PreviousVersion', '1')}`);
  return xml.replace('value="Epikrise indremedisin"', `value="${title}"`);
}

function removeBody(ids: readonly string[]): string {
  return `<lcm:RemoveObjectsRequest xmlns:lcm="${NS.lcm}" xmlns:rim="${NS.rim}"><rim:ObjectRefList>${ids.map((id) => `<rim:ObjectRef id="${id}"/>`).join('')}</rim:ObjectRefList></lcm:RemoveObjectsRequest>`;
}

describe('a node of two processes (processes: 2)', function () {
  this.timeout(180_000);
  let node: ClusterNode;
  let clients: Map<number, WorkerClient>;
  /** This test's own read connection to the node's store: one more process reading it. */
  let store: RegistryStore;
  let w1: WorkerClient;
  let w2: WorkerClient;
  /** A staged upload "in flight" made after the start (see the last test). */
  let inFlight: string;

  before(async () => {
    node = await startClusterNode({ processes: 2, dataDir: leftoverDataDir() });
    clients = await workerClients(node.url, 2);
    w1 = clients.get(1)!;
    w2 = clients.get(2)!;
    store = await openRegistryStore({ dataDir: node.dataDir, cacheEntries: 0 });
  });
  after(async () => {
    for (const c of clients?.values() ?? []) await c.close();
    await store?.close();
    if (node) expect(await node.stop()).to.equal(0);
  });

  const register = (c: WorkerClient, patient: string, docUid = uid()) => c.post(REGISTRY, ACTIONS.iti42.request, epikrise({ patient, docUid }).xml);
  const find = (c: WorkerClient, patient: string) => c.post(REGISTRY, ACTIONS.iti18.request, findDocumentsBody(patient));
  const entries = async (docUid: string) => (await store.find({ type: 'DocumentEntry', uniqueId: docUid })) as DocumentEntry[];
  async function submissionOf(entry: DocumentEntry): Promise<string[]> {
    const [membership] = (await store.find({ type: 'Association', targetUuid: entry.entryUuid, associationType: 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember' })) as Association[];
    return [membership!.sourceUuid, membership!.entryUuid, entry.entryUuid];
  }

  it('starts a primary and two workers: one start log, the sweep of the start-up leftovers run once, by the primary, before the workers', async () => {
    expect(node.lines.filter((l) => l.message.startsWith('listening on '))).to.have.length(1);
    const recoveries = node.lines.filter((l) => l.message === 'repository recovery');
    expect(recoveries).to.have.length(1);
    expect(recoveries[0]!['removed']).to.equal(1);
    // Before the first worker's start log.
    expect(node.lines.indexOf(recoveries[0]!)).to.be.lessThan(node.lines.findIndex((l) => l.message.startsWith('listening on ')));
    expect(new Set([...clients.values()].map((c) => c.worker))).to.deep.equal(new Set([1, 2]));
    // Every line names the process that wrote it: the primary, or the worker by its index.
    expect(recoveries[0]!['process']).to.equal('primary');
    expect(node.lines.find((l) => l.message.startsWith('listening on '))!['worker']).to.be.oneOf([1, 2]);
    expect(node.lines.every((l) => l['process'] === 'primary' || l['worker'] === 1 || l['worker'] === 2), JSON.stringify(node.lines.find((l) => l['process'] !== 'primary' && l['worker'] === undefined))).to.equal(true);
  });

  it('answers ITI-42, ITI-18, ITI-41, ITI-43, ITI-57 and ITI-62 through either worker', async () => {
    const [p1, p2] = PATIENTS;
    // ITI-42 through worker 1, found through worker 2; audited once, before the answer (the event
    // rode in the primary's commit and was recorded by the worker).
    const docUid = uid();
    const audited = () => auditRows(node.dataDir).filter((r) => r.access.transaction === 'ITI-42').length;
    const auditedBefore = audited();
    const registered = await register(w1, p1!, docUid);
    expect(status(registered.body), errorCodes(registered.body).join()).to.equal('Success');
    expect(audited()).to.equal(auditedBefore + 1);
    expect((await find(w2, p1!)).text).to.contain(docUid);

    // ITI-41 through worker 2, retrieved (ITI-43) through worker 1.
    const bytes = Buffer.from(`%PDF-1.4 cluster ${randomUUID()}`);
    const sub = epikrise({ patient: p2!, forRepository: true });
    const provided = await w2.post(REPOSITORY, ACTIONS.iti41.request, provideBody(sub.xml, [{ id: 'Document01', bytes }]));
    expect(status(provided.body), errorCodes(provided.body).join()).to.equal('Success');
    const retrieved = await w1.post(REPOSITORY, ACTIONS.iti43.request, retrieveBody([{ repository: DEMO_REPOSITORY_UNIQUE_ID, document: sub.docUid }]));
    expect(status(retrieved.body)).to.equal('Success');
    expect([...retrieved.parts.values()].some((p) => p.equals(bytes))).to.equal(true);

    // ITI-57 through worker 2 of what worker 1 registered: version 2, seen through worker 1.
    const [v1] = await entries(docUid);
    const updated = await w2.post(REGISTRY, ACTIONS.iti57.request, newVersion(p1!, v1!.entryUuid, docUid, 'Epikrise, korrigert i klynge'));
    expect(status(updated.body), errorCodes(updated.body).join()).to.equal('Success');
    const versions = await entries(docUid);
    expect(versions.map((v) => [v.version, v.availabilityStatus]).sort()).to.deep.equal([
      ['1', 'Deprecated'],
      ['2', 'Approved'],
    ]);
    expect((await find(w1, p1!)).text).to.contain('Epikrise, korrigert i klynge');

    // ITI-62 through worker 1 of what worker 2 provided: gone through worker 2.
    const [entry] = await entries(sub.docUid);
    const removed = await w1.post(REGISTRY, ACTIONS.iti62.request, removeBody(await submissionOf(entry!)));
    expect(status(removed.body), errorCodes(removed.body).join()).to.equal('Success');
    expect((await find(w2, p2!)).text).to.not.contain(sub.docUid);
    expect(await entries(sub.docUid)).to.deep.equal([]);
  });

  it('one uniqueId registered through both workers at once: exactly one Success, one stored', async () => {
    const ss = (xml: string, ssUid: string) => xml.replace(/(identificationScheme="urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8" registryObject="SubmissionSet01" value=")[^"]*"/, `$1${ssUid}"`);
    const withHash = (xml: string, sha1: string) => xml.replace('da39a3ee5e6b4b0d3255bfef95601890afd80709', sha1);
    for (let round = 0; round < 8; round++) {
      // Even rounds: one SubmissionSet uniqueId (two different documents); odd rounds: one document
      // uniqueId with two different hashes. Either way a serial registry accepts the first only.
      const shared = uid();
      const bodies =
        round % 2 === 0
          ? [ss(epikrise({ patient: PATIENTS[0]! }).xml, shared), ss(epikrise({ patient: PATIENTS[0]! }).xml, shared)]
          : [withHash(epikrise({ patient: PATIENTS[0]!, docUid: shared }).xml, '1'.repeat(40)), withHash(epikrise({ patient: PATIENTS[0]!, docUid: shared }).xml, '2'.repeat(40))];
      const answers = await Promise.all([w1.post(REGISTRY, ACTIONS.iti42.request, bodies[0]!), w2.post(REGISTRY, ACTIONS.iti42.request, bodies[1]!)]);
      const statuses = answers.map((a) => status(a.body));
      expect(statuses.filter((s) => s === 'Success'), statuses.join()).to.have.length(1);
      const failed = answers.find((a) => status(a.body) === 'Failure')!;
      expect(errorCodes(failed.body)).to.include(round % 2 === 0 ? 'XDSDuplicateUniqueIdInRegistry' : 'XDSNonIdenticalHash');
      const type = round % 2 === 0 ? 'SubmissionSet' : 'DocumentEntry';
      expect(await store.find({ type, uniqueId: shared }), type).to.have.length(1);
    }
  });

  it('read-your-writes: a registration acknowledged by one worker is found at once through the other', async () => {
    for (let i = 0; i < 10; i++) {
      const [writer, reader] = i % 2 === 0 ? [w1, w2] : [w2, w1];
      const docUid = uid();
      const res = await register(writer, PATIENTS[1]!, docUid);
      expect(status(res.body)).to.equal('Success');
      expect((await find(reader, PATIENTS[1]!)).text, `round ${i}`).to.contain(docUid);
    }
  });

  it('/metrics through either worker describes the node: requests of both workers summed, store-wide gauges not doubled', async () => {
    const counted = (text: string, transaction: string): number =>
      text
        .split('\n')
        .filter((l) => l.startsWith('koblingspunkt_requests_total{') && l.includes(`transaction="${transaction}"`) && l.includes('endpoint="registry"'))
        .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    const before = counted((await w1.get('/metrics')).text, 'ITI-18');
    await find(w1, PATIENTS[2]!);
    await find(w1, PATIENTS[2]!);
    await find(w2, PATIENTS[2]!);
    const m1 = (await w1.get('/metrics')).text;
    const m2 = (await w2.get('/metrics')).text;
    expect(counted(m1, 'ITI-18') - before).to.equal(3);
    expect(counted(m2, 'ITI-18') - before).to.equal(3);
    expect(m1).to.match(/^koblingspunkt_worker_processes 2$/m);
    const approved = Number(/^koblingspunkt_registry_objects\{type="DocumentEntry",status="Approved"\} (\d+)$/m.exec(m1)?.[1]);
    const stored = (await store.objectCounts()).find((c) => c.type === 'DocumentEntry' && c.availabilityStatus === 'Approved')!.count;
    expect(approved).to.equal(stored);
    // CPU of all three processes: more than either worker's own.
    expect(m1).to.match(/^process_cpu_seconds_total \d/m);
  });

  it('a worker killed with SIGKILL is replaced; no acknowledged submission is lost; a replaced worker sweeps nothing', async () => {
    // An upload "in flight" (staged now, by some worker): a worker's start must not take it for a leftover.
    const staging = join(node.dataDir, 'documents', 'staging');
    const bytes = Buffer.from('an upload in flight');
    inFlight = join(staging, `${randomUUID()}.${createHash('sha1').update(bytes).digest('hex')}.staged`);
    writeFileSync(inFlight, bytes);

    const killedPid = await pidOf(2);
    expect(killedPid).to.be.greaterThan(0);
    const acknowledged: { docUid: string; bytes: Buffer }[] = [];
    const patient = PATIENTS[2]!;
    // Submissions through both workers, one after another on each, while worker 2 is killed.
    const stream = async (c: WorkerClient): Promise<void> => {
      for (let i = 0; i < 15; i++) {
        const doc = Buffer.from(`document ${randomUUID()}`);
        const sub = epikrise({ patient, forRepository: true });
        try {
          const res = await c.post(REPOSITORY, ACTIONS.iti41.request, provideBody(sub.xml, [{ id: 'Document01', bytes: doc }]));
          if (status(res.body) === 'Success') acknowledged.push({ docUid: sub.docUid, bytes: doc });
        } catch {
          return; // the connection died with its worker: nothing acknowledged on it any more
        }
      }
    };
    const streams = Promise.all([stream(w1), stream(w2)]);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(killedPid, 'SIGKILL');
    await streams;
    const died = await node.waitForLine((l) => l.message.startsWith('worker 2 (pid ') && l.message.includes('died'));
    expect(died['signal']).to.equal('SIGKILL');

    // The replacement serves: new connections reach a worker 2 with another pid.
    await node.waitForLine((l) => l.message.startsWith('worker 2 (pid ') && l.message.endsWith(' serves again'), 60_000);
    await w2.close();
    const fresh = await waitForWorkers(node.url, 2);
    w2 = fresh.get(2)!;
    clients.set(2, w2);
    w1 = fresh.get(1)!;
    clients.set(1, w1);
    expect(await pidOf(2)).to.not.equal(killedPid);

    expect(acknowledged.length).to.be.greaterThan(5);
    for (const { docUid, bytes: doc } of acknowledged) {
      for (const c of [w1, w2]) {
        const res = await c.post(REPOSITORY, ACTIONS.iti43.request, retrieveBody([{ repository: DEMO_REPOSITORY_UNIQUE_ID, document: docUid }]));
        expect(status(res.body), `${docUid} through worker ${c.worker}`).to.equal('Success');
        expect([...res.parts.values()].some((p) => p.equals(doc))).to.equal(true);
      }
    }
    // The replacement ran no start-up sweep: the upload in flight is still there.
    expect(existsSync(inFlight)).to.equal(true);
    expect(node.lines.filter((l) => l.message === 'repository recovery')).to.have.length(1);
  });

  /** The pid of worker `index`, from /proc (the primary's children; Linux). */
  async function pidOf(index: number): Promise<number> {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid !== node.primaryPid) continue;
        const env = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
        if (env.includes(`KOBLINGSPUNKT_WORKER=${index}`)) return Number(name);
      } catch {
        // gone meanwhile
      }
    }
    return 0;
  }
});

/** Worker clients once `n` workers answer (a replacement takes a few seconds to start). */
async function waitForWorkers(url: string, n: number): Promise<Map<number, WorkerClient>> {
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      return await workerClients(url, n);
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** A data directory holding a staged leftover of a "crashed" earlier run, for the start-up sweep. */
function leftoverDataDir(): string {
  const dataDir = join(tmpdir(), `kp-cluster-data-${randomUUID()}`);
  const staging = join(dataDir, 'documents', 'staging');
  mkdirSync(staging, { recursive: true });
  const bytes = Buffer.from('left over by a crash');
  writeFileSync(join(staging, `${randomUUID()}.${createHash('sha1').update(bytes).digest('hex')}.staged`), bytes);
  return dataDir;
}
