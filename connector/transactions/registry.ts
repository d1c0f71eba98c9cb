/** The Document Registry endpoint: the actions it serves. */
import type { DocumentRegistry } from '../../registry/registry';
import type { SoapHandler } from '../soap/endpoint';
import type { TransactionServices } from './context';
import { ACTIONS } from '../soap/actions';
import { iti18 } from './iti18';
import { iti42 } from './iti42';

export function registryTransactions(registry: DocumentRegistry, services: TransactionServices): Record<string, SoapHandler> {
  return {
    [ACTIONS.iti42.request]: iti42(registry, services),
    [ACTIONS.iti18.request]: iti18(registry, services),
  };
}
