/**
 * Hardened XML reader: text in, namespace-resolved XmlElement tree out.
 *
 * Why not fast-xml-parser (which DESIGN.md names): measured on this machine with fast-xml-parser
 * 5.12, `XMLParser` accepts mismatched and unclosed tags and plain garbage without an error, and
 * `XMLValidator` (needed to catch those) still accepts a second root or trailing text after a
 * self-closing root. Validator + parser + a namespace pass ran at ~10 MB/s on a 14 MB ebRIM
 * submission. This single-pass reader checks well-formedness itself, resolves namespaces while it
 * reads (no second tree walk), keeps an explicit element stack (a depth bomb cannot overflow the
 * JavaScript stack) and runs several times faster.
 *
 * Why not saxes (issue 14, where this reader was found to accept 47 of the W3C suite's 243
 * not-well-formed XML 1.0 documents without a DOCTYPE, and to copy namespace tables
 * quadratically): measured with `npm run bench:parse -- --baseline HEAD --saxes --runs 7`
 * (scripts/bench-parse.ts; medians, Node 20, the shared 2-vCPU machine at load 4–6), saxes plus
 * the few lines that build our tree from its events (scripts/fuzz/saxes-reader.ts) reads the
 * 8.7 KB ITI-42 request in 665 µs (13 MB/s) and a 14 MB ITI-41 with an inline document in 548 ms
 * (26 MB/s). This reader, before the fix: 73 µs (119 MB/s) and 23.3 ms (602 MB/s); after it:
 * 81 µs (107 MB/s) and 19.8 ms (707 MB/s), and in three more runs of the two alone after/before
 * 0.93–1.05 (ITI-42) and 0.99–1.16 (14 MB): no cost this machine can tell from its noise. saxes
 * would make the path every request takes 8–28 × slower, so the reader was fixed, and saxes is
 * the reference the differential tests hold it to (test/xml/differential.test.ts).
 *
 * Linear in its input, whatever the input: namespace bindings live in one map with an undo stack
 * (an element's declarations are undone when it closes), and an element's nsScope copies at most
 * 16 bindings (FLAT_SCOPE_LIMIT), so N declarations on one element and M children declaring one
 * each cost N + 16 M, not N × M; names are remembered in a bounded table, kept across documents
 * (SHARED_NAMES; issue 19); every scan (`indexOf` for the next markup, `]]>`, `--`, `?>`) moves
 * forward only. Caps on attributes and namespace declarations, per element and per document
 * (XmlParseLimits), refuse what no message needs before it costs anything.
 *
 * Issue 19 (the seventh session, BENCHMARKS.md) made it 1.4–1.5× faster on an ITI-42 request,
 * with half the garbage and the same results and refusals: characters and declarations are checked while reading rather
 * than in two passes before (rejectBeforeParsing), names are compared with the one expected
 * before any is looked up, and children are collected on one stack.
 *
 * What it accepts: XML 1.0 documents in UTF-8 with an optional BOM and XML declaration, comments,
 * CDATA sections and processing instructions (the latter two kinds are dropped). What it refuses:
 * any DOCTYPE or ENTITY declaration (never expanded: any `<!DOCTYPE` or `<!ENTITY` in the text refuses it),
 * named entities other than the five predefined ones, undeclared prefixes, an XML declaration of a
 * version other than 1.0, bytes whose declared encoding contradicts how they are read, and
 * anything not well-formed (test/xml/w3c-suite.test.ts runs the W3C XML Conformance Test Suite).
 */
import { isAscii } from 'node:buffer';
import { NS } from './namespaces.js';
import type { XmlElement, XmlNode } from './tree.js';

export type XmlParseFailure = 'malformed' | 'doctype' | 'too-deep' | 'too-large';

/** The caps of XmlParseLimits a document can exceed; XmlParseError.limit names the one it did. */
export type XmlCap = 'maxElements' | 'maxAttributesPerElement' | 'maxAttributes' | 'maxNamespaceDeclarationsPerElement' | 'maxNamespaceDeclarations';

export class XmlParseError extends Error {
  readonly reason: XmlParseFailure;
  /** Set when a cap was exceeded (the reason is then 'malformed': no sender needs that many). */
  readonly limit: XmlCap | undefined;
  constructor(reason: XmlParseFailure, message: string, limit?: XmlCap) {
    super(message);
    this.name = 'XmlParseError';
    this.reason = reason;
    this.limit = limit;
  }
}

export interface XmlParseLimits {
  /** Largest accepted input in bytes (UTF-8). Default 64 MiB. */
  maxBytes?: number;
  /** Deepest accepted element nesting (the root is depth 1). Default 200. */
  maxDepth?: number;
  /** Most elements in the whole document. Default 2,000,000. */
  maxElements?: number;
  /** Most attributes on one element, namespace declarations not counted. Default 256. */
  maxAttributesPerElement?: number;
  /** Most attributes in the whole document, namespace declarations not counted. Default 4,000,000. */
  maxAttributes?: number;
  /** Most namespace declarations (xmlns, xmlns:p) on one element. Default 64. */
  maxNamespaceDeclarationsPerElement?: number;
  /** Most namespace declarations in the whole document. Default 100,000. */
  maxNamespaceDeclarations?: number;
}

export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 200;
/**
 * The tree costs about 40 bytes of heap per byte of `<a/>` (8 MB of empty elements built a 328 MB
 * tree), so without a count a 100 MB request of empty elements would exhaust the heap. A LeafClass
 * answer holds about one element per 40 bytes: a 64 MB one (DEFAULT_MAX_BYTES) about 1.6 million.
 * 2 million bounds the tree of any one document to some 100 MB of heap.
 */
export const DEFAULT_MAX_ELEMENTS = 2_000_000;
/** ebRIM, SOAP, WS-Addressing and SAML elements carry a handful (the fixtures at most 5). */
export const DEFAULT_MAX_ATTRIBUTES_PER_ELEMENT = 256;
/**
 * A LeafClass answer holds about one attribute per 50 bytes, so a 100 MB answer (the gateway's
 * default response limit) about 2 million: twice that leaves room and still bounds the tree.
 */
