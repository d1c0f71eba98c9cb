/**
 * ITI-38 Cross Gateway Query: query:AdhocQueryRequest in, query:AdhocQueryResponse out, answered by
 * the responding gateway actor under the trust policy (serve.ts). The same wire mapping serves
 * ITI-18 at the initiating gateway (initiating.ts), since both are one AdhocQueryRequest/Response pair.
 */
import { adhocQueryResponse, registryErrorList } from '../../registry/ebxml/index.js';
import { STATUS_URN } from '../../registry/model/errors.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, el, type XmlElement } from '../../registry/xml/tree.js';
import type { StoredQueryResult } from '../../registry/model/query.js';
import type { ForwardedCredentials, OutboundAudit } from '../gateway/types.js';
import type { RespondingGateway } from '../gateway/responding.js';
import { credentialsFrom } from '../gateway/security.js';
import type { SoapHandler, SoapRequest } from '../soap/endpoint.js';
import { ACTIONS } from '../soap/actions.js';
import { outboundAudit, withContext, type TransactionContext, type TransactionServices } from './context.js';
import { serveQuery } from './serve.js';

/** The AdhocQueryResponse of a gateway: full objects (or their ObjectRefs) and relayed ObjectRefs. */
export function gatewayQueryResponse(result: StoredQueryResult): XmlElement {
  if (result.objectRefs.length === 0) return adhocQueryResponse(result);
  const base = adhocQueryResponse(result);
  const list = childElement(base, NS.rim, 'RegistryObjectList');
  const refs = result.objectRefs.map((r) => el(NS.rim, 'ObjectRef', { id: r.id, home: r.home }));
  return el(NS.query, 'AdhocQueryResponse', { status: STATUS_URN[result.status] }, [
    registryErrorList(result.errors),
    el(NS.rim, 'RegistryObjectList', {}, [...(list?.children ?? []), ...refs]),
  ]);
}

export function iti38(gateway: RespondingGateway, services: TransactionServices): SoapHandler {
  return withContext(services, 'responding', 'ITI-38', async (req, ctx) => {
    const credentials = credentialsFrom(req.header, req.rawEnvelopeBytes);
    const result = await serveQuery(req, ctx, (request) =>
      gateway.query(request, new ConsumerCall(req, ctx, credentials)),
    );
    req.logger.info('ITI-38 cross gateway query', {
      status: result.status,
      returned: result.objects.length + result.objectRefs.length,
      errors: result.errors.map((e) => e.code),
    });
    return { action: ACTIONS.iti38.response, body: gatewayQueryResponse(result) };
  });
}

/**
 * What a gateway transaction hands the gateway actor with the request: the consumer's forwarded
 * credentials, the audit of the outbound calls, and a signal that aborts when the consumer closes
 * the connection before the answer, so outbound calls stop too.
 *
 * The signal is made when first asked for: only calls out to other communities use it, and an
 * AbortController cost more than the rest of the request's gateway work where none go out (a
 * regional responding gateway answers from its own registry). The close is watched from the start
 * either way, so a signal made after the consumer left is aborted already, as it would have been.
 */
export class ConsumerCall {
  declare readonly credentials?: ForwardedCredentials;
  readonly audit: OutboundAudit;
  private controller: AbortController | undefined;
  private gone: Error | undefined;

  constructor(req: SoapRequest, ctx: TransactionContext, credentials: ForwardedCredentials | undefined) {
    if (credentials) (this as { credentials?: ForwardedCredentials }).credentials = credentials;
    this.audit = outboundAudit(ctx);
    const res = req.httpRequest.res;
    if (res) res.once('close', () => this.closed(res.writableFinished));
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.gone) this.controller.abort(this.gone);
    }
    return this.controller.signal;
  }

  private closed(answered: boolean): void {
    if (answered) return;
    this.gone = new Error('the consumer closed the connection');
    this.controller?.abort(this.gone);
  }
}
