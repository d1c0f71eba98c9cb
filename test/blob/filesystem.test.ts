import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFilesystemBlobStore } from '../../repository/blob/filesystem/index.js';
import { describeBlobStoreContract } from './contract.js';

const base = mkdtempSync(join(tmpdir(), 'kp-blob-contract-'));
let counter = 0;
let current = '';

describeBlobStoreContract('filesystem', {
  open: async () => {
    current = join(base, String(++counter));
    return openFilesystemBlobStore({ directory: current });
  },
  reopen: async () => openFilesystemBlobStore({ directory: current }),
  cleanup: async () => rmSync(base, { recursive: true, force: true }),
});

// The same contract with the small-document tier off: every document a file, as before it existed.
const filesOnly = mkdtempSync(join(tmpdir(), 'kp-blob-contract-files-'));
let filesOnlyCounter = 0;
let filesOnlyCurrent = '';

describeBlobStoreContract('filesystem, every document a file (smallDocumentBytes 0)', {
  open: async () => {
    filesOnlyCurrent = join(filesOnly, String(++filesOnlyCounter));
    return openFilesystemBlobStore({ directory: filesOnlyCurrent, smallDocumentBytes: 0 });
  },
  reopen: async () => openFilesystemBlobStore({ directory: filesOnlyCurrent, smallDocumentBytes: 0 }),
  cleanup: async () => rmSync(filesOnly, { recursive: true, force: true }),
});
