/**
 * A namespace-resolved XML element tree.
 *
 * Every layer that reads XML (SOAP envelope, WS-Addressing, ebRIM, SAML) works on this tree, never
 * on prefixes: an element is identified by its namespace URI and local name, so a foreign element
 * that happens to be called `Action` can never pass for `wsa:Action`.
 */
import { XmlFragment } from './serialize.js';

export { XmlFragment };

export interface XmlElement {
  /** Namespace URI ('' when the element is in no namespace). */
  readonly ns: string;
  /** Local name, without prefix. */
  readonly local: string;
  /** The prefix used on the wire, kept only so that re-serialisation can stay readable. */
  readonly prefix?: string;
  /**
   * Attributes. Unprefixed attributes are keyed by their local name; namespaced attributes as
   * `{namespaceUri}local` (Clark notation). xmlns declarations are not included.
   */
  readonly attrs: Readonly<Record<string, string>>;
  /** Child elements and text nodes in document order (entities and character references decoded). */
  readonly children: readonly XmlNode[];
  /**
   * Namespace declarations in scope at this element (prefix → URI, '' for the default namespace).
   * The parser shares one object among an element and its descendants that declare nothing; a
   * declaring element gets a copy of its parent's plus its own while that holds at most 16
   * bindings, and past that an object with only its own that inherits the parent's through the
   * prototype chain (copying large scopes made namespace bombs quadratic, issue 14). So read it
   * with `nsScope[prefix]` or `for…in`: `Object.keys` may see only the element's own bindings.
   */
  readonly nsScope?: Readonly<Record<string, string>>;
}

/**
 * A child is an element or text. An element may be an XmlFragment: one already written by our own
 * serializer (serialize.ts), which `serializeXml` appends verbatim. It carries its namespace and
 * local name, but its attributes and children are sealed (reading them throws). Only
 * `serializeFragment` makes fragments and the parser never does, so a tree read from the wire never
 * holds one; only trees we build to send do. The helpers below never look inside a fragment:
 * `isElement` and `childElements` / `childElement` pass it over, `descendants` passes over those
 * that cannot hold what is searched for and refuses to guess about the others.
 */
export type XmlNode = XmlElement | string;

/** An element whose attributes and children can be read (text and fragments are not). */
export function isElement(node: XmlNode | undefined): node is XmlElement {
  return typeof node === 'object' && node !== null && !(node instanceof XmlFragment);
}

/** Child elements with the given namespace and local name (all children when both are omitted). */
export function childElements(el: XmlElement, ns?: string, local?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) {
    if (!isElement(c)) continue;
    if (ns !== undefined && c.ns !== ns) continue;
    if (local !== undefined && c.local !== local) continue;
    out.push(c);
  }
  return out;
}

/** The first child element with the given namespace and local name. */
export function childElement(el: XmlElement, ns: string, local: string): XmlElement | undefined {
  for (const c of el.children) {
    if (isElement(c) && c.ns === ns && c.local === local) return c;
  }
  return undefined;
}

/** Concatenated text content of the element and its descendants (a fragment's reading throws). */
export function textContent(el: XmlElement): string {
  let s = '';
  for (const c of el.children) s += typeof c === 'string' ? c : textContent(c);
  return s;
}

/** Descendant elements (depth-first, document order) matching namespace and local name. */
export function descendants(el: XmlElement, ns: string, local: string): XmlElement[] {
  const out: XmlElement[] = [];
  collectDescendants(el, ns, local, out);
  return out;
}

/**
 * The walk of `descendants`, a plain recursive function: every request and reply is searched
 * (xopReferences), so the walk makes no closure per call.
 */
function collectDescendants(e: XmlElement, ns: string, local: string, out: XmlElement[]): void {
  for (const c of e.children) {
    if (typeof c === 'string') continue;
    if (c instanceof XmlFragment) {
      // What our serializer wrote cannot be searched without parsing it again; a fragment that
      // uses no element of this namespace cannot hold a match (xopReferences over an answer).
      if (c.ns === ns || c.namespaces.includes(ns)) throw new TypeError(`cannot search a pre-serialised ${c.local} for {${ns}}${local}`);
      continue;
    }
    if (c.ns === ns && c.local === local) out.push(c);
    collectDescendants(c, ns, local, out);
  }
}

