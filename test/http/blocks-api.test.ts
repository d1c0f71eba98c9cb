import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express from 'express';
import winston from 'winston';
import { parseConfig } from '../../connector/config.js';
import { MemoryPatientBlockStore, type PatientBlockStore } from '../../connector/trust/blocks.js';
import { normalisePatientId, patientBlocksApi } from '../../connector/trust/blocks-api.js';
import type { Principal } from '../../connector/trust/principal.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

const TOKEN = 'k'.repeat(40);
const FNR = '13116900216';
const FNR_CX = `${FNR}^^^&2.16.578.1.12.4.1.4.1&ISO`;
const DNR = '41018036736';

function call(base: string, method: string, path: string, body?: unknown, token: string | null = TOKEN, raw?: string) {
  return fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
  }).then(async (r) => ({ status: r.status, headers: r.headers, json: r.status === 204 ? undefined : ((await r.json()) as Record<string, unknown>) }));
}

const doctor = (hpr: string, org: string): Principal =>
  ({ assertionId: 'a', issuer: 'i', subjectId: '01017012345', hprNumber: hpr, organizationId: { root: '2.16.578.1.12.4.1.4.101', extension: org }, accessConsentPolicies: [], audiences: [], notOnOrAfter: new Date(Date.now() + 60_000), attributes: {} }) as Principal;

