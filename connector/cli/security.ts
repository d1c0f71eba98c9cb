/**
 * The SAML assertion of a trust-enabled node, carried in a WS-Security header.
 *
 * The assertion is signed, so it is sent byte for byte as the file holds it: the node checks the
 * signature over the assertion's canonical form (connector/trust/locate.ts cuts it from the raw
 * envelope). It therefore goes into the header as text, not through the serializer, which would
 * re-write it; the wsu:Timestamp beside it is built as an element and serialised.
 *
 * The header is not marked mustUnderstand: a node without trust ignores it, and the same command
 * line works against both.
 */
import { NS } from '../../registry/xml/namespaces.js';
import { parseXml } from '../../registry/xml/parse.js';
import { serializeXml } from '../../registry/xml/serialize.js';
import { el } from '../../registry/xml/tree.js';
import { UsageError } from './errors.js';

/** How long the timestamp of a request says it is valid (NHN's clients send five minutes). */
const TIMESTAMP_VALIDITY_MS = 5 * 60_000;

/** The assertion of a file, without BOM and XML declaration; a usage error unless it is a well-formed saml2:Assertion. */
export function readAssertion(text: string, file: string): string {
  const xml = text.replace(/^\uFEFF/, '').replace(/^\s*<\?xml[^>]*\?>\s*/, '').trim();
  let root;
  try {
    root = parseXml(xml);
  } catch (e) {
    throw new UsageError(`--assertion ${file} is not well-formed XML: ${(e as Error).message}`);
  }
  if (root.ns !== NS.saml2 || root.local !== 'Assertion') {
    throw new UsageError(`--assertion ${file} holds {${root.ns}}${root.local}, not a SAML 2.0 Assertion`);
  }
  return xml;
}

/** The wsse:Security header block with the assertion and a fresh wsu:Timestamp. */
export function securityHeader(assertion: string, now: Date = new Date()): string {
  const timestamp = el(NS.wsu, 'Timestamp', {}, [
    el(NS.wsu, 'Created', {}, [now.toISOString()]),
    el(NS.wsu, 'Expires', {}, [new Date(now.getTime() + TIMESTAMP_VALIDITY_MS).toISOString()]),
  ]);
  return `<wsse:Security xmlns:wsse="${NS.wsse}">${assertion}${serializeXml(timestamp)}</wsse:Security>`;
}
