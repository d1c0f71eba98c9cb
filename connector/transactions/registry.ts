/** The Document Registry endpoint: the actions it serves. */
import type { DocumentRegistry } from '../../registry/registry.js';
import type { MultiPatientQueryConfig } from '../config.js';
import type { SoapHandler } from '../soap/endpoint.js';
import type { TransactionServices } from './context.js';
import { ACTIONS } from '../soap/actions.js';
import { iti18 } from './iti18.js';
import { iti42 } from './iti42.js';
import { iti51 } from './iti51.js';
import { iti57 } from './iti57.js';
import { iti62 } from './iti62.js';
import { iti92 } from './iti92.js';

export interface RegistryTransactionOptions {
  /**
   * `registry.multiPatientQuery`: ITI-51 is served only when enabled. Absent, it is not, so that a
   * caller that passes no settings never offers a query across patients.
   */
  readonly multiPatientQuery?: MultiPatientQueryConfig;
}

export function registryTransactions(
  registry: DocumentRegistry,
  services: TransactionServices,
  options: RegistryTransactionOptions = {},
): Record<string, SoapHandler> {
  // The audit events written with this registry's commits (ITI-42, and ITI-41 through the in-process
  // port) are the auditor's to record: those a crash left unrecorded now, and any left later.
  services.auditor.attachOutbox(registry.store);
  const mpq = options.multiPatientQuery;
  return {
    [ACTIONS.iti42.request]: iti42(registry, services),
    [ACTIONS.iti18.request]: iti18(registry, services),
    [ACTIONS.iti62.request]: iti62(registry, services),
    [ACTIONS.iti57.request]: iti57(registry, services),
    [ACTIONS.iti92.request]: iti92(registry, services),
    // Not offered unless enabled: the SOAP layer answers an action it does not serve with wsa:ActionNotSupported.
    ...(mpq?.enabled === true ? { [ACTIONS.iti51.request]: iti51(registry, services, mpq) } : {}),
  };
}
