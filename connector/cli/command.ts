/** One sub-command of the `koblingspunkt` program. */
import type { CliIo } from './io.js';

export interface Command {
  readonly name: string;
  /** The usage line(s), printed after a usage error. */
  readonly synopsis: string;
  /** The whole help (--help). */
  readonly help: string;
  /** Runs the command; resolves to the exit code. Throws CliError (or UsageError) for a failure. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}
