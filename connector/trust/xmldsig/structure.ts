/**
 * The exact XML-DSig shape an assertion's enveloped signature must have, checked over either tree
 * (tree.ts): xmldom's DOM on the xml-crypto path, our own on the fast path. One copy of the rules,
 * so that both paths refuse the same signatures with the same reasons.
 *
 * What is checked is what xml-crypto uses. It finds CanonicalizationMethod, SignatureMethod,
 * SignatureValue and KeyInfo as the first element of that local name anywhere in the Signature
 * (any namespace), and SignedInfo, Reference, DigestMethod, DigestValue and Transform(s) as
 * children of any namespace; it reads DigestMethod's and Transform's Algorithm as the first
 * attribute of that LOCAL name, whatever its namespace. So the Signature must be exactly the
 * XML-DSig sequence SignedInfo, SignatureValue, KeyInfo?, Object* in the ds namespace, SignedInfo
 * exactly CanonicalizationMethod, SignatureMethod, Reference, each Reference Transforms,
 * DigestMethod, DigestValue; no other element of a name xml-crypto searches for may occur where it
 * could find it, and no namespaced attribute named Algorithm may stand in SignedInfo: a look-alike
 * can never stand in for what we checked.
 */
import { NS } from '../../../registry/xml/namespaces.js';
import { failedAuthentication, invalidSecurity } from '../faults.js';
import { COMMENT_NODE, ELEMENT_NODE, TEXT_NODE, descendantElements, descendantsNamed, isElement, type SigElement, type SigNode } from './tree.js';

export const ALGORITHMS = {
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaSha1: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
} as const;

/** The nodes of the checked signature that verification goes on to use. */
export interface CheckedSignature<E extends SigElement> {
  readonly signedInfo: E;
  readonly canonicalization: string;
  /** ds:CanonicalizationMethod's ec:InclusiveNamespaces, when present. */
  readonly signedInfoInclusive: E | undefined;
  readonly signatureMethod: string;
  readonly signatureValue: E;
  readonly keyInfo: E | undefined;
  readonly reference: E;
  readonly transformAlgorithms: readonly string[];
  /** The exclusive c14n ds:Transform's ec:InclusiveNamespaces, when present. */
  readonly referenceInclusive: E | undefined;
  readonly digestMethod: string;
  readonly digestValue: E;
}

/**
 * The one enveloped ds:Signature of the assertion `root`; refuses an unsigned assertion, a second
 * signature and a signature that is not a child of the assertion.
 */
export function envelopedSignature<E extends SigElement>(root: E): E {
  const signatures = descendantsNamed(root, NS.ds, 'Signature') as E[];
  if (signatures.length === 0) throw failedAuthentication('the SAML assertion is not signed');
  if (signatures.length > 1) throw invalidSecurity('the SAML assertion carries more than one signature');
  const signature = signatures[0]!;
  if (signature.parentNode !== root) throw invalidSecurity('the assertion signature must be a direct child of the assertion (enveloped)');
  return signature;
}

/**
 * Checks the ds:Signature's structure and algorithms and returns the checked nodes. Every node
 * xml-crypto will read is one we checked: see the module comment for how it finds them.
 */
