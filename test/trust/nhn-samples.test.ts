/**
 * The NHN sample assertions (fixtures/conformance/nhn-samples) mapped to Principals. Their
 * signatures come from NHN test certificates and their validity has passed, so (as the samples'
 * README says) attribute mapping is tested apart from signature and time checks.
 */
import { expect } from 'chai';
import { WSSE_FAULT } from '../../connector/soap/fault.js';
import { readUnverifiedPrincipal, XuaVerifier } from '../../connector/trust/xua.js';
import { NS } from '../../registry/xml/namespaces.js';
import { parseXml } from '../../registry/xml/parse.js';
import { descendants } from '../../registry/xml/tree.js';
import { expectFault, headerOf, ISSUER_PEM } from './helpers.js';
import { nhnSample } from '../../fixtures/index.js';

const sample = (f: string): string => nhnSample(f).toString('utf8');
/** The sample's assertion: the document itself, or the one inside a SOAP request. */
const principalOf = (f: string) => {
  const root = parseXml(sample(f));
  const assertion = root.ns === NS.saml2 && root.local === 'Assertion' ? root : descendants(root, NS.saml2, 'Assertion')[0]!;
  return readUnverifiedPrincipal(assertion);
};

describe('NHN sample assertions → Principal', () => {
  it('SamlToken01 (HelseID clinician, v1.x and v2.x names together)', () => {
    const p = principalOf('SamlToken01.xml');
    expect(p.issuer).to.equal('https://helseid-xdssaml.test.nhn.no');
    expect(p.subjectId).to.equal('06828399789');
    expect(p.subjectName).to.equal('KVART GREVLING');
    expect(p.hprNumber).to.equal('565505933');
    expect(p.providerIdentifier).to.deep.equal({ extension: '565505933', root: '2.16.578.1.12.4.1.4.4' });
    expect(p.role).to.deep.equal({ code: 'LE', codeSystem: '2.16.578.1.12.4.1.1.9060', displayName: 'Lege' });
    expect(p.purposeOfUse).to.equal('TREAT');
    expect(p.purposeOfUseCode?.codeSystem).to.equal('2.16.840.1.113883.1.11.20448');
    // Sent escaped twice (&amp;amp;): the Principal holds the CX itself.
    expect(p.patientId).to.equal('29698496140^^^&2.16.578.1.12.4.1.4.1&ISO');
    expect(p.organizationName).to.equal('VOSS HERAD');
    expect(p.organizationId).to.deep.equal({ extension: '960510542', root: '2.16.578.1.12.4.1.4.101' });
    expect(p.childOrganizationId).to.deep.equal({ extension: '874593842', root: '2.16.578.1.12.4.1.4.101' });
    expect(p.childOrganizationName).to.equal('VOSS SJUKEHEIM');
    expect(p.healthcareService).to.deep.equal({ code: 'KP01', codeSystem: '2.16.578.1.12.4.1.1.8663', displayName: 'Legetjeneste ved sykehjem mv.' });
    expect(p.decisionRef).to.include({ id: '07b4b65f-a538-4c88-b845-c8fd18702f83', userSelected: true });
    expect(p.securityLevel).to.equal('4');
    expect(p.scope).to.equal('journaldokumenter_helsepersonell');
    expect(p.clientId).to.equal('ea1b0c25-154d-483c-abeb-cdf2e09d0a45');
    expect(p.homeCommunityId).to.equal('urn:oid:2.16.578.1.12.4.1.7.1.1');
    // xsi:nil values are absent, not empty strings.
    expect(p.accessConsentPolicies).to.deep.equal([]);
    expect(p.consentDocumentId).to.equal(undefined);
    expect(p.audiences).to.deep.equal(['nhn:dokumentdeling-saml']);
    expect(p.notOnOrAfter.toISOString()).to.equal('2025-07-31T19:49:15.333Z');
    expect(p.authnContextClassRef).to.equal('urn:oasis:names:tc:SAML:2.0:ac:classes:X509');
  });

  it('SamlToken02 (v1.x subject-id only): the rest is absent, so the policy will deny', () => {
    const p = principalOf('SamlToken02.xml');
    expect(p.subjectId).to.equal('06828399789');
    expect(p.subjectName).to.equal('KVART GREVLING');
    expect(p.role).to.equal(undefined);
    expect(p.purposeOfUse).to.equal(undefined);
    expect(p.patientId).to.equal(undefined);
    expect(p.organizationId).to.equal(undefined);
  });

  it('IT_SamlToken_HN01 (helsenorge citizen, ISO 14265 purpose 13, bare attribute names)', () => {
    const p = principalOf('IT_SamlToken_HN01.xml');
    expect(p.issuer).to.equal('sikkerhet.helsenorge.no');
    expect(p.subjectId).to.equal('29844697323');
    expect(p.purposeOfUseCode).to.include({ code: '13', codeSystem: '1.0.14265.1' });
    expect(p.purposeOfUse).to.equal('PATRQT');
    expect(p.patientId).to.equal('17855599120^^^&2.16.578.1.12.4.1.4.1&ISO');
    expect(p.organizationName).to.equal('Norsk Helsenett');
    expect(p.organizationId).to.deep.equal({ extension: '994598759' });
    expect(p.providerIdentifier).to.deep.equal({ extension: '29844697323', root: '2.16.578.1.12.4.1.4.1' });
    expect(p.securityLevel).to.equal('4');
    expect(p.accessConsentPolicies).to.deep.equal(['2.16.578.1.12.4.1.7.2.1.2']);
    expect(p.homeCommunityId).to.equal('urn:oid:2.16.578.1.12.4.1.7.1.1');
  });

  it('iti38-iti40-request-hn (citizen, own record, no acp)', () => {
    const p = principalOf('iti38-iti40-request-hn.xml');
    expect(p.subjectId).to.equal('27888498775');
    expect(p.subjectName).to.equal('Rettferdig Savanne');
    expect(p.patientId).to.equal('27888498775^^^&2.16.578.1.12.4.1.4.1&ISO');
    expect(p.purposeOfUse).to.equal('PATRQT');
    expect(p.accessConsentPolicies).to.deep.equal([]);
    expect(p.audiences).to.deep.equal(['https://xds-web.test.nhn.no/']);
  });

  for (const n of [1, 2, 3]) {
    it(`iti38-iti40-request-hn-acp-${n} (citizen with access-consent policy …7.2.1.${n})`, () => {
      const p = principalOf(`iti38-iti40-request-hn-acp-${n}.xml`);
      expect(p.subjectId).to.equal('27888498775');
      expect(p.accessConsentPolicies).to.deep.equal([`2.16.578.1.12.4.1.7.2.1.${n}`]);
      expect(p.consentDocumentId).to.equal('urn:oid:2.16.578.1.12.4.1.7.2.2.1');
    });
  }

  it('iti39-iti40-request-hn (retrieve on behalf of another patient)', () => {
    const p = principalOf('iti39-iti40-request-hn.xml');
    expect(p.subjectId).to.equal('27888498775');
    expect(p.patientId).to.equal('21821999925^^^&2.16.578.1.12.4.1.4.1&ISO');
  });

  it('a real NHN request is refused when its issuer certificate is not pinned, even at a time it was valid', () => {
    const raw = sample('iti18-iti40-request.xml').replace(/<u:Timestamp[\s\S]*?<\/u:Timestamp>/, '');
    const v = new XuaVerifier({
      certificates: [ISSUER_PEM],
      issuers: ['https://helseid-xdssaml.test.nhn.no'],
      audiences: ['nhn:dokumentdeling-saml'],
      clockSkewSeconds: 300,
      allowSha1: false,
      requireTimestamp: false,
      cacheSize: 10,
      now: () => new Date('2025-07-31T18:55:00Z'),
    });
    expectFault(() => v.verify({ header: headerOf(raw), rawEnvelope: raw }), WSSE_FAULT.failedAuthentication, /pinned/);
  });
});
