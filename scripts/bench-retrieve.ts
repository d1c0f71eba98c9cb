/**
 * `npm run bench:retrieve [-- --mb 20 --runs 5 --concurrency 4]`
 *
 * Throughput of the Document Repository with one large document, beside a bare express endpoint
 * that streams the same bytes to and from a file (the floor any HTTP server on this machine sets):
 *   - ITI-41: MTOM provide-and-register of an N MB document (staged, hashed, fsynced, registered);
 *   - ITI-43: MTOM retrieve of it;
 *   - the same upload/download against the bare endpoint;
 *   - peak RSS of each server process (its own child process, so the client's buffers do not
 *     count), after sequential runs and after `concurrency` simultaneous retrieves and uploads.
 * Loopback only, bounded: `runs` repetitions per measurement. Medians are reported.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const SELF = fileURLToPath(import.meta.url);
const ITI41 = 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b';
const ITI43 = 'urn:ihe:iti:2007:RetrieveDocumentSet';
const REPO = '2.25.309237645197082458325426232421537170187';

// ---------------------------------------------------------------- server side (child processes)

async function serveNode(dataDir: string): Promise<string> {
  const { parseConfig } = await import('../connector/config');
  const { startNode } = await import('../connector/node');
  const node = await startNode(
    parseConfig({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      silent: true,
      limits: { maxRequestBytes: 1024 * 1024 * 1024 },
      repository: { repositoryUniqueId: REPO, maxDocumentBytes: 1024 * 1024 * 1024 },
    }),
  );
  return node.url;
}

/** The baseline: express, the request body piped to a file while hashed, the file piped back. */
async function serveBare(dataDir: string): Promise<string> {
  const { default: express } = await import('express');
  const app = express();
  const file = join(dataDir, 'blob');
  app.post('/upload', (req, res, next) => {
    const hash = createHash('sha1');
    req.on('data', (c: Buffer) => hash.update(c));
    pipeline(req, createWriteStream(file)).then(() => res.type('text/plain').send(hash.digest('hex')), next);
  });
  app.get('/download', (_req, res, next) => {
    res.type('application/octet-stream');
    pipeline(createReadStream(file), res).catch(next);
  });
  const server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function child(kind: string, dataDir: string): Promise<void> {
  const url = kind === 'node' ? await serveNode(dataDir) : await serveBare(dataDir);
  process.on('message', (m) => {
    // maxRSS is the process's peak resident set size in KiB (getrusage), platform-independent.
    if (m === 'rss') process.send!({ peakRssMiB: process.resourceUsage().maxRSS / 1024, rssMiB: process.memoryUsage().rss / 1024 / 1024 });
  });
  process.send!({ url });
}

// ---------------------------------------------------------------- client side

interface Served {
  url: string;
  proc: ChildProcess;
  dataDir: string;
}

async function spawnServer(kind: 'node' | 'bare'): Promise<Served> {
  const dataDir = mkdtempSync(join(tmpdir(), `kp-bench-${kind}-`));
  const proc = fork(SELF, ['--serve', kind, '--data', dataDir], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    proc.once('message', (m) => resolve((m as { url: string }).url));
    proc.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
  return { url, proc, dataDir };
}

function peakRss(s: Served): Promise<{ peakRssMiB: number; rssMiB: number }> {
  return new Promise((resolve) => {
    s.proc.once('message', (m) => resolve(m as { peakRssMiB: number; rssMiB: number }));
    s.proc.send('rss');
  });
}

async function stop(s: Served): Promise<void> {
  const exited = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  await exited;
  rmSync(s.dataDir, { recursive: true, force: true });
}

/** POST/GET with node's http client; the response body is hashed as it streams, never kept. */
function request(url: string, method: string, body: Buffer | undefined, contentType?: string): Promise<{ status: number; bytes: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (body) {
      headers['content-type'] = contentType ?? 'application/octet-stream';
      headers['content-length'] = body.length;
    }
    const req = http.request(url, { method, headers }, (res) => {
      let bytes = 0;
      let head = '';
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (head.length < 4096) head += c.subarray(0, 4096).toString('latin1');
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, text: head }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function soapEnvelope(action: string, to: string, body: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing">` +
    `<soap:Header><wsa:Action soap:mustUnderstand="1">${action}</wsa:Action><wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID>` +
    `<wsa:To>${to}</wsa:To></soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`
  );
}

let seq = 0;
/** An ITI-41 MTOM request (CXF shape) for the Norwegian fixture metadata with a fresh document uniqueId. */
function provideRequest(url: string, document: Buffer): { body: Buffer; contentType: string; docUid: string } {
  const docUid = `2.16.578.1.12.4.5.100.1.77.${Date.now()}.${++seq}`;
  const sor = readFileSync(new URL('../fixtures/messages/iti42-norwegian-epikrise.xml', import.meta.url), 'utf8')
    .replace(/^<\?xml[^>]*>\s*/, '')
    .replace(/<!--[\s\S]*?-->\s*/, '')
    .replace(/<rim:Slot name="(hash|size|repositoryUniqueId)">[\s\S]*?<\/rim:Slot>\s*/g, '')
    .replaceAll('$PATIENT$', '13116900216^^^&amp;2.16.578.1.12.4.1.4.1&amp;ISO')
    .replaceAll('$DOC_UID$', docUid)
    .replaceAll('$SS_UID$', `${docUid}.1`)
    .replaceAll('$NOW$', new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14));
  const boundary = `uuid:${randomUUID()}`;
  const body =
    `<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007" xmlns:xop="http://www.w3.org/2004/08/xop/include">${sor}` +
    `<xdsb:Document id="Document01"><xop:Include href="cid:doc1@bench"/></xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\nContent-ID: <root@bench>\r\n\r\n` +
      soapEnvelope(ITI41, url, body) +
      `\r\n--${boundary}\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <doc1@bench>\r\n\r\n`,
  );
  return {
    body: Buffer.concat([head, document, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    contentType: `multipart/related; type="application/xop+xml"; boundary="${boundary}"; start="<root@bench>"; start-info="application/soap+xml"; action="${ITI41}"`,
    docUid,
  };
}

function retrieveRequest(url: string, docUid: string): Buffer {
  return Buffer.from(
    soapEnvelope(
      ITI43,
      url,
      `<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007"><xdsb:DocumentRequest>` +
        `<xdsb:RepositoryUniqueId>${REPO}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>${docUid}</xdsb:DocumentUniqueId>` +
        `</xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>`,
    ),
  );
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function timed(runs: number, bytes: number, op: () => Promise<void>): Promise<number> {
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await op();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    rates.push(bytes / 1024 / 1024 / s);
  }
  return median(rates);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'string' },
      data: { type: 'string' },
      mb: { type: 'string', default: '20' },
      runs: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '4' },
    },
  });
  if (values.serve) return child(values.serve, values.data!);

  const mb = Number(values.mb);
  const runs = Number(values.runs);
  const concurrency = Number(values.concurrency);
  const document = randomBytes(mb * 1024 * 1024);
  const size = document.length;
  console.log(`document ${mb} MiB, ${runs} runs per measurement (median), concurrency ${concurrency}, node ${process.version}, loopback`);

  // Bare express baseline.
  const bare = await spawnServer('bare');
  const bareUp = await timed(runs, size, async () => {
    const r = await request(`${bare.url}/upload`, 'POST', document);
    if (r.status !== 200) throw new Error(`bare upload: HTTP ${r.status}`);
  });
  const bareDown = await timed(runs, size, async () => {
    const r = await request(`${bare.url}/download`, 'GET', undefined);
    if (r.bytes !== size) throw new Error(`bare download: ${r.bytes} bytes`);
  });
  const bareSeqRss = await peakRss(bare);
  await Promise.all(Array.from({ length: concurrency }, () => request(`${bare.url}/download`, 'GET', undefined)));
  const bareRss = await peakRss(bare);
  await stop(bare);

  // The node.
  const node = await spawnServer('node');
  const repoUrl = `${node.url}/xds/repository`;
  const idle = await peakRss(node);
  let lastUid = '';
  const provide = async (): Promise<void> => {
    const req = provideRequest(repoUrl, document);
    const r = await request(repoUrl, 'POST', req.body, req.contentType);
    if (r.status !== 200 || !r.text.includes('ResponseStatusType:Success')) throw new Error(`ITI-41 failed: HTTP ${r.status} ${r.text.slice(0, 500)}`);
    lastUid = req.docUid;
  };
  const retrieveOnce = async (): Promise<void> => {
    const r = await request(repoUrl, 'POST', retrieveRequest(repoUrl, lastUid), `application/soap+xml; charset=UTF-8; action="${ITI43}"`);
    if (r.status !== 200 || r.bytes < size) throw new Error(`ITI-43 failed: HTTP ${r.status}, ${r.bytes} bytes`);
  };
  const up = await timed(runs, size, provide);
  const down = await timed(runs, size, retrieveOnce);
  const nodeSeqRss = await peakRss(node);
  await Promise.all(Array.from({ length: concurrency }, () => retrieveOnce()));
  const afterConcurrentRetrieve = await peakRss(node);
  await Promise.all(Array.from({ length: concurrency }, () => provide()));
  const afterConcurrentProvide = await peakRss(node);
  await stop(node);

  const f = (x: number): string => x.toFixed(0);
  const rows = [
    ['ITI-41 provide and register (MTOM)', f(up), 'bare express upload', f(bareUp), (up / bareUp).toFixed(2)],
    ['ITI-43 retrieve (MTOM)', f(down), 'bare express download', f(bareDown), (down / bareDown).toFixed(2)],
  ];
  console.log('');
  console.log('| operation | MB/s (median) | baseline | MB/s (median) | ratio |');
  console.log('|---|---:|---|---:|---:|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log('');
  console.log('| process | peak RSS after sequential runs | after concurrent runs |');
  console.log('|---|---:|---:|');
  console.log(`| node (idle: ${f(idle.peakRssMiB)} MiB) | ${f(nodeSeqRss.peakRssMiB)} MiB | ${f(afterConcurrentRetrieve.peakRssMiB)} MiB (${concurrency}× ITI-43), ${f(afterConcurrentProvide.peakRssMiB)} MiB (+ ${concurrency}× ITI-41) |`);
  console.log(`| bare express | ${f(bareSeqRss.peakRssMiB)} MiB | ${f(bareRss.peakRssMiB)} MiB (${concurrency}× download) |`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
