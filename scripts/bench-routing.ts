/**
 * npm run bench:routing -- [--requests 40000] [--rounds 3] [--bytes 10000]
 *
 * What express costs a SOAP POST, apart from everything the node does with it (issue 19, fifth
 * session). A server in a child process mounts what the node mounts ahead of its registry endpoint
 * (GET /health, /metrics) and, at /xds/registry, a handler that reads the body and answers 600
 * bytes. 32 keep-alive clients in this process POST `--bytes` to it. Each round starts the server
 * three ways, one after the other, and reports its CPU (user + system, all threads) per request
 * over `--requests` requests after 5,000 warm-up requests:
 *
 *   - express: the app as the listener (its router walk and its prototype swap of Node's request
 *     and response);
 *   - direct: `directRoutes` (connector/http/direct-routes.ts) in front of the same app, as the node
 *     runs since this session;
 *   - direct, prototypes swapped: the same, with express's two `Object.setPrototypeOf` calls
 *     added back in the handler (what the swap alone costs).
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import express from 'express';
import { Pool } from 'undici';
import { directRoutes, type RoutedHandler } from '../connector/http/direct-routes.js';

type Mode = 'express' | 'direct' | 'direct-swapped';
const MODES: readonly Mode[] = ['express', 'direct', 'direct-swapped'];
const PATH = '/xds/registry';

/** The child: serves until killed, answers 'cpu' with its process.cpuUsage(). */
function serve(mode: Mode): void {
  const answer = Buffer.alloc(600, 0x78);
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => void res.json({ status: 'ok' }));
  app.use('/metrics', (_req, res) => void res.end(''));
  const handler: RoutedHandler = (req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      res.writeHead(bytes > 0 ? 200 : 400, { 'Content-Type': 'application/soap+xml', 'Content-Length': answer.length });
      res.end(answer);
    });
  };
  const swapped: RoutedHandler = (req, res, next) => {
    Object.setPrototypeOf(req, app.request);
    Object.setPrototypeOf(res, app.response);
    handler(req, res, next);
  };
  app.use(PATH, handler);
  const listener = mode === 'express' ? app : directRoutes(app, [{ path: PATH, handler: mode === 'direct' ? handler : swapped, takes: 'posts' }], ['/health', '/metrics']);
  const server = createServer(listener);
  server.keepAliveTimeout = 5_000;
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
  process.on('message', (m) => {
    if (m === 'cpu') process.send!({ cpu: process.cpuUsage() });
  });
}

/** Server CPU µs per request of one mode. */
async function measure(mode: Mode, requests: number, bytes: number): Promise<number> {
  const child = fork(new URL(import.meta.url).pathname, ['--serve', mode], { execArgv: ['--import', 'tsx'] });
  try {
    const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve((m as { port: number }).port)));
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 32 });
    const body = Buffer.alloc(bytes, 0x61);
    const load = async (count: number): Promise<void> => {
      let left = count;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (left-- > 0) {
            const r = await pool.request({ path: PATH, method: 'POST', body, headers: { 'content-type': 'application/soap+xml' } });
            if (r.statusCode !== 200) throw new Error(`${mode}: status ${r.statusCode}`);
            await r.body.arrayBuffer();
          }
        }),
      );
    };
    const cpuMs = () =>
      new Promise<number>((resolve) => {
        child.once('message', (m) => {
          const { user, system } = (m as { cpu: NodeJS.CpuUsage }).cpu;
          resolve((user + system) / 1000);
        });
        child.send('cpu');
      });
    await load(5_000);
    const before = await cpuMs();
    await load(requests);
    const after = await cpuMs();
    await pool.close();
    return ((after - before) * 1000) / requests;
  } finally {
    child.kill();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'string' },
      requests: { type: 'string', default: '40000' },
      rounds: { type: 'string', default: '3' },
      bytes: { type: 'string', default: '10000' },
    },
  });
  if (values.serve !== undefined) {
    if (!MODES.includes(values.serve as Mode)) throw new Error(`--serve: one of ${MODES.join(', ')}`);
    serve(values.serve as Mode);
    return;
  }
  const requests = Number(values.requests);
  const bytes = Number(values.bytes);
  for (let round = 1; round <= Number(values.rounds); round++) {
    const figures: string[] = [];
    for (const mode of MODES) figures.push(`${mode} ${(await measure(mode, requests, bytes)).toFixed(1)}`);
    process.stdout.write(`round ${round}: server CPU µs per request: ${figures.join(', ')} (load ${loadavg()[0]!.toFixed(1)})\n`);
  }
}

await main();
