/**
 * The effective configuration with its secrets masked, for check-config's output: values of keys
 * that hold a secret (API tokens, key passphrases, anything named password or secret) become ****,
 * and a MongoDB URI keeps everything but its password (config.ts maskSecrets, the same masking as
 * the start log's). Paths of key files are shown: they are not secrets, and their contents are
 * never read by check-config.
 */
import { maskSecrets, type NodeConfig } from '../config.js';

const SECRET_KEY = /token|passphrase|password|secret/i;
export const MASK = '****';

export function maskConfig(config: NodeConfig): unknown {
  return mask(config, '');
}

function mask(value: unknown, key: string): unknown {
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key)) return MASK;
    if (key === 'mongoUri') return maskSecrets(value);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => mask(v, key));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v, k)]));
  }
  return value;
}
