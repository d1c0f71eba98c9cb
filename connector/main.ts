/**
 * `npm run dev` and `node dist/connector/main.js`: starts a node, exactly as `koblingspunkt start`
 * does (connector/cli/commands/start.ts holds the logic; `npm start` runs it through the CLI).
 *
 *   npm run dev -- --config node.json
 *   PORT=9090 DATA_DIR=/var/lib/kp node dist/connector/main.js
 *
 * A bad configuration, a bad environment value or an unusable data directory stops the start with
 * one message and exit code 2; any other failure to start exits with 1; no stack trace.
 */
import { runStart } from './cli/commands/start.js';
import { processIo } from './cli/io.js';

runStart(process.argv.slice(2), processIo()).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`koblingspunkt: failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
