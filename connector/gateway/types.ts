/**
 * What the gateway actors speak: stored queries and document retrieves as model objects, and the
 * Community interface behind which a local registry/repository and a remote responding gateway
 * look alike (docs/architecture.md: gateways know registry and repository only through interfaces).
 */
import type { Readable } from 'node:stream';
import type { RegistryErrorInfo, ResponseStatus } from '../../registry/model/errors.js';
import type { StoredQueryRequest, StoredQueryResult } from '../../registry/model/query.js';

/** One xdsb:DocumentRequest. */
export interface DocumentRequest {
  readonly homeCommunityId?: string;
  readonly repositoryUniqueId: string;
  readonly documentUniqueId: string;
}

/**
 * One xdsb:DocumentResponse. The bytes are a stream factory (the same shape as the repository
 * actor's RetrievedDocument), so a document of the local repository goes out from the blob store
 * without being read into memory. A remote community's document is not streamed through: the SOAP
 * client reads its whole ITI-39 answer into memory (up to the gateway's maxResponseBytes) and splits
 * the MTOM parts there, so stream() only replays bytes that are already held.
 */
export interface RetrievedDocument {
  readonly homeCommunityId?: string;
  readonly repositoryUniqueId: string;
  readonly documentUniqueId: string;
  readonly mimeType: string;
  readonly size: number;
  stream(): Readable;
}

export interface RetrieveResult {
  readonly status: ResponseStatus;
  readonly errors: readonly RegistryErrorInfo[];
  readonly documents: readonly RetrievedDocument[];
}

/**
 * The caller's credentials as they travel on: opaque to the actors, which only pass them through to
 * communities. The SOAP layer fills it from the incoming wsse:Security header.
 */
export interface ForwardedCredentials {
  /** The SAML assertion to forward, as self-contained XML text. */
  readonly assertionXml?: string;
  /** The requester's community, when the credentials name one (hub mode excludes it from fan-outs). */
  readonly requesterCommunityId?: string;
}

/** How one outbound ITI-38/39 call ended, as audited. */
export interface OutboundOutcome {
  /** The community's URL the call went to. */
  readonly url: string;
  readonly outcome: 'success' | 'minor-failure' | 'serious-failure';
  /** The errors or the transport failure, in words. */
  readonly description?: string;
}

/**
 * The audit of the calls a gateway sends (ITI-38 / ITI-39 as initiating gateway). The transaction
 * layer implements it with the requester's Principal; the actors only report each call, awaited,
 * so the record exists before the consumer gets its answer.
 */
export interface OutboundAudit {
  query(request: StoredQueryRequest, sent: OutboundOutcome): Promise<void>;
  retrieve(requests: readonly DocumentRequest[], sent: OutboundOutcome): Promise<void>;
}

/** What travels with a call to a community besides the request: the credentials and the audit. */
export interface Forwarded {
  readonly credentials?: ForwardedCredentials;
  readonly audit?: OutboundAudit;
}

export interface CallContext extends Forwarded {
  /** Aborts the call (deadline passed, or the consumer went away). */
  readonly signal: AbortSignal;
}

/** A community as a gateway sees it: the local registry/repository, or a remote responding gateway. */
export interface Community {
  /** urn:oid:… */
  readonly homeCommunityId: string;
  /** Deadline of one call to this community, in ms. */
  readonly timeoutMs: number;
  /** True for the node's own registry/repository. */
  readonly local: boolean;
  /**
   * Other communities reachable through this one (urn:oid:…): a hub answers for every region, so a
   * region that only knows the hub still routes a retrieve or a Get… query for region X there.
   */
  readonly serves?: readonly string[];
  /** The local repository's uniqueId: routes a consumer's ITI-43 request that names no community. */
  readonly repositoryUniqueId?: string;
  query(request: StoredQueryRequest, ctx: CallContext): Promise<StoredQueryResult>;
  /** Undefined when the community offers no retrieve (a registry-only node). */
  retrieve?(requests: readonly DocumentRequest[], ctx: CallContext): Promise<RetrieveResult>;
}

/** The local repository as gateways need it. */
export interface DocumentSource {
  readonly repositoryUniqueId?: string;
  retrieve(requests: readonly DocumentRequest[]): Promise<RetrieveResult>;
}
