/**
 * ITI-57 Update Document Set (XDS Metadata Update option) at the registry endpoint. The wire, the
 * trust decision and the audit are those of every metadata update (update.ts); the rules, the
 * versions and the commit are the registry actor's (registry/update.ts with the ITI-57 rule list),
 * on the one write path of every registry change.
 */
import type { DocumentRegistry } from '../../registry/registry.js';
import type { SoapHandler } from '../soap/endpoint.js';
import { ACTIONS } from '../soap/actions.js';
import { withContext, type TransactionServices } from './context.js';
import { serveUpdate, type UpdateResponder } from './update.js';

export function iti57(registry: DocumentRegistry, services: TransactionServices): SoapHandler {
  const responder: UpdateResponder = {
    transaction: 'ITI-57',
    action: ACTIONS.iti57,
    registry,
    apply: (submission, records) => registry.update(submission, records),
  };
  return withContext(services, 'registry', 'ITI-57', (req, ctx) => serveUpdate(req, ctx, responder));
}
