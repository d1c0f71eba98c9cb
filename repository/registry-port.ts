/**
 * How the Document Repository sees a Document Registry: register a submission (ITI-42) and look up
 * DocumentEntries. In process when the node plays both roles (`inProcessRegistry`), or a remote
 * registry over ITI-42/ITI-18 (connector/clients/registry-client.ts). The repository knows nothing
 * else of the registry (DESIGN.md: `repository` knows the registry only through an interface).
 */
import type { RegistryErrorInfo, ResponseStatus } from '../registry/model/errors.js';
import type { DocumentEntry, Submission } from '../registry/model/metadata.js';
import type { DocumentRegistry } from '../registry/registry.js';

export interface RegisterResult {
  readonly status: ResponseStatus;
  readonly errors: readonly RegistryErrorInfo[];
}

export interface RegistryPort {
  /**
   * ITI-42. Resolves with the registry's answer (a Failure with its error codes included); rejects
   * only when the outcome is unknown (registry unreachable, a fault, a store error).
   */
  register(submission: Submission): Promise<RegisterResult>;
  /** Registered DocumentEntries with these uniqueIds, whatever their status. */
  documentEntries(uniqueIds: readonly string[]): Promise<DocumentEntry[]>;
  /**
   * Registered DocumentEntries of this repository with one of these SHA-1 hashes (lower-case hex),
   * for crash recovery. Absent when the registry cannot be asked by hash (a remote registry: no
   * stored query does that).
   */
  documentEntriesByHash?(repositoryUniqueId: string, sha1s: readonly string[]): Promise<DocumentEntry[]>;
}

/** The node's own DocumentRegistry actor as the repository's registry. */
export function inProcessRegistry(registry: DocumentRegistry): RegistryPort {
  return {
    register: (submission) => registry.register(submission),
    async documentEntries(uniqueIds) {
      if (uniqueIds.length === 0) return [];
      return (await registry.store.find({ type: 'DocumentEntry', uniqueId: { $in: [...uniqueIds] } })) as DocumentEntry[];
    },
    async documentEntriesByHash(repositoryUniqueId, sha1s) {
      if (sha1s.length === 0) return [];
      // Hashes are stored as submitted; sources send lower or upper case (NIST 11981), never mixed.
      const hashes = sha1s.flatMap((h) => [h.toLowerCase(), h.toUpperCase()]);
      return (await registry.store.find({ type: 'DocumentEntry', repositoryUniqueId, hash: { $in: hashes } })) as DocumentEntry[];
    },
  };
}