/**
 * Where an element can be written as it is walked, start tag first: the ebRIM writers
 * (registry/ebxml/write-objects.ts) describe each registry object once, against this, and get a
 * readable tree (`ElementTreeBuilder`) or a fragment's text without a tree in between
 * (`FragmentWriter`, serialize.ts), which a cold LeafClass answer writes for every entry.
 *
 * Calls nest like the document: `start`, its `attr`s (only before any `text` or child `start`), its
 * content, `end`. Attribute names are local names, or `{namespaceUri}local` as in `XmlElement.attrs`.
 */
export interface ElementSink {
  start(ns: string, local: string): void;
  attr(name: string, value: string): void;
  text(value: string): void;
  end(): void;
}

const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

interface OpenElement {
  readonly ns: string;
  readonly local: string;
  attrs: Record<string, string>;
  readonly children: XmlNode[];
}

/** An ElementSink that builds the element tree (one root element). */
export class ElementTreeBuilder implements ElementSink {
  private readonly open: OpenElement[] = [];
  private root: OpenElement | undefined;

  start(ns: string, local: string): void {
    const e: OpenElement = { ns, local, attrs: NO_ATTRIBUTES, children: [] };
    const parent = this.open[this.open.length - 1];
    if (parent !== undefined) parent.children.push(e);
    else if (this.root !== undefined) throw new Error(`a second root element ${local}`);
    else this.root = e;
    this.open.push(e);
  }

  attr(name: string, value: string): void {
    const e = this.open[this.open.length - 1];
    if (e === undefined || e.children.length > 0) throw new Error(`attribute ${name} outside a start tag`);
    if (e.attrs === NO_ATTRIBUTES) e.attrs = {};
    e.attrs[name] = value;
  }

  text(value: string): void {
    const e = this.open[this.open.length - 1];
    if (e === undefined) throw new Error('text outside the root element');
    e.children.push(value);
  }

  end(): void {
    if (this.open.pop() === undefined) throw new Error('end without start');
  }

  /** The finished tree. */
  element(): XmlElement {
    if (this.root === undefined || this.open.length > 0) throw new Error('the element is not finished');
    return this.root;
  }
}

/** Builds an element; convenience for serialisers. */
export function el(
  ns: string,
  local: string,
  attrs: Record<string, string | undefined> = {},
  children: readonly (XmlNode | undefined | null | false)[] = [],
): XmlElement {
  const a: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) a[k] = v;
  const kids: XmlNode[] = [];
  for (const c of children) if (c !== undefined && c !== null && c !== false) kids.push(c);
  return { ns, local, attrs: a, children: kids };
}

/**
 * Structural equality: namespace, local name, attributes and children (text compared exactly).
 * Prefixes and namespace scopes are ignored, since they are a matter of spelling, not meaning.
 */
export function sameElement(a: XmlElement, b: XmlElement): boolean {
  if (a.ns !== b.ns || a.local !== b.local) return false;
  const ak = Object.keys(a.attrs);
  if (ak.length !== Object.keys(b.attrs).length) return false;
  for (const k of ak) if (!Object.hasOwn(b.attrs, k) || a.attrs[k] !== b.attrs[k]) return false;
  if (a.children.length !== b.children.length) return false;
  for (let i = 0; i < a.children.length; i++) {
    const x = a.children[i]!;
    const y = b.children[i]!;
    if (typeof x === 'string' || typeof y === 'string') {
      if (x !== y) return false;
    } else if (x instanceof XmlFragment || y instanceof XmlFragment) {
      if (!(x instanceof XmlFragment && y instanceof XmlFragment && x.xml === y.xml)) return false;
    } else if (!sameElement(x, y)) return false;
  }
  return true;
}
