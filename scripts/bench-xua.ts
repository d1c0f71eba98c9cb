/**
 * npm run bench:xua -- [--entries 300] [--rounds 3] [--duration 5] [--connections 32] [--max-requests 20000] [--misses 200]
 *
 * What XUA verification costs ITI-18 FindDocuments (issue 5), on loopback, in one run. Two nodes,
 * each its own child process (so the load generator's CPU and memory are not the server's), over
 * two data directories filled with the same submissions: N Norwegian epikrise DocumentEntries
 * (fixtures/messages/iti42-norwegian-epikrise.xml) for one patient, registered through ITI-42.
 *
 *   - plain:  trust disabled (the quick-start node): no assertion checked, no policy applied;
 *   - xua:    trust enabled on every endpoint, pinning the TEST-ONLY issuer of fixtures/certs,
 *             so every request is verified (connector/trust/xua.ts) and the Norwegian access
 *             policy runs over the answer (ATT-4 on every returned entry, NORS masking).
 *
 * Three measurements, each the same FindDocuments (LeafClass) for that patient, all returning all
 * N entries, with 32 closed-loop undici connections bounded by time and by request count:
 *   - unverified:           the plain node;
 *   - verified, cache miss: the xua node, a different signed assertion on every request (signed
 *                           beforehand, outside the timed part), so every request pays the
 *                           XML-DSig verification (exclusive c14n, SHA-256 digest, RSA);
 *   - verified, cache hit:  the xua node, one assertion reused, so after the first request every
 *                           verification is answered by the verifier's cache (ID + SHA-256 of
 *                           the assertion bytes).
 * Every request carries an assertion in wsse:Security, the plain node's too (it ignores it), so
 * all three parse the same bytes and only the trust model differs. The three run interleaved
 * (unverified, cache hit, cache miss), `rounds` times, so drift in what else the machine runs
 * spreads over all three; the table gives the medians and the ratios to unverified. A run stops
 * issuing requests after `duration` seconds or its request budget and then waits for the ones in
 * flight. Beside throughput and latency: the server process's CPU time per request, which hardly
 * depends on the machine's other load, and verify() alone, in this process, with no load running,
 * on each signature path (the fast path and xml-crypto alone, issue 19).
 *
 *   npm run bench:xua -- --verify-only [--rounds 5] [--misses 200]
 *
 * measures verify() alone only (no nodes, no HTTP): `rounds` alternating rounds of `misses` fresh
 * assertions per path, each verification timed alone, medians.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { ACTIONS } from '../connector/soap/actions.js';
import { trustConfigSchema } from '../connector/trust/config.js';
import { xuaVerifierFromConfig, type XuaInput } from '../connector/trust/xua.js';
import { parseXml } from '../registry/xml/parse.js';
import { NS } from '../registry/xml/namespaces.js';
import { childElement } from '../registry/xml/tree.js';
import { serializeAdhocQueryRequest } from '../registry/ebxml/index.js';
import { STORED_QUERY_ID } from '../registry/model/query.js';
import { serializeXml } from '../registry/xml/serialize.js';
import { runLoad, type LoadResult } from './bench/load.js';
import {
  buildAssertion,
  defaultAssertionOptions,
  FIXTURE_CERTS,
  signAssertion,
  soapEnvelope,
  testKey,
  type AssertionOptions,
  type SigningKey,
} from './sign-assertion.js';
import { EPIKRISE_ITI42 } from '../fixtures/index.js';

const SELF = fileURLToPath(import.meta.url);
const REGISTRY_PATH = '/xds/registry';
const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1';
/** The patient of every entry and of every assertion's resource-id (a valid fødselsnummer). */
const PATIENT_FNR = '12057900499';
const PATIENT = `${PATIENT_FNR}^^^&2.16.578.1.12.4.1.4.1&ISO`;
/** The requesting clinician's user id (ATT-10: a valid F-number). */
const PRACTITIONER_FNR = '13116900216';
const APPROVED = 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved';
/** Issuer and audience of the test assertions, as sign-assertion.ts writes them. */
const TEST_DEFAULTS = defaultAssertionOptions();
/** The xua node's trust section: the test issuer pinned, everything else at its defaults. */
const TRUST = {
  enabled: true,
  pinnedIssuerCertificates: [join(FIXTURE_CERTS, 'issuer.pem')],
  issuers: [TEST_DEFAULTS.issuer],
  audiences: [...TEST_DEFAULTS.audiences],
};

