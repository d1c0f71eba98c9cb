/**
 * A remote community: its responding gateway spoken to with ITI-38 and ITI-39 through the node's
 * SOAP client. Transport failures become CommunityErrors; everything else (the community's own
 * RegistryErrors) comes back as data for the initiating gateway to relay.
 */
import { parseAdhocQueryResponse, serializeAdhocQueryRequest } from '../../registry/ebxml';
import { RegistryFailure } from '../../registry/model/errors';
import type { StoredQueryRequest } from '../../registry/model/query';
import { ACTIONS } from '../soap/actions';
import { SoapClient, SoapClientError, type SoapResponse } from '../soap/client';
import { parseRetrieveDocumentSetResponse, serializeRetrieveDocumentSetRequest } from '../transactions/iti39';
import { CommunityError } from './errors';
import { forwardedSecurityHeader } from './security';
import type { CallContext, Community, DocumentRequest, GatewayQueryResult, RetrieveResult } from './types';
import { urnOid } from './oid';

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
    async query(request: StoredQueryRequest, ctx: CallContext): Promise<GatewayQueryResult> {
      const res = await send(options.queryUrl, ACTIONS.iti38.request, serializeAdhocQueryRequest(request), ctx, false);
      try {
        const content = parseAdhocQueryResponse(res.body);
        return { status: content.status, errors: content.errors, returnType: request.returnType, objects: content.objects, objectRefs: content.objectRefs };
      } catch (e) {
        return unusable(e, 'query response');
      }
    },
  };
  const retrieveUrl = options.retrieveUrl;
  if (retrieveUrl === undefined) return community;
  return {
    ...community,
    async retrieve(requests: readonly DocumentRequest[], ctx: CallContext): Promise<RetrieveResult> {
      // ITI-39 requests travel as MTOM too: several responding gateways accept nothing else.
      const res = await send(retrieveUrl, ACTIONS.iti39.request, serializeRetrieveDocumentSetRequest(requests), ctx, true);
      try {
        return parseRetrieveDocumentSetResponse(res.body, res.attachments);
      } catch (e) {
        return unusable(e, 'retrieve response');
      }
    },
  };
}
