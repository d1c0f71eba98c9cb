/**
 * The federating actor: one stored query or retrieve fanned out to communities in parallel and the
 * answers merged (ITI TF-2b 3.38 / 3.39 from the initiating side, ITI TF-2a 3.18.4.1.3 / 3.43 for
 * the consumer's view of an XCA initiating gateway).
 *
 * - Every community gets its own deadline; all outbound calls share one concurrency cap.
 * - A community that times out or cannot be reached yields XDSUnavailableCommunity, one that
 *   answers with errors has them relayed; either way with `location` = that community's id, and
 *   the whole answer becomes PartialSuccess (Failure when no community answered at all).
 * - Objects a remote community returns without `home` cannot be retrieved or queried further, so
 *   that community's answer is rejected as XDSMissingHomeCommunityId naming it.
 * - Retrieves are routed by homeCommunityId, one call per community with all its documents.
 *
 * Used as the node's initiating gateway (local registry + configured communities) and, in hub
 * mode, as the engine behind both hub endpoints (communities only, the requester's own excluded).
 */
import { error, responseStatus, type RegistryErrorInfo, type ResponseStatus } from '../../registry/model/errors.js';
import type { RegistryObject } from '../../registry/model/metadata.js';
import { failedQueryResult, type ObjectReference, type StoredQueryRequest, type StoredQueryResult } from '../../registry/model/query.js';
import { CommunityError } from './errors.js';
import { callCommunity, type CommunityCallObserver } from './fanout.js';
import type { Limiter } from './limiter.js';
import { normaliseOid, sameOid } from './oid.js';
import type {
  Community,
  DocumentRequest,
  Forwarded,
  ForwardedCredentials,
  OutboundAudit,
  RetrievedDocument,
  RetrieveResult,
} from './types.js';

export interface FederationContext {
  readonly credentials?: ForwardedCredentials;
  /** Records each outbound ITI-38/39 call (initiating-side audit). */
  readonly audit?: OutboundAudit;
  /** Communities left out of the fan-out (hub mode: the requester's own). */
  readonly exclude?: readonly string[];
  /** The consumer went away: abandon the outbound calls. */
  readonly signal?: AbortSignal;
}

export interface InitiatingGatewayOptions {
  /** Every community the gateway may ask, the local one included when there is one. */
  readonly communities: readonly Community[];
  readonly limiter: Limiter;
  /** Sees every call to a community once it ended (connector/metrics). */
  readonly observe?: CommunityCallObserver | undefined;
}

const HOME_PARAMETER = '$homeCommunityId';

export class InitiatingGateway {
  private readonly byOid = new Map<string, Community>();

  constructor(private readonly options: InitiatingGatewayOptions) {
    for (const c of options.communities) this.byOid.set(normaliseOid(c.homeCommunityId), c);
    // A community's own entry wins over a gateway that merely relays to it.
    for (const c of options.communities) {
      for (const served of c.serves ?? []) {
        const key = normaliseOid(served);
        if (!this.byOid.has(key)) this.byOid.set(key, c);
      }
    }
  }

  get communities(): readonly Community[] {
    return this.options.communities;
  }

  community(homeCommunityId: string): Community | undefined {
    return this.byOid.get(normaliseOid(homeCommunityId));
  }

  /** Runs one stored query in every community (or the one the consumer named) and merges the answers. */
  async query(request: StoredQueryRequest, ctx: FederationContext = {}): Promise<StoredQueryResult> {
    const restriction = requestedCommunity(request);
    let targets: readonly Community[];
    if (restriction !== undefined) {
      const only = this.community(restriction);
      if (!only) {
        return failedQueryResult(request, [error('XDSUnknownCommunity', `community ${restriction} is not known to this gateway`, restriction)]);
      }
      targets = [only];
    } else {
      targets = this.targets(ctx);
    }
    if (targets.length === 0) {
      return failedQueryResult(request, [error('XDSUnavailableCommunity', 'no community to ask: the community directory is empty')]);
    }

    const outcomes = await Promise.all(
      targets.map(async (community): Promise<CommunityOutcome> => {
        try {
          const answer = await callCommunity(community, this.options.limiter, forwarded(ctx), ctx.signal, (callCtx) =>
            community.query(toCommunityRequest(request, community, restriction), callCtx),
            this.options.observe,
          );
          return checkHomes(community, answer);
        } catch (e) {
          return { answered: false, errors: [communityError(community, e)] };
        }
      }),
    );
    return mergeQuery(request, outcomes);
  }

