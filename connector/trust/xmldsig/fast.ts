/**
 * The fast signature path: the checked enveloped signature of an assertion read by read.ts,
 * verified with our exclusive c14n (c14n.ts), node:crypto's hash and node:crypto's RSA, in the
 * order and with the inputs xml-crypto's SignedXml.checkSignature uses, so that the outcome is
 * xml-crypto's (test/trust/xua-differential.test.ts holds the two to that).
 *
 * It verifies only the shape every issuer we know sends (enveloped-signature + exclusive c14n
 * transforms, RSA-SHA256, a plain InclusiveNamespaces PrefixList or none); for anything else it
 * answers `unsupported` and xua.ts hands the assertion to xml-crypto, which decides. It never
 * accepts on a guess: each departure from that shape where xml-crypto's reading could differ from
 * ours is one more reason to answer `unsupported`.
 */
import { createHash, createVerify, type KeyObject } from 'node:crypto';
import { excC14n } from './c14n.js';
import { XMLNS_NS, type Element } from './read.js';
import { ALGORITHMS, type CheckedSignature } from './structure.js';
import { descendantElements } from './tree.js';

export type FastOutcome =
  /** Verified: the canonical assertion, the very octets the digest covered. */
  | { readonly signed: string }
  /** The digest or every candidate key's signature check failed (xml-crypto would refuse too). */
  | { readonly invalid: true }
  /** A shape the fast path leaves to xml-crypto, and why. */
  | { readonly unsupported: string };

/** An ASCII NCName list separated by single spaces: all xml-crypto's split(" ") can take as we do. */
const PREFIX_LIST = /^[A-Za-z_][A-Za-z0-9._-]*(?: [A-Za-z_][A-Za-z0-9._-]*)*$/;
const BASE64_TEXT = /^[A-Za-z0-9+/=\s]+$/;

const DIGESTS: Readonly<Record<string, string>> = { [ALGORITHMS.sha256]: 'sha256', [ALGORITHMS.sha1]: 'sha1' };
const SIGNATURES: Readonly<Record<string, string>> = { [ALGORITHMS.rsaSha256]: 'RSA-SHA256', [ALGORITHMS.rsaSha1]: 'RSA-SHA1' };

/**
 * Verifies `checked` (the structure check's result over `root`) against each candidate key, as
 * xml-crypto would with each candidate certificate.
 */
export function verifyFast(
  root: Element,
  signature: Element,
  checked: CheckedSignature<Element>,
  assertionId: string,
  keys: readonly KeyObject[],
): FastOutcome {
  // xml-crypto appends inclusive c14n to a reference whose last transform is enveloped-signature.
  if (checked.transformAlgorithms.length !== 2) return { unsupported: 'enveloped-signature without exclusive c14n' };
  const signedInfoList = prefixList(checked.signedInfoInclusive);
  const referenceList = prefixList(checked.referenceInclusive);
  if (signedInfoList === undefined || referenceList === undefined) return { unsupported: 'an InclusiveNamespaces PrefixList of another form' };
  // With no PrefixList of its own, xml-crypto's exclusive c14n takes one from a child of the
  // canonicalised element named CanonicalizationMethod, here: of the assertion.
  if (referenceList.length === 0 && root.childNodes.some((c) => c !== signature && 'localName' in c && c.localName === 'CanonicalizationMethod')) {
    return { unsupported: 'a CanonicalizationMethod child of the assertion' };
  }
  // xml-crypto dereferences the reference with //*[@*[local-name(.)='ID']='…'] and refuses a
  // second match; we leave quotes, prefixed ID attributes matching too and xmlns:ID to it.
  if (assertionId.includes("'")) return { unsupported: 'a quote in the assertion ID' };
  let matches = 0;
  for (const el of [root, ...descendantElements(root)] as Element[]) {
    let match = false;
    for (const a of el.attributes) {
      if (a.localName === 'ID' && a.namespaceURI === XMLNS_NS) return { unsupported: 'a namespace prefix named ID' };
      if (a.localName === 'ID' && a.value === assertionId) match = true;
    }
    if (match) matches++;
  }
  if (matches !== 1) return { unsupported: 'the assertion ID on another element too' };
  // xml-crypto reads the first text node of SignatureValue and the text of DigestValue; with base64
  // and whitespace only, that is the whole text in both trees.
  const signatureValue = checked.signatureValue.textContent;
  const digestValue = checked.digestValue.textContent;
  if (!BASE64_TEXT.test(signatureValue) || !BASE64_TEXT.test(digestValue) || checked.signatureValue.childNodes.length !== 1) {
    return { unsupported: 'a SignatureValue or DigestValue that is not plain base64' };
  }

  const reference = excC14n(root, { prefixList: referenceList, omit: signature });
  const digest = createHash(DIGESTS[checked.digestMethod]!).update(reference, 'utf8').digest();
  if (!digest.equals(Buffer.from(digestValue, 'base64'))) return { invalid: true };

  const signedInfo = excC14n(checked.signedInfo, {
    prefixList: signedInfoList,
    apexDeclarations: signedInfoList.length > 0 ? ancestorDeclarations(checked.signedInfo, signedInfoList) : [],
  });
  const algorithm = SIGNATURES[checked.signatureMethod]!;
  const value = signatureValue.replace(/\r?\n/g, '');
  for (const key of keys) {
    let ok = false;
    try {
      ok = createVerify(algorithm).update(signedInfo, 'utf8').verify(key, value, 'base64');
    } catch {
      ok = false;
    }
    if (ok) return { signed: reference };
  }
  return { invalid: true };
}

/** The split PrefixList of an ec:InclusiveNamespaces ([] without one); undefined for a form left to xml-crypto. */
function prefixList(inclusive: Element | undefined): string[] | undefined {
  if (!inclusive) return [];
  const list = inclusive.getAttribute('PrefixList');
  return list !== null && PREFIX_LIST.test(list) ? list.split(' ') : undefined;
}

/**
 * The declarations xml-crypto adds to SignedInfo before canonicalising it (utils.findAncestorNs,
 * then setAttributeNS for each listed prefix): of every ancestor's declarations, nearest first, the
 * first of each prefix, less the prefixes SignedInfo declares itself and its own prefix.
 */
function ancestorDeclarations(signedInfo: Element, list: readonly string[]): [string, string][] {
  const nearest = new Map<string, string>();
  for (let el = signedInfo.parentNode; el; el = el.parentNode) {
    for (const a of el.attributes) {
      if (!a.name.startsWith('xmlns')) continue;
      const prefix = a.name === 'xmlns' ? '' : a.localName;
      if (!nearest.has(prefix)) nearest.set(prefix, a.value);
    }
  }
  const own = new Set(signedInfo.attributes.filter((a) => a.name.startsWith('xmlns')).map((a) => (a.name === 'xmlns' ? '' : a.localName)));
  own.add(signedInfo.prefix ?? '');
  const out: [string, string][] = [];
  for (const prefix of list) {
    const uri = nearest.get(prefix);
    if (uri !== undefined && uri !== '' && !own.has(prefix) && !out.some(([p]) => p === prefix)) out.push([prefix, uri]);
  }
  return out;
}
