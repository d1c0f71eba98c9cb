/** The Document Repository endpoint: the actions it serves. */
import type { DocumentRepository } from '../../repository/repository';
import { ACTIONS } from '../soap/actions';
import type { SoapHandler } from '../soap/endpoint';
import type { TransactionServices } from './context';
import { iti41 } from './iti41';
import { iti43 } from './iti43';

export function repositoryTransactions(repository: DocumentRepository, services: TransactionServices): Record<string, SoapHandler> {
  return {
    [ACTIONS.iti41.request]: iti41(repository, services),
    [ACTIONS.iti43.request]: iti43(repository, services),
  };
}
