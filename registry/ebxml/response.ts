/**
 * rs:RegistryResponse and rs:RegistryErrorList, both directions.
 */
import { ERROR_CODES, SEVERITY_URN, STATUS_URN, error, RegistryFailure, type ErrorCode, type RegistryErrorInfo, type ResponseStatus } from '../model/errors.js';
import { NS } from '../xml/namespaces.js';
import { childElement, childElements, el, textContent, type XmlElement } from '../xml/tree.js';

export function registryResponse(status: ResponseStatus, errors: readonly RegistryErrorInfo[]): XmlElement {
  return el(NS.rs, 'RegistryResponse', { status: STATUS_URN[status] }, [registryErrorList(errors)]);
}

/** rs:RegistryErrorList, or undefined when there is nothing to report (the element must then be absent). */
export function registryErrorList(errors: readonly RegistryErrorInfo[]): XmlElement | undefined {
  if (errors.length === 0) return undefined;
  const highest = errors.some((e) => e.severity === 'Error') ? 'Error' : 'Warning';
  return el(
    NS.rs,
    'RegistryErrorList',
    { highestSeverity: SEVERITY_URN[highest] },
    errors.map((e) =>
      el(NS.rs, 'RegistryError', {
        errorCode: e.code,
        codeContext: e.message,
        severity: SEVERITY_URN[e.severity],
        location: e.location,
      }),
    ),
  );
}

export function parseRegistryResponse(response: XmlElement): { status: ResponseStatus; errors: RegistryErrorInfo[] } {
  return { status: readResponseStatus(response), errors: readRegistryErrors(response) };
}

const STATUS_BY_URN = new Map<string, ResponseStatus>(Object.entries(STATUS_URN).map(([k, v]) => [v, k as ResponseStatus]));

export function readResponseStatus(response: XmlElement): ResponseStatus {
  const urn = response.attrs['status'];
  const status = urn === undefined ? undefined : STATUS_BY_URN.get(urn);
  if (status === undefined) throw new RegistryFailure(error('XDSRegistryError', `response with unknown status ${urn ?? '(none)'}`));
  return status;
}

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** Reads rs:RegistryErrorList; codes we do not know become XDSRegistryError with the original code in the message. */
export function readRegistryErrors(response: XmlElement): RegistryErrorInfo[] {
  const list = childElement(response, NS.rs, 'RegistryErrorList');
  if (!list) return [];
  return childElements(list, NS.rs, 'RegistryError').map((e) => {
    const raw = e.attrs['errorCode'] ?? '';
    const context = e.attrs['codeContext'] ?? textContent(e);
    const known = KNOWN_CODES.has(raw);
    const code = (known ? raw : 'XDSRegistryError') as ErrorCode;
    const message = known ? context : `${raw}: ${context}`;
    const severity = e.attrs['severity'] === SEVERITY_URN.Warning || e.attrs['severity']?.endsWith(':Warning') ? 'Warning' : 'Error';
    const location = e.attrs['location'];
    return location === undefined ? { code, message, severity } : { code, message, severity, location };
  });
}
