/**
 * XmlElement tree → XML text.
 *
 * Every namespace used anywhere in the tree is declared once, on the root, with the conventional
 * prefix of namespaces.ts (ns1, ns2, … for URIs we have no name for, numbered in order of first
 * use; the conventional ones are declared first). The default namespace is
 * never used, so an unprefixed element is always in no namespace and an unprefixed attribute
 * always means "no namespace" too: the output reads the same to every parser.
 */
import { ByteSlab, type Arena } from './byte-slab.js';
import { NS, PREFERRED_PREFIX } from './namespaces.js';
import type { ElementSink, XmlElement, XmlNode } from './tree.js';

/** Only this module holds it, so only this module can make an XmlFragment. */
const MINT: unique symbol = Symbol('serializeFragment');

/**
 * A fragment's UTF-8 bytes, in parts, for the writers of this module only (set in XmlFragment's
 * static block); `place` copies a deferred fragment's bytes into the answer's memory.
 */
let bytesOf: (fragment: XmlFragment, place: Place) => readonly Buffer[];

/** Copies the parts, joined, into the memory an answer is written to, and returns that copy. */
export type Place = (parts: readonly Uint8Array[]) => Buffer;

/**
 * Makes a deferred fragment's UTF-8 bytes (`deferredFragment`) when an answer is written: puts
 * them with `place` and returns what `place` returned.
 */
export type FragmentSource = (place: Place) => Buffer;

/** Where an answer's deferred fragments go when it has no arena: the shared slabs. */
const inSlab: Place = (parts) => slab.copy(parts);

/**
 * Where fragments' bytes are first written: shared slabs, cut into one view per fragment
 * (byte-slab.ts). A Buffer of its own per ~5 KB fragment cost as much as writing the fragment, on a
 * cold answer for every entry: 36 µs against 7 µs per fragment kept (a micro-benchmark of 20,000
 * kept fragments). Fragments are cut in the order answers are written and a cache lets them go in
 * about that order, and a fragment that is used again gets bytes of its own (`bytesOf`), so
 * long-lived fragments pin no slab.
 */
const slab = new ByteSlab();

/**
 * One element already written by this serializer, to be appended verbatim wherever it occurs in a
 * tree (a LeafClass answer is mostly registry objects that were written the same way before).
 *
 * It is made only by `serializeFragment` or a `FragmentWriter` (the constructor wants a token
 * private to this module and the `#` fields make the type nominal), never from text that came from
 * elsewhere, and that is the whole of its safety: the writers append it without looking at it, so
 * text written by anyone else could inject markup, break well-formedness or use a prefix the
 * document does not declare. Our own output is escaped, well-formed and uses only preferred
 * prefixes (both writers check).
 *
 * It keeps its text as UTF-8 bytes only (kept for as long as its registry object is, and off the
 * JavaScript heap), so that `serializeXmlBytes` copies them into an answer without encoding them
 * again: first in a view of a shared slab, from its second use on in a Buffer of its own
 * (`slab`). The bytes never leave this module: every writer copies them. A stored form's fragment
 * (`storedFragment`, a cached object's) keeps the views it is given, in parts (the form around the
 * `home` attribute put back), without copying them into a slab of its own; a deferred fragment
 * (`deferredFragment`, an object read for one answer) keeps no bytes at all and writes them into
 * each answer that has it, into the answer's arena when its sender gave one. Memory outside the
 * heap allocated per cold entry (~6 KB, once or twice) had set the pace of V8's collections.
 *
 * Readers of a tree cannot look inside it (tree.ts): its attributes and children are sealed.
 * Fragments stand for elements a reader of our own outgoing messages never looks into (registry
 * objects hold no xop:Include).
 */
export class XmlFragment implements XmlElement {
  /** Views of shared slabs until the fragment is written a second time, then one Buffer of its own. */
  #parts: readonly Buffer[];
  #ownBytes = false;
  /** A deferred fragment's maker, which writes its bytes anew into each answer (then `#parts` is empty). */
  readonly #source: FragmentSource | undefined;
  readonly ns: string;
  readonly local: string;
  /** Namespace URIs the text uses, in order of first use (never the xml namespace, never declared). */
  readonly namespaces: readonly string[];

