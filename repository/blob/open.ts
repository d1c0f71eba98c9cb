/**
 * Opens the blob store the configuration asks for: GridFS when a MongoDB URI is given (documents
 * beside the registry in the same database), otherwise the filesystem store in the node's data
 * directory (the default, no server needed).
 */
import { join } from 'node:path';
import type { BlobStore } from './blob-store.js';
import { openFilesystemBlobStore } from './filesystem/index.js';
import { openGridFsBlobStore } from './gridfs/index.js';

export interface OpenBlobStoreOptions {
  readonly mongoUri?: string;
  /** The node's data directory; the filesystem store lives in its `documents/` subdirectory. */
  readonly dataDir: string;
  /** MongoDB database name; default: the URI's, else `koblingspunkt`. */
  readonly mongoDatabase?: string;
  /** GridFS bucket name; default `documents`. */
  readonly bucketName?: string;
  /** Filesystem store: documents up to this size go to its SQLite table (filesystem-blob-store.ts); default 64 KiB, 0 none. */
  readonly smallDocumentBytes?: number;
}

export const FILESYSTEM_DIRECTORY = 'documents';

export async function openBlobStore(options: OpenBlobStoreOptions): Promise<BlobStore> {
  if (options.mongoUri) {
    return openGridFsBlobStore({
      uri: options.mongoUri,
      ...(options.mongoDatabase !== undefined ? { database: options.mongoDatabase } : {}),
      ...(options.bucketName !== undefined ? { bucketName: options.bucketName } : {}),
    });
  }
  return openFilesystemBlobStore({
    directory: join(options.dataDir, FILESYSTEM_DIRECTORY),
    ...(options.smallDocumentBytes !== undefined ? { smallDocumentBytes: options.smallDocumentBytes } : {}),
  });
}
