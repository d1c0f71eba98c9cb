/**
 * The MHD endpoint taken past express (connector/http/direct-routes.ts, `subtree`), against a real
 * node over real HTTP: every request at or below `/fhir` reaches the endpoint without express's
 * router, and answers exactly as the same request routed by express does. Express still routes
 * `/FHIR/…` (it matches a mount path ignoring case) to the same endpoint, so each request is sent
 * both ways and the two answers compared: status, every header but Date, and the body's bytes.
 * Searches, reads, the CapabilityStatement, ITI-68 with and without a range, HEAD, and every
 * refusal: 400 (bad parameters, an undecodable id), 404, 405 with Allow, 406, 415, and under the
 * trust model 401 for a missing or invalid token.
 */
import { expect } from 'chai';
import express from 'express';
import { mintTestToken, TEST_AUDIENCE, TEST_ISSUER, TEST_JWKS_FILE } from '../../fixtures/helseid/mint.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { HOME, PATIENT_FNR, trustConfig } from '../wiring/helpers.js';
import { NHN_DOC_UID, NHN_DOC_UUID, NHN_FNR, nhnBundle, patientOf } from './bundles.js';

interface Exchange {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

interface Sent {
  readonly method?: string;
  /** Below the mount: `/DocumentReference?…`. */
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

async function exchange(url: string, sent: Sent): Promise<Exchange> {
  const res = await fetch(url, { method: sent.method ?? 'GET', headers: sent.headers ?? {}, ...(sent.body !== undefined ? { body: sent.body } : {}) });
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (name !== 'date') headers[name] = value;
  });
  return { status: res.status, headers, body: Buffer.from(await res.arrayBuffer()) };
}

/**
 * Counts the requests express handles: `express()` copies `application.handle` onto each app it
 * makes, so wrapping it before the node starts sees every request the node's app is given.
 */
function countExpress(): { readonly count: () => number; readonly restore: () => void } {
  const application = express.application as unknown as { handle: (...args: unknown[]) => unknown };
  const original = application.handle;
  let n = 0;
  application.handle = function (this: unknown, ...args: unknown[]) {
    n++;
    return original.apply(this, args);
  };
  return { count: () => n, restore: () => (application.handle = original) };
}

/** Sends `sent` past express (`/fhir`) and through it (`/FHIR`), and checks the two answers are the same. */
async function sameBothWays(node: TestNode, handled: () => number, sent: Sent): Promise<Exchange> {
  const before = handled();
  const direct = await exchange(`${node.url}/fhir${sent.path}`, sent);
  expect(handled(), `${sent.method ?? 'GET'} /fhir${sent.path} went through express`).to.equal(before);
  const routed = await exchange(`${node.url}/FHIR${sent.path}`, sent);
  expect(handled(), `${sent.method ?? 'GET'} /FHIR${sent.path} did not go through express`).to.equal(before + 1);
  const what = `${sent.method ?? 'GET'} ${sent.path}`;
  expect(direct.status, what).to.equal(routed.status);
  expect(direct.headers, what).to.deep.equal(routed.headers);
  expect(direct.body.toString('utf8'), what).to.equal(routed.body.toString('utf8'));
  return direct;
}

function outcomeOf(answer: Exchange): { resourceType: string; issue: { code: string; diagnostics?: string }[] } {
  expect(answer.headers['content-type']).to.equal('application/fhir+json; charset=utf-8');
  return JSON.parse(answer.body.toString('utf8')) as { resourceType: string; issue: { code: string; diagnostics?: string }[] };
}

