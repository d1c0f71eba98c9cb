/**
 * XUA (ITI-40) verification: the SAML 2.0 assertion in wsse:Security → a verified Principal, or a
 * SOAP fault.
 *
 * The safe pattern, and the attack each step closes:
 * - Exactly one saml2:Assertion anywhere in the SOAP Header, as a direct child of the one
 *   wsse:Security block. A second, unsigned assertion, or the signed one tucked into an
 *   Extensions / ds:Object / Advice element, is refused before any signature is looked at.
 * - Its ID occurs once in the whole header (no ID duplication for the reference to pick from).
 * - Exactly one ds:Signature, a direct child of the assertion (enveloped), with one Reference whose
 *   URI is `#` + the assertion's own ID, transforms enveloped-signature + exclusive c14n only,
 *   exclusive c14n for SignedInfo, RSA-SHA256 (SHA-1 only when configured).
 * - The algorithms checked are the ones xml-crypto uses. It finds CanonicalizationMethod,
 *   SignatureMethod, SignatureValue and KeyInfo as the first element of that local name anywhere
 *   in the Signature (any namespace), and SignedInfo, Reference, DigestMethod, DigestValue and
 *   Transform(s) as children of any namespace. So the Signature must be exactly the XML-DSig
 *   sequence SignedInfo, SignatureValue, KeyInfo?, Object* in the ds namespace, SignedInfo exactly
 *   CanonicalizationMethod, SignatureMethod, Reference, each Reference Transforms, DigestMethod,
 *   DigestValue, and no other element of a name xml-crypto searches for may occur where it could
 *   find it: a look-alike can never stand in for the element we checked.
 * - The signature is checked against the PINNED certificates only: a certificate in KeyInfo only
 *   picks which pinned one to try, so an attacker's certificate in the message proves nothing.
 * - Nothing in here fails open or loud: every error, whether ours or the XML and signature
 *   libraries', leaves verify() as a wsse SOAP fault (HTTP 400), which the caller audits.
 * - The assertion's own bytes are verified (locate.ts cuts them from the raw envelope text), and
 *   every claim is read from the canonical XML xml-crypto returns from getSignedReferences(), the
 *   very octets the digest covered, never from the DOM or our tree.
 * - Issuer and audience allow-lists, NotBefore / NotOnOrAfter and wsu:Timestamp with skew, one
 *   AuthnStatement with one AuthnContext.
 * Verified assertions are cached by ID *and* the SHA-256 of their bytes until they expire, so a
 * replayed ID with other content is verified afresh, never served from the cache.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DOMParser, type Element as DomElement, type Node as DomNode } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { parseXml } from '../../registry/xml/parse.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, childElements, descendants, textContent, type XmlElement } from '../../registry/xml/tree.js';
import type { SoapFault } from '../soap/fault.js';
import type { TrustConfig } from './config.js';
import { failedAuthentication, invalidSecurity, messageExpired, securityFault } from './faults.js';
import { locateAssertions } from './locate.js';
import { principalFromAssertion, type AssertionFacts, type Principal } from './principal.js';

export const ALGORITHMS = {
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaSha1: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
} as const;

/** What verification needs from a SOAP request. */
export interface XuaInput {
  /** The env:Header element (SoapRequest.header); absent when the envelope had none. */
  readonly header: XmlElement | undefined;
  /**
   * The exact text the envelope was parsed from (the root MIME part of an MTOM request, after
   * charset decoding): the signature covers these bytes, not our tree.
   */
  readonly rawEnvelope: string | Uint8Array;
}

export interface XuaVerifierOptions {
  /** PEM text of each pinned issuer certificate. */
  readonly certificates: readonly string[];
  readonly issuers: readonly string[];
  readonly audiences: readonly string[];
  readonly clockSkewSeconds: number;
  readonly allowSha1: boolean;
  readonly requireTimestamp: boolean;
  readonly cacheSize: number;
  /** The clock (tests pin it). */
  readonly now?: () => Date;
}

