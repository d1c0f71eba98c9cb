/** The responding gateway endpoint: the actions it serves. */
import type { RespondingGateway } from '../gateway/responding.js';
import type { SoapHandler } from '../soap/endpoint.js';
import type { TransactionServices } from './context.js';
import { ACTIONS } from '../soap/actions.js';
import { iti38 } from './iti38.js';
import { iti39 } from './iti39.js';
import { iti92Responding } from './iti92.js';

export function respondingTransactions(gateway: RespondingGateway, services: TransactionServices): Record<string, SoapHandler> {
  return {
    [ACTIONS.iti38.request]: iti38(gateway, services),
    [ACTIONS.iti39.request]: iti39(gateway, services),
    // XCA Persistence Option: only where the gateway has a registry of its own (not the hub).
    ...(gateway.persistence !== undefined ? { [ACTIONS.iti92.request]: iti92Responding(gateway, services) } : {}),
  };
}