export function checkSignatureStructure<E extends SigElement>(
  root: E,
  signature: E,
  assertionId: string,
  allowSha1: boolean,
): CheckedSignature<E> {
  const sigParts = dsSequence(signature, 'ds:Signature', [
    ['SignedInfo', 1, 1],
    ['SignatureValue', 1, 1],
    ['KeyInfo', 0, 1],
    ['Object', 0, Infinity],
  ]);
  const signedInfo = sigParts.SignedInfo![0]!;
  const signatureValue = sigParts.SignatureValue![0]!;
  const keyInfo = sigParts.KeyInfo![0];
  textOnly(signatureValue, 'ds:SignatureValue');

  const siParts = dsSequence(signedInfo, 'ds:SignedInfo', [
    ['CanonicalizationMethod', 1, 1],
    ['SignatureMethod', 1, 1],
    ['Reference', 1, Infinity],
  ]);
  const c14nMethod = siParts.CanonicalizationMethod![0]!;
  const canonicalization = c14nMethod.getAttribute('Algorithm');
  if (canonicalization !== ALGORITHMS.excC14n) throw invalidSecurity('the signature must use exclusive canonicalization');
  const signedInfoInclusive = inclusiveNamespacesOnly(c14nMethod, 'ds:CanonicalizationMethod');
  const signatureMethodEl = siParts.SignatureMethod![0]!;
  const signatureMethod = signatureMethodEl.getAttribute('Algorithm');
  const methods: string[] = [ALGORITHMS.rsaSha256, ...(allowSha1 ? [ALGORITHMS.rsaSha1] : [])];
  if (signatureMethod == null || !methods.includes(signatureMethod)) {
    throw invalidSecurity(`signature algorithm not accepted: ${shorten(signatureMethod ?? '(none)')}`);
  }
  noElements(signatureMethodEl, 'ds:SignatureMethod');

  const refs = siParts.Reference!;
  if (refs.length !== 1) throw invalidSecurity('the signature must have exactly one Reference');
  const reference = refs[0]!;
  if (reference.getAttribute('URI') !== `#${assertionId}`) throw invalidSecurity('the signature must reference the assertion it is in');
  const refParts = dsSequence(reference, 'ds:Reference', [
    ['Transforms', 1, 1],
    ['DigestMethod', 1, 1],
    ['DigestValue', 1, 1],
  ]);
  const transforms = dsSequence(refParts.Transforms![0]!, 'ds:Transforms', [['Transform', 1, Infinity]]).Transform!;
  const transformAlgorithms = transforms.map((t) => t.getAttribute('Algorithm') ?? '');
  // SAML Core §5.4.4: enveloped-signature, optionally followed by exclusive c14n, and nothing else.
  const [first, second, ...rest] = transformAlgorithms;
  if (first !== ALGORITHMS.enveloped || (second !== undefined && second !== ALGORITHMS.excC14n) || rest.length > 0) {
    throw invalidSecurity('the signature reference must use the enveloped-signature and exclusive c14n transforms only');
  }
  noElements(transforms[0]!, 'the enveloped-signature ds:Transform');
  const referenceInclusive = transforms[1] ? inclusiveNamespacesOnly(transforms[1], 'the exclusive c14n ds:Transform') : undefined;
  const digestMethodEl = refParts.DigestMethod![0]!;
  const digestMethod = digestMethodEl.getAttribute('Algorithm');
  const digests: string[] = [ALGORITHMS.sha256, ...(allowSha1 ? [ALGORITHMS.sha1] : [])];
  if (digestMethod == null || !digests.includes(digestMethod)) throw invalidSecurity(`digest algorithm not accepted: ${shorten(digestMethod ?? '(none)')}`);
  noElements(digestMethodEl, 'ds:DigestMethod');
  const digestValue = refParts.DigestValue![0]!;
  textOnly(digestValue, 'ds:DigestValue');

  // xml-crypto takes the FIRST element of these names anywhere under the Signature, whatever
  // its namespace (inside KeyInfo or an Object, say); with exactly one of each there is nothing
  // for it to pick but the one checked above.
  const searched = new Map<string, SigElement | undefined>([
    ['CanonicalizationMethod', c14nMethod],
    ['SignatureMethod', signatureMethodEl],
    ['SignatureValue', signatureValue],
    ['KeyInfo', keyInfo],
  ]);
  for (const el of descendantElements(signature)) {
    if (searched.has(el.localName ?? '') && searched.get(el.localName ?? '') !== el) {
      throw invalidSecurity(`the signature holds a second ${shorten(el.localName ?? '')} element`);
    }
  }
  // xml-crypto reads DigestMethod's and Transform's Algorithm as the first attribute of that local
  // name in any namespace (utils.findAttr): `x:Algorithm="…#sha1"` before the checked
  // `Algorithm="…#sha256"` would be the one it digests with.
  for (const el of [signedInfo, ...descendantElements(signedInfo)]) {
    if (hasForeignAlgorithm(el)) throw invalidSecurity(`${nameOf(el)} carries an Algorithm attribute in another namespace`);
  }
  // It also computes SignedInfo's in-scope namespaces from the first element named SignedInfo in
  // the whole assertion, so there must be no other.
  for (const el of descendantElements(root)) {
    if (el.localName === 'SignedInfo' && el !== signedInfo) throw invalidSecurity('the assertion holds a second SignedInfo element');
  }
  return {
    signedInfo,
    canonicalization,
    signedInfoInclusive,
    signatureMethod,
    signatureValue,
    keyInfo,
    reference,
    transformAlgorithms,
    referenceInclusive,
    digestMethod,
    digestValue,
  };
}

