/**
 * Small XML documents for differential fuzzing of the XML reader (scripts/fuzz/differential.ts):
 * drawn from a grammar that leans on the constructs where readers go wrong (the XML declaration,
 * namespace declarations and prefixes, references, comments, CDATA sections, processing
 * instructions, `]]>` and `--`), then, for most cases, mutated a few characters at a time so that
 * they land just beside well-formedness. All choices come from the seeded Rng: the same seed
 * gives the same documents.
 */
import type { Rng } from './random.js';

export interface XmlCase {
  readonly text: string;
  /** Whether the bytes start with a UTF-8 byte order mark. */
  readonly bom: boolean;
  /** What was done, for a report. */
  readonly how: string;
}

/**
 * Each choice is drawn from a list of well-formed options, and now and then from a list of
 * options that break a rule: with about twenty choices a document, roughly half the generated
 * documents are well-formed, so both the agreement on refusals and the comparison of trees get
 * their share.
 */
const BAD = 0.03;

function choose<T>(rng: Rng, good: readonly T[], bad: readonly T[]): T {
  return bad.length > 0 && rng.chance(BAD) ? rng.pick(bad) : rng.pick(good);
}

const PREFIXES = ['a', 'b', 'p', 'x1', '_', 'é', 'A.-', '__proto__'] as const;
const BAD_PREFIXES = ['xml', 'xmlns', ''] as const;
const URIS = ['urn:a', 'urn:b', 'http://example.org/ns', 'urn:a&amp;b', 'urn:ø', 'urn:x&#x20;y'] as const;
const BAD_URIS = ['', ' urn:a', 'urn:a\t', 'http://www.w3.org/XML/1998/namespace', 'http://www.w3.org/2000/xmlns/', 'urn:&bogus;'] as const;
const LOCALS = ['r', 'e', 'item', 'Slot', 'x-y', 'x.y', 'ø', 'Ωmega', '_u', 'a1', 'constructor'] as const;
const BAD_LOCALS = ['1a', '-x', '.y', 'a×b', 'a:b:c'] as const;
const ATTRS = ['id', 'name', 'v', 'x', 'ID', 'lang', 'space', '__proto__', 'constructor', 'xmlnsx'] as const;
const TEXTS = [
  'text', ' ', '\n  ', '\r\n', '\r', '\t', 'a > b', ']]', ']>', ']] >', '&amp;', '&lt;&gt;&quot;&apos;', '&#65;', '&#x1F600;',
  '&#0000065;', '&#x0000000041;', 'blåbær', '😀', '\u00a0', '\u2028', '\u0085', '"\'', '&#13;&#10;',
] as const;
const BAD_TEXTS = [']]>', 'a]]>b', '&#0;', '&#xD800;', '&#x110000;', '&#xFFFE;', '&nbsp;', '&amp', '& ', '&#;', '&#x;', '<', '&#1;'] as const;
const ATTR_VALUES = ['1', '', 'a b', ' x ', 'a\tb', 'a\nb', 'a\r\nb', '&#9;&#10;&#13;', '&amp;', '&lt;', ']]>', '>', '&#x20;', 'ø', '&quot;&apos;'] as const;
const BAD_ATTR_VALUES = ['&bogus;', '<', 'a&b', '&#0;'] as const;
const COMMENTS = ['', ' c ', '-x', ' - ', ']]>', '<![CDATA[', '\n', 'ø', '<a>', '&bogus;'] as const;
const BAD_COMMENTS = ['-', '--', ' -- ', 'a-', '<!DOCTYPE', '<!ENTITY'] as const;
const CDATAS = ['', 'x', ']]', ']', '<a>', '&amp;', '<![CDATA[', ']]]', ' ', '\r\n', 'ø', '<!--'] as const;
const PI_TARGETS = ['pi', 'xml-stylesheet', 'x1', 'Xml2', 'ø', 'xmlfoo'] as const;
const BAD_PI_TARGETS = ['xml', 'XML', 'xmL', 'a:b', '1x', ''] as const;
const PI_BODIES = ['', ' ', ' data', ' ? >', ' a?b', ' >', ' <a>', ' --'] as const;
const BAD_PI_BODIES = ['?', '>', 'x'] as const;
const VERSIONS = ['1.0'] as const;
const BAD_VERSIONS = ['1.1', '1.5', '2.0', '1.0 ', '1', ''] as const;
const ENCODINGS = ['UTF-8', 'utf-8', 'UTF8', 'US-ASCII', 'ISO-8859-1', 'windows-1252', 'latin1', 'ISO8859_1'] as const;
const BAD_ENCODINGS = ['UTF-16', 'UTF-32', 'EBCDIC-US', ' utf-8', 'a/b', '8bit', 'x-unknown'] as const;
const STANDALONES = ['yes', 'no'] as const;
const BAD_STANDALONES = ['YES', 'maybe', ''] as const;
const DOCTYPES = ['<!DOCTYPE r>', '<!DOCTYPE r [<!ENTITY e "x">]>', '<!DOCTYPE r SYSTEM "r.dtd">'] as const;

