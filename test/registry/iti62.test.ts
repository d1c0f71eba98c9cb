/**
 * ITI-62 Delete Document Set at the registry, over real HTTP: each integrity rule with its error
 * code, atomicity (a refused removal changes nothing), two racing removals of the same objects,
 * the request forms ITI-62 refuses, NHN's sample requests, and the audit event of a removal.
 * (The NIST reg_rm plans, with RPLC, APND and folders, run in test/integration/nist-conformance.)
 */
import { expect } from 'chai';
import { nhnSample } from '../../fixtures/index.js';
import { MAX_OBJECT_REFS } from '../../registry/model/delete.js';
import type { Association, RegistryObject } from '../../registry/model/metadata.js';
import { NS } from '../../registry/xml/namespaces.js';
import { cx, epikrise, errorCodes, findDocumentsBody, status } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, postRaw, postSoap, soapContentType } from '../helpers/soap.js';
import { auditRows, OTHER_FNR, PATIENT_FNR } from '../wiring/helpers.js';

function removeBody(ids: readonly string[], attributes = '', extra = ''): string {
  return (
    `<lcm:RemoveObjectsRequest xmlns:lcm="${NS.lcm}" xmlns:rim="${NS.rim}"${attributes}>${extra}` +
    `<rim:ObjectRefList>${ids.map((id) => `<rim:ObjectRef id="${id}"/>`).join('')}</rim:ObjectRefList>` +
    '</lcm:RemoveObjectsRequest>'
  );
}

/** One registered epikrise: its SubmissionSet, DocumentEntry and the HasMember between them. */
interface Registered {
  readonly set: string;
  readonly entry: string;
  readonly membership: string;
}

