/**
 * The initiating gateway endpoint: ITI-18 and ITI-43 from the community's own consumers, answered
 * by fanning out (connector/gateway/initiating.ts). The consumer's SAML assertion travels on to
 * every community; a consumer restricts a query to one community with AdhocQuery/@home.
 */
import type { InitiatingGateway } from '../gateway/initiating';
import { credentialsFrom } from '../gateway/security';
import type { SoapHandler } from '../soap/endpoint';
import { ACTIONS } from '../soap/actions';
import { abandoned, answerQuery, gatewayQueryResponse } from './iti38';
import { parseRetrieveDocumentSetRequest, retrieveReply } from './iti39';

export function initiatingTransactions(gateway: InitiatingGateway): Record<string, SoapHandler> {
  const query: SoapHandler = async (req) => {
    const credentials = credentialsFrom(req.header);
    const result = await answerQuery(req, (request) =>
      gateway.query(request, { ...(credentials ? { credentials } : {}), signal: abandoned(req) }),
    );
    req.logger.info('ITI-18 federated query', {
      status: result.status,
      returned: result.objects.length + result.objectRefs.length,
      errors: result.errors.map((e) => `${e.code}@${e.location ?? ''}`),
    });
    return { action: ACTIONS.iti18.response, body: gatewayQueryResponse(result) };
  };
  const retrieve: SoapHandler = async (req) => {
    const requests = parseRetrieveDocumentSetRequest(req.body);
    const credentials = credentialsFrom(req.header);
    const result = await gateway.retrieve(requests, { ...(credentials ? { credentials } : {}), signal: abandoned(req) });
    req.logger.info('ITI-43 federated retrieve', {
      status: result.status,
      requested: requests.length,
      returned: result.documents.length,
      errors: result.errors.map((e) => `${e.code}@${e.location ?? ''}`),
    });
    return retrieveReply(ACTIONS.iti43.response, result);
  };
  return { [ACTIONS.iti18.request]: query, [ACTIONS.iti43.request]: retrieve };
}
