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