/** Reads the pinned certificate files named in the configuration; a bad file stops the start. */
export function loadPinnedCertificates(paths: readonly string[]): string[] {
  return paths.map((p) => {
    const pem = readFileSync(p, 'utf8');
    try {
      new X509Certificate(pem);
    } catch {
      throw new Error(`trust.pinnedIssuerCertificates: ${p} is not a PEM X.509 certificate`);
    }
    return pem;
  });
}

export function xuaVerifierFromConfig(config: TrustConfig, now?: () => Date): XuaVerifier {
  return new XuaVerifier({
    certificates: loadPinnedCertificates(config.pinnedIssuerCertificates),
    issuers: config.issuers,
    audiences: config.audiences,
    clockSkewSeconds: config.clockSkewSeconds,
    allowSha1: config.allowSha1,
    requireTimestamp: config.requireTimestamp,
    cacheSize: config.cacheSize,
    ...(now ? { now } : {}),
  });
}

interface PinnedCertificate {
  readonly pem: string;
  readonly der: Buffer;
}

/** The nodes of the checked signature that verification goes on to use. */
interface CheckedSignature {
  readonly canonicalization: string;
  readonly signatureMethod: string;
  readonly keyInfo: DomElement | undefined;
}

interface CachedVerification {
  readonly digest: string;
  readonly principal: Principal;
}

