/**
 * The data directory check that runs before any store opens: a missing directory is created, an
 * unusable one is refused with its path and the cause, and the write probe leaves nothing behind.
 */
import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ConfigError } from '../../connector/config.js';
import { ensureWritableDataDir } from '../../connector/data-dir.js';

describe('ensureWritableDataDir', () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'kp-data-dir-'));
  });
  afterEach(() => {
    chmodSync(work, 0o700);
    rmSync(work, { recursive: true, force: true });
  });

  it('creates a missing directory, nested, and returns its absolute path with no probe left in it', () => {
    const dir = join(work, 'a', 'b');
    expect(ensureWritableDataDir(relative(process.cwd(), dir))).to.equal(dir);
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it('refuses a path below a regular file, naming the path and the cause', () => {
    writeFileSync(join(work, 'file'), '');
    const dir = join(work, 'file', 'sub');
    expect(() => ensureWritableDataDir(dir)).to.throw(ConfigError, `data directory ${dir} cannot be created: ENOTDIR`);
  });

  it('refuses a file, and a symbolic link to one', () => {
    const file = join(work, 'file');
    writeFileSync(file, '');
    expect(() => ensureWritableDataDir(file)).to.throw(ConfigError, `data directory ${file} is a file, not a directory`);
    const link = join(work, 'link');
    symlinkSync(file, link);
    expect(() => ensureWritableDataDir(link)).to.throw(ConfigError, `data directory ${link} is a file, not a directory`);
  });

  it('refuses a directory it may not write to (as a user other than root, whom permissions do not stop)', function () {
    if (process.getuid?.() === 0) this.skip();
    const dir = join(work, 'read-only');
    mkdirSync(dir);
    chmodSync(dir, 0o500);
    try {
      expect(() => ensureWritableDataDir(dir)).to.throw(ConfigError, `data directory ${dir} is not writable: EACCES`);
    } finally {
      chmodSync(dir, 0o700);
    }
  });
});