/** Pieces a mutation inserts: markup characters and fragments of constructs. */
const TOKENS = [
  '<', '>', '&', ';', '"', "'", '=', '/', '!', '?', '-', ':', '[', ']', ' ', '\t', '\r', '\n',
  '--', ']]>', '<!--', '-->', '<![CDATA[', '<?', '?>', '</', '/>', '&amp;', '&#', '&#x', 'xmlns', 'xmlns:',
  'xmlns:p="urn:p"', ' xmlns=""', 'p:', 'xml:', 'ø', '😀', '\u00a0', '<a>', '</a>', '<?xml version="1.0"?>',
  // Characters at the edges of what XML 1.0 allows in text and in names.
  '\u0000', '\u0001', '\uFFFE', '\uFFFF', '\uFFFD', '\u{10000}', '\u{EFFFF}', '\u{F0000}', '\u{10FFFF}', '\u00D7', '\u00F7',
  '\u0300', '\u00B7', '\u203F', '\u037E', '\u2000', '\u200C', '&#x10FFFF;', '&#xD;', '&#x85;', '&#65', '&#00000000000000000065;',
] as const;

function quote(rng: Rng): string {
  return rng.chance(0.85) ? '"' : "'";
}

/** A quoted value; a value holding the quote character would end early, so that is a choice of its own. */
function quoted(rng: Rng, value: string): string {
  const q = quote(rng);
  return value.includes(q) && !rng.chance(BAD) ? `${q === '"' ? "'" : '"'}${value}${q === '"' ? "'" : '"'}` : `${q}${value}${q}`;
}

function xmlDeclaration(rng: Rng): string {
  let s = `<?xml${choose(rng, [' ', '  ', '\n', '\t'], [''])}version${choose(rng, ['=', ' = ', '\t=\t'], [])}${quoted(rng, choose(rng, VERSIONS, BAD_VERSIONS))}`;
  const encoding = rng.chance(0.5);
  const standalone = rng.chance(0.3);
  const enc = ` encoding=${quoted(rng, choose(rng, ENCODINGS, BAD_ENCODINGS))}`;
  const sd = ` standalone=${quoted(rng, choose(rng, STANDALONES, BAD_STANDALONES))}`;
  // Declared out of order now and then.
  s += rng.chance(BAD) ? sd + enc : (encoding ? enc : '') + (standalone ? sd : '');
  return s + choose(rng, ['?>', ' ?>', '\n?>'], ['>', '? >']);
}

function pi(rng: Rng): string {
  return `<?${choose(rng, PI_TARGETS, BAD_PI_TARGETS)}${choose(rng, PI_BODIES, BAD_PI_BODIES)}?>`;
}

function comment(rng: Rng): string {
  return `<!--${choose(rng, COMMENTS, BAD_COMMENTS)}-->`;
}

function misc(rng: Rng): string {
  switch (rng.int(0, 3)) {
    case 0:
      return choose(rng, [' ', '\n', '\r\n', '\t'], ['x', '&amp;', '<![CDATA[x]]>']);
    case 1:
      return comment(rng);
    case 2:
      return pi(rng);
    default:
      return '';
  }
}

interface Scope {
  readonly prefixes: readonly string[];
}

function elementName(rng: Rng, scope: Scope): string {
  const local = choose(rng, LOCALS, BAD_LOCALS);
  if (rng.chance(0.4) && scope.prefixes.length > 0) return `${rng.pick(scope.prefixes)}:${local}`;
  if (rng.chance(BAD)) return `${rng.pick([...PREFIXES, ...BAD_PREFIXES])}:${local}`;
  return local;
}

function attributes(rng: Rng, scope: Scope): string {
  const names = new Set<string>();
  let out = '';
  for (let i = rng.int(0, 3); i > 0; i--) {
    let name: string = rng.pick(ATTRS);
    const r = rng.next();
    if (r < 0.1) name = `xml:${rng.pick(['lang', 'space', 'base', 'id'])}`;
    else if (r < 0.3) {
      if (scope.prefixes.length > 0) name = `${rng.pick(scope.prefixes)}:${name}`;
    } else if (r < 0.3 + BAD) name = `${rng.pick([...PREFIXES, ...BAD_PREFIXES])}:${name}`;
    // Two attributes of one name only by a rare, deliberate choice.
    if (names.has(name) && !rng.chance(BAD)) continue;
    names.add(name);
    const space = choose(rng, [' ', '\n', '\t', '  '], ['']);
    const eq = choose(rng, ['=', ' = ', '\n=\n'], ['', '==']);
    out += `${space}${name}${eq}${quoted(rng, choose(rng, ATTR_VALUES, BAD_ATTR_VALUES))}`;
  }
  return out;
}

