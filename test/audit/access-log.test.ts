/**
 * The patient access log over real HTTP: who accessed which documents and when, by name and
 * organisation, never by the practitioner's fødselsnummer (ATT-8); guarded by its own token;
 * newest first, in pages with a `next` link; bad input is a 400 naming the parameter.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import express from 'express';
import { accessLogRouter, parseInstant } from '../../connector/audit/access-log.js';
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
    const res = await get('patientId=01017012343&from=2026-05-01&to=2026-06-01');
    expect(res.status).to.equal(200);
    const text = await res.text();
    expect(text).to.not.contain(PRACTITIONER_FNR);
    expect(text).to.not.contain('502116685'); // nor the HPR number
    const body = JSON.parse(text);
    expect(body.patientId).to.equal('01017012343');
    expect(body.truncated).to.equal(false);
    // Newest first.
    expect(body.accesses.map((a: any) => [a.time, a.action, a.outcome])).to.deep.equal([
      ['2026-05-02T09:00:00.000Z', 'Retrieve Document Set', 'refused'],
      ['2026-05-01T08:01:00.000Z', 'Retrieve Document Set', 'success'],
      ['2026-05-01T08:00:00.000Z', 'Registry Stored Query', 'success'],
    ]);
    expect(body).to.not.have.property('next');
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
    const cx = encodeURIComponent('01017012343^^^&2.16.578.1.12.4.1.4.1&ISO');
    const body = await (await get(`patientId=${cx}&from=2026-05-02T00:00:00Z&to=2026-05-03T00:00:00Z`)).json();
    expect(body.accesses).to.have.length(1);
    expect(body.accesses[0].outcome).to.equal('refused');
  });

  it('refuses a missing or wrong token with 401, and bad parameters with 400', async () => {
    expect((await get('patientId=01017012343', null)).status).to.equal(401);
    const wrong = await get('patientId=01017012343', 'test-access-log-token-0123456788');
    expect(wrong.status).to.equal(401);
    expect(wrong.headers.get('www-authenticate')).to.match(/^Bearer/);
    expect((await get('')).status).to.equal(400);
    expect((await get('patientId=01017012343&from=yesterday')).status).to.equal(400);
    expect((await get('patientId=01017012343&from=2026-06-01&to=2026-05-01')).status).to.equal(400);
  });

  /** The status and the field a 400 names. */
  async function refused(query: string): Promise<[number, string | undefined]> {
    const res = await get(query);
    const body = res.status === 400 ? await res.json() : undefined;
    return [res.status, body?.field];
  }

  it('reads dates strictly: a day that does not exist is a 400 naming the parameter, not a day in the next month', async () => {
    expect(await refused('patientId=01017012343&from=2026-02-30')).to.deep.equal([400, 'from']);
    expect(await refused('patientId=01017012343&to=2026-04-31')).to.deep.equal([400, 'to']);
    expect(await refused('patientId=01017012343&from=2025-02-29')).to.deep.equal([400, 'from']);
    expect(await refused('patientId=01017012343&from=2026-13-01')).to.deep.equal([400, 'from']);
    expect(await refused('patientId=01017012343&from=2026-05-01T24:00:00Z')).to.deep.equal([400, 'from']);
    expect(await refused('patientId=01017012343&from=2026-05-01T10:00:00')).to.deep.equal([400, 'from']);
    expect(await refused('patientId=01017012343&from=2026-05-01T10:00:00%2B15:00')).to.deep.equal([400, 'from']);
    // What does exist is read as written, zones included.
    expect((await get('patientId=01017012343&from=2024-02-29&to=2026-05-01T10:00:00%2B02:00')).status).to.equal(200);
    expect(parseInstant('2026-05-01T10:00:00+02:00')!.toISOString()).to.equal('2026-05-01T08:00:00.000Z');
    expect(parseInstant('2026-05-01T10:00:00.123456Z')!.toISOString()).to.equal('2026-05-01T10:00:00.123Z');
    expect(parseInstant('2026-05-01')!.toISOString()).to.equal('2026-05-01T00:00:00.000Z');
    expect(parseInstant('2026-02-30')).to.equal(null);
  });

  it('refuses a patient id that is no valid fødselsnummer, D-number or CX with 400; accepts the valid forms', async () => {
    for (const bad of ['abc', '01017012344', '0101701234', '32017012343', 'x^^^&2.16.578.1.12.4.1.4.1&ISO', '01017012344^^^&2.16.578.1.12.4.1.4.1&ISO', '01017012343^^^&not-an-oid&ISO']) {
      expect(await refused(`patientId=${encodeURIComponent(bad)}`), bad).to.deep.equal([400, 'patientId']);
    }
    for (const good of [
      '01017012343',
      '41017012337',
      '01017012343^^^&2.16.578.1.12.4.1.4.1&ISO',
      '01017012343^^^&urn:oid:2.16.578.1.12.4.1.4.1&ISO',
      '41017012337^^^&2.16.578.1.12.4.1.4.2&ISO',
      'ABC-123^^^&1.2.3.4&ISO',
    ]) {
      expect((await get(`patientId=${encodeURIComponent(good)}`)).status, good).to.equal(200);
    }
    // A D-number is not a fødselsnummer: the authority must match the kind.
    expect(await refused(`patientId=${encodeURIComponent('41017012337^^^&2.16.578.1.12.4.1.4.1&ISO')}`)).to.deep.equal([400, 'patientId']);
  });

  it('refuses a count outside 1..maxResults and a cursor it did not give out', async () => {
    expect(await refused('patientId=01017012343&count=0')).to.deep.equal([400, 'count']);
    expect(await refused('patientId=01017012343&count=1001')).to.deep.equal([400, 'count']);
    expect(await refused('patientId=01017012343&count=ten')).to.deep.equal([400, 'count']);
    expect(await refused('patientId=01017012343&cursor=bm90LWEtY3Vyc29y')).to.deep.equal([400, 'cursor']);
  });
});

