/**
 * What stands behind the MHD endpoint: the node's own registry and repository (the same actors the
 * SOAP endpoints call), and, when the node's initiating gateway knows other communities, that
 * gateway (XCA behind MHD). Also the one convention every answer shares: where a document's bytes
 * are fetched (ITI-68).
 */
import type { ServerResponse } from 'node:http';
import type { DocumentEntry } from '../../../registry/model/metadata.js';
import type { DocumentRegistry } from '../../../registry/registry.js';
import type { DocumentRepository } from '../../../repository/repository.js';
import type { InitiatingGateway } from '../../gateway/initiating.js';
import { sameOid } from '../../gateway/oid.js';
import type { FederationContext } from '../../gateway/initiating.js';
import { outboundAudit, type TransactionContext } from '../../transactions/context.js';

export interface FhirActors {
  readonly registry: DocumentRegistry;
  readonly repository: DocumentRepository;
  /** urn:oid:… of this community. */
  readonly homeCommunityId: string;
  /** This repository's uniqueId: the default of an ITI-68 URL without one. */
  readonly repositoryUniqueId: string;
  /**
   * The initiating gateway over this node and the configured communities (gateway.mode node with
   * gateway.communities): ITI-67 searches and reads, and ITI-68 retrieves of other communities'
   * documents, go through it. Absent, MHD answers from this node alone.
   */
  readonly federation?: InitiatingGateway | undefined;
}

/** The path below the FHIR base where documents are retrieved (ITI-68): `Binary/<uniqueId>`. */
export const DOCUMENT_PATH = 'Binary';

/**
 * The ITI-68 URL of a document: `<base>/Binary/<uniqueId, URL-encoded>?repositoryUniqueId=<oid>`,
 * plus `&homeCommunityId=<urn:oid:…>` for a document of another community. The uniqueId is the
 * path segment because it, not the entryUUID, names the bytes (a replaced entry keeps them), and
 * repository and community ride along so that retrieving needs no registry lookup first, exactly
 * as an ITI-43 DocumentRequest. Undefined when the entry names no repository.
 */
export function documentUrl(base: string, entry: Pick<DocumentEntry, 'uniqueId' | 'repositoryUniqueId' | 'homeCommunityId'>, homeCommunityId: string): string | undefined {
  if (entry.uniqueId === undefined || entry.repositoryUniqueId === undefined) return undefined;
  const foreign = entry.homeCommunityId !== undefined && !sameOid(entry.homeCommunityId, homeCommunityId);
  const query = new URLSearchParams({ repositoryUniqueId: entry.repositoryUniqueId });
  if (foreign) query.set('homeCommunityId', entry.homeCommunityId!);
  return `${base}/${DOCUMENT_PATH}/${encodeURIComponent(entry.uniqueId)}?${query.toString()}`;
}

/**
 * The federation context of one MHD request: outbound ITI-38/39 calls audited with this request's
 * requestor, abandoned when the client goes away before its answer. No credentials travel: a
 * HelseID token is not a SAML assertion, so communities that require XUA refuse these calls (see
 * docs: XCA behind MHD needs a token exchange first).
 */
export function federationContext(ctx: TransactionContext, res: ServerResponse): FederationContext {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('the client closed the connection'));
  });
  return { audit: outboundAudit(ctx), signal: controller.signal };
}
