/**
 * The ITI-86 removal decision as pure functions (connector/transactions/iti86.ts): org.nr read
 * from authorInstitution XON values and from the assertion, who administers documents, and the
 * per-document rule. The wiring over HTTP is in iti86-trust.test.ts.
 */
import { expect } from 'chai';
import type { DocumentEntry } from '../../registry/model/metadata.js';
import { trustConfigSchema, trustPolicySchema, type TrustPolicyConfig } from '../../connector/trust/config.js';
import type { Principal } from '../../connector/trust/principal.js';
import { authorOrganisations, decideRemoval, decideRemover, principalOrganisations, xonOrganisationNumber } from '../../connector/trust/document-administration.js';

const ORG_NR = '2.16.578.1.12.4.1.4.101';
const PATIENT = '12057900499^^^&2.16.578.1.12.4.1.4.1&ISO';

function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    assertionId: '_a',
    issuer: 'https://idp.test.koblingspunkt.example',
    subjectId: '13116900216',
    securityLevel: '4',
    purposeOfUse: 'TREAT',
    role: { code: 'LE', codeSystem: '2.16.578.1.12.4.1.1.9060' },
    organizationId: { extension: '960510542', root: ORG_NR },
    childOrganizationId: { extension: '874593842', root: ORG_NR },
    patientId: PATIENT,
    accessConsentPolicies: [],
    audiences: [],
    notOnOrAfter: new Date(Date.now() + 60_000),
    attributes: {},
    ...overrides,
  };
}

function policy(documentAdministration: { organizations?: string[]; roles?: string[] } = {}): TrustPolicyConfig {
  return { ...trustPolicySchema.parse({ documentAdministration }), acceptSyntheticIds: false };
}

function entry(institutions: string[], patientId = PATIENT): DocumentEntry {
  return {
    uniqueId: '2.16.578.1.12.4.5.100.1.9.1',
    patientId,
    authors: [{ institutions, roles: [], specialties: [], telecommunications: [] }],
  } as unknown as DocumentEntry;
}

