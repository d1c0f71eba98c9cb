/**
 * `npm start` as an operator runs it: the compiled node (dist/, built by `npm run build`, which
 * `npm test` runs first) in a child process with npm start's flags, a clean environment and a
 * temporary data directory. What its start log says is checked against what it really does (the
 * bound port, reached over HTTP), and a bad environment value or an unusable data directory must
 * stop it with exit code 2 and a message naming the cause, without a stack trace.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../../fixtures/index.js';

const MAIN = join(REPO_ROOT, 'dist', 'connector', 'main.js');
/** Starting a node on a machine shared with other test runs can take seconds. */
const START_MS = 60_000;

interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

interface Child {
  readonly process: ChildProcess;
  readonly lines: LogLine[];
  stderr(): string;
  /** The first line (already logged or yet to come) that matches. */
  waitFor(match: (line: LogLine) => boolean): Promise<LogLine>;
  readonly exited: Promise<number | null>;
}

/**
 * Runs the compiled node with only PATH and `env` in its environment: a MONGODB_URI or PORT of
 * the test run's own must not reach it. Its working directory is `cwd`, so that nothing it might
 * write by default lands in the repository.
 */
function runNode(env: Record<string, string>, cwd: string): Child {
  const child = spawn(process.execPath, ['--max-semi-space-size=64', MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as LogLine;
    lines.push(line);
    for (const w of waiters.filter((w) => w.match(line))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(line);
    }
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    process: child,
    lines,
    stderr: () => stderr,
    exited,
    waitFor(match) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      const line = new Promise<LogLine>((resolve) => waiters.push({ match, resolve }));
      const died = exited.then((code): LogLine => {
        throw new Error(`the node exited (${code}) before logging the awaited line; stderr: ${stderr}`);
      });
      return Promise.race([line, died]);
    },
  };
}

/** Runs the node to its end (a start that must fail); its exit code, stdout lines and stderr. */
async function runToExit(env: Record<string, string>, cwd: string): Promise<{ code: number | null; lines: LogLine[]; stderr: string }> {
  const child = runNode(env, cwd);
  const code = await child.exited;
  return { code, lines: child.lines, stderr: child.stderr() };
}

