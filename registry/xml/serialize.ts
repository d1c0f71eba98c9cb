/**
 * XmlElement tree → XML text.
 *
 * Every namespace used anywhere in the tree is declared once, on the root, with the conventional
 * prefix of namespaces.ts (ns1, ns2, … for URIs we have no name for, numbered in order of first
 * use; the conventional ones are declared first). The default namespace is
 * never used, so an unprefixed element is always in no namespace and an unprefixed attribute
 * always means "no namespace" too: the output reads the same to every parser.
 */
import { NS, PREFERRED_PREFIX } from './namespaces';
import type { XmlElement, XmlNode } from './tree';

export interface SerializeOptions {
  /** Prepend `<?xml version="1.0" encoding="UTF-8"?>`. */
  declaration?: boolean;
}

export function serializeXml(root: XmlElement, options: SerializeOptions = {}): string {
  const w = new Writer();
  // The root's own name and attributes are noted before its content, as a reader meets them, so
  // prefixes are numbered in order of first use; the declarations can only be written once the
  // whole content has been seen, hence the root's start tag is assembled last.
  const name = w.qualified(root.ns, root.local);
  const attributes = w.attributes(root);
  let body = '';
  if (root.children.length > 0) body = w.content(root.children);
  const head = `${options.declaration ? '<?xml version="1.0" encoding="UTF-8"?>' : ''}<${name}${w.declarations()}${attributes}`;
  return root.children.length === 0 ? `${head}/>` : `${head}>${body}</${name}>`;
}

/**
 * One serialisation: the prefixes bound so far, assigned on first use in one pass over the tree
 * (a LeafClass answer has tens of thousands of nodes; a separate prefix pass walked them all twice).
 */
class Writer {
  /** Namespace URI → `prefix:`, ready to prepend to a local name. */
  private readonly bound = new Map<string, string>();
  /** URIs with a preferred prefix, then the others (ns1, ns2, …), each in order of first use. */
  private readonly preferred: string[] = [];
  private readonly numbered: string[] = [];
  private next = 1;
  /** The last namespace qualified and its `prefix:`: nearly every element of an answer is rim. */
  private lastNs = '';
  private lastPrefix = '';

  qualified(ns: string, local: string): string {
    if (ns === '') return local;
    if (ns === this.lastNs) return this.lastPrefix + local;
    let prefix = this.bound.get(ns);
    if (prefix === undefined) prefix = this.bind(ns);
    this.lastNs = ns;
    this.lastPrefix = prefix;
    return prefix + local;
  }

  private bind(uri: string): string {
    let prefix: string;
    if (uri === NS.xml) prefix = 'xml';
    else {
      // Preferred prefixes are all distinct and never of the form nsN, so the one a URI prefers is
      // always still free, and numbering in first-use order gives what a separate pass would.
      const preferred = PREFERRED_PREFIX[uri];
      if (preferred !== undefined) {
        prefix = preferred;
        this.preferred.push(uri);
      } else {
        prefix = `ns${this.next++}`;
        this.numbered.push(uri);
      }
    }
    const withColon = `${prefix}:`;
    this.bound.set(uri, withColon);
    return withColon;
  }

  declarations(): string {
    let out = '';
    for (const uri of this.preferred) out += ` xmlns:${this.bound.get(uri)!.slice(0, -1)}="${escapeAttribute(uri)}"`;
    for (const uri of this.numbered) out += ` xmlns:${this.bound.get(uri)!.slice(0, -1)}="${escapeAttribute(uri)}"`;
    return out;
  }

  attributes(e: XmlElement): string {
    const attrs = e.attrs;
    // Object.keys, not for…in: an attribute map must never pick up inherited properties.
    const keys = Object.keys(attrs);
    let out = '';
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      let name = key;
      if (key.charCodeAt(0) === 0x7b /* { */) {
        const close = key.indexOf('}');
        name = this.qualified(key.slice(1, close), key.slice(close + 1));
      }
      out += ` ${name}="${escapeAttribute(attrs[key]!)}"`;
    }
    return out;
  }

  /** The serialised children, depth-first with an explicit stack so that deep trees are safe. */
  content(children: readonly XmlNode[]): string {
    let out = '';
    const stack: Frame[] = [{ children, index: 0, close: '' }];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      if (frame.index === frame.children.length) {
        out += frame.close;
        stack.pop();
        continue;
      }
      const c = frame.children[frame.index++]!;
      if (typeof c === 'string') {
        out += escapeText(c);
        continue;
      }
      const name = this.qualified(c.ns, c.local);
      out += `<${name}${this.attributes(c)}`;
      if (c.children.length === 0) out += '/>';
      else {
        out += '>';
        stack.push({ children: c.children, index: 0, close: `</${name}>` });
      }
    }
    return out;
  }
}

interface Frame {
  readonly children: readonly XmlNode[];
  index: number;
  readonly close: string;
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
