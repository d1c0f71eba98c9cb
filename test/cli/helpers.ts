/**
 * Running the `koblingspunkt` command in the tests: in process (runCli with captured streams, fast)
 * or as the real program in a child process (node with tsx over the sources, so that no stale
 * dist/ is tested), both giving the exit code and what went to stdout and stderr.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '../../connector/cli/run.js';
import { REPO_ROOT, fixture } from '../../fixtures/index.js';

/** The example PDF of the tests (Norsk helsenett's sample document). */
export const SAMPLE_PDF = fixture('conformance', 'nhn-samples', 'dokument1.pdf');

export const CLI_MAIN = join(REPO_ROOT, 'connector', 'cli', 'main.ts');

/** tsx's loader, resolved here, so that a child runs the sources from any working directory. */
export const TSX = import.meta.resolve('tsx');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Runs the CLI in this process; `env` is the whole environment it sees; `tty`: stderr claims to be a terminal. */
export async function cli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; tty?: boolean } = {}): Promise<CliResult> {
  const stdout = collector();
  const stderr = collector();
  if (options.tty) Object.assign(stderr.stream, { isTTY: true, columns: 100 });
  const code = await runCli(args, { stdout: stdout.stream, stderr: stderr.stream, env: options.env ?? {}, cwd: options.cwd ?? REPO_ROOT });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** Runs the real program in a child process, with only PATH and `env` in its environment. */
export function cliProcess(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', TSX, CLI_MAIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** No stack trace: no line of the form "    at fn (file:line:col)". */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+[:(]\d+/m.test(text);
}
