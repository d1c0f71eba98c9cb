export * from './blob-store';
export { openBlobStore, FILESYSTEM_DIRECTORY, type OpenBlobStoreOptions } from './open';
export { openFilesystemBlobStore, type FilesystemBlobStoreOptions } from './filesystem';
export { openGridFsBlobStore, DEFAULT_BUCKET, type GridFsBlobStoreOptions } from './gridfs';
