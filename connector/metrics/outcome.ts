/**
 * What one SOAP request came to, read from what the client was actually sent: the ebRS status and
 * RegistryErrors of the reply body, or the SOAP fault.
 *
 * Why the reply and not the audit trail: audit events are not one per request (a retrieve is
 * audited once per patient, a stored submission's event may be recorded twice with one id, the
 * initiating gateway also records its outbound ITI-38/39, events of a crashed run are drained at
 * start) and they do not name the endpoint. The reply is exactly one per request and is what the
 * peer saw.
 */
import { NS } from '../../registry/xml/namespaces.js';
import { isElement, type XmlElement } from '../../registry/xml/tree.js';
import type { SoapFault } from '../soap/fault.js';

export type RequestOutcome = 'success' | 'partial' | 'failure' | 'fault' | 'denied' | 'aborted';

export interface ClassifiedReply {
  readonly outcome: RequestOutcome;
  /** errorCode of every RegistryError of severity Error, in document order (repeats kept). */
  readonly errorCodes: readonly string[];
}

/**
 * The trust layer writes every denial as an XDSRegistryError whose codeContext starts with this
 * (connector/trust/policy.ts `denialError`, and the per-document refusals of
 * connector/transactions/policy.ts): the only mark a denial leaves in the answer.
 */
const DENIAL_PREFIX = 'access denied:';


/** The element that carries status and RegistryErrorList: the body itself, or (retrieves) its rs:RegistryResponse child. */
function statusCarrier(body: XmlElement): XmlElement {
  if (body.attrs['status'] !== undefined) return body;
  for (const c of body.children) {
    if (isElement(c) && c.ns === NS.rs && c.local === 'RegistryResponse') return c;
  }
  return body;
}

/**
 * Reads status and error codes without walking the result objects: status is an attribute of the
 * carrier and RegistryErrorList one of its direct children, so a large query answer costs a scan
 * of the carrier's children only.
 */
export function classifyReply(body: XmlElement): ClassifiedReply {
  const carrier = statusCarrier(body);
  const status = carrier.attrs['status'] ?? '';
  const errorCodes: string[] = [];
  let denials = 0;
  for (const c of carrier.children) {
    if (!isElement(c) || c.local !== 'RegistryErrorList' || c.ns !== NS.rs) continue;
    for (const e of c.children) {
      if (!isElement(e) || e.local !== 'RegistryError') continue;
      // Warnings do not make a request fail; only errors are counted.
      if ((e.attrs['severity'] ?? '').endsWith(':Warning')) continue;
      errorCodes.push(e.attrs['errorCode'] ?? 'unknown');
      if ((e.attrs['codeContext'] ?? '').startsWith(DENIAL_PREFIX)) denials++;
    }
  }
  // The name after the URN's last colon: Success and Failure are ebRS URNs, PartialSuccess is IHE's (urn:ihe:iti:2007:…).
  const s = status.slice(status.lastIndexOf(':') + 1);
  let outcome: RequestOutcome;
  if (s === 'Success') outcome = 'success';
  else if (s === 'PartialSuccess') outcome = 'partial';
  // A Failure whose every error is a refusal of the trust model: the request was denied, not failed.
  else outcome = denials > 0 && denials === errorCodes.length ? 'denied' : 'failure';
  return { outcome, errorCodes };
}

/** A fault as a label value: its code and first subcode, e.g. `Sender/ActionNotSupported` (a bounded set: the node's own faults). */
export function faultLabel(fault: Pick<SoapFault, 'code' | 'subcode' | 'soap11'>): string {
  if (fault.soap11) return 'VersionMismatch';
  const sub = fault.subcode;
  return sub === undefined ? fault.code : `${fault.code}/${sub.local}`;
}
