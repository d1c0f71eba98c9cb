/**
 * npx tsx scripts/bench-recovery.ts [--entries 200000] [--data-dir DIR] [--rounds 3] [--leftovers 20]
 *
 * What staging leftovers cost a node's start and its orphan sweep on a large registry (issue 14,
 * item 7). Fills (or reuses) an embedded store with `--entries` synthetic DocumentEntries
 * (scripts/generate), then per round times the start of a node clean, and again with leftovers of a
 * crashed process (both as `startNode` in this process and as a whole process, `node --import tsx`
 * until it serves, which is what an operator waits for): half registered (their registration committed, the answer lost with the
 * process: committed at start), half never registered (removed at start), plus a partial upload.
 * Also: the orphan sweep over the same leftovers with the longest event-loop stall during it, and,
 * for reference, the search the old recovery made (DocumentEntries of this repository by hash: no
 * index has it, so every DocumentEntry was read).
 *
 * The data directory is kept (generation is the slow part): run it again with the same --data-dir.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseConfig } from '../connector/config.js';
import { startNode } from '../connector/node.js';
import { parseSubmitObjectsRequest } from '../registry/ebxml/index.js';
import { createPatientIdPolicy } from '../registry/patients.js';
import { DocumentRegistry } from '../registry/registry.js';
import { openRegistryStore } from '../registry/store/open.js';
import { parseXml } from '../registry/xml/parse.js';
import { openBlobStore } from '../repository/blob/index.js';
import { inProcessRegistry, type RegistryPort } from '../repository/registry-port.js';
import { DocumentRepository } from '../repository/repository.js';
import { testSubmission } from '../test/durability/submit-client.js';
import { generate } from './generate/run.js';

const REPO = '2.16.578.1.12.4.5.100.1.2';

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '200000' },
    'data-dir': { type: 'string' },
    rounds: { type: 'string', default: '3' },
    leftovers: { type: 'string', default: '20' },
  },
});
const entries = Number(values.entries);
const rounds = Number(values.rounds);
const leftovers = Number(values.leftovers);
const dataDir = values['data-dir'] ?? join(tmpdir(), `kp-bench-recovery-${entries}`);

function config() {
  return parseConfig({ port: 0, host: '127.0.0.1', dataDir, silent: true, repository: { repositoryUniqueId: REPO } });
}

async function fill(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const store = await openRegistryStore({ dataDir });
  try {
    const started = Date.now();
    const result = await generate({ store, dataDir, entries, seed: 1 });
    if (result.entriesThisRun > 0) process.stdout.write(`generated ${result.entriesThisRun} entries in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } finally {
    await store.close();
  }
}

/** Leaves what a process killed in the middle of ITI-41s leaves: registered-but-uncommitted and unregistered staged documents. */
async function makeLeftovers(): Promise<void> {
  const store = await openRegistryStore({ dataDir });
  const blobs = await openBlobStore({ dataDir });
  try {
    const registry = new DocumentRegistry(store, { queryResultLimit: 100, patientIds: createPatientIdPolicy({ acceptedAssigningAuthorities: [] }) });
    const port = inProcessRegistry(registry);
    const crashing: RegistryPort = {
      ...port,
      register: async (s) => {
        await port.register(s);
        throw new Error('the process dies after the registry commit');
      },
      documentEntries: async () => {
        throw new Error('the registry cannot be asked');
      },
    };
    const repository = new DocumentRepository(blobs, crashing, { repositoryUniqueId: REPO, maxDocumentBytes: 1 << 20 });
    for (let i = 0; i < leftovers; i++) {
      if (i % 2 === 0) {
        const sub = testSubmission(true);
        await repository.provideAndRegister(parseSubmitObjectsRequest(parseXml(sub.xml)), new Map([['Document01', Readable.from([randomBytes(20_000)])]]));
      } else await blobs.stage(Readable.from([randomBytes(20_000)]));
    }
    writeFileSync(join(dataDir, 'documents', 'staging', '00000000-0000-4000-8000-000000000000.part'), 'half an upload');
  } finally {
    await store.close();
    await blobs.close();
  }
}

