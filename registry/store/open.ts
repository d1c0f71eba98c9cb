/**
 * Opens the registry store the configuration asks for: MongoDB when a URI is given, otherwise
 * the embedded SQLite store in the node's data directory (the default, no server needed).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { leafForm } from '../ebxml/write-objects.js';
import { openEmbeddedStore } from './embedded/index.js';
import { openMongoStore } from './mongo/index.js';
import type { RegistryStore } from './store.js';

export interface OpenRegistryStoreOptions {
  readonly mongoUri?: string;
  /** Directory of the embedded store's file `registry.sqlite` (created if missing). */
  readonly dataDir: string;
  /** MongoDB database name; default: the URI's, else `koblingspunkt`. */
  readonly mongoDatabase?: string;
  /**
   * The embedded store's read cache size in objects (see `EmbeddedStoreOptions.cacheEntries`).
   * The MongoDB store has no such cache (not needed now: the embedded store is the measured
   * default): its reads are round trips to a server that caches on its side, and validating a
   * client-side copy against other writers would need a revision field and its own round trip.
   */
  readonly cacheEntries?: number;
}

export const EMBEDDED_FILE_NAME = 'registry.sqlite';

export async function openRegistryStore(options: OpenRegistryStoreOptions): Promise<RegistryStore> {
  if (options.mongoUri) {
    return openMongoStore({
      uri: options.mongoUri,
      ...(options.mongoDatabase !== undefined ? { database: options.mongoDatabase } : {}),
    });
  }
  mkdirSync(options.dataDir, { recursive: true });
  return openEmbeddedStore({
    path: join(options.dataDir, EMBEDDED_FILE_NAME),
    // Each DocumentEntry's LeafClass element kept with its record: cold answers inflate it.
    formOf: leafForm,
    ...(options.cacheEntries !== undefined ? { cacheEntries: options.cacheEntries } : {}),
  });
}
