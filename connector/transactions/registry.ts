/** The Document Registry endpoint: the actions it serves. */
import type { DocumentRegistry } from '../../registry/registry';
import type { SoapHandler } from '../soap/endpoint';
import { ACTIONS } from '../soap/actions';
import { iti18 } from './iti18';
import { iti42 } from './iti42';

export function registryTransactions(registry: DocumentRegistry): Record<string, SoapHandler> {
  return {
    [ACTIONS.iti42.request]: iti42(registry),
    [ACTIONS.iti18.request]: iti18(registry),
  };
}
