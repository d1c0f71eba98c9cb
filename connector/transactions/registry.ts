/** The Document Registry endpoint: the actions it serves. */
import type { DocumentRegistry } from '../../registry/registry.js';
import type { SoapHandler } from '../soap/endpoint.js';
import type { TransactionServices } from './context.js';
import { ACTIONS } from '../soap/actions.js';
import { iti18 } from './iti18.js';
import { iti42 } from './iti42.js';

export function registryTransactions(registry: DocumentRegistry, services: TransactionServices): Record<string, SoapHandler> {
  return {
    [ACTIONS.iti42.request]: iti42(registry, services),
    [ACTIONS.iti18.request]: iti18(registry, services),
  };
}
