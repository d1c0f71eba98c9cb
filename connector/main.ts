/**
 * `npm start`: starts a node from a configuration file and the environment.
 *
 *   npm start                         defaults: port 8080, embedded store in ./data
 *   npm start -- --config node.json   a configuration file (see README, "Configuration")
 *   PORT=9090 DATA_DIR=/var/lib/kp npm start
 *
 * A bad configuration stops the start with a message naming the key, and exit code 2.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { startNode } from './node.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write('usage: npm start -- [--config FILE]\n(environment: PORT, HOST, DATA_DIR, MONGODB_URI, HOME_COMMUNITY_ID, LOG_LEVEL, KOBLINGSPUNKT_CONFIG)\n');
    return;
  }
  const file = values.config ?? process.env.KOBLINGSPUNKT_CONFIG;
  const config = loadConfig(file ? { file } : {});
  const node = await startNode(config);
  node.logger.info(`koblingspunkt listening on ${node.url}`, {
    registry: `${node.url}${config.endpoints.registry}`,
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    node.logger.info('stopping', { signal });
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
