export { DEFAULT_BUCKET, openGridFsBlobStore, type GridFsBlobStoreOptions } from './gridfs-blob-store.js';
