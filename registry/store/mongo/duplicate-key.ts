/**
 * Recognises MongoDB duplicate key errors (code 11000) on the entryUuid index and names the
 * entryUuid, so that the store can throw `DuplicateEntryUuidError` like the embedded store does.
 * Duplicates on other unique indexes (`_id`, `seq`) are store faults, not client errors, and
 * are not mapped.
 */
import { MongoBulkWriteError, MongoServerError } from 'mongodb';

const DUPLICATE_KEY = 11000;

export function duplicateEntryUuidOf(error: unknown): string | undefined {
  if (error instanceof MongoBulkWriteError) {
    const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
    for (const writeError of writeErrors) {
      if (writeError.code !== DUPLICATE_KEY) continue;
      const details = writeError.err as { keyValue?: Record<string, unknown>; errmsg?: string };
      const fromKey = entryUuidFromKey(details.keyValue, writeError.errmsg);
      if (fromKey !== undefined) return fromKey;
      // The failing operation of an insert is the document itself.
      const op = writeError.getOperation();
      if (onEntryUuidIndex(writeError.errmsg) && typeof op.entryUuid === 'string') return op.entryUuid;
    }
    return undefined;
  }
  if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) {
    return entryUuidFromKey(error.keyValue as Record<string, unknown> | undefined, error.errmsg ?? error.message);
  }
  return undefined;
}

function entryUuidFromKey(keyValue: Record<string, unknown> | undefined, errmsg: string | undefined): string | undefined {
  if (keyValue !== undefined && typeof keyValue.entryUuid === 'string') return keyValue.entryUuid;
  if (!onEntryUuidIndex(errmsg)) return undefined;
  // E11000 duplicate key error collection: db.registryObjects index: entryUuid_1 dup key: { entryUuid: "…" }
  const m = /dup key: \{ entryUuid: "((?:[^"\\]|\\.)*)" \}/.exec(errmsg ?? '');
  return m?.[1];
}

function onEntryUuidIndex(errmsg: string | undefined): boolean {
  return errmsg !== undefined && /index: entryUuid_1\b/.test(errmsg);
}
