/**
 * The measured process, started by bench.ts as a child so that its RSS and CPU profile are its
 * own: either a koblingspunkt node over a data directory, or the ceiling, a bare express app
 * that reads the request body and answers with the exact bytes the node answered.
 *
 *   tsx scripts/bench/server.ts node DATA_DIR [LOG_LEVEL] [PROCESSES]
 *   tsx scripts/bench/server.ts ceiling CEILING_SPEC.json   (canned.ts: CeilingSpec)
 *
 * Reports `{ url }` over the IPC channel once listening and stops on the message 'stop'.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import express from 'express';
import { parseConfig } from '../../connector/config.js';
import { startNode } from '../../connector/node.js';
import { startCluster } from '../../connector/cluster/primary.js';
import { BENCH_HOME_COMMUNITY_ID, BENCH_KEY_HEADER, CEILING_PATH, type CeilingSpec } from './canned.js';


async function startCeiling(file: string): Promise<{ url: string; close: () => Promise<void> }> {
  const spec = JSON.parse(readFileSync(file, 'utf8')) as CeilingSpec;
  const answers = new Map(
    Object.entries(spec.answers).map(([k, v]) => [k, 'file' in v ? { contentType: v.contentType, file: v.file } : { contentType: v.contentType, bytes: Buffer.from(v.base64, 'base64') }]),
  );
  const scratch = mkdtempSync(join(tmpdir(), 'kp-bench-ceiling-'));
  let uploads = 0;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  const answer: express.RequestHandler = (req, res, next) => {
    const canned = answers.get(String(req.headers[BENCH_KEY_HEADER] ?? ''));
    if (canned === undefined) {
      res.status(404).end();
      return;
    }
    res.status(200).type(canned.contentType);
    if ('bytes' in canned) res.send(canned.bytes);
    else pipeline(createReadStream(canned.file), res).catch(next);
  };
  // The request body streamed to a file while hashed, as the repository stages a document (without its fsync).
  const toFile: express.RequestHandler = (req, _res, next) => {
    const target = join(scratch, String(++uploads));
    const hash = createHash('sha1');
    req.on('data', (c: Buffer) => hash.update(c));
    pipeline(req, createWriteStream(target))
      .then(() => {
        hash.digest('hex');
        rmSync(target, { force: true });
        next();
      })
      .catch(next);
  };
  app.post(CEILING_PATH, spec.requestBody === 'file' ? toFile : express.raw({ type: '*/*', limit: '2gb' }), answer);
  // A GET line (ITI-67 search): the same path and query string as the node is sent, nothing to read but the URL.
  app.get(CEILING_PATH, answer);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  server.keepAliveTimeout = 5_000;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).finally(() => rmSync(scratch, { recursive: true, force: true })),
  };
}

async function main(): Promise<void> {
  const [mode, arg, logLevel, processArg, cacheArg] = process.argv.slice(2);
  const processes = Number(processArg ?? '1');
  // The registry's read cache in objects (registry.cacheEntries); the node's default when absent.
  const cacheEntries = cacheArg === undefined ? undefined : Number(cacheArg);
  if (process.send === undefined || arg === undefined || (mode !== 'node' && mode !== 'ceiling')) {
    process.stderr.write('usage (as a child of bench.ts): server.ts node DATA_DIR [LOG_LEVEL [PROCESSES [CACHE_ENTRIES]]] | ceiling CEILING_SPEC.json\n');
    process.exit(2);
  }
  let running: { url: string; close: () => Promise<void> };
  if (mode === 'node') {
    const config = parseConfig({
      port: 0,
      host: '127.0.0.1',
      dataDir: arg,
      homeCommunityId: BENCH_HOME_COMMUNITY_ID,
      logLevel: logLevel ?? 'info',
      // Room for the large-document lines (--mb); limits only, no effect on the work per request.
      limits: { maxRequestBytes: 2 ** 30 },
      repository: { maxDocumentBytes: 2 ** 30 },
      processes,
      ...(cacheEntries === undefined ? {} : { registry: { cacheEntries } }),
    });
    // Several processes: this process is the primary (it decides the writes), the workers serve.
    running = processes > 1 ? await startCluster(config, { processes }) : await startNode(config);
  } else {
    running = await startCeiling(arg);
  }
  process.on('message', (message) => {
    if (message !== 'stop') return;
    void running.close().then(() => process.exit(0));
  });
  process.send({ url: running.url });
}

await main();
