/**
 * Where a command writes: standard output for results (what a script reads), standard error for
 * messages and progress. Injected, so that tests can run a command in process and read both.
 */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean };
  /** The environment the command reads (KOBLINGSPUNKT_URL, KOBLINGSPUNKT_CONFIG, DATA_DIR, …). */
  readonly env: NodeJS.ProcessEnv;
  /** Relative paths on the command line are resolved against this directory. */
  readonly cwd: string;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** Writes one line to standard output. */
export function out(io: CliIo, line = ''): void {
  io.stdout.write(`${line}\n`);
}

/** Writes one line to standard error. */
export function say(io: CliIo, line: string): void {
  io.stderr.write(`${line}\n`);
}

/** Writes a value as indented JSON to standard output (the --json form of every command). */
export function outJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
