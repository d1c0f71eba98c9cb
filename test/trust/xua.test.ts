import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { WSSE_FAULT } from '../../connector/soap/fault.js';
import {
  buildAssertion,
  defaultAssertionOptions,
  hl7Code,
  nistVariant,
  signAssertion,
  soapEnvelope,
  testKey,
  variantAssertion,
  type AssertionOptions,
} from '../../scripts/sign-assertion.js';
import { expectFault, headerOf, NOW, verifier, verifyEnvelope } from './helpers.js';

const issuerKey = testKey('issuer');
const attackerKey = testKey('attacker');
const base = (): AssertionOptions => defaultAssertionOptions(NOW);
const signed = (o: AssertionOptions = base()): string => signAssertion(buildAssertion(o), issuerKey);
const stamp = { created: new Date(NOW.getTime() - 10_000), expires: new Date(NOW.getTime() + 300_000) };

describe('XUA verification (ITI-40)', () => {
  describe('a genuine assertion', () => {
    it('verifies and yields the Principal read from the signed assertion', () => {
      const p = verifyEnvelope(verifier(), soapEnvelope(signed(), { timestamp: stamp }));
      expect(p.issuer).to.equal('https://idp.test.koblingspunkt.example');
      expect(p.subjectId).to.equal('13116900216');
      expect(p.subjectName).to.equal('KVART GREVLING');
      expect(p.hprNumber).to.equal('565505933');
      expect(p.role).to.deep.equal({ code: 'LE', codeSystem: '2.16.578.1.12.4.1.1.9060', displayName: 'Lege' });
      expect(p.purposeOfUse).to.equal('TREAT');
      expect(p.patientId).to.equal('13116900216^^^&2.16.578.1.12.4.1.4.1&ISO');
      expect(p.organizationId).to.deep.equal({ extension: '960510542', root: '2.16.578.1.12.4.1.4.101' });
      expect(p.childOrganizationId).to.deep.equal({ extension: '874593842', root: '2.16.578.1.12.4.1.4.101' });
      expect(p.healthcareService?.code).to.equal('KP01');
      expect(p.decisionRef?.id).to.equal('07b4b65f-a538-4c88-b845-c8fd18702f83');
      expect(p.securityLevel).to.equal('4');
      expect(p.homeCommunityId).to.equal('urn:oid:2.16.578.1.12.4.1.7.1.1');
      expect(p.audiences).to.deep.equal(['urn:koblingspunkt:test']);
      expect(p.notOnOrAfter.toISOString()).to.equal('2026-11-23T13:00:00.000Z');
    });

    it('verifies the raw bytes of a Buffer (UTF-8) as well as a string', () => {
      const env = soapEnvelope(signed({ ...base(), attributes: [{ name: 'urn:oasis:names:tc:xspa:1.0:subject:subject-id', values: ['Ærlig Øystein Åsen'] }] }));
      const p = verifyEnvelope(verifier(), Buffer.from(env, 'utf8'));
      expect(p.subjectName).to.equal('Ærlig Øystein Åsen');
    });

    it('verifies an assertion whose namespace prefix is declared on the Envelope, not on the assertion', () => {
      const assertion = signed().replace(' xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"', '');
      const env = soapEnvelope(assertion).replace('<s:Envelope ', '<s:Envelope xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ');
      expect(verifyEnvelope(verifier(), env).subjectId).to.equal('13116900216');
    });

    it('verifies the committed pretty-printed fixture (CRLF-free layout whitespace inside the signed bytes)', () => {
      const env = readFileSync(new URL('../../fixtures/saml/signed-clinician-envelope.xml', import.meta.url), 'utf8');
      const v = verifier({ now: () => new Date('2026-11-23T12:30:00Z') });
      expect(verifyEnvelope(v, env).role?.code).to.equal('LE');
    });

    it('tolerates NotBefore and NotOnOrAfter within the configured clock skew', () => {
      const o = { ...base(), notBefore: new Date(NOW.getTime() + 240_000), notOnOrAfter: new Date(NOW.getTime() - 240_000 + 3_600_000) };
      expect(verifyEnvelope(verifier(), soapEnvelope(signed(o))).subjectId).to.equal('13116900216');
      const expiredWithinSkew = { ...base(), notOnOrAfter: new Date(NOW.getTime() - 240_000) };
      expect(verifyEnvelope(verifier(), soapEnvelope(signed(expiredWithinSkew))).subjectId).to.equal('13116900216');
      expectFault(() => verifyEnvelope(verifier({ clockSkewSeconds: 60 }), soapEnvelope(signed(expiredWithinSkew))), WSSE_FAULT.failedAuthentication, /expired/);
    });
  });

  describe('the NIST XUA variants', () => {
    const cases: [Parameters<typeof nistVariant>[0], typeof WSSE_FAULT.failedAuthentication, RegExp][] = [
      ['expired', WSSE_FAULT.failedAuthentication, /expired/],
      ['notyetvalid', WSSE_FAULT.failedAuthentication, /not yet valid/],
      ['unsigned', WSSE_FAULT.failedAuthentication, /not signed/],
      ['unknownaudience', WSSE_FAULT.failedAuthentication, /audience/],
      ['invalidauthnstatement', WSSE_FAULT.invalidSecurity, /AuthnInstant/],
      ['secondauthncontext', WSSE_FAULT.invalidSecurity, /exactly one saml:AuthnContext/],
      ['secondpurposeofuse', WSSE_FAULT.invalidSecurity, /more than one purpose of use/],
      ['secondrole', WSSE_FAULT.invalidSecurity, /more than one subject role/],
    ];
    for (const [variant, subcode, reason] of cases) {
      it(`${variant} → SOAP fault ${subcode.local}`, () => {
        const env = soapEnvelope(variantAssertion(variant, base(), issuerKey));
        expectFault(() => verifyEnvelope(verifier(), env), subcode, reason);
      });
    }

    it('withauthzconsent → accepted, with the consent document and access-consent policy', () => {
      const p = verifyEnvelope(verifier(), soapEnvelope(variantAssertion('withauthzconsent', base(), issuerKey)));
      expect(p.consentDocumentId).to.equal('urn:oid:2.16.578.1.12.4.1.7.2.2.1');
      expect(p.accessConsentPolicies).to.deep.equal(['2.16.578.1.12.4.1.7.2.1.8']);
    });
  });

  describe('header structure', () => {
    it('refuses a request without header, without wsse:Security, or with two of them', () => {
      const v = verifier();
      expectFault(() => v.verify({ header: undefined, rawEnvelope: '' }), WSSE_FAULT.invalidSecurity, /no SOAP header/);
      const noSecurity = soapEnvelope(signed()).replace(/<wsse:Security[\s\S]*<\/wsse:Security>/, '');
      expectFault(() => verifyEnvelope(v, noSecurity), WSSE_FAULT.invalidSecurity, /no wsse:Security/);
      const two = soapEnvelope(signed()).replace(
        '</s:Header>',
        '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"/></s:Header>',
      );
      expectFault(() => verifyEnvelope(v, two), WSSE_FAULT.invalidSecurity, /more than one wsse:Security/);
    });

    it('checks the wsu:Timestamp with skew, and requires it only when configured', () => {
      const v = verifier();
      const expired = { created: new Date(NOW.getTime() - 900_000), expires: new Date(NOW.getTime() - 400_000) };
      expectFault(() => verifyEnvelope(v, soapEnvelope(signed(), { timestamp: expired })), WSSE_FAULT.messageExpired, /Timestamp has expired/);
      const future = { created: new Date(NOW.getTime() + 400_000), expires: new Date(NOW.getTime() + 900_000) };
      expectFault(() => verifyEnvelope(v, soapEnvelope(signed(), { timestamp: future })), WSSE_FAULT.failedAuthentication, /in the future/);
      const slightlyAhead = { created: new Date(NOW.getTime() + 200_000), expires: new Date(NOW.getTime() + 900_000) };
      expect(verifyEnvelope(v, soapEnvelope(signed(), { timestamp: slightlyAhead })).subjectId).to.equal('13116900216');
      expectFault(() => verifyEnvelope(verifier({ requireTimestamp: true }), soapEnvelope(signed())), WSSE_FAULT.invalidSecurity, /no wsu:Timestamp/);
      const twice = soapEnvelope(signed(), {
        timestamp: stamp,
        securityExtra: `<wsu:Timestamp><wsu:Created>${NOW.toISOString()}</wsu:Created></wsu:Timestamp>`,
      });
      expectFault(() => verifyEnvelope(v, twice), WSSE_FAULT.invalidSecurity, /more than one wsu:Timestamp/);
    });

    it('refuses an issuer that is not on the allow-list even when the signature is good', () => {
      expectFault(() => verifyEnvelope(verifier({ issuers: ['https://other.example'] }), soapEnvelope(signed())), WSSE_FAULT.failedAuthentication, /issuer/);
    });
  });

  describe('forgeries and signature wrapping', () => {
    it('refuses content changed after signing', () => {
      const tampered = signed().replace('<saml:NameID>13116900216</saml:NameID>', '<saml:NameID>01010112345</saml:NameID>');
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(tampered)), WSSE_FAULT.failedAuthentication, /does not verify/);
    });

    it('refuses an assertion signed by a foreign key that carries its own certificate in KeyInfo', () => {
      const forged = signAssertion(buildAssertion(base()), attackerKey);
      expect(forged).to.contain('<X509Certificate>');
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(forged)), WSSE_FAULT.failedAuthentication, /pinned/);
    });

    it('refuses a foreign signature even when KeyInfo names the genuine issuer certificate', () => {
      const forged = signAssertion(buildAssertion(base()), { key: attackerKey.key, cert: issuerKey.cert });
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(forged)), WSSE_FAULT.failedAuthentication, /pinned/);
    });

    it('refuses a second, unsigned assertion beside the signed one', () => {
      const evil = buildAssertion({ ...base(), subject: '01010112345' });
      const env = soapEnvelope(signed(), { securityExtra: evil });
      expectFault(() => verifyEnvelope(verifier(), env), WSSE_FAULT.invalidSecurity, /more than one SAML assertion/);
      const evilFirst = soapEnvelope(evil, { securityExtra: signed() });
      expectFault(() => verifyEnvelope(verifier(), evilFirst), WSSE_FAULT.invalidSecurity, /more than one SAML assertion/);
    });

    it('refuses the signed assertion moved into an Extensions / ds:Object element of a forged one', () => {
      const genuine = signed();
      const id = /ID="([^"]+)"/.exec(genuine)![1]!;
      const signature = /<Signature[\s\S]*<\/Signature>/.exec(genuine)![0];
      const forgedBody = buildAssertion({ ...base(), id, subject: '01010112345' });
      // The forged assertion carries the genuine signature, whose ds:Object wraps the genuine assertion.
      const wrapped = forgedBody.replace(
        '</saml:Issuer>',
        `</saml:Issuer>${signature.replace('</Signature>', `<Object>${genuine}</Object></Signature>`)}`,
      );
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(wrapped)), WSSE_FAULT.invalidSecurity, /more than one SAML assertion/);
      const inExtensions = soapEnvelope(forgedBody.replace('</saml:Issuer>', `</saml:Issuer>${signature}`), {
        securityExtra: `<Extensions xmlns="urn:example:wrap">${genuine}</Extensions>`,
      });
      expectFault(() => verifyEnvelope(verifier(), inExtensions), WSSE_FAULT.invalidSecurity, /more than one SAML assertion/);
    });

    it('refuses a forged assertion carrying the genuine signature when the genuine one is moved out of the header', () => {
      const genuine = signed();
      const id = /ID="([^"]+)"/.exec(genuine)![1]!;
      const signature = /<Signature[\s\S]*<\/Signature>/.exec(genuine)![0];
      // Same ID: the reference resolves to the forged content, whose digest does not match.
      const sameId = buildAssertion({ ...base(), id, subject: '01010112345' }).replace('</saml:Issuer>', `</saml:Issuer>${signature}`);
      const env = soapEnvelope(sameId, { body: `<Wrapper xmlns="urn:example:wrap">${genuine}</Wrapper>` });
      expectFault(() => verifyEnvelope(verifier(), env), WSSE_FAULT.failedAuthentication, /does not verify/);
      // Another ID: the signature references an assertion that is not the one read.
      const otherId = buildAssertion({ ...base(), id: '_forged', subject: '01010112345' }).replace('</saml:Issuer>', `</saml:Issuer>${signature}`);
      const env2 = soapEnvelope(otherId, { body: `<Wrapper xmlns="urn:example:wrap">${genuine}</Wrapper>` });
      expectFault(() => verifyEnvelope(verifier(), env2), WSSE_FAULT.invalidSecurity, /reference the assertion it is in/);
    });

    it('refuses an assertion ID that occurs twice in the header', () => {
      const genuine = signed();
      const id = /ID="([^"]+)"/.exec(genuine)![1]!;
      const env = soapEnvelope(genuine, { securityExtra: `<wsu:Timestamp wsu:Id="${id}"><wsu:Created>${NOW.toISOString()}</wsu:Created></wsu:Timestamp>` });
      expectFault(() => verifyEnvelope(verifier(), env), WSSE_FAULT.invalidSecurity, /occurs more than once/);
    });

    it('refuses an ID duplicated inside the assertion (the reference could pick either)', () => {
      const genuine = signed();
      const id = /ID="([^"]+)"/.exec(genuine)![1]!;
      const dup = genuine.replace('<saml:Subject>', `<saml:Subject><saml:SubjectConfirmationData xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}"/>`);
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(dup)), WSSE_FAULT.invalidSecurity, /occurs more than once/);
    });

    it('refuses a signature that is not a direct child of the assertion', () => {
      const genuine = signed();
      const signature = /<Signature[\s\S]*<\/Signature>/.exec(genuine)![0];
      const moved = genuine.replace(signature, '').replace('<saml:Subject>', `<saml:Advice>${signature}</saml:Advice><saml:Subject>`);
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(moved)), WSSE_FAULT.invalidSecurity, /direct child/);
    });

    it('refuses RSA-SHA1 unless configured', () => {
      const sha1 = signAssertion(buildAssertion(base()), issuerKey, { algorithm: 'sha1' });
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(sha1)), WSSE_FAULT.invalidSecurity, /signature algorithm not accepted/);
      expect(verifyEnvelope(verifier({ allowSha1: true }), soapEnvelope(sha1)).subjectId).to.equal('13116900216');
    });

    it('refuses inclusive canonicalization', () => {
      const inclusive = signed().replace(
        '<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>',
        '<CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>',
      );
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(inclusive)), WSSE_FAULT.invalidSecurity, /exclusive canonicalization/);
    });

    it('refuses contradictory patient ids in v1 and v2 attribute names', () => {
      const o = base();
      const conflicting = {
        ...o,
        attributes: [...o.attributes, { name: 'urn:oasis:names:tc:xacml:1.0:resource:resource-id', values: ['01010112345^^^&2.16.578.1.12.4.1.4.1&ISO'] }],
      };
      expectFault(() => verifyEnvelope(verifier(), soapEnvelope(signed(conflicting))), WSSE_FAULT.invalidSecurity, /conflicting resource-id/);
    });

    it('accepts the same role spelt in both attribute versions, as NHN sends it', () => {
      const o = base();
      const twice = { ...o, attributes: [...o.attributes, { name: 'urn:oasis:names:tc:xspa:1.0:subject:role', values: [hl7Code('Role', 'LE', 'urn:oid:2.16.578.1.12.4.1.1.9060')] }] };
      expect(verifyEnvelope(verifier(), soapEnvelope(signed(twice))).role?.code).to.equal('LE');
    });
  });

  describe('cache', () => {
    it('serves a repeated assertion from the cache, but re-checks its validity period', () => {
      let now = NOW;
      const v = verifier({ now: () => now });
      const env = soapEnvelope(signed());
      verifyEnvelope(v, env);
      expect(v.cachedCount).to.equal(1);
      expect(verifyEnvelope(v, soapEnvelope(signed({ ...base(), id: /ID="([^"]+)"/.exec(env)![1]! }))).subjectId).to.equal('13116900216');
      now = new Date(NOW.getTime() + 2 * 3_600_000);
      expectFault(() => verifyEnvelope(v, env), WSSE_FAULT.failedAuthentication, /expired/);
    });

    it('never serves other content under a cached ID', () => {
      const v = verifier();
      const genuine = signed();
      verifyEnvelope(v, soapEnvelope(genuine));
      const tampered = genuine.replace('<saml:NameID>13116900216</saml:NameID>', '<saml:NameID>01010112345</saml:NameID>');
      expectFault(() => verifyEnvelope(v, soapEnvelope(tampered)), WSSE_FAULT.failedAuthentication, /does not verify/);
    });

    it('is bounded', () => {
      const v = verifier({ cacheSize: 2 });
      for (let i = 0; i < 4; i++) verifyEnvelope(v, soapEnvelope(signed()));
      expect(v.cachedCount).to.equal(2);
    });
  });

  it('reads the header the SOAP layer parsed, not a different one', () => {
    const env = soapEnvelope(signed());
    const other = soapEnvelope(signed());
    expectFault(() => verifier().verify({ header: headerOf(other), rawEnvelope: env }), WSSE_FAULT.invalidSecurity, /does not match/);
  });
});