function element(rng: Rng, scope: Scope, depth: number, budget: { left: number }): string {
  budget.left--;
  const declared: string[] = [];
  let attrs = '';
  // Now and then many declarations at once, so that scopes grow past what the reader copies.
  const many = rng.chance(0.05);
  const nDecl = many ? rng.int(8, 20) : rng.chance(0.5) ? rng.int(1, 3) : 0;
  for (let i = 0; i < nDecl; i++) {
    const prefix = many ? `m${depth}x${i}` : rng.chance(0.3) ? '' : choose(rng, PREFIXES, BAD_PREFIXES);
    // The default namespace may be undeclared with an empty value; a prefix may not.
    const uri = prefix === '' && rng.chance(0.2) ? '' : choose(rng, URIS, BAD_URIS);
    const name = prefix === '' && !rng.chance(BAD) ? 'xmlns' : `xmlns:${prefix}`;
    if (attrs.includes(` ${name}=`) && !rng.chance(BAD)) continue;
    attrs += ` ${name}=${quoted(rng, uri)}`;
    if (prefix !== '') declared.push(prefix);
  }
  const inner: Scope = { prefixes: [...new Set([...scope.prefixes, ...declared])] };
  attrs += attributes(rng, inner);
  const name = elementName(rng, inner);
  if (rng.chance(0.25) || depth >= 5 || budget.left <= 0) return `<${name}${attrs}${choose(rng, ['/>', ' />', '\n/>'], ['/ >'])}`;
  let content = '';
  for (let i = rng.int(0, 5); i > 0; i--) {
    const r = rng.next();
    if (r < 0.35 && budget.left > 0) content += element(rng, inner, depth + 1, budget);
    else if (r < 0.7) content += choose(rng, TEXTS, BAD_TEXTS);
    else if (r < 0.8) content += `<![CDATA[${choose(rng, CDATAS, [])}]]>`;
    else if (r < 0.9) content += comment(rng);
    else content += pi(rng);
  }
  const end = rng.chance(BAD) ? elementName(rng, inner) : name;
  return `<${name}${attrs}>${content}</${end}${choose(rng, ['>', ' >', '\n>'], [' x>'])}`;
}

/** One document from the grammar. */
export function generateDocument(rng: Rng): string {
  let s = '';
  if (rng.chance(0.5)) s += xmlDeclaration(rng);
  for (let i = rng.int(0, 2); i > 0; i--) s += misc(rng);
  if (rng.chance(BAD)) s += rng.pick(DOCTYPES);
  s += element(rng, { prefixes: [] }, 1, { left: rng.int(1, 12) });
  for (let i = rng.int(0, 2); i > 0; i--) s += misc(rng);
  return s;
}

/** A few small edits: delete, insert a token, duplicate or swap a slice. */
export function mutateDocument(rng: Rng, text: string): [string, string] {
  let s = text;
  const edits: string[] = [];
  for (let n = rng.int(1, 3); n > 0; n--) {
    const at = rng.int(0, s.length);
    switch (rng.int(0, 3)) {
      case 0: {
        const len = rng.int(1, 4);
        s = s.slice(0, at) + s.slice(at + len);
        edits.push(`delete ${len} at ${at}`);
        break;
      }
      case 1: {
        const token = rng.pick(TOKENS);
        s = s.slice(0, at) + token + s.slice(at);
        edits.push(`insert ${JSON.stringify(token)} at ${at}`);
        break;
      }
      case 2: {
        const len = rng.int(1, 12);
        const piece = s.slice(at, at + len);
        const to = rng.int(0, s.length);
        s = s.slice(0, to) + piece + s.slice(to);
        edits.push(`copy ${JSON.stringify(piece)} to ${to}`);
        break;
      }
      default: {
        if (at + 1 < s.length) {
          s = s.slice(0, at) + s[at + 1] + s[at] + s.slice(at + 2);
          edits.push(`swap at ${at}`);
        }
      }
    }
  }
  // Never cut a surrogate pair in half: both readers get UTF-8 bytes, where half a pair cannot be.
  return [s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, 'x'), edits.join(', ')];
}

export function makeXmlCase(rng: Rng): XmlCase {
  const doc = generateDocument(rng);
  const bom = rng.chance(0.05);
  if (rng.chance(0.3)) return { text: doc, bom, how: 'generated' };
  const [text, how] = mutateDocument(rng, doc);
  return { text, bom, how };
}
