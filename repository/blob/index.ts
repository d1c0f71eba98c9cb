export * from './blob-store.js';
export { openBlobStore, FILESYSTEM_DIRECTORY, type OpenBlobStoreOptions } from './open.js';
export { openFilesystemBlobStore, type FilesystemBlobStoreOptions } from './filesystem/index.js';
export { openGridFsBlobStore, DEFAULT_BUCKET, type GridFsBlobStoreOptions } from './gridfs/index.js';