describe('patient access log API: newest first, in pages', () => {
  let dir: string;
  let store: AuditStore;
  let server: Server;
  let origin: string;
  const times: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kp-access-log-pages-'));
    store = await openAuditStore({ dataDir: dir });
    const documents = [{ uniqueId: '2.16.578.1.12.4.5.100.1.7.1' }];
    const events = [];
    // 25 accesses over the last 25 days, two of them in the same millisecond (ties are ordered by id).
    for (let i = 0; i < 25; i++) {
      const at = new Date(Date.now() - (i + 1) * 86_400_000);
      at.setUTCMilliseconds(0);
      events.push(auditEvents.iti43({ ...baseInput({ at }), documents }));
      times.push(at.toISOString());
    }
    events.push(auditEvents.iti43({ ...baseInput({ at: new Date(times[3]!) }), documents }));
    times.push(times[3]!);
    await store.appendMany(events);
    const app = express();
    app.use('/audit/access-log', accessLogRouter(store, { token: TOKEN, maxResults: 10 }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const fetchJson = async (path: string): Promise<any> => {
    const res = await fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status, path).to.equal(200);
    return res.json();
  };

  it('over maxResults, the default view shows the most recent accesses, and `next` pages through the rest without gaps or repeats', async () => {
    const first = await fetchJson('/audit/access-log?patientId=01017012343');
    expect(first.accesses).to.have.length(10);
    expect(first.truncated).to.equal(true);
    const sorted = [...times].sort().reverse();
    expect(first.accesses.map((a: any) => a.time)).to.deep.equal(sorted.slice(0, 10));
    expect(first.next).to.match(/^\/audit\/access-log\?patientId=01017012343&from=.*&to=.*&count=10&cursor=/);
    const seen: string[] = first.accesses.map((a: any) => a.time);
    let page = first;
    let pages = 1;
    while (page.next !== undefined) {
      page = await fetchJson(page.next);
      expect(page.from).to.equal(first.from);
      expect(page.to).to.equal(first.to);
      seen.push(...page.accesses.map((a: any) => a.time));
      pages++;
    }
    expect(pages).to.equal(3);
    expect(page.truncated).to.equal(false);
    expect(seen).to.deep.equal(sorted);
  });

  it('count sets the page size', async () => {
    const body = await fetchJson('/audit/access-log?patientId=01017012343&count=4');
    expect(body.accesses).to.have.length(4);
    expect(body.next).to.contain('count=4');
    const second = await fetchJson(body.next);
    expect(second.accesses.map((a: any) => a.time)).to.deep.equal([...times].sort().reverse().slice(4, 8));
  });
});
