/**
 * Serving an endpoint's service description: its WSDL at `<endpoint>?wsdl` and the XML schemas the
 * WSDL imports at `<endpoint>?xsd=<file>`.
 *
 * The files on disk import each other by relative path (`../rs.xsd`, `rim.xsd`), which a client
 * that fetched the WSDL from `<host>/xds/repository?wsdl` would resolve against `<host>/` and not
 * find. So every `schemaLocation` in what we serve is rewritten to this endpoint's `?xsd=` URL,
 * and the service address to the URL the description was fetched from: CXF wsdl2java, SoapUI and
 * node-soap can then load everything from the node itself.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export type DescriptionRequest = { kind: 'wsdl' } | { kind: 'xsd'; file: string };

/** Only plain schema file names are served: no paths, so nothing outside the schema folder. */
const XSD_NAME = /^[A-Za-z0-9_.-]+\.xsd$/;

/** Whether a GET asks for the WSDL or one schema (query parameters `wsdl` or `xsd=<file>`). */
export function descriptionRequest(url: string): DescriptionRequest | undefined {
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  for (const p of url.slice(q + 1).split('&')) {
    const [rawKey = '', rawValue = ''] = p.split('=');
    const key = rawKey.toLowerCase();
    if (key === 'wsdl') return { kind: 'wsdl' };
    if (key === 'xsd') {
      let file: string;
      try {
        file = decodeURIComponent(rawValue);
      } catch {
        return undefined;
      }
      return XSD_NAME.test(file) && file !== '..' ? { kind: 'xsd', file } : undefined;
    }
  }
  return undefined;
}

/** The WSDL lives in xsd/wsdl/, the schemas in xsd/. */
function schemaDir(wsdlFile: string): string {
  return join(dirname(wsdlFile), '..');
}

function escapeAttr(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Points the SOAP address at the service URL and every schemaLocation at `?xsd=`. */
export function rewriteDescription(text: string, serviceUrl: string): string {
  const url = escapeAttr(serviceUrl);
  return text
    .replace(/(<(?:[A-Za-z_][\w.-]*:)?address\b[^>]*?\blocation=")[^"]*(")/g, `$1${url}$2`)
    .replace(/(\bschemaLocation=")(?:\.\.\/)?([A-Za-z0-9_.-]+\.xsd)(")/g, (_m, a: string, file: string, b: string) => `${a}${url}?xsd=${file}${b}`);
}

/** Reads and caches the described files; undefined when a schema does not exist. */
export function descriptionLoader(wsdlFile: string): (request: DescriptionRequest) => Promise<string | undefined> {
  const cache = new Map<string, Promise<string | undefined>>();
  return (request) => {
    const path = request.kind === 'wsdl' ? wsdlFile : join(schemaDir(wsdlFile), request.file);
    let text = cache.get(path);
    if (!text) {
      text = readFile(path, 'utf8').then(
        (t) => t,
        (e: NodeJS.ErrnoException) => {
          cache.delete(path);
          if (e.code === 'ENOENT' && request.kind === 'xsd') return undefined;
          throw e;
        },
      );
      cache.set(path, text);
    }
    return text;
  };
}