  /** Routes each DocumentRequest to its community by homeCommunityId; one call per community. */
  async retrieve(requests: readonly DocumentRequest[], ctx: FederationContext = {}): Promise<RetrieveResult> {
    const errors: RegistryErrorInfo[] = [];
    const groups = new Map<Community, DocumentRequest[]>();
    const excluded = new Set((ctx.exclude ?? []).map(normaliseOid));
    for (const r of requests) {
      let home = r.homeCommunityId?.trim();
      if (home === undefined || home === '') {
        // A local consumer may leave the community out for its own repository (plain XDS ITI-43).
        const local = this.options.communities.find((c) => c.local && c.repositoryUniqueId === r.repositoryUniqueId);
        if (local) home = local.homeCommunityId;
      }
      if (home === undefined || home === '') {
        errors.push(
          error('XDSMissingHomeCommunityId', `DocumentRequest for ${r.documentUniqueId} has no HomeCommunityId`, r.documentUniqueId),
        );
        continue;
      }
      const community = this.community(home);
      if (!community || excluded.has(normaliseOid(home)) || !community.retrieve) {
        errors.push(error('XDSUnknownCommunity', `community ${home} of document ${r.documentUniqueId} is not known to this gateway`, home));
        continue;
      }
      const list = groups.get(community);
      if (list) list.push(r);
      else groups.set(community, [r]);
    }

    const documents: RetrievedDocument[] = [];
    let answered = 0;
    await Promise.all(
      [...groups].map(async ([community, list]) => {
        try {
          const result = await callCommunity(community, this.options.limiter, forwarded(ctx), ctx.signal, (callCtx) =>
            community.retrieve!(list, callCtx),
            this.options.observe,
          );
          answered++;
          for (const d of result.documents) documents.push({ ...d, homeCommunityId: d.homeCommunityId ?? community.homeCommunityId });
          errors.push(...result.errors.map((e) => located(e, community.homeCommunityId)));
        } catch (e) {
          errors.push(communityError(community, e));
        }
      }),
    );
    return { status: responseStatus(errors, answered > 0 || documents.length > 0), errors, documents };
  }

  private targets(ctx: FederationContext): Community[] {
    const excluded = new Set((ctx.exclude ?? []).map(normaliseOid));
    return this.options.communities.filter((c) => !excluded.has(normaliseOid(c.homeCommunityId)));
  }
}

function forwarded(ctx: FederationContext): Forwarded {
  return { ...(ctx.credentials ? { credentials: ctx.credentials } : {}), ...(ctx.audit ? { audit: ctx.audit } : {}) };
}

interface CommunityOutcome {
  /** The community gave a usable answer (even one with errors). */
  readonly answered: boolean;
  readonly errors: readonly RegistryErrorInfo[];
  readonly status?: ResponseStatus;
  readonly objects?: readonly RegistryObject[];
  readonly objectRefs?: readonly ObjectReference[];
}

/**
 * The community the consumer restricted the query to: AdhocQuery/@home, or a `$homeCommunityId`
 * parameter (some consumers send the community as a query slot instead of the attribute).
 */
export function requestedCommunity(request: StoredQueryRequest): string | undefined {
  const home = request.homeCommunityId?.trim();
  if (home) return home;
  const slot = request.parameters.find((p) => p.name === HOME_PARAMETER);
  const value = slot?.values[0]?.trim().replace(/^'(.*)'$/, '$1').trim();
  return value ? value : undefined;
}

