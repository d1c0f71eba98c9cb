/** The Document Repository endpoint: the actions it serves. */
import type { DocumentRepository } from '../../repository/repository.js';
import { ACTIONS } from '../soap/actions.js';
import type { SoapHandler } from '../soap/endpoint.js';
import type { TransactionServices } from './context.js';
import { iti41 } from './iti41.js';
import { iti43 } from './iti43.js';
import { iti86 } from './iti86.js';

export function repositoryTransactions(repository: DocumentRepository, services: TransactionServices): Record<string, SoapHandler> {
  // With a remote registry, ITI-41's audit goes through intents (connector/audit/intents.ts): those
  // a crash left are settled by asking the registry which documents it holds.
  if (!repository.registryStoresCommitRecords) services.auditor.attachRegistrationCheck((uniqueIds) => repository.registeredDocuments(uniqueIds));
  return {
    [ACTIONS.iti41.request]: iti41(repository, services),
    [ACTIONS.iti43.request]: iti43(repository, services),
    [ACTIONS.iti86.request]: iti86(repository, services),
  };
}