  static {
    bytesOf = (fragment, place) => {
      if (fragment.#source !== undefined) return [fragment.#source(place)];
      if (!fragment.#ownBytes) {
        if (fragment.#written) {
          // Written again: it is likely to be kept, so it stops pinning its slabs (private fields
          // can change on a frozen object).
          fragment.#parts = [Buffer.concat(fragment.#parts)];
          fragment.#ownBytes = true;
        } else fragment.#written = true;
      }
      return fragment.#parts;
    };
  }

  /** A bytes writer has appended it once. */
  #written = false;

  /**
   * `xml`: the element's text (written into a slab), or its UTF-8 bytes in parts, kept as they are
   * (`storedFragment`: views that stay as they are for as long as the fragment lives).
   */
  constructor(token: typeof MINT, ns: string, local: string, xml: string | readonly Buffer[] | FragmentSource, namespaces: readonly string[]) {
    if (token !== MINT) throw new TypeError('an XmlFragment is made only by serializeFragment, a FragmentWriter, storedFragment or deferredFragment');
    this.#source = typeof xml === 'function' ? xml : undefined;
    this.#parts = typeof xml === 'string' ? [slab.text(xml)] : typeof xml === 'function' ? [] : Object.freeze([...xml]);
    this.#ownBytes = this.#parts.length === 1 && this.#parts[0]!.byteLength === this.#parts[0]!.buffer.byteLength;
    this.ns = ns;
    this.local = local;
    this.namespaces = Object.freeze(namespaces);
    Object.freeze(this);
  }

  /** The element's text, with the prefixes `serializeXml` gives its namespaces in any document. */
  get xml(): string {
    if (this.#source !== undefined) return this.#source(inSlab).toString('utf8');
    return this.#parts.length === 1 ? this.#parts[0]!.toString('utf8') : Buffer.concat(this.#parts).toString('utf8');
  }

  /** Sealed: what was written is final, and reading it back would need the parser. */
  get attrs(): never {
    throw new TypeError(`the attributes of a pre-serialised ${this.local} cannot be read`);
  }

  get children(): never {
    throw new TypeError(`the children of a pre-serialised ${this.local} cannot be read`);
  }
}

/**
 * Writes one element as an XmlFragment, or returns undefined when it cannot be one: an element is
 * only written ahead of its document when every namespace in it has a preferred prefix (or is the
 * xml namespace), because those prefixes are the same in every document this module writes (the
 * numbered ones depend on what came before). The text is byte for byte what `serializeXml` writes
 * for the same element at any place in any tree, and the document it lands in declares its
 * namespaces on the root like all others.
 */
export function serializeFragment(element: XmlElement): XmlFragment | undefined {
  const w = new Writer(true);
  let xml: string;
  try {
    xml = w.content([element]);
  } catch (e) {
    if (e === NOT_PORTABLE) return undefined;
    throw e;
  }
  return new XmlFragment(MINT, element.ns, element.local, xml, w.usedNamespaces());
}

/**
 * Writes one element as an XmlFragment as it is walked (an ElementSink), without an element tree:
 * the same text `serializeFragment` writes for the tree the same calls would build
 * (ElementTreeBuilder), so a registry object's LeafClass fragment costs its string building only.
 * It checks what makes a fragment safe to append verbatim: every value is escaped, the calls nest
 * (one root, attributes only in a start tag, every start ended), and every namespace has its
 * preferred prefix; `finish` returns undefined when one does not (write the tree instead).
 */
export class FragmentWriter implements ElementSink {
  private out = '';
  /** Qualified names of the open elements, innermost last. */
  private readonly names: string[] = [];
  /** The innermost element's start tag still lacks its `>` (it may yet be empty: `/>`). */
  private inStartTag = false;
  private rootNs: string | undefined;
  private rootLocal = '';
  private finished = false;
  private portable = true;
  /** Namespaces with a preferred prefix, in order of first use (never the xml namespace). */
  private readonly used: string[] = [];
  private lastNs = '';
  private lastPrefix = '';

  start(ns: string, local: string): void {
    if (this.names.length === 0) {
      if (this.rootNs !== undefined) throw new Error(`a second root element ${local}`);
      this.rootNs = ns;
      this.rootLocal = local;
    }
    if (this.inStartTag) this.out += '>';
    const name = this.qualified(ns, local);
    this.out += '<' + name;
    this.names.push(name);
    this.inStartTag = true;
  }

  attr(name: string, value: string): void {
    if (!this.inStartTag) throw new Error(`attribute ${name} outside a start tag`);
    let qualified = name;
    if (name.charCodeAt(0) === 0x7b /* { */) {
      const close = name.indexOf('}');
      qualified = this.qualified(name.slice(1, close), name.slice(close + 1));
    }
    this.out += escapedAttribute(qualified, value);
  }

  text(value: string): void {
    if (this.names.length === 0) throw new Error('text outside the root element');
    if (this.inStartTag) {
      this.out += '>';
      this.inStartTag = false;
    }
    this.out += escapeText(value);
  }

  end(): void {
    const name = this.names.pop();
    if (name === undefined) throw new Error('end without start');
    if (this.inStartTag) {
      this.out += '/>';
      this.inStartTag = false;
    } else this.out += `</${name}>`;
    if (this.names.length === 0) this.finished = true;
  }

  /** The fragment written, or undefined if it used a namespace without a preferred prefix. */
  finish(): XmlFragment | undefined {
    const written = this.finishText();
    return written === undefined ? undefined : new XmlFragment(MINT, written.ns, written.local, written.text, written.namespaces);
  }

  /**
   * What `finish` would make a fragment of, as text: kept to be made a fragment later by
   * `storedFragment` (the registry's stored LeafClass forms), or undefined as for `finish`.
   */
  finishText(): WrittenElement | undefined {
    if (!this.finished || this.names.length > 0) throw new Error('the element is not finished');
    if (!this.portable) return undefined;
    return { ns: this.rootNs!, local: this.rootLocal, text: this.out, namespaces: this.used };
  }

  private qualified(ns: string, local: string): string {
    if (ns === '') return local;
    if (ns === this.lastNs) return this.lastPrefix + local;
    let prefix: string;
    if (ns === NS.xml) prefix = 'xml:';
    else {
      const preferred = PREFERRED_PREFIX[ns];
      if (preferred === undefined) {
        this.portable = false;
        prefix = 'ns:';
      } else {
        prefix = `${preferred}:`;
        if (!this.used.includes(ns)) this.used.push(ns);
      }
    }
    this.lastNs = ns;
    this.lastPrefix = prefix;
    return prefix + local;
  }
}

/** One element as a `FragmentWriter` wrote it: safe to append verbatim where its namespaces have their preferred prefixes. */
export interface WrittenElement {
  readonly ns: string;
  readonly local: string;
  readonly text: string;
  /** Namespace URIs the text uses, in order of first use (never the xml namespace). */
  readonly namespaces: readonly string[];
}

/**
 * A fragment of an element's text that a `FragmentWriter` wrote earlier (`finishText`) and that
 * was kept meanwhile as UTF-8 bytes, given in parts joined as they are (the registry's stored
 * LeafClass forms: the element as committed, with the answer's `home` attribute copied in between
 * two parts). The safety of a fragment rests on its text being this module's own output, which
 * the writer checked when it wrote it; so the caller promises that the parts are exactly such
 * text, kept where nothing else writes (the registry's own database), plus attribute text it
 * escaped itself (`escapedAttribute`). The parts are kept, not copied: the caller also promises
 * that nothing changes their bytes for as long as the fragment lives (a slab's views, a Buffer of
 * their own; never scratch memory that the next read overwrites).
 */
export function storedFragment(ns: string, local: string, parts: readonly Buffer[], namespaces: readonly string[]): XmlFragment {
  return new XmlFragment(MINT, ns, local, parts, namespaces);
}

/**
 * A fragment whose bytes `source` makes each time an answer is written, straight into the
 * answer's memory (an arena, when the answer's sender gave one: `serializeXmlChunks`): a stored
 * form inflated from its packed value at the last moment instead of kept in memory outside the
 * heap from the read to the answer. The same promise as `storedFragment`'s: `source` puts exactly
 * text this module wrote (plus attribute text escaped with `escapedAttribute`). Not meant to be
 * kept: every write inflates again.
 */
export function deferredFragment(ns: string, local: string, source: FragmentSource, namespaces: readonly string[]): XmlFragment {
  return new XmlFragment(MINT, ns, local, source, namespaces);
}

/** ` name="value"`, escaped as every writer of this module escapes an attribute. */
export function escapedAttribute(name: string, value: string): string {
  return ` ${name}="${escapeAttribute(value)}"`;
}

/** Thrown inside a fragment writer when the element uses a namespace that has no preferred prefix. */
const NOT_PORTABLE = new Error('namespace without a preferred prefix');

export interface SerializeOptions {
  /** Prepend `<?xml version="1.0" encoding="UTF-8"?>`. */
  declaration?: boolean;
}

export function serializeXml(root: XmlElement, options: SerializeOptions = {}): string {
  const w = new Writer(false);
  const { head, body, tail } = writeDocument(w, root, options);
  return head + body + tail;
}

export interface SerializeBytesOptions extends SerializeOptions {
  /** Text written before the document (e.g. the SOAP envelope's start, when the root is its body). */
  before?: string;
  /** Text written after it. */
  after?: string;
  /**
   * Where deferred fragments' bytes go (`deferredFragment`): memory the caller releases once the
   * bytes have been sent. Without it they go to the shared slabs, which the collector frees.
   */
  arena?: Arena;
}

/**
 * The same document as `serializeXml` (between `before` and `after`), as UTF-8 bytes in one
 * buffer: the text it writes is encoded once and every fragment's bytes are copied in as they are,
 * so an answer made of fragments costs little more than copying them.
 */
export function serializeXmlBytes(root: XmlElement, options: SerializeBytesOptions = {}): Buffer {
  return Buffer.concat(serializeXmlChunks(root, options));
}

/**
 * The bytes of `serializeXmlBytes` as the buffers they are made of, in order, not joined: a
 * socket writes them in one writev, so even the copy into one buffer (about 4 % of a LeafClass
 * answer's CPU) is saved. Fragments' buffers are shared, never to be modified.
 */
export function serializeXmlChunks(root: XmlElement, options: SerializeBytesOptions = {}): Buffer[] {
  const parts: (string | Buffer)[] = [];
  const arena = options.arena;
  const w = new Writer(false, parts, arena === undefined ? inSlab : (pieces) => arena.copy(pieces));
  const { head, body, tail } = writeDocument(w, root, options);
  // The root's start tag is known last (writeDocument), but comes first; parts holds what the
  // content wrote before each fragment, and the fragments' bytes, in order; body is what followed.
  const buffers: Buffer[] = [Buffer.from((options.before ?? '') + head, 'utf8')];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (typeof p !== 'string') buffers.push(p);
    else if (p !== '') buffers.push(Buffer.from(p, 'utf8'));
  }
  buffers.push(Buffer.from(body + tail + (options.after ?? ''), 'utf8'));
  return buffers;
}

function writeDocument(w: Writer, root: XmlElement, options: SerializeOptions): { head: string; body: string; tail: string } {
  // Its namespaces are declared on the root of the document it lands in: it cannot be one.
  if (root instanceof XmlFragment) throw new TypeError(`a pre-serialised ${root.local} cannot be the root of a document`);
  // The root's own name and attributes are noted before its content, as a reader meets them, so
  // prefixes are numbered in order of first use; the declarations can only be written once the
  // whole content has been seen, hence the root's start tag is assembled last.
  const name = w.qualified(root.ns, root.local);
  const attributes = w.attributes(root);
  const empty = root.children.length === 0;
  const body = empty ? '' : w.content(root.children);
  const head = `${options.declaration ? '<?xml version="1.0" encoding="UTF-8"?>' : ''}<${name}${w.declarations()}${attributes}${empty ? '/>' : '>'}`;
  return { head, body, tail: empty ? '' : `</${name}>` };
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

  /**
   * @param fragment a fragment writer refuses numbered prefixes (serializeFragment)
   * @param parts where a bytes writer leaves the text before each fragment and the fragment's
   *   bytes (serializeXmlBytes); without it fragments are decoded into the text
   */
  constructor(
    private readonly fragment: boolean,
    private readonly parts?: (string | Buffer)[],
    private readonly place: Place = inSlab,
  ) {}

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
        if (this.fragment) throw NOT_PORTABLE;
        prefix = `ns${this.next++}`;
        this.numbered.push(uri);
      }
    }
    const withColon = `${prefix}:`;
    this.bound.set(uri, withColon);
    return withColon;
  }

  /** The namespaces declared so far (a fragment writer has only preferred ones). */
  usedNamespaces(): string[] {
    return [...this.preferred, ...this.numbered];
  }

  /** Binds a fragment's namespaces where it stands, as writing its element would have. */
  private adopt(fragment: XmlFragment): void {
    const namespaces = fragment.namespaces;
    for (let i = 0; i < namespaces.length; i++) {
      const uri = namespaces[i]!;
      if (!this.bound.has(uri)) this.bind(uri);
    }
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
      if (c instanceof XmlFragment) {
        this.adopt(c);
        if (this.parts === undefined) out += c.xml;
        else {
          this.parts.push(out, ...bytesOf(c, this.place));
          out = '';
        }
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
  // \r must be a reference or a reader would turn it into \n.
  return escapeWith(s, TEXT_SPECIAL);
}

export function escapeAttribute(s: string): string {
  // Literal tab and newline in an attribute would be normalised to spaces by every reader.
  return escapeWith(s, ATTRIBUTE_SPECIAL);
}

const TEXT_SPECIAL = /[&<>\r]/g;
const ATTRIBUTE_SPECIAL = /[&<>"\r\n\t]/g;

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\r': '&#13;',
  '\n': '&#10;',
  '\t': '&#9;',
};

/**
 * The input itself when nothing needs escaping (most values: ids, OIDs, codes), else the pieces
 * between the matches with each special character replaced. One `exec` loop over a shared global
 * expression: ~2.5× faster than `replace` with a callback on the CX values, which all hold `&`.
 * Nothing runs between the calls, so the expression's lastIndex cannot be disturbed; a failed
 * `exec` leaves it at 0 again.
 */
function escapeWith(s: string, special: RegExp): string {
  special.lastIndex = 0;
  let m = special.exec(s);
  if (m === null) return s;
  let out = '';
  let last = 0;
  do {
    out += s.slice(last, m.index) + ESCAPES[m[0]]!;
    last = m.index + 1;
    m = special.exec(s);
  } while (m !== null);
  return out + s.slice(last);
}