describe('npm start (the compiled node)', function () {
  this.timeout(START_MS);
  let work: string;

  before(function () {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first (npm test does)`);
    work = mkdtempSync(join(tmpdir(), 'kp-start-'));
  });

  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  describe('a start on the defaults, PORT=0', () => {
    let node: Child;
    let dataDir: string;
    let port: number;
    let messages: string[];

    before(async () => {
      dataDir = join(work, 'data');
      node = runNode({ PORT: '0', DATA_DIR: dataDir }, work);
      // The demo-repository warning is the start log's last line.
      await node.waitFor((l) => l.message.startsWith('repositoryUniqueId is the quick-start demo default'));
      messages = node.lines.map((l) => l.message);
      const listening = node.lines.find((l) => l.message.startsWith('listening on '));
      port = Number(listening?.port);
    });

    after(async () => {
      if (node.process.exitCode === null) node.process.kill('SIGTERM');
      expect(await node.exited, 'exit code after SIGTERM').to.equal(0);
      expect(node.lines.some((l) => l.message.startsWith('stopping on SIGTERM: requests in flight get up to'))).to.equal(true);
    });

    it('prints the port really bound and the addresses behind 0.0.0.0', () => {
      expect(port).to.be.greaterThan(0);
      const listening = messages.find((m) => m.startsWith('listening on '));
      expect(listening).to.match(new RegExp(`^listening on http://0\\.0\\.0\\.0:${port} \\(all IPv4 interfaces\\): http://127\\.0\\.0\\.1:${port}`));
    });

    it('says where its configuration came from', () => {
      expect(messages).to.include('configuration file: none: defaults and environment');
      expect(messages).to.include('environment overrides: PORT, DATA_DIR');
    });

    it('names its identities and warns that both are the demo defaults, with the key to set', () => {
      expect(messages.some((m) => /^homeCommunityId: urn:oid:2\.25\.\d+ \(demo default\)$/.test(m))).to.equal(true);
      expect(messages.some((m) => /^repositoryUniqueId: 2\.25\.\d+ \(demo default\)$/.test(m))).to.equal(true);
      const warnings = node.lines.filter((l) => l.level === 'warn').map((l) => l.message);
      expect(warnings.some((w) => w.includes('set homeCommunityId') && w.includes('HOME_COMMUNITY_ID'))).to.equal(true);
      expect(warnings.some((w) => w.includes('set repository.repositoryUniqueId'))).to.equal(true);
    });

    it('names the store and its data directory, and the endpoints with their roles', () => {
      expect(messages).to.include(`store: embedded (SQLite and files) in ${dataDir}`);
      for (const [path, role] of [
        ['/health', 'readiness'],
        ['/xds/registry', 'Document Registry'],
        ['/xds/repository', 'Document Repository'],
        ['/xca/responding', 'XCA Responding Gateway'],
        ['/xca/initiating', 'XCA Initiating Gateway'],
      ] as const) {
        expect(messages.some((m) => m.startsWith(`endpoint ${path}: ${role}`)), path).to.equal(true);
      }
    });

    it('says that TLS and the trust model are off, and keeps both loud warnings', () => {
      expect(messages).to.include('TLS: off (plain HTTP)');
      expect(messages.some((m) => m.startsWith('trust model: off'))).to.equal(true);
      const warnings = node.lines.filter((l) => l.level === 'warn').map((l) => l.message);
      expect(warnings.some((w) => w.startsWith('TRUST MODEL DISABLED'))).to.equal(true);
      expect(warnings.some((w) => w.includes('PLAIN HTTP'))).to.equal(true);
    });

    it('answers /health and ?wsdl on the port it printed', async () => {
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).to.equal(200);
      expect(await health.json()).to.deep.equal({ status: 'ok' });
      const wsdl = await fetch(`http://127.0.0.1:${port}/xds/registry?wsdl`);
      expect(wsdl.status).to.equal(200);
      const text = await wsdl.text();
      expect(text).to.contain('definitions');
      expect(text).to.contain(`http://127.0.0.1:${port}/xds/registry`);
    });
  });

  describe('a start that must fail', () => {
    /** A working directory of its own, so that what a failed start left behind can be seen. */
    const fresh = (name: string): string => mkdtempSync(join(work, `${name}-`));

    it('refuses PORT=abc naming PORT, with exit code 2, no stack trace and nothing created', async () => {
      const cwd = fresh('port');
      const { code, lines, stderr } = await runToExit({ PORT: 'abc', DATA_DIR: join(cwd, 'data') }, cwd);
      expect(code).to.equal(2);
      expect(stderr).to.equal('koblingspunkt: invalid configuration: PORT (overrides port): expected an integer 0–65535, got "abc"\n');
      expect(lines).to.deep.equal([]);
      expect(readdirSync(cwd)).to.deep.equal([]);
    });

    it('refuses a data directory below a regular file (fails for root too), naming the path and the cause', async () => {
      const cwd = fresh('below-file');
      const file = join(cwd, 'a-file');
      writeFileSync(file, 'not a directory\n');
      const dataDir = join(file, 'data');
      const { code, stderr } = await runToExit({ PORT: '0', DATA_DIR: dataDir }, cwd);
      expect(code).to.equal(2);
      expect(stderr).to.equal(
        `koblingspunkt: data directory ${dataDir} cannot be created: ENOTDIR: not a directory, mkdir '${dataDir}' (set dataDir or DATA_DIR)\n`,
      );
      expect(readdirSync(cwd)).to.deep.equal(['a-file']);
    });

    it('refuses a data directory that is a file', async () => {
      const cwd = fresh('is-file');
      const file = join(cwd, 'data');
      writeFileSync(file, 'not a directory\n');
      const { code, stderr } = await runToExit({ PORT: '0', DATA_DIR: file }, cwd);
      expect(code).to.equal(2);
      expect(stderr).to.equal(`koblingspunkt: data directory ${file} is a file, not a directory (set dataDir or DATA_DIR)\n`);
    });
  });
});
