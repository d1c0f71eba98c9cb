/**
 * `koblingspunkt start` (and `npm start`, `npm run dev`, `node dist/connector/main.js`): starts a
 * node from a configuration file and the environment.
 *
 *   koblingspunkt start                        defaults: port 8080, embedded store in ./data
 *   koblingspunkt start --config node.json     a configuration file (see README, "Configuration")
 *   PORT=9090 DATA_DIR=/var/lib/kp koblingspunkt start
 *
 * The node logs one line per fact once it listens (connector/start-log.ts). A bad configuration,
 * a bad environment value or an unusable data directory stops the start with one message naming
 * the key or variable, and exit code 2; any other failure to start exits with 1. Neither prints a
 * stack trace: the message is for the operator. The messages are prefixed `koblingspunkt:`
 * whichever way the node was started, so that what an operator searches for is the same.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, environmentOverrides, loadConfig } from '../../config.js';
import { startNode } from '../../node.js';
import { startCluster } from '../../cluster/primary.js';
import { processCount } from '../../cluster/protocol.js';
import type { Command } from '../command.js';
import { EXIT } from '../errors.js';
import type { CliIo } from '../io.js';

const SYNOPSIS = 'usage: koblingspunkt start [--config FILE]   (npm start -- [--config FILE])';

const USAGE =
  `${SYNOPSIS}\n` +
  '(environment: PORT, HOST, DATA_DIR, MONGODB_URI, HOME_COMMUNITY_ID, LOG_LEVEL, KOBLINGSPUNKT_PROCESSES, KOBLINGSPUNKT_CONFIG)\n';

interface Arguments {
  readonly help: boolean;
  readonly config?: string;
}

/** The command line; an unknown option is a configuration error like any other. */
function readArguments(args: readonly string[]): Arguments {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
    });
    return { help: values.help ?? false, ...(values.config !== undefined ? { config: values.config } : {}) };
  } catch (e) {
    throw new ConfigError(`${(e as Error).message}\n${USAGE.trimEnd()}`);
  }
}

/** The configuration file: --config wins over KOBLINGSPUNKT_CONFIG; its name says which one gave it. */
function configFile(args: Arguments, io: CliIo): { file: string; fileFrom: string } | undefined {
  if (args.config) return { file: resolve(io.cwd, args.config), fileFrom: '--config' };
  const fromEnv = io.env.KOBLINGSPUNKT_CONFIG;
  if (fromEnv) return { file: resolve(io.cwd, fromEnv), fileFrom: 'KOBLINGSPUNKT_CONFIG' };
  return undefined;
}

/**
 * How long a stop waits for the requests in flight (a submission's client must learn whether it
 * was stored); under the systemd unit's TimeoutStopSec (30 s) so that systemd never has to kill.
 */
const DRAIN_MS = 20_000;

/**
 * Starts the node and serves until SIGINT or SIGTERM; resolves to the exit code once it has
 * stopped (0, or 1 when closing failed), or at once when it could not start (2 or 1, after one
 * line on stderr) or only printed its usage (0).
 */
export async function runStart(args: readonly string[], io: CliIo): Promise<number> {
  // A single-process node, or the primary of a multi-process one (`processes`, connector/cluster).
  let node: { readonly logger: Awaited<ReturnType<typeof startNode>>['logger']; close(options?: { readonly drainMs?: number }): Promise<void> };
  try {
    const parsed = readArguments(args);
    if (parsed.help) {
      io.stdout.write(USAGE);
      return EXIT.ok;
    }
    const source = configFile(parsed, io);
    const config = loadConfig({ ...(source ?? {}), env: io.env });
    const configOrigin = { file: source?.file, environment: environmentOverrides(io.env) };
    const processes = processCount(config);
    node = processes > 1 ? await startCluster(config, { processes, configOrigin }) : await startNode(config, { configOrigin });
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr.write(`koblingspunkt: ${e.message}\n`);
      return EXIT.usage;
    }
    io.stderr.write(`koblingspunkt: failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.failed;
  }
  const running = node;
  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // A second signal: the operator does not want to wait for the drain.
        running.logger.warn(`${signal} again: stopping now, requests still in flight are cut`, { signal });
        process.exit(EXIT.failed);
      }
      stopping = true;
      running.logger.info(`stopping on ${signal}: requests in flight get up to ${DRAIN_MS / 1000} s to finish`, { signal });
      running.close({ drainMs: DRAIN_MS }).then(
        () => resolveExit(EXIT.ok),
        () => resolveExit(EXIT.failed),
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

export const start: Command = {
  name: 'start',
  synopsis: SYNOPSIS,
  help: USAGE.trimEnd(),
  // Its own messages and exit codes (those of `npm start`), so it never throws.
  run: (args, io) => runStart(args, io),
};
