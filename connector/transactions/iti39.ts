/**
 * ITI-39 Cross Gateway Retrieve at the responding gateway: xdsb:RetrieveDocumentSetRequest in,
 * xdsb:RetrieveDocumentSetResponse out, always MTOM (wire format: retrieve-wire.ts), under the
 * trust policy and audited (serve.ts).
 */
import type { RespondingGateway } from '../gateway/responding.js';
import { credentialsFrom } from '../gateway/security.js';
import type { SoapHandler } from '../soap/endpoint.js';
import { ACTIONS } from '../soap/actions.js';
import { withContext, type TransactionServices } from './context.js';
import { ConsumerCall } from './iti38.js';
import { parseRetrieveDocumentSetRequest, retrieveReply } from './retrieve-wire.js';
import { serveRetrieve } from './serve.js';

export function iti39(gateway: RespondingGateway, services: TransactionServices): SoapHandler {
  return withContext(services, 'responding', 'ITI-39', async (req, ctx) => {
    const requests = parseRetrieveDocumentSetRequest(req.body, { missingId: 'fault' });
    const credentials = credentialsFrom(req.header, req.rawEnvelopeBytes);
    const result = await serveRetrieve(req, ctx, requests, (accepted) =>
      gateway.retrieve(accepted, new ConsumerCall(req, ctx, credentials)),
    );
    req.logger.info('ITI-39 cross gateway retrieve', {
      status: result.status,
      requested: requests.length,
      returned: result.documents.length,
      errors: result.errors.map((e) => e.code),
    });
    return retrieveReply(ACTIONS.iti39.response, result);
  });
}