// ---------------------------------------------------------------- server side (child processes)

type Mode = 'plain' | 'xua';

async function serve(mode: Mode, dataDir: string): Promise<void> {
  const { parseConfig } = await import('../connector/config.js');
  const { startNode } = await import('../connector/node.js');
  const node = await startNode(
    parseConfig({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      // Per-request log lines would be measured too; both nodes log nothing.
      silent: true,
      homeCommunityId: HOME,
      ...(mode === 'xua' ? { trust: TRUST } : {}),
    }),
  );
  let closing = false;
  const close = (): void => {
    if (closing) return;
    closing = true;
    void node.close().then(() => process.exit(0));
  };
  process.on('message', (m) => {
    if (m === 'stop') close();
  });
  // The parent died without saying stop (Ctrl-C, crash): do not stay behind listening.
  process.on('disconnect', close);
  process.send!({ url: node.url });
}

// ---------------------------------------------------------------- client side

interface Served {
  readonly mode: Mode;
  readonly url: string;
  readonly proc: ChildProcess;
  readonly dataDir: string;
}

async function spawnNode(mode: Mode): Promise<Served> {
  const dataDir = mkdtempSync(join(tmpdir(), `kp-bench-xua-${mode}-`));
  const proc = fork(SELF, ['--serve', mode, '--data', dataDir], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    proc.once('message', (m) => resolve((m as { url: string }).url));
    proc.once('exit', (code) => reject(new Error(`${mode} node exited with ${code} before listening`)));
  });
  return { mode, url, proc, dataDir };
}

async function stop(s: Served): Promise<void> {
  if (s.proc.exitCode === null) {
    const exited = new Promise((r) => s.proc.once('exit', r));
    s.proc.send('stop');
    await exited;
  }
  rmSync(s.dataDir, { recursive: true, force: true });
}

const soapType = (action: string): string => `application/soap+xml; charset=UTF-8; action="${action}"`;

/** A clinician's assertion for the benchmark patient, valid for an hour: distinct ID on every call. */
function clinicianAssertion(signer: SigningKey): string {
  const options: AssertionOptions = defaultAssertionOptions(new Date(), {
    subject: PRACTITIONER_FNR,
    patient: PATIENT,
  });
  return signAssertion(buildAssertion(options), signer);
}

/** The envelope as NHN lays it out (wsu:Timestamp valid 5 minutes: the whole run fits). */
function envelope(assertion: string, action: string, body: string): Buffer {
  const now = new Date();
  return Buffer.from(soapEnvelope(assertion, { action, body, timestamp: { created: now, expires: new Date(now.getTime() + 300_000) } }));
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const FIXTURE = readFileSync(EPIKRISE_ITI42, 'utf8')
  .replace(/^<\?xml[^>]*>\s*/, '')
  .replace(/<!--[\s\S]*?-->\s*/, '');

/** The i-th submission: the fixture's epikrise for the benchmark patient with fresh uniqueIds. */
function submissionBody(runId: string, i: number): string {
  return FIXTURE.replaceAll('$PATIENT$', xmlEscape(PATIENT))
    .replaceAll('$DOC_UID$', `2.25.${runId}.1.${i}`)
    .replaceAll('$SS_UID$', `2.25.${runId}.2.${i}`)
    .replaceAll('$NOW$', new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14));
}

