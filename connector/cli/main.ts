#!/usr/bin/env node
/**
 * The `koblingspunkt` command (package.json `bin`; `npx koblingspunkt …` in a clone, `npm start`
 * runs `koblingspunkt start`). See run.ts for the commands, README "Command-line client".
 *
 * The exit code is set rather than forced, so that what was written to a pipe is flushed first; a
 * handle that would keep the process alive past the end of the command is cut after a grace
 * period. `start` resolves only once the node has stopped (or failed to start), and then exits at
 * once, as `npm start` always has: a failed start may leave a store's worker thread behind.
 */
import { processIo } from './io.js';
import { runCli } from './run.js';

const GRACE_MS = 2_000;

runCli(process.argv.slice(2), processIo()).then(
  (code) => {
    if (process.argv[2] === 'start') process.exit(code);
    process.exitCode = code;
    setTimeout(() => process.exit(code), GRACE_MS).unref();
  },
  (e: unknown) => {
    process.stderr.write(`koblingspunkt: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