export const DEFAULT_MAX_ATTRIBUTES = 4_000_000;
/** The fixtures declare at most 4 namespaces on one element; senders declare theirs on the root. */
export const DEFAULT_MAX_NAMESPACE_DECLARATIONS_PER_ELEMENT = 64;
/** Enough for a stack that redeclares its namespaces on every entry of a large answer. */
export const DEFAULT_MAX_NAMESPACE_DECLARATIONS = 100_000;

const XMLNS_URI = 'http://www.w3.org/2000/xmlns/';

interface Caps {
  readonly maxDepth: number;
  readonly maxElements: number;
  readonly maxAttributesPerElement: number;
  readonly maxAttributes: number;
  readonly maxNamespaceDeclarationsPerElement: number;
  readonly maxNamespaceDeclarations: number;
}

/** How the text was obtained: from bytes read as UTF-8 (with or without a BOM), or handed over as a string. */
type Source = 'utf-8' | 'utf-8-bom' | 'string';

/** Parses a complete XML document and returns its root element. Throws XmlParseError. */
export function parseXml(input: string | Uint8Array, limits: XmlParseLimits = {}): XmlElement {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  const caps: Caps = {
    maxDepth: limits.maxDepth ?? DEFAULT_MAX_DEPTH,
    maxElements: limits.maxElements ?? DEFAULT_MAX_ELEMENTS,
    maxAttributesPerElement: limits.maxAttributesPerElement ?? DEFAULT_MAX_ATTRIBUTES_PER_ELEMENT,
    maxAttributes: limits.maxAttributes ?? DEFAULT_MAX_ATTRIBUTES,
    maxNamespaceDeclarationsPerElement: limits.maxNamespaceDeclarationsPerElement ?? DEFAULT_MAX_NAMESPACE_DECLARATIONS_PER_ELEMENT,
    maxNamespaceDeclarations: limits.maxNamespaceDeclarations ?? DEFAULT_MAX_NAMESPACE_DECLARATIONS,
  };
  const [text, source] = decodeInput(input, maxBytes);
  // Decoded bytes always pair their surrogates; a string handed over by a caller may not, and a
  // lone surrogate is no character at all.
  if (source === 'string' && !(text as unknown as WellFormedString).isWellFormed()) {
    rejectBeforeParsing(text);
    throw new XmlParseError('malformed', 'XML text holds a lone surrogate');
  }
  try {
    return new Reader(text, caps, source).document();
  } catch (error) {
    // The reader refuses every document that holds a declaration or an illegal character, but
    // only reads the text once: when it refuses one, these two say why, as they always have,
    // before whatever the reader met first.
    rejectBeforeParsing(text);
    throw error;
  }
}

/**
 * What the reader refused before it read anything, up to issue 19: any DOCTYPE or ENTITY
 * declaration, then any illegal character. Two passes over the whole text cost 15 % of reading an
 * ITI-42 request, so the reader checks as it goes instead (the characters of every text,
 * attribute value, comment, CDATA section and processing instruction; markup it reads character
 * by character) and calls these only once it has refused a document, to give the same reason.
 */
function rejectBeforeParsing(text: string): void {
  rejectDeclarations(text);
  rejectIllegalCharacters(text);
}

function decodeInput(input: string | Uint8Array, maxBytes: number): [string, Source] {
  let text: string;
  let source: Source;
  if (typeof input === 'string') {
    // A UTF-16 code unit is at most 3 UTF-8 bytes: only count exactly when it could matter.
    if (input.length * 3 > maxBytes && Buffer.byteLength(input, 'utf8') > maxBytes) {
      throw new XmlParseError('too-large', `XML larger than ${maxBytes} bytes`);
    }
    text = input;
    source = 'string';
  } else {
    if (input.byteLength > maxBytes) throw new XmlParseError('too-large', `XML larger than ${maxBytes} bytes`);
    const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    if (isAscii(bytes)) {
      // ASCII is UTF-8 whose bytes are its characters: no decoder, no validation needed.
      text = bytes.toString('latin1');
    } else {
      try {
        text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
      } catch {
        throw new XmlParseError('malformed', 'XML is not valid UTF-8');
      }
    }
    source = 'utf-8';
  }
  if (text.charCodeAt(0) === 0xfeff) {
    text = text.slice(1);
    if (source === 'utf-8') source = 'utf-8-bom';
  }
  return [text, source];
}

/** DTDs are the root of entity expansion attacks (billion laughs, XXE): refuse them outright. */
function rejectDeclarations(text: string): void {
  let i = text.indexOf('<!');
  while (i !== -1) {
    const word = text.substr(i + 2, 7).toUpperCase();
    if (word === 'DOCTYPE' || word.startsWith('ENTITY')) {
      throw new XmlParseError('doctype', 'DOCTYPE and ENTITY declarations are not accepted');
    }
    i = text.indexOf('<!', i + 2);
  }
}

/**
 * (Kept apart from the searches for '&' and '\r' in text on purpose: with those two added to its
 * class this expression took 27 ms, not 4, over the 10.5 MB of base64 of an inline document.)
 */
function rejectIllegalCharacters(text: string): void {
  const m = ILLEGAL_CHARACTER.exec(text);
  if (m) throw new XmlParseError('malformed', `illegal character U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} at offset ${m.index}`);
}

/** XML 1.0 forbids C0 controls other than tab, newline and carriage return, and U+FFFE/U+FFFF. */
const ILLEGAL_CHARACTER = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
/**
 * The longest run of an attribute value that needs no decoding and holds nothing to refuse: no
 * quote, '<', '&', control character (tab, line ends and illegal ones alike) or U+FFFE/U+FFFF.
 * Matched in place (sticky, from lastIndex), so a plain value costs one scan and one slice.
 */