async function timedStart(): Promise<number> {
  const started = process.hrtime.bigint();
  const node = await startNode(config());
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  await node.close();
  return ms;
}

const CHILD = fileURLToPath(new URL('../test/durability/crash-child.ts', import.meta.url));

/** A whole node process, from spawn until it serves; then it is stopped. */
async function timedProcessStart(): Promise<number> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('READY ')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`node exited before it served (${code})`)));
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  return ms;
}

async function sweep(): Promise<{ ms: number; maxStallMs: number; report: unknown }> {
  const store = await openRegistryStore({ dataDir });
  const blobs = await openBlobStore({ dataDir });
  try {
    const registry = new DocumentRegistry(store, { queryResultLimit: 100, patientIds: createPatientIdPolicy({ acceptedAssigningAuthorities: [] }) });
    const repository = new DocumentRepository(blobs, inProcessRegistry(registry), { repositoryUniqueId: REPO, maxDocumentBytes: 1 << 20, orphanAgeMs: -1000 });
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const started = process.hrtime.bigint();
    const report = await repository.recover(-1000);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    delay.disable();
    return { ms, maxStallMs: delay.max / 1e6, report };
  } finally {
    await store.close();
    await blobs.close();
  }
}

/** What the recovery before issue 14 searched: this repository's DocumentEntries by hash (a scan of every DocumentEntry). */
async function oldSearch(): Promise<number> {
  const store = await openRegistryStore({ dataDir });
  try {
    const hashes = Array.from({ length: leftovers }, () => randomBytes(20).toString('hex'));
    const started = process.hrtime.bigint();
    await store.find({ type: 'DocumentEntry', repositoryUniqueId: REPO, hash: { $in: hashes.flatMap((h) => [h, h.toUpperCase()]) } });
    return Number(process.hrtime.bigint() - started) / 1e6;
  } finally {
    await store.close();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (ms: number): string => `${ms.toFixed(0)} ms`;

async function main(): Promise<void> {
  if (!existsSync(join(dataDir, 'registry.sqlite')) || entries > 0) await fill();
  // A first start migrates the file and warms the page cache: not measured.
  await timedStart();
  const clean: number[] = [];
  const dirty: number[] = [];
  const cleanProcess: number[] = [];
  const dirtyProcess: number[] = [];
  for (let r = 0; r < rounds; r++) {
    clean.push(await timedStart());
    await makeLeftovers();
    dirty.push(await timedStart());
    cleanProcess.push(await timedProcessStart());
    await makeLeftovers();
    dirtyProcess.push(await timedProcessStart());
  }
  await makeLeftovers();
  const s = await sweep();
  const old = await oldSearch();
  process.stdout.write(
    `entries ${entries}, leftovers ${leftovers} (+1 partial), rounds ${rounds}\n` +
      `start clean          median ${f(median(clean))}  (${clean.map(f).join(', ')})\n` +
      `start with leftovers median ${f(median(dirty))}  (${dirty.map(f).join(', ')})  ratio ${(median(dirty) / median(clean)).toFixed(2)}\n` +
      `process start clean          median ${f(median(cleanProcess))}  (${cleanProcess.map(f).join(', ')})\n` +
      `process start with leftovers median ${f(median(dirtyProcess))}  (${dirtyProcess.map(f).join(', ')})  ratio ${(median(dirtyProcess) / median(cleanProcess)).toFixed(2)}\n` +
      `sweep over leftovers ${f(s.ms)}, longest event-loop stall ${s.maxStallMs.toFixed(1)} ms, ${JSON.stringify(s.report)}\n` +
      `old search by hash   ${f(old)} (reference: what each start and sweep with leftovers used to read)\n`,
  );
}

await main();
