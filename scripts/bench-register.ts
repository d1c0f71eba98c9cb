/**
 * `npm run bench:register -- [--registrations 3000] [--in-flight 32] [--rounds 3] [--store FILE | --data-dir DIR]`
 *
 * ITI-42 in process, without HTTP, the audit event or the log line: what the registry itself
 * costs per registration. Each registration is what the SOAP endpoint does with the request's
 * bytes: parse the envelope (registry/xml), read the SubmitObjectsRequest (registry/ebxml), and
 * register it (rules, the write queue's group commit, the store's writer thread), `--in-flight`
 * at a time as the bench's 32 clients send them. The requests are the bench's "ITI-42 one
 * document" line's (fresh uniqueIds, symbolic ids, one generated patient).
 *
 * `--store FILE` registers into a copy of that registry.sqlite (e.g. a bench store's, to measure
 * at its size); `--data-dir DIR` into DIR's registry.sqlite itself (no copy: for the 1.9 GB of a
 * 1M store; it keeps what is registered); without either, into an empty store. Printed per round: registrations/s, CPU per
 * registration of all threads (process.cpuUsage) and of the main thread (Linux: its own counters
 * in /proc, 10 ms resolution; load-independent, unlike the event loop's active time, also printed),
 * and the main thread's synchronous parse and ebRIM reading per registration (wall time).
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { parseSubmitObjectsRequest } from '../registry/ebxml/index.js';
import { NS } from '../registry/xml/namespaces.js';
import { parseXml } from '../registry/xml/parse.js';
import { childElement, childElements, type XmlElement } from '../registry/xml/tree.js';
import { createPatientIdPolicy } from '../registry/patients.js';
import { DocumentRegistry } from '../registry/registry.js';
import { openRegistryStore } from '../registry/store/open.js';
import { createWorld } from './generate/patient.js';
import { registerOneDocument } from './bench/requests.js';

const { values } = parseArgs({
  options: {
    registrations: { type: 'string', default: '3000' },
    'in-flight': { type: 'string', default: '32' },
    rounds: { type: 'string', default: '3' },
    store: { type: 'string' },
    'data-dir': { type: 'string' },
  },
});
const registrations = Number(values.registrations);
const inFlight = Number(values['in-flight']);
const rounds = Number(values.rounds);

/** The main thread's CPU time in ms (user + system), from /proc (Node 20 has no process.threadCpuUsage). */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/**
 * Time spent in Worker#postMessage on this thread: the structured clone of what is sent to the
 * store's writer thread (commit batches). Measured by wrapping the method.
 */
let postMessageMs = 0;
const postMessage = Worker.prototype.postMessage;
Worker.prototype.postMessage = function timedPostMessage(this: Worker, ...args: Parameters<Worker['postMessage']>) {
  const t0 = performance.now();
  try {
    postMessage.apply(this, args);
  } finally {
    postMessageMs += performance.now() - t0;
  }
};

const scratch = mkdtempSync(join(tmpdir(), 'kp-bench-register-'));
const dir = values['data-dir'] ?? scratch;
try {
  if (values.store !== undefined) {
    copyFileSync(values.store, join(dir, 'registry.sqlite'));
    for (const tail of ['-wal', '-shm']) if (existsSync(values.store + tail)) copyFileSync(values.store + tail, join(dir, `registry.sqlite${tail}`));
  }
  const store = await openRegistryStore({ dataDir: dir });
  const registry = new DocumentRegistry(store, { queryResultLimit: 5000, patientIds: createPatientIdPolicy({ acceptedAssigningAuthorities: [] }) });
  const world = createWorld(1);
  // The bench's ITI-42 patient is far outside any generated store.
  const envelope = registerOneDocument(world, 'http://127.0.0.1/registry', 268_225, String(Date.now()));
  let next = 0;
  for (let round = 0; round <= rounds; round++) {
    // Round 0 warms up (JIT, caches) and is not printed.
    const count = round === 0 ? Math.min(1000, registrations) : registrations;
    const bodies = Array.from({ length: count }, () => Buffer.from(envelope(next++), 'utf8'));
    let parseMs = 0;
    let readMs = 0;
    postMessageMs = 0;
    let failed = 0;
    const one = async (bytes: Buffer): Promise<void> => {
      const t0 = performance.now();
      const root = parseXml(bytes, { maxBytes: 10 * 2 ** 20 });
      const t1 = performance.now();
      const body = childElements(childElement(root, NS.soap12, 'Body')!)[0]!;
      const request: XmlElement = body.local === 'SubmitObjectsRequest' ? body : childElement(body, NS.lcm, 'SubmitObjectsRequest')!;
      const submission = parseSubmitObjectsRequest(request);
      const t2 = performance.now();
      parseMs += t1 - t0;
      readMs += t2 - t1;
      const outcome = await registry.register(submission);
      if (outcome.status !== 'Success') {
        failed++;
        if (failed === 1) process.stderr.write(`failed: ${JSON.stringify(outcome.errors)}\n`);
      }
    };
    const elu0 = performance.eventLoopUtilization();
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuMs();
    const t0 = performance.now();
    let i = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (i < bodies.length) await one(bodies[i++]!);
      }),
    );
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const mainMs = mainThreadCpuMs() - main0;
    const elu = performance.eventLoopUtilization(elu0);
    if (round === 0) continue;
    const us = (ms: number) => ((ms * 1000) / count).toFixed(0).padStart(4);
    process.stdout.write(
      `round ${round}: ${((count / wallMs) * 1000).toFixed(0)} registrations/s, CPU ${us((cpu.user + cpu.system) / 1000)} µs (all threads), ` +
        `main thread ${us(mainMs)} µs (event loop active ${us(elu.active)} µs), of it parse ${us(parseMs)} µs, ebRIM ${us(readMs)} µs, postMessage ${us(postMessageMs)} µs${failed > 0 ? `, ${failed} FAILED` : ''}\n`,
    );
  }
  await store.close();
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
