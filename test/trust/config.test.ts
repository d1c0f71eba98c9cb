import { expect } from 'chai';
import { trustConfigSchema } from '../../connector/trust/config.js';

describe('trust configuration', () => {
  it('defaults: off, 300 s skew, no SHA-1, LE/SP/PS at security level 4', () => {
    const c = trustConfigSchema.parse({});
    expect(c).to.include({ enabled: false, clockSkewSeconds: 300, allowSha1: false, requireTimestamp: false, cacheSize: 10_000 });
    expect(c.policy.roles).to.deep.equal(['LE', 'SP', 'PS']);
    expect(c.policy.securityLevels).to.deep.equal(['4']);
    expect(c.policy).to.include({ citizenOwnAccessAge: 16, citizenAdultAge: 18, parentalAccessBelowAge: 12 });
  });

  it('refuses unknown keys', () => {
    const r = trustConfigSchema.safeParse({ pinnedIssuerCertificate: ['x.pem'] });
    expect(r.success).to.equal(false);
    expect(JSON.stringify(r.error?.issues)).to.contain('pinnedIssuerCertificate');
  });

  it('when enabled, requires certificates, issuers and audiences', () => {
    const r = trustConfigSchema.safeParse({ enabled: true });
    expect(r.success).to.equal(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).to.have.members(['pinnedIssuerCertificates', 'issuers', 'audiences']);
    const ok = trustConfigSchema.parse({ enabled: true, pinnedIssuerCertificates: ['fixtures/certs/issuer.pem'], issuers: ['i'], audiences: ['a'] });
    expect(ok.enabled).to.equal(true);
  });
});

describe('XUA verifier from configuration', () => {
  it('loads the pinned PEM files and verifies with them', async () => {
    const { readFileSync } = await import('node:fs');
    const { xuaVerifierFromConfig } = await import('../../connector/trust/xua.js');
    const { headerOf } = await import('./helpers.js');
    const config = trustConfigSchema.parse({
      enabled: true,
      pinnedIssuerCertificates: ['fixtures/certs/issuer.pem'],
      issuers: ['https://idp.test.koblingspunkt.example'],
      audiences: ['urn:koblingspunkt:test'],
    });
    const v = xuaVerifierFromConfig(config, () => new Date('2026-11-23T12:30:00Z'));
    const env = readFileSync('fixtures/saml/signed-clinician-envelope.xml', 'utf8');
    expect(v.verify({ header: headerOf(env), rawEnvelope: env }).assertionId).to.equal('_fixture-clinician-1');
  });

  it('stops on a pinned file that is not a certificate', async () => {
    const { loadPinnedCertificates } = await import('../../connector/trust/xua.js');
    expect(() => loadPinnedCertificates(['fixtures/certs/README.md'])).to.throw(/not a PEM X.509 certificate/);
  });
});
