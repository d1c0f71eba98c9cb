/**
 * Finds the exact bytes of the SAML assertion in the raw envelope text.
 *
 * Why raw bytes: a signature covers the canonical form of what the issuer sent. Our XmlElement
 * tree drops layout whitespace between elements, so re-serialising it would change what is
 * hashed and break every pretty-printed assertion (NHN's are). Handing the whole envelope to
 * xml-crypto would work but costs a full DOM parse of a body that may hold megabytes of inline
 * documents (DESIGN.md: 1 s against 23 ms). So this scanner walks only the SOAP Header of the text
 * that parseXml has already accepted as well-formed, and cuts out the one
 * Envelope/Header/Security/Assertion element.
 *
 * The cut-out is made a standalone document by copying the namespace declarations in scope at the
 * Assertion onto its start tag (unless the Assertion redeclares them). Exclusive c14n renders only
 * visibly used namespaces, whatever the ancestor that declared them, so the canonical bytes, and
 * with them the digest, are exactly those of the assertion in place.
 */
import { NS } from '../../registry/xml/namespaces.js';
import { invalidSecurity } from './faults.js';

export interface LocatedAssertion {
  /** The assertion as a standalone XML document. */
  readonly xml: string;
  /** Its ID attribute as written in the start tag. */
  readonly id: string | undefined;
}

interface Source {
  readonly length: number;
  code(i: number): number;
  slice(a: number, b: number): string;
  indexOf(s: string, from: number): number;
}

function sourceOf(raw: string | Uint8Array): Source {
  if (typeof raw === 'string') {
    return { length: raw.length, code: (i) => raw.charCodeAt(i), slice: (a, b) => raw.slice(a, b), indexOf: (s, f) => raw.indexOf(s, f) };
  }
  // Markup characters are ASCII, so scanning UTF-8 bytes finds the same tags; only the pieces we
  // keep are decoded.
  const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  return { length: buf.length, code: (i) => buf[i]!, slice: (a, b) => buf.toString('utf8', a, b), indexOf: (s, f) => buf.indexOf(s, f, 'latin1') };
}

interface Frame {
  readonly ns: string;
  readonly local: string;
  readonly start: number;
  /** Offset just after the element name in its start tag (where declarations are inserted). */
  readonly nameEnd: number;
  readonly ownDeclarations: ReadonlySet<string>;
  /** Where the element's declarations start on the bindings' undo stack. */
  readonly undoMark: number;
  readonly id: string | undefined;
}

/**
 * The namespace bindings in scope, changed in place: a declaration records the binding it hides,
 * and closing its element puts that back. Copying the parent's table for every element that
 * declares something cost N × M for N declarations on one element and M declaring children
 * (issue 14); this costs N + M.
 */
class Bindings {
  /** Prefix → URI; undefined for a prefix bound earlier and unbound again (see `undo`). */
  readonly current = new Map<string, string | undefined>();
  private readonly prefixes: string[] = [];
  private readonly hidden: (string | undefined)[] = [];

  get mark(): number {
    return this.prefixes.length;
  }

  declare(prefix: string, uri: string): void {
    this.prefixes.push(prefix);
    this.hidden.push(this.current.get(prefix));
    this.current.set(prefix, uri);
  }

  /**
   * Undoes the declarations made since `mark`. A prefix that was unbound is set back to
   * undefined rather than deleted: V8's Map rehashes its whole table over and over when one key
   * is added and deleted again and again (quadratic with many bindings in scope).
   */
  undo(mark: number): void {
    while (this.prefixes.length > mark) this.current.set(this.prefixes.pop()!, this.hidden.pop());
  }
}

const MAX_HEADER_ASSERTIONS = 8;

/**
 * Every saml2:Assertion that is a child of a wsse:Security child of the Header. Throws
 * wsse:InvalidSecurity when the text is not what parseXml accepted (it should never be).
 */
export function locateAssertions(raw: string | Uint8Array): LocatedAssertion[] {
  const src = sourceOf(raw);
  const stack: Frame[] = [];
  const bindings = new Bindings();
  const found: LocatedAssertion[] = [];
  const keep = (frame: Frame, end: number): void => {
    // Checked for self-closing assertions too: each cut-out copies every binding in scope.
    if (found.length >= MAX_HEADER_ASSERTIONS) throw invalidSecurity('too many SAML assertions in the security header');
    found.push({ xml: standalone(src, frame, bindings.current, end), id: frame.id });
  };
  let pos = src.length >= 3 && src.code(0) === 0xef && src.code(1) === 0xbb && src.code(2) === 0xbf ? 3 : 0;
  if (src.code(0) === 0xfeff) pos = 1;
  for (;;) {
    const lt = src.indexOf('<', pos);
    if (lt === -1) break;
    const next = src.code(lt + 1);
    if (next === 0x3f /* ? */) {
      pos = skipPast(src, '?>', lt + 2);
    } else if (next === 0x21 /* ! */) {
      if (src.slice(lt, lt + 4) === '<!--') pos = skipPast(src, '-->', lt + 4);
      else if (src.slice(lt, lt + 9) === '<![CDATA[') pos = skipPast(src, ']]>', lt + 9);
      else throw invalidSecurity('unexpected markup declaration in the SOAP message');
    } else if (next === 0x2f /* / */) {
      const gt = src.indexOf('>', lt);
      if (gt === -1) throw invalidSecurity('unterminated end tag in the SOAP message');
      const frame = stack.pop();
      if (!frame) throw invalidSecurity('unbalanced end tag in the SOAP message');
      pos = gt + 1;
      // The bindings are the frame's own until it is undone: its descendants' are gone already.
      if (isAssertionPath(stack, frame)) keep(frame, pos);
      bindings.undo(frame.undoMark);
      // Everything we need lives in the Header: stop there rather than scan a large Body.
      if (stack.length === 1 && frame.ns === NS.soap12 && frame.local === 'Header') break;
    } else {
      const tag = readStartTag(src, lt, bindings);
      pos = tag.end;
      if (stack.length === 1 && tag.frame.ns === NS.soap12 && tag.frame.local === 'Body') break;
      if (tag.selfClosing) {
        if (isAssertionPath(stack, tag.frame)) keep(tag.frame, pos);
        bindings.undo(tag.frame.undoMark);
      } else {
        stack.push(tag.frame);
      }
    }
  }
  return found;
}

