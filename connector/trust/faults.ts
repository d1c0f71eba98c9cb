/**
 * The SOAP faults the XUA layer answers with (WS-Security 1.1 §12). All are env:Sender (HTTP 400):
 * the request, not the node, is at fault.
 *
 * - wsse:InvalidSecurity: the wsse:Security header cannot be processed as sent (no or several
 *   assertions, a misplaced signature, an algorithm we refuse, contradictory attributes, XML the
 *   signature library cannot read).
 * - wsse:FailedAuthentication: the header is well formed but does not authenticate (bad or
 *   untrusted signature, unknown issuer or audience, outside its validity period).
 * - wsse:MessageExpired: the message's own wsu:Timestamp has expired (WS-Security 1.1 §10, §12).
 */
import { SoapFault, WSSE_FAULT } from '../soap/fault.js';

export function invalidSecurity(reason: string, cause?: unknown): SoapFault {
  const fault = new SoapFault({ code: 'Sender', subcode: WSSE_FAULT.invalidSecurity, reason });
  // The cause is for our log only: the peer gets the reason, never our internals.
  if (cause !== undefined) fault.cause = cause;
  return fault;
}

export function failedAuthentication(reason: string): SoapFault {
  return new SoapFault({ code: 'Sender', subcode: WSSE_FAULT.failedAuthentication, reason });
}

export function messageExpired(reason: string): SoapFault {
  return new SoapFault({ code: 'Sender', subcode: WSSE_FAULT.messageExpired, reason });
}

/**
 * Any error XUA verification did not anticipate (a parser or signature-library exception, a bug),
 * as the fault the peer gets. Verification must fail closed and quietly: such an error is a refused
 * request, audited like any other, not an HTTP 500 with a stack trace.
 */
export function securityFault(e: unknown): SoapFault {
  if (e instanceof SoapFault) return e;
  return invalidSecurity('the wsse:Security header could not be processed', e);
}

const MAX_CAUSE = 200;

/** The fault's cause as one short log line (library messages can quote whole XML elements), or undefined. */
export function faultCause(fault: SoapFault): string | undefined {
  const cause: unknown = fault.cause;
  if (cause === undefined) return undefined;
  const text = (cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)).replace(/\s+/g, ' ').trim();
  return text.length > MAX_CAUSE ? `${text.slice(0, MAX_CAUSE)}…` : text;
}
