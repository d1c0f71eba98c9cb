/**
 * A multi-process node for the tests: `koblingspunkt start` (what `npm start` runs) as a child
 * process with `KOBLINGSPUNKT_PROCESSES`, a temporary data directory and port 0, read from its start
 * log; and clients pinned to one worker each.
 *
 * node:cluster hands each new connection to a worker in turn, so a client that wants a given
 * worker keeps one connection open (an undici Agent with one connection) and asks `/health` on it,
 * which a worker answers with its index.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Agent, fetch } from 'undici';
import { CLI_MAIN, TSX } from '../cli/helpers.js';
import { NIST_PATIENT_AUTHORITY } from '../helpers/node.js';
import { envelope, parseSoapAnswer, soapContentType, type SoapResult } from '../helpers/soap.js';

export const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1';

export interface LogLine {
  readonly message: string;
  readonly level: string;
  readonly [key: string]: unknown;
}

export interface ClusterNode {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly primaryPid: number;
  readonly child: ChildProcess;
  /** Every log line so far (JSON lines of stdout). */
  readonly lines: LogLine[];
  /** Resolves with the first line (already logged or to come) that `match` accepts. */
  waitForLine(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** Removes the data directory (after a `stop` that kept it). */
  removeDataDir(): void;
}

export async function startClusterNode(options: { processes?: number; config?: Record<string, unknown>; dataDir?: string; keepDataDir?: boolean } = {}): Promise<ClusterNode> {
  const work = mkdtempSync(join(tmpdir(), 'kp-cluster-'));
  const dataDir = options.dataDir ?? join(work, 'data');
  const configFile = join(work, 'node.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      host: '127.0.0.1',
      homeCommunityId: HOME,
      registry: { patientIds: { acceptedAssigningAuthorities: [NIST_PATIENT_AUTHORITY], acceptSyntheticNorwegianIds: true } },
      ...options.config,
    }),
  );
  const child = spawn(process.execPath, ['--import', TSX, CLI_MAIN, 'start', '--config', configFile], {
    cwd: work,
    env: { PATH: process.env.PATH ?? '', PORT: '0', DATA_DIR: dataDir, KOBLINGSPUNKT_PROCESSES: String(options.processes ?? 2) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const watchers: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    lines.push(line);
    for (const w of [...watchers]) {
      if (w.match(line)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitForLine = (match: (l: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> => {
    const seen = lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no such log line within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
      watchers.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void exited.then((code) => reject(new Error(`the node exited with ${code}; stderr: ${stderr}`)));
    });
  };
  const removeDataDir = (): void => {
    rmSync(work, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  };
  const started = await waitForLine((l) => l.message.startsWith('processes: '), 120_000);
  const port = started['port'] as number;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    primaryPid: started['primaryPid'] as number,
    child,
    lines,
    waitForLine,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      if (!options.keepDataDir) removeDataDir();
      return code;
    },
    removeDataDir,
  };
}

/** A client whose one connection a given worker serves. */
export interface WorkerClient {
  readonly worker: number;
  readonly agent: Agent;
  post(path: string, action: string, body: string): Promise<SoapResult>;
  get(path: string): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

function client(url: string, agent: Agent, worker: number): WorkerClient {
  return {
    worker,
    agent,
    async post(path, action, body) {
      const res = await fetch(`${url}${path}`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': soapContentType(action) },
        body: envelope({ action, to: `${url}${path}`, body }),
      });
      return parseSoapAnswer(res.status, res.headers.get('content-type') ?? '', Buffer.from(await res.arrayBuffer()));
    },
    async get(path) {
      const res = await fetch(`${url}${path}`, { dispatcher: agent });
      return { status: res.status, text: await res.text() };
    },
    close: () => agent.close(),
  };
}

/** One client per worker index (1 … n): new connections until every worker has one. */
export async function workerClients(url: string, n: number): Promise<Map<number, WorkerClient>> {
  const found = new Map<number, WorkerClient>();
  for (let attempt = 0; attempt < 50 && found.size < n; attempt++) {
    const agent = new Agent({ connections: 1, pipelining: 1, keepAliveTimeout: 60_000 });
    const res = await fetch(`${url}/health`, { dispatcher: agent });
    const body = (await res.json()) as { status: string; worker?: number };
    if (res.status === 200 && body.worker !== undefined && !found.has(body.worker)) found.set(body.worker, client(url, agent, body.worker));
    else await agent.close();
  }
  if (found.size < n) throw new Error(`only workers ${[...found.keys()].join(', ')} answered`);
  return found;
}