describe('ITI-62 Delete Document Set', function () {
  this.timeout(30_000);
  let node: TestNode;
  let url: string;
  let fnr = 0;
  /** A fresh patient per registration (valid fødselsnummer check digits, synthetic ids accepted). */
  const patients = [PATIENT_FNR, OTHER_FNR, '13116900216'];

  const remove = (ids: readonly string[]) => postSoap(url, ACTIONS.iti62.request, removeBody(ids));
  const objectsOf = (patient: string) => node.registry.store.find({ patientId: patient });

  async function register(patient: string): Promise<Registered> {
    const res = await postSoap(url, ACTIONS.iti42.request, epikrise({ patient }).xml);
    expect(status(res.body)).to.equal('Success');
    const objects = await objectsOf(patient);
    const set = objects.filter((o) => o.type === 'SubmissionSet').at(-1)!;
    const entry = objects.filter((o) => o.type === 'DocumentEntry').at(-1)!;
    const [membership] = (await node.registry.store.find({ type: 'Association', sourceUuid: set.entryUuid, targetUuid: entry.entryUuid })) as Association[];
    return { set: set.entryUuid, entry: entry.entryUuid, membership: membership!.entryUuid };
  }

  const all = (r: Registered) => [r.set, r.membership, r.entry];
  const stored = async (ids: readonly string[]): Promise<string[]> => (await node.registry.store.getByUuids(ids)).map((o: RegistryObject) => o.entryUuid).sort();

  before(async () => {
    node = await startTestNode();
    url = `${node.url}/xds/registry`;
  });
  after(async () => node?.close());

  const nextPatient = () => cx(patients[fnr++ % patients.length]!);

  it('removes a whole submission: Success, its entries are no longer found, and the removal is audited with its patient', async () => {
    const patient = nextPatient();
    const r = await register(patient);
    const auditedBefore = auditRows(node.dataDir).length;
    const res = await remove(all(r));
    expect(status(res.body)).to.equal('Success');
    expect(await stored(all(r))).to.deep.equal([]);
    const found = await postSoap(url, ACTIONS.iti18.request, findDocumentsBody(patient));
    expect(found.text).to.not.contain(r.entry);
    const events = auditRows(node.dataDir).slice(auditedBefore).filter((row) => row.access.transaction === 'ITI-62');
    expect(events).to.have.length(1);
    // The audit store keys a patient by the number alone (connector/audit/patient.ts).
    expect(patient.startsWith(`${events[0]!.patientId}^^^`)).to.equal(true);
    for (const id of all(r)) expect(events[0]!.resource).to.contain(id);
  });

  it('an id not in the registry → UnresolvedReferenceException, and nothing of the request is removed', async () => {
    const r = await register(nextPatient());
    const unknown = 'urn:uuid:11111111-2222-3333-4444-999999999999';
    const res = await remove([...all(r), unknown, 'Document01']);
    expect(status(res.body)).to.equal('Failure');
    expect(errorCodes(res.body)).to.deep.equal(['UnresolvedReferenceException', 'UnresolvedReferenceException']);
    expect(res.text).to.contain(unknown);
    expect(await stored(all(r))).to.deep.equal(all(r).sort());
  });

  it('a SubmissionSet whose HasMember stays → ReferencesExistException; nothing removed', async () => {
    const r = await register(nextPatient());
    const res = await remove([r.set]);
    expect(status(res.body)).to.equal('Failure');
    expect(errorCodes(res.body)).to.deep.equal(['ReferencesExistException']);
    expect(await stored(all(r))).to.deep.equal(all(r).sort());
  });

  it('a DocumentEntry with its membership but not its SubmissionSet → XDSUnreferencedObjectException; nothing removed', async () => {
    const r = await register(nextPatient());
    const res = await remove([r.entry, r.membership]);
    expect(status(res.body)).to.equal('Failure');
    expect(errorCodes(res.body)).to.deep.equal(['XDSUnreferencedObjectException']);
    expect(await stored(all(r))).to.deep.equal(all(r).sort());
  });

  it('a membership alone → XDSUnreferencedObjectException for the set left empty and the entry left in no set', async () => {
    const r = await register(nextPatient());
    const res = await remove([r.membership]);
    expect(status(res.body)).to.equal('Failure');
    expect(errorCodes(res.body)).to.deep.equal(['XDSUnreferencedObjectException', 'XDSUnreferencedObjectException']);
    expect(await stored(all(r))).to.deep.equal(all(r).sort());
  });

  it('two removals of the same objects at once: exactly one succeeds, the other finds them gone', async () => {
    const r = await register(nextPatient());
    const answers = await Promise.all([remove(all(r)), remove(all(r))]);
    const statuses = answers.map((a) => status(a.body)).sort();
    expect(statuses).to.deep.equal(['Failure', 'Success']);
    const failed = answers.find((a) => status(a.body) === 'Failure')!;
    expect(new Set(errorCodes(failed.body))).to.deep.equal(new Set(['UnresolvedReferenceException']));
  });

  it('a removal racing a registration that it conflicts with is decided in arrival order on the one write path', async () => {
    const patient = nextPatient();
    const r = await register(patient);
    const entriesBefore = (await objectsOf(patient)).filter((o) => o.type === 'DocumentEntry').length;
    // The registration and the removal of an earlier submission go through the same queue; both succeed.
    const [registered, removed] = await Promise.all([postSoap(url, ACTIONS.iti42.request, epikrise({ patient }).xml), remove(all(r))]);
    expect(status(registered.body)).to.equal('Success');
    expect(status(removed.body)).to.equal('Success');
    expect((await objectsOf(patient)).filter((o) => o.type === 'DocumentEntry')).to.have.length(entriesBefore);
  });

  it(`more than ${MAX_OBJECT_REFS} ObjectRefs in one request → XDSRegistryError before any is looked up`, async () => {
    const many = Array.from({ length: MAX_OBJECT_REFS + 1 }, (_, i) => `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const res = await remove(many);
    expect(status(res.body)).to.equal('Failure');
    expect(errorCodes(res.body)).to.deep.equal(['XDSRegistryError']);
    expect(res.text).to.contain(`at most ${MAX_OBJECT_REFS}`);
  });

  it('refuses what ITI-62 does not define: an empty list, another deletionScope, selection by AdhocQuery', async () => {
    const r = await register(nextPatient());
    const empty = await remove([]);
    expect(errorCodes(empty.body)).to.deep.equal(['XDSRegistryError']);
    const scope = await postSoap(url, ACTIONS.iti62.request, removeBody(all(r), ' deletionScope="urn:oasis:names:tc:ebxml-regrep:DeletionScopeType:DeleteRepositoryItemOnly"'));
    expect(errorCodes(scope.body)).to.deep.equal(['XDSRegistryError']);
    const query = await postSoap(url, ACTIONS.iti62.request, removeBody(all(r), '', `<rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"/>`));
    expect(errorCodes(query.body)).to.deep.equal(['XDSRegistryError']);
    // A wrong body element is a SOAP fault, as for every transaction.
    const wrong = await postSoap(url, ACTIONS.iti62.request, `<lcm:SubmitObjectsRequest xmlns:lcm="${NS.lcm}"/>`);
    expect(wrong.body.local).to.equal('Fault');
    expect(await stored(all(r))).to.deep.equal(all(r).sort());
  });

  it("answers NHN's sample requests: the template with an empty list, and the filled one (its SAML header left out) with the ids it names", async () => {
    const template = nhnSample('IT_iti-62_request.xml').toString('utf8').replace(/<wsse:Security[\s\S]*?<\/wsse:Security>\s*/, '');
    const res = await postRaw(url, template, soapContentType(ACTIONS.iti62.request));
    expect(status(res.body)).to.equal('Failure');
    expect(errorCodes(res.body)).to.deep.equal(['XDSRegistryError']);

    // The filled sample names four objects this registry never held: each is unresolved, nothing is removed.
    const filled = nhnSample('iti62-iti40-request.xml').toString('utf8').replace(/<wsse:Security[\s\S]*?<\/wsse:Security>\s*/, '');
    const named = [...filled.matchAll(/ObjectRef id="([^"]+)"/g)].map((m) => m[1]!);
    expect(named).to.have.length(4);
    const answer = await postRaw(url, filled, soapContentType(ACTIONS.iti62.request));
    expect(status(answer.body)).to.equal('Failure');
    expect(errorCodes(answer.body)).to.deep.equal(named.map(() => 'UnresolvedReferenceException'));
  });
});
