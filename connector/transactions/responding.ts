/** The responding gateway endpoint: the actions it serves. */
import type { RespondingGateway } from '../gateway/responding';
import type { SoapHandler } from '../soap/endpoint';
import type { TransactionServices } from './context';
import { ACTIONS } from '../soap/actions';
import { iti38 } from './iti38';
import { iti39 } from './iti39';

export function respondingTransactions(gateway: RespondingGateway, services: TransactionServices): Record<string, SoapHandler> {
  return {
    [ACTIONS.iti38.request]: iti38(gateway, services),
    [ACTIONS.iti39.request]: iti39(gateway, services),
  };
}
