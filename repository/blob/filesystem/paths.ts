/**
 * Where the filesystem store keeps things. A document uniqueId is never used as a path component:
 * it is client-controlled (`../`, `/`, `^`, thousands of characters), so blobs live under the
 * SHA-256 of the id, sharded in two directory levels of 256 so that no directory grows huge.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export const STAGING_DIR = 'staging';
export const BLOBS_DIR = 'blobs';
/** Suffix of a staging file still being written. */
export const PARTIAL_SUFFIX = '.part';
/** Suffix of a fully written, fsynced staging file: `<stagingId>.<sha1>.staged`. */
export const STAGED_SUFFIX = '.staged';

export function blobKey(documentUniqueId: string): string {
  return createHash('sha256').update(documentUniqueId, 'utf8').digest('hex');
}

/** The shard directories of a blob, outermost first (each must exist before the blob is linked). */
export function shardDirectories(root: string, documentUniqueId: string): [string, string] {
  const key = blobKey(documentUniqueId);
  const outer = join(root, BLOBS_DIR, key.slice(0, 2));
  return [outer, join(outer, key.slice(2, 4))];
}

export function blobPath(root: string, documentUniqueId: string): string {
  return join(shardDirectories(root, documentUniqueId)[1], blobKey(documentUniqueId));
}

export function partialPath(root: string, stagingId: string): string {
  return join(root, STAGING_DIR, stagingId + PARTIAL_SUFFIX);
}

export function stagedPath(root: string, stagingId: string, sha1: string): string {
  return join(root, STAGING_DIR, `${stagingId}.${sha1}${STAGED_SUFFIX}`);
}

/** Reads `<stagingId>.<sha1>.staged`; undefined for any other name. */
export function parseStagedName(name: string): { stagingId: string; sha1: string } | undefined {
  const m = /^([0-9a-f-]{36})\.([0-9a-f]{40})\.staged$/.exec(name);
  return m ? { stagingId: m[1]!, sha1: m[2]! } : undefined;
}
