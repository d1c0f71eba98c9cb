/**
 * The files a node keeps in its data directory (README "Storage"), named by the modules that own
 * them where they export the name:
 *
 *   registry.sqlite         the registry (registry/store/open.ts), with its commit outbox
 *   audit.sqlite            the audit trail (connector/audit/store.ts)
 *   audit-queue.sqlite      audit events not yet delivered to every sink (connector/audit/auditor.ts)
 *   audit-intents.sqlite    audit events of submissions to a remote registry, not yet settled
 *   patient-blocks.sqlite   patient blocks (connector/node.ts; trust.patientBlocksFile may move it)
 *   documents/blobs/        committed documents (repository/blob/filesystem), never changed or removed
 *   documents/staging/      documents received but not yet committed
 *   documents/small-blobs.sqlite  documents up to repository.smallDocumentBytes, staged and committed
 *                           (repository/blob/filesystem/small-blobs.ts)
 *
 * `backup` copies every `*.sqlite` file it finds in the data directory, not only these, so that a
 * store added later is not silently left out. Each runs in WAL mode, so a `-wal` and `-shm` file
 * may sit beside it: they are never copied (the online backup reads through SQLite, WAL included).
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { QUEUE_FILE } from '../audit/auditor.js';
import { ConfigError, loadConfig, type NodeConfig } from '../config.js';
import { CliError, EXIT } from './errors.js';
import type { CliIo } from './io.js';
import { EMBEDDED_AUDIT_FILE } from '../audit/store.js';
import { EMBEDDED_FILE_NAME } from '../../registry/store/open.js';
import { FILESYSTEM_DIRECTORY } from '../../repository/blob/open.js';
import { BLOBS_DIR, STAGED_SUFFIX, STAGING_DIR } from '../../repository/blob/filesystem/paths.js';
import { SMALL_BLOBS_FILE } from '../../repository/blob/filesystem/small-blobs.js';

/**
 * The node's configuration and data directory for a command that works on its files: `--data-dir`
 * if given, else the configuration's (`--config`, KOBLINGSPUNKT_CONFIG, DATA_DIR, else ./data).
 */
export function nodeDataDir(io: CliIo, dataDirOption: string | undefined, configOption: string | undefined): { config: NodeConfig; dataDir: string } {
  const configFile = configOption ?? io.env.KOBLINGSPUNKT_CONFIG;
  let config: NodeConfig;
  try {
    config = loadConfig({ ...(configFile !== undefined ? { file: resolve(io.cwd, configFile) } : {}), env: io.env });
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message, EXIT.usage);
    throw e;
  }
  return { config, dataDir: resolve(io.cwd, dataDirOption ?? config.dataDir) };
}

/** The default name of the patient-block store in the data directory (connector/node.ts). */
export const PATIENT_BLOCKS_FILE = 'patient-blocks.sqlite';

export const REGISTRY_FILE = EMBEDDED_FILE_NAME;

const KNOWN: Readonly<Record<string, string>> = {
  [EMBEDDED_FILE_NAME]: 'registry',
  [EMBEDDED_AUDIT_FILE]: 'audit trail',
  [QUEUE_FILE]: 'audit delivery queue',
  'audit-intents.sqlite': 'audit intents',
  [PATIENT_BLOCKS_FILE]: 'patient blocks',
};

export interface StoreDatabase {
  /** Its name in the data directory, and in a backup. */
  readonly name: string;
  /** Where it is. */
  readonly path: string;
  readonly what: string;
}

/**
 * The SQLite files of a data directory, registry first, then by name; and the patient-block file
 * when the configuration puts it elsewhere (it is copied under its default name).
 */
export function storeDatabases(dataDir: string, patientBlocksFile?: string): StoreDatabase[] {
  const found: StoreDatabase[] = readdirSync(dataDir)
    .filter((name) => name.endsWith('.sqlite') && statSync(join(dataDir, name)).isFile())
    .map((name) => ({ name, path: join(dataDir, name), what: KNOWN[name] ?? 'SQLite database' }));
  if (patientBlocksFile !== undefined && resolve(patientBlocksFile) !== resolve(dataDir, PATIENT_BLOCKS_FILE)) {
    const elsewhere = found.findIndex((d) => d.name === PATIENT_BLOCKS_FILE);
    // The configured file is the one in use; a file of that name in the data directory is not.
    if (elsewhere !== -1) found.splice(elsewhere, 1);
    try {
      if (statSync(patientBlocksFile).isFile()) found.push({ name: PATIENT_BLOCKS_FILE, path: patientBlocksFile, what: KNOWN[PATIENT_BLOCKS_FILE]! });
    } catch {
      // Not created yet: no blocks to copy.
    }
  }
  const rank = (d: StoreDatabase): number => (d.name === EMBEDDED_FILE_NAME ? 0 : 1);
  return found.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

export const DOCUMENTS = {
  /** The blob store's directory in the data directory. */
  dir: FILESYSTEM_DIRECTORY,
  blobs: BLOBS_DIR,
  staging: STAGING_DIR,
  /** The small documents' table (staged and committed rows), a SQLite file in the blob directory. */
  smallBlobs: SMALL_BLOBS_FILE,
  /** A staged document that is complete (fsynced); anything else in staging is still being written. */
  stagedSuffix: STAGED_SUFFIX,
} as const;
