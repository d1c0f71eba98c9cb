/**
 * A small strict reader for the one SAML assertion the fast signature path checks: the standalone
 * assertion text locate.ts cut from the envelope → a tree that keeps everything exclusive c14n
 * needs (prefixes as written, attributes in document order, every text node, comments), or
 * `undefined` when the text is anything but the plain XML it knows.
 *
 * Why its own reader: the SOAP layer's parseXml drops layout whitespace and keeps no prefixes,
 * both of which the signature covers; xmldom (what xml-crypto reads with) is most of what a
 * verification cost (see BENCHMARKS.md, issue 19).
 *
 * `undefined` is not a refusal: it hands the assertion to the xml-crypto path, which decides
 * (refuses what xmldom finds malformed, verifies the rest). So this reader accepts only what it is
 * sure xmldom reads into the very same nodes (both xmldoms: 0.9 for the structure check in xua.ts,
 * the 0.8 that xml-crypto bundles for its own parse; they differ only on what is left to them
 * here), and leaves everything else to xmldom: CDATA sections, processing instructions,
 * declarations, named entities other than the five predefined ones, NEL, U+2028 and U+2029 (which
 * xmldom, unlike XML 1.0, reads as line ends), character references to anything but an XML Char,
 * control characters, lone surrogates, `]]>` in text, non-ASCII or malformed names, a comment
 * holding `--`, unbound prefixes, an empty namespace name (`xmlns=""`, `xmlns:p=""`), a binding of
 * `xml` or `xmlns` or to their namespaces, a namespace name holding a character exclusive c14n
 * would have to escape (xml-crypto writes namespace names unescaped), an attribute named `xmlns…`
 * that is no declaration, two attributes of one expanded name (xmldom 0.9 silently keeps one),
 * markup before or after the element, and anything over its caps (MAX_LENGTH, MAX_DEPTH,
 * MAX_ATTRIBUTES on one element, MAX_NODES).
 *
 * Linear in its input: one forward scan; the namespace bindings live in one map with an undo stack
 * (locate.ts does the same).
 */
import { COMMENT_NODE, ELEMENT_NODE, TEXT_NODE, type SigElement, type SigNode } from './tree.js';

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
export const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/** Deeper than any assertion (NHN's nest 7 levels); deeper ones go to xmldom. */
const MAX_DEPTH = 64;
/** Elements, text nodes and comments together; an NHN assertion has some 200. */
const MAX_NODES = 20_000;
/** Attributes (declarations included) on one element. */
const MAX_ATTRIBUTES = 64;
/** Characters of the assertion; NHN's are some 10,000. */
const MAX_LENGTH = 1 << 20;

export interface Attr {
  /** As written: `Algorithm`, `xmlns:saml`, `xml:lang`. */
  readonly name: string;
  /** The prefix, or null (xmldom: `xmlns` for a prefixed declaration, null for `xmlns` itself). */
  readonly prefix: string | null;
  readonly localName: string;
  readonly namespaceURI: string | null;
  /** After attribute-value normalisation and reference decoding, as xmldom has it. */
  readonly value: string;
}

export class Text implements SigNode {
  readonly nodeType = TEXT_NODE;
  readonly childNodes: readonly SigNode[] = [];
  constructor(readonly nodeValue: string) {}
}

export class Comment implements SigNode {
  readonly nodeType = COMMENT_NODE;
  readonly childNodes: readonly SigNode[] = [];
  constructor(readonly nodeValue: string) {}
}

export type Child = Element | Text | Comment;

export class Element implements SigElement {
  readonly nodeType = ELEMENT_NODE;
  readonly nodeValue = null;
  readonly childNodes: Child[] = [];
  constructor(
    /** The qualified name as written (xmldom's tagName). */
    readonly tagName: string,
    readonly prefix: string | null,
    readonly localName: string,
    readonly namespaceURI: string | null,
    readonly attributes: readonly Attr[],
    readonly parentNode: Element | null,
  ) {}

  getAttribute(qualifiedName: string): string | null {
    for (const a of this.attributes) if (a.name === qualifiedName) return a.value;
    return null;
  }

  get textContent(): string {
    let s = '';
    const walk = (e: Element): void => {
      for (const c of e.childNodes) {
        if (c instanceof Text) s += c.nodeValue;
        else if (c instanceof Element) walk(c);
      }
    };
    walk(this);
    return s;
  }
}

/** Thrown inside the reader for whatever it leaves to xmldom; never escapes readAssertionTree. */
class Unsupported extends Error {}
const unsupported = (why: string): never => {
  throw new Unsupported(why);
};

