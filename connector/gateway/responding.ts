/**
 * The responding gateway actor (ITI TF-2b 3.38.4.1.3 and 3.39.4.1.3): the homeCommunityId checks of
 * Cross Gateway Query and Cross Gateway Retrieve, then the answer from a source.
 *
 * In a regional node the source is the local registry and repository; in hub mode it is the
 * federation (every registered community except the requester's own), so the same checks front
 * both.
 *
 * Where `home` must be present (ITI TF-2b 3.38.4.1.2.1): on every query that does not carry a
 * patient id (the Get… queries by entryUUID/uniqueId, and the multi-patient query), since only the
 * patient id lets a responder know the objects are its own; on every DocumentRequest of ITI-39
 * (3.39.4.1.2, HomeCommunityId is required there). A `home` that names another community is
 * XDSUnknownCommunity. OIDs are compared with and without `urn:oid:`.
 *
 * XCA Persistence Option (Restricted Metadata Update, ITI-92): a regional node's responding gateway
 * applies a Restricted Update Document Set to its own community's registry, on the registry's write
 * path and under the registry's ITI-92 rules (which answer XDSUnknownCommunity for an object naming
 * another community). The hub holds no metadata of its own and does not forward updates: it has no
 * registry to persist to, and does not offer the transaction.
 */
import { error, type RegistryErrorInfo } from '../../registry/model/errors.js';
import type { Submission } from '../../registry/model/metadata.js';
import type { DocumentRegistry } from '../../registry/registry.js';
import type { CommitRecord, WriteOutcome } from '../../registry/write-queue.js';
import { failedQueryResult, type StoredQueryRequest, type StoredQueryResult } from '../../registry/model/query.js';
import { storedQueryName } from '../../registry/query/run.js';
import type { StoredQueryName } from '../../registry/model/query.js';
import { normaliseOid, sameOid } from './oid.js';
import type { DocumentRequest, ForwardedCredentials, OutboundAudit, RetrievedDocument, RetrieveResult } from './types.js';
import type { InitiatingGateway } from './initiating.js';

/** Stored queries whose parameters include a patient id: `home` is optional on them. */
const PATIENT_QUERIES: ReadonlySet<StoredQueryName> = new Set([
  'FindDocuments',
  'FindSubmissionSets',
  'FindFolders',
  'GetAll',
  'FindDocumentsByReferenceId',
]);

export interface RespondingContext {
  readonly credentials?: ForwardedCredentials;
  /** Records outbound calls (hub mode fans out). */
  readonly audit?: OutboundAudit;
  readonly signal?: AbortSignal;
}

/** Where the answers come from once the request has passed the home checks. */
export interface RespondingSource {
  query(request: StoredQueryRequest, ctx: RespondingContext): Promise<StoredQueryResult>;
  /** Undefined when this node has no repository. */
  retrieve?(requests: readonly DocumentRequest[], ctx: RespondingContext): Promise<RetrieveResult>;
  /** The community's own registry, where ITI-92 updates persist (XCA Persistence Option); undefined in hub mode. */
  readonly registry?: DocumentRegistry;
}

export interface RespondingGatewayOptions {
  /**
   * Other communities this gateway answers for (hub mode: every registered community). A request
   * whose home names one of them keeps its home, so the source can route it there.
   */
  readonly serves?: (homeCommunityId: string) => boolean;
}

export class RespondingGateway {
  constructor(
    /** urn:oid:… of the community this gateway answers for. */
    readonly homeCommunityId: string,
    private readonly source: RespondingSource,
    private readonly options: RespondingGatewayOptions = {},
  ) {}

  private serves(home: string): boolean {
    return this.options.serves?.(home) ?? false;
  }

