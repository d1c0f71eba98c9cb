/**
 * A remote community: its responding gateway spoken to with ITI-38 and ITI-39 through the node's
 * SOAP client. Transport failures become CommunityErrors; everything else (the community's own
 * RegistryErrors) comes back as data for the initiating gateway to relay.
 */
import { parseAdhocQueryResponse, serializeAdhocQueryRequest } from '../../registry/ebxml/index.js';
import { RegistryFailure, type RegistryErrorInfo, type ResponseStatus } from '../../registry/model/errors.js';
import type { ObjectReference, StoredQueryRequest, StoredQueryResult } from '../../registry/model/query.js';
import { ACTIONS } from '../soap/actions.js';
import { SoapClient, SoapClientError, type SoapResponse } from '../soap/client.js';
import { parseRetrieveDocumentSetResponse, serializeRetrieveDocumentSetRequest } from '../transactions/retrieve-wire.js';
import { CommunityError } from './errors.js';
import { forwardedSecurityHeader } from './security.js';
import type { CallContext, Community, DocumentRequest, OutboundOutcome, RetrieveResult } from './types.js';
import { urnOid } from './oid.js';

export interface RemoteCommunityOptions {
  /** The community's homeCommunityId (bare or urn:oid; kept as urn:oid). */
  readonly homeCommunityId: string;
  /** Its responding gateway's ITI-38 endpoint. */
  readonly queryUrl: string;
  /** Its ITI-39 endpoint (often the same URL); without one, retrieves to it are XDSUnknownCommunity. */
  readonly retrieveUrl?: string;
  readonly timeoutMs: number;
  /** Communities reachable through this one (a hub). */
  readonly serves?: readonly string[];
  /** The SOAP client (one per community: its own pool and TLS settings). */
  readonly client: SoapClient;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The audited outcome of a community's answer. */
function sentOutcome(status: ResponseStatus, errors: readonly RegistryErrorInfo[]): { outcome: OutboundOutcome['outcome']; description?: string } {
  const outcome = status === 'Success' ? 'success' : status === 'PartialSuccess' ? 'minor-failure' : 'serious-failure';
  const codes = errors.map((e) => e.code).join(' ');
  return { outcome, ...(codes !== '' ? { description: codes } : {}) };
}

/**
 * A community may name itself by a bare OID; what this gateway relays always names communities as
 * `urn:oid:…` (ITI TF-3 homeCommunityId), the form its consumers compare and route by.
 */
function withUrnHome<T extends { readonly homeCommunityId?: string | undefined }>(o: T): T {
  const home = o.homeCommunityId;
  return home === undefined || home.startsWith('urn:oid:') ? o : { ...o, homeCommunityId: urnOid(home) };
}

function withUrnRefHome(ref: ObjectReference): ObjectReference {
  return ref.home === undefined || ref.home.startsWith('urn:oid:') ? ref : { ...ref, home: urnOid(ref.home) };
}

export function remoteCommunity(options: RemoteCommunityOptions): Community {
  const homeCommunityId = urnOid(options.homeCommunityId);
  const send = async (url: string, action: string, body: Parameters<SoapClient['call']>[0]['body'], ctx: CallContext, mtom: boolean): Promise<SoapResponse> => {
    const security = forwardedSecurityHeader(ctx.credentials);
    try {
      return await options.client.call({
        url,
        action,
        body,
        ...(security !== undefined ? { headers: [security] } : {}),
        mtom,
        timeoutMs: options.timeoutMs,
        signal: ctx.signal,
      });
    } catch (e) {
      if (e instanceof SoapClientError) {
        const kind = e.kind === 'fault' || e.kind === 'protocol' ? 'failed' : 'unavailable';
        throw new CommunityError(kind, `community ${homeCommunityId}: ${e.message}`);
      }
      throw e;
    }
  };
  const unusable = (e: unknown, what: string): never => {
    if (e instanceof RegistryFailure) throw new CommunityError('failed', `community ${homeCommunityId} sent an unusable ${what}: ${e.message}`);
    throw e;
  };

  const community: Community = {
    homeCommunityId,
    timeoutMs: options.timeoutMs,
    local: false,
    ...(options.serves ? { serves: options.serves.map(urnOid) } : {}),
    async query(request: StoredQueryRequest, ctx: CallContext): Promise<StoredQueryResult> {
      const url = options.queryUrl;
      let res: SoapResponse;
      try {
        res = await send(url, ACTIONS.iti38.request, serializeAdhocQueryRequest(request), ctx, false);
      } catch (e) {
        await ctx.audit?.query(request, { url, outcome: 'serious-failure', description: errorText(e) });
        throw e;
      }
      let result: StoredQueryResult;
      try {
        const content = parseAdhocQueryResponse(res.body);
        result = {
          status: content.status,
          errors: content.errors,
          returnType: request.returnType,
          objects: content.objects.map(withUrnHome),
          objectRefs: content.objectRefs.map(withUrnRefHome),
        };
      } catch (e) {
        await ctx.audit?.query(request, { url, outcome: 'serious-failure', description: errorText(e) });
        return unusable(e, 'query response');
      }
      await ctx.audit?.query(request, { url, ...sentOutcome(result.status, result.errors) });
      return result;
    },
  };
  const retrieveUrl = options.retrieveUrl;
  if (retrieveUrl === undefined) return community;
  return {
    ...community,
    async retrieve(requests: readonly DocumentRequest[], ctx: CallContext): Promise<RetrieveResult> {
      // ITI-39 requests travel as MTOM too: several responding gateways accept nothing else.
      let res: SoapResponse;
      try {
        res = await send(retrieveUrl, ACTIONS.iti39.request, serializeRetrieveDocumentSetRequest(requests), ctx, true);
      } catch (e) {
        await ctx.audit?.retrieve(requests, { url: retrieveUrl, outcome: 'serious-failure', description: errorText(e) });
        throw e;
      }
      let result: RetrieveResult;
      try {
        const answer = parseRetrieveDocumentSetResponse(res.body, res.attachments);
        result = { ...answer, documents: answer.documents.map(withUrnHome) };
      } catch (e) {
        await ctx.audit?.retrieve(requests, { url: retrieveUrl, outcome: 'serious-failure', description: errorText(e) });
        return unusable(e, 'retrieve response');
      }
      await ctx.audit?.retrieve(requests, { url: retrieveUrl, ...sentOutcome(result.status, result.errors) });
      return result;
    },
  };
}
