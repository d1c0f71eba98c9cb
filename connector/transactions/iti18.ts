/**
 * ITI-18 Registry Stored Query at the registry endpoint: query:AdhocQueryRequest in,
 * query:AdhocQueryResponse out, under the trust policy and audited (serve.ts).
 */
import { adhocQueryResponse } from '../../registry/ebxml/index.js';
import type { DocumentRegistry } from '../../registry/registry.js';
import type { SoapHandler } from '../soap/endpoint.js';
import { ACTIONS } from '../soap/actions.js';
import { withContext, type TransactionServices } from './context.js';
import { serveQuery } from './serve.js';

export function iti18(registry: DocumentRegistry, services: TransactionServices): SoapHandler {
  return withContext(services, 'registry', 'ITI-18', async (req, ctx) => {
    const result = await serveQuery(req, ctx, (request) => registry.query(request));
    req.logger.info('ITI-18 stored query', {
      status: result.status,
      returned: result.objects.length,
      errors: result.errors.map((e) => e.code),
    });
    return { action: ACTIONS.iti18.response, body: adhocQueryResponse(result) };
  });
}
