/**
 * ITI-18 Registry Stored Query: query:AdhocQueryRequest in, query:AdhocQueryResponse out.
 */
import { adhocQueryResponse, parseAdhocQueryRequest } from '../../registry/ebxml';
import { NS } from '../../registry/xml/namespaces';
import type { DocumentRegistry } from '../../registry/registry';
import type { SoapHandler } from '../soap/endpoint';
import { ACTIONS } from '../soap/actions';
import { expectBody, failureOnRegistryError } from './common';

export function iti18(registry: DocumentRegistry): SoapHandler {
  return async (req) => {
    expectBody(req.body, NS.query, 'AdhocQueryRequest');
    const result = await failureOnRegistryError(
      async () => registry.query(parseAdhocQueryRequest(req.body)),
      (errors) => ({ status: 'Failure' as const, errors, returnType: 'LeafClass' as const, objects: [] }),
    );
    req.logger.info('ITI-18 stored query', {
      status: result.status,
      returned: result.objects.length,
      errors: result.errors.map((e) => e.code),
    });
    return { action: ACTIONS.iti18.response, body: adhocQueryResponse(result) };
  };
}