function isAssertionPath(ancestors: readonly Frame[], el: Frame): boolean {
  if (ancestors.length !== 3 || el.ns !== NS.saml2 || el.local !== 'Assertion') return false;
  const [env, header, security] = ancestors as [Frame, Frame, Frame];
  return (
    env.ns === NS.soap12 && env.local === 'Envelope' && header.ns === NS.soap12 && header.local === 'Header' &&
    security.ns === NS.wsse && security.local === 'Security'
  );
}

function skipPast(src: Source, terminator: string, from: number): number {
  const i = src.indexOf(terminator, from);
  if (i === -1) throw invalidSecurity('unterminated markup in the SOAP message');
  return i + terminator.length;
}

const isNameChar = (c: number): boolean => c > 0x20 && c !== 0x3e && c !== 0x2f && c !== 0x3d && c !== 0x22 && c !== 0x27;
const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

function readStartTag(src: Source, lt: number, bindings: Bindings): { frame: Frame; end: number; selfClosing: boolean } {
  let i = lt + 1;
  while (i < src.length && isNameChar(src.code(i))) i++;
  const qname = src.slice(lt + 1, i);
  const nameEnd = i;
  const attrs: [string, string][] = [];
  for (;;) {
    while (i < src.length && isSpace(src.code(i))) i++;
    const c = src.code(i);
    if (c === 0x3e /* > */) return finish(false, i + 1);
    if (c === 0x2f /* / */ && src.code(i + 1) === 0x3e) return finish(true, i + 2);
    if (i >= src.length) throw invalidSecurity('unterminated start tag in the SOAP message');
    const nameStart = i;
    while (i < src.length && isNameChar(src.code(i))) i++;
    const name = src.slice(nameStart, i);
    while (isSpace(src.code(i))) i++;
    if (src.code(i) !== 0x3d /* = */ || name === '') throw invalidSecurity('malformed attribute in the SOAP message');
    i++;
    while (isSpace(src.code(i))) i++;
    const quote = src.code(i);
    if (quote !== 0x22 && quote !== 0x27) throw invalidSecurity('unquoted attribute in the SOAP message');
    const close = src.indexOf(quote === 0x22 ? '"' : "'", i + 1);
    if (close === -1) throw invalidSecurity('unterminated attribute in the SOAP message');
    attrs.push([name, src.slice(i + 1, close)]);
    i = close + 1;
  }

  function finish(selfClosing: boolean, end: number): { frame: Frame; end: number; selfClosing: boolean } {
    const undoMark = bindings.mark;
    const own = new Set<string>();
    let id: string | undefined;
    for (const [name, value] of attrs) {
      if (name === 'xmlns' || name.startsWith('xmlns:')) {
        const prefix = name === 'xmlns' ? '' : name.slice(6);
        bindings.declare(prefix, decodeAttribute(value));
        own.add(prefix);
      } else if (name === 'ID') {
        id = decodeAttribute(value);
      }
    }
    const colon = qname.indexOf(':');
    const prefix = colon === -1 ? '' : qname.slice(0, colon);
    const local = colon === -1 ? qname : qname.slice(colon + 1);
    const ns = bindings.current.get(prefix) ?? '';
    return { frame: { ns, local, start: lt, nameEnd, ownDeclarations: own, undoMark, id }, end, selfClosing };
  }
}

function decodeAttribute(value: string): string {
  return value.replace(/&(amp|lt|gt|quot|apos|#x[0-9a-fA-F]+|#\d+);/g, (m, e: string) => {
    switch (e) {
      case 'amp': return '&';
      case 'lt': return '<';
      case 'gt': return '>';
      case 'quot': return '"';
      case 'apos': return "'";
      default: return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

/** The element's text with the inherited namespace declarations (`scope`: those in scope at it) added to its start tag. */
function standalone(src: Source, frame: Frame, scope: ReadonlyMap<string, string | undefined>, end: number): string {
  let inherited = '';
  for (const [prefix, uri] of scope) {
    if (uri === undefined || frame.ownDeclarations.has(prefix) || prefix === 'xml') continue;
    inherited += prefix === '' ? ` xmlns="${escapeAttribute(uri)}"` : ` xmlns:${prefix}="${escapeAttribute(uri)}"`;
  }
  return src.slice(frame.start, frame.nameEnd) + inherited + src.slice(frame.nameEnd, end);
}
