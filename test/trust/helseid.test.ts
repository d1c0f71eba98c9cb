/**
 * The HelseID access-token verifier (connector/trust/helseid): every acceptance and refusal path
 * of the token, its DPoP proof and its claims, with tokens signed by the TEST-ONLY keys of
 * fixtures/helseid/ and, for the jwks_uri case, keys served over real HTTP on 127.0.0.1.
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { SignJWT, UnsecuredJWT, base64url, type JWK } from 'jose';
import { CLAIMS, principalFromAccessToken, scopesOf } from '../../connector/trust/helseid/claims.js';
import { helseIdConfigSchema, type HelseIdConfig, type HelseIdConfigInput } from '../../connector/trust/helseid/config.js';
import { ProofReplayCache, type ProofReplayMemory } from '../../connector/trust/helseid/replay.js';
import {
  createAccessTokenVerifier,
  MAX_ACCESS_TOKEN_LENGTH,
  type AccessTokenAccepted,
  type AccessTokenRefused,
  type AccessTokenRequest,
  type AccessTokenResult,
  type AccessTokenVerifierOptions,
} from '../../connector/trust/helseid/verify.js';
import {
  fixtureKey,
  jwkThumbprint,
  mintDpopProof,
  mintTestToken,
  publicJwk,
  testAttestation,
  testTokenClaims,
  TEST_AUDIENCE,
  TEST_CLIENT_ID,
  TEST_HPR,
  TEST_ISSUER,
  TEST_JWKS_FILE,
  TEST_ORGNR_CHILD,
  TEST_ORGNR_PARENT,
  TEST_PATIENT,
  TEST_USER_PID,
  type TestTokenOptions,
} from '../../fixtures/helseid/mint.js';
import { optionsFromArgs } from '../../scripts/mint-helseid-token.js';

const NOW = new Date('2026-11-23T12:00:00.000Z');
const URL_ITI67 = 'https://mhd.koblingspunkt.example/fhir/DocumentReference';
const ALGS = 'RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512';

/** A clock the tests move. */
function clock(start: Date = NOW): { now: () => Date; advance: (seconds: number) => void } {
  let t = start.getTime();
  return { now: () => new Date(t), advance: (s) => (t += s * 1000) };
}

function config(overrides: Partial<HelseIdConfigInput> = {}): HelseIdConfig {
  return helseIdConfigSchema.parse({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: TEST_JWKS_FILE }, ...overrides });
}

function verifier(overrides: Partial<HelseIdConfigInput> = {}, options: AccessTokenVerifierOptions = { now: () => NOW }) {
  return createAccessTokenVerifier(config(overrides), options);
}

function token(options: TestTokenOptions = {}): Promise<string> {
  return mintTestToken({ now: NOW, ...options });
}

function request(overrides: Partial<AccessTokenRequest>): AccessTokenRequest {
  return { authorization: undefined, dpop: undefined, method: 'GET', url: URL_ITI67, transaction: 'ITI-67', ...overrides };
}

function accepted(r: AccessTokenResult): AccessTokenAccepted {
  if (!r.ok) expect.fail(`refused: ${r.error}: ${r.description}`);
  return r;
}

function refused(r: AccessTokenResult, status: 401 | 403, error: AccessTokenRefused['error'], description?: RegExp): AccessTokenRefused {
  if (r.ok) expect.fail('expected a refusal, the token was accepted');
  expect(r.status, r.description).to.equal(status);
  expect(r.error, r.description).to.equal(error);
  if (description) expect(r.description).to.match(description);
  return r;
}

async function bearer(options: TestTokenOptions = {}, overrides: Partial<AccessTokenRequest> = {}, v = verifier()): Promise<AccessTokenResult> {
  return v.verify(request({ authorization: `Bearer ${await token(options)}`, ...overrides }));
}

/** A DPoP-bound token with a fresh proof for the request. */
async function dpopRequest(overrides: Partial<AccessTokenRequest> = {}, tokenOptions: TestTokenOptions = {}): Promise<AccessTokenRequest> {
  const t = await token({ dpopKey: 'dpop-client-ec', ...tokenOptions });
  const base = request(overrides);
  const proof = await mintDpopProof({ method: base.method, url: base.url, accessToken: t, iat: NOW });
  return { ...base, authorization: `DPoP ${t}`, dpop: proof, ...overrides };
}

