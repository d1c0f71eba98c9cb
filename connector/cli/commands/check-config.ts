/**
 * `koblingspunkt check-config [FILE]`: validates a configuration exactly as `start` would (the same
 * parser, connector/config.ts, with the same environment overrides) without starting anything, and
 * prints the effective configuration as JSON with its secrets masked, so that it can be pasted
 * into a support ticket.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, environmentOverrides, loadConfig } from '../../config.js';
import { HELP_OPTION, parsed } from '../args.js';
import type { Command } from '../command.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { outJson, say } from '../io.js';
import { maskConfig } from '../mask.js';

const SYNOPSIS = 'usage: koblingspunkt check-config [FILE | --config FILE]';

const HELP = `${SYNOPSIS}

Validates the node's configuration as \`koblingspunkt start\` would: FILE (or --config, or
KOBLINGSPUNKT_CONFIG; none: the defaults) and the environment overrides (PORT, HOST, DATA_DIR,
MONGODB_URI, HOME_COMMUNITY_ID, LOG_LEVEL). Prints the effective configuration as JSON on stdout,
with secrets masked as ****: API tokens, passphrases, the password in a MongoDB URI. Key and
certificate files are named by path only; their contents are never read.

exit codes: 0 valid; 2 invalid (one line naming the key or variable)`;

export const checkConfig: Command = {
  name: 'check-config',
  synopsis: SYNOPSIS,
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parsed(() =>
      parseArgs({ args: [...args], options: { config: { type: 'string', short: 'c' }, ...HELP_OPTION }, allowPositionals: true }),
    );
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return EXIT.ok;
    }
    if (positionals.length > 1 || (positionals.length === 1 && values.config !== undefined)) throw new UsageError('name one configuration file');
    const named = positionals[0] ?? values.config;
    const fromEnv = io.env.KOBLINGSPUNKT_CONFIG;
    const source =
      named !== undefined
        ? { file: resolve(io.cwd, named), fileFrom: positionals[0] !== undefined ? 'argument' : '--config' }
        : fromEnv
          ? { file: resolve(io.cwd, fromEnv), fileFrom: 'KOBLINGSPUNKT_CONFIG' }
          : undefined;
    let config;
    try {
      config = loadConfig({ ...(source ?? {}), env: io.env });
    } catch (e) {
      if (e instanceof ConfigError) throw new CliError(e.message, EXIT.usage);
      throw e;
    }
    const overrides = environmentOverrides(io.env);
    say(io, `configuration ${source ? source.file : '(none: defaults)'} is valid${overrides.length > 0 ? `; environment overrides: ${overrides.join(', ')}` : ''}`);
    outJson(io, maskConfig(config));
    return EXIT.ok;
  },
};
