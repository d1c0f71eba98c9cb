/**
 * The data directory is checked before any store opens it. Without the check, a directory that
 * cannot be written stops the start with SQLite's bare `unable to open database file`, which names
 * neither the directory nor the reason; the operator gets both here instead.
 *
 * The check writes and removes a small file rather than asking `access(W_OK)`: root passes every
 * permission check, yet cannot write to a read-only file system, and the probe fails in both cases.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from './config.js';

/** The error that names the directory, the keys that set it, and the cause. */
function dataDirError(path: string, problem: string, cause?: unknown): ConfigError {
  const detail = cause === undefined ? '' : `: ${cause instanceof Error ? cause.message : String(cause)}`;
  return new ConfigError(`data directory ${path} ${problem}${detail} (set dataDir or DATA_DIR)`);
}

/**
 * Creates the directory when missing and proves it writable; returns its absolute path.
 * Throws a ConfigError (exit code 2 at `npm start`) naming the path and the cause.
 */
export function ensureWritableDataDir(dataDir: string): string {
  const path = resolve(dataDir);
  createDirectory(path);
  probeWrite(path);
  return path;
}

function createDirectory(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    // mkdir reports a file of that name as EEXIST; say what is really in the way.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw dataDirError(path, 'is a file, not a directory');
    throw dataDirError(path, 'cannot be created', e);
  }
  // A symbolic link to a file passes mkdir without an error.
  if (!statSync(path).isDirectory()) throw dataDirError(path, 'is a file, not a directory');
}

function probeWrite(path: string): void {
  const probe = join(path, `.write-check-${process.pid}`);
  try {
    const fd = openSync(probe, 'w');
    try {
      writeSync(fd, 'koblingspunkt write check\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw dataDirError(path, 'is not writable', e);
  } finally {
    try {
      unlinkSync(probe);
    } catch {
      // Never created (the write failed): nothing to remove.
    }
  }
}
