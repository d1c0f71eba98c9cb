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
 * - The algorithms checked are the ones xml-crypto uses, on an exact XML-DSig shape in which no
 *   look-alike element or attribute can stand in for one we checked (xmldsig/structure.ts).
 * - The signature is checked against the PINNED certificates only: a certificate in KeyInfo only
 *   picks which pinned one to try, so an attacker's certificate in the message proves nothing.
 * - Nothing in here fails open or loud: every error, whether ours or the XML and signature
 *   libraries', leaves verify() as a wsse SOAP fault (HTTP 400), which the caller audits.
 * - The assertion's own bytes are verified (locate.ts cuts them from the raw envelope text), and
 *   every claim is read from the canonical XML the digest covered (xml-crypto's
 *   getSignedReferences(), or the same octets from the fast path), never from a DOM or our tree.
 * - Two signature paths, one outcome (issue 19). The fast path (xmldsig/: own strict reader,
 *   exclusive c14n written to xml-crypto's octets, node:crypto) verifies the one shape issuers
 *   send, in a tenth of the time; whatever it does not recognise goes to xml-crypto, the verifier
 *   of record, which decides. Both run the same structure check, and
 *   test/trust/xua-differential.test.ts holds them to the same accept/refuse and Principal over
 *   every signed sample and hostile variant the project has. `signaturePath: 'xml-crypto'` runs
 *   the verifier of record alone.
 * - Issuer and audience allow-lists, NotBefore / NotOnOrAfter and wsu:Timestamp with skew, one
 *   AuthnStatement with one AuthnContext.
 * Verified assertions are cached by ID *and* the SHA-256 of their bytes until they expire, so a
 * replayed ID with other content is verified afresh, never served from the cache.
 */
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DOMParser, type Element as DomElement } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { parseXml } from '../../registry/xml/parse.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, childElements, descendants, textContent, type XmlElement } from '../../registry/xml/tree.js';
import type { SoapFault } from '../soap/fault.js';
import type { TrustConfig } from './config.js';
import { failedAuthentication, invalidSecurity, messageExpired, securityFault } from './faults.js';
import { locateAssertions } from './locate.js';
import { principalFromAssertion, type AssertionFacts, type Principal } from './principal.js';
import { verifyFast } from './xmldsig/fast.js';
import { readAssertionTree } from './xmldsig/read.js';
import { checkSignatureStructure, envelopedSignature, offeredCertificates } from './xmldsig/structure.js';
import type { SigElement } from './xmldsig/tree.js';

export { ALGORITHMS } from './xmldsig/structure.js';

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
  /**
   * 'fast' (default): the fast path, xml-crypto for what it leaves; 'xml-crypto': the verifier of
   * record alone (the differential test and the benchmark's before/after).
   */
  readonly signaturePath?: 'fast' | 'xml-crypto';
}