const PLAIN_DOUBLE_QUOTED = /[^"<&\x00-\x1F\uFFFE\uFFFF]*/y;
const PLAIN_SINGLE_QUOTED = /[^'<&\x00-\x1F\uFFFE\uFFFF]*/y;

/** String.prototype.isWellFormed (ES2024, in Node 20) is not in the ES2023 library typings. */
interface WellFormedString {
  isWellFormed(): boolean;
}

type Scope = Readonly<Record<string, string>>;

/** An element while it is being read; `finish` hands it out as an XmlElement with these keys, in this order. */
interface Building {
  ns: string;
  local: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  nsScope: Scope;
  prefix?: string;
}

/**
 * One distinct name (of an element or an attribute, as written). An ebRIM message uses a few dozen
 * names thousands of times, and every message the same few dozen: the reader recognises a name it
 * has met in place (a hash of its characters, then a comparison with the text) instead of cutting
 * a new string each time, splits it once, and remembers what it resolved to in the last namespace
 * scope of the document being read. Names are kept from document to document (SHARED_NAMES), so
 * the tree's names are shared strings, and attribute keys are the same (already internalised)
 * strings on every element of every document, which makes setting and checking them cheaper.
 */
interface Name {
  readonly qname: string;
  /**
   * The qname's UTF-16 code units. Text is compared with a name character by character (every
   * end tag, every name found in the table): V8 reads an array of numbers about twice as fast as
   * a string's characters (measured: 20 against 40 ns for an end tag's name; `startsWith` with a
   * position costs as much as the latter).
   */
  readonly codes: readonly number[];
  readonly prefix: string | undefined;
  readonly local: string;
  /**
   * In SHARED_NAMES. Only kept names learn what follows them, and only kept names are learned,
   * so what the table holds alive stays bounded (an evicted name forgets what it learned).
   */
  kept: boolean;
  /**
   * What followed this name last time, learned across documents: as an element, its first
   * attribute, its first child element, and the element after it; as an attribute, the next
   * attribute. ebRIM messages repeat the same few sequences, so the reader first compares the
   * text with the name it expects there (nameIfAt) and hashes and looks up a name only when that
   * fails. A guess is only a guess: what the reader reads is the same either way.
   */
  firstAttribute: Name | undefined;
  firstChild: Name | undefined;
  nextSibling: Name | undefined;
  nextAttribute: Name | undefined;
  /** Not a legal qualified name (empty prefix or local part, a second colon): refused where it is resolved. */
  readonly illegal: boolean;
  /** `xmlns` or `xmlns:…`: a namespace declaration where it names an attribute. */
  readonly declaration: boolean;
  /**
   * The scope an element of this name was last resolved in, and its namespace there; undefined
   * outside the document being read (Reader.forgetScopes), so that no scope, namespace or key of
   * one document is held past its parse or ever taken for another's.
   */
  elementScope: Scope | undefined;
  elementNs: string;
  /** The scope an attribute of this name was last resolved in, and its key in `attrs` there. */
  attributeScope: Scope | undefined;
  attributeKey: string;
}

function newName(qname: string, codes: readonly number[] = codesOf(qname)): Name {
  const colon = qname.indexOf(':');
  const prefix = colon === -1 ? undefined : qname.slice(0, colon);
  const local = colon === -1 ? qname : qname.slice(colon + 1);
  return {
    qname,
    codes,
    kept: false,
    firstAttribute: undefined,
    firstChild: undefined,
    nextSibling: undefined,
    nextAttribute: undefined,
    prefix,
    local,
    illegal: prefix !== undefined && (prefix === '' || local === '' || local.includes(':')),
    declaration: qname === 'xmlns' || prefix === 'xmlns',
    elementScope: undefined,
    elementNs: '',
    attributeScope: undefined,
    attributeKey: '',
  };
}

function codesOf(s: string): number[] {
  const codes: number[] = [];
  for (let i = 0; i < s.length; i++) codes.push(s.charCodeAt(i));
  return codes;
}

/**
 * The names met so far, by hash: NAME_TABLE_SIZE buckets (a power of two) of at most MAX_BUCKET
 * names each, kept across documents (a module holds one; parsing is synchronous, so two documents
 * never use it at once). A new name that finds its bucket full takes the place of one in it (in
 * turn): lookups stay bounded whatever the input, and names a crafted document leaves behind give
 * way to those of the next. Names longer than MAX_SHARED_NAME are never kept, so the table holds
 * at most 2,048 names of at most 100 characters.
 */
const NAME_TABLE_SIZE = 256;
const MAX_BUCKET = 8;
const MAX_SHARED_NAME = 100;
const SHARED_NAMES: Name[][] = Array.from({ length: NAME_TABLE_SIZE }, () => []);
/** Which entry of a full bucket the next new name replaces. */
let nextEvicted = 0;

/** XML 1.0 fifth edition Name (§2.3), by code point: the `u` flag reads a surrogate pair as one. */
const NAME_START_CHARS =
  'A-Za-z_:\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F' +
  '\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME = new RegExp(`[${NAME_START_CHARS}][${NAME_START_CHARS}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040]*`, 'uy');

/**
 * The XML declaration (§2.8 [23]–[26], [32], §4.3.3 [80]–[81]): version, then optionally encoding,
 * then optionally standalone, in that order, each after whitespace. Every repetition is followed
 * by a literal that ends it, so a failing match backtracks over each blank run once: linear.
 */
const XML_DECLARATION = new RegExp(
  '<\\?xml[ \\t\\r\\n]+version[ \\t\\r\\n]*=[ \\t\\r\\n]*(?:"(1\\.[0-9]+)"|\'(1\\.[0-9]+)\')' +
    '(?:[ \\t\\r\\n]+encoding[ \\t\\r\\n]*=[ \\t\\r\\n]*(?:"([A-Za-z][A-Za-z0-9._-]*)"|\'([A-Za-z][A-Za-z0-9._-]*)\'))?' +
    '(?:[ \\t\\r\\n]+standalone[ \\t\\r\\n]*=[ \\t\\r\\n]*(?:"(?:yes|no)"|\'(?:yes|no)\'))?' +
    '[ \\t\\r\\n]*\\?>',
  'y',
);
const UTF8_LABEL = /^utf-?8$/i;
/**
 * Labels of encodings that write every ASCII character as its ASCII byte. Bytes are read as
 * UTF-8, what the SOAP endpoint's transport says they are (RFC 7303: the charset parameter wins
 * over the declaration; the endpoint decodes any other charset to a string first). A document so
 * labelled keeps being read as UTF-8, as it always was (senders that write UTF-8 under a Latin-1
 * label exist). A label outside this list and UTF-8 (UTF-16, UTF-32, EBCDIC, unknown) cannot
 * describe bytes that read as ASCII-compatible text: that contradiction is refused.
 */
const ASCII_COMPATIBLE_LABEL = /^(?:(?:us-)?ascii|iso[-_]?646[-_.]?(?:irv|us)?|iso[-_]?8859[-_][0-9]{1,2}|latin-?[0-9]{1,2}|l[0-9]|(?:windows|cp)-?125[0-8])$/i;

/** What an element's children are until it closes: never handed out. */
const NO_CHILDREN_YET: XmlNode[] = [];

/** The scope of an element with no declaration in scope. */
const EMPTY_SCOPE: Scope = Object.freeze({});

/**
 * The most bindings a scope holds as a plain copy. A declaring element's scope is a copy of its
 * parent's plus its own declarations while that stays this small: V8 then gives the scopes of
 * every document the same few hidden classes, as it did before issue 14. A scope that would grow
 * larger inherits its parent's through the prototype chain instead and holds only its own, so no
 * element ever copies more than this many bindings (N declarations and M declaring children cost
 * N + 16 M, not N × M). Chaining every scope cost 15 % on an ITI-42 request: each document's
 * scopes became new prototypes, hence new hidden classes, on every parse.
 */
const FLAT_SCOPE_LIMIT = 16;

/**
 * The namespaces the node reads, each mapped to its own constant: a declared URI equal to one is
 * replaced by that very string, so that comparing an element's namespace with `NS.rim` (which the
 * readers do for every child they look at) is one pointer comparison, not forty characters.
 */
const KNOWN_URIS: ReadonlyMap<string, string> = new Map(Object.values(NS).map((uri) => [uri, uri]));

class Reader {
  private pos = 0;
  /**
   * The open elements, innermost last, and at the same index: their names as written, and where
   * their children start in `nodes`.
   */
  private readonly open: Building[] = [];
  private readonly openNames: Name[] = [];
  private readonly childStarts: number[] = [];
  /**
   * The children read so far of every open element, outermost element's first: an element's
   * children are copied out of it when it closes, into an array of exactly their number (an
   * array grown by push holds room for 17 or more, ~150 bytes per element of an ebRIM message).
   * Entries past `nodeCount` are stale; the array is never shortened, so it is not reallocated
   * as elements open and close.
   */
  private readonly nodes: XmlNode[] = [];
  private nodeCount = 0;
  /**
   * The text the innermost open element holds since its last child element (text, references
   * and CDATA merged), and the name of that last child element (undefined while it has none).
   * Only the innermost element can hold such text (a child's start tag flushes its parent's), and
   * an element is back on top only when a child of it has closed: so one of each serves every
   * depth.
   */
  private pending = '';
  private lastChild: Name | undefined = undefined;
  /** The current start tag's attributes (names and decoded values), reused from tag to tag. */
  private readonly attrNames: Name[] = [];
  private readonly attrValues: string[] = [];
  /** The names whose scope caches this document has set, cleared when it is read (forgetScopes). */
  private readonly resolvedNames: Name[] = [];
  /**
   * The namespace bindings in scope (prefix → URI, '' for the default namespace), changed in
   * place: a declaration pushes the binding it hides onto the undo stack, and closing its element
   * puts it back (`undoMarks`: where each open declaring element's entries start). A prefix that
   * was unbound is set back to undefined, never deleted: V8's Map rehashes its whole table over
   * and over when one key is added and deleted again and again (measured: 32,000 add/delete pairs
   * beside 32,000 live keys took 2.2 s; as overwrites, under 1 ms). The elements' nsScope objects
   * tell scopes apart: one is made for each declaring element and shared by its non-declaring
   * descendants, so the name table's caches are keyed by it (see FLAT_SCOPE_LIMIT for its shape).
   */
  private readonly bindings = new Map<string, string | undefined>();
  private readonly undoPrefixes: string[] = [];
  private readonly undoUris: (string | undefined)[] = [];
  private readonly undoMarks: number[] = [];
  /** Which declaring element (by number) last declared each prefix: a repeated declaration is refused. */
  private readonly declaredBy = new Map<string, number>();
  private declaringElements = 0;
  private attributes = 0;
  private declarations = 0;
  private elements = 0;
  /** Whether the whole text has been checked for declarations (see checkUnread). */
  private declarationsChecked = false;
  /** The first `]]>` at or after the last text read (the text's length when there is none). */
  private cdataEnd = -1;

  constructor(
    private readonly text: string,
    private readonly caps: Caps,
    private readonly source: Source,
  ) {}

  document(): XmlElement {
    try {
      const t = this.text;
      if (t.startsWith('<?xml') && (isSpace(t.charCodeAt(5)) || t.charCodeAt(5) === 0x3f)) this.xmlDeclaration();
      this.skipMisc();
      if (t.charCodeAt(this.pos) !== 0x3c /* < */) this.fail('expected the root element');
      const root = this.content();
      this.skipMisc();
      if (this.pos < t.length) this.fail('content after the root element');
      return root;
    } finally {
      this.forgetScopes();
    }
  }

  /**
   * Clears the scope caches this document set in the shared names: its scopes and namespace URIs
   * (which may be slices of its text) are not kept alive by the table, and the next document
   * starts from names that know nothing of this one's bindings.
   */
  private forgetScopes(): void {
    for (const name of this.resolvedNames) {
      name.elementScope = undefined;
      name.elementNs = '';
      name.attributeScope = undefined;
      name.attributeKey = '';
    }
  }

  /** Notes a name whose scope caches are about to be set for the first time in this document. */
  private resolving(name: Name): void {
    if (name.elementScope === undefined && name.attributeScope === undefined) this.resolvedNames.push(name);
  }

  private fail(what: string): never {
    throw new XmlParseError('malformed', `malformed XML at offset ${this.pos}: ${what}`);
  }

  private exceed(cap: XmlCap, what: string): never {
    throw new XmlParseError('malformed', `malformed XML at offset ${this.pos}: more than ${this.caps[cap]} ${what}`, cap);
  }

  private xmlDeclaration(): void {
    XML_DECLARATION.lastIndex = 0;
    const m = XML_DECLARATION.exec(this.text);
    if (!m) this.fail('malformed XML declaration');
    const version = m[1] ?? m[2]!;
    // XML 1.1 changes which characters and line ends a document may hold; no sender of ours
    // writes it, so it is refused rather than read by the 1.0 rules.
    if (version !== '1.0') this.fail(`XML version ${version} is not read (only 1.0)`);
    const encoding = m[3] ?? m[4];
    if (encoding !== undefined && this.source !== 'string' && !UTF8_LABEL.test(encoding)) {
      if (this.source === 'utf-8-bom') this.fail(`the document starts with a UTF-8 byte order mark but declares encoding ${encoding}`);
      if (!ASCII_COMPATIBLE_LABEL.test(encoding)) this.fail(`the document declares encoding ${encoding}, but its bytes read as UTF-8`);
    }
    this.pos = m[0].length;
  }

  /** Whitespace, comments and processing instructions around the root element. */
  private skipMisc(): void {
    const t = this.text;
    for (;;) {
      while (this.pos < t.length && isSpace(t.charCodeAt(this.pos))) this.pos++;
      if (t.startsWith('<!--', this.pos)) this.skipComment();
      else if (t.startsWith('<?', this.pos)) this.skipPi();
      else return;
    }
  }

  private skipComment(): void {
    // '--' may only end a comment (§2.5 [15]): the first one after '<!--' must be followed by '>'.
    const dashes = this.text.indexOf('--', this.pos + 4);
    if (dashes === -1) this.fail('unterminated comment');
    if (this.text.charCodeAt(dashes + 2) !== 0x3e) this.fail("'--' inside a comment");
    this.checkUnread(this.pos + 4, dashes);
    this.pos = dashes + 3;
  }

  private skipPi(): void {
    const t = this.text;
    const start = this.pos + 2;
    NAME.lastIndex = start;
    const m = NAME.exec(t);
    if (!m) this.fail('processing instruction without a target');
    const target = m[0];
    // §2.6 [17]: names matching [Xx][Mm][Ll] are reserved; the declaration is read only at offset 0.
    if (target.length === 3 && target.toLowerCase() === 'xml') {
      this.fail(target === 'xml' ? 'XML declaration not at the start of the document' : `reserved processing instruction target ${target}`);
    }
    // Namespaces §7: no colon in a processing instruction target.
    if (target.includes(':')) this.fail(`colon in processing instruction target ${target}`);
    const after = start + target.length;
    const end = t.indexOf('?>', after);
    if (end === -1) this.fail('unterminated processing instruction');
    if (end !== after && !isSpace(t.charCodeAt(after))) this.fail(`malformed processing instruction target ${target}`);
    this.checkUnread(after, end);
    this.pos = end + 2;
  }

  /**
   * Checks what only an `indexOf` has passed over (a comment's, a processing instruction's or a
   * CDATA section's characters, from `from` to `to`): an illegal character is refused, and a '<!'
   * there (which may start a DOCTYPE or ENTITY declaration that the document is refused for) has
   * the whole text checked for declarations, once. (No '<!' can straddle `to`: a closing `--`,
   * `]]>` or `?>` starts there.)
   */
  private checkUnread(from: number, to: number): void {
    const body = this.text.slice(from, to);
    if (ILLEGAL_CHARACTER.test(body)) this.fail('illegal character');
    if (!this.declarationsChecked && body.includes('<!')) {
      rejectDeclarations(this.text);
      this.declarationsChecked = true;
    }
  }

  /** Reads the root element and everything inside it. */
  private content(): XmlElement {
    const t = this.text;
    const open = this.open;
    for (;;) {
      const lt = t.indexOf('<', this.pos);
      const top = open.length - 1;
      if (top < 0) {
        // Only reached before the root: the caller guarantees we are at '<'.
        const root = this.startTag();
        if (root) return root;
        continue;
      }
      if (lt === -1) this.fail(`unclosed element <${this.openNames[top]!.qname}>`);
      const next = t.charCodeAt(lt + 1);
      if (lt > this.pos) {
        // ']]>' may not appear in text (§2.4). The search runs ahead to the next occurrence and
        // is repeated only once the reader has passed it (inside an attribute value, a comment,
        // CDATA), so the text is scanned once in all.
        if (this.cdataEnd < this.pos) {
          const at = t.indexOf(']]>', this.pos);
          this.cdataEnd = at === -1 ? t.length : at;
        }
        if (this.cdataEnd < lt) {
          this.pos = this.cdataEnd;
          this.fail("']]>' in text");
        }
        // Indentation before a child element or closing an element that has children is layout:
        // drop it here rather than allocate it and filter it out later.
        const pending = this.pending;
        const layout =
          pending === '' && isWhitespace(t, this.pos, lt) && (this.lastChild !== undefined ? next !== 0x21 && next !== 0x3f : isNameStart(next));
        if (!layout) this.pending = pending + this.textBetween(this.pos, lt);
      }
      this.pos = lt;
      if (next === 0x2f /* / */) {
        const done = this.endTag();
        if (open.length === 0) return done;
      } else if (next === 0x21 /* ! */) {
        if (t.startsWith('<!--', lt)) this.skipComment();
        else if (t.startsWith('<![CDATA[', lt)) {
          const end = t.indexOf(']]>', lt + 9);
          if (end === -1) this.fail('unterminated CDATA section');
          this.checkUnread(lt + 9, end);
          this.pending += normalizeNewlines(t.slice(lt + 9, end));
          this.pos = end + 3;
        } else this.fail('unexpected markup declaration');
      } else if (next === 0x3f /* ? */) {
        this.skipPi();
      } else {
        this.startTag();
      }
    }
  }

  /** The text from `from` to `to`, with its line ends normalised and its references decoded. */
  private textBetween(from: number, to: number): string {
    const raw = this.text.slice(from, to);
    if (ILLEGAL_CHARACTER.test(raw)) this.fail('illegal character');
    return decodeText(raw, from);
  }

  /** Reads a start tag; returns the element when it was empty and had no parent (a lone root). */
  private startTag(): XmlElement | undefined {
    const t = this.text;
    const caps = this.caps;
    this.pos++;
    const parentName = this.openNames[this.openNames.length - 1];
    const before = this.lastChild;
    const guess = before !== undefined ? before.nextSibling : parentName?.firstChild;
    let name = this.nameIfAt(guess);
    if (name === undefined) {
      name = this.name('element name');
      if (name.kept && before !== undefined) {
        if (before.kept) before.nextSibling = name;
      } else if (name.kept && parentName?.kept) parentName.firstChild = name;
    }
    const qname = name.qname;
    const attrNames = this.attrNames;
    const attrValues = this.attrValues;
    let count = 0;
    let declarations = 0;
    let attributes = 0;
    let selfClosing = false;
    let previous: Name | undefined;
    for (;;) {
      const hadSpace = this.skipSpace();
      const c = t.charCodeAt(this.pos);
      if (c === 0x3e /* > */) {
        this.pos++;
        break;
      }
      if (c === 0x2f /* / */ && t.charCodeAt(this.pos + 1) === 0x3e) {
        this.pos += 2;
        selfClosing = true;
        break;
      }
      if (Number.isNaN(c)) this.fail(`unterminated start tag <${qname}>`);
      if (!hadSpace) this.fail(`expected whitespace before an attribute of <${qname}>`);
      const attr = this.attributeName(name, previous);
      previous = attr;
      // Counted as soon as read, so a tag with a million attributes stops at the cap's worth.
      if (attr.declaration) {
        if (++declarations > caps.maxNamespaceDeclarationsPerElement) this.exceed('maxNamespaceDeclarationsPerElement', `namespace declarations on <${qname}>`);
        if (++this.declarations > caps.maxNamespaceDeclarations) this.exceed('maxNamespaceDeclarations', 'namespace declarations in the document');
      } else {
        if (++attributes > caps.maxAttributesPerElement) this.exceed('maxAttributesPerElement', `attributes on <${qname}>`);
        if (++this.attributes > caps.maxAttributes) this.exceed('maxAttributes', 'attributes in the document');
      }
      this.skipSpace();
      if (t.charCodeAt(this.pos) !== 0x3d /* = */) this.fail(`attribute ${attr.qname} without value`);
      this.pos++;
      this.skipSpace();
      attrNames[count] = attr;
      attrValues[count] = this.attributeValue(attr);
      count++;
    }

    if (++this.elements > caps.maxElements) this.exceed('maxElements', 'elements in the document');
    // An empty element counts as deep as an open one.
    const depth = this.open.length;
    if (depth >= caps.maxDepth) {
      throw new XmlParseError('too-deep', `XML nested deeper than ${caps.maxDepth} elements`);
    }
    const parent = depth > 0 ? this.open[depth - 1]! : undefined;
    const el = this.resolve(name, count, declarations, parent ? parent.nsScope : EMPTY_SCOPE);
    if (parent) {
      this.lastChild = name;
      this.flushText();
    }
    if (selfClosing) {
      if (declarations > 0) this.undo();
      el.children = [];
      if (parent) this.addChild(el);
      return parent ? undefined : el;
    }
    this.open.push(el);
    this.openNames.push(name);
    this.childStarts.push(this.nodeCount);
    this.lastChild = undefined;
    return undefined;
  }

  /** Reads a quoted attribute value and decodes it (§3.3.3). */
  private attributeValue(attr: Name): string {
    const t = this.text;
    const quote = t.charCodeAt(this.pos);
    if (quote !== 0x22 && quote !== 0x27) this.fail(`attribute ${attr.qname} value not quoted`);
    const start = this.pos + 1;
    const plain = quote === 0x22 ? PLAIN_DOUBLE_QUOTED : PLAIN_SINGLE_QUOTED;
    plain.lastIndex = start;
    plain.test(t);
    let end = plain.lastIndex;
    let value: string;
    if (t.charCodeAt(end) === quote) value = t.slice(start, end);
    else {
      end = t.indexOf(quote === 0x22 ? '"' : "'", end);
      if (end === -1) this.fail(`unterminated value of attribute ${attr.qname}`);
      const raw = t.slice(start, end);
      if (raw.includes('<')) this.fail(`'<' in the value of attribute ${attr.qname}`);
      if (ILLEGAL_CHARACTER.test(raw)) this.fail('illegal character');
      value = decodeAttribute(raw, start);
    }
    this.pos = end + 1;
    return value;
  }

  /** Reads an attribute's name, expecting the one that followed `previous` (or began `element`'s attributes) last time. */
  private attributeName(element: Name, previous: Name | undefined): Name {
    const guess = previous === undefined ? element.firstAttribute : previous.nextAttribute;
    const known = this.nameIfAt(guess);
    if (known !== undefined) return known;
    const attr = this.name('attribute name');
    if (attr.kept) {
      if (previous === undefined) {
        if (element.kept) element.firstAttribute = attr;
      } else if (previous.kept) previous.nextAttribute = attr;
    }
    return attr;
  }

  /**
   * The expected name when the text holds it here, read past; else undefined. It is the whole
   * name when an ASCII non-name character follows (where `name` would stop), so what `name` would
   * read: a name with the same characters.
   */
  private nameIfAt(expected: Name | undefined): Name | undefined {
    if (expected === undefined) return undefined;
    const t = this.text;
    const codes = expected.codes;
    const after = t.charCodeAt(this.pos + codes.length);
    if (after < 0x80 && !isAsciiNameChar(after) && occursAt(t, this.pos, codes)) {
      this.pos += codes.length;
      return expected;
    }
    return undefined;
  }

  private endTag(): XmlElement {
    const t = this.text;
    this.pos += 2;
    const top = this.open.length - 1;
    const expected = this.openNames[top]!.qname;
    // The expected name is usually there: compare it in place rather than read a new string.
    const qname = (this.nameIfAt(this.openNames[top]!) ?? this.name('end tag name')).qname;
    this.skipSpace();
    if (t.charCodeAt(this.pos) !== 0x3e) this.fail(`unterminated end tag </${qname}>`);
    this.pos++;
    if (expected !== qname) this.fail(`end tag </${qname}> does not match <${expected}>`);
    const done = this.finish(top);
    if (top > 0) this.addChild(done);
    return done;
  }

  /** Closes the innermost open element. */
  private finish(top: number): XmlElement {
    this.flushText();
    const el = this.open.pop()!;
    // It declared namespaces when its scope is not its parent's.
    if (el.nsScope !== (top > 0 ? this.open[top - 1]!.nsScope : EMPTY_SCOPE)) this.undo();
    const name = this.openNames.pop()!;
    const start = this.childStarts.pop()!;
    el.children = this.nodes.slice(start, this.nodeCount);
    this.nodeCount = start;
    // The parent is on top again, and has an element child: this one.
    this.lastChild = name;
    return el;
  }

  /** Appends a child to the innermost open element. */
  private addChild(node: XmlNode): void {
    this.nodes[this.nodeCount++] = node;
  }

  /** Puts back the bindings that the innermost declaring element's declarations hid. */
  private undo(): void {
    const mark = this.undoMarks.pop()!;
    const prefixes = this.undoPrefixes;
    const uris = this.undoUris;
    while (prefixes.length > mark) this.bindings.set(prefixes.pop()!, uris.pop());
  }

  /**
   * Hands the innermost open element's pending text to it as a child. Whitespace between elements
   * is layout, not data: in an element with an element child, whitespace-only text is dropped;
   * text in a text-only or mixed element is kept. (Every text is flushed either when a child
   * element starts or when its element closes, so whether the element has an element child is
   * known here.)
   */
  private flushText(): void {
    const text = this.pending;
    if (text === '') return;
    this.pending = '';
    if (this.lastChild !== undefined && isWhitespace(text, 0, text.length)) return;
    this.addChild(text);
  }

  /** Resolves the element's name and attributes in its scope, after its own declarations. */
  private resolve(name: Name, count: number, declarations: number, parentScope: Scope): Building {
    const attrNames = this.attrNames;
    const attrValues = this.attrValues;
    const scope = declarations > 0 ? this.declare(name, count, declarations, parentScope) : parentScope;

    if (name.illegal) this.fail(`illegal qualified name ${name.qname}`);
    let ns: string;
    if (name.elementScope === scope) ns = name.elementNs;
    else {
      ns = name.prefix === undefined ? (this.bindings.get('') ?? '') : this.lookup(name.prefix, name.qname);
      this.resolving(name);
      name.elementScope = scope;
      name.elementNs = ns;
    }

    const attrs: Record<string, string> = {};
    for (let i = 0; i < count; i++) {
      const attr = attrNames[i]!;
      if (attr.declaration) continue;
      if (attr.illegal) this.fail(`illegal qualified name ${attr.qname}`);
      let key: string;
      if (attr.prefix === undefined) key = attr.qname;
      else if (attr.attributeScope === scope) key = attr.attributeKey;
      else {
        key = `{${this.lookup(attr.prefix, attr.qname)}}${attr.local}`;
        this.resolving(attr);
        attr.attributeScope = scope;
        attr.attributeKey = key;
      }
      if (Object.hasOwn(attrs, key)) this.fail(`attribute ${attr.qname} repeated on <${name.qname}>`);
      setOwn(attrs, key, attrValues[i]!);
    }
    // One literal for each shape: a prefix added afterwards would cost every prefixed element
    // (most of an ebRIM message's) a map transition and a separate property store.
    if (name.prefix === undefined) return { ns, local: name.local, attrs, children: NO_CHILDREN_YET, nsScope: scope };
    return { ns, local: name.local, attrs, children: NO_CHILDREN_YET, nsScope: scope, prefix: name.prefix };
  }

  /**
   * Applies the start tag's namespace declarations (undone by `undo` when the element closes) and
   * returns the element's scope: a copy of a small parent scope plus the declarations, or an
   * object holding only them that inherits a larger one (FLAT_SCOPE_LIMIT).
   */
  private declare(name: Name, count: number, declarations: number, parentScope: Scope): Scope {
    const attrNames = this.attrNames;
    const attrValues = this.attrValues;
    const bindings = this.bindings;
    const declaredBy = this.declaredBy;
    const serial = ++this.declaringElements;
    this.undoMarks.push(this.undoPrefixes.length);
    // A copy has Object.prototype as its prototype, a chained scope another scope. Only a copy
    // is counted, and a copy holds at most FLAT_SCOPE_LIMIT bindings.
    const flat = Object.getPrototypeOf(parentScope) === Object.prototype && Object.keys(parentScope).length + declarations <= FLAT_SCOPE_LIMIT;
    const own = (flat ? { ...parentScope } : Object.create(parentScope)) as Record<string, string>;
    for (let i = 0; i < count; i++) {
      const attr = attrNames[i]!;
      if (!attr.declaration) continue;
      const uri = attrValues[i]!;
      // `xmlns:` (no prefix) and `xmlns:a:b` are not declarations but malformed names.
      if (attr.illegal) this.fail(`illegal namespace declaration ${attr.qname}`);
      const declared = attr.prefix === undefined ? '' : attr.local;
      if (declared === 'xmlns' || (declared === 'xml') !== (uri === NS.xml) || uri === XMLNS_URI) {
        this.fail(`illegal namespace declaration ${attr.qname}="${uri}"`);
      }
      if (declared !== '' && uri === '') this.fail(`namespace prefix ${declared} bound to the empty URI`);
      // One declaration cannot repeat another: most declaring elements make one.
      if (declarations > 1) {
        if (declaredBy.get(declared) === serial) this.fail(`attribute ${attr.qname} repeated on <${name.qname}>`);
        declaredBy.set(declared, serial);
      }
      const value = KNOWN_URIS.get(uri) ?? uri;
      setOwn(own, declared, value);
      this.undoPrefixes.push(declared);
      this.undoUris.push(bindings.get(declared));
      bindings.set(declared, value);
    }
    return own;
  }

  private lookup(prefix: string, qname: string): string {
    if (prefix === 'xml') return NS.xml;
    const uri = this.bindings.get(prefix);
    if (uri === undefined) this.fail(`undeclared namespace prefix in ${qname}`);
    return uri;
  }

  private name(what: string): Name {
    const t = this.text;
    const start = this.pos;
    let i = start;
    let hash = 0;
    // ASCII fast path; anything else goes through the full XML Name pattern.
    for (;;) {
      const c = t.charCodeAt(i);
      const ascii = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a;
      if (ascii || (i > start && ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e))) {
        hash = (Math.imul(hash, 31) + c) | 0;
        i++;
      } else break;
    }
    const stop = t.charCodeAt(i);
    if (i > start && stop < 0x80) {
      this.pos = i;
      return this.known(hash, start, i);
    }
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.text);
    if (!m) this.fail(`expected ${what}`);
    this.pos += m[0].length;
    return newName(m[0]);
  }

  /** The Name of the text from start to end, from the table when it was met before. */
  private known(hash: number, start: number, end: number): Name {
    const t = this.text;
    const length = end - start;
    const bucket = SHARED_NAMES[hash & (NAME_TABLE_SIZE - 1)]!;
    for (let k = 0; k < bucket.length; k++) {
      const known = bucket[k]!;
      if (known.codes.length === length && occursAt(t, start, known.codes)) return known;
    }
    if (length > MAX_SHARED_NAME) return newName(t.slice(start, end));
    const name = detachedName(t, start, end);
    name.kept = true;
    if (bucket.length < MAX_BUCKET) bucket.push(name);
    else {
      forget(bucket[nextEvicted]!);
      bucket[nextEvicted] = name;
      nextEvicted = (nextEvicted + 1) % MAX_BUCKET;
    }
    return name;
  }

  private skipSpace(): boolean {
    const start = this.pos;
    const t = this.text;
    while (this.pos < t.length && isSpace(t.charCodeAt(this.pos))) this.pos++;
    return this.pos > start;
  }
}

