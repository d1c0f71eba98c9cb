/**
 * What the fuzzer accepts as an answer: a SOAP fault, or an ebXML/XDS response
 * (RegistryResponse, AdhocQueryResponse, RetrieveDocumentSetResponse) that parses; an HTTP 5xx
 * only with a SOAP fault body; never a stack trace, a file path or a local file's content.
 */
import { NS } from '../../registry/xml/namespaces.js';
import { parseXml } from '../../registry/xml/parse.js';
import { childElement, childElements, descendants, textContent, type XmlElement } from '../../registry/xml/tree.js';

export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

export type Verdict =
  | { readonly ok: true; readonly kind: 'fault'; readonly code: string; readonly reason: string }
  | { readonly ok: true; readonly kind: 'response'; readonly element: string; readonly status: string; readonly errorCodes: readonly string[] }
  | { readonly ok: false; readonly problem: 'unexplained-5xx' | 'unparseable' | 'leak' | 'fault-with-2xx'; readonly detail: string };

/** Stack frames, source or system paths, /etc/passwd lines. */
const LEAKS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\n\s+at [^\n]+/, 'stack frame'],
  [/\bat (?:async )?[\w$.<>]+ \([^)]*:\d+:\d+\)/, 'stack frame'],
  [/(?:\/work\/|\/home\/|\/tmp\/|\/usr\/|node_modules|file:\/\/\/)/, 'file path'],
  [/\.(?:ts|js|mjs|cjs):\d+/, 'source location'],
  [/root:x?:0:0:/, '/etc/passwd content'],
  [/\b(?:TypeError|ReferenceError|RangeError|SyntaxError)\b/, 'JavaScript error name'],
];

/** The SOAP envelope text of an answer (the root part when it is MTOM). */
export function envelopeText(answer: HttpAnswer): string {
  const ct = answer.contentType.toLowerCase();
  const text = answer.body.toString('utf8');
  if (!ct.startsWith('multipart/related')) return text;
  const boundary = /boundary="?([^";]+)"?/i.exec(answer.contentType)?.[1];
  if (!boundary) return text;
  const first = text.indexOf(`--${boundary}`);
  const headersEnd = text.indexOf('\r\n\r\n', first);
  const next = text.indexOf(`\r\n--${boundary}`, headersEnd);
  return text.slice(headersEnd + 4, next === -1 ? undefined : next);
}

function faultCode(fault: XmlElement, soapNs: string): string {
  if (soapNs === NS.soap11) return `soap11:${textContent(childElement(fault, '', 'faultcode') ?? fault).trim()}`;
  const codes: string[] = [];
  let code = childElement(fault, NS.soap12, 'Code');
  while (code) {
    const value = childElement(code, NS.soap12, 'Value');
    if (value) codes.push(textContent(value).trim().replace(/^[\w.-]+:/, ''));
    code = childElement(code, NS.soap12, 'Subcode');
  }
  return codes.join('/');
}

export function judge(answer: HttpAnswer): Verdict {
  const text = envelopeText(answer);
  for (const [re, what] of LEAKS) {
    // The envelope only: retrieved documents are the submitters' bytes, not our words.
    const m = re.exec(text);
    if (m) return { ok: false, problem: 'leak', detail: `${what}: ${JSON.stringify(m[0].slice(0, 120))}` };
  }
  let root: XmlElement;
  try {
    root = parseXml(text, { maxDepth: 64 });
  } catch (e) {
    const problem = answer.status >= 500 ? 'unexplained-5xx' : 'unparseable';
    return { ok: false, problem, detail: `HTTP ${answer.status} ${answer.contentType}: ${(e as Error).message}; body starts ${JSON.stringify(text.slice(0, 160))}` };
  }
  const soapNs = root.ns;
  const body = root.local === 'Envelope' && (soapNs === NS.soap12 || soapNs === NS.soap11) ? childElement(root, soapNs, 'Body') : undefined;
  const first = body ? childElements(body)[0] : undefined;
  if (!first) {
    const problem = answer.status >= 500 ? 'unexplained-5xx' : 'unparseable';
    return { ok: false, problem, detail: `HTTP ${answer.status}: not a SOAP envelope with a body: ${JSON.stringify(text.slice(0, 160))}` };
  }
  if (first.ns === soapNs && first.local === 'Fault') {
    if (answer.status < 400) return { ok: false, problem: 'fault-with-2xx', detail: `HTTP ${answer.status} with a fault` };
    const reason = textContent(first).trim().slice(0, 200);
    return { ok: true, kind: 'fault', code: faultCode(first, soapNs), reason };
  }
  if (answer.status >= 500) return { ok: false, problem: 'unexplained-5xx', detail: `HTTP ${answer.status} with ${first.local}` };
  const known =
    (first.ns === NS.rs && first.local === 'RegistryResponse') ||
    (first.ns === NS.query && first.local === 'AdhocQueryResponse') ||
    (first.ns === NS.xdsb && first.local === 'RetrieveDocumentSetResponse');
  if (!known || soapNs !== NS.soap12) return { ok: false, problem: 'unparseable', detail: `unexpected answer element {${first.ns}}${first.local}` };
  const registryResponse = first.local === 'RetrieveDocumentSetResponse' ? childElement(first, NS.rs, 'RegistryResponse') : first;
  const status = (registryResponse?.attrs.status ?? '').replace(/^.*:/, '');
  const errorCodes = descendants(first, NS.rs, 'RegistryError').map((e) => e.attrs.errorCode ?? '(none)');
  if (!status) return { ok: false, problem: 'unparseable', detail: `${first.local} without a status` };
  return { ok: true, kind: 'response', element: first.local, status, errorCodes };
}