describe('HelseID access tokens: configuration', () => {
  it('defaults: RS256/PS256/ES256, 30 s skew, Bearer allowed, NHN document-sharing scopes', () => {
    const c = config();
    expect(c.algorithms).to.deep.equal(['RS256', 'PS256', 'ES256']);
    expect(c).to.include({ clockSkewSeconds: 30, requireDPoP: false, dpopReplayCacheSize: 100_000 });
    expect(c.scopes).to.deep.equal({
      'ITI-65': ['nhn:phr-repo/mhd/create'],
      'ITI-66': ['nhn:phr-repo/mhd/read-documentreferences'],
      'ITI-67': ['nhn:phr-repo/mhd/read-documentreferences'],
      'ITI-68': ['nhn:phr-repo/mhd/read-document'],
    });
  });

  it('refuses none, HMAC algorithms, unknown keys, empty scope lists and a JWKS over plain HTTP elsewhere', () => {
    const bad: unknown[] = [
      { algorithms: ['none'] },
      { algorithms: ['HS256'] },
      { algorithms: [] },
      { scopes: { 'ITI-65': [] } },
      { scopes: { 'ITI-69': ['x'] } },
      { scopes: { 'ITI-65': ['two words'] } },
      { clockSkewSeconds: 3600 },
      { jwks: { url: 'http://helseid-sts.test.nhn.no/jwks' } },
      { jwks: { file: 'a.json', url: 'https://x.example/jwks' } },
      { issuerr: 'typo' },
    ];
    for (const b of bad) {
      const r = helseIdConfigSchema.safeParse({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: TEST_JWKS_FILE }, ...(b as object) });
      expect(r.success, JSON.stringify(b)).to.equal(false);
    }
    expect(helseIdConfigSchema.safeParse({ audience: TEST_AUDIENCE, jwks: { file: TEST_JWKS_FILE } }).success).to.equal(false);
  });

  it('accepts a jwks_uri over https, or plain http on the loopback interface only', () => {
    const https = config({ jwks: { url: 'https://helseid-sts.test.nhn.no/.well-known/openid-configuration/jwks' } });
    expect(https.jwks).to.deep.include({ timeoutMs: 5000, cooldownSeconds: 30, cacheMaxAgeSeconds: 600 });
    expect(config({ jwks: { url: 'http://127.0.0.1:8099/jwks' } }).jwks).to.have.property('url');
  });

  it('stops the start on a JWKS file that is missing, not a JWKS, or holds a private key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'helseid-jwks-'));
    try {
      const privateFile = join(dir, 'private.json');
      writeFileSync(privateFile, JSON.stringify({ keys: [fixtureKey('issuer-rsa')] }));
      const secretFile = join(dir, 'oct.json');
      writeFileSync(secretFile, JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }));
      const emptyFile = join(dir, 'empty.json');
      writeFileSync(emptyFile, JSON.stringify({ keys: [] }));
      expect(() => verifier({ jwks: { file: join(dir, 'absent.json') } })).to.throw(/helseid\.jwks\.file/);
      expect(() => verifier({ jwks: { file: emptyFile } })).to.throw(/at least one key/);
      expect(() => verifier({ jwks: { file: privateFile } })).to.throw(/public keys only/);
      expect(() => verifier({ jwks: { file: secretFile } })).to.throw(/public keys only/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('HelseID access tokens: accepted', () => {
  it('an RS256 token becomes the Principal the SAML path would produce', async () => {
    const jti = 'F00DCAFE0123456789';
    const r = accepted(await bearer({ jti }));
    const p = r.principal;
    expect(r.tokenId).to.equal(jti);
    expect(r.scopes).to.include('nhn:phr-repo/mhd/read-documentreferences');
    expect(p).to.include({
      assertionId: jti,
      issuer: TEST_ISSUER,
      subjectId: TEST_USER_PID,
      subjectName: 'GRØNN VITS',
      hprNumber: TEST_HPR,
      securityLevel: '4',
      clientId: TEST_CLIENT_ID,
      purposeOfUse: 'TREAT',
      patientId: `${TEST_PATIENT}^^^&2.16.578.1.12.4.1.4.1&ISO`,
      organizationName: 'VOSS HERAD',
      childOrganizationName: 'VOSS LEGEKONTOR',
    });
    expect(p.organizationId).to.deep.equal({ extension: TEST_ORGNR_PARENT, root: '2.16.578.1.12.4.1.4.101' });
    expect(p.childOrganizationId).to.deep.equal({ extension: TEST_ORGNR_CHILD, root: '2.16.578.1.12.4.1.4.101' });
    expect(p.role).to.deep.equal({ code: 'LE', codeSystem: '2.16.578.1.12.4.1.1.9060', displayName: 'Lege' });
    expect(p.purposeOfUseCode).to.deep.equal({ code: 'TREAT', codeSystem: '2.16.840.1.113883.1.11.20448', displayName: 'Behandling' });
    expect(p.healthcareService).to.deep.include({ code: 'KP01', codeSystem: '2.16.578.1.12.4.1.1.8663' });
    expect(p.decisionRef).to.deep.include({ id: '07b4b65f-a538-4c88-b845-c8fd18702f83', userSelected: true });
    expect(p.audiences).to.deep.equal([TEST_AUDIENCE]);
    expect(p.notOnOrAfter.toISOString()).to.equal('2026-11-23T12:01:00.000Z');
    expect(p.notBefore?.toISOString()).to.equal(NOW.toISOString());
    expect(p.accessConsentPolicies).to.deep.equal([]);
    expect(p.scope?.split(' ')).to.have.members(['nhn:phr-repo/mhd/create', 'nhn:phr-repo/mhd/read-documentreferences', 'nhn:phr-repo/mhd/read-document']);
    expect(p.attributes[CLAIMS.pid]).to.deep.equal([TEST_USER_PID]);
    expect(JSON.parse(p.attributes[CLAIMS.authorizationDetails]![0]!)).to.have.property('type', CLAIMS.attestationType);
  });

  it('an ES256 token from the second published key', async () => {
    const r = accepted(await bearer({ key: 'issuer-ec' }));
    expect(r.principal.subjectId).to.equal(TEST_USER_PID);
  });

  it('lenient in form: hpr_number as an array, scope as a string, security_level as a number, `application/at+jwt`', async () => {
    const r = accepted(await bearer({ hpr: [TEST_HPR, TEST_HPR], scopes: 'nhn:phr-repo/mhd/read-documentreferences openid', securityLevel: 4, typ: 'application/at+jwt' }));
    expect(r.principal).to.include({ hprNumber: TEST_HPR, securityLevel: '4', scope: 'nhn:phr-repo/mhd/read-documentreferences openid' });
    expect(r.scopes).to.deep.equal(['nhn:phr-repo/mhd/read-documentreferences', 'openid']);
  });

  it('an expiry within the clock skew is tolerated, beyond it refused', async () => {
    const t = await token({ expiresInSeconds: 60 });
    const at = (seconds: number) => createAccessTokenVerifier(config(), { now: () => new Date(NOW.getTime() + seconds * 1000) });
    accepted(await at(60 + 29).verify(request({ authorization: `Bearer ${t}` })));
    refused(await at(60 + 31).verify(request({ authorization: `Bearer ${t}` })), 401, 'invalid_token', /expired/);
  });

  it('the scheme name is case-insensitive', async () => {
    accepted(await verifier().verify(request({ authorization: `bearer ${await token()}` })));
  });

  it('a token without an attestation still names the user, HPR number and organisations', async () => {
    const p = accepted(await bearer({ attestation: null })).principal;
    expect(p).to.include({ subjectId: TEST_USER_PID, hprNumber: TEST_HPR });
    expect(p.organizationId).to.deep.equal({ extension: TEST_ORGNR_PARENT, root: '2.16.578.1.12.4.1.4.101' });
    expect(p.purposeOfUse).to.equal(undefined);
    expect(p.patientId).to.equal(undefined);
  });
});

describe('HelseID access tokens: refused', () => {
  it('no Authorization header: 401 with both challenges and no error code (RFC 6750 §3.1)', async () => {
    const r = refused(await verifier().verify(request({})), 401, 'invalid_request', /missing/);
    expect(r.wwwAuthenticate).to.equal(`Bearer, DPoP algs="${ALGS}"`);
  });

  it('an expired token', async () => {
    const r = refused(await bearer({ now: new Date(NOW.getTime() - 10 * 60_000) }), 401, 'invalid_token', /expired/);
    expect(r.wwwAuthenticate).to.equal('Bearer error="invalid_token", error_description="the access token has expired"');
  });

  it('a token not valid yet (nbf beyond the skew)', async () => {
    refused(await bearer({ notBefore: new Date(NOW.getTime() + 5 * 60_000) }), 401, 'invalid_token', /not valid yet/);
  });

  it('the wrong audience', async () => {
    refused(await bearer({ audience: 'nhn:kjernejournal' }), 401, 'invalid_token', /audience/);
  });

  it('the wrong issuer', async () => {
    refused(await bearer({ issuer: 'https://helseid-sts.nhn.no' }), 401, 'invalid_token', /issuer/);
  });

  it('signed with the wrong key under the issuer key’s kid', async () => {
    refused(await bearer({ key: 'other-rsa', kid: fixtureKey('issuer-rsa').kid! }), 401, 'invalid_token', /signature does not verify/);
  });

  it('an unknown kid', async () => {
    refused(await bearer({ key: 'other-rsa' }), 401, 'invalid_token', /kid/);
  });

  it('alg none, with an empty or a made-up signature', async () => {
    const unsigned = new UnsecuredJWT(await testTokenClaims({ now: NOW })).encode();
    refused(await verifier().verify(request({ authorization: `Bearer ${unsigned}` })), 401, 'invalid_token', /not a signed JWT/);
    const [header, payload] = unsigned.split('.');
    const faked = `${header}.${payload}.${base64url.encode('signature')}`;
    refused(await verifier().verify(request({ authorization: `Bearer ${faked}` })), 401, 'invalid_token', /algorithm/);
  });

  it('HS256 "signed" with the issuer’s RSA public key as the HMAC secret (algorithm confusion)', async () => {
    const rsa = fixtureKey('issuer-rsa');
    const pem = createPublicKey({ key: publicJwk(rsa) as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    for (const secret of [pem, publicJwk(rsa).n!]) {
      const forged = await new SignJWT(await testTokenClaims({ now: NOW }))
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: rsa.kid! })
        .sign(new TextEncoder().encode(String(secret)));
      refused(await verifier().verify(request({ authorization: `Bearer ${forged}` })), 401, 'invalid_token', /algorithm/);
    }
  });

  it('an algorithm outside the configured allow-list', async () => {
    refused(await bearer({ key: 'issuer-ec' }, {}, verifier({ algorithms: ['RS256'] })), 401, 'invalid_token', /algorithm/);
  });

  it('an ID token (typ JWT) or a token without typ is not an access token (RFC 9068 §4)', async () => {
    refused(await bearer({ typ: 'JWT' }), 401, 'invalid_token', /typ must be at\+jwt/);
    refused(await bearer({ typ: null }), 401, 'invalid_token', /typ must be at\+jwt/);
  });

  it('a token without exp or jti', async () => {
    refused(await bearer({ expiresInSeconds: null }), 401, 'invalid_token', /no exp claim/);
    refused(await bearer({ jti: null }), 401, 'invalid_token', /no jti claim/);
  });

  it('malformed tokens and headers', async () => {
    const v = verifier();
    const cases: [string, AccessTokenRefused['error'], RegExp][] = [
      ['Bearer abc', 'invalid_token', /not a signed JWT/],
      ['Bearer a.b.c', 'invalid_token', /malformed/],
      [`Bearer ${base64url.encode('{"alg":"RS256"')}.${base64url.encode('{}')}.AAAA`, 'invalid_token', /malformed/],
      [`Bearer ${base64url.encode('[]')}.${base64url.encode('{}')}.AAAA`, 'invalid_token', /malformed/],
      ['Basic dXNlcjpwYXNz', 'invalid_request', /Authorization header/],
      ['Bearer', 'invalid_request', /Authorization header/],
      ['Bearer two tokens', 'invalid_request', /Authorization header/],
      ['Bearer tøken', 'invalid_request', /Authorization header/],
    ];
    for (const [authorization, error, description] of cases) refused(await v.verify(request({ authorization })), 401, error, description);
  });

  it('an oversized token is refused before it is parsed', async () => {
    const huge = `${'A'.repeat(MAX_ACCESS_TOKEN_LENGTH)}.${'A'.repeat(10)}.AAAA`;
    refused(await verifier().verify(request({ authorization: `Bearer ${huge}` })), 401, 'invalid_token', /exceeds 16384 bytes/);
    const padded = await token({ claims: { padding: 'x'.repeat(MAX_ACCESS_TOKEN_LENGTH) } });
    refused(await verifier().verify(request({ authorization: `Bearer ${padded}` })), 401, 'invalid_token', /exceeds/);
  });

  it('insufficient scope for the transaction: 403 with the scope needed', async () => {
    const r = refused(
      await bearer({ scopes: ['nhn:phr-repo/mhd/read-documentreferences'] }, { transaction: 'ITI-65', method: 'POST' }),
      403,
      'insufficient_scope',
      /ITI-65 needs the scope nhn:phr-repo\/mhd\/create/,
    );
    expect(r.wwwAuthenticate).to.contain('Bearer error="insufficient_scope"').and.contain('scope="nhn:phr-repo/mhd/create"');
    refused(await bearer({ scopes: [] }, { transaction: 'ITI-68' }), 403, 'insufficient_scope');
    accepted(await bearer({ scopes: ['nhn:phr-repo/mhd/read-document'] }, { transaction: 'ITI-68' }));
  });

  it('a token certificate-bound (cnf without jkt) is refused: this verifier cannot check that binding', async () => {
    refused(await bearer({ claims: { cnf: { 'x5t#S256': 'abc' } } }), 401, 'invalid_token', /cnf/);
  });

  it('a token without kid, signed by another key, meets the issuer key and fails its signature check', async () => {
    refused(await bearer({ key: 'other-rsa', kid: null }), 401, 'invalid_token', /signature does not verify/);
  });
});

describe('HelseID access tokens: claims', () => {
  it('a token without a user id is refused', async () => {
    refused(await bearer({ pid: null }), 401, 'invalid_token', /names no user/);
  });

  it('conflicting values of one concept are refused as ambiguous, never picked', async () => {
    const attestation = testAttestation();
    const withPractitioner = { ...attestation, practitioner: { ...(attestation.practitioner as object), identifier: { id: '01010112345' } } };
    refused(await bearer({ attestation: withPractitioner }), 401, 'invalid_token', /conflicting user id/);
    refused(await bearer({ orgnrParent: '999999999', attestation: testAttestation() }), 401, 'invalid_token', /conflicting organisation/);
    refused(await bearer({ hpr: ['565505933', '123456789'] }), 401, 'invalid_token', /conflicting HPR/);
    const twoPatients = { ...attestation, patients: [{ identifier: { id: TEST_PATIENT, system: 'urn:oid:2.16.578.1.12.4.1.4.1' } }, { identifier: { id: '01010112345', system: 'urn:oid:2.16.578.1.12.4.1.4.1' } }] };
    refused(await bearer({ attestation: twoPatients }), 401, 'invalid_token', /conflicting patient/);
    const other = { ...attestation, care_relationship: { purpose_of_use: { code: 'ETREAT', system: 'urn:oid:2.16.840.1.113883.1.11.20448' } } };
    refused(await bearer({ claims: { [CLAIMS.attestationType]: other } }), 401, 'invalid_token', /more than one trust-framework attestation/);
  });

  it('a malformed attestation is refused', async () => {
    refused(await bearer({ claims: { authorization_details: ['not an object'] } }), 401, 'invalid_token', /not an object/);
    const noCode = { ...testAttestation(), care_relationship: { purpose_of_use: { system: 'urn:oid:2.16.840.1.113883.1.11.20448' } } };
    refused(await bearer({ attestation: noCode }), 401, 'invalid_token', /purpose_of_use has no code/);
    refused(await bearer({ attestation: null, claims: { [CLAIMS.attestationType]: '{not json' } }), 401, 'invalid_token', /not a JSON object/);
  });

  it('the attestation as a claim of its own (NHN reference source), as JSON text, and in the data model’s hyphenated spelling', async () => {
    const asText = accepted(await bearer({ attestation: null, claims: { [CLAIMS.attestationType]: JSON.stringify(testAttestation()) } })).principal;
    expect(asText).to.include({ purposeOfUse: 'TREAT', patientId: `${TEST_PATIENT}^^^&2.16.578.1.12.4.1.4.1&ISO` });
    const hyphenated = {
      type: CLAIMS.attestationType,
      practitioner: { 'hpr-nr': { id: TEST_HPR }, 'legal-entity': { id: TEST_ORGNR_PARENT, name: 'VOSS HERAD', system: 'urn:oid:2.16.578.1.12.4.1.4.101' } },
      'care-relationship': {
        'purpose-of-use': { code: 'COC', system: 'urn:oid:2.16.840.1.113883.1.11.20448' },
        'purpose-of-use-details': { code: '15', text: 'Helsetjenester i hjemmet', system: 'urn:oid:2.16.578.1.12.4.1.1.9151' },
        'decision-ref': { id: 'ref-1', 'user-selected': false },
      },
      patients: [{ identifier: { id: TEST_PATIENT, system: 'urn:oid:2.16.578.1.12.4.1.4.1' } }],
    };
    const p = accepted(await bearer({ attestation: hyphenated })).principal;
    expect(p).to.include({ purposeOfUse: 'COC', organizationName: 'VOSS HERAD', hprNumber: TEST_HPR });
    expect(p.purposeOfUseDetails).to.deep.equal({ code: '15', codeSystem: '2.16.578.1.12.4.1.1.9151', displayName: 'Helsetjenester i hjemmet' });
    expect(p.decisionRef).to.deep.include({ id: 'ref-1', userSelected: false });
  });

  it('purposes of use map like the SAML path: ISO 14265 onto HL7, citizen purposes kept, unknown codes unmapped', async () => {
    const purpose = async (code: string, system: string) => accepted(await bearer({ purposeOfUse: { code, system } })).principal;
    expect((await purpose('1', 'urn:oid:1.0.14265.1')).purposeOfUse).to.equal('TREAT');
    expect((await purpose('2', '1.0.14265.1')).purposeOfUse).to.equal('ETREAT');
    expect((await purpose('PATRQT', 'urn:oid:2.16.840.1.113883.5.8')).purposeOfUse).to.equal('PATRQT');
    const unknown = await purpose('HMARKT', 'urn:oid:2.16.840.1.113883.5.8');
    expect(unknown.purposeOfUse).to.equal(undefined);
    expect(unknown.purposeOfUseCode).to.deep.include({ code: 'HMARKT' });
  });

  it('the IHE IUA JWT extension: patient, purpose (FHIR code-system URL), role, community, consent policies', async () => {
    const iua = {
      ihe_iua: {
        subject_name: 'Kari Nordmann',
        subject_organization: 'VOSS HERAD',
        person_id: `${TEST_PATIENT}^^^&2.16.578.1.12.4.1.4.1&ISO`,
        purpose_of_use: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' },
        subject_role: { system: 'urn:oid:2.16.578.1.12.4.1.1.9060', code: 'LE' },
        home_community_id: '2.16.578.1.12.4.1.7.1.1',
        acp: ['urn:oid:2.16.578.1.12.4.1.7.2.1.1'],
        doc_id: 'urn:uuid:1234',
      },
    };
    const p = accepted(await bearer({ attestation: null, name: null, claims: { extensions: iua } })).principal;
    expect(p).to.include({
      subjectName: 'Kari Nordmann',
      purposeOfUse: 'TREAT',
      patientId: `${TEST_PATIENT}^^^&2.16.578.1.12.4.1.4.1&ISO`,
      homeCommunityId: 'urn:oid:2.16.578.1.12.4.1.7.1.1',
      consentDocumentId: 'urn:uuid:1234',
      organizationName: 'VOSS HERAD',
    });
    expect(p.role).to.deep.equal({ code: 'LE', codeSystem: '2.16.578.1.12.4.1.1.9060' });
    expect(p.accessConsentPolicies).to.deep.equal(['2.16.578.1.12.4.1.7.2.1.1']);
    // …and it must agree with the HelseID attestation when both are sent.
    const disagreeing = { ihe_iua: { ...iua.ihe_iua, purpose_of_use: { system: 'urn:oid:2.16.840.1.113883.5.8', code: 'ETREAT' } } };
    refused(await bearer({ claims: { extensions: disagreeing } }), 401, 'invalid_token', /conflicting purpose of use/);
  });

  it('name from given, middle and family name when `name` is absent; a patient without authority stays a bare id', async () => {
    const attestation = { ...testAttestation(), patients: [{ identifier: { id: TEST_PATIENT } }] };
    const p = accepted(await bearer({ name: null, attestation, claims: { given_name: 'Kari', middle_name: 'Lise', family_name: 'Nordmann' } })).principal;
    expect(p).to.include({ subjectName: 'Kari Lise Nordmann', patientId: TEST_PATIENT });
  });

  it('scopesOf and principalFromAccessToken read claims sets directly', async () => {
    expect(scopesOf({ scope: ' a  b a ' })).to.deep.equal(['a', 'b']);
    expect(scopesOf({ scope: ['a', 3, 'b'] })).to.deep.equal(['a', 'b']);
    expect(scopesOf({})).to.deep.equal([]);
    const r = principalFromAccessToken({ ...(await testTokenClaims({ now: NOW })), exp: undefined });
    expect(r).to.deep.equal({ ok: false, reason: 'the token has no exp' });
  });
});

describe('HelseID access tokens: DPoP (RFC 9449)', () => {
  it('a DPoP-bound token with a valid proof is accepted; the query string is not part of htu', async () => {
    const v = verifier();
    accepted(await v.verify(await dpopRequest()));
    accepted(await v.verify(await dpopRequest({ url: `${URL_ITI67}?patient.identifier=13116900216&status=current` })));
    accepted(await v.verify(await dpopRequest({ url: 'HTTPS://MHD.koblingspunkt.example:443/fhir/DocumentReference' })));
  });

  it('a missing proof for a cnf-bound token', async () => {
    const r = refused(await verifier().verify({ ...(await dpopRequest()), dpop: undefined }), 401, 'invalid_dpop_proof', /missing/);
    expect(r.wwwAuthenticate).to.equal(`DPoP error="invalid_dpop_proof", error_description="the DPoP header with a proof is missing", algs="${ALGS}"`);
  });

  it('a proof for another method, URL, token or key', async () => {
    const v = verifier();
    const t = await token({ dpopKey: 'dpop-client-ec' });
    const send = (proof: string, overrides: Partial<AccessTokenRequest> = {}) => v.verify(request({ authorization: `DPoP ${t}`, dpop: proof, ...overrides }));
    refused(await send(await mintDpopProof({ method: 'POST', url: URL_ITI67, accessToken: t, iat: NOW })), 401, 'invalid_dpop_proof', /htm/);
    refused(await send(await mintDpopProof({ method: 'GET', url: `${URL_ITI67}/123`, accessToken: t, iat: NOW })), 401, 'invalid_dpop_proof', /htu/);
    refused(await send(await mintDpopProof({ method: 'GET', url: 'https://evil.example/fhir/DocumentReference', accessToken: t, iat: NOW })), 401, 'invalid_dpop_proof', /htu/);
    const otherToken = await token({ dpopKey: 'dpop-client-ec' });
    refused(await send(await mintDpopProof({ method: 'GET', url: URL_ITI67, accessToken: otherToken, iat: NOW })), 401, 'invalid_dpop_proof', /ath/);
    refused(await send(await mintDpopProof({ method: 'GET', url: URL_ITI67, accessToken: t, ath: null, iat: NOW })), 401, 'invalid_dpop_proof', /ath/);
    refused(await send(await mintDpopProof({ method: 'GET', url: URL_ITI67, accessToken: t, key: 'other-rsa', iat: NOW })), 401, 'invalid_dpop_proof', /cnf\.jkt/);
  });

  it('a malformed proof: wrong typ, a private key embedded, a symmetric algorithm, claims missing, two proofs', async () => {
    const v = verifier();
    const t = await token({ dpopKey: 'dpop-client-ec' });
    const send = (dpop: string | string[]) => v.verify(request({ authorization: `DPoP ${t}`, dpop }));
    const proof = (o: Partial<Parameters<typeof mintDpopProof>[0]> = {}) => mintDpopProof({ method: 'GET', url: URL_ITI67, accessToken: t, iat: NOW, ...o });
    refused(await send(await proof({ typ: 'JWT' })), 401, 'invalid_dpop_proof', /typ must be dpop\+jwt/);
    refused(await send(await proof({ embedPrivateKey: true })), 401, 'invalid_dpop_proof', /public key/);
    refused(await send(await proof({ claims: { htu: undefined } })), 401, 'invalid_dpop_proof', /no htu claim/);
    refused(await send(await proof({ claims: { jti: undefined } })), 401, 'invalid_dpop_proof', /no jti claim/);
    refused(await send([await proof(), await proof()]), 401, 'invalid_dpop_proof', /more than one/);
    refused(await send(`${await proof()}, ${await proof()}`), 401, 'invalid_dpop_proof', /more than one/);
    refused(await send('not-a-jwt'), 401, 'invalid_dpop_proof', /malformed/);
    const dpopJwk = fixtureKey('dpop-client-ec');
    const hmac = await new SignJWT({ jti: 'x', htm: 'GET', htu: URL_ITI67, iat: Math.floor(NOW.getTime() / 1000) })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: dpopJwk.kty!, crv: dpopJwk.crv!, x: dpopJwk.x!, y: dpopJwk.y! } })
      .sign(new TextEncoder().encode('secret'));
    refused(await send(hmac), 401, 'invalid_dpop_proof', /algorithm/);
  });

  it('a proof outside the clock-skew window (iat too old or in the future)', async () => {
    const v = verifier();
    const t = await token({ dpopKey: 'dpop-client-ec' });
    for (const offset of [-31, 31]) {
      const proof = await mintDpopProof({ method: 'GET', url: URL_ITI67, accessToken: t, iat: new Date(NOW.getTime() + offset * 1000) });
      refused(await v.verify(request({ authorization: `DPoP ${t}`, dpop: proof })), 401, 'invalid_dpop_proof', /iat/);
    }
  });

  it('a replayed proof jti is refused, within the window; a new proof is fine', async () => {
    const v = verifier();
    const r = await dpopRequest();
    accepted(await v.verify(r));
    refused(await v.verify(r), 401, 'invalid_dpop_proof', /replayed/);
    const proof = await mintDpopProof({ method: 'GET', url: URL_ITI67, accessToken: r.authorization!.slice('DPoP '.length), iat: NOW });
    accepted(await v.verify({ ...r, dpop: proof }));
  });

  it('a full replay cache refuses new proofs until old ones expire, rather than forget a live one', async () => {
    const c = clock();
    const v = verifier({ dpopReplayCacheSize: 1, clockSkewSeconds: 30 }, { now: c.now });
    const t = await token({ dpopKey: 'dpop-client-ec', expiresInSeconds: 300 });
    const send = async () => v.verify(request({ authorization: `DPoP ${t}`, dpop: await mintDpopProof({ method: 'GET', url: URL_ITI67, accessToken: t, iat: c.now() }) }));
    accepted(await send());
    refused(await send(), 401, 'invalid_dpop_proof', /too many DPoP proofs/);
    c.advance(32);
    accepted(await send());
  });

  it('verifiers that share one memory of used proofs (the workers of one node) refuse a proof the other accepted', async () => {
    // What a multi-process node does: each worker's verifier asks the primary's one memory, over IPC.
    const shared = new ProofReplayCache(100);
    const overIpc: ProofReplayMemory = { remember: async (key, expiresAtMs, nowMs) => shared.remember(key, expiresAtMs, nowMs) };
    const first = verifier({}, { now: () => NOW, replay: overIpc });
    const second = verifier({}, { now: () => NOW, replay: overIpc });
    const r = await dpopRequest();
    accepted(await first.verify(r));
    refused(await second.verify(r), 401, 'invalid_dpop_proof', /replayed/);
    refused(await first.verify(r), 401, 'invalid_dpop_proof', /replayed/);
    expect(shared.size).to.equal(1);
  });

  it('a proof the memory of used proofs cannot be asked about is refused, not taken as fresh', async () => {
    const v = verifier({}, { now: () => NOW, replay: { remember: () => Promise.resolve('unavailable' as const) } });
    refused(await v.verify(await dpopRequest()), 401, 'invalid_dpop_proof', /could not be checked/);
  });

  it('a DPoP-bound token sent as Bearer is a downgrade and refused', async () => {
    const t = await token({ dpopKey: 'dpop-client-ec' });
    const proof = await mintDpopProof({ method: 'GET', url: URL_ITI67, accessToken: t, iat: NOW });
    const r = refused(await verifier().verify(request({ authorization: `Bearer ${t}`, dpop: proof })), 401, 'invalid_token', /DPoP-bound/);
    expect(r.wwwAuthenticate).to.match(/^DPoP error="invalid_token"/);
  });

  it('an unbound token sent with the DPoP scheme is refused', async () => {
    const t = await token();
    const proof = await mintDpopProof({ method: 'GET', url: URL_ITI67, accessToken: t, iat: NOW });
    refused(await verifier().verify(request({ authorization: `DPoP ${t}`, dpop: proof })), 401, 'invalid_token', /DPoP-bound access token/);
  });

  it('requireDPoP refuses Bearer tokens and offers only the DPoP challenge', async () => {
    const v = verifier({ requireDPoP: true });
    const r = refused(await bearer({}, {}, v), 401, 'invalid_request', /DPoP-bound access tokens only/);
    expect(r.wwwAuthenticate).to.match(/^DPoP error="invalid_request"/);
    expect(refused(await v.verify(request({})), 401, 'invalid_request').wwwAuthenticate).to.equal(`DPoP algs="${ALGS}"`);
    accepted(await v.verify(await dpopRequest()));
  });

  it('the proof is checked against the URL the server was given; an unusable URL refuses, never throws', async () => {
    const r = await dpopRequest();
    refused(await verifier().verify({ ...r, url: '/fhir/DocumentReference' }), 401, 'invalid_dpop_proof', /htu/);
  });

  it('the cnf.jkt the fixtures bind is the RFC 7638 thumbprint of the client key', async () => {
    const claims = await testTokenClaims({ dpopKey: 'dpop-client-ec', now: NOW });
    expect(claims.cnf).to.deep.equal({ jkt: await jwkThumbprint(fixtureKey('dpop-client-ec')) });
  });
});

