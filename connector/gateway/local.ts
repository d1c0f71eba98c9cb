/**
 * The node's own registry (and repository, when there is one) as a Community, so the initiating
 * gateway federates local and remote answers through one code path.
 */
import type { DocumentRegistry } from '../../registry/registry.js';
import type { Community, DocumentSource } from './types.js';

export interface LocalCommunityOptions {
  /** urn:oid:… of this node (the registry stamps it on every object it returns). */
  readonly homeCommunityId: string;
  readonly registry: DocumentRegistry;
  readonly repository?: DocumentSource;
  /** Deadline for the local store, in ms. */
  readonly timeoutMs: number;
}

export function localCommunity(options: LocalCommunityOptions): Community {
  const repository = options.repository;
  return {
    homeCommunityId: options.homeCommunityId,
    timeoutMs: options.timeoutMs,
    local: true,
    query: (request, _ctx) => options.registry.query(request),
    // The gateway has matched the home already (bare or urn:oid); the repository compares it literally.
    ...(repository
      ? { retrieve: (requests, _ctx) => repository.retrieve(requests.map((r) => ({ ...r, homeCommunityId: options.homeCommunityId }))) }
      : {}),
    ...(repository?.repositoryUniqueId !== undefined ? { repositoryUniqueId: repository.repositoryUniqueId } : {}),
  };
}
