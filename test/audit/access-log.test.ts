/**
 * The patient access log over real HTTP: who accessed which documents and when, by name and
 * organisation, never by the practitioner's fødselsnummer (ATT-8); guarded by its own token.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import express from 'express';
import { accessLogRouter } from '../../connector/audit/access-log.js';
import { Auditor } from '../../connector/audit/auditor.js';
import { auditEvents, denialEvent } from '../../connector/audit/event.js';
import { openAuditStore, type AuditStore } from '../../connector/audit/store.js';
import { baseInput, PRACTITIONER_FNR } from './fixtures.js';

const TOKEN = 'test-access-log-token-0123456789';

describe('patient access log API', () => {
  let dir: string;
  let store: AuditStore;
  let auditor: Auditor;
  let server: Server;
  let base: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kp-access-log-'));
    store = await openAuditStore({ dataDir: dir });
    auditor = new Auditor({ dataDir: dir, store });
    const documents = [{ uniqueId: '2.16.578.1.12.4.5.100.1.7.1', repositoryUniqueId: '2.16.578.1.12.4.5.100.1.2' }];
    await auditor.record(
      auditEvents.iti18({ ...baseInput({ at: new Date('2026-05-01T08:00:00.000Z') }), query: { storedQueryId: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d', text: `<q>${PRACTITIONER_FNR}</q>` } }),
    );
    await auditor.record(auditEvents.iti43({ ...baseInput({ at: new Date('2026-05-01T08:01:00.000Z') }), documents }));
    await auditor.record(denialEvent({ transaction: 'ITI-43', ...baseInput({ at: new Date('2026-05-02T09:00:00.000Z') }), documents, reason: 'ATT-5 patient block' }));
    const app = express();
    app.use('/audit/access-log', accessLogRouter(store, { token: TOKEN }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit/access-log`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await auditor.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (query: string, token: string | null = TOKEN) =>
    fetch(`${base}?${query}`, token === null ? {} : { headers: { authorization: `Bearer ${token}` } });

  it('lists who accessed which documents and when, by name and organisation, never by fødselsnummer', async () => {
    const res = await get('patientId=01017012345&from=2026-05-01&to=2026-06-01');
    expect(res.status).to.equal(200);
    const text = await res.text();
    expect(text).to.not.contain(PRACTITIONER_FNR);
    expect(text).to.not.contain('502116685'); // nor the HPR number
    const body = JSON.parse(text);
    expect(body.patientId).to.equal('01017012345');
    expect(body.truncated).to.equal(false);
    expect(body.accesses.map((a: any) => [a.time, a.action, a.outcome])).to.deep.equal([
      ['2026-05-01T08:00:00.000Z', 'Registry Stored Query', 'success'],
      ['2026-05-01T08:01:00.000Z', 'Retrieve Document Set', 'success'],
      ['2026-05-02T09:00:00.000Z', 'Retrieve Document Set', 'refused'],
    ]);
    expect(body.accesses[1]).to.deep.include({
      practitioner: { name: 'Ærlig Øvergård', role: 'Lege' },
      organisation: { id: '983974880', name: 'Finnmarkssykehuset HF' },
      pointOfCare: { id: '4208723', name: 'Medisinsk avdeling, Hammerfest' },
      purpose: 'Treatment',
      documents: ['2.16.578.1.12.4.5.100.1.7.1'],
    });
    expect(res.headers.get('cache-control')).to.equal('no-store');
  });

  it('accepts the patient id in CX form and narrows by time range', async () => {
    const cx = encodeURIComponent('01017012345^^^&2.16.578.1.12.4.1.4.1&ISO');
    const body = await (await get(`patientId=${cx}&from=2026-05-02T00:00:00Z&to=2026-05-03T00:00:00Z`)).json();
    expect(body.accesses).to.have.length(1);
    expect(body.accesses[0].outcome).to.equal('refused');
  });

  it('refuses a missing or wrong token with 401, and bad parameters with 400', async () => {
    expect((await get('patientId=01017012345', null)).status).to.equal(401);
    const wrong = await get('patientId=01017012345', 'test-access-log-token-0123456788');
    expect(wrong.status).to.equal(401);
    expect(wrong.headers.get('www-authenticate')).to.match(/^Bearer/);
    expect((await get('')).status).to.equal(400);
    expect((await get('patientId=01017012345&from=yesterday')).status).to.equal(400);
    expect((await get('patientId=01017012345&from=2026-06-01&to=2026-05-01')).status).to.equal(400);
  });
});