describe('HelseID access tokens: keys from the issuer’s jwks_uri over HTTP', () => {
  let server: Server;
  let baseUrl: string;
  let status = 200;
  let served: JWK[] = [];
  let hits = 0;

  before(async () => {
    served = (JSON.parse(readFileSync(TEST_JWKS_FILE, 'utf8')) as { keys: JWK[] }).keys;
    server = createServer((req, res) => {
      hits++;
      if (req.url !== '/jwks') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: served }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    status = 200;
    hits = 0;
    served = (JSON.parse(readFileSync(TEST_JWKS_FILE, 'utf8')) as { keys: JWK[] }).keys;
  });

  it('fetches the keys once and verifies RS256 and ES256 tokens with them', async () => {
    const v = verifier({ jwks: { url: `${baseUrl}/jwks` } });
    accepted(await bearer({}, {}, v));
    accepted(await bearer({ key: 'issuer-ec' }, {}, v));
    expect(hits).to.equal(1);
  });

  it('an unknown kid triggers at most one refetch per cooldown, and a rotated-in key is then found', async () => {
    served = served.filter((k) => k.kty === 'RSA');
    const v = verifier({ jwks: { url: `${baseUrl}/jwks`, cooldownSeconds: 1 } });
    accepted(await bearer({}, {}, v));
    expect(hits).to.equal(1);
    refused(await bearer({ key: 'issuer-ec' }, {}, v), 401, 'invalid_token', /kid/);
    refused(await bearer({ key: 'other-rsa' }, {}, v), 401, 'invalid_token', /kid/);
    expect(hits, 'no refetch inside the cooldown').to.equal(1);
    served = (JSON.parse(readFileSync(TEST_JWKS_FILE, 'utf8')) as { keys: JWK[] }).keys;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    accepted(await bearer({ key: 'issuer-ec' }, {}, v));
    expect(hits).to.equal(2);
  });

  it('keys that cannot be fetched refuse the token (401), never throw', async () => {
    status = 500;
    refused(await bearer({}, {}, verifier({ jwks: { url: `${baseUrl}/jwks` } })), 401, 'invalid_token', /signing keys/);
    refused(await bearer({}, {}, verifier({ jwks: { url: `${baseUrl}/nothing-here` } })), 401, 'invalid_token', /signing keys/);
    // Nothing listening at all: a connection refused is reported the same way.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    refused(await bearer({}, {}, verifier({ jwks: { url: `http://127.0.0.1:${port}/jwks` } })), 401, 'invalid_token', /signing keys are unavailable/);
  });

  it('uses the fetch it is given (e.g. with the node’s proxy settings)', async () => {
    let calls = 0;
    const v = createAccessTokenVerifier(config({ jwks: { url: `${baseUrl}/jwks` } }), {
      now: () => NOW,
      fetch: (url, init) => {
        calls++;
        return fetch(url, init);
      },
    });
    accepted(await bearer({}, {}, v));
    expect(calls).to.equal(1);
  });
});

describe('scripts/mint-helseid-token.ts', () => {
  it('turns flags into token options and a proof request', () => {
    const { token: t, proof } = optionsFromArgs(['--patient', '01010112345', '--hpr', '42', '--org', '111', '--scopes', 'a b', '--expires', '120', '--dpop', '--method', 'post', '--url', URL_ITI67]);
    expect(t).to.include({ patient: '01010112345', hpr: '42', orgnrParent: '111', expiresInSeconds: 120, dpopKey: 'dpop-client-ec' });
    expect(t.scopes).to.deep.equal(['a', 'b']);
    expect(proof).to.deep.equal({ method: 'POST', url: URL_ITI67 });
    expect(() => optionsFromArgs(['--dpop'])).to.throw(/--method and --url/);
    expect(() => optionsFromArgs(['--key', 'other-rsa'])).to.throw(/--key/);
    expect(() => optionsFromArgs(['--expires', '-1'])).to.throw(/--expires/);
  });

  it('mints a token the verifier accepts for the chosen patient and scopes', async () => {
    const { token: t } = optionsFromArgs(['--patient', '01010112345', '--scopes', 'nhn:phr-repo/mhd/create']);
    const r = accepted(await verifier().verify(request({ authorization: `Bearer ${await mintTestToken({ ...t, now: NOW })}`, transaction: 'ITI-65', method: 'POST' })));
    expect(r.principal.patientId).to.equal('01010112345^^^&2.16.578.1.12.4.1.4.1&ISO');
  });
});
