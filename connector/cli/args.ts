/**
 * Argument parsing shared by every command: node's util.parseArgs, with its errors turned into
 * usage errors (exit 2), and the options every client command takes.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ClientTlsOptions } from '../soap/client.js';
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { readAssertion } from './security.js';

/** Runs a parseArgs call; a bad command line becomes a UsageError with parseArgs' own message. */
export function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    // parseArgs appends advice about '--' to unknown options; the usage that follows says more.
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/** Options of every command that works on a node's files (see store-files.ts `nodeDataDir`). */
export const DATA_DIR_OPTIONS = { 'data-dir': { type: 'string' }, config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, ...HELP_OPTION } as const;

/** Options of every command that talks to a node. */
export const CLIENT_OPTIONS = {
  url: { type: 'string' },
  assertion: { type: 'string' },
  timeout: { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  ...HELP_OPTION,
} as const;

export const DEFAULT_URL = 'http://127.0.0.1:8080';
const DEFAULT_TIMEOUT_SECONDS = 120;

export const CLIENT_HELP = `node options:
  --url URL              the node (default ${DEFAULT_URL}, or KOBLINGSPUNKT_URL)
  --assertion FILE       a signed SAML 2.0 assertion (XUA), sent in wsse:Security: for a node with
                         trust.enabled (e.g. made with npx tsx scripts/sign-assertion.ts)
  --timeout SECONDS      deadline of each request (default ${DEFAULT_TIMEOUT_SECONDS})
  --ca FILE              PEM: the CA of the node's TLS certificate (https)
  --cert FILE --key FILE PEM: a client certificate and its key (mutual TLS)
  --json                 machine-readable output on stdout
  -h, --help             this help`;

export interface ClientValues {
  readonly url?: string | undefined;
  readonly assertion?: string | undefined;
  readonly timeout?: string | undefined;
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
}

/** Where and how to reach the node. */
export interface NodeTarget {
  /** The node's base URL, without a trailing slash. */
  readonly url: string;
  readonly timeoutMs: number;
  /** The SAML assertion, as standalone XML text, when one is to be sent. */
  readonly assertion?: string;
  readonly tls?: ClientTlsOptions;
}

export function nodeTarget(values: ClientValues, io: CliIo): NodeTarget {
  const raw = values.url ?? io.env.KOBLINGSPUNKT_URL ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url ${raw} is not a URL such as ${DEFAULT_URL}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url ${raw}: expected http:// or https://`);
  const seconds = values.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(values.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout ${values.timeout}: expected a number of seconds`);
  if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError('--cert and --key must be given together');
  const pem = (file: string, option: string): string => readText(io, file, option);
  const tls: ClientTlsOptions | undefined =
    values.ca !== undefined || values.cert !== undefined
      ? {
          ...(values.ca !== undefined ? { ca: pem(values.ca, '--ca') } : {}),
          ...(values.cert !== undefined ? { cert: pem(values.cert, '--cert'), key: pem(values.key!, '--key') } : {}),
        }
      : undefined;
  return {
    url: url.href.replace(/\/+$/, ''),
    timeoutMs: Math.round(seconds * 1000),
    ...(values.assertion !== undefined ? { assertion: readAssertion(readText(io, values.assertion, '--assertion'), values.assertion) } : {}),
    ...(tls ? { tls } : {}),
  };
}

/** A file named on the command line, as text; a file that cannot be read is a usage error. */
export function readText(io: CliIo, file: string, option: string): string {
  try {
    return readFileSync(resolve(io.cwd, file), 'utf8');
  } catch (e) {
    throw new UsageError(`${option} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