const ID_ATTRIBUTES = ['ID', 'Id', 'id', `{${NS.wsu}}Id`];
const DATE_TIME = /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export class XuaVerifier {
  /** Each pinned certificate as PEM (for xml-crypto) and DER (to match KeyInfo's). */
  private readonly certificates: readonly PinnedCertificate[];
  private readonly issuers: ReadonlySet<string>;
  private readonly audiences: ReadonlySet<string>;
  private readonly skewMs: number;
  private readonly cache = new Map<string, CachedVerification>();
  private readonly now: () => Date;

  constructor(private readonly options: XuaVerifierOptions) {
    if (options.certificates.length === 0) throw new Error('XUA verification needs at least one pinned certificate');
    this.certificates = options.certificates.map((pem) => ({ pem, der: new X509Certificate(pem).raw }));
    this.issuers = new Set(options.issuers);
    this.audiences = new Set(options.audiences);
    this.skewMs = options.clockSkewSeconds * 1000;
    this.now = options.now ?? (() => new Date());
  }

  /** Number of verified assertions remembered (for metrics and tests). */
  get cachedCount(): number {
    return this.cache.size;
  }

  /**
   * Verifies the request's assertion; returns the Principal or throws a SoapFault, and only a
   * SoapFault: whatever else goes wrong in here (xmldom's parser, xml-crypto, a bug of ours) is
   * a refusal too, wsse:InvalidSecurity with the error as its cause, never an error the SOAP layer
   * would answer with HTTP 500 and the audit would not see.
   */
  verify(input: XuaInput): Principal {
    try {
      return this.verifyOrThrow(input);
    } catch (e) {
      throw securityFault(e);
    }
  }

  private verifyOrThrow(input: XuaInput): Principal {
    const now = this.now().getTime();
    const { security, assertionId } = this.checkHeader(input.header);
    this.checkTimestamp(security, now);

    const located = locateAssertions(input.rawEnvelope);
    if (located.length !== 1 || located[0]!.id !== assertionId) {
      throw invalidSecurity('the SAML assertion in the raw message does not match the parsed security header');
    }
    const xml = located[0]!.xml;
    const digest = createHash('sha256').update(xml).digest('base64');

    const cached = this.cache.get(assertionId);
    if (cached && cached.digest === digest) {
      this.checkValidity(cached.principal, now);
      // Refresh the entry's position: the cache evicts the least recently used first.
      this.cache.delete(assertionId);
      this.cache.set(assertionId, cached);
      return cached.principal;
    }

    const signedAssertion = this.verifySignature(xml, assertionId);
    const principal = this.readAssertion(signedAssertion);
    this.checkValidity(principal, now);
    this.remember(assertionId, { digest, principal }, now);
    return principal;
  }

  /** Verifies, answering with the fault instead of throwing it (for callers that audit both). */
  tryVerify(input: XuaInput): { principal: Principal } | { fault: SoapFault } {
    try {
      return { principal: this.verify(input) };
    } catch (e) {
      return { fault: securityFault(e) };
    }
  }

  private checkHeader(header: XmlElement | undefined): { security: XmlElement; assertionId: string } {
    if (!header) throw invalidSecurity('the request has no SOAP header, so no wsse:Security with a SAML assertion');
    const securities = childElements(header, NS.wsse, 'Security');
    if (securities.length === 0) throw invalidSecurity('the request has no wsse:Security header');
    if (securities.length > 1) throw invalidSecurity('the request has more than one wsse:Security header');
    const security = securities[0]!;
    const all = descendants(header, NS.saml2, 'Assertion');
    if (all.length === 0) throw invalidSecurity('the wsse:Security header carries no SAML 2.0 assertion');
    if (all.length > 1) throw invalidSecurity('the SOAP header carries more than one SAML assertion');
    const assertion = all[0]!;
    if (!childElements(security, NS.saml2, 'Assertion').includes(assertion)) {
      throw invalidSecurity('the SAML assertion must be a direct child of wsse:Security');
    }
    const id = assertion.attrs.ID;
    if (id === undefined || id === '') throw invalidSecurity('the SAML assertion has no ID');
    let uses = 0;
    const count = (e: XmlElement): void => {
      for (const a of ID_ATTRIBUTES) if (e.attrs[a] === id) uses++;
      for (const c of childElements(e)) count(c);
    };
    count(header);
    if (uses !== 1) throw invalidSecurity('the SAML assertion ID occurs more than once in the SOAP header');
    return { security, assertionId: id };
  }

  private checkTimestamp(security: XmlElement, now: number): void {
    const stamps = childElements(security, NS.wsu, 'Timestamp');
    if (stamps.length > 1) throw invalidSecurity('the wsse:Security header has more than one wsu:Timestamp');
    const stamp = stamps[0];
    if (!stamp) {
      if (this.options.requireTimestamp) throw invalidSecurity('the wsse:Security header has no wsu:Timestamp');
      return;
    }
    const created = optionalTime(childElement(stamp, NS.wsu, 'Created'), 'wsu:Created');
    const expires = optionalTime(childElement(stamp, NS.wsu, 'Expires'), 'wsu:Expires');
    if (created !== undefined && created - this.skewMs > now) throw failedAuthentication('the wsu:Timestamp was created in the future');
    // WS-Security 1.1 §12 has a fault code of its own for this one: the message, not the token, is stale.
    if (expires !== undefined && expires + this.skewMs <= now) throw messageExpired('the wsu:Timestamp has expired');
  }

  /** Checks the signature over the standalone assertion; returns the signed (canonical) assertion. */
  private verifySignature(xml: string, assertionId: string): XmlElement {
    if (/<!(DOCTYPE|ENTITY)/i.test(xml)) throw invalidSecurity('declarations are not allowed in a SAML assertion');
    const root = parseAssertionDom(xml);
    if (root.namespaceURI !== NS.saml2 || root.localName !== 'Assertion') {
      throw invalidSecurity('the SAML assertion could not be read');
    }
    const signatures = Array.from(root.getElementsByTagNameNS(NS.ds, 'Signature'));
    if (signatures.length === 0) throw failedAuthentication('the SAML assertion is not signed');
    if (signatures.length > 1) throw invalidSecurity('the SAML assertion carries more than one signature');
    const signature = signatures[0]!;
    if (signature.parentNode !== root) throw invalidSecurity('the assertion signature must be a direct child of the assertion (enveloped)');
    const checked = this.checkSignatureStructure(root, signature, assertionId);

    for (const cert of this.candidateCertificates(checked.keyInfo)) {
      const sig = new SignedXml({ publicCert: cert, getCertFromKeyInfo: () => null });
      // A SAML 2.0 assertion is referenced by its ID attribute only. xml-crypto otherwise looks the
      // reference up under Id, ID and id, one XPath scan of the whole assertion each (~1 ms of a
      // ~7 ms verification); the duplicate-ID defence it gets from those scans is done above, over
      // the whole SOAP header and every ID spelling, before we get here.
      sig.idAttributes = ['ID'];
      try {
        sig.loadSignature(signature as unknown as Parameters<SignedXml['loadSignature']>[0]);
      } catch (e) {
        // The structure check should leave xml-crypto nothing to object to; if it still does, the
        // signature cannot be read, whichever certificate we try.
        throw invalidSecurity('the assertion signature could not be read', e);
      }
      // What xml-crypto loaded must be what we checked (a second line behind the structure check).
      if (sig.canonicalizationAlgorithm !== checked.canonicalization || sig.signatureAlgorithm !== checked.signatureMethod) {
        throw invalidSecurity('the signature algorithms could not be determined unambiguously');
      }
      let ok = false;
      try {
        ok = sig.checkSignature(xml);
      } catch {
        ok = false;
      }
      if (!ok) continue;
      const refs = sig.getSignedReferences();
      if (refs.length !== 1) throw invalidSecurity('the signature must sign exactly one reference');
      let signed: XmlElement;
      try {
        signed = parseXml(refs[0]!);
      } catch {
        throw invalidSecurity('the signed assertion is not well-formed XML');
      }
      if (signed.ns !== NS.saml2 || signed.local !== 'Assertion' || signed.attrs.ID !== assertionId) {
        throw invalidSecurity('the signature does not cover the SAML assertion');
      }
      return signed;
    }
    throw failedAuthentication('the SAML assertion signature does not verify against any pinned issuer certificate');
  }

  /**
   * The pinned certificates to try, in PEM. When KeyInfo carries a certificate that is pinned, that
   * one (the issuer says which key it used, and one verification is cheaper than trying all);
   * otherwise each pinned certificate. A certificate that is only in KeyInfo is never used.
   */
  private candidateCertificates(keyInfo: DomElement | undefined): readonly string[] {
    if (!keyInfo || this.certificates.length === 1) return this.certificates.map((c) => c.pem);
    const offered = Array.from(keyInfo.getElementsByTagNameNS(NS.ds, 'X509Certificate')).map((el) =>
      Buffer.from((el.textContent ?? '').replace(/\s+/g, ''), 'base64'),
    );
    const named = this.certificates.filter((c) => offered.some((der) => der.equals(c.der)));
    return (named.length > 0 ? named : this.certificates).map((c) => c.pem);
  }

  /**
   * Checks the ds:Signature's structure and algorithms and returns the checked nodes. Every node
   * xml-crypto will read is one we checked: see the module comment for how it finds them.
   */
  private checkSignatureStructure(root: DomElement, signature: DomElement, assertionId: string): CheckedSignature {
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
    inclusiveNamespacesOnly(c14nMethod, 'ds:CanonicalizationMethod');
    const signatureMethodEl = siParts.SignatureMethod![0]!;
    const signatureMethod = signatureMethodEl.getAttribute('Algorithm');
    const methods: string[] = [ALGORITHMS.rsaSha256, ...(this.options.allowSha1 ? [ALGORITHMS.rsaSha1] : [])];
    if (signatureMethod == null || !methods.includes(signatureMethod)) {
      throw invalidSecurity(`signature algorithm not accepted: ${shorten(signatureMethod ?? '(none)')}`);
    }
    noElements(signatureMethodEl, 'ds:SignatureMethod');

    const refs = siParts.Reference!;
    if (refs.length !== 1) throw invalidSecurity('the signature must have exactly one Reference');
    const ref = refs[0]!;
    if (ref.getAttribute('URI') !== `#${assertionId}`) throw invalidSecurity('the signature must reference the assertion it is in');
    const refParts = dsSequence(ref, 'ds:Reference', [
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
    if (transforms[1]) inclusiveNamespacesOnly(transforms[1], 'the exclusive c14n ds:Transform');
    const digestMethodEl = refParts.DigestMethod![0]!;
    const digest = digestMethodEl.getAttribute('Algorithm');
    const digests: string[] = [ALGORITHMS.sha256, ...(this.options.allowSha1 ? [ALGORITHMS.sha1] : [])];
    if (digest == null || !digests.includes(digest)) throw invalidSecurity(`digest algorithm not accepted: ${shorten(digest ?? '(none)')}`);
    noElements(digestMethodEl, 'ds:DigestMethod');
    const digestValue = refParts.DigestValue![0]!;
    textOnly(digestValue, 'ds:DigestValue');

    // xml-crypto takes the FIRST element of these names anywhere under the Signature, whatever
    // its namespace (inside KeyInfo or an Object, say); with exactly one of each there is nothing
    // for it to pick but the one checked above.
    const searched = new Map<string, DomElement | undefined>([
      ['CanonicalizationMethod', c14nMethod],
      ['SignatureMethod', signatureMethodEl],
      ['SignatureValue', signatureValue],
      ['KeyInfo', keyInfo],
    ]);
    for (const el of Array.from(signature.getElementsByTagName('*'))) {
      if (searched.has(el.localName ?? '') && searched.get(el.localName ?? '') !== el) {
        throw invalidSecurity(`the signature holds a second ${shorten(el.localName ?? '')} element`);
      }
    }
    // It also computes SignedInfo's in-scope namespaces from the first element named SignedInfo in
    // the whole assertion, so there must be no other.
    for (const el of Array.from(root.getElementsByTagName('*'))) {
      if (el.localName === 'SignedInfo' && el !== signedInfo) throw invalidSecurity('the assertion holds a second SignedInfo element');
    }
    return { canonicalization, signatureMethod, keyInfo };
  }

  /** Issuer and audience allow-lists over the facts of the signed assertion, then its attributes. */
  private readAssertion(assertion: XmlElement): Principal {
    const facts = assertionFacts(assertion);
    if (!this.issuers.has(facts.issuer)) throw failedAuthentication(`the assertion issuer '${facts.issuer}' is not trusted`);
    // SAML Core §2.5.1.4: every AudienceRestriction must be satisfied (by any of its audiences).
    for (const list of facts.audienceRestrictions) {
      if (!list.some((a) => this.audiences.has(a))) {
        throw failedAuthentication(`the assertion is not meant for this node (audience ${list.join(', ') || '(none)'})`);
      }
    }
    return principalFromAssertion(assertion, facts);
  }

  private checkValidity(p: Principal, now: number): void {
    if (p.notBefore && p.notBefore.getTime() - this.skewMs > now) throw failedAuthentication('the SAML assertion is not yet valid');
    if (p.notOnOrAfter.getTime() + this.skewMs <= now) throw failedAuthentication('the SAML assertion has expired');
  }

  private remember(id: string, entry: CachedVerification, now: number): void {
    if (this.options.cacheSize === 0) return;
    if (this.cache.size >= this.options.cacheSize) {
      // Drop expired entries first, then the least recently used.
      for (const [key, v] of this.cache) {
        if (v.principal.notOnOrAfter.getTime() + this.skewMs <= now) this.cache.delete(key);
      }
      while (this.cache.size >= this.options.cacheSize) {
        const oldest = this.cache.keys().next().value;
        if (oldest === undefined) break;
        this.cache.delete(oldest);
      }
    }
    this.cache.set(id, entry);
  }
}

/**
 * The standalone assertion as the DOM xml-crypto is handed. xmldom reports what is not well-formed
 * (a `--` inside a comment, an unbound prefix …) through onError and throws a ParseError for the
 * worst of it: anything above a warning is a refusal here, never an exception that escapes.
 */
function parseAssertionDom(xml: string): DomElement {
  const problems: string[] = [];
  let root: DomElement | null;
  try {
    const doc = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') problems.push(message);
      },
    }).parseFromString(xml, 'text/xml');
    root = doc.documentElement;
  } catch (e) {
    throw invalidSecurity('the SAML assertion is not well-formed XML', e);
  }
  if (problems.length > 0 || !root) throw invalidSecurity('the SAML assertion is not well-formed XML', problems[0]);
  return root;
}

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const COMMENT_NODE = 8;
const isWhitespace = (s: string | null): boolean => /^[ \t\r\n]*$/.test(s ?? '');

