/**
 * ITI-43 Retrieve Document Set at the repository endpoint: xdsb:RetrieveDocumentSetRequest in,
 * xdsb:RetrieveDocumentSetResponse out, always as MTOM (wire format: retrieve-wire.ts), each
 * document an xop:Include part streamed from the blob store; under the trust policy and audited
 * (serve.ts).
 */
import type { DocumentRepository } from '../../repository/repository.js';
import { ACTIONS } from '../soap/actions.js';
import type { SoapHandler } from '../soap/endpoint.js';
import { withContext, type TransactionServices } from './context.js';
import { parseRetrieveDocumentSetRequest, retrieveReply } from './retrieve-wire.js';
import { serveRetrieve } from './serve.js';

export function iti43(repository: DocumentRepository, services: TransactionServices): SoapHandler {
  return withContext(services, 'repository', 'ITI-43', async (req, ctx) => {
    // A missing id is kept as '' so that the repository answers it with its own error code.
    const requests = parseRetrieveDocumentSetRequest(req.body, { missingId: 'keep' });
    const result = await serveRetrieve(req, ctx, requests, (accepted) => repository.retrieve(accepted));
    req.logger.info('ITI-43 retrieve', {
      status: result.status,
      documents: result.documents.length,
      bytes: result.documents.reduce((n, d) => n + d.size, 0),
      errors: result.errors.map((e) => e.code),
    });
    return retrieveReply(ACTIONS.iti43.response, result);
  });
}
