/**
 * Exclusive XML canonicalisation (http://www.w3.org/2001/10/xml-exc-c14n#, without comments,
 * with an InclusiveNamespaces PrefixList) of an element of our tree (read.ts), written to give
 * exactly the octets xml-crypto 6's ExclusiveCanonicalization gives for the same element of
 * xmldom's DOM, because xml-crypto is the verifier of record (xua.ts) and a digest over other
 * octets would accept or refuse differently.
 *
 * It therefore follows xml-crypto decision for decision, where xml-crypto departs from the
 * Recommendation too (each marked XML-CRYPTO below):
 * - namespace declarations are ordered by String.prototype.localeCompare of their prefixes, not by
 *   code point ('_' < '-' < 'a' < 'B' rather than '-' < 'B' < '_' < 'a');
 * - attributes by namespace URI + local name concatenated (no-namespace ones first), not by the
 *   (URI, local name) pair;
 * - a PrefixList entry applies to any prefixed attribute whose local name it is, not only to a
 *   declaration of that prefix;
 * - namespace names are written unescaped (read.ts leaves any that would need escaping to xmldom).
 * An `xmlns=""` undeclaration, where xml-crypto's default-namespace bookkeeping goes astray, never
 * gets here: read.ts leaves it to xmldom.
 *
 * The in-scope table is a map with an undo stack, as in read.ts and locate.ts, rather than
 * xml-crypto's array copied for every child: the same answers (the nearest rendered binding of a
 * prefix wins) in linear time.
 */
import type { Attr, Element } from './read.js';
import { Comment, Text } from './read.js';

export interface C14nOptions {
  /** The InclusiveNamespaces PrefixList, split. */
  readonly prefixList: readonly string[];
  /** An element left out with its subtree: the enveloped signature. */
  readonly omit?: Element;
  /**
   * Declarations xml-crypto adds to the apex before rendering it (setAttributeNS): for SignedInfo,
   * each PrefixList prefix bound on an ancestor.
   */
  readonly apexDeclarations?: readonly (readonly [prefix: string, uri: string])[];
}

interface Declaration {
  readonly prefix: string;
  readonly uri: string;
}

/** XML-CRYPTO: utils.encodeSpecialCharactersInText. */
const escapeText = (s: string): string =>
  /[&<>\r]/.test(s) ? s.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#xD;')) : s;

const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '"': '&quot;', '\r': '&#xD;', '\n': '&#xA;', '\t': '&#x9;' };
/** XML-CRYPTO: utils.encodeSpecialCharactersInAttribute. */
const escapeAttribute = (s: string): string => (/[&<"\r\n\t]/.test(s) ? s.replace(/[&<"\r\n\t]/g, (c) => ATTRIBUTE_ESCAPES[c]!) : s);

/** XML-CRYPTO: ExclusiveCanonicalization.nsCompare. */
const nsCompare = (a: Declaration, b: Declaration): number => (a.prefix === b.prefix ? 0 : a.prefix.localeCompare(b.prefix));

/** XML-CRYPTO: ExclusiveCanonicalization.attrCompare (null + localName is "null…" there too). */
function attrCompare(a: Attr, b: Attr): number {
  if (!a.namespaceURI && b.namespaceURI) return -1;
  if (!b.namespaceURI && a.namespaceURI) return 1;
  const left = String(a.namespaceURI) + a.localName;
  const right = String(b.namespaceURI) + b.localName;
  return left === right ? 0 : left < right ? -1 : 1;
}

/** The canonical form of `apex` and its subtree, as one string (hashed as UTF-8). */
export function excC14n(apex: Element, options: C14nOptions): string {
  const prefixList = new Set(options.prefixList);
  const out: string[] = [];
  /** Prefix → the namespace it was last rendered with on the current path (xml-crypto's prefixesInScope). */
  const rendered = new Map<string, string>();
  const undoPrefix: string[] = [];
  const undoUri: (string | undefined)[] = [];
  const inScope = (prefix: string, uri: string | null): boolean => rendered.get(prefix) === uri;
  const render = (list: Declaration[], prefix: string, uri: string): void => {
    list.push({ prefix, uri });
    undoPrefix.push(prefix);
    undoUri.push(rendered.get(prefix));
    rendered.set(prefix, uri);
  };

  const element = (el: Element, defaultNs: string | null, extra: readonly Attr[]): void => {
    const mark = undoPrefix.length;
    const declarations: Declaration[] = [];
    let newDefaultNs = defaultNs;
    let defaultDeclaration = '';
    const attributes = extra.length > 0 ? [...el.attributes, ...extra] : el.attributes;
    if (el.prefix) {
      const uri = el.namespaceURI!;
      if (!inScope(el.prefix, uri)) render(declarations, el.prefix, uri);
    } else if (defaultNs !== (el.namespaceURI ?? '')) {
      newDefaultNs = el.namespaceURI;
      defaultDeclaration = ` xmlns="${el.namespaceURI ?? ''}"`;
    }
    for (const a of attributes) {
      if (!a.prefix) continue;
      // XML-CRYPTO: any prefixed attribute whose local name is listed, not only xmlns:<listed>.
      if (!inScope(a.localName, a.value) && prefixList.has(a.localName)) render(declarations, a.localName, a.value);
      if (a.prefix !== 'xmlns' && a.prefix !== 'xml' && !inScope(a.prefix, a.namespaceURI)) render(declarations, a.prefix, a.namespaceURI!);
    }
    declarations.sort(nsCompare);
    let tag = `<${el.tagName}${defaultDeclaration}`;
    for (const d of declarations) tag += ` xmlns:${d.prefix}="${d.uri}"`;
    const own = attributes.filter((a) => !a.name.startsWith('xmlns'));
    own.sort(attrCompare);
    for (const a of own) tag += ` ${a.name}="${escapeAttribute(a.value)}"`;
    out.push(`${tag}>`);
    for (const c of el.childNodes) {
      if (c instanceof Text) out.push(escapeText(c.nodeValue));
      else if (c instanceof Comment || c === options.omit) continue;
      else element(c, newDefaultNs, []);
    }
    out.push(`</${el.tagName}>`);
    while (undoPrefix.length > mark) {
      const prefix = undoPrefix.pop()!;
      const uri = undoUri.pop();
      if (uri === undefined) rendered.delete(prefix);
      else rendered.set(prefix, uri);
    }
  };

  const extra: Attr[] = (options.apexDeclarations ?? []).map(([prefix, uri]) => ({
    name: `xmlns:${prefix}`,
    prefix: 'xmlns',
    localName: prefix,
    namespaceURI: 'http://www.w3.org/2000/xmlns/',
    value: uri,
  }));
  element(apex, '', extra);
  return out.join('');
}
