/**
 * How the Document Repository sees a Document Registry: register a submission (ITI-42) and look up
 * DocumentEntries. In process when the node plays both roles (`inProcessRegistry`), or a remote
 * registry over ITI-42/ITI-18 (connector/clients/registry-client.ts). The repository knows nothing
 * else of the registry (DESIGN.md: `repository` knows the registry only through an interface).
 *
 * The in-process registry also keeps the repository's commit records: the staged documents of a
 * submission are named in the registry's own commit (an outbox record per document, see
 * registry/register.ts `withCommitRecords`), so after a crash the repository finds the documents
 * owed a commit with one indexed read of those records, never by searching DocumentEntries.
 */
import type { RegistryErrorInfo, ResponseStatus } from '../registry/model/errors.js';
import type { DocumentEntry, Submission } from '../registry/model/metadata.js';
import { withCommitRecords, type CommitRecord } from '../registry/register.js';
import type { DocumentRegistry } from '../registry/registry.js';
import { witnessed } from '../registry/store/store.js';

export { withCommitRecords, type CommitRecord };

export interface RegisterResult {
  readonly status: ResponseStatus;
  readonly errors: readonly RegistryErrorInfo[];
}

/** A staged document the registry's commit says must be committed under `uniqueId`. */
export interface BlobCommitRecord {
  /** The outbox record's id (to confirm it done). */
  readonly id: string;
  readonly stagingId: string;
  readonly uniqueId: string;
  readonly sha1: string;
  readonly size: number;
}

/** Outbox kind of the repository's records; their ids are `blob:<stagingId>`. */
export const BLOB_COMMIT_KIND = 'blob-commit';

/** The id of a staged document's commit record. */
export function blobCommitRecordId(stagingId: string): string {
  return `blob:${stagingId}`;
}

/** The commit record of one staged document, to attach to the submission before registering it. */
export function blobCommitRecord(blob: { stagingId: string; sha1: string; size: number }, uniqueId: string): CommitRecord {
  return {
    id: blobCommitRecordId(blob.stagingId),
    kind: BLOB_COMMIT_KIND,
    payload: JSON.stringify({ stagingId: blob.stagingId, uniqueId, sha1: blob.sha1, size: blob.size }),
  };
}

export interface RegistryPort {
  /**
   * ITI-42. Resolves with the registry's answer (a Failure with its error codes included); rejects
   * only when the outcome is unknown (registry unreachable, a fault, a store error). Commit records
   * attached to the submission (`withCommitRecords`) are stored with it by an in-process registry
   * and ignored by a remote one.
   */
  register(submission: Submission): Promise<RegisterResult>;
  /** Registered DocumentEntries with these uniqueIds, whatever their status. */
  documentEntries(uniqueIds: readonly string[]): Promise<DocumentEntry[]>;
  /**
   * The staged documents whose registration was stored but whose commit is not yet confirmed
   * (`blobCommitsDone`): crash recovery reads these instead of searching entries. Absent for a
   * remote registry, which keeps no records for the repository.
   */
  pendingBlobCommits?(): Promise<BlobCommitRecord[]>;
  /** Confirms records of `pendingBlobCommits` done (their documents are committed or gone for good). */
  blobCommitsDone?(ids: readonly string[]): void;
}

/** The node's own DocumentRegistry actor as the repository's registry. */
export function inProcessRegistry(registry: DocumentRegistry): RegistryPort {
  const port: RegistryPort = {
    register: (submission) => registry.register(submission),
    async documentEntries(uniqueIds) {
      if (uniqueIds.length === 0) return [];
      return (await registry.store.find({ type: 'DocumentEntry', uniqueId: { $in: [...uniqueIds] } })) as DocumentEntry[];
    },
  };
  const store = registry.store;
  const outbox = store.outbox;
  if (outbox === undefined) return port;
  return {
    ...port,
    async pendingBlobCommits() {
      const records = await outbox.pending(BLOB_COMMIT_KIND);
      if (records.length === 0) return [];
      // A record counts only when its submission is stored (store.ts OutboxRecord).
      const owed: BlobCommitRecord[] = [];
      for (const r of await witnessed(store, records)) {
        const p = JSON.parse(r.payload) as Omit<BlobCommitRecord, 'id'>;
        owed.push({ id: r.id, stagingId: p.stagingId, uniqueId: p.uniqueId, sha1: p.sha1, size: p.size });
      }
      return owed;
    },
    blobCommitsDone: (ids) => outbox.done(ids),
  };
}
