/**
 * The fast signature path against the verifier of record (issue 19): every case runs through two
 * fresh verifiers, one with the fast path (connector/trust/xmldsig, xml-crypto for what it leaves)
 * and one with xml-crypto alone (`signaturePath: 'xml-crypto'`), and the two must give the same
 * answer: both accept with deep-equal Principals, or both refuse with the same fault subcode and
 * reason. Cases:
 * - every signed sample the project has: assertions minted by scripts/sign-assertion.ts (each
 *   NIST XUA variant), the committed fixture, NHN's samples re-signed by the test issuer
 *   (test/wiring/helpers.ts) and as NHN sent them (their own certificate pinned; they no longer
 *   verify, the samples having been edited after signing, so both must refuse);
 * - every wrapping and hostile variant test/trust/xua.test.ts and xua-robust.test.ts build;
 * - generated mutations of a signed assertion, each twice: as it is (tampered) and signed again
 *   with xml-crypto's own canonicalisation and digest (resign(), never ours), so that whatever
 *   xml-crypto accepts the fast path must accept too, octet for octet (a digest match);
 * - a byte flipped (lowest bit) at 240 positions spread over a signed assertion.
 * Cases marked `fast` must be decided by the fast path itself, or the comparison would prove
 * nothing about it.
 */
import { createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DOMParser } from '@xmldom/xmldom';
import { expect } from 'chai';
import { SignedXml } from 'xml-crypto';
import { SoapFault } from '../../connector/soap/fault.js';
import type { Principal } from '../../connector/trust/principal.js';
import type { XuaInput, XuaVerifier, XuaVerifierOptions } from '../../connector/trust/xua.js';
import { nhnSample } from '../../fixtures/index.js';
import {
  buildAssertion,
  defaultAssertionOptions,
  NIST_XUA_VARIANTS,
  signAssertion,
  soapEnvelope,
  testKey,
  variantAssertion,
  type AssertionOptions,
} from '../../scripts/sign-assertion.js';
import { resignedNhnSample } from '../wiring/helpers.js';
import { headerOf, NOW, TEST_AUDIENCE, TEST_ISSUER, verifier } from './helpers.js';

const DS = 'http://www.w3.org/2000/09/xmldsig#';
const EXC = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const WITH_COMMENTS = 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments';
const SAML = 'urn:oasis:names:tc:SAML:2.0:assertion';
const issuerKey = testKey('issuer');
const attackerKey = testKey('attacker');
const ATTACKER_PEM = attackerKey.cert;
const ISSUER_PEM = issuerKey.cert;
const base = (): AssertionOptions => defaultAssertionOptions(NOW);
const signed = (o: AssertionOptions = base()): string => signAssertion(buildAssertion(o), issuerKey);
const stamp = { created: new Date(NOW.getTime() - 10_000), expires: new Date(NOW.getTime() + 300_000) };
const envelope = (assertion: string): string => soapEnvelope(assertion, { timestamp: stamp });

interface Case {
  readonly name: string;
  readonly input: () => XuaInput;
  readonly options?: Partial<XuaVerifierOptions>;
  /** What both must answer (a check that the case tests what its name says). */
  readonly expect?: 'accept' | 'refuse';
  /** The fast path must decide the signature itself, not leave it to xml-crypto. */
  readonly fast?: boolean;
}

type Outcome = { readonly accepted: Principal } | { readonly refused: { readonly subcode: string; readonly reason: string } };

const stats = { cases: 0, accepted: 0, refused: 0, decidedFast: 0, leftToXmlCrypto: 0, beforeSignature: 0 };
const leftReasons = new Map<string, number>();

function outcome(v: XuaVerifier, input: XuaInput): Outcome {
  try {
    return { accepted: v.verify(input) };
  } catch (e) {
    if (!(e instanceof SoapFault)) throw e;
    return { refused: { subcode: `${e.subcode?.local}`, reason: e.reason } };
  }
}

/** Runs one case through both paths; returns what went wrong, or undefined. */
function differ(c: Case): string | undefined {
  const input = c.input();
  const fast = verifier({ cacheSize: 0, ...c.options });
  const record = verifier({ cacheSize: 0, ...c.options, signaturePath: 'xml-crypto' });
  const a = outcome(fast, input);
  const b = outcome(record, input);
  stats.cases++;
  const paths = fast.signaturePaths;
  if (paths.fast > 0) stats.decidedFast++;
  else if (paths.xmlCrypto > 0) stats.leftToXmlCrypto++;
  else stats.beforeSignature++;
  for (const [reason, n] of paths.reasons) leftReasons.set(reason, (leftReasons.get(reason) ?? 0) + n);
  if ('accepted' in a) stats.accepted++;
  else stats.refused++;
  const show = (o: Outcome): string => ('accepted' in o ? `accepted (${o.accepted.subjectId})` : `refused ${o.refused.subcode}: ${o.refused.reason}`);
  if ('accepted' in a !== 'accepted' in b) return `${c.name}: fast ${show(a)}, xml-crypto ${show(b)}`;
  try {
    if ('accepted' in a && 'accepted' in b) expect(a.accepted).to.deep.equal(b.accepted);
    if ('refused' in a && 'refused' in b) expect(a.refused).to.deep.equal(b.refused);
  } catch {
    return `${c.name}: fast ${show(a)}, xml-crypto ${show(b)}`;
  }
  if (c.expect && ('accepted' in a ? 'accept' : 'refuse') !== c.expect) return `${c.name}: expected both to ${c.expect}, both ${show(a)}`;
  if (c.fast && (paths.fast !== 1 || paths.xmlCrypto !== 0)) return `${c.name}: left to xml-crypto (${[...paths.reasons.keys()].join(', ')})`;
  return undefined;
}

function runAll(cases: readonly Case[]): void {
  const problems = cases.map(differ).filter((p): p is string => p !== undefined);
  expect(problems, problems.join('\n')).to.deep.equal([]);
}

const ofEnvelope = (name: string, env: () => string | Buffer, more: Omit<Case, 'name' | 'input'> = {}): Case => ({
  name,
  input: () => {
    const e = env();
    return { header: headerOf(typeof e === 'string' ? e : e.toString('utf8')), rawEnvelope: e };
  },
  ...more,
});
/**
 * An envelope around the assertion. When the SOAP layer's reader would refuse the envelope (a
 * mutation made it malformed), the header is parsed from `clean` instead, so that the verifier
 * still sees the raw text, as it would if the two readers ever disagreed.
 */
