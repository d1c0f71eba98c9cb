/**
 * The initiating gateway endpoint: ITI-18 and ITI-43 from the community's own consumers, answered
 * by fanning out (connector/gateway/initiating.ts) under the trust policy, audited inbound and for
 * every outbound ITI-38/39 call (serve.ts, context.ts). The consumer's SAML assertion travels on
 * byte-for-byte to every community; a consumer restricts a query to one community with
 * AdhocQuery/@home.
 */
import type { InitiatingGateway } from '../gateway/initiating.js';
import { credentialsFrom } from '../gateway/security.js';
import type { SoapHandler } from '../soap/endpoint.js';
import { ACTIONS } from '../soap/actions.js';
import { withContext, type TransactionServices } from './context.js';
import { ConsumerCall, gatewayQueryResponse } from './iti38.js';
import { parseRetrieveDocumentSetRequest, retrieveReply } from './retrieve-wire.js';
import { serveQuery, serveRetrieve } from './serve.js';

export function initiatingTransactions(gateway: InitiatingGateway, services: TransactionServices): Record<string, SoapHandler> {
  const query = withContext(services, 'initiating', 'ITI-18', async (req, ctx) => {
    const credentials = credentialsFrom(req.header, req.rawEnvelopeBytes);
    const result = await serveQuery(req, ctx, (request) =>
      gateway.query(request, new ConsumerCall(req, ctx, credentials)),
    );
    req.logger.info('ITI-18 federated query', {
      status: result.status,
      returned: result.objects.length + result.objectRefs.length,
      errors: result.errors.map((e) => `${e.code}@${e.location ?? ''}`),
    });
    return { action: ACTIONS.iti18.response, body: gatewayQueryResponse(result) };
  });
  const retrieve = withContext(services, 'initiating', 'ITI-43', async (req, ctx) => {
    const requests = parseRetrieveDocumentSetRequest(req.body, { missingId: 'fault' });
    const credentials = credentialsFrom(req.header, req.rawEnvelopeBytes);
    const result = await serveRetrieve(req, ctx, requests, (accepted) =>
      gateway.retrieve(accepted, new ConsumerCall(req, ctx, credentials)),
    );
    req.logger.info('ITI-43 federated retrieve', {
      status: result.status,
      requested: requests.length,
      returned: result.documents.length,
      errors: result.errors.map((e) => `${e.code}@${e.location ?? ''}`),
    });
    return retrieveReply(ACTIONS.iti43.response, result);
  });
  return { [ACTIONS.iti18.request]: query, [ACTIONS.iti43.request]: retrieve };
}
