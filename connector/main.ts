/**
 * `npm start`: starts a node from a configuration file and the environment.
 *
 *   npm start                         defaults: port 8080, embedded store in ./data
 *   npm start -- --config node.json   a configuration file (see README, "Configuration")
 *   PORT=9090 DATA_DIR=/var/lib/kp npm start
 *
 * The node logs one line per fact once it listens (connector/start-log.ts). A bad configuration,
 * a bad environment value or an unusable data directory stops the start with one message naming
 * the key or variable, and exit code 2; any other failure to start exits with 1. Neither prints a
 * stack trace: the message is for the operator.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, environmentOverrides, loadConfig } from './config.js';
import { startNode } from './node.js';

const USAGE =
  'usage: npm start -- [--config FILE]\n' +
  '(environment: PORT, HOST, DATA_DIR, MONGODB_URI, HOME_COMMUNITY_ID, LOG_LEVEL, KOBLINGSPUNKT_CONFIG)\n';

interface Arguments {
  readonly help: boolean;
  readonly config?: string;
}

/** The command line; an unknown option is a configuration error like any other. */
function readArguments(): Arguments {
  try {
    const { values } = parseArgs({
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
    });
    return { help: values.help ?? false, ...(values.config !== undefined ? { config: values.config } : {}) };
  } catch (e) {
    throw new ConfigError(`${(e as Error).message}\n${USAGE.trimEnd()}`);
  }
}

/** The configuration file: --config wins over KOBLINGSPUNKT_CONFIG; its name says which one gave it. */
function configFile(args: Arguments): { file: string; fileFrom: string } | undefined {
  if (args.config) return { file: resolve(args.config), fileFrom: '--config' };
  const fromEnv = process.env.KOBLINGSPUNKT_CONFIG;
  if (fromEnv) return { file: resolve(fromEnv), fileFrom: 'KOBLINGSPUNKT_CONFIG' };
  return undefined;
}

async function main(): Promise<void> {
  const args = readArguments();
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  const source = configFile(args);
  const config = loadConfig(source ?? {});
  const node = await startNode(config, { configOrigin: { file: source?.file, environment: environmentOverrides() } });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    node.logger.info(`stopping on ${signal}`, { signal });
    node.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  if (e instanceof ConfigError) {
    process.stderr.write(`koblingspunkt: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`koblingspunkt: failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