  async query(request: StoredQueryRequest, ctx: RespondingContext = {}): Promise<StoredQueryResult> {
    const home = request.homeCommunityId?.trim();
    if (home !== undefined && home !== '' && !sameOid(home, this.homeCommunityId)) {
      if (this.serves(home)) return this.source.query(request, ctx);
      return failedQueryResult(request, [error('XDSUnknownCommunity', `this responding gateway serves ${this.homeCommunityId}, not ${home}`, home)]);
    }
    if (home === undefined || home === '') {
      const name = storedQueryName(request.queryId);
      // An unknown query id is the registry's XDSUnknownStoredQuery, not a missing home.
      if (name !== undefined && !PATIENT_QUERIES.has(name)) {
        return failedQueryResult(request, [
          error('XDSMissingHomeCommunityId', `the ${name} query needs the home attribute naming this community (${this.homeCommunityId})`, name),
        ]);
      }
    }
    // The home has done its job; the source answers for this community as a whole.
    const { homeCommunityId: _home, ...rest } = request;
    return this.source.query(rest, ctx);
  }

  /**
   * The registry a Restricted Update at this gateway persists to, for the transaction's trust
   * decision and audit reads; undefined where the gateway has none (hub mode).
   */
  get persistence(): DocumentRegistry | undefined {
    return this.source.registry;
  }

  /**
   * ITI-92 (XCA Persistence Option): the update applied to the community's registry, whole or not at
   * all; `records` (the audit event) are stored in its commit.
   */
  async restrictedUpdate(submission: Submission, records: readonly CommitRecord[] = []): Promise<WriteOutcome> {
    const registry = this.source.registry;
    if (registry === undefined) {
      return {
        status: 'Failure',
        errors: [error('XDSUnknownCommunity', `this responding gateway (${this.homeCommunityId}) holds no registry to persist a Restricted Update to`, this.homeCommunityId)],
      };
    }
    return registry.restrictedUpdate(submission, records);
  }

  async retrieve(requests: readonly DocumentRequest[], ctx: RespondingContext = {}): Promise<RetrieveResult> {
    const errors: RegistryErrorInfo[] = [];
    const accepted: DocumentRequest[] = [];
    for (const r of requests) {
      const home = r.homeCommunityId?.trim();
      if (home === undefined || home === '') {
        errors.push(error('XDSMissingHomeCommunityId', `DocumentRequest for ${r.documentUniqueId} has no HomeCommunityId`, r.documentUniqueId));
      } else if (!sameOid(home, this.homeCommunityId) && !this.serves(home)) {
        errors.push(error('XDSUnknownCommunity', `this responding gateway serves ${this.homeCommunityId}, not ${home}`, home));
      } else {
        accepted.push(r);
      }
    }
    if (accepted.length === 0) return { status: errors.length > 0 ? 'Failure' : 'Success', errors, documents: [] };
    if (!this.source.retrieve) {
      const none = accepted.map((r) =>
        error('XDSUnknownRepositoryId', `this community has no document repository; ${r.repositoryUniqueId} is unknown`, r.repositoryUniqueId),
      );
      return { status: 'Failure', errors: [...errors, ...none], documents: [] };
    }
    const result = await this.source.retrieve(accepted, ctx);
    const documents: RetrievedDocument[] = result.documents.map((d) => ({ ...d, homeCommunityId: d.homeCommunityId ?? this.homeCommunityId }));
    const all = [...errors, ...result.errors];
    const status = errors.length === 0 ? result.status : documents.length > 0 ? 'PartialSuccess' : 'Failure';
    return { status, errors: all, documents };
  }
}

/** Hub mode: the federation answers, without the requester's own community. */
export function federatedSource(gateway: InitiatingGateway): RespondingSource {
  const exclusion = (ctx: RespondingContext): string[] =>
    ctx.credentials?.requesterCommunityId !== undefined ? [normaliseOid(ctx.credentials.requesterCommunityId)] : [];
  return {
    query: (request, ctx) =>
      gateway.query(request, {
        exclude: exclusion(ctx),
        ...(ctx.credentials ? { credentials: ctx.credentials } : {}),
        ...(ctx.audit ? { audit: ctx.audit } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      }),
    retrieve: (requests, ctx) =>
      gateway.retrieve(requests, {
        exclude: exclusion(ctx),
        ...(ctx.credentials ? { credentials: ctx.credentials } : {}),
        ...(ctx.audit ? { audit: ctx.audit } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      }),
  };
}
