/**
 * npx tsx scripts/bench-mhd.ts -- [--entries 50] [--rounds 3] [--duration 5] [--connections 8] [--starts 3]
 *
 * What the MHD endpoint costs beside the SOAP one (issue 17), on loopback, in one run:
 *
 *   - start: `startNode` with fhir.enabled and without, each in a fresh child process (so the FHIR
 *     R4 definitions are read anew, as at a real start), `starts` times interleaved: the time
 *     startNode takes and the resident memory right after;
 *   - search: ITI-18 FindDocuments (SOAP, LeafClass) against ITI-67 (POST DocumentReference/_search,
 *     the same FindDocuments under the same policy and audit, answered as a searchset Bundle) for
 *     one patient with `entries` documents, registered through ITI-42 beforehand; both return all
 *     of them. The two run interleaved, `rounds` times, with `connections` closed-loop undici
 *     connections for `duration` seconds each; the table gives medians and the ratio ITI-67/ITI-18.
 *
 * The node runs in a child process of its own (trust off, silent), so the load generator's CPU is
 * not the server's. The server's CPU time per request is read from the child around each run.
 *
 * On the bench's generated stores (10k, 1M entries), beside their ceilings, the same comparison is
 * the line "ITI-67 FindDocumentReferences" of `npm run bench` (scripts/bench.ts: GET
 * DocumentReference?patient.identifier=…&status=current for the 32 patients of "ITI-18 FindDocuments
 * LeafClass", 32 clients, each answer checked to list as many DocumentReferences as the ITI-18
 * answer has ExtrinsicObjects):
 *
 *   npm run bench -- --entries 1000000 --only '^ITI-18 FindDocuments LeafClass$,ITI-67' --rounds 3 --duration 6
 *
 * This script stays for what that line does not measure: the start-up cost of fhir.enabled, and
 * POST _search (a form body) rather than GET.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { ACTIONS } from '../connector/soap/actions.js';
import { serializeAdhocQueryRequest } from '../registry/ebxml/index.js';
import { STORED_QUERY_ID } from '../registry/model/query.js';
import { serializeXml } from '../registry/xml/serialize.js';
import { EPIKRISE_ITI42 } from '../fixtures/index.js';
import { runLoad, type LoadResult } from './bench/load.js';

const SELF = fileURLToPath(import.meta.url);
const PATIENT_FNR = '12057900499';
const PATIENT = `${PATIENT_FNR}^^^&2.16.578.1.12.4.1.4.1&ISO`;
const APPROVED = 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved';

// ---------------------------------------------------------------- server side (child processes)

type Message = { url: string } | { startMs: number; rssMb: number } | { cpuMicros: number };

async function serve(dataDir: string, fhir: boolean, measureOnly: boolean): Promise<void> {
  const { parseConfig } = await import('../connector/config.js');
  const { startNode } = await import('../connector/node.js');
  const config = parseConfig({ port: 0, host: '127.0.0.1', dataDir, silent: true, fhir: { enabled: fhir } });
  const t0 = performance.now();
  const node = await startNode(config);
  const startMs = performance.now() - t0;
  if (measureOnly) {
    process.send!({ startMs, rssMb: process.memoryUsage().rss / 1024 / 1024 } satisfies Message);
    await node.close();
    process.exit(0);
  }
  let closing = false;
  const close = (): void => {
    if (closing) return;
    closing = true;
    void node.close().then(() => process.exit(0));
  };
  process.on('message', (m) => {
    if (m === 'stop') close();
    if (m === 'cpu') {
      const u = process.cpuUsage();
      process.send!({ cpuMicros: u.user + u.system } satisfies Message);
    }
  });
  process.on('disconnect', close);
  process.send!({ url: node.url } satisfies Message);
}

// ---------------------------------------------------------------- client side

function spawn(args: string[]): { proc: ChildProcess; next: () => Promise<Message> } {
  const proc = fork(SELF, args, { execArgv: ['--import', 'tsx', '--max-semi-space-size=64'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const queue: Message[] = [];
  const waiting: { resolve: (m: Message) => void; reject: (e: Error) => void }[] = [];
  let exited: Error | undefined;
  proc.on('message', (m) => {
    const w = waiting.shift();
    if (w) w.resolve(m as Message);
    else queue.push(m as Message);
  });
  // One listener for the child's whole life: a wait per message would pile up listeners.
  proc.once('exit', (code) => {
    exited = new Error(`the node exited with ${code}`);
    for (const w of waiting.splice(0)) w.reject(exited);
  });
  return {
    proc,
    next: () =>
      new Promise((resolve, reject) => {
        const m = queue.shift();
        if (m !== undefined) return resolve(m);
        if (exited !== undefined) return reject(exited);
        waiting.push({ resolve, reject });
      }),
  };
}

async function measureStart(fhir: boolean): Promise<{ startMs: number; rssMb: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kp-bench-mhd-start-'));
  try {
    const child = spawn(['--serve', '--data', dataDir, '--fhir', String(fhir), '--measure']);
    const m = (await child.next()) as { startMs: number; rssMb: number };
    await new Promise((r) => (child.proc.exitCode !== null ? r(undefined) : child.proc.once('exit', r)));
    return m;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const FIXTURE = readFileSync(EPIKRISE_ITI42, 'utf8')
  .replace(/^<\?xml[^>]*>\s*/, '')
  .replace(/<!--[\s\S]*?-->\s*/, '');

