/**
 * DOM helpers for the conformance runner. The runner works on a W3C DOM (@xmldom/xmldom) rather
 * than on the node's own tree because its assertions are XPath 1.0 expressions (the `xpath`
 * package evaluates over a DOM), and because it must stay independent of the node under test.
 */
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import xpath from 'xpath';

export type Doc = ReturnType<DOMParser['parseFromString']>;
export type Elem = NonNullable<Doc['documentElement']>;

export function parseXmlDom(text: string, what = 'XML'): Doc {
  const errors: string[] = [];
  const parser = new DOMParser({
    onError: (level: string, msg: string) => {
      if (level !== 'warning') errors.push(msg);
    },
  });
  let doc: Doc;
  try {
    doc = parser.parseFromString(text.replace(/^\uFEFF/, ''), 'text/xml');
  } catch (e) {
    throw new Error(`${what} is not well-formed: ${(e as Error).message}`);
  }
  if (errors.length > 0 || !doc.documentElement) {
    throw new Error(`${what} is not well-formed: ${errors.join('; ') || 'no root element'}`);
  }
  return doc;
}

export function serializeDom(node: Doc | Elem): string {
  return new XMLSerializer().serializeToString(node as never);
}

export function childElementsOf(parent: Elem | Doc, localName?: string): Elem[] {
  const out: Elem[] = [];
  const kids = parent.childNodes;
  for (let i = 0; i < kids.length; i++) {
    const k = kids[i] as unknown as Elem;
    if (k.nodeType !== 1) continue;
    if (localName !== undefined && localNameOf(k) !== localName) continue;
    out.push(k);
  }
  return out;
}

export function firstChild(parent: Elem, localName: string): Elem | undefined {
  return childElementsOf(parent, localName)[0];
}

export function localNameOf(e: Elem): string {
  return e.localName ?? (e.nodeName.includes(':') ? e.nodeName.split(':')[1]! : e.nodeName);
}

/** All descendant elements (document order) with the given local name, any namespace. */
export function descendantsByLocal(root: Elem, localName: string): Elem[] {
  const out: Elem[] = [];
  const walk = (e: Elem): void => {
    for (const c of childElementsOf(e)) {
      if (localNameOf(c) === localName) out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

export function textOf(e: Elem): string {
  return (e.textContent ?? '').trim();
}

export function attr(e: Elem, name: string): string | undefined {
  return e.hasAttribute(name) ? e.getAttribute(name) ?? undefined : undefined;
}

/** Evaluates an XPath 1.0 expression; the raw result (boolean, number, string or node list). */
export function evaluateXPath(expr: string, context: Doc | Elem): xpath.SelectReturnType {
  return xpath.select(expr, context as unknown as Node);
}

/** The XPath result as a string, the way XPath's string() would turn it into one. */
export function xpathString(expr: string, context: Doc | Elem): string {
  const r = evaluateXPath(expr, context);
  if (Array.isArray(r)) {
    if (r.length === 0) return '';
    const n = r[0] as unknown as { nodeType: number; value?: string; textContent?: string | null };
    return (n.nodeType === 2 ? n.value : n.textContent) ?? '';
  }
  return String(r);
}

/** The XPath result as a boolean, with XPath's own boolean() conversion. */
export function xpathBoolean(expr: string, context: Doc | Elem): boolean {
  const r = evaluateXPath(expr, context);
  if (Array.isArray(r)) return r.length > 0;
  if (typeof r === 'number') return r !== 0 && !Number.isNaN(r);
  if (typeof r === 'string') return r.length > 0;
  return Boolean(r);
}
