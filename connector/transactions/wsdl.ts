/** Where the WSDL of each endpoint lives (served at `<endpoint>?wsdl`). */
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';

const WSDL_FILES = {
  registry: 'DocumentRegistry.wsdl',
  repository: 'DocumentRepository.wsdl',
  responding: 'RespondingGateway.wsdl',
  initiating: 'InitiatingGateway.wsdl',
} as const;

export function wsdlPath(endpoint: keyof typeof WSDL_FILES): string {
  return join(PACKAGE_ROOT, 'xsd', 'wsdl', WSDL_FILES[endpoint]);
}