/** [A-Za-z0-9_:.-]: the ASCII characters an XML name may continue with. */
function isAsciiNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x3a || c === 0x2d || c === 0x2e;
}

/**
 * Whether the code units `codes` occur in `t` at `at`. (`t.startsWith(s, at)` costs V8 some 40 ns
 * a call, about as much as this loop comparing two strings' characters; with one side an array
 * of numbers it takes half that: 30 % of a parse went to comparing names.)
 */
function occursAt(t: string, at: number, codes: readonly number[]): boolean {
  for (let k = 0; k < codes.length; k++) if (t.charCodeAt(at + k) !== codes[k]) return false;
  return true;
}

/**
 * The name of the text from start to end as a string of its own: a name kept in the shared table
 * must not keep the document it was first read in alive (V8 may make a slice of a long string a
 * view into it), so it is built from its code units.
 */
function detachedName(t: string, start: number, end: number): Name {
  const codes: number[] = [];
  for (let i = start; i < end; i++) codes.push(t.charCodeAt(i));
  return newName(String.fromCharCode(...codes), codes);
}

/** Takes a name out of the shared table: it learns nothing more, and holds no other name alive. */
function forget(name: Name): void {
  name.kept = false;
  name.firstAttribute = undefined;
  name.firstChild = undefined;
  name.nextSibling = undefined;
  name.nextAttribute = undefined;
}

