/**
 * The MHD endpoint under the trust model, over real HTTP: every request needs a HelseID access
 * token (test keys of fixtures/helseid), refused tokens are answered 401/403 with the verifier's
 * challenge and an OperationOutcome and audited as security failures; the Norwegian policy applies
 * through the shared pipeline exactly as on the SOAP side (another patient denied and audited, NORS
 * masked in searches and refused on retrieve unless ETREAT, a blocked patient withheld); the audit
 * names the token's user as BALP's OAuth agent; DPoP proofs are checked against
 * fhir.publicBaseUrl. The verifier's own cases are test/trust/helseid.test.ts; here the endpoint's
 * answers to a few of them.
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { SignJWT, UnsecuredJWT } from 'jose';
import {
  fixtureKey,
  mintDpopProof,
  mintTestToken,
  publicJwk,
  testTokenClaims,
  TEST_AUDIENCE as HELSEID_AUDIENCE,
  TEST_HPR,
  TEST_ISSUER as HELSEID_ISSUER,
  TEST_JWKS_FILE,
  type TestTokenOptions,
} from '../../fixtures/helseid/mint.js';
import { XDS_ERROR_CODE_SYSTEM } from '../../connector/fhir/mapping/fhir.js';
import { cx, epikrise, findDocumentsBody, provideBody, status } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, postRaw, signedEnvelope, soapContentType } from '../helpers/soap.js';
import { auditRows, clinician, HOME, OTHER_FNR, PATIENT_FNR, signed, trustConfig } from '../wiring/helpers.js';
import { nhnBundle, type Json } from './bundles.js';

const FNR_OID = '2.16.578.1.12.4.1.4.1';
const NHN_FNR = '17855599120';
const READ = 'nhn:phr-repo/mhd/read-documentreferences';
const patientOf = (fnr: string) => `patient.identifier=urn:oid:${FNR_OID}|${fnr}`;
const helseid = { issuer: HELSEID_ISSUER, audience: HELSEID_AUDIENCE, jwks: { file: TEST_JWKS_FILE } };

/** NHN's Bundle for another document of `patient`. */
function bundleFor(patient: string): Json {
  const text = JSON.stringify(nhnBundle())
    .replaceAll('00136637-d4a1-4dab-8460-994dd2a82aa4', randomUUID())
    .replaceAll('29946a9c-e77c-4c19-bc05-324d87605646', randomUUID())
    .replaceAll(NHN_FNR, patient);
  return JSON.parse(text) as Json;
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly json: Json;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: Json;
  try {
    json = text === '' ? {} : (JSON.parse(text) as Json);
  } catch {
    json = { bytes: text };
  }
  return { status: res.status, headers: res.headers, json };
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

function expectOutcome(answer: Answer, httpStatus: number, issueCode?: string): void {
  expect(answer.status, JSON.stringify(answer.json)).to.equal(httpStatus);
  expect(answer.json.resourceType).to.equal('OperationOutcome');
  if (issueCode !== undefined) expect(answer.json.issue.map((i: Json) => i.code)).to.include(issueCode);
}

const titles = (bundle: Json): string[] => (bundle.entry ?? []).filter((e: Json) => e.search.mode === 'match').map((e: Json) => e.resource.content[0].attachment.title as string);

describe('MHD over HTTP under the trust model (HelseID access tokens)', function () {
  this.timeout(60_000);
  let node: TestNode;
  let base: string;
  let normalUid: string;
  let norsUid: string;
  /** A token of the test clinician for PATIENT_FNR with every MHD scope, unless told otherwise. */
  const token = (options: TestTokenOptions = {}) => mintTestToken({ patient: PATIENT_FNR, ...options });
  const search = async (query: string, options: TestTokenOptions = {}) => call(`${base}/DocumentReference?${query}`, { headers: bearer(await token(options)) });

  before(async () => {
    node = await startTestNode({ homeCommunityId: HOME, trust: { ...trustConfig(), helseid }, registry: { patientIds: { acceptSyntheticNorwegianIds: true } } });
    base = `${node.url}/fhir`;
    // Documents of the patient registered over SOAP with a SAML assertion: one normal, one NORS.
    const normal = epikrise({ patient: cx(PATIENT_FNR), forRepository: true });
    const nors = epikrise({ patient: cx(PATIENT_FNR), forRepository: true, nors: true });
    normalUid = normal.docUid;
    norsUid = nors.docUid;
    for (const s of [normal, nors]) {
      const body = provideBody(s.xml, [{ id: 'Document01', bytes: Buffer.from(`epikrise ${s.docUid}`) }]);
      const res = await postRaw(`${node.url}/xds/repository`, signedEnvelope(signed(clinician(PATIENT_FNR)), ACTIONS.iti41.request, body), soapContentType(ACTIONS.iti41.request));
      expect(status(res.body)).to.equal('Success');
    }
  });
  after(async () => node?.close());

  describe('the access token', () => {
    it('none → 401 with the challenge and an OperationOutcome, audited as a security failure', async () => {
      const before = auditRows(node.dataDir).length;
      const res = await call(`${base}/DocumentReference?${patientOf(PATIENT_FNR)}&status=current`);
      expectOutcome(res, 401, 'login');
      expect(res.headers.get('www-authenticate')).to.match(/^Bearer, DPoP algs="/);
      const rows = auditRows(node.dataDir).slice(before);
      expect(rows.map((r) => [r.access.transaction, r.access.outcome])).to.deep.equal([['ITI-67', 'refused']]);
      expect(rows[0]!.resource).to.contain('110114'); // DICOM User Authentication
    });

    const refusals: [string, () => Promise<Record<string, string>>, RegExp][] = [
      ['expired', async () => bearer(await token({ now: new Date(Date.now() - 3_600_000) })), /invalid_token.*expired/],
      ['for another audience', async () => bearer(await token({ audience: 'nhn:some-other-api' })), /invalid_token.*audience/],
      ['signed with another key under the issuer key id', async () => bearer(await token({ key: 'other-rsa', kid: fixtureKey('issuer-rsa').kid! })), /invalid_token.*signature/],
      ['unsigned (alg none)', async () => bearer(new UnsecuredJWT(await testTokenClaims({ patient: PATIENT_FNR })).encode()), /invalid_token/],
      [
        'HS256 "signed" with the issuer public key',
        async () => {
          const rsa = fixtureKey('issuer-rsa');
          const pem = createPublicKey({ key: publicJwk(rsa) as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
          const forged = await new SignJWT(await testTokenClaims({ patient: PATIENT_FNR })).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: rsa.kid! }).sign(new TextEncoder().encode(String(pem)));
          return bearer(forged);
        },
      /invalid_token.*algorithm/,
      ],
      ['DPoP-bound but sent as Bearer', async () => bearer(await token({ dpopKey: 'dpop-client-ec' })), /invalid_token.*DPoP/],
      ['DPoP without its proof', async () => ({ authorization: `DPoP ${await token({ dpopKey: 'dpop-client-ec' })}` }), /invalid_dpop_proof/],
      [
        'DPoP with a proof for another URL',
        async () => {
          const t = await token({ dpopKey: 'dpop-client-ec' });
          return { authorization: `DPoP ${t}`, dpop: await mintDpopProof({ method: 'GET', url: `${base}/List`, accessToken: t }) };
        },
        /invalid_dpop_proof.*htu/,
      ],
    ];
    for (const [name, headers, error] of refusals) {
      it(`${name} → 401 with the verifier's error`, async () => {
        const res = await call(`${base}/DocumentReference?${patientOf(PATIENT_FNR)}&status=current`, { headers: await headers() });
        expectOutcome(res, 401, 'login');
        expect(res.headers.get('www-authenticate')).to.match(error);
        expect(JSON.stringify(res.json)).to.not.contain('eyJ'); // never the token itself
      });
    }

    it('a DPoP-bound token with a proof for this request → 200; the same proof again → 401 (replay)', async () => {
      const t = await token({ dpopKey: 'dpop-client-ec' });
      const url = `${base}/DocumentReference?${patientOf(PATIENT_FNR)}&status=current`;
      const proof = await mintDpopProof({ method: 'GET', url, accessToken: t });
      const ok = await call(url, { headers: { authorization: `DPoP ${t}`, dpop: proof } });
      expect(ok.status, JSON.stringify(ok.json)).to.equal(200);
      const replayed = await call(url, { headers: { authorization: `DPoP ${t}`, dpop: proof } });
      expectOutcome(replayed, 401);
      expect(replayed.headers.get('www-authenticate')).to.match(/invalid_dpop_proof.*replayed/);
    });

    it('a token without the transaction scope → 403 insufficient_scope naming the scope', async () => {
      const res = await search(`${patientOf(PATIENT_FNR)}&status=current`, { scopes: ['nhn:phr-repo/mhd/read-document'] });
      expectOutcome(res, 403, 'forbidden');
      expect(res.headers.get('www-authenticate')).to.match(new RegExp(`insufficient_scope.*scope="${READ}"`));
      const provide = await call(base, { method: 'POST', headers: { ...bearer(await token({ scopes: [READ] })), 'content-type': 'application/fhir+json' }, body: JSON.stringify(bundleFor(PATIENT_FNR)) });
      expectOutcome(provide, 403, 'forbidden');
    });

    it('the CapabilityStatement needs no token and says that the rest does', async () => {
      const res = await call(`${base}/metadata`);
      expect(res.status).to.equal(200);
      expect(res.json.rest[0].security.service[0].coding[0].code).to.equal('OAuth');
    });
  });

  describe('the Norwegian policy, through the shared pipeline', () => {
    it("a search for another patient than the token's → 403, audited as a denial (ATT-4)", async () => {
      const before = auditRows(node.dataDir).length;
      const res = await search(`${patientOf(OTHER_FNR)}&status=current`);
      expectOutcome(res, 403, 'forbidden');
      expect(res.json.issue[0].details.coding[0]).to.deep.equal({ system: XDS_ERROR_CODE_SYSTEM, code: 'XDSRegistryError' });
      expect(res.json.issue[0].details.text).to.match(/^access denied:/);
      const rows = auditRows(node.dataDir).slice(before);
      expect(rows.map((r) => [r.access.transaction, r.access.outcome, r.patientId])).to.deep.equal([['ITI-67', 'refused', rows[0]!.patientId]]);
      expect(rows[0]!.resource).to.contain('ATT-4');
    });

    it('a NORS entry is a masked stub "Sperret" in the search, and its document refused (403) unless ETREAT', async () => {
      const res = await search(`${patientOf(PATIENT_FNR)}&status=current`);
      expect(res.status, JSON.stringify(res.json)).to.equal(200);
      expect(titles(res.json).sort()).to.deep.equal(['Epikrise indremedisin', 'Sperret']);
      const stub = (res.json.entry as Json[]).find((e) => e.resource.content[0].attachment.title === 'Sperret')!.resource;
      expect(stub.category).to.equal(undefined);
      expect(stub.author).to.equal(undefined);
      const repository = node.config.repository.repositoryUniqueId;
      const norsUrl = `${base}/Binary/${norsUid}?repositoryUniqueId=${repository}`;
      const readDocument = async (options: TestTokenOptions = {}) => call(norsUrl, { headers: bearer(await token(options)) });
      const before = auditRows(node.dataDir).length;
      const refused = await readDocument();
      expectOutcome(refused, 403, 'forbidden');
      expect(auditRows(node.dataDir).slice(before).map((r) => [r.access.transaction, r.access.outcome, r.access.documents])).to.deep.equal([['ITI-68', 'refused', [norsUid]]]);
      const etreat = { purposeOfUse: { code: 'ETREAT', system: 'urn:oid:2.16.840.1.113883.1.11.20448' } };
      const emergency = await search(`${patientOf(PATIENT_FNR)}&status=current`, etreat);
      expect(titles(emergency.json)).to.not.include('Sperret');
      const unmasked = await readDocument(etreat);
      expect(unmasked.status).to.equal(200);
      expect(unmasked.json.bytes).to.equal(`epikrise ${norsUid}`);
      const normal = await call(`${base}/Binary/${normalUid}?repositoryUniqueId=${repository}`, { headers: bearer(await token()) });
      expect(normal.json.bytes).to.equal(`epikrise ${normalUid}`);
    });

    it('a patient who blocked the practitioner: search refused (ATT-5), audited as a denial', async () => {
      const block = await node.patientBlocks!.add({ patientId: cx(PATIENT_FNR), kind: 'practitioner', value: TEST_HPR });
      try {
        const before = auditRows(node.dataDir).length;
        const res = await search(`${patientOf(PATIENT_FNR)}&status=current`);
        expectOutcome(res, 403, 'forbidden');
        expect(res.json.issue[0].details.text).to.match(/blocked/);
        const rows = auditRows(node.dataDir).slice(before);
        expect(rows.map((r) => [r.access.transaction, r.access.outcome])).to.deep.equal([['ITI-67', 'refused']]);
        expect(rows[0]!.resource).to.contain('ATT-5');
      } finally {
        await node.patientBlocks!.remove(block.id);
      }
      expect((await search(`${patientOf(PATIENT_FNR)}&status=current`)).status).to.equal(200);
    });

    it('a token whose attestation names no patient gets nothing (missing-attribute), as an assertion without resource-id', async () => {
      const res = await search(`${patientOf(PATIENT_FNR)}&status=current`, { patient: null });
      expectOutcome(res, 403, 'forbidden');
      expect(res.json.issue[0].details.text).to.match(/^access denied:/);
    });

    it('ITI-65 with a token: stored, no data policy (as ITI-41), the event names the OAuth user', async () => {
      const res = await call(base, { method: 'POST', headers: { ...bearer(await token()), 'content-type': 'application/fhir+json' }, body: JSON.stringify(bundleFor(PATIENT_FNR)) });
      expect(res.status, JSON.stringify(res.json)).to.equal(200);
      const event = JSON.parse(auditRows(node.dataDir).filter((r) => r.access.transaction === 'ITI-65').at(-1)!.resource) as Json;
      expect(event.outcome).to.equal('0');
      const user = (event.agent as Json[]).find((a) => a.requestor === true && a.who?.identifier?.system === `urn:oid:${FNR_OID}`);
      expect(user?.type.coding.map((c: Json) => c.code)).to.deep.equal(['UserOauthAgent', 'AGNT']);
      expect(event.meta).to.equal(undefined); // no BALP SAML profile for an OAuth token
    });
  });

  describe('the audit of a search, by token and by assertion', () => {
    it('ITI-67 with a token and ITI-18 with an assertion: the same kind of Query event, the user typed by its credential', async () => {
      await search(`${patientOf(PATIENT_FNR)}&status=current`);
      const soap = await postRaw(
        `${node.url}/xds/registry`,
        signedEnvelope(signed(clinician(PATIENT_FNR)), ACTIONS.iti18.request, findDocumentsBody(cx(PATIENT_FNR))),
        soapContentType(ACTIONS.iti18.request),
      );
      expect(status(soap.body)).to.equal('Success');
      const last = (t: string) => JSON.parse(auditRows(node.dataDir).filter((r) => r.access.transaction === t && r.access.outcome === 'success').at(-1)!.resource) as Json;
      const mhd = last('ITI-67');
      const xds = last('ITI-18');
      const entities = (e: Json) => e.entity.map((x: Json) => [x.type.code, x.role.code]);
      expect(entities(mhd)).to.deep.equal(entities(xds));
      expect(mhd.type).to.deep.equal(xds.type);
      expect(mhd.action).to.equal(xds.action);
      const purposes = (e: Json) => e.purposeOfEvent.map((p: Json) => p.coding.map((c: Json) => [c.system, c.code]));
      expect(purposes(mhd)).to.deep.equal(purposes(xds));
      const userTypes = (e: Json) => (e.agent as Json[]).filter((a) => a.who?.identifier?.system === `urn:oid:${FNR_OID}`).map((a) => a.type.coding.map((c: Json) => c.code));
      expect(userTypes(mhd)).to.deep.equal([['UserOauthAgent', 'IRCP']]);
      expect(userTypes(xds)).to.deep.equal([['UserSamlAgent', 'IRCP']]);
    });
  });
});

describe('MHD under the trust model behind a proxy (fhir.publicBaseUrl)', function () {
  this.timeout(60_000);
  let node: TestNode;
  const PUBLIC = 'https://kp.example.no/fhir';

  before(async () => {
    node = await startTestNode({ homeCommunityId: HOME, trust: { ...trustConfig(), helseid }, fhir: { publicBaseUrl: PUBLIC } });
  });
  after(async () => node?.close());

  it("checks a DPoP proof's htu against the public URL, and answers with public URLs", async () => {
    const t = await mintTestToken({ patient: PATIENT_FNR, dpopKey: 'dpop-client-ec' });
    const query = `?${patientOf(PATIENT_FNR)}&status=current`;
    const local = `${node.url}/fhir/DocumentReference${query}`;
    const forPublic = await mintDpopProof({ method: 'GET', url: `${PUBLIC}/DocumentReference${query}`, accessToken: t });
    const ok = await call(local, { headers: { authorization: `DPoP ${t}`, dpop: forPublic } });
    expect(ok.status, JSON.stringify(ok.json)).to.equal(200);
    expect(ok.json.link[0].url.startsWith(`${PUBLIC}/DocumentReference?`)).to.equal(true);
    const forLocal = await mintDpopProof({ method: 'GET', url: local, accessToken: t });
    const refused = await call(local, { headers: { authorization: `DPoP ${t}`, dpop: forLocal } });
    expectOutcome(refused, 401);
    expect(refused.headers.get('www-authenticate')).to.match(/htu/);
  });
});

describe('MHD with trust on but no trust.helseid', function () {
  this.timeout(60_000);
  it('is not served at all (404), rather than open', async () => {
    const node = await startTestNode({ homeCommunityId: HOME, trust: trustConfig() });
    try {
      const res = await fetch(`${node.url}/fhir/metadata`);
      expect(res.status).to.equal(404);
      expect(res.headers.get('content-type') ?? '').to.not.match(/fhir/);
    } finally {
      await node.close();
    }
  });
});