function envelope(action: string, body: string): string {
  return (
    `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing">` +
    `<env:Header><wsa:Action env:mustUnderstand="true">${action}</wsa:Action><wsa:MessageID>urn:uuid:${crypto.randomUUID()}</wsa:MessageID>` +
    `<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo></env:Header>` +
    `<env:Body>${body}</env:Body></env:Envelope>`
  );
}
const soapType = (action: string): string => `application/soap+xml; charset=UTF-8; action="${action}"`;

async function fill(url: string, entries: number): Promise<void> {
  const runId = String(Date.now());
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries) {
      const i = next++;
      const body = FIXTURE.replaceAll('$PATIENT$', xmlEscape(PATIENT))
        .replaceAll('$DOC_UID$', `2.25.${runId}.1.${i}`)
        .replaceAll('$SS_UID$', `2.25.${runId}.2.${i}`)
        .replaceAll('$NOW$', new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14));
      const res = await request(`${url}/xds/registry`, { method: 'POST', headers: { 'content-type': soapType(ACTIONS.iti42.request) }, body: envelope(ACTIONS.iti42.request, body) });
      const text = await res.body.text();
      if (!text.includes('ResponseStatusType:Success')) throw new Error(`ITI-42 ${i} failed: ${text.slice(0, 400)}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'boolean', default: false },
      measure: { type: 'boolean', default: false },
      data: { type: 'string' },
      fhir: { type: 'string', default: 'true' },
      entries: { type: 'string', default: '50' },
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '8' },
      starts: { type: 'string', default: '3' },
    },
  });
  if (values.serve) return serve(values.data!, values.fhir === 'true', values.measure === true);

  const starts = Number(values.starts);
  const on: { startMs: number; rssMb: number }[] = [];
  const off: { startMs: number; rssMb: number }[] = [];
  for (let i = 0; i < starts; i++) {
    on.push(await measureStart(true));
    off.push(await measureStart(false));
  }
  console.log('start (startNode in a fresh process)       median ms   median RSS MB   all ms');
  console.log(`  fhir.enabled true                        ${median(on.map((r) => r.startMs)).toFixed(0).padStart(8)}   ${median(on.map((r) => r.rssMb)).toFixed(0).padStart(13)}   ${on.map((r) => r.startMs.toFixed(0)).join(' ')}`);
  console.log(`  fhir.enabled false                       ${median(off.map((r) => r.startMs)).toFixed(0).padStart(8)}   ${median(off.map((r) => r.rssMb)).toFixed(0).padStart(13)}   ${off.map((r) => r.startMs.toFixed(0)).join(' ')}`);

  const entries = Number(values.entries);
  const dataDir = mkdtempSync(join(tmpdir(), 'kp-bench-mhd-'));
  const child = spawn(['--serve', '--data', dataDir]);
  try {
    const { url } = (await child.next()) as { url: string };
    await fill(url, entries);
    const cpu = async (): Promise<number> => {
      child.proc.send('cpu');
      return ((await child.next()) as { cpuMicros: number }).cpuMicros;
    };
    const find = serializeXml(
      serializeAdhocQueryRequest({
        queryId: STORED_QUERY_ID.FindDocuments,
        returnType: 'LeafClass',
        parameters: [
          { name: '$XDSDocumentEntryPatientId', values: [`'${PATIENT}'`] },
          { name: '$XDSDocumentEntryStatus', values: [`('${APPROVED}')`] },
        ],
      }),
    );
    const form = `patient.identifier=${encodeURIComponent(`urn:oid:2.16.578.1.12.4.1.4.1|${PATIENT_FNR}`)}&status=current`;
    const load = {
      'ITI-18': () =>
        runLoad({
          origin: url,
          path: '/xds/registry',
          connections: Number(values.connections),
          durationMs: Number(values.duration) * 1000,
          maxRequests: 1_000_000,
          request: () => ({ body: envelope(ACTIONS.iti18.request, find), headers: { 'content-type': soapType(ACTIONS.iti18.request) } }),
          check: (status, body) => (status === 200 && body.includes('ResponseStatusType:Success') ? undefined : `HTTP ${status}`),
        }),
      'ITI-67': () =>
        runLoad({
          origin: url,
          path: '/fhir/DocumentReference/_search',
          connections: Number(values.connections),
          durationMs: Number(values.duration) * 1000,
          maxRequests: 1_000_000,
          request: () => ({ body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
          check: (status, body) => (status === 200 && body.includes(`"total":${entries}`) ? undefined : `HTTP ${status} ${body.subarray(0, 200).toString()}`),
        }),
    };
    const results: Record<string, { run: LoadResult; cpuPerRequestMs: number }[]> = { 'ITI-18': [], 'ITI-67': [] };
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const name of ['ITI-18', 'ITI-67'] as const) {
        const before = await cpu();
        const run = await load[name]();
        const after = await cpu();
        if (run.errors > 0) throw new Error(`${name}: ${run.errors} errors, first: ${run.firstError}`);
        results[name]!.push({ run, cpuPerRequestMs: (after - before) / 1000 / run.requests });
      }
    }
    console.log(`\nFindDocuments, ${entries} entries, ${values.connections} connections, ${values.rounds} rounds of ${values.duration} s (medians)`);
    console.log('transaction   req/s    p50 ms   p99 ms   CPU ms/req   bytes/answer');
    for (const name of ['ITI-18', 'ITI-67'] as const) {
      const r = results[name]!;
      const m = (f: (x: (typeof r)[number]) => number) => median(r.map(f));
      console.log(
        `${name.padEnd(12)} ${m((x) => x.run.rps).toFixed(0).padStart(6)}   ${m((x) => x.run.p50Ms).toFixed(2).padStart(6)}   ${m((x) => x.run.p99Ms).toFixed(2).padStart(6)}   ${m((x) => x.cpuPerRequestMs).toFixed(2).padStart(10)}   ${m((x) => x.run.responseBytes / x.run.requests).toFixed(0).padStart(12)}`,
      );
    }
    const ratio = (f: (x: { run: LoadResult; cpuPerRequestMs: number }) => number) => median(results['ITI-67']!.map(f)) / median(results['ITI-18']!.map(f));
    console.log(`ITI-67 / ITI-18: req/s ${ratio((x) => x.run.rps).toFixed(2)}, p50 ${ratio((x) => x.run.p50Ms).toFixed(2)}, CPU per request ${ratio((x) => x.cpuPerRequestMs).toFixed(2)}`);
  } finally {
    if (child.proc.exitCode === null) {
      const exited = new Promise((r) => child.proc.once('exit', r));
      child.proc.send('stop');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
