/**
 * ITI-92 Restricted Update Document Set (Restricted Metadata Update, RMU): lcm:SubmitObjectsRequest
 * in, rs:RegistryResponse out, at two endpoints, as the two persistence options of the Update
 * Responder:
 * - XDS Persistence Option, the registry endpoint: the Document Registry applies the update;
 * - XCA Persistence Option, the responding gateway endpoint: the gateway applies it to its own
 *   community's registry (connector/gateway/responding.ts). A requesting community's assertion is
 *   verified there as for ITI-38 (`trust.endpoints.responding`).
 * The rules, the versions and the commit are the registry's (registry/update.ts with the ITI-92
 * rule list, registry/validate/iti92.ts), on the one write path of every registry change; the wire
 * is ITI-57's.
 *
 * Trust and audit are those of every metadata update (update.ts), with the ITI-92 event.
 */
import type { DocumentRegistry } from '../../registry/registry.js';
import type { RespondingGateway } from '../gateway/responding.js';
import type { SoapHandler } from '../soap/endpoint.js';
import { ACTIONS } from '../soap/actions.js';
import { withContext, type TransactionServices } from './context.js';
import { serveUpdate, type UpdateResponder } from './update.js';

/** ITI-92 at the registry endpoint (XDS Persistence Option). */
export function iti92(registry: DocumentRegistry, services: TransactionServices): SoapHandler {
  const responder: UpdateResponder = {
    transaction: 'ITI-92',
    action: ACTIONS.iti92,
    registry,
    apply: (submission, records) => registry.restrictedUpdate(submission, records),
  };
  return withContext(services, 'registry', 'ITI-92', (req, ctx) => serveUpdate(req, ctx, responder));
}

/**
 * ITI-92 at the responding gateway (XCA Persistence Option), for a gateway that has a registry of
 * its own (connector/transactions/responding.ts offers the action only then).
 */
export function iti92Responding(gateway: RespondingGateway, services: TransactionServices): SoapHandler {
  const registry = gateway.persistence;
  if (registry === undefined) throw new Error('ITI-92 at a responding gateway without a registry (hub mode) is not offered');
  const responder: UpdateResponder = {
    transaction: 'ITI-92',
    action: ACTIONS.iti92,
    registry,
    apply: (submission, records) => gateway.restrictedUpdate(submission, records),
  };
  return withContext(services, 'responding', 'ITI-92', (req, ctx) => serveUpdate(req, ctx, responder));
}
