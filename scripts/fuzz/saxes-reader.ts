/**
 * A second, independent XML reader built on saxes (a development dependency), producing the same
 * tree shape as registry/xml/parse.ts. It exists to judge our own reader, never to serve requests:
 *
 * - the differential tests (test/xml/differential.test.ts) feed both readers the same documents
 *   and require that they agree on what is well-formed and on the tree they read;
 * - `npm run bench:parse -- --saxes` measures what replacing our reader with saxes would cost.
 *
 * saxes reads namespaces itself, so nothing here resolves a prefix. What is added is what our
 * tree promises on top of a SAX stream: text, references and CDATA merged per run, layout
 * whitespace dropped in elements with element children, attributes keyed in Clark notation,
 * `nsScope` holding every binding in scope. Limits (size, depth, attribute and declaration caps)
 * and our by-design refusals (DOCTYPE, XML 1.1, declared encodings) are left to the caller: the
 * result reports what it saw so the caller can tell a by-design difference from a bug.
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';
import type { XmlElement, XmlNode } from '../../registry/xml/tree.js';

export interface SaxesResult {
  readonly root: XmlElement;
  /** The document had a DOCTYPE (saxes reads past it; our reader refuses it). */
  readonly doctype: boolean;
  /** The XML declaration's pseudo-attributes, when there was one. */
  readonly version: string | undefined;
  readonly encoding: string | undefined;
}

interface Open {
  el: { ns: string; local: string; attrs: Record<string, string>; children: XmlNode[]; nsScope: Record<string, string>; prefix?: string };
  pending: string;
  hasElementChild: boolean;
}

const WHITESPACE_ONLY = /^[ \t\r\n]*$/;
const ROOT_SCOPE: Record<string, string> = Object.freeze(Object.create(null) as Record<string, string>);

/** Reads a whole document; throws saxes' error (or a TypeError for bytes that are not UTF-8). */
export function parseWithSaxes(input: string | Uint8Array): SaxesResult {
  const text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
  const parser = new SaxesParser({ xmlns: true, position: false });
  const open: Open[] = [];
  let root: XmlElement | undefined;
  let doctype = false;
  let version: string | undefined;
  let encoding: string | undefined;
  let error: Error | undefined;

  const addText = (s: string): void => {
    const top = open[open.length - 1];
    // Text outside the root is whitespace (saxes refuses anything else): nothing to keep.
    if (top) top.pending += s;
  };
  const flush = (o: Open): void => {
    if (o.pending !== '') o.el.children.push(o.pending);
    o.pending = '';
  };

  // saxes reports every error and carries on; the first one decides.
  parser.on('error', (e) => {
    error ??= e;
  });
  parser.on('xmldecl', (d) => {
    version = d.version;
    encoding = d.encoding;
  });
  parser.on('doctype', () => {
    doctype = true;
  });
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('opentag', (tag: SaxesTagNS) => {
    const parent = open[open.length - 1];
    let nsScope = parent ? parent.el.nsScope : ROOT_SCOPE;
    const own = Object.keys(tag.ns);
    if (own.length > 0) {
      nsScope = Object.create(nsScope) as Record<string, string>;
      for (const prefix of own) Object.defineProperty(nsScope, prefix, { value: tag.ns[prefix], enumerable: true });
    }
    const attrs: Record<string, string> = {};
    for (const a of Object.values(tag.attributes)) {
      if (a.name === 'xmlns' || a.prefix === 'xmlns') continue;
      const key = a.prefix === '' ? a.name : `{${a.uri}}${a.local}`;
      Object.defineProperty(attrs, key, { value: a.value, enumerable: true, writable: true, configurable: true });
    }
    const el: Open['el'] = { ns: tag.uri, local: tag.local, attrs, children: [], nsScope };
    if (tag.prefix !== '') el.prefix = tag.prefix;
    if (parent) {
      flush(parent);
      parent.hasElementChild = true;
    }
    open.push({ el, pending: '', hasElementChild: false });
  });
  parser.on('closetag', () => {
    const o = open.pop()!;
    flush(o);
    if (o.hasElementChild) o.el.children = o.el.children.filter((c) => typeof c !== 'string' || !WHITESPACE_ONLY.test(c));
    const parent = open[open.length - 1];
    if (parent) parent.el.children.push(o.el);
    else root = o.el;
  });

  parser.write(text).close();
  if (error) throw error;
  if (!root) throw new Error('no root element');
  return { root, doctype, version, encoding };
}