const ofAssertion = (name: string, assertion: () => string, more: Omit<Case, 'name' | 'input'> = {}, clean?: () => string): Case => ({
  name,
  input: () => {
    const raw = envelope(assertion());
    try {
      return { header: headerOf(raw), rawEnvelope: raw };
    } catch (e) {
      if (!clean) throw e;
      return { header: headerOf(envelope(clean())), rawEnvelope: raw };
    }
  },
  ...more,
});
/** The header parsed from one text, the raw envelope another (xmldom must still refuse what the SOAP layer let through). */
const ofRawText = (name: string, clean: () => string, dirty: (clean: string) => string, more: Omit<Case, 'name' | 'input'> = {}): Case => ({
  name,
  input: () => {
    const c = clean();
    return { header: headerOf(c), rawEnvelope: dirty(c) };
  },
  ...more,
});

const idOf = (assertion: string): string => /ID="([^"]+)"/.exec(assertion)![1]!;
const signatureOf = (assertion: string): string => /<Signature[\s\S]*<\/Signature>/.exec(assertion)![0];

/**
 * The assertion signed again after an edit, with the digest and SignedInfo canonicalisation
 * xml-crypto computes (SignedXml's own code, never ours): what xml-crypto accepts of the edit.
 */
function resign(assertion: string, algorithm = 'RSA-SHA256'): string {
  let xml = assertion;
  const digest = xmlCryptoDigest(xml);
  if (digest !== undefined) xml = xml.replace(/(<(?:ds:)?DigestValue>)[^<]*(<\/(?:ds:)?DigestValue>)/, `$1${digest}$2`);
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const sig = new SignedXml({ publicCert: ISSUER_PEM });
  sig.loadSignature(doc.getElementsByTagNameNS(DS, 'Signature')[0]! as unknown as Parameters<SignedXml['loadSignature']>[0]);
  const canon = (sig as unknown as { getCanonSignedInfoXml(d: unknown): string }).getCanonSignedInfoXml(doc);
  const value = createSign(algorithm).update(canon).sign(issuerKey.key, 'base64');
  return xml.replace(/(<(?:ds:)?SignatureValue>)[^<]*(<\/(?:ds:)?SignatureValue>)/, `$1${value}$2`);
}

/** The digest xml-crypto computes for the assertion's reference (from its validation error), if it differs from the one written. */
function xmlCryptoDigest(xml: string): string | undefined {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const sig = new SignedXml({ publicCert: ISSUER_PEM });
  sig.loadSignature(doc.getElementsByTagNameNS(DS, 'Signature')[0]! as unknown as Parameters<SignedXml['loadSignature']>[0]);
  try {
    sig.checkSignature(xml);
  } catch {
    // A bad SignatureValue: the digest was fine, or was never reached.
  }
  const error = sig.getReferences()[0]?.validationError;
  return error ? /calculated digest is (\S+) but/.exec(error.message)?.[1] : undefined;
}

