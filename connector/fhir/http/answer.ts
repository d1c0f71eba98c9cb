/**
 * How the MHD endpoint answers: FHIR R4 JSON (`application/fhir+json`), and every refusal as an
 * OperationOutcome with an HTTP status, never an HTML page or a stack trace.
 *
 * A refusal is thrown as a `FhirError` anywhere below a route and written in one place (router.ts),
 * so that a handler cannot forget to answer or answer twice. Issues that carry an XDS error code
 * (the metadata and registry problems) keep it in `details.coding` (issues.ts `operationOutcome`);
 * problems of the HTTP layer itself (a media type, a route, a token) have no XDS code and say what
 * they are in `diagnostics`.
 */
import type { ServerResponse } from 'node:http';
import type { RegistryErrorInfo } from '../../../registry/model/errors.js';
import type { IssueType, OperationOutcome } from '../mapping/fhir.js';
import { httpStatusOf, mhdError, operationOutcome, type MhdIssue } from '../mapping/issues.js';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** A refusal to answer with: the status, the OperationOutcome and any headers it needs (WWW-Authenticate, Allow, Retry-After). */
export class FhirError extends Error {
  readonly status: number;
  readonly outcome: OperationOutcome;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, outcome: OperationOutcome, headers: Readonly<Record<string, string>> = {}) {
    super(outcome.issue.map((i) => i.details?.text ?? i.diagnostics ?? i.code).join('; '));
    this.name = 'FhirError';
    this.status = status;
    this.outcome = outcome;
    this.headers = headers;
  }

  /** Metadata or registry problems: the status follows from their kinds (issues.ts `httpStatusOf`). */
  static of(issues: readonly MhdIssue[], status = httpStatusOf(issues)): FhirError {
    return new FhirError(status, operationOutcome(issues));
  }

  /** A problem of the HTTP exchange, with no XDS code to give. */
  static http(status: number, code: IssueType, diagnostics: string, headers: Readonly<Record<string, string>> = {}): FhirError {
    return new FhirError(status, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] }, headers);
  }
}

/**
 * The trust model's refusal, as the SOAP side words it (connector/trust/policy.ts `denialError`):
 * an XDSRegistryError whose text starts so. It is answered 403, not as a registry failure.
 */
const DENIAL_PREFIX = 'access denied:';

export function isDenial(e: RegistryErrorInfo): boolean {
  return e.message.startsWith(DENIAL_PREFIX);
}

/**
 * Registry or repository errors as MHD issues: a refusal of the access policy is `forbidden`
 * (403); `locate` maps an XDS id back to where the object came from in the request.
 */
export function issuesOfErrors(errors: readonly RegistryErrorInfo[], locate: (xdsId: string) => string | undefined = () => undefined): MhdIssue[] {
  return errors.map((e) => {
    const location = e.location === undefined ? '' : (locate(e.location) ?? e.location);
    if (isDenial(e)) return mhdError(e.code, '', e.message, 'forbidden');
    return e.severity === 'Warning' ? { code: e.code, location, message: e.message, severity: 'warning' as const } : mhdError(e.code, location, e.message);
  });
}

/**
 * Sends a resource as FHIR JSON. The text is encoded once, into a Buffer: handing the socket a
 * string of a few hundred KB (a searchset) made it encode the text again while writing, which
 * cost more than writing the bytes.
 */
export function sendResource(res: ServerResponse, status: number, resource: unknown, headers: Readonly<Record<string, string>> = {}): void {
  sendJson(res, status, JSON.stringify(resource), headers);
}

/**
 * Sends a resource already written as JSON: one text, or UTF-8 pieces whose concatenation is the
 * text (corked, so they leave with the headers in one writev without being joined first).
 */
export function sendJson(res: ServerResponse, status: number, json: string | readonly Buffer[], headers: Readonly<Record<string, string>> = {}): void {
  const pieces = typeof json === 'string' ? [Buffer.from(json, 'utf8')] : json;
  let length = 0;
  for (const p of pieces) length += p.length;
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', FHIR_JSON);
  res.setHeader('Content-Length', length);
  res.cork();
  for (const p of pieces) res.write(p);
  res.end();
}

/** Sends a refusal. */
export function sendError(res: ServerResponse, error: FhirError): void {
  sendResource(res, error.status, error.outcome, error.headers);
}