/** An element's name as a fault reason may quote it: {namespace}local, cut short. */
function nameOf(el: DomElement): string {
  return shorten(el.namespaceURI ? `{${el.namespaceURI}}${el.localName ?? ''}` : (el.localName ?? ''));
}

/** Attacker-chosen text for a fault reason or a log line: one line, bounded. */
function shorten(s: string): string {
  const line = s.replace(/\s+/g, ' ');
  return line.length > 100 ? `${line.slice(0, 100)}…` : line;
}

/**
 * The element children of a structural XML-DSig element, checked against a sequence of ds
 * elements ([local name, min, max] in order). Whitespace and comments may lie between them;
 * text, CDATA or processing instructions may not, and neither may any element out of place or of
 * another namespace (xml-crypto matches children by local name alone).
 */
function dsSequence(parent: DomElement, what: string, spec: readonly (readonly [string, number, number])[]): Record<string, DomElement[]> {
  const children: DomElement[] = [];
  for (const n of Array.from(parent.childNodes) as DomNode[]) {
    if (n.nodeType === ELEMENT_NODE) children.push(n as DomElement);
    else if (n.nodeType === COMMENT_NODE || (n.nodeType === TEXT_NODE && isWhitespace(n.nodeValue))) continue;
    else throw invalidSecurity(`${what} may hold only elements`);
  }
  const found: Record<string, DomElement[]> = {};
  let i = 0;
  for (const [local, min, max] of spec) {
    const run: DomElement[] = [];
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
function textOnly(el: DomElement, what: string): void {
  for (const n of Array.from(el.childNodes) as DomNode[]) {
    if (n.nodeType !== TEXT_NODE) throw invalidSecurity(`${what} may hold only text`);
  }
  if (isWhitespace(el.textContent)) throw invalidSecurity(`${what} is empty`);
}

/** An algorithm element that takes no parameters. */
function noElements(el: DomElement, what: string): void {
  for (const n of Array.from(el.childNodes) as DomNode[]) {
    if (n.nodeType === ELEMENT_NODE) throw invalidSecurity(`${what} may not hold ${nameOf(n as DomElement)}`);
  }
}

/**
 * An exclusive c14n algorithm element: its one possible parameter is ec:InclusiveNamespaces, which
 * xml-crypto looks up by local name alone, so a look-alike of another namespace is refused.
 */
function inclusiveNamespacesOnly(el: DomElement, what: string): void {
  let seen = 0;
  for (const n of Array.from(el.childNodes) as DomNode[]) {
    if (n.nodeType !== ELEMENT_NODE) continue;
    const child = n as DomElement;
    if (child.namespaceURI !== ALGORITHMS.excC14n || child.localName !== 'InclusiveNamespaces' || ++seen > 1) {
      throw invalidSecurity(`${what} may not hold ${nameOf(child)}`);
    }
  }
}

function requiredTime(value: string | undefined, what: string): number {
  const v = value?.trim();
  if (v === undefined || v === '') throw invalidSecurity(`the assertion has no ${what}`);
  const t = DATE_TIME.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw invalidSecurity(`the assertion's ${what} is not an xs:dateTime: ${v}`);
  return t;
}

function optionalTime(el: XmlElement | undefined, what: string): number | undefined {
  if (!el) return undefined;
  const v = textContent(el).trim();
  const t = DATE_TIME.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw invalidSecurity(`${what} is not an xs:dateTime: ${v}`);
  return t;
}

interface StructuralFacts extends AssertionFacts {
  readonly audienceRestrictions: readonly (readonly string[])[];
}

/**
 * The structure every accepted assertion must have (SAML 2.0, one Issuer, one Conditions with
 * NotOnOrAfter and an AudienceRestriction, one AuthnStatement with AuthnInstant and exactly one
 * AuthnContext/AuthnContextClassRef), read into facts. Throws wsse:InvalidSecurity / FailedAuthentication.
 */
function assertionFacts(assertion: XmlElement): StructuralFacts {
  if (assertion.ns !== NS.saml2 || assertion.local !== 'Assertion') throw invalidSecurity('not a SAML 2.0 assertion');
  if (assertion.attrs.Version !== '2.0') throw invalidSecurity('only SAML 2.0 assertions are accepted');
  const assertionId = assertion.attrs.ID ?? '';
  if (assertionId === '') throw invalidSecurity('the SAML assertion has no ID');
  const issuerEl = childElements(assertion, NS.saml2, 'Issuer');
  if (issuerEl.length !== 1) throw invalidSecurity('the assertion must have exactly one saml:Issuer');
  const issuer = textContent(issuerEl[0]!).trim();

  const conditions = childElements(assertion, NS.saml2, 'Conditions');
  if (conditions.length !== 1) throw invalidSecurity('the assertion must have exactly one saml:Conditions');
  const cond = conditions[0]!;
  const notOnOrAfter = requiredTime(cond.attrs.NotOnOrAfter, 'NotOnOrAfter');
  const notBefore = cond.attrs.NotBefore === undefined ? undefined : requiredTime(cond.attrs.NotBefore, 'NotBefore');
  const audienceRestrictions = childElements(cond, NS.saml2, 'AudienceRestriction').map((r) =>
    childElements(r, NS.saml2, 'Audience').map((a) => textContent(a).trim()),
  );
  if (audienceRestrictions.length === 0) throw failedAuthentication('the assertion has no audience restriction');

  const statements = childElements(assertion, NS.saml2, 'AuthnStatement');
  if (statements.length !== 1) throw invalidSecurity('the assertion must have exactly one saml:AuthnStatement');
  const statement = statements[0]!;
  const authnInstant = requiredTime(statement.attrs.AuthnInstant, 'AuthnInstant');
  const contexts = childElements(statement, NS.saml2, 'AuthnContext');
  if (contexts.length !== 1) throw invalidSecurity('the AuthnStatement must have exactly one saml:AuthnContext');
  const classRefs = childElements(contexts[0]!, NS.saml2, 'AuthnContextClassRef');
  if (classRefs.length !== 1 || textContent(classRefs[0]!).trim() === '') {
    throw invalidSecurity('the AuthnContext must have exactly one AuthnContextClassRef');
  }
  return {
    assertionId,
    issuer,
    audiences: audienceRestrictions.flat(),
    audienceRestrictions,
    ...(notBefore !== undefined ? { notBefore: new Date(notBefore) } : {}),
    notOnOrAfter: new Date(notOnOrAfter),
    authnInstant: new Date(authnInstant),
    authnContextClassRef: textContent(classRefs[0]!).trim(),
  };
}

/**
 * The Principal an assertion would give, WITHOUT any signature, issuer, audience or time check.
 * For diagnostics and for testing attribute mapping on expired samples only: never for access.
 */
export function readUnverifiedPrincipal(assertion: XmlElement): Principal {
  return principalFromAssertion(assertion, assertionFacts(assertion));
}
