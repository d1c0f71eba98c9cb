/**
 * The measured process, started by bench.ts as a child so that its RSS and CPU profile are its
 * own: either a koblingspunkt node over a data directory, or the ceiling, a bare express app
 * that reads the request body and answers with the exact bytes the node answered.
 *
 *   tsx scripts/bench/server.ts node DATA_DIR [LOG_LEVEL]
 *   tsx scripts/bench/server.ts ceiling RESPONSES.json
 *
 * Reports `{ url }` over the IPC channel once listening and stops on the message 'stop'.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { parseConfig } from '../../connector/config';
import { startNode } from '../../connector/node';
import { BENCH_KEY_HEADER, CEILING_PATH, type CannedResponses } from './canned';


async function startCeiling(file: string): Promise<{ url: string; close: () => Promise<void> }> {
  const canned = JSON.parse(readFileSync(file, 'utf8')) as CannedResponses;
  const answers = new Map(Object.entries(canned).map(([k, v]) => [k, { contentType: v.contentType, bytes: Buffer.from(v.base64, 'base64') }]));
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.post(CEILING_PATH, express.raw({ type: '*/*', limit: '100mb' }), (req, res) => {
    const answer = answers.get(String(req.headers[BENCH_KEY_HEADER] ?? ''));
    if (answer === undefined) {
      res.status(404).end();
      return;
    }
    res.status(200).type(answer.contentType).send(answer.bytes);
  });
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
      }),
  };
}

async function main(): Promise<void> {
  const [mode, arg, logLevel] = process.argv.slice(2);
  if (process.send === undefined || arg === undefined || (mode !== 'node' && mode !== 'ceiling')) {
    process.stderr.write('usage (as a child of bench.ts): server.ts node DATA_DIR [LOG_LEVEL] | ceiling RESPONSES.json\n');
    process.exit(2);
  }
  let running: { url: string; close: () => Promise<void> };
  if (mode === 'node') {
    running = await startNode(
      parseConfig({
        port: 0,
        host: '127.0.0.1',
        dataDir: arg,
        homeCommunityId: 'urn:oid:2.16.578.1.12.4.5.100.1',
        logLevel: logLevel ?? 'info',
      }),
    );
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