describe('ITI-86 removal decision', () => {
  describe('org.nr of an authorInstitution (XON)', () => {
    const cases: [string, string | undefined][] = [
      ['Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880', '983974880'],
      ['Finnmarkssykehuset HF^^^^^&urn:oid:2.16.578.1.12.4.1.4.101&ISO^^^^983974880', '983974880'],
      ['Some unit^^^^^^^^^2.16.578.1.12.4.1.4.101.983974880', '983974880'],
      // Another identifier system (RESH), an OID of another root, no identifier at all: no org.nr.
      ['Avdeling^^^^^&2.16.578.1.12.4.1.4.102&ISO^^^^4208723', undefined],
      ['Hospital^^^^^^^^^1.2.3.4.5.983974880', undefined],
      ['Just a name', undefined],
    ];
    for (const [xon, expected] of cases) {
      it(`${xon} → ${expected ?? 'none'}`, () => expect(xonOrganisationNumber(xon)).to.equal(expected));
    }

    it('collects every author’s institutions', () => {
      const e = {
        authors: [
          { institutions: ['A^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^111111111'], roles: [], specialties: [], telecommunications: [] },
          { institutions: ['B^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^222222222', 'C'], roles: [], specialties: [], telecommunications: [] },
        ],
      } as unknown as DocumentEntry;
      expect([...authorOrganisations(e)].sort()).to.deep.equal(['111111111', '222222222']);
    });
  });

  it('the principal’s organisations: organization-id and child-organization under org.nr, or without a root', () => {
    expect([...principalOrganisations(principal())].sort()).to.deep.equal(['874593842', '960510542']);
    expect([...principalOrganisations(principal({ organizationId: { extension: '994598759' }, childOrganizationId: { extension: '4208723', root: '2.16.578.1.12.4.1.4.102' } }))]).to.deep.equal(['994598759']);
  });

  describe('who may remove at all', () => {
    it('health personnel of an organisation: by authorship (no administrator rule)', () => {
      expect(decideRemover(principal(), policy())).to.deep.equal({ permit: true });
    });
    it('a configured organisation or Volven 9060 role administers every document', () => {
      expect(decideRemover(principal(), policy({ organizations: ['960510542'] }))).to.deep.equal({ permit: true, administrator: 'document-administration-organization' });
      expect(decideRemover(principal(), policy({ roles: ['LE'] }))).to.deep.equal({ permit: true, administrator: 'document-administration-role' });
      // The role counts only in its code system.
      expect(decideRemover(principal({ role: { code: 'LE', codeSystem: '1.2.3' } }), policy({ roles: ['LE'] }))).to.deep.equal({ permit: true });
    });
    const refusals: [string, Partial<Principal>, string][] = [
      ['no subject', { subjectId: ' ' }, 'missing-attribute'],
      ['a user id that is no fødselsnummer', { subjectId: '12345678901' }, 'ATT-10'],
      ['a security level not accepted', { securityLevel: '3' }, 'security-level'],
      ['an unknown purpose of use', { purposeOfUse: undefined }, 'purpose-of-use'],
      ['a citizen', { purposeOfUse: 'PATRQT' }, 'citizen'],
      ['no organisation number', { organizationId: undefined, childOrganizationId: undefined, organizationName: 'VOSS HERAD' }, 'missing-attribute'],
    ];
    for (const [name, overrides, rule] of refusals) {
      it(`${name} → refused (${rule})`, () => {
        const d = decideRemover(principal(overrides), policy());
        expect(d.permit).to.equal(false);
        expect((d as { rule: string }).rule).to.equal(rule);
      });
    }
  });

  describe('which document', () => {
    const author = (org: string): string => `X^^^^^&${ORG_NR}&ISO^^^^${org}`;
    it('the authoring organisation, or its point of care', () => {
      expect(decideRemoval(principal(), { permit: true }, 'd', entry([author('960510542')]))).to.deep.equal({ permit: true, rule: 'author-organization' });
      expect(decideRemoval(principal(), { permit: true }, 'd', entry([author('874593842')]))).to.deep.equal({ permit: true, rule: 'author-organization' });
    });
    it('another organisation’s document, or one without a registry entry, is refused unless administered', () => {
      expect(decideRemoval(principal(), { permit: true }, 'd', entry([author('983974880')])).permit).to.equal(false);
      expect(decideRemoval(principal(), { permit: true }, 'd', undefined).permit).to.equal(false);
      const admin = { permit: true, administrator: 'document-administration-role' } as const;
      expect(decideRemoval(principal(), admin, 'd', entry([author('983974880')]))).to.deep.equal({ permit: true, rule: 'document-administration-role' });
      expect(decideRemoval(principal(), admin, 'd', undefined)).to.deep.equal({ permit: true, rule: 'document-administration-role' });
    });
    it('ATT-4: another patient’s document is refused, to administrators too; an assertion without a patient is not bound', () => {
      const other = entry([author('960510542')], '01017012343^^^&2.16.578.1.12.4.1.4.1&ISO');
      expect(decideRemoval(principal(), { permit: true }, 'd', other)).to.include({ permit: false, rule: 'ATT-4' });
      expect(decideRemoval(principal(), { permit: true, administrator: 'x' }, 'd', other)).to.include({ permit: false, rule: 'ATT-4' });
      expect(decideRemoval(principal({ patientId: undefined }), { permit: true }, 'd', other)).to.deep.equal({ permit: true, rule: 'author-organization' });
    });
  });

  it('configuration: trust.policy.documentAdministration defaults to nobody; an org.nr must have 9 digits', () => {
    expect(trustConfigSchema.parse({}).policy.documentAdministration).to.deep.equal({ organizations: [], roles: [] });
    expect(() => trustConfigSchema.parse({ policy: { documentAdministration: { organizations: ['12345'] } } })).to.throw(/9 digits/);
    expect(() => trustConfigSchema.parse({ policy: { documentAdministration: { users: [] } } })).to.throw();
  });
});
