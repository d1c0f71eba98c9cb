/**
 * XUA verification fails closed and quietly (issue 14, item 3): input that makes the XML parser or
 * xml-crypto throw is a wsse SOAP fault, never another exception; the algorithms checked are the
 * ones xml-crypto uses, because the ds:Signature must be exactly the XML-DSig structure; an expired
 * wsu:Timestamp is wsse:MessageExpired; and with several pinned certificates the one KeyInfo names
 * is tried, never a certificate that is only in KeyInfo.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { SignedXml } from 'xml-crypto';
import { SoapFault, WSSE_FAULT } from '../../connector/soap/fault.js';
import { faultCause } from '../../connector/trust/faults.js';
import { buildAssertion, defaultAssertionOptions, FIXTURE_CERTS, signAssertion, soapEnvelope, testKey, type AssertionOptions } from '../../scripts/sign-assertion.js';
import { expectFault, headerOf, ISSUER_PEM, NOW, verifier, verifyEnvelope } from './helpers.js';

const issuerKey = testKey('issuer');
const attackerKey = testKey('attacker');
const ATTACKER_PEM = readFileSync(`${FIXTURE_CERTS}/attacker.pem`, 'utf8');
const base = (): AssertionOptions => defaultAssertionOptions(NOW);
const signed = (o: AssertionOptions = base()): string => signAssertion(buildAssertion(o), issuerKey);
const EXC = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const WITH_COMMENTS = 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments';

/** Runs the verifier and returns the fault; fails the test on any other outcome (including a non-SoapFault exception). */
function refusal(envelope: string, v = verifier()): SoapFault {
  let thrown: unknown;
  try {
    verifyEnvelope(v, envelope);
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a SoapFault, got another outcome').to.be.instanceOf(SoapFault);
  const fault = thrown as SoapFault;
  expect(fault.code).to.equal('Sender');
  expect(fault.httpStatus).to.equal(400);
  return fault;
}

describe('XUA verification fails closed, never loud', () => {
  describe('what made xmldom or xml-crypto throw is now a wsse:InvalidSecurity fault', () => {
    // The SOAP layer's XML reader refuses "--" in a comment itself now, so these envelopes never
    // reach the verifier over HTTP; the verifier is still handed the raw text with the comment here
    // (the header parsed from the same text without it), so that xmldom's ParseError is proved to
    // end as a fault should the two readers ever disagree.
    const withRawText = (clean: string, dirty: string): { header: ReturnType<typeof headerOf>; rawEnvelope: string } => ({
      header: headerOf(clean),
      rawEnvelope: dirty,
    });

    it('a comment containing "--" in an unsigned forgery', () => {
      const forged = buildAssertion(base());
      const input = withRawText(soapEnvelope(forged), soapEnvelope(forged.replace('<saml:Subject>', '<!-- a -- b --><saml:Subject>')));
      const f = expectFault(() => verifier().verify(input), WSSE_FAULT.invalidSecurity, /not well-formed/);
      expect(f.httpStatus).to.equal(400);
      expect(faultCause(f)).to.match(/comment/);
    });

    it('a comment containing "--" in a signed assertion, inside and outside the signature', () => {
      const genuine = signed();
      for (const where of ['<saml:Subject>', '<SignedInfo>', '</Signature>']) {
        const input = withRawText(soapEnvelope(genuine), soapEnvelope(genuine.replace(where, `<!--x--y-->${where}`)));
        expectFault(() => verifier().verify(input), WSSE_FAULT.invalidSecurity, /not well-formed/);
      }
    });

    it('a foreign-namespace <x:SignedInfo/> beside the real one, before or after it', () => {
      const before = signed().replace('<SignedInfo>', '<x:SignedInfo xmlns:x="urn:x"/><SignedInfo>');
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(before)), WSSE_FAULT.invalidSecurity, /expected ds:SignedInfo, found \{urn:x\}SignedInfo/);
      const after = signed().replace('</SignedInfo>', '</SignedInfo><x:SignedInfo xmlns:x="urn:x"/>');
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(after)), WSSE_FAULT.invalidSecurity, /SignatureValue/);
    });

    it('an empty DigestValue, or one of whitespace only', () => {
      const empty = signed().replace(/<DigestValue>[^<]*<\/DigestValue>/, '<DigestValue/>');
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(empty)), WSSE_FAULT.invalidSecurity, /DigestValue is empty/);
      const blank = signed().replace(/<DigestValue>[^<]*<\/DigestValue>/, '<DigestValue>  \n </DigestValue>');
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(blank)), WSSE_FAULT.invalidSecurity, /DigestValue is empty/);
    });

    it('a second DigestValue, in the ds namespace or another one', () => {
      const twice = signed().replace(/(<DigestValue>[^<]*<\/DigestValue>)/, '$1$1');
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(twice)), WSSE_FAULT.invalidSecurity, /ds:Reference holds an unexpected element/);
      const foreign = signed().replace(/(<DigestValue>[^<]*<\/DigestValue>)/, '$1<x:DigestValue xmlns:x="urn:x">AAAA</x:DigestValue>');
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(foreign)), WSSE_FAULT.invalidSecurity, /\{urn:x\}DigestValue/);
    });

    it('any other exception inside verification (here: the clock) is InvalidSecurity with the error as cause', () => {
      const v = verifier({
        now: () => {
          throw new TypeError('clock\nbroken');
        },
      });
      const f = expectFault(() => verifyEnvelope(v, soapEnvelope(signed())), WSSE_FAULT.invalidSecurity, /could not be processed/);
      expect(f.reason).to.not.contain('clock');
      expect(faultCause(f)).to.equal('TypeError: clock broken');
      const tried = v.tryVerify({ header: headerOf(soapEnvelope(signed())), rawEnvelope: soapEnvelope(signed()) });
      expect('fault' in tried && tried.fault.subcode).to.deep.equal(WSSE_FAULT.invalidSecurity);
    });
  });

  describe('the algorithms checked are the ones xml-crypto uses', () => {
    it('refuses a CanonicalizationMethod …#WithComments injected before SignedInfo (xml-crypto takes the first one anywhere)', () => {
      const injected = signed().replace('<SignedInfo>', `<x:CanonicalizationMethod xmlns:x="urn:x" Algorithm="${WITH_COMMENTS}"/><SignedInfo>`);
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(injected)), WSSE_FAULT.invalidSecurity, /expected ds:SignedInfo/);
      const dsInjected = signed().replace('<SignedInfo>', `<CanonicalizationMethod Algorithm="${WITH_COMMENTS}"/><SignedInfo>`);
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(dsInjected)), WSSE_FAULT.invalidSecurity, /expected ds:SignedInfo/);
    });

    it('refuses look-alikes of searched-for elements inside KeyInfo or an Object', () => {
      const cases: [string, string][] = [
        ['CanonicalizationMethod', `<x:CanonicalizationMethod xmlns:x="urn:x" Algorithm="${WITH_COMMENTS}"/>`],
        ['SignatureMethod', '<x:SignatureMethod xmlns:x="urn:x" Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/>'],
        ['SignatureValue', '<x:SignatureValue xmlns:x="urn:x">AAAA</x:SignatureValue>'],
        ['KeyInfo', '<x:KeyInfo xmlns:x="urn:x"/>'],
      ];
      for (const [name, lookalike] of cases) {
        const inKeyInfo = signed().replace('</KeyInfo>', `${lookalike}</KeyInfo>`);
        expectFault(() => verifyEnvelope(verifier(), soapEnvelope(inKeyInfo)), WSSE_FAULT.invalidSecurity, new RegExp(`second ${name}`));
        const inObject = signed().replace('</Signature>', `<Object>${lookalike}</Object></Signature>`);
        expectFault(() => verifyEnvelope(verifier(), soapEnvelope(inObject)), WSSE_FAULT.invalidSecurity, new RegExp(`second ${name}`));
      }
    });

    it('refuses a second SignedInfo anywhere in the assertion (xml-crypto takes its namespaces from the first)', () => {
      const o = base();
      const extra = { ...o, attributes: [...o.attributes, { name: 'urn:example:x', values: [], xmlValues: ['<x:SignedInfo xmlns:x="urn:x"/>'] }] };
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(signed(extra))), WSSE_FAULT.invalidSecurity, /second SignedInfo/);
    });

    it('refuses ds:Signature children other than SignedInfo, SignatureValue, KeyInfo, Object, or out of that order', () => {
      const genuine = signed();
      const keyInfo = /<KeyInfo>[\s\S]*<\/KeyInfo>/.exec(genuine)![0];
      const signatureValue = /<SignatureValue>[\s\S]*<\/SignatureValue>/.exec(genuine)![0];
      const variants: [string, string, RegExp][] = [
        ['a foreign element', genuine.replace('</Signature>', '<x:Extra xmlns:x="urn:x"/></Signature>'), /unexpected element \{urn:x\}Extra/],
        ['an unknown ds element', genuine.replace('</Signature>', '<Manifest/></Signature>'), /unexpected element .*Manifest/],
        ['text', genuine.replace('</Signature>', 'hello</Signature>'), /may hold only elements/],
        ['CDATA', genuine.replace('</Signature>', '<![CDATA[ ]]></Signature>'), /may hold only elements/],
        ['a processing instruction', genuine.replace('</Signature>', '<?pi x?></Signature>'), /may hold only elements/],
        ['KeyInfo before SignatureValue', genuine.replace(signatureValue, '').replace(keyInfo, `${keyInfo}${signatureValue}`), /expected ds:SignatureValue/],
        ['no SignatureValue', genuine.replace(signatureValue, ''), /expected ds:SignatureValue/],
        ['two KeyInfo', genuine.replace(keyInfo, `${keyInfo}${keyInfo}`), /unexpected element .*KeyInfo/],
        ['an Object before KeyInfo', genuine.replace(keyInfo, `<Object/>${keyInfo}`), /unexpected element .*KeyInfo/],
      ];
      for (const [name, forged, reason] of variants) {
        const f = refusal(soapEnvelope(forged));
        expect(f.subcode, name).to.deep.equal(WSSE_FAULT.invalidSecurity);
        expect(f.reason, name).to.match(reason);
      }
    });

    it('refuses SignedInfo and Reference children out of the XML-DSig structure', () => {
      const genuine = signed();
      const variants: [string, string, RegExp][] = [
        ['two CanonicalizationMethods', genuine.replace(/(<CanonicalizationMethod [^>]*\/>)/, '$1$1'), /expected ds:SignatureMethod/],
        ['SignatureMethod first', genuine.replace(/(<CanonicalizationMethod [^>]*\/>)(<SignatureMethod [^>]*\/>)/, '$2$1'), /expected ds:CanonicalizationMethod/],
        ['a foreign Reference', genuine.replace('</SignedInfo>', '<x:Reference xmlns:x="urn:x" URI=""/></SignedInfo>'), /unexpected element \{urn:x\}Reference/],
        ['a foreign DigestMethod before the real one', genuine.replace('<DigestMethod ', '<x:DigestMethod xmlns:x="urn:x" Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/><DigestMethod '), /expected ds:DigestMethod/],
        ['a foreign Transform', genuine.replace('</Transforms>', '<x:Transform xmlns:x="urn:x" Algorithm="urn:x"/></Transforms>'), /ds:Transforms holds an unexpected element/],
        ['a second Transforms', genuine.replace(/(<Transforms>[\s\S]*<\/Transforms>)/, '$1$1'), /expected ds:DigestMethod/],
        ['no Transforms', genuine.replace(/<Transforms>[\s\S]*<\/Transforms>/, ''), /expected ds:Transforms/],
        ['a foreign InclusiveNamespaces', genuine.replace(`<Transform Algorithm="${EXC}"/>`, `<Transform Algorithm="${EXC}"><x:InclusiveNamespaces xmlns:x="urn:x" PrefixList="saml"/></Transform>`), /may not hold \{urn:x\}InclusiveNamespaces/],
        ['a parameter of SignatureMethod', genuine.replace(/<SignatureMethod ([^>]*)\/>/, '<SignatureMethod $1><HMACOutputLength>8</HMACOutputLength></SignatureMethod>'), /SignatureMethod may not hold/],
        ['markup in the DigestValue', genuine.replace(/<DigestValue>([^<]*)<\/DigestValue>/, '<DigestValue>$1<!--x--></DigestValue>'), /DigestValue may hold only text/],
        ['markup in the SignatureValue', genuine.replace(/<SignatureValue>([^<]*)<\/SignatureValue>/, '<SignatureValue><!--x-->$1</SignatureValue>'), /SignatureValue may hold only text/],
        ['exclusive c14n before enveloped-signature', genuine.replace(/(<Transform [^>]*enveloped-signature"\/>)(<Transform [^>]*\/>)/, '$2$1'), /transforms only/],
      ];
      for (const [name, forged, reason] of variants) {
        const f = refusal(soapEnvelope(forged));
        expect(f.subcode, name).to.deep.equal(WSSE_FAULT.invalidSecurity);
        expect(f.reason, name).to.match(reason);
      }
    });

    it('refuses a namespaced Algorithm attribute in SignedInfo (xml-crypto reads DigestMethod@Algorithm by local name, first one wins)', () => {
      // Without this refusal xml-crypto would digest with x:Algorithm's SHA-1 while the allow-list
      // checked the unprefixed SHA-256 (issue 19).
      const sha1First = signed().replace('<DigestMethod ', '<DigestMethod xmlns:x="urn:x" x:Algorithm="http://www.w3.org/2000/09/xmldsig#sha1" ');
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(sha1First)), WSSE_FAULT.invalidSecurity, /DigestMethod carries an Algorithm attribute in another namespace/);
      const onTransform = signed().replace(`<Transform Algorithm="${EXC}"/>`, `<Transform xmlns:x="urn:x" x:Algorithm="urn:x" Algorithm="${EXC}"/>`);
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(onTransform)), WSSE_FAULT.invalidSecurity, /Transform carries an Algorithm attribute/);
      expectFault(() => verifyEnvelope(verifier({ signaturePath: 'xml-crypto' }), soapEnvelope(sha1First)), WSSE_FAULT.invalidSecurity, /another namespace/);
    });

    it('still accepts a genuine signature with layout whitespace, comments and an Object where XML-DSig allows them', () => {
      // Comments and whitespace between the structural elements are outside what is signed
      // (exclusive c14n drops comments; the enveloped-signature transform drops the Signature).
      const laidOut = signed()
        .replace('<SignedInfo>', '\n  <!-- signed info -->\n  <SignedInfo>')
        // Whitespace inside SignedInfo is signed, a comment is not.
        .replace('<Reference ', '<!-- the one reference --><Reference ')
        .replace('<SignatureValue>', '\n  <!-- value -->\n  <SignatureValue>')
        .replace('</Signature>', '\n  <Object Id="extra"/>\n</Signature>');
      expect(verifyEnvelope(verifier(), soapEnvelope(laidOut)).subjectId).to.equal('13116900216');
    });

    it('accepts an ec:InclusiveNamespaces PrefixList on SignedInfo; refuses parameters on the enveloped-signature transform', () => {
      const signWith = (referencePrefixes: string[]): string => {
        const sig = new SignedXml({
          privateKey: issuerKey.key,
          publicCert: issuerKey.cert,
          signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
          canonicalizationAlgorithm: EXC,
          inclusiveNamespacesPrefixList: ['saml'],
        });
        sig.addReference({
          xpath: "/*[local-name(.)='Assertion']",
          transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', EXC],
          digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
          inclusiveNamespacesPrefixList: referencePrefixes,
        });
        sig.computeSignature(buildAssertion(base()), { location: { reference: "/*/*[local-name(.)='Issuer']", action: 'after' } });
        return sig.getSignedXml();
      };
      const onSignedInfo = signWith([]);
      expect(onSignedInfo).to.match(/<CanonicalizationMethod [^>]*><InclusiveNamespaces PrefixList="saml"/);
      expect(verifyEnvelope(verifier(), soapEnvelope(onSignedInfo)).subjectId).to.equal('13116900216');
      // xml-crypto's signer writes the reference's PrefixList into every Transform, the
      // enveloped-signature one included (in that algorithm's namespace): not XML-DSig, refused.
      const onEveryTransform = signWith(['saml']);
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(onEveryTransform)), WSSE_FAULT.invalidSecurity, /enveloped-signature ds:Transform may not hold/);
    });
  });

  it('an expired wsu:Timestamp is wsse:MessageExpired (HTTP 400)', () => {
    const expired = { created: new Date(NOW.getTime() - 900_000), expires: new Date(NOW.getTime() - 400_000) };
    const f = refusal(soapEnvelope(signed(), { timestamp: expired }));
    expect(f.subcode).to.deep.equal(WSSE_FAULT.messageExpired);
    expect(f.reason).to.match(/Timestamp has expired/);
  });

  describe('several pinned certificates', () => {
    it('verifies whichever pinned certificate KeyInfo names, in any order of the pins', () => {
      const env = soapEnvelope(signed());
      expect(verifyEnvelope(verifier({ certificates: [ATTACKER_PEM, ISSUER_PEM] }), env).subjectId).to.equal('13116900216');
      expect(verifyEnvelope(verifier({ certificates: [ISSUER_PEM, ATTACKER_PEM] }), env).subjectId).to.equal('13116900216');
    });

    it('tries each pinned certificate when KeyInfo names none of them, or is absent', () => {
      const noKeyInfo = signAssertion(buildAssertion(base()), issuerKey, { keyInfo: false });
      expect(noKeyInfo).to.not.contain('KeyInfo');
      expect(verifyEnvelope(verifier({ certificates: [ATTACKER_PEM, ISSUER_PEM] }), soapEnvelope(noKeyInfo)).subjectId).to.equal('13116900216');
      const unpinnedInKeyInfo = signAssertion(buildAssertion(base()), { key: issuerKey.key, cert: attackerKey.cert });
      expect(verifyEnvelope(verifier({ certificates: [ISSUER_PEM] }), soapEnvelope(unpinnedInKeyInfo)).subjectId).to.equal('13116900216');
      expect(verifyEnvelope(verifier({ certificates: [ISSUER_PEM, ISSUER_PEM] }), soapEnvelope(unpinnedInKeyInfo)).subjectId).to.equal('13116900216');
    });

    it('never uses a certificate that is only in KeyInfo', () => {
      const forged = signAssertion(buildAssertion(base()), attackerKey);
      expectFault(() => verifyEnvelope(verifier({ certificates: [ISSUER_PEM] }), soapEnvelope(forged)), WSSE_FAULT.failedAuthentication, /pinned/);
    });

    it('does not fall back to another pin when KeyInfo names a pinned certificate the signature is not from', () => {
      const mislabelled = signAssertion(buildAssertion(base()), { key: attackerKey.key, cert: issuerKey.cert });
      expectFault(() => verifyEnvelope(verifier({ certificates: [ISSUER_PEM, ATTACKER_PEM] }), soapEnvelope(mislabelled)), WSSE_FAULT.failedAuthentication, /pinned/);
    });
  });
});
