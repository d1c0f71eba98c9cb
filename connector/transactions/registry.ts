/** The Document Registry endpoint: the actions it serves. */
import type { DocumentRegistry } from '../../registry/registry.js';
import type { SoapHandler } from '../soap/endpoint.js';
import type { TransactionServices } from './context.js';
import { ACTIONS } from '../soap/actions.js';
import { iti18 } from './iti18.js';
import { iti42 } from './iti42.js';

export function registryTransactions(registry: DocumentRegistry, services: TransactionServices): Record<string, SoapHandler> {
  // The audit events written with this registry's commits (ITI-42, and ITI-41 through the in-process
  // port) are the auditor's to record: those a crash left unrecorded now, and any left later.
  services.auditor.attachOutbox(registry.store);
  return {
    [ACTIONS.iti42.request]: iti42(registry, services),
    [ACTIONS.iti18.request]: iti18(registry, services),
  };
}