describe('patient-block admin API', () => {
  describe('patient ids', () => {
    it('accepts a fødselsnummer, a D-number and a CX; refuses bad check digits and malformed CX', () => {
      expect(normalisePatientId(FNR, false)).to.deep.equal({ cx: FNR_CX });
      expect(normalisePatientId(DNR, false)).to.deep.equal({ cx: `${DNR}^^^&2.16.578.1.12.4.1.4.2&ISO` });
      expect(normalisePatientId(`PAT1^^^&1.3.6.1.4.1.21367.2005.13.20.1000&ISO`, false)).to.deep.equal({ cx: `PAT1^^^&1.3.6.1.4.1.21367.2005.13.20.1000&ISO` });
      expect(normalisePatientId('13116900217', false)).to.have.property('error').that.matches(/not a valid fødselsnummer/);
      expect(normalisePatientId('13116900217^^^&2.16.578.1.12.4.1.4.1&ISO', false)).to.have.property('error');
      expect(normalisePatientId('PAT1^^^1.2.3', false)).to.have.property('error').that.matches(/CX/);
    });
  });

  describe('over HTTP', () => {
    let server: import('node:http').Server;
    let base: string;
    let store: PatientBlockStore;
    before(async () => {
      store = new MemoryPatientBlockStore();
      const app = express();
      app.use('/admin/patient-blocks', patientBlocksApi(store, { token: TOKEN, logger: winston.createLogger({ silent: true }) }));
      server = await new Promise((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      base = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/admin/patient-blocks`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    });

    it('refuses a missing, wrong or differently long token with 401', async () => {
      for (const token of [null, 'wrong', TOKEN.slice(0, -1), `${TOKEN}x`, '']) {
        const r = await call(base, 'GET', `?patientId=${FNR}`, undefined, token);
        expect(r.status, String(token)).to.equal(401);
        expect(r.headers.get('www-authenticate')).to.match(/^Bearer/);
      }
      const basic = await fetch(`${base}?patientId=${FNR}`, { headers: { authorization: `Basic ${TOKEN}` } });
      expect(basic.status).to.equal(401);
    });

    it('adds, lists and removes blocks of every kind; the store enforces them', async () => {
      const all = await call(base, 'POST', '', { patientId: FNR, kind: 'all', reason: 'patient request' });
      expect(all.status).to.equal(201);
      expect(all.json).to.include({ patientId: FNR_CX, kind: 'all', reason: 'patient request' });
      expect(all.headers.get('location')).to.equal(`/admin/patient-blocks/${all.json!.id as string}`);
      const prac = await call(base, 'POST', '', { patientId: FNR_CX, kind: 'practitioner', value: '9144900' });
      const org = await call(base, 'POST', '', { patientId: FNR, kind: 'organization', value: '974760673' });
      expect([prac.status, org.status]).to.deep.equal([201, 201]);

      const list = await call(base, 'GET', `?patientId=${encodeURIComponent(FNR_CX)}`);
      expect(list.status).to.equal(200);
      expect((list.json!.blocks as Array<{ kind: string }>).map((b) => b.kind)).to.deep.equal(['all', 'practitioner', 'organization']);

      expect(await store.isBlocked(doctor('1', '1'), FNR_CX)).to.equal(true);
      expect((await call(base, 'DELETE', `/${all.json!.id as string}`)).status).to.equal(204);
      expect(await store.isBlocked(doctor('1', '1'), FNR_CX)).to.equal(false);
      expect(await store.isBlocked(doctor('9144900', '1'), FNR_CX)).to.equal(true);
      expect(await store.isBlocked(doctor('1', '974760673'), FNR_CX)).to.equal(true);
      expect((await call(base, 'DELETE', `/${all.json!.id as string}`)).status).to.equal(404);
      const after = await call(base, 'GET', `?patientId=${FNR}`);
      expect((after.json!.blocks as unknown[]).length).to.equal(2);
    });

    it('validates input with a message naming the problem', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ patientId: '13116900217', kind: 'all' }, /not a valid fødselsnummer/],
        [{ patientId: FNR, kind: 'everyone' }, /kind/],
        [{ patientId: FNR, kind: 'practitioner' }, /needs the blocked practitioner/],
        [{ patientId: FNR, kind: 'all', value: '123' }, /takes no value/],
        [{ patientId: FNR, kind: 'organization', value: 'ACME; DROP TABLE' }, /digits/],
        [{ patientId: FNR, kind: 'all', extra: 1 }, /extra/],
        [[], /expected object/],
      ];
      for (const [body, message] of cases) {
        const r = await call(base, 'POST', '', body);
        expect(r.status, JSON.stringify(body)).to.equal(400);
        expect(r.json!.error).to.match(message);
      }
      const broken = await call(base, 'POST', '', undefined, TOKEN, '{"patientId": ');
      expect(broken).to.deep.include({ status: 400, json: { error: 'the body is not valid JSON' } });
      const huge = await call(base, 'POST', '', { patientId: FNR, kind: 'all', reason: 'x'.repeat(20_000) });
      expect(huge.status).to.equal(413);
      const text = await fetch(base, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' }, body: 'x' });
      expect(text.status).to.equal(415);
      expect((await call(base, 'GET', '')).status).to.equal(400);
      expect((await call(base, 'DELETE', '/not-a-uuid')).status).to.equal(400);
      expect((await call(base, 'PUT', '/x', {})).status).to.equal(404);
    });
  });

  describe('mounted by the node', () => {
    let node: TestNode;
    afterEach(async () => {
      await node?.close();
    });

    it('only when a token is configured, at the configured path, with the store under dataDir', async () => {
      node = await startTestNode({ trust: { blocksApi: { token: TOKEN, path: '/ops/blocks' } } });
      expect(node.patientBlocks).to.not.equal(undefined);
      expect(existsSync(join(node.dataDir, 'patient-blocks.sqlite'))).to.equal(true);
      const added = await call(`${node.url}/ops/blocks`, 'POST', '', { patientId: FNR, kind: 'all' });
      expect(added.status).to.equal(201);
      expect(await node.patientBlocks!.isBlocked(doctor('1', '1'), FNR_CX)).to.equal(true);
      expect((await call(`${node.url}/ops/blocks`, 'GET', `?patientId=${FNR}`, undefined, 'nope-nope-nope-nope-nope-nope-nope')).status).to.equal(401);
      await node.close();

      node = await startTestNode({});
      expect(node.patientBlocks).to.equal(undefined);
      expect((await fetch(`${node.url}/admin/patient-blocks?patientId=${FNR}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).to.equal(404);
    });

    it('refuses a short token at start', () => {
      expect(() => parseConfig({ trust: { blocksApi: { token: 'short' } } })).to.throw(/trust.blocksApi.token: expected a token of at least 32/);
    });
  });
});
