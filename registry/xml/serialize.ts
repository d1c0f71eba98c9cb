/**
 * XmlElement tree → XML text.
 *
 * Every namespace used anywhere in the tree is declared once, on the root, with the conventional
 * prefix of namespaces.ts (ns1, ns2, … for URIs we have no name for). The default namespace is
 * never used, so an unprefixed element is always in no namespace and an unprefixed attribute
 * always means "no namespace" too: the output reads the same to every parser.
 */
import { NS, PREFERRED_PREFIX } from './namespaces';
import type { XmlElement } from './tree';

export interface SerializeOptions {
  /** Prepend `<?xml version="1.0" encoding="UTF-8"?>`. */
  declaration?: boolean;
}

export function serializeXml(root: XmlElement, options: SerializeOptions = {}): string {
  const prefixes = assignPrefixes(root);
  const out: string[] = [];
  if (options.declaration) out.push('<?xml version="1.0" encoding="UTF-8"?>');
  let declarations = '';
  for (const [uri, prefix] of prefixes) {
    if (uri !== NS.xml) declarations += ` xmlns:${prefix}="${escapeAttribute(uri)}"`;
  }
  write(root, prefixes, out, declarations);
  return out.join('');
}

/** Maps each namespace URI used in the tree to the prefix it will be written with (first-use order). */
function assignPrefixes(root: XmlElement): Map<string, string> {
  const used: string[] = [];
  const seen = new Set<string>();
  const note = (uri: string): void => {
    if (uri !== '' && !seen.has(uri)) {
      seen.add(uri);
      used.push(uri);
    }
  };
  const pending: XmlElement[] = [root];
  // Document order matters only for readability; an explicit stack keeps deep trees safe.
  while (pending.length > 0) {
    const e = pending.pop()!;
    note(e.ns);
    for (const key of Object.keys(e.attrs)) if (key.charCodeAt(0) === 0x7b /* { */) note(key.slice(1, key.indexOf('}')));
    for (let i = e.children.length - 1; i >= 0; i--) {
      const c = e.children[i]!;
      if (typeof c !== 'string') pending.push(c);
    }
  }
  const taken = new Set<string>(['xml', 'xmlns']);
  const prefixes = new Map<string, string>();
  for (const uri of used) {
    if (uri === NS.xml) {
      prefixes.set(uri, 'xml');
      continue;
    }
    const preferred = PREFERRED_PREFIX[uri];
    if (preferred !== undefined && !taken.has(preferred)) {
      prefixes.set(uri, preferred);
      taken.add(preferred);
    }
  }
  let n = 1;
  for (const uri of used) {
    if (prefixes.has(uri)) continue;
    while (taken.has(`ns${n}`)) n++;
    prefixes.set(uri, `ns${n}`);
    taken.add(`ns${n}`);
  }
  return prefixes;
}

function write(e: XmlElement, prefixes: Map<string, string>, out: string[], declarations: string): void {
  const name = qualified(e.ns, e.local, prefixes);
  let open = `<${name}${declarations}`;
  for (const [key, value] of Object.entries(e.attrs)) {
    let attrName = key;
    if (key.charCodeAt(0) === 0x7b) {
      const close = key.indexOf('}');
      attrName = qualified(key.slice(1, close), key.slice(close + 1), prefixes);
    }
    open += ` ${attrName}="${escapeAttribute(value)}"`;
  }
  if (e.children.length === 0) {
    out.push(open + '/>');
    return;
  }
  out.push(open + '>');
  for (const c of e.children) {
    if (typeof c === 'string') out.push(escapeText(c));
    else write(c, prefixes, out, '');
  }
  out.push(`</${name}>`);
}

function qualified(ns: string, local: string, prefixes: Map<string, string>): string {
  return ns === '' ? local : `${prefixes.get(ns)!}:${local}`;
}

export function escapeText(s: string): string {
  if (!/[&<>\r]/.test(s)) return s;
  // \r must be a reference or a reader would turn it into \n.
  return s.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
}

export function escapeAttribute(s: string): string {
  if (!/[&<>"\r\n\t]/.test(s)) return s;
  // Literal tab and newline in an attribute would be normalised to spaces by every reader.
  return s.replace(/[&<>"\r\n\t]/g, (c) => ATTRIBUTE_ESCAPES[c]!);
}

const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\r': '&#13;',
  '\n': '&#10;',
  '\t': '&#9;',
};
