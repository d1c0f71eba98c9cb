export { openFilesystemBlobStore, type FilesystemBlobStoreOptions } from './filesystem-blob-store.js';