/** Assigns without ever touching a prototype (`__proto__` is a legal XML name). */
function setOwn(target: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function isWhitespace(t: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isSpace(t.charCodeAt(i))) return false;
  return true;
}

/** After '<': does a start tag follow (not '/', '!' or '?')? */
function isNameStart(c: number): boolean {
  return c !== 0x2f && c !== 0x21 && c !== 0x3f && !Number.isNaN(c);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

function normalizeNewlines(s: string): string {
  return s.includes('\r') ? s.replace(/\r\n?/g, '\n') : s;
}

function decodeText(raw: string, offset: number): string {
  return decodeReferences(normalizeNewlines(raw), offset);
}

/** Attribute-value normalisation (XML 1.0 §3.3.3): literal whitespace becomes a space, references are decoded after. */
function decodeAttribute(raw: string, offset: number): string {
  const spaced = /[\t\n\r]/.test(raw) ? raw.replace(/\r\n|[\t\n\r]/g, ' ') : raw;
  return decodeReferences(spaced, offset);
}

const PREDEFINED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeReferences(s: string, offset: number): string {
  let amp = s.indexOf('&');
  if (amp === -1) return s;
  let out = '';
  let from = 0;
  while (amp !== -1) {
    // A reference ends at the first ';' (an invalid one ends the parse, so this scan runs once).
    const semi = s.indexOf(';', amp + 1);
    if (semi === -1) throw referenceError(s, amp, offset);
    let decoded: string | undefined;
    if (s.charCodeAt(amp + 1) === 0x23 /* # */) {
      const cp = characterReference(s, amp + 2, semi);
      if (isXmlChar(cp)) decoded = String.fromCodePoint(cp);
    } else {
      const ref = s.slice(amp + 1, semi);
      if (Object.hasOwn(PREDEFINED, ref)) decoded = PREDEFINED[ref];
    }
    if (decoded === undefined) throw referenceError(s, amp, offset);
    out += s.slice(from, amp) + decoded;
    from = semi + 1;
    amp = s.indexOf('&', from);
  }
  return out + s.slice(from);
}

/**
 * The code point of the digits from `start` to `end` (after '&#': decimal, or hex after 'x'), or
 * NaN. Any number of leading zeros is legal; a value past U+10FFFF stays past it.
 */
function characterReference(s: string, start: number, end: number): number {
  const hex = s.charCodeAt(start) === 0x78; /* x */
  let i = hex ? start + 1 : start;
  if (i >= end) return NaN;
  let cp = 0;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    let digit: number;
    if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
    else if (hex && c >= 0x61 && c <= 0x66) digit = c - 0x57;
    else if (hex && c >= 0x41 && c <= 0x46) digit = c - 0x37;
    else return NaN;
    cp = Math.min(cp * (hex ? 16 : 10) + digit, 0x110000);
  }
  return cp;
}

function referenceError(s: string, amp: number, offset: number): XmlParseError {
  const shown = s.slice(amp, amp + 12).split(/[\s<]/)[0];
  return new XmlParseError('malformed', `malformed XML near offset ${offset + amp}: unknown or invalid reference ${shown}`);
}

function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff)
  );
}
