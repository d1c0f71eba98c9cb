/**
 * Request bodies of the MHD endpoint: the media type checked before a byte is read, the body read
 * under the size limit and the listener's memory budget (the SOAP endpoints' own reader,
 * connector/soap/body.ts), JSON parsed only after its nesting was found shallow enough, and search
 * forms. Every failure is a FhirError with a 4xx/503 status, never an exception that reaches the
 * client as a 500.
 */
import type { IncomingMessage } from 'node:http';
import { BUSY_RETRY_AFTER_SECONDS } from '../../http/budget.js';
import { BodyReadError, readBody } from '../../soap/body.js';
import { parseFhirJson } from '../mapping/validate.js';
import { FhirError } from './answer.js';

/** Media types of FHIR JSON (R4, the R3 spelling, and plain JSON, which R4 also accepts). */
const JSON_TYPES: ReadonlySet<string> = new Set(['application/fhir+json', 'application/json', 'application/json+fhir']);
const XML_TYPES: ReadonlySet<string> = new Set(['application/fhir+xml', 'application/xml', 'text/xml', 'application/xml+fhir']);
const FORM = 'application/x-www-form-urlencoded';

/** The media type of a header value, without parameters, lower case ('' when absent). */
export function mediaTypeOf(value: string | undefined): string {
  return (value ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The charset parameter of a Content-Type, when there is one. */
function charsetOf(value: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(value ?? '');
  return m?.[1]?.toLowerCase();
}

export interface BodyLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
  /** Give up on a body that stops arriving for this long. */
  readonly idleTimeoutMs: number;
}

/** The body's bytes under the limits; refusals as FhirErrors (413 too large, 503 busy, 408 stalled, 400 otherwise). */
async function bytesOf(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  try {
    return await readBody(req, { maxBytes: limits.maxBytes, idleTimeoutMs: limits.idleTimeoutMs });
  } catch (e) {
    if (!(e instanceof BodyReadError)) throw e;
    switch (e.reason) {
      case 'too-large':
        throw FhirError.http(413, 'too-long', `${e.message} (fhir.maxRequestBytes)`, { Connection: 'close' });
      case 'busy':
        throw FhirError.http(503, 'throttled', e.message, { 'Retry-After': String(BUSY_RETRY_AFTER_SECONDS), Connection: 'close' });
      case 'timeout':
        throw FhirError.http(408, 'timeout', e.message, { Connection: 'close' });
      default:
        throw FhirError.http(400, 'structure', e.message, { Connection: 'close' });
    }
  }
}

/**
 * The deepest nesting of arrays and objects in JSON text, stopping as soon as it passes `limit`:
 * one pass over the bytes, strings skipped, so a hostile body costs no more than its length and
 * never reaches a recursive reader (the FHIR validator walks resources recursively).
 */
export function jsonDepthExceeds(bytes: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next byte is escaped
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * A FHIR JSON request body, parsed. XML is refused with 415 (this endpoint speaks JSON only), as is
 * any other media type; a body that is not JSON, or too deep, with 400 and the XDS code the SOAP
 * side would give for an unreadable request.
 */
export async function jsonBody(req: IncomingMessage, limits: BodyLimits): Promise<unknown> {
  const type = mediaTypeOf(req.headers['content-type']);
  if (XML_TYPES.has(type)) {
    throw FhirError.http(415, 'not-supported', 'this endpoint accepts FHIR JSON only (application/fhir+json); FHIR XML is not supported');
  }
  if (!JSON_TYPES.has(type)) {
    throw FhirError.http(415, 'not-supported', `expected Content-Type application/fhir+json, got ${type === '' ? 'none' : type}`);
  }
  const charset = charsetOf(req.headers['content-type']);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw FhirError.http(415, 'not-supported', `FHIR JSON is UTF-8; charset ${charset} is not accepted`);
  }
  const bytes = await bytesOf(req, limits);
  if (bytes.length === 0) throw FhirError.of([{ code: 'XDSRegistryMetadataError', location: '', message: 'the request has no body', issueType: 'required' }]);
  if (jsonDepthExceeds(bytes, limits.maxDepth)) {
    throw FhirError.of([{ code: 'XDSRegistryMetadataError', location: '', message: `the JSON is nested deeper than ${limits.maxDepth} levels (fhir.maxJsonDepth)`, issueType: 'structure' }]);
  }
  const parsed = parseFhirJson(bytes);
  if ('issues' in parsed) throw FhirError.of(parsed.issues);
  return parsed.value;
}

/**
 * The parameters of a search sent with POST `_search` (FHIR R4 search.html#Introduction): the
 * form body, and the URL's own parameters, which count as well.
 */
export async function searchForm(req: IncomingMessage, limits: BodyLimits, query: URLSearchParams): Promise<URLSearchParams> {
  const type = mediaTypeOf(req.headers['content-type']);
  if (type !== FORM) throw FhirError.http(415, 'not-supported', `a search by POST is a form: expected Content-Type ${FORM}, got ${type === '' ? 'none' : type}`);
  const bytes = await bytesOf(req, limits);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw FhirError.http(400, 'structure', 'the search form is not UTF-8');
  }
  const params = new URLSearchParams(query);
  for (const [k, v] of new URLSearchParams(text)) params.append(k, v);
  return params;
}