/**
 * What one community is sent: the consumer's query with `home` naming that community (ITI-38
 * requires it on queries without a patient id, and it is harmless on the others).
 */
function toCommunityRequest(request: StoredQueryRequest, community: Community, restriction: string | undefined): StoredQueryRequest {
  if (community.local) return request;
  // Through a relaying gateway (a hub) the home keeps naming the community actually meant.
  const home = restriction !== undefined && !sameOid(restriction, community.homeCommunityId) ? restriction : community.homeCommunityId;
  return { ...request, homeCommunityId: home };
}

function checkHomes(community: Community, answer: StoredQueryResult): CommunityOutcome {
  if (!community.local) {
    const missing = answer.objects.filter((o) => !o.homeCommunityId).length + answer.objectRefs.filter((r) => !r.home).length;
    if (missing > 0) {
      return {
        answered: false,
        errors: [
          error(
            'XDSMissingHomeCommunityId',
            `community ${community.homeCommunityId} returned ${missing} object(s) without a homeCommunityId; its answer was discarded`,
            community.homeCommunityId,
          ),
        ],
      };
    }
  }
  return {
    answered: answer.status !== 'Failure',
    status: answer.status,
    errors: answer.errors.map((e) => located(e, community.homeCommunityId)),
    objects: answer.objects,
    objectRefs: answer.objectRefs,
  };
}

/** A community's own error, relayed with location = that community (its own location kept in the message). */
function located(e: RegistryErrorInfo, homeCommunityId: string): RegistryErrorInfo {
  if (e.location !== undefined && sameOid(e.location, homeCommunityId)) return e;
  const message = e.location !== undefined && e.location !== '' ? `${e.message} (at ${e.location})` : e.message;
  return { code: e.code, message, severity: e.severity, location: homeCommunityId };
}

function communityError(community: Community, e: unknown): RegistryErrorInfo {
  if (e instanceof CommunityError) {
    const code = e.kind === 'unavailable' ? 'XDSUnavailableCommunity' : 'XDSRegistryError';
    return error(code, e.message, community.homeCommunityId);
  }
  // A bug in our own mapping must not take the other communities' answers down with it.
  return error('XDSRegistryError', `community ${community.homeCommunityId} could not be asked: ${e instanceof Error ? e.message : String(e)}`, community.homeCommunityId);
}

function mergeQuery(request: StoredQueryRequest, outcomes: readonly CommunityOutcome[]): StoredQueryResult {
  const objects: RegistryObject[] = [];
  const objectRefs: ObjectReference[] = [];
  const errors: RegistryErrorInfo[] = [];
  const seen = new Set<string>();
  let answered = false;
  for (const o of outcomes) {
    errors.push(...o.errors);
    if (o.answered) answered = true;
    for (const obj of o.objects ?? []) {
      // The same object reached twice (a hub that also asks us) is returned once.
      const key = `${normaliseOid(obj.homeCommunityId ?? '')} ${obj.entryUuid}`;
      if (seen.has(key)) continue;
      seen.add(key);
      objects.push(obj);
    }
    for (const ref of o.objectRefs ?? []) {
      const key = `${normaliseOid(ref.home ?? '')} ${ref.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      objectRefs.push(ref);
    }
  }
  const partial = outcomes.some((o) => o.status === 'PartialSuccess');
  const hasData = objects.length > 0 || objectRefs.length > 0;
  // Failure only when nobody answered usefully (ITI TF-2b 3.38.4.2.3: some communities answered, some did not).
  let status = responseStatus(errors, answered || hasData);
  if (status === 'Success' && partial) status = 'PartialSuccess';
  return { status, errors, returnType: request.returnType, objects: status === 'Failure' ? [] : objects, objectRefs: status === 'Failure' ? [] : objectRefs };
}