/** How many signature checks each path made, and why the fast path left the others to xml-crypto. */
export interface SignaturePathCounts {
  fast: number;
  xmlCrypto: number;
  readonly reasons: Map<string, number>;
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

export function xuaVerifierFromConfig(config: TrustConfig, now?: () => Date, signaturePath?: XuaVerifierOptions['signaturePath']): XuaVerifier {
  return new XuaVerifier({
    certificates: loadPinnedCertificates(config.pinnedIssuerCertificates),
    issuers: config.issuers,
    audiences: config.audiences,
    clockSkewSeconds: config.clockSkewSeconds,
    allowSha1: config.allowSha1,
    requireTimestamp: config.requireTimestamp,
    cacheSize: config.cacheSize,
    ...(now ? { now } : {}),
    ...(signaturePath ? { signaturePath } : {}),
  });
}

interface PinnedCertificate {
  readonly pem: string;
  readonly der: Buffer;
  readonly key: KeyObject;
}

interface CachedVerification {
  readonly digest: string;
  readonly principal: Principal;
}

const ID_ATTRIBUTES = ['ID', 'Id', 'id', `{${NS.wsu}}Id`];
const NOT_VERIFIED = 'the SAML assertion signature does not verify against any pinned issuer certificate';
const DATE_TIME = /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export class XuaVerifier {
  /** Each pinned certificate as PEM (for xml-crypto), DER (to match KeyInfo's) and public key (for the fast path). */
  private readonly certificates: readonly PinnedCertificate[];
  private readonly issuers: ReadonlySet<string>;
  private readonly audiences: ReadonlySet<string>;
  private readonly skewMs: number;
  private readonly cache = new Map<string, CachedVerification>();
  private readonly now: () => Date;
  private readonly paths: SignaturePathCounts = { fast: 0, xmlCrypto: 0, reasons: new Map() };

  constructor(private readonly options: XuaVerifierOptions) {
    if (options.certificates.length === 0) throw new Error('XUA verification needs at least one pinned certificate');
    this.certificates = options.certificates.map((pem) => ({ pem, der: new X509Certificate(pem).raw, key: createPublicKey(pem) }));
    this.issuers = new Set(options.issuers);
    this.audiences = new Set(options.audiences);
    this.skewMs = options.clockSkewSeconds * 1000;
    this.now = options.now ?? (() => new Date());
  }

  /** The signature checks made so far by each path (for tests and the benchmark). */
  get signaturePaths(): Readonly<SignaturePathCounts> {
    return this.paths;
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
    const fast = this.options.signaturePath === 'xml-crypto' ? undefined : this.fastSignedOctets(xml, assertionId);
    const octets = fast ?? this.xmlCryptoSignedOctets(xml, assertionId);
    let signed: XmlElement;
    try {
      signed = parseXml(octets);
    } catch {
      throw invalidSecurity('the signed assertion is not well-formed XML');
    }
    if (signed.ns !== NS.saml2 || signed.local !== 'Assertion' || signed.attrs.ID !== assertionId) {
      throw invalidSecurity('the signature does not cover the SAML assertion');
    }
    return signed;
  }

  /**
   * The fast path (connector/trust/xmldsig): our reader, the same structure check, our exclusive
   * c14n, node:crypto. Returns the signed octets, throws the fault xml-crypto's path would throw,
   * or returns undefined for an assertion it leaves to xml-crypto (counted in `signaturePaths`).
   */
  private fastSignedOctets(xml: string, assertionId: string): string | undefined {
    const root = readAssertionTree(xml);
    if (!root) return this.leaveToXmlCrypto('the reader');
    if (root.namespaceURI !== NS.saml2 || root.localName !== 'Assertion') throw invalidSecurity('the SAML assertion could not be read');
    const signature = envelopedSignature(root);
    const checked = checkSignatureStructure(root, signature, assertionId, this.options.allowSha1);
    const keys = this.candidateCertificates(checked.keyInfo).map((c) => c.key);
    const outcome = verifyFast(root, signature, checked, assertionId, keys);
    if ('unsupported' in outcome) return this.leaveToXmlCrypto(outcome.unsupported);
    this.paths.fast++;
    if ('invalid' in outcome) throw failedAuthentication(NOT_VERIFIED);
    return outcome.signed;
  }

  private leaveToXmlCrypto(reason: string): undefined {
    this.paths.xmlCrypto++;
    this.paths.reasons.set(reason, (this.paths.reasons.get(reason) ?? 0) + 1);
    return undefined;
  }

  /**
   * The verifier of record: xmldom's DOM, the same structure check, xml-crypto's SignedXml.
   * Returns the canonical assertion xml-crypto's getSignedReferences() gives.
   */
  private xmlCryptoSignedOctets(xml: string, assertionId: string): string {
    const root = parseAssertionDom(xml);
    if (root.namespaceURI !== NS.saml2 || root.localName !== 'Assertion') {
      throw invalidSecurity('the SAML assertion could not be read');
    }
    const signature = envelopedSignature(root);
    const checked = checkSignatureStructure(root, signature, assertionId, this.options.allowSha1);

    for (const cert of this.candidateCertificates(checked.keyInfo)) {
      const sig = new SignedXml({ publicCert: cert.pem, getCertFromKeyInfo: () => null });
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
      return refs[0]!;
    }
    throw failedAuthentication(NOT_VERIFIED);
  }

  /**
   * The pinned certificates to try. When KeyInfo carries a certificate that is pinned, that one
   * (the issuer says which key it used, and one verification is cheaper than trying all);
   * otherwise each pinned certificate. A certificate that is only in KeyInfo is never used.
   */
  private candidateCertificates(keyInfo: SigElement | undefined): readonly PinnedCertificate[] {
    if (!keyInfo || this.certificates.length === 1) return this.certificates;
    const offered = offeredCertificates(keyInfo);
    const named = this.certificates.filter((c) => offered.some((der) => der.equals(c.der)));
    return named.length > 0 ? named : this.certificates;
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