describe('MHD past express (connector/http/direct-routes.ts): the same answers as through express', function () {
  this.timeout(60_000);

  describe('trust off', () => {
    let node: TestNode;
    let spy: ReturnType<typeof countExpress>;
    let repositoryUniqueId: string;
    const search = `/DocumentReference?${patientOf(NHN_FNR)}&status=current`;

    before(async () => {
      spy = countExpress();
      node = await startTestNode({ registry: { patientIds: { acceptSyntheticNorwegianIds: true } } });
      repositoryUniqueId = node.config.repository.repositoryUniqueId;
      // ITI-65 past express: the document the searches below find.
      const before = spy.count();
      const provided = await exchange(`${node.url}/fhir`, { method: 'POST', path: '', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(nhnBundle()) });
      expect(provided.status, provided.body.toString()).to.equal(200);
      expect(spy.count()).to.equal(before);
    });
    after(async () => {
      spy?.restore();
      await node?.close();
    });

    it('answers a search the same, with Cache-Control no-store and no ETag', async () => {
      const answer = await sameBothWays(node, spy.count, { path: search });
      expect(answer.status).to.equal(200);
      expect(answer.headers['cache-control']).to.equal('no-store');
      expect(answer.headers['etag']).to.equal(undefined);
      expect(answer.headers['x-powered-by']).to.equal(undefined);
      const bundle = JSON.parse(answer.body.toString('utf8')) as { total: number; entry: { resource: { id: string } }[] };
      expect(bundle.entry.map((e) => e.resource.id)).to.deep.equal([NHN_DOC_UUID]);
      await sameBothWays(node, spy.count, { path: `${search}&_format=json`, headers: { accept: 'application/fhir+json' } });
      await sameBothWays(node, spy.count, { path: `${search}&unknown=1`, headers: { prefer: 'handling=lenient' } });
      await sameBothWays(node, spy.count, { path: `/List?${patientOf(NHN_FNR)}&status=current&code=submissionset` });
    });

    it('answers the POST _search forms the same', async () => {
      const form = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `${patientOf(NHN_FNR)}&status=current` };
      expect((await sameBothWays(node, spy.count, { ...form, path: '/DocumentReference/_search' })).status).to.equal(200);
      expect((await sameBothWays(node, spy.count, { ...form, path: '/List/_search', body: `${patientOf(NHN_FNR)}&status=current&code=submissionset` })).status).to.equal(200);
      expect((await sameBothWays(node, spy.count, { ...form, path: '/DocumentReference/_search', headers: { 'content-type': 'text/plain' } })).status).to.equal(415);
    });

    it('answers a read, the CapabilityStatement and HEAD the same', async () => {
      expect((await sameBothWays(node, spy.count, { path: `/DocumentReference/${NHN_DOC_UUID}` })).status).to.equal(200);
      expect((await sameBothWays(node, spy.count, { path: `/DocumentReference/${NHN_DOC_UUID}/` })).status).to.equal(200);
      expect((await sameBothWays(node, spy.count, { path: '/metadata' })).status).to.equal(200);
      expect((await sameBothWays(node, spy.count, { path: '/metadata/' })).status).to.equal(200);
      const head = await sameBothWays(node, spy.count, { method: 'HEAD', path: search });
      expect(head.status).to.equal(200);
      expect(head.body.length).to.equal(0);
    });

    it('answers ITI-68 the same, whole, as a range and as a Binary resource', async () => {
      const document = `/Binary/${NHN_DOC_UID}?repositoryUniqueId=${repositoryUniqueId}`;
      const whole = await sameBothWays(node, spy.count, { path: document });
      expect(whole.status).to.equal(200);
      expect(whole.headers['x-content-type-options']).to.equal('nosniff');
      expect((await sameBothWays(node, spy.count, { path: document, headers: { range: 'bytes=0-9' } })).status).to.equal(206);
      expect((await sameBothWays(node, spy.count, { path: document, headers: { range: 'bytes=999999-' } })).status).to.equal(416);
      expect((await sameBothWays(node, spy.count, { path: `${document}&_format=json` })).headers['content-type']).to.equal('application/fhir+json; charset=utf-8');
      expect((await sameBothWays(node, spy.count, { method: 'HEAD', path: document })).status).to.equal(200);
    });

    it('refuses the same: 400, 404, 405 with Allow, 406, 415, each an OperationOutcome', async () => {
      const refused = async (sent: Sent, status: number, allow?: string) => {
        const answer = await sameBothWays(node, spy.count, sent);
        expect(answer.status, sent.path).to.equal(status);
        expect(answer.headers['cache-control']).to.equal('no-store');
        expect(answer.headers['allow']).to.equal(allow);
        expect(outcomeOf(answer).resourceType).to.equal('OperationOutcome');
        return answer;
      };
      await refused({ path: `${search}&unknown=1` }, 400);
      await refused({ path: '/DocumentReference?patient.identifier=nonsense' }, 400);
      await refused({ path: '/DocumentReference/not-a-uuid' }, 404);
      await refused({ path: `/DocumentReference/${'0'.repeat(8)}-0000-0000-0000-000000000000` }, 404);
      await refused({ path: '/Patient?name=x' }, 404);
      await refused({ path: '/documentreference' }, 404);
      await refused({ path: '/metadata//' }, 404);
      await refused({ method: 'DELETE', path: search }, 405, 'GET');
      await refused({ method: 'PUT', path: `/DocumentReference/${NHN_DOC_UUID}`, headers: { 'content-type': 'application/fhir+json' }, body: '{}' }, 405, 'GET');
      await refused({ path: '/DocumentReference/_search' }, 405, 'POST');
      await refused({ path: '' }, 405, 'POST');
      await refused({ path: '/' }, 405, 'POST');
      await refused({ method: 'POST', path: '/metadata' }, 405, 'GET');
      await refused({ method: 'OPTIONS', path: '/List' }, 405, 'GET');
      await refused({ path: `${search}&_format=xml` }, 406);
      await refused({ path: search, headers: { accept: 'application/fhir+xml' } }, 406);
      await refused({ method: 'POST', path: '', headers: { 'content-type': 'application/fhir+xml' }, body: '<Bundle/>' }, 415);
      const badJson = await refused({ method: 'POST', path: '', headers: { 'content-type': 'application/fhir+json' }, body: '{"resourceType":' }, 400);
      expect(badJson.body.toString()).to.not.match(/\bat .*\.(ts|js):\d+|node_modules/);
    });

    it('answers an id that is not valid percent-encoding with an OperationOutcome (express answered its own error page)', async () => {
      const answer = await sameBothWays(node, spy.count, { path: '/DocumentReference/%E0%A4%A' });
      expect(answer.status).to.equal(400);
      expect(outcomeOf(answer).issue[0]!.code).to.equal('invalid');
      expect(answer.body.toString()).to.not.match(/URIError|\bat .*\.(ts|js):\d+/);
    });

    it('counts direct requests in the metrics as before', async () => {
      const count = async (): Promise<number> => {
        const text = await (await fetch(`${node.url}/metrics`)).text();
        const line = text.split('\n').find((l) => l.startsWith('koblingspunkt_requests_total{') && l.includes('endpoint="fhir"') && l.includes('transaction="ITI-67"') && l.includes('outcome="success"'));
        return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
      };
      const before = await count();
      expect((await exchange(`${node.url}/fhir${search}`, { path: search })).status).to.equal(200);
      // The count is taken when the response closes, just after the client has read it.
      for (let i = 0; i < 50 && (await count()) === before; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await count()).to.equal(before + 1);
    });
  });

  describe('trust on (HelseID)', () => {
    let node: TestNode;
    let spy: ReturnType<typeof countExpress>;
    const search = `/DocumentReference?${patientOf(PATIENT_FNR)}&status=current`;

    before(async () => {
      spy = countExpress();
      node = await startTestNode({
        homeCommunityId: HOME,
        trust: { ...trustConfig(), helseid: { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: TEST_JWKS_FILE } } },
        registry: { patientIds: { acceptSyntheticNorwegianIds: true } },
      });
    });
    after(async () => {
      spy?.restore();
      await node?.close();
    });

    it('verifies the token the same way: 401 with the challenge without one or with a bad one, 200 with a good one', async () => {
      const missing = await sameBothWays(node, spy.count, { path: search });
      expect(missing.status).to.equal(401);
      expect(missing.headers['www-authenticate']).to.match(/^Bearer|^DPoP/);
      expect(outcomeOf(missing).resourceType).to.equal('OperationOutcome');
      const invalid = await sameBothWays(node, spy.count, { path: search, headers: { authorization: 'Bearer not.a.token' } });
      expect(invalid.status).to.equal(401);
      expect(invalid.headers['www-authenticate']).to.include('invalid_token');
      const token = await mintTestToken({ patient: PATIENT_FNR });
      expect((await sameBothWays(node, spy.count, { path: search, headers: { authorization: `Bearer ${token}` } })).status).to.equal(200);
      // The CapabilityStatement needs no token either way.
      expect((await sameBothWays(node, spy.count, { path: '/metadata' })).status).to.equal(200);
    });
  });
});