/** The base64 DER of each ds:X509Certificate in KeyInfo (it only picks which pinned certificate to try). */
export function offeredCertificates(keyInfo: SigElement): Buffer[] {
  return descendantsNamed(keyInfo, NS.ds, 'X509Certificate').map((el) => Buffer.from((el.textContent ?? '').replace(/\s+/g, ''), 'base64'));
}

/**
 * Any attribute whose local name is Algorithm other than the unprefixed one. xmldom's Element has
 * `attributes`; our tree's Element too; both list qualified names as `name`.
 */
function hasForeignAlgorithm(el: SigElement): boolean {
  const attributes = (el as SigElement & { attributes?: ArrayLike<{ name: string }> }).attributes;
  if (!attributes) return false;
  for (let i = 0; i < attributes.length; i++) {
    const name = attributes[i]!.name;
    if (name !== 'Algorithm' && name.endsWith(':Algorithm')) return true;
  }
  return false;
}

const isWhitespace = (s: string | null): boolean => /^[ \t\r\n]*$/.test(s ?? '');

/** An element's name as a fault reason may quote it: {namespace}local, cut short. */
function nameOf(el: SigElement): string {
  return shorten(el.namespaceURI ? `{${el.namespaceURI}}${el.localName ?? ''}` : (el.localName ?? ''));
}

/** Attacker-chosen text for a fault reason or a log line: one line, bounded. */
export function shorten(s: string): string {
  const line = s.replace(/\s+/g, ' ');
  return line.length > 100 ? `${line.slice(0, 100)}…` : line;
}

/**
 * The element children of a structural XML-DSig element, checked against a sequence of ds
 * elements ([local name, min, max] in order). Whitespace and comments may lie between them;
 * text, CDATA or processing instructions may not, and neither may any element out of place or of
 * another namespace (xml-crypto matches children by local name alone).
 */
function dsSequence<E extends SigElement>(parent: E, what: string, spec: readonly (readonly [string, number, number])[]): Record<string, E[]> {
  const children: E[] = [];
  for (const n of Array.from(parent.childNodes)) {
    if (n.nodeType === ELEMENT_NODE) children.push(n as E);
    else if (n.nodeType === COMMENT_NODE || (n.nodeType === TEXT_NODE && isWhitespace(n.nodeValue))) continue;
    else throw invalidSecurity(`${what} may hold only elements`);
  }
  const found: Record<string, E[]> = {};
  let i = 0;
  for (const [local, min, max] of spec) {
    const run: E[] = [];
    while (i < children.length && run.length < max && children[i]!.namespaceURI === NS.ds && children[i]!.localName === local) {
      run.push(children[i++]!);
    }
    if (run.length < min) {
      const got = children[i] ? nameOf(children[i]!) : 'its end';
      throw invalidSecurity(`${what}: expected ds:${local}, found ${got}`);
    }
    found[local] = run;
  }
  if (i < children.length) throw invalidSecurity(`${what} holds an unexpected element ${nameOf(children[i]!)}`);
  return found;
}

/** A value element (DigestValue, SignatureValue): non-empty text, nothing else (xml-crypto reads its first text node). */
function textOnly(el: SigElement, what: string): void {
  for (const n of Array.from(el.childNodes)) {
    if (n.nodeType !== TEXT_NODE) throw invalidSecurity(`${what} may hold only text`);
  }
  if (isWhitespace(el.textContent)) throw invalidSecurity(`${what} is empty`);
}

/** An algorithm element that takes no parameters. */
function noElements(el: SigElement, what: string): void {
  for (const n of Array.from(el.childNodes)) {
    if (isElement(n)) throw invalidSecurity(`${what} may not hold ${nameOf(n)}`);
  }
}

/**
 * An exclusive c14n algorithm element: its one possible parameter is ec:InclusiveNamespaces, which
 * xml-crypto looks up by local name alone, so a look-alike of another namespace is refused.
 * Returns the InclusiveNamespaces element, if any.
 */
function inclusiveNamespacesOnly<E extends SigElement>(el: E, what: string): E | undefined {
  let found: E | undefined;
  for (const n of Array.from(el.childNodes) as SigNode[]) {
    if (!isElement(n)) continue;
    if (n.namespaceURI !== ALGORITHMS.excC14n || n.localName !== 'InclusiveNamespaces' || found) {
      throw invalidSecurity(`${what} may not hold ${nameOf(n)}`);
    }
    found = n as E;
  }
  return found;
}
