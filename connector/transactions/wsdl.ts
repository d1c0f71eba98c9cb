/** Where the WSDL of each endpoint lives (served at `<endpoint>?wsdl`). */
import { fileURLToPath } from 'node:url';

const WSDL_FILES = {
  registry: 'DocumentRegistry.wsdl',
  repository: 'DocumentRepository.wsdl',
  responding: 'RespondingGateway.wsdl',
  initiating: 'InitiatingGateway.wsdl',
} as const;

export function wsdlPath(endpoint: keyof typeof WSDL_FILES): string {
  return fileURLToPath(new URL(`../../xsd/wsdl/${WSDL_FILES[endpoint]}`, import.meta.url));
}
