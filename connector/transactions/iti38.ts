/**
 * ITI-38 Cross Gateway Query: query:AdhocQueryRequest in, query:AdhocQueryResponse out, answered by
 * the responding gateway actor under the trust policy (serve.ts). The same wire mapping serves
 * ITI-18 at the initiating gateway (initiating.ts), since both are one AdhocQueryRequest/Response pair.
 */
import { adhocQueryResponse, registryErrorList } from '../../registry/ebxml';
import { STATUS_URN } from '../../registry/model/errors';
import { NS } from '../../registry/xml/namespaces';
import { childElement, el, type XmlElement } from '../../registry/xml/tree';
import type { GatewayQueryResult } from '../gateway/types';
import type { RespondingGateway } from '../gateway/responding';
import { credentialsFrom } from '../gateway/security';
import type { SoapHandler, SoapRequest } from '../soap/endpoint';
import { ACTIONS } from '../soap/actions';
import { outboundAudit, withContext, type TransactionServices } from './context';
import { serveQuery } from './serve';

/** The AdhocQueryResponse of a gateway: full objects (or their ObjectRefs) and relayed ObjectRefs. */
export function gatewayQueryResponse(result: GatewayQueryResult): XmlElement {
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
      gateway.query(request, { ...(credentials ? { credentials } : {}), signal: abandoned(req), audit: outboundAudit(ctx) }),
    );
    req.logger.info('ITI-38 cross gateway query', {
      status: result.status,
      returned: result.objects.length + result.objectRefs.length,
      errors: result.errors.map((e) => e.code),
    });
    return { action: ACTIONS.iti38.response, body: gatewayQueryResponse(result) };
  });
}

/** Aborts when the consumer closes the connection before the answer, so outbound calls stop too. */
export function abandoned(req: SoapRequest): AbortSignal {
  const controller = new AbortController();
  const res = req.httpRequest.res;
  if (res) {
    res.once('close', () => {
      if (!res.writableFinished) controller.abort(new Error('the consumer closed the connection'));
    });
  }
  return controller.signal;
}