const NAME = /^[A-Za-z_][A-Za-z0-9._-]*(?::[A-Za-z_][A-Za-z0-9._-]*)?$/;
/** Characters neither XML 1.0 allows (outside Char) nor this reader takes from xmldom on trust. */
const NOT_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const REFERENCE = /&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));/g;
/** A namespace name exclusive c14n writes as it is: printable ASCII without & < > " ' (xml-crypto does not escape it). */
const PLAIN_NAMESPACE = /^[!#-%(-;=?-~]+$/;
const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

const PREDEFINED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** Replaces the references of already-normalised text; any other `&` is left to xmldom. */
function decode(s: string): string {
  if (!s.includes('&')) return s;
  const out = s.replace(REFERENCE, (_m, named: string | undefined, dec: string | undefined, hex: string | undefined) => {
    if (named) return PREDEFINED[named]!;
    const cp = dec !== undefined ? parseInt(dec, 10) : parseInt(hex!, 16);
    if (!isXmlChar(cp)) unsupported('a character reference to a non-character');
    return String.fromCodePoint(cp);
  });
  // A `&` left over was no reference we decode (a named entity, a malformed one): xmldom's call.
  if (s.replace(REFERENCE, '').includes('&')) unsupported('an entity reference');
  return out;
}

function checkChars(raw: string): void {
  if (NOT_CHAR.test(raw)) unsupported('a character outside XML Char');
}

/** Character data: line ends normalised (XML 1.0 §2.11), then references decoded, as xmldom does. */
function textValue(raw: string): string {
  checkChars(raw);
  if (raw.includes(']]>')) unsupported('`]]>` in text');
  return decode(raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw);
}

/** An attribute value: each literal tab, line end or CR LF becomes one space (§3.3.3), then references are decoded. */
function attributeValue(raw: string): string {
  checkChars(raw);
  if (raw.includes('<')) unsupported('`<` in an attribute value');
  return decode(/[\t\n\r]/.test(raw) ? raw.replace(/\r\n|[\t\n\r]/g, ' ') : raw);
}

interface RawAttr {
  readonly name: string;
  readonly value: string;
}

/**
 * The assertion as our tree, or undefined when the text holds anything this reader leaves to
 * xmldom (see the module comment). `xml` must be exactly one element, as locate.ts cuts it.
 */
export function readAssertionTree(xml: string): Element | undefined {
  try {
    return read(xml);
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

function read(s: string): Element {
  const bindings = new Map<string, string>();
  const undoPrefixes: string[] = [];
  const undoValues: (string | undefined)[] = [];
  const marks: number[] = [];
  let root: Element | undefined;
  let current: Element | null = null;
  let nodes = 0;
  let depth = 0;
  let pos = 0;
  if (s.length > MAX_LENGTH) unsupported('a very large assertion');
  if (s.charCodeAt(0) !== 0x3c /* < */) unsupported('text before the element');
  // xmldom turns NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR into line feeds before it parses (XML
  // 1.1's line ends, not 1.0's): ours would keep them, so such text is xmldom's to read.
  if (/[\u0085\u2028\u2029]/.test(s)) unsupported('NEL, U+2028 or U+2029');

  const addChild = (c: Child): void => {
    if (++nodes > MAX_NODES) unsupported('too many nodes');
    current!.childNodes.push(c);
  };

  while (pos < s.length) {
    const lt = s.indexOf('<', pos);
    if (lt === -1 || lt > pos) {
      const end = lt === -1 ? s.length : lt;
      if (!current) unsupported('text outside the element');
      addChild(new Text(textValue(s.slice(pos, end))));
      if (lt === -1) break;
    }
    if (!current && root) unsupported('markup after the element');
    const next = s.charCodeAt(lt + 1);
    if (next === 0x21 /* ! */) {
      if (!s.startsWith('<!--', lt) || !current) unsupported('a declaration, CDATA section or comment outside the element');
      const close = s.indexOf('-->', lt + 4);
      if (close === -1) unsupported('an unterminated comment');
      const data = s.slice(lt + 4, close);
      if (data.includes('--') || data.endsWith('-')) unsupported('`--` in a comment');
      checkChars(data);
      addChild(new Comment(data.includes('\r') ? data.replace(/\r\n?/g, '\n') : data));
      pos = close + 3;
    } else if (next === 0x3f /* ? */) {
      unsupported('a processing instruction');
    } else if (next === 0x2f /* / */) {
      const gt = s.indexOf('>', lt);
      if (gt === -1 || !current) unsupported('an unbalanced end tag');
      let nameEnd = gt;
      while (isSpace(s.charCodeAt(nameEnd - 1))) nameEnd--;
      if (s.slice(lt + 2, nameEnd) !== current!.tagName) unsupported('a mismatched end tag');
      pos = gt + 1;
      current = close(current!);
    } else {
      pos = startTag(lt);
    }
  }
  if (!root || current) unsupported('an unterminated element');
  return root!;

  function close(el: Element): Element | null {
    const mark = marks.pop()!;
    while (undoPrefixes.length > mark) {
      const prefix = undoPrefixes.pop()!;
      const hidden = undoValues.pop();
      if (hidden === undefined) bindings.delete(prefix);
      else bindings.set(prefix, hidden);
    }
    depth--;
    return el.parentNode;
  }

  /** Reads the start tag at `lt`; returns the offset after it. */
  function startTag(lt: number): number {
    let i = lt + 1;
    while (i < s.length && !isSpace(s.charCodeAt(i)) && s[i] !== '>' && s[i] !== '/') i++;
    const tagName = s.slice(lt + 1, i);
    if (!NAME.test(tagName)) unsupported('an element name this reader does not take');
    const raw: RawAttr[] = [];
    let selfClosing = false;
    for (;;) {
      const before = i;
      while (i < s.length && isSpace(s.charCodeAt(i))) i++;
      if (s[i] === '>') {
        i++;
        break;
      }
      if (s[i] === '/' && s[i + 1] === '>') {
        i += 2;
        selfClosing = true;
        break;
      }
      if (i === before || i >= s.length) unsupported('a malformed start tag');
      const nameStart = i;
      while (i < s.length && !isSpace(s.charCodeAt(i)) && s[i] !== '=' && s[i] !== '>' && s[i] !== '/') i++;
      const name = s.slice(nameStart, i);
      while (isSpace(s.charCodeAt(i))) i++;
      if (s[i] !== '=') unsupported('an attribute without value');
      i++;
      while (isSpace(s.charCodeAt(i))) i++;
      const quote = s[i];
      if (quote !== '"' && quote !== "'") unsupported('an unquoted attribute');
      const end = s.indexOf(quote!, i + 1);
      if (end === -1) unsupported('an unterminated attribute');
      if (!NAME.test(name)) unsupported('an attribute name this reader does not take');
      raw.push({ name, value: attributeValue(s.slice(i + 1, end)) });
      if (raw.length > MAX_ATTRIBUTES) unsupported('too many attributes');
      i = end + 1;
    }
    if (++depth > MAX_DEPTH) unsupported('nesting too deep');
    if (++nodes > MAX_NODES) unsupported('too many nodes');

    marks.push(undoPrefixes.length);
    for (const a of raw) {
      if (a.name !== 'xmlns' && !a.name.startsWith('xmlns:')) {
        if (a.name.startsWith('xmlns')) unsupported('an attribute named xmlns… that is no declaration');
        continue;
      }
      const prefix = a.name === 'xmlns' ? '' : a.name.slice(6);
      if (prefix === 'xml' || prefix === 'xmlns') unsupported('a binding of xml or xmlns');
      if (!PLAIN_NAMESPACE.test(a.value)) unsupported('an empty namespace name, or one c14n would have to escape');
      if (a.value === XML_NS || a.value === XMLNS_NS) unsupported('a binding to the xml or xmlns namespace');
      undoPrefixes.push(prefix);
      undoValues.push(bindings.get(prefix));
      bindings.set(prefix, a.value);
    }
    const attrs: Attr[] = [];
    const expanded = new Set<string>();
    for (const a of raw) {
      const colon = a.name.indexOf(':');
      const prefix = colon === -1 ? null : a.name.slice(0, colon);
      const localName = colon === -1 ? a.name : a.name.slice(colon + 1);
      let ns: string | null;
      if (prefix === null) ns = a.name === 'xmlns' ? XMLNS_NS : null;
      else if (prefix === 'xmlns') ns = XMLNS_NS;
      else if (prefix === 'xml') ns = XML_NS;
      else ns = bindings.get(prefix) ?? unsupported('an unbound attribute prefix');
      const key = `${ns ?? ''} ${a.name === 'xmlns' ? '' : localName}`;
      if (expanded.has(key)) unsupported('two attributes of one expanded name');
      expanded.add(key);
      attrs.push({ name: a.name, prefix, localName, namespaceURI: ns, value: a.value });
    }
    const colon = tagName.indexOf(':');
    const prefix = colon === -1 ? null : tagName.slice(0, colon);
    if (prefix === 'xml' || prefix === 'xmlns') unsupported('an element prefix xml or xmlns');
    const localName = colon === -1 ? tagName : tagName.slice(colon + 1);
    const ns = prefix === null ? (bindings.get('') ?? null) : (bindings.get(prefix) ?? unsupported('an unbound element prefix'));
    const el = new Element(tagName, prefix, localName, ns, attrs, current);
    if (current) current.childNodes.push(el);
    else if (root) unsupported('a second element');
    else root = el;
    if (selfClosing) close(el);
    else current = el;
    return i;
  }
}
