/**
 * The node shapes the signature checks work on, shared by xmldom's DOM (the xml-crypto path, the
 * verifier of record) and the fast path's own tree (read.ts).
 *
 * Why one shape for both: the structural checks of the signature (structure.ts) are what decide
 * which elements the verification may use. Run once over xmldom's DOM and once over our tree,
 * they are the same code, so they refuse the same things with the same reason; the property
 * names are the DOM's so that an xmldom Element is one of these without an adapter.
 */
export const ELEMENT_NODE = 1;
export const TEXT_NODE = 3;
export const COMMENT_NODE = 8;

/** The part of a DOM Node the checks read. */
export interface SigNode {
  readonly nodeType: number;
  /** Text or comment data; null for an element. */
  readonly nodeValue: string | null;
  readonly childNodes: ArrayLike<SigNode>;
}

/** The part of a DOM Element the checks read. */
export interface SigElement extends SigNode {
  readonly namespaceURI: string | null;
  readonly localName: string | null;
  readonly parentNode: SigNode | null;
  /** The value of the attribute of this qualified name as written, or null (DOM getAttribute). */
  getAttribute(qualifiedName: string): string | null;
  /** The concatenated text of every descendant text node (comments excluded), as the DOM has it. */
  readonly textContent: string | null;
}

export const isElement = (n: SigNode): n is SigElement => n.nodeType === ELEMENT_NODE;

/** Every element below `el`, in document order (getElementsByTagName('*') without the DOM). */
export function descendantElements(el: SigElement): SigElement[] {
  const out: SigElement[] = [];
  const stack: SigNode[] = [];
  for (let i = el.childNodes.length - 1; i >= 0; i--) stack.push(el.childNodes[i]!);
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (!isElement(n)) continue;
    out.push(n);
    for (let i = n.childNodes.length - 1; i >= 0; i--) stack.push(n.childNodes[i]!);
  }
  return out;
}

/** The descendants of `el` of one namespace and local name, in document order. */
export function descendantsNamed(el: SigElement, ns: string, local: string): SigElement[] {
  return descendantElements(el).filter((d) => d.namespaceURI === ns && d.localName === local);
}