describe('XUA: the fast signature path agrees with xml-crypto (differential)', function () {
  this.timeout(120_000);

  after(() => {
    const reasons = [...leftReasons].map(([r, n]) => `${r} ×${n}`).join('; ');
    console.log(
      `      ${stats.cases} cases: ${stats.accepted} accepted, ${stats.refused} refused by both; signature decided by the fast path ` +
        `${stats.decidedFast}, left to xml-crypto ${stats.leftToXmlCrypto} (${reasons}), refused before the signature ${stats.beforeSignature}`,
    );
  });

  it('every signed sample: minted assertions, the NIST XUA variants, the committed fixture', () => {
    const cases: Case[] = [
      ofAssertion('a minted clinician assertion', () => signed(), { expect: 'accept', fast: true }),
      ofEnvelope('a minted assertion as UTF-8 bytes, non-ASCII name', () =>
        Buffer.from(envelope(signed({ ...base(), attributes: [{ name: 'urn:oasis:names:tc:xspa:1.0:subject:subject-id', values: ['Ærlig Øystein Åsen'] }] })), 'utf8'),
        { expect: 'accept', fast: true }),
      ofEnvelope('saml prefix declared on the Envelope only', () =>
        soapEnvelope(signed().replace(` xmlns:saml="${SAML}"`, '')).replace('<s:Envelope ', `<s:Envelope xmlns:saml="${SAML}" `),
        { expect: 'accept', fast: true }),
      ofEnvelope('the committed pretty-printed fixture', () => readFileSync(new URL('../../fixtures/saml/signed-clinician-envelope.xml', import.meta.url), 'utf8'), {
        options: { now: () => new Date('2026-11-23T12:30:00Z') },
        expect: 'accept',
        fast: true,
      }),
      ofAssertion('RSA-SHA1 when allowed', () => signAssertion(buildAssertion(base()), issuerKey, { algorithm: 'sha1' }), {
        options: { allowSha1: true },
        expect: 'accept',
        fast: true,
      }),
      ofAssertion('RSA-SHA1 by default', () => signAssertion(buildAssertion(base()), issuerKey, { algorithm: 'sha1' }), { expect: 'refuse' }),
      ofAssertion('no KeyInfo, two pins', () => signAssertion(buildAssertion(base()), issuerKey, { keyInfo: false }), {
        options: { certificates: [ATTACKER_PEM, ISSUER_PEM] },
        expect: 'accept',
        fast: true,
      }),
      ofAssertion('an IHE-style HL7 element with a default namespace in an AttributeValue', () =>
        signed({ ...base(), attributes: [...base().attributes, { name: 'urn:example:role', values: [], xmlValues: ['<Role xmlns="urn:hl7-org:v3" code="LE" codeSystem="2.16.578.1.12.4.1.1.9060"/>'] }] }),
        { expect: 'accept', fast: true }),
      ...NIST_XUA_VARIANTS.map((variant) =>
        ofAssertion(`NIST XUA variant ${variant}`, () => variantAssertion(variant, base(), issuerKey), {
          expect: variant === 'valid' || variant === 'withauthzconsent' ? 'accept' : 'refuse',
          fast: variant !== 'unsigned',
        }),
      ),
    ];
    runAll(cases);
  });

  it("NHN's samples: re-signed by the test issuer, and as NHN sent them", () => {
    const names = [
      'iti18-iti40-request.xml',
      'iti18-iti40-request-getassociations.xml',
      'iti43-iti40-request.xml',
      'iti62-iti40-request.xml',
      'iti86-iti40-request.xml',
      'PnR_request.xml',
      'iti38-iti40-request-hn.xml',
      'iti38-iti40-request-hn-acp-1.xml',
      'iti38-iti40-request-hn-acp-2.xml',
      'iti38-iti40-request-hn-acp-3.xml',
      'iti39-iti40-request-hn.xml',
    ];
    const cases: Case[] = [];
    for (const name of names) {
      const raw = nhnSample(name).toString('utf8');
      const issuer = /<saml:Issuer>([^<]*)</.exec(raw)![1]!;
      const audiences = [...raw.matchAll(/<saml:Audience>([^<]*)</g)].map((m) => m[1]!);
      cases.push(
        ofEnvelope(`${name}, re-signed`, () => resignedNhnSample(name), {
          options: { now: () => new Date(), issuers: [TEST_ISSUER, issuer], audiences: [TEST_AUDIENCE, ...audiences] },
          expect: 'accept',
          fast: true,
        }),
      );
      // NHN's own signature, its certificate from KeyInfo pinned (the sample has '+' JSON-escaped).
      const der = /<X509Certificate>([^<]+)</.exec(raw)![1]!.replaceAll('\\u002B', '+');
      const pem = `-----BEGIN CERTIFICATE-----\n${der.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
      const notBefore = new Date(/NotBefore="([^"]+)"/.exec(raw)![1]!);
      const asSent = raw.replace(/<u:Timestamp[\s\S]*?<\/u:Timestamp>/, '');
      cases.push(
        ofEnvelope(`${name}, as NHN sent it`, () => asSent, {
          options: { certificates: [pem], issuers: [issuer], audiences, now: () => new Date(notBefore.getTime() + 60_000) },
          expect: 'refuse',
          fast: true,
        }),
      );
    }
    for (const name of ['SamlToken01.xml', 'SamlToken02.xml', 'IT_SamlToken_HN01.xml']) {
      const raw = nhnSample(name).toString('utf8');
      const der = /<X509Certificate>([^<]+)</.exec(raw)![1]!.replaceAll('\\u002B', '+');
      const pem = `-----BEGIN CERTIFICATE-----\n${der.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
      const notBefore = new Date(/NotBefore="([^"]+)"/.exec(raw)![1]!);
      cases.push(
        ofEnvelope(`${name}, as NHN sent it`, () => soapEnvelope(raw), {
          options: { certificates: [pem], issuers: [/<saml:Issuer>([^<]*)</.exec(raw)![1]!], audiences: [...raw.matchAll(/<saml:Audience>([^<]*)</g)].map((m) => m[1]!), now: () => new Date(notBefore.getTime() + 60_000) },
          expect: 'refuse',
        }),
      );
    }
    runAll(cases);
  });

  it('the wrapping and hostile variants of xua.test.ts', () => {
    const forgedBody = (id: string): string => buildAssertion({ ...base(), id, subject: '01010112345' });
    const cases: Case[] = [
      ofAssertion('content changed after signing', () => signed().replace('<saml:NameID>13116900216</saml:NameID>', '<saml:NameID>01010112345</saml:NameID>'), { expect: 'refuse', fast: true }),
      ofAssertion('a foreign key with its own certificate in KeyInfo', () => signAssertion(buildAssertion(base()), attackerKey), { expect: 'refuse', fast: true }),
      ofAssertion('a foreign key naming the genuine certificate', () => signAssertion(buildAssertion(base()), { key: attackerKey.key, cert: issuerKey.cert }), { expect: 'refuse', fast: true }),
      ofEnvelope('a second, unsigned assertion after the signed one', () => soapEnvelope(signed(), { securityExtra: buildAssertion({ ...base(), subject: '01010112345' }) }), { expect: 'refuse' }),
      ofEnvelope('a second, unsigned assertion before the signed one', () => soapEnvelope(buildAssertion({ ...base(), subject: '01010112345' }), { securityExtra: signed() }), { expect: 'refuse' }),
      ofAssertion('the genuine assertion in a ds:Object of a forged one', () => {
        const genuine = signed();
        return forgedBody(idOf(genuine)).replace('</saml:Issuer>', `</saml:Issuer>${signatureOf(genuine).replace('</Signature>', `<Object>${genuine}</Object></Signature>`)}`);
      }, { expect: 'refuse' }),
      ofEnvelope('the genuine assertion in an Extensions element beside a forged one', () => {
        const genuine = signed();
        return soapEnvelope(forgedBody(idOf(genuine)).replace('</saml:Issuer>', `</saml:Issuer>${signatureOf(genuine)}`), {
          securityExtra: `<Extensions xmlns="urn:example:wrap">${genuine}</Extensions>`,
        });
      }, { expect: 'refuse' }),
      ofEnvelope('a forged assertion with the genuine signature and ID, the genuine one in the Body', () => {
        const genuine = signed();
        return soapEnvelope(forgedBody(idOf(genuine)).replace('</saml:Issuer>', `</saml:Issuer>${signatureOf(genuine)}`), { body: `<Wrapper xmlns="urn:example:wrap">${genuine}</Wrapper>` });
      }, { expect: 'refuse', fast: true }),
      ofEnvelope('a forged assertion with the genuine signature and another ID, the genuine one in the Body', () => {
        const genuine = signed();
        return soapEnvelope(forgedBody('_forged').replace('</saml:Issuer>', `</saml:Issuer>${signatureOf(genuine)}`), { body: `<Wrapper xmlns="urn:example:wrap">${genuine}</Wrapper>` });
      }, { expect: 'refuse' }),
      ofEnvelope('the assertion ID on a wsu:Timestamp too', () => {
        const genuine = signed();
        return soapEnvelope(genuine, { securityExtra: `<wsu:Timestamp wsu:Id="${idOf(genuine)}"><wsu:Created>${NOW.toISOString()}</wsu:Created></wsu:Timestamp>` });
      }, { expect: 'refuse' }),
      ofAssertion('the assertion ID inside the assertion too', () => {
        const genuine = signed();
        return genuine.replace('<saml:Subject>', `<saml:Subject><saml:SubjectConfirmationData xmlns:saml="${SAML}" ID="${idOf(genuine)}"/>`);
      }, { expect: 'refuse' }),
      ofAssertion('the signature moved into saml:Advice', () => {
        const genuine = signed();
        const signature = signatureOf(genuine);
        return genuine.replace(signature, '').replace('<saml:Subject>', `<saml:Advice>${signature}</saml:Advice><saml:Subject>`);
      }, { expect: 'refuse' }),
      ofAssertion('inclusive canonicalization', () =>
        signed().replace(`<CanonicalizationMethod Algorithm="${EXC}"/>`, '<CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>'), { expect: 'refuse' }),
      ofAssertion('contradictory patient ids, genuinely signed', () =>
        signed({ ...base(), attributes: [...base().attributes, { name: 'urn:oasis:names:tc:xacml:1.0:resource:resource-id', values: ['01010112345^^^&2.16.578.1.12.4.1.4.1&ISO'] }] }),
        { expect: 'refuse', fast: true }),
      ofAssertion('an issuer not on the allow-list', () => signed(), { options: { issuers: ['https://other.example'] }, expect: 'refuse', fast: true }),
      ofAssertion('an expired assertion within and beyond the skew', () => signed({ ...base(), notOnOrAfter: new Date(NOW.getTime() - 240_000) }), {
        options: { clockSkewSeconds: 60 },
        expect: 'refuse',
        fast: true,
      }),
      ofEnvelope('no wsse:Security', () => soapEnvelope(signed()).replace(/<wsse:Security[\s\S]*<\/wsse:Security>/, ''), { expect: 'refuse' }),
      ofEnvelope('an expired wsu:Timestamp', () =>
        soapEnvelope(signed(), { timestamp: { created: new Date(NOW.getTime() - 900_000), expires: new Date(NOW.getTime() - 400_000) } }), { expect: 'refuse' }),
      { name: 'a header parsed from another envelope', input: () => ({ header: headerOf(soapEnvelope(signed())), rawEnvelope: soapEnvelope(signed()) }), expect: 'refuse' },
      ofAssertion('a foreign signature when KeyInfo names a pinned certificate, two pins', () =>
        signAssertion(buildAssertion(base()), { key: attackerKey.key, cert: issuerKey.cert }), { options: { certificates: [ISSUER_PEM, ATTACKER_PEM] }, expect: 'refuse', fast: true }),
      ofAssertion('KeyInfo names an unpinned certificate, the signature is the pinned key’s', () =>
        signAssertion(buildAssertion(base()), { key: issuerKey.key, cert: attackerKey.cert }), { options: { certificates: [ISSUER_PEM, ISSUER_PEM] }, expect: 'accept', fast: true }),
    ];
    runAll(cases);
  });

  it('the hostile variants of xua-robust.test.ts', () => {
    const keyInfo = (g: string): string => /<KeyInfo>[\s\S]*<\/KeyInfo>/.exec(g)![0];
    const signatureValue = (g: string): string => /<SignatureValue>[\s\S]*<\/SignatureValue>/.exec(g)![0];
    const edits: [string, (g: string) => string][] = [
      ['a foreign SignedInfo before the real one', (g) => g.replace('<SignedInfo>', '<x:SignedInfo xmlns:x="urn:x"/><SignedInfo>')],
      ['a foreign SignedInfo after the real one', (g) => g.replace('</SignedInfo>', '</SignedInfo><x:SignedInfo xmlns:x="urn:x"/>')],
      ['an empty DigestValue', (g) => g.replace(/<DigestValue>[^<]*<\/DigestValue>/, '<DigestValue/>')],
      ['a blank DigestValue', (g) => g.replace(/<DigestValue>[^<]*<\/DigestValue>/, '<DigestValue>  \n </DigestValue>')],
      ['a second ds DigestValue', (g) => g.replace(/(<DigestValue>[^<]*<\/DigestValue>)/, '$1$1')],
      ['a second foreign DigestValue', (g) => g.replace(/(<DigestValue>[^<]*<\/DigestValue>)/, '$1<x:DigestValue xmlns:x="urn:x">AAAA</x:DigestValue>')],
      ['a foreign WithComments CanonicalizationMethod before SignedInfo', (g) => g.replace('<SignedInfo>', `<x:CanonicalizationMethod xmlns:x="urn:x" Algorithm="${WITH_COMMENTS}"/><SignedInfo>`)],
      ['a ds WithComments CanonicalizationMethod before SignedInfo', (g) => g.replace('<SignedInfo>', `<CanonicalizationMethod Algorithm="${WITH_COMMENTS}"/><SignedInfo>`)],
      ['a foreign element in ds:Signature', (g) => g.replace('</Signature>', '<x:Extra xmlns:x="urn:x"/></Signature>')],
      ['an unknown ds element in ds:Signature', (g) => g.replace('</Signature>', '<Manifest/></Signature>')],
      ['text in ds:Signature', (g) => g.replace('</Signature>', 'hello</Signature>')],
      ['CDATA in ds:Signature', (g) => g.replace('</Signature>', '<![CDATA[ ]]></Signature>')],
      ['a processing instruction in ds:Signature', (g) => g.replace('</Signature>', '<?pi x?></Signature>')],
      ['KeyInfo before SignatureValue', (g) => g.replace(signatureValue(g), '').replace(keyInfo(g), `${keyInfo(g)}${signatureValue(g)}`)],
      ['no SignatureValue', (g) => g.replace(signatureValue(g), '')],
      ['two KeyInfo', (g) => g.replace(keyInfo(g), `${keyInfo(g)}${keyInfo(g)}`)],
      ['an Object before KeyInfo', (g) => g.replace(keyInfo(g), `<Object/>${keyInfo(g)}`)],
      ['two CanonicalizationMethods', (g) => g.replace(/(<CanonicalizationMethod [^>]*\/>)/, '$1$1')],
      ['SignatureMethod first', (g) => g.replace(/(<CanonicalizationMethod [^>]*\/>)(<SignatureMethod [^>]*\/>)/, '$2$1')],
      ['a foreign Reference', (g) => g.replace('</SignedInfo>', '<x:Reference xmlns:x="urn:x" URI=""/></SignedInfo>')],
      ['a foreign DigestMethod before the real one', (g) => g.replace('<DigestMethod ', `<x:DigestMethod xmlns:x="urn:x" Algorithm="${DS}sha1"/><DigestMethod `)],
      ['a foreign Transform', (g) => g.replace('</Transforms>', '<x:Transform xmlns:x="urn:x" Algorithm="urn:x"/></Transforms>')],
      ['a second Transforms', (g) => g.replace(/(<Transforms>[\s\S]*<\/Transforms>)/, '$1$1')],
      ['no Transforms', (g) => g.replace(/<Transforms>[\s\S]*<\/Transforms>/, '')],
      ['a foreign InclusiveNamespaces', (g) => g.replace(`<Transform Algorithm="${EXC}"/>`, `<Transform Algorithm="${EXC}"><x:InclusiveNamespaces xmlns:x="urn:x" PrefixList="saml"/></Transform>`)],
      ['a parameter of SignatureMethod', (g) => g.replace(/<SignatureMethod ([^>]*)\/>/, '<SignatureMethod $1><HMACOutputLength>8</HMACOutputLength></SignatureMethod>')],
      ['a comment in the DigestValue', (g) => g.replace(/<DigestValue>([^<]*)<\/DigestValue>/, '<DigestValue>$1<!--x--></DigestValue>')],
      ['a comment in the SignatureValue', (g) => g.replace(/<SignatureValue>([^<]*)<\/SignatureValue>/, '<SignatureValue><!--x-->$1</SignatureValue>')],
      ['exclusive c14n before enveloped-signature', (g) => g.replace(/(<Transform [^>]*enveloped-signature"\/>)(<Transform [^>]*\/>)/, '$2$1')],
    ];
    const lookalikes: [string, string][] = [
      ['CanonicalizationMethod', `<x:CanonicalizationMethod xmlns:x="urn:x" Algorithm="${WITH_COMMENTS}"/>`],
      ['SignatureMethod', `<x:SignatureMethod xmlns:x="urn:x" Algorithm="${DS}rsa-sha1"/>`],
      ['SignatureValue', '<x:SignatureValue xmlns:x="urn:x">AAAA</x:SignatureValue>'],
      ['KeyInfo', '<x:KeyInfo xmlns:x="urn:x"/>'],
    ];
    for (const [name, el] of lookalikes) {
      edits.push([`a look-alike ${name} in KeyInfo`, (g) => g.replace('</KeyInfo>', `${el}</KeyInfo>`)]);
      edits.push([`a look-alike ${name} in an Object`, (g) => g.replace('</Signature>', `<Object>${el}</Object></Signature>`)]);
    }
    const cases: Case[] = edits.map(([name, edit]) => ofAssertion(name, () => edit(signed()), { expect: 'refuse' }));
    cases.push(
      ofAssertion('a second SignedInfo in an attribute value', () =>
        signed({ ...base(), attributes: [...base().attributes, { name: 'urn:example:x', values: [], xmlValues: ['<x:SignedInfo xmlns:x="urn:x"/>'] }] }), { expect: 'refuse' }),
      ofAssertion('layout whitespace, comments and an Object where XML-DSig allows them', () =>
        signed()
          .replace('<SignedInfo>', '\n  <!-- signed info -->\n  <SignedInfo>')
          .replace('<Reference ', '<!-- the one reference --><Reference ')
          .replace('<SignatureValue>', '\n  <!-- value -->\n  <SignatureValue>')
          .replace('</Signature>', '\n  <Object Id="extra"/>\n</Signature>'), { expect: 'accept', fast: true }),
      ofAssertion('an InclusiveNamespaces PrefixList on SignedInfo (xml-crypto signer)', () => signWith({ signedInfo: ['saml'] }), { expect: 'accept', fast: true }),
      ofAssertion('an InclusiveNamespaces PrefixList on every Transform (xml-crypto signer)', () => signWith({ reference: ['saml'] }), { expect: 'refuse' }),
      // Signed on its own, verified inside an envelope that binds `a`: the listed prefix is then
      // rendered in SignedInfo's canonical form, which the signature did not cover.
      ofAssertion('a SignedInfo PrefixList naming a prefix only the envelope binds', () => signWith({ signedInfo: ['a'] }), { expect: 'refuse', fast: true }),
      ofRawText('an unsigned forgery with "--" in a comment', () => envelope(buildAssertion(base())), (c) => c.replace('<saml:Subject>', '<!-- a -- b --><saml:Subject>'), { expect: 'refuse' }),
      ...['<saml:Subject>', '<SignedInfo>', '</Signature>'].map((where) =>
        ofRawText(`a signed assertion with "--" in a comment before ${where}`, () => envelope(signed()), (c) => c.replace(where, `<!--x--y-->${where}`), { expect: 'refuse' }),
      ),
    );
    runAll(cases);
  });

  describe('generated mutations, tampered and re-signed by xml-crypto', () => {
    const mutations: [string, (a: string) => string][] = [
      ['single quotes around attribute values', (a) => a.replace(/ (NotBefore|NotOnOrAfter|Method|Name)="([^"]*)"/g, " $1='$2'")],
      ['whitespace inside start and end tags', (a) => a.replace('<saml:Conditions ', '<saml:Conditions\n\t ').replace('</saml:Subject>', '</saml:Subject \n>').replace(' NotOnOrAfter="', ' NotOnOrAfter =\t"')],
      ['the assertion’s attributes reordered', (a) => a.replace(/<saml:Assertion xmlns:saml="([^"]*)" ID="([^"]*)" IssueInstant="([^"]*)" Version="2.0">/, '<saml:Assertion Version="2.0" IssueInstant="$3" xmlns:saml="$1" ID="$2">')],
      ['an empty element written with an end tag', (a) => a.replace(/<saml:SubjectConfirmation ([^>]*)\/>/, '<saml:SubjectConfirmation $1></saml:SubjectConfirmation>')],
      ['character references for plain characters', (a) => a.replace('KVART', '&#75;V&#x41;RT')],
      ['a character reference to CR in text', (a) => a.replace('KVART', 'KV&#13;ART')],
      ['CR LF line ends', (a) => a.replace(/\n/g, '\r\n')],
      ['CR line ends', (a) => a.replace(/\n/g, '\r')],
      ['comments in the signed content', (a) => a.replace('<saml:Subject>', '<!-- before --><saml:Subject><!---->').replace('KVART', 'KV<!-- in text -->ART')],
      ['a redundant redeclaration of saml on a child', (a) => a.replace('<saml:Subject>', `<saml:Subject xmlns:saml="${SAML}">`)],
      ['an unused namespace declared', (a) => a.replace('<saml:Subject>', '<saml:Subject xmlns:unused="urn:unused">')],
      ['> unescaped and " escaped in text', (a) => a.replace(/&gt;/g, '>').replace(/"Lege"/, '&quot;Lege&quot;')],
      ['a CDATA section for text', (a) => a.replace('<saml:NameID>13116900216</saml:NameID>', '<saml:NameID><![CDATA[13116900216]]></saml:NameID>')],
      ['an empty CDATA section', (a) => a.replace('<saml:Subject>', '<saml:Subject><![CDATA[]]>')],
      ['a processing instruction', (a) => a.replace('<saml:Subject>', '<saml:Subject><?pi data?>')],
      [']]> in text', (a) => a.replace('KVART', 'KV]]>ART')],
      ['the saml prefix renamed', (a) => a.replace(/(<\/?)saml:/g, '$1s2:').replace('xmlns:saml=', 'xmlns:s2=')],
      ['a default namespace for SAML, no prefix', (a) => a.replace(/(<\/?)saml:/g, '$1').replace('xmlns:saml=', 'xmlns=')],
      ['an unprefixed no-namespace element under the SAML default namespace', (a) => a.replace(/(<\/?)saml:/g, '$1').replace('xmlns:saml=', 'xmlns=').replace('<Subject>', '<Subject><plain xmlns=""><inner>x</inner></plain>')],
      ['an xmlns="" undeclaration on a child', (a) => a.replace('<saml:Subject>', '<saml:Subject><plain xmlns="">x</plain>')],
      ['xml:lang and xml:space attributes', (a) => a.replace('<saml:Issuer>', '<saml:Issuer xml:lang="nb">').replace('<saml:Subject>', '<saml:Subject xml:space="preserve">')],
      ['non-ASCII, astral and separator characters in text', (a) => a.replace('KVART GREVLING', 'Ærlig Øvergård 😀 \u2028 ñ \u00a0')],
      ['an attribute value with quotes, newline, tab, CR, < and & as references', (a) => a.replace('<saml:Subject>', '<saml:Subject Extra="a&quot;b&#10;c&#9;d&lt;e&amp;f>g\'h&#13;i">')],
      ['an attribute value with a literal newline, tab and CR LF', (a) => a.replace('<saml:Subject>', '<saml:Subject Extra="a\nb\tc\r\nd">')],
      ['namespaced attributes in several namespaces', (a) => a.replace('<saml:Subject>', '<saml:Subject xmlns:b="urn:b" xmlns:a="urn:a" b:x="1" a:y="2" z="3" a:a="0" Z="4">')],
      ['prefixes ordered differently by locale and by code point', (a) => a.replace('<saml:Subject>', '<saml:Subject xmlns:B="urn:B" xmlns:a="urn:a" xmlns:_u="urn:u" xmlns:a-b="urn:ab" xmlns:a_b="urn:a_b" xmlns:A1="urn:A1" B:x="1" a:y="2" _u:z="3" a-b:w="4" a_b:v="5" A1:t="6">')],
      ['attribute namespaces of which one is a prefix of the other', (a) => a.replace('<saml:Subject>', '<saml:Subject xmlns:p="urn:a" xmlns:q="urn:ab" p:z="1" q:c="2">')],
      ['a prefix bound to two namespaces at two levels', (a) => a.replace('<saml:Subject>', '<saml:Subject xmlns:x="urn:x1" x:a="1">').replace('<saml:NameID>', '<saml:NameID xmlns:x="urn:x2" x:b="2">')],
      ['a prefixed element of its own namespace inside the assertion', (a) => a.replace('<saml:Subject>', '<saml:Subject><e:ext xmlns:e="urn:ext" e:flag="1"><e:inner/></e:ext>')],
      ['a default namespace on a child element', (a) => a.replace('<saml:Subject>', '<saml:Subject><ext xmlns="urn:ext" flag="1"><inner/><saml:NameID>x</saml:NameID></ext>')],
      ['an attribute named xmlnsx', (a) => a.replace('<saml:Subject>', '<saml:Subject xmlnsx="1">')],
      ['a prefixed ID attribute carrying the assertion ID', (a) => a.replace('<saml:Subject>', `<saml:Subject xmlns:x="urn:x" x:ID="${idOf(a)}">`)],
      ['a child of the assertion named CanonicalizationMethod', (a) => a.replace('<saml:Subject>', '<x:CanonicalizationMethod xmlns:x="urn:x"><x:InclusiveNamespaces PrefixList="x"/></x:CanonicalizationMethod><saml:Subject>')],
      ['a namespace name with & in it', (a) => a.replace('<saml:Subject>', '<saml:Subject xmlns:amp="urn:a&amp;b" amp:x="1">')],
      ['a namespaced Algorithm attribute on DigestMethod', (a) => a.replace('<DigestMethod ', `<DigestMethod xmlns:x="urn:x" x:Algorithm="${DS}sha1" `)],
      ['the enveloped-signature transform alone', (a) => a.replace(`<Transform Algorithm="${EXC}"/>`, '')],
      ['ec:InclusiveNamespaces on the exclusive c14n transform, prefixes declared on the assertion', (a) =>
        a.replace(`<Transform Algorithm="${EXC}"/>`, `<Transform Algorithm="${EXC}"><InclusiveNamespaces xmlns="${EXC}" PrefixList="xsi unused saml"/></Transform>`)
          .replace('<saml:Assertion ', '<saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:unused="urn:unused" ')],
      ['ec:InclusiveNamespaces on SignedInfo naming a prefix the assertion declares', (a) =>
        a.replace(`<CanonicalizationMethod Algorithm="${EXC}"/>`, `<CanonicalizationMethod Algorithm="${EXC}"><InclusiveNamespaces xmlns="${EXC}" PrefixList="saml xsi absent"/></CanonicalizationMethod>`)
          .replace('<saml:Assertion ', '<saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ')],
      ['an InclusiveNamespaces PrefixList with a double space', (a) => a.replace(`<CanonicalizationMethod Algorithm="${EXC}"/>`, `<CanonicalizationMethod Algorithm="${EXC}"><InclusiveNamespaces xmlns="${EXC}" PrefixList="saml  xsi"/></CanonicalizationMethod>`)],
      ['an InclusiveNamespaces PrefixList with #default', (a) => a.replace(`<Transform Algorithm="${EXC}"/>`, `<Transform Algorithm="${EXC}"><InclusiveNamespaces xmlns="${EXC}" PrefixList="#default saml"/></Transform>`)],
      ['an InclusiveNamespaces without PrefixList', (a) => a.replace(`<CanonicalizationMethod Algorithm="${EXC}"/>`, `<CanonicalizationMethod Algorithm="${EXC}"><InclusiveNamespaces xmlns="${EXC}"/></CanonicalizationMethod>`)],
      ['a SignatureValue broken into lines', (a) => a.replace(/<SignatureValue>([^<]*)<\/SignatureValue>/, (_m, v: string) => `<SignatureValue>\n${v.match(/.{1,64}/g)!.join('\r\n')}\n</SignatureValue>`)],
      ['a DigestValue with whitespace around it', (a) => a.replace(/<DigestValue>([^<]*)<\/DigestValue>/, '<DigestValue>\n  $1\n</DigestValue>')],
      ['a character reference in the SignatureValue', (a) => a.replace(/<SignatureValue>(.)/, '<SignatureValue>&#$1;').replace(/&#(.);/, (_m, c: string) => `&#${c.charCodeAt(0)};`)],
      ['ds prefix redeclared on SignedInfo', (a) => a.replace('<SignedInfo>', `<SignedInfo xmlns="${DS}">`)],
      ['a space added in signed text', (a) => a.replace('<saml:NameID>13116900216', '<saml:NameID> 13116900216')],
      ['layout whitespace removed', (a) => a.replace(/>\s+</g, '><')],
      ['the Issuer changed', (a) => a.replace('https://idp.test.koblingspunkt.example', 'https://idp.test.koblingspunkt.example/')],
    ];
    for (const [name, mutate] of mutations) {
      it(name, () => {
        const genuine = signed();
        runAll([
          ofAssertion(`${name} (tampered)`, () => mutate(genuine), {}, () => genuine),
          ofAssertion(`${name} (re-signed by xml-crypto)`, () => resign(mutate(genuine)), {}, () => genuine),
        ]);
      });
    }

    it('mutations xml-crypto accepts are accepted by the fast path itself', () => {
      // The ones whose re-signed form the fast path must decide and accept itself: all but those it
      // leaves to xml-crypto by design, and a changed issuer (refused by the allow-list).
      const leftToXmlCrypto = new Set([
        'a CDATA section for text',
        'an empty CDATA section',
        'a processing instruction',
        ']]> in text',
        'an unprefixed no-namespace element under the SAML default namespace',
        'an xmlns="" undeclaration on a child',
        'an attribute named xmlnsx',
        'a prefixed ID attribute carrying the assertion ID',
        'a child of the assertion named CanonicalizationMethod',
        'a namespace name with & in it',
        'the enveloped-signature transform alone',
        'an InclusiveNamespaces PrefixList with a double space',
        'an InclusiveNamespaces PrefixList with #default',
        'an InclusiveNamespaces without PrefixList',
        'a character reference in the SignatureValue',
        'a namespaced Algorithm attribute on DigestMethod',
        'non-ASCII, astral and separator characters in text',
        'the Issuer changed',
      ]);
      runAll(
        mutations
          .filter(([name]) => !leftToXmlCrypto.has(name))
          .map(([name, mutate]) => ofAssertion(`${name} (re-signed)`, () => resign(mutate(signed())), { expect: 'accept', fast: true })),
      );
    });

    it('150 assertions carrying random XML (namespaces, prefixes, attributes, text), signed by xml-crypto', () => {
      const random = mulberry32(19);
      const cases: Case[] = [];
      for (let k = 0; k < 150; k++) {
        const fragment = randomFragment(random);
        const options = { ...base(), attributes: [...base().attributes, { name: 'urn:example:random', values: [], xmlValues: [fragment.xml] }] };
        // Every third one with InclusiveNamespaces PrefixLists of random prefixes, some of them
        // also declared on the assertion itself.
        const lists = k % 3 === 0 ? { signedInfo: randomPrefixes(random), reference: randomPrefixes(random) } : undefined;
        const rootDeclarations = lists
          ? randomPrefixes(random)
              .filter((p) => p !== 'saml')
              .map((p, i) => ` xmlns:${p}="${NAMESPACES[i % NAMESPACES.length]}"`)
              .join('')
          : '';
        const assertion = (): string => {
          const unsigned = buildAssertion(options).replace('<saml:Assertion ', `<saml:Assertion${rootDeclarations} `);
          return lists ? signWithLists(unsigned, lists) : signAssertion(unsigned, issuerKey);
        };
        cases.push(ofAssertion(`random fragment ${k}${lists ? ` (PrefixLists ${JSON.stringify(lists)})` : ''}: ${fragment.xml.slice(0, 120)}`, assertion, {
          expect: 'accept',
          fast: !fragment.leftToXmlCrypto,
        }));
      }
      runAll(cases);
    });

    it('a signed assertion with every byte flip at 240 positions', () => {
      const genuine = signed();
      const cases: Case[] = [];
      for (let k = 0; k < 240; k++) {
        const i = Math.floor(((k + 0.5) * genuine.length) / 240);
        const flipped = genuine.slice(0, i) + String.fromCharCode(genuine.charCodeAt(i) ^ 1) + genuine.slice(i + 1);
        cases.push(ofAssertion(`byte ${i} (${JSON.stringify(genuine[i])}) flipped`, () => flipped, {}, () => genuine));
      }
      runAll(cases);
    });
  });
});

/** An assertion signed by xml-crypto's signer with InclusiveNamespaces PrefixLists (SignedInfo, reference). */
function signWith(lists: { signedInfo?: string[]; reference?: string[] }): string {
  const sig = new SignedXml({
    privateKey: issuerKey.key,
    publicCert: issuerKey.cert,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: EXC,
    inclusiveNamespacesPrefixList: lists.signedInfo ?? [],
  });
  sig.addReference({
    xpath: "/*[local-name(.)='Assertion']",
    transforms: [`${DS}enveloped-signature`, EXC],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
    inclusiveNamespacesPrefixList: lists.reference ?? [],
  });
  sig.computeSignature(buildAssertion(base()), { location: { reference: "/*/*[local-name(.)='Issuer']", action: 'after' } });
  return sig.getSignedXml();
}

/** A small seeded PRNG (mulberry32): the same cases on every run. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PREFIXES = ['a', 'b', 'B', '_x', 'a-b', 'a_b', 'A1', 'saml', 'z.z'];
const NAMESPACES = ['urn:a', 'urn:ab', 'urn:b', 'urn:B', SAML, 'http://example.org/x?y=1#f', 'urn:a:b'];
/** Text pieces, written escaped or as references: markup characters, whitespace, non-ASCII, astral. */
const TEXT = ['x', ' ', '\n', '\t', '&amp;', '&lt;', '&gt;', '>', '"', "'", '&#13;', '&#x9;', '&#65;', 'Æøå', '😀', '\u00a0', 'ﬀ', '&quot;', '&apos;'];
/** Attribute value pieces for a "…"-quoted value. */
const VALUE = ['v', ' ', '&quot;', "'", '&lt;', '>', '&amp;', '&#10;', '&#9;', '&#13;', '\t', '\n', 'Ø', '😀'];

/**
 * A random well-formed fragment: nested elements of random prefixes (declared where first used,
 * sometimes redundantly or rebound), default namespaces, prefixed and unprefixed attributes of
 * distinct local names, mixed text, comments, and now and then a CDATA section (which the fast
 * path leaves to xml-crypto).
 */
function randomFragment(random: () => number): { xml: string; leftToXmlCrypto: boolean } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  let leftToXmlCrypto = false;
  let attrCount = 0;
  const element = (depth: number, scope: ReadonlyMap<string, string>): string => {
    const declarations = new Map<string, string>();
    const declare = (prefix: string): void => {
      if (!declarations.has(prefix)) declarations.set(prefix, pick(NAMESPACES));
    };
    const bound = (prefix: string): boolean => declarations.has(prefix) || scope.has(prefix);
    const prefix = random() < 0.6 ? pick(PREFIXES) : '';
    if (prefix && (!bound(prefix) || random() < 0.2)) declare(prefix);
    if (random() < 0.25) declarations.set('', pick(NAMESPACES));
    if (random() < 0.2) declare(pick(PREFIXES));
    const attrs: string[] = [];
    const n = Math.floor(random() * 4);
    for (let i = 0; i < n; i++) {
      const r = random();
      let p = '';
      if (r < 0.45) {
        p = pick(PREFIXES);
        if (!bound(p)) declare(p);
      } else if (r < 0.55) p = 'xml';
      const value = Array.from({ length: Math.floor(random() * 5) }, () => pick(VALUE)).join('');
      const local = p === 'xml' ? pick(['lang', 'space', 'base']) : `at${attrCount++}`;
      if (p === 'xml' && attrs.some((a) => a.startsWith(` xml:${local}=`))) continue;
      attrs.push(` ${p ? `${p}:` : ''}${local}="${value}"`);
    }
    const decls = [...declarations].map(([p, uri]) => (p ? ` xmlns:${p}="${uri}"` : ` xmlns="${uri}"`));
    // Declarations and attributes in a random order.
    const all = [...decls, ...attrs].sort(() => random() - 0.5).join('');
    const name = `${prefix ? `${prefix}:` : ''}e${depth}`;
    const inner = new Map(scope);
    for (const [p, uri] of declarations) inner.set(p, uri);
    let content = '';
    const parts = depth < 3 ? Math.floor(random() * 4) : 0;
    for (let i = 0; i < parts; i++) {
      const r = random();
      if (r < 0.45) content += element(depth + 1, inner);
      else if (r < 0.8) content += Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(TEXT)).join('');
      else if (r < 0.93) content += `<!--${pick(['', ' c ', 'a-b', '<x>'])}-->`;
      else {
        content += `<![CDATA[${pick(['', 'a<b', ']]', '&amp;'])}]]>`;
        leftToXmlCrypto = true;
      }
    }
    return content === '' && random() < 0.5 ? `<${name}${all}/>` : `<${name}${all}>${content}</${name}>`;
  };
  return { xml: element(0, new Map([['saml', SAML]])), leftToXmlCrypto };
}

/**
 * One to three distinct prefixes of PREFIXES, but never `a`: the envelope binds it (WS-Addressing),
 * and a listed prefix bound around the assertion is rendered from there, so an assertion signed
 * on its own with `a` listed does not verify inside the envelope (on either path; a case of its own).
 */
function randomPrefixes(random: () => number): string[] {
  const n = 1 + Math.floor(random() * 3);
  const usable = PREFIXES.filter((p) => p !== 'a');
  return [...new Set(Array.from({ length: n }, () => usable[Math.floor(random() * usable.length)]!))];
}

/**
 * `unsigned` signed by xml-crypto with PrefixLists on SignedInfo and on the reference's exclusive
 * c14n transform. Its signer writes the reference's list into the enveloped-signature transform too
 * (which the verifier refuses), so that one is taken out and SignedInfo signed again (resign()).
 */
function signWithLists(unsigned: string, lists: { signedInfo: string[]; reference: string[] }): string {
  const sig = new SignedXml({
    privateKey: issuerKey.key,
    publicCert: issuerKey.cert,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: EXC,
    inclusiveNamespacesPrefixList: lists.signedInfo,
  });
  sig.addReference({
    xpath: "/*[local-name(.)='Assertion']",
    transforms: [`${DS}enveloped-signature`, EXC],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
    inclusiveNamespacesPrefixList: lists.reference,
  });
  sig.computeSignature(unsigned, { location: { reference: "/*/*[local-name(.)='Issuer']", action: 'after' } });
  const both = sig.getSignedXml();
  const enveloped = `${DS}enveloped-signature`;
  const fixed = both.replace(new RegExp(`<Transform Algorithm="${enveloped}"><InclusiveNamespaces [^>]*/></Transform>`), `<Transform Algorithm="${enveloped}"/>`);
  if (fixed === both) throw new Error('the signer wrote no InclusiveNamespaces into the enveloped-signature transform');
  return resign(fixed);
}
