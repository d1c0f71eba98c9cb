import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore } from '../../registry/store/embedded/index.js';
import { describeRegistryStoreContract } from './contract.js';

let dir: string | undefined;
let file = '';

describeRegistryStoreContract(
  'embedded (better-sqlite3 + mingo, temp file)',
  async () => {
    dir = mkdtempSync(join(tmpdir(), 'koblingspunkt-store-'));
    file = join(dir, 'registry.sqlite');
    return openEmbeddedStore({ path: file });
  },
  async () => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  },
  { reopen: async () => openEmbeddedStore({ path: file }) },
);
