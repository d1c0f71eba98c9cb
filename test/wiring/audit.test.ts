/**
 * Audit wired into every transaction (trust disabled, the quick-start default): a record in the
 * node's own audit store for each of ITI-41, 42, 18, 43, 38, 39 served, and for the ITI-38/39 an
 * initiating gateway sends — present when the response arrives, i.e. recorded before it was sent.
 */
import { expect } from 'chai';
import { cx, epikrise, findDocumentsBody, provideBody, retrieveBody, status } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, envelope, postRaw, soapContentType } from '../helpers/soap.js';
import { auditRows, HOME, PATIENT_FNR } from './helpers.js';

const B_HOME = 'urn:oid:2.16.578.1.12.4.5.100.2';

describe('audit of every transaction (trust disabled)', function () {
  this.timeout(20_000);
  let a: TestNode;
  let b: TestNode;
  let docUid: string;
  const patient = cx(PATIENT_FNR);

  before(async () => {
    b = await startTestNode({ homeCommunityId: B_HOME });
    a = await startTestNode({
      homeCommunityId: HOME,
      gateway: { communities: [{ homeCommunityId: B_HOME, queryUrl: `${b.url}/xca/responding`, retrieveUrl: `${b.url}/xca/responding` }] },
    });
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  const send = (node: TestNode, path: string, action: string, body: string) =>
    postRaw(`${node.url}${path}`, envelope({ action, to: `${node.url}${path}`, body }), soapContentType(action));
  const epikriseDocument = [{ id: 'Document01', bytes: Buffer.from('epikrise') }];
  const latest = (node: TestNode) => auditRows(node.dataDir).at(-1)!;

  it('ITI-41 provide and register', async () => {
    const s = epikrise({ patient, forRepository: true });
    docUid = s.docUid;
    const res = await send(b, '/xds/repository', ACTIONS.iti41.request, provideBody(s.xml, epikriseDocument));
    expect(status(res.body)).to.equal('Success');
    const row = latest(b);
    expect(row.access.transaction).to.equal('ITI-41');
    expect(row.access.outcome).to.equal('success');
    expect(row.patientId).to.equal(PATIENT_FNR);
  });

  it('ITI-42 register', async () => {
    const res = await send(b, '/xds/registry', ACTIONS.iti42.request, epikrise({ patient }).xml);
    expect(status(res.body)).to.equal('Success');
    expect(latest(b).access.transaction).to.equal('ITI-42');
    expect(latest(b).patientId).to.equal(PATIENT_FNR);
  });

  it('ITI-18 stored query, with the query in the record', async () => {
    await send(b, '/xds/registry', ACTIONS.iti18.request, findDocumentsBody(patient));
    const row = latest(b);
    expect(row.access.transaction).to.equal('ITI-18');
    expect(row.patientId).to.equal(PATIENT_FNR);
    // BALP: the query travels base64-encoded in entity.query.
    const entities = (JSON.parse(row.resource) as { entity: { query?: string }[] }).entity;
    const query = entities.find((e) => e.query !== undefined)!.query!;
    expect(Buffer.from(query, 'base64').toString('utf8')).to.contain('urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d').and.contain(PATIENT_FNR);
  });

  it('ITI-43 retrieve names the document and its patient (from the registry entry)', async () => {
    const res = await send(b, '/xds/repository', ACTIONS.iti43.request, retrieveBody([{ repository: b.config.repository.repositoryUniqueId, document: docUid }]));
    expect(status(res.body)).to.equal('Success');
    const row = latest(b);
    expect(row.access.transaction).to.equal('ITI-43');
    expect(row.access.documents).to.deep.equal([docUid]);
    expect(row.patientId).to.equal(PATIENT_FNR);
  });

  it('ITI-38 and ITI-39 at the responding gateway', async () => {
    await send(b, '/xca/responding', ACTIONS.iti38.request, findDocumentsBody(patient));
    expect(latest(b).access.transaction).to.equal('ITI-38');
    const res = await send(b, '/xca/responding', ACTIONS.iti39.request, retrieveBody([{ home: B_HOME, repository: b.config.repository.repositoryUniqueId, document: docUid }]));
    expect(status(res.body)).to.equal('Success');
    expect(latest(b).access.transaction).to.equal('ITI-39');
    expect(latest(b).access.documents).to.deep.equal([docUid]);
  });

  it('the initiating gateway records the inbound ITI-18/43 and every outbound ITI-38/39 it sends', async () => {
    const before = auditRows(a.dataDir).length;
    const q = await send(a, '/xca/initiating', ACTIONS.iti18.request, findDocumentsBody(patient));
    expect(status(q.body)).to.equal('Success');
    const r = await send(a, '/xca/initiating', ACTIONS.iti43.request, retrieveBody([{ home: B_HOME, repository: b.config.repository.repositoryUniqueId, document: docUid }]));
    expect(status(r.body)).to.equal('Success');
    const rows = auditRows(a.dataDir).slice(before);
    const transactions = rows.map((x) => x.access.transaction).sort();
    expect(transactions).to.deep.equal(['ITI-18', 'ITI-38', 'ITI-39', 'ITI-43']);
    // The outbound records name the community's URL as the destination.
    const outbound = rows.filter((x) => x.access.transaction === 'ITI-38' || x.access.transaction === 'ITI-39');
    for (const o of outbound) expect(o.resource).to.contain(`${b.url}/xca/responding`);
    // Queries name their patient; without trust a federated retrieve's patient is known only to the
    // community that holds the document (with trust it is the assertion's resource-id).
    expect(rows.filter((x) => x.access.transaction === 'ITI-18' || x.access.transaction === 'ITI-38').map((x) => x.patientId)).to.deep.equal([PATIENT_FNR, PATIENT_FNR]);
  });

  it('a failed request is audited with its failure outcome', async () => {
    const res = await send(b, '/xds/repository', ACTIONS.iti43.request, retrieveBody([{ repository: b.config.repository.repositoryUniqueId, document: '1.2.3.4.404' }]));
    expect(status(res.body)).to.equal('Failure');
    const row = latest(b);
    expect(row.access.transaction).to.equal('ITI-43');
    expect(row.access.outcome).to.equal('failure');
    expect(row.access.documents).to.deep.equal(['1.2.3.4.404']);
  });
});