/** Registers `entries` single-document submissions through ITI-42, 8 at a time. */
async function fill(node: Served, entries: number, runId: string, assertion: string): Promise<void> {
  const url = `${node.url}${REGISTRY_PATH}`;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries) {
      const i = next++;
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': soapType(ACTIONS.iti42.request) },
        body: envelope(assertion, ACTIONS.iti42.request, submissionBody(runId, i)),
      });
      const text = await res.body.text();
      if (res.statusCode !== 200 || !text.includes('ResponseStatusType:Success')) {
        throw new Error(`ITI-42 ${i} to the ${node.mode} node failed: HTTP ${res.statusCode} ${text.slice(0, 600)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

const FIND_DOCUMENTS = serializeXml(
  serializeAdhocQueryRequest({
    queryId: STORED_QUERY_ID.FindDocuments,
    returnType: 'LeafClass',
    parameters: [
      { name: '$XDSDocumentEntryPatientId', values: [`'${PATIENT}'`] },
      { name: '$XDSDocumentEntryStatus', values: [`('${APPROVED}')`] },
    ],
  }),
);

const EXTRINSIC_OBJECT = /<(?:[\w.-]+:)?ExtrinsicObject[\s>]/g;

/** A FindDocuments answer must be a Success with all the patient's entries, none masked. */
function checker(entries: number): (status: number, body: Buffer) => string | undefined {
  return (status, body) => {
    if (status !== 200) return `HTTP ${status}: ${body.subarray(0, 400).toString('utf8')}`;
    const text = body.toString('utf8');
    if (!text.includes('ResponseStatusType:Success')) return `not a Success: ${text.slice(0, 400)}`;
    const found = text.match(EXTRINSIC_OBJECT)?.length ?? 0;
    if (found !== entries) return `${found} DocumentEntries, expected ${entries}`;
    if (text.includes('"Sperret"')) return 'a masked entry in the answer';
    return undefined;
  };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

type Variant = 'unverified' | 'verified, cache miss' | 'verified, cache hit';
interface Measured extends LoadResult {
  /** CPU time (user + system) of the server process per request. */
  readonly cpuMsPerRequest: number;
}

/**
 * CPU time the node's process has used so far, in ms (Linux /proc: fields 14 and 15 of
 * /proc/PID/stat, in clock ticks of 10 ms; 0 elsewhere). Unlike throughput, CPU time per request
 * hardly depends on what else the machine runs, so it shows the verification's cost directly.
 */
function cpuMs(node: Served): number {
  try {
    const stat = readFileSync(`/proc/${node.proc.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}
const VARIANTS: readonly Variant[] = ['unverified', 'verified, cache miss', 'verified, cache hit'];

type SignaturePath = 'fast' | 'xml-crypto';
const PATHS: readonly SignaturePath[] = ['fast', 'xml-crypto'];

interface Alone {
  /** Median time of one verification, per path: cache misses (fresh assertions) and cache hits. */
  readonly missMs: Record<SignaturePath, number>;
  /** Median CPU time (user + system, process.cpuUsage) of one cache miss: less load-dependent than the wall clock. */
  readonly missCpuMs: Record<SignaturePath, number>;
  readonly hitMs: Record<SignaturePath, number>;
  readonly misses: number;
  readonly hits: number;
  readonly rounds: number;
  /** Fresh assertions the fast path left to xml-crypto (0 for the assertions issuers send). */
  readonly leftToXmlCrypto: number;
}

/**
 * The verifier by itself, with the xua node's configuration: what one verification costs without
 * HTTP, SOAP parsing, the query or the policy around it, on each signature path (issue 19: the
 * fast path, and xml-crypto alone, the verifier of record). Cache misses over `misses` fresh
 * assertions (each timed alone; the median), cache hits over one assertion verified again and
 * again; the two paths alternate, `rounds` times, each round on new assertions, and the figures
 * are the medians over all rounds.
 */
function verifyAlone(signer: SigningKey, misses: number, rounds: number): Alone {
  const input = (raw: Buffer): XuaInput => ({ header: childElement(parseXml(raw), NS.soap12, 'Header'), rawEnvelope: raw });
  const hits = 2000;
  const missTimes = new Map<SignaturePath, number[]>(PATHS.map((p) => [p, []]));
  const missCpu = new Map<SignaturePath, number[]>(PATHS.map((p) => [p, []]));
  const hitTimes = new Map<SignaturePath, number[]>(PATHS.map((p) => [p, []]));
  let leftToXmlCrypto = 0;
  for (let r = 0; r < rounds; r++) {
    for (const path of r % 2 === 0 ? PATHS : [...PATHS].reverse()) {
      const one = xuaVerifierFromConfig(trustConfigSchema.parse(TRUST), undefined, path);
      const fresh = Array.from({ length: misses }, () => input(envelope(clinicianAssertion(signer), ACTIONS.iti18.request, FIND_DOCUMENTS)));
      const same = input(envelope(clinicianAssertion(signer), ACTIONS.iti18.request, FIND_DOCUMENTS));
      one.verify(same);
      for (const f of fresh) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        one.verify(f);
        missTimes.get(path)!.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        missCpu.get(path)!.push((c.user + c.system) / 1000);
      }
      const t0 = performance.now();
      for (let i = 0; i < hits; i++) one.verify(same);
      hitTimes.get(path)!.push((performance.now() - t0) / hits);
      if (path === 'fast') leftToXmlCrypto += one.signaturePaths.xmlCrypto;
    }
  }
  const per = (m: Map<SignaturePath, number[]>): Record<SignaturePath, number> => ({ fast: median(m.get('fast')!), 'xml-crypto': median(m.get('xml-crypto')!) });
  return { missMs: per(missTimes), missCpuMs: per(missCpu), hitMs: per(hitTimes), misses, hits, rounds, leftToXmlCrypto };
}

function printAlone(alone: Alone): void {
  console.log(
    `verify() alone, in this process with no load of its own running (the node's configuration), median of ${alone.rounds} alternating rounds ` +
      `of ${alone.misses} fresh assertions (misses) and ${alone.hits} repeats of one (hits), per path:`,
  );
  console.log('');
  console.log('| signature path | cache miss ms | cache miss CPU ms | cache hit ms |');
  console.log('|---|---:|---:|---:|');
  for (const p of PATHS) console.log(`| ${p} | ${alone.missMs[p].toFixed(3)} | ${alone.missCpuMs[p].toFixed(3)} | ${alone.hitMs[p].toFixed(4)} |`);
  console.log('');
  console.log(
    `cache miss, xml-crypto / fast: ${(alone.missMs['xml-crypto'] / alone.missMs.fast).toFixed(1)} × (CPU ${(alone.missCpuMs['xml-crypto'] / alone.missCpuMs.fast).toFixed(1)} ×); ` +
      `fresh assertions the fast path left to xml-crypto: ${alone.leftToXmlCrypto}`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'string' },
      data: { type: 'string' },
      entries: { type: 'string', default: '300' },
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '32' },
      'max-requests': { type: 'string', default: '20000' },
      'verify-only': { type: 'boolean', default: false },
      misses: { type: 'string', default: '200' },
    },
  });
  if (values.serve !== undefined) {
    if (values.serve !== 'plain' && values.serve !== 'xua') throw new Error(`--serve plain|xua, not ${values.serve}`);
    return serve(values.serve, values.data!);
  }
  const entries = Number(values.entries);
  const rounds = Number(values.rounds);
  const durationMs = Number(values.duration) * 1000;
  const connections = Number(values.connections);
  const maxRequests = Number(values['max-requests']);
  const misses = Number(values.misses);
  const numbers: [string, number][] = [['entries', entries], ['rounds', rounds], ['duration', durationMs], ['connections', connections], ['max-requests', maxRequests], ['misses', misses]];
  for (const [flag, v] of numbers) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`--${flag} must be a positive number`);
  }
  if (values['verify-only']) {
    console.log(`XUA verify() alone: node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg()[0]!.toFixed(1)} at the start`);
    printAlone(verifyAlone(testKey('issuer'), misses, rounds));
    console.log(`load average ${loadavg()[0]!.toFixed(1)} at the end`);
    return;
  }
  const started = performance.now();
  const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(0)} s`;
  console.log(
    `XUA benchmark: ${entries} entries for one patient, ${connections} connections, ${rounds} rounds of ${values.duration} s ` +
      `(≤ ${maxRequests} requests) per variant; node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ` +
      `load average ${loadavg()[0]!.toFixed(1)} at the start, loopback`,
  );

  const signer = testKey('issuer');
  const shared = clinicianAssertion(signer);
  const runId = String(Date.now());
  const nodes = new Map<Mode, Served>();
  try {
    for (const mode of ['plain', 'xua'] as const) nodes.set(mode, await spawnNode(mode));
    const plain = nodes.get('plain')!;
    const xua = nodes.get('xua')!;
    await Promise.all([fill(plain, entries, runId, shared), fill(xua, entries, runId, shared)]);
    console.log(`[${elapsed()}] registered ${entries} entries in each node through ITI-42`);

    const hitRequest = envelope(shared, ACTIONS.iti18.request, FIND_DOCUMENTS);
    const headers = { 'content-type': soapType(ACTIONS.iti18.request) };
    const check = checker(entries);
    const load = (node: Served, requests: number, durationMs: number, body: (i: number) => Buffer): Promise<LoadResult> =>
      runLoad({
        origin: node.url,
        path: REGISTRY_PATH,
        connections,
        durationMs,
        maxRequests: requests,
        request: (i) => ({ body: body(i), headers }),
        check: (status, bytes) => check(status, bytes),
      });

    // Warm-up of both nodes (JIT, store and statement caches), and the shared assertion into the
    // xua node's verification cache.
    for (const node of [plain, xua]) {
      const r = await load(node, maxRequests, 1500, () => hitRequest);
      if (r.errors > 0) throw new Error(`warm-up of the ${node.mode} node: ${r.errors} errors, first: ${r.firstError}`);
    }
    console.log(`[${elapsed()}] warmed up`);

    const results = new Map<Variant, Measured[]>(VARIANTS.map((v) => [v, []]));
    const measure = async (variant: Variant, round: number, node: Served, requests: number, body: (i: number) => Buffer): Promise<void> => {
      const cpuBefore = cpuMs(node);
      const res = await load(node, requests, durationMs, body);
      const cpu = (cpuMs(node) - cpuBefore) / Math.max(1, res.requests);
      if (res.errors > 0) throw new Error(`${variant}, round ${round + 1}: ${res.errors} errors, first: ${res.firstError}`);
      results.get(variant)!.push({ ...res, cpuMsPerRequest: cpu });
      console.log(
        `[${elapsed()}] round ${round + 1} ${variant}: ${res.requests} requests in ${(res.durationMs / 1000).toFixed(1)} s, ` +
          `${res.rps.toFixed(1)} req/s, p50 ${res.p50Ms.toFixed(1)} ms, p99 ${res.p99Ms.toFixed(1)} ms, server CPU ${cpu.toFixed(1)} ms/request`,
      );
    };
    for (let r = 0; r < rounds; r++) {
      await measure('unverified', r, plain, maxRequests, () => hitRequest);
      await measure('verified, cache hit', r, xua, maxRequests, () => hitRequest);
      // Every cache-miss request gets its own assertion (own ID, own signature), signed now, while
      // no load runs. The cache-hit rate just measured bounds the cache-miss rate from above, so
      // 1.5 times as many as it would serve in the time (plus one per connection) last the run.
      const hit = results.get('verified, cache hit')![r]!;
      const size = Math.min(maxRequests, Math.ceil(hit.rps * (durationMs / 1000) * 1.5) + connections);
      const t0 = performance.now();
      const pool = Array.from({ length: size }, () => envelope(clinicianAssertion(signer), ACTIONS.iti18.request, FIND_DOCUMENTS));
      console.log(`[${elapsed()}] signed ${size} assertions in ${((performance.now() - t0) / 1000).toFixed(1)} s (not timed)`);
      await measure('verified, cache miss', r, xua, size, (i) => pool[i]!);
      const miss = results.get('verified, cache miss')![r]!;
      if (miss.requests >= size) console.log(`  (the cache-miss run used its whole pool of ${size}: it ended by request count)`);
    }

    for (const node of nodes.values()) await stop(node);
    nodes.clear();
    const alone = verifyAlone(signer, misses, rounds);

    const summary = VARIANTS.map((v) => {
      const rs = results.get(v)!;
      return {
        variant: v,
        rps: median(rs.map((x) => x.rps)),
        p50: median(rs.map((x) => x.p50Ms)),
        p99: median(rs.map((x) => x.p99Ms)),
        cpu: median(rs.map((x) => x.cpuMsPerRequest)),
        requests: rs.reduce((s, x) => s + x.requests, 0),
        bytes: rs[0]!.responseBytes / Math.max(1, rs[0]!.requests),
      };
    });
    const base = summary[0]!;
    console.log('');
    console.log(`FindDocuments LeafClass, ${entries} entries per answer (${(base.bytes / 1024).toFixed(0)} KiB), ${connections} connections, median of ${rounds} runs:`);
    console.log('');
    console.log('| variant | req/s | p50 ms | p99 ms | req/s ratio | p50 ratio | p99 ratio | server CPU ms/request | requests (all runs) |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const s of summary) {
      console.log(
        `| ${s.variant} | ${s.rps.toFixed(1)} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} | ${(s.rps / base.rps).toFixed(2)} | ` +
          `${(s.p50 / base.p50).toFixed(2)} | ${(s.p99 / base.p99).toFixed(2)} | ${s.cpu.toFixed(1)} | ${s.requests} |`,
      );
    }
    console.log('');
    printAlone(alone);
    console.log('');
    console.log(`total ${elapsed()}`);
  } finally {
    for (const node of nodes.values()) await stop(node);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
