/** What every transaction does alike: checking the body element and turning RegistryFailure into a response. */
import type { XmlElement } from '../../registry/xml/tree.js';
import { RegistryFailure, type RegistryErrorInfo } from '../../registry/model/errors.js';
import { SoapFault } from '../soap/fault.js';

/** The SOAP body must hold the transaction's request element; anything else is the sender's fault. */
export function expectBody(body: XmlElement, ns: string, local: string): void {
  if (body.ns !== ns || body.local !== local) {
    throw new SoapFault({
      code: 'Sender',
      reason: `expected {${ns}}${local} in the SOAP Body, found {${body.ns}}${body.local}`,
    });
  }
}

/**
 * Runs a registry operation; a RegistryFailure thrown by mapping or rules becomes a Failure
 * result carrying its errors (a response, never a fault).
 */
export async function failureOnRegistryError<T>(
  run: () => Promise<T>,
  onFailure: (errors: readonly RegistryErrorInfo[]) => T,
): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof RegistryFailure) return onFailure(e.errors);
    throw e;
  }
}
