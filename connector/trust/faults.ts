/**
 * The two SOAP faults the XUA layer answers with (WS-Security 1.1 §12). Both are env:Sender: the
 * request, not the node, is at fault.
 *
 * - wsse:InvalidSecurity: the wsse:Security header cannot be processed as sent (no or several
 *   assertions, a misplaced signature, an algorithm we refuse, contradictory attributes).
 * - wsse:FailedAuthentication: the header is well formed but does not authenticate (bad or
 *   untrusted signature, unknown issuer or audience, outside its validity period).
 */
import { SoapFault, WSSE_FAULT } from '../soap/fault.js';

export function invalidSecurity(reason: string): SoapFault {
  return new SoapFault({ code: 'Sender', subcode: WSSE_FAULT.invalidSecurity, reason });
}

export function failedAuthentication(reason: string): SoapFault {
  return new SoapFault({ code: 'Sender', subcode: WSSE_FAULT.failedAuthentication, reason });
}
