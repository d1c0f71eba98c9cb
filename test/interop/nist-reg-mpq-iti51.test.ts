/**
 * The NIST testkit's reg_mpq collection against ITI-51, over real HTTP: test 12361 loads its data
 * (multi_doc: three entries of one patient, single_doc: one of another), then every section of
 * 12364 sends its query.xml as written and is graded as the conformance runner grades a step
 * (its ExpectedStatus check and its ExpectedContents validator, scripts/conformance/check.ts).
 *
 * The conformance runner runs the same collection (`npm run conformance -- --collections reg_mpq`,
 * scripts/conformance/mpq.ts); here it runs in mocha against a test node with
 * registry.multiPatientQuery enabled, and the linkage the toolkit leaves to the operator (its
 * UseReports in 12361 are commented out; it asks for the two patients) is done by hand:
 * 15819's patient owns multi_doc, 15820's single_doc (as the commented-out UseReports of 12361
 * say), and 12364's UseReports resolve to the same two patients.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { NIST_TESTKIT } from '../../fixtures/index.js';
import { serializeXml } from '../../registry/xml/serialize.js';
import { checkStatus, ContentsValidator, MetadataView, registryErrors, responseStatus } from '../../scripts/conformance/check.js';
import { localNameOf, parseXmlDom, type Elem } from '../../scripts/conformance/dom.js';
import { loadMetadata, prepareSubmission, UniqueIdAllocator } from '../../scripts/conformance/metadata.js';
import { PatientIdAllocator } from '../../scripts/conformance/patients.js';
import { readSectionPlan, readTestInfo } from '../../scripts/conformance/plan.js';
import { serializeBody } from '../../scripts/conformance/soap.js';
import { status } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, postSoap } from '../helpers/soap.js';

describe('NIST reg_mpq (12361 data, 12364 queries) against ITI-51', function () {
  this.timeout(30_000);
  let node: TestNode;
  const patients = new PatientIdAllocator();
  /** The patient each Patient Identity Feed test (15819, 15820) would have reported. */
  const fed = new Map([
    ['15819', patients.fresh()],
    ['15820', patients.fresh()],
  ]);

  before(async () => {
    node = await startTestNode({ registry: { multiPatientQuery: { enabled: true, allowed: { organizations: [], roles: [] } } } });
    const loader = readTestInfo(NIST_TESTKIT, '12361');
    const uids = new UniqueIdAllocator();
    const tokens = new Map([
      ['$patient_id1$', fed.get('15819')!],
      ['$patient_id2$', fed.get('15820')!],
    ]);
    for (const section of loader.sections) {
      const plan = readSectionPlan(loader, section);
      const tx = plan.steps[0]!.transaction!;
      expect(tx.kind).to.equal('RegisterTransaction');
      const doc = loadMetadata(readFileSync(join(plan.dir, tx.metadataFiles[0]!), 'utf8'), tokens, `12361/${section}`);
      // NoPatientId: the patient ids stay as the tokens put them; AssignUuids; fresh uniqueIds.
      prepareSubmission(doc, { assignUuids: tx.flags.has('AssignUuids'), assignUids: !tx.flags.has('NoAssignUids'), uids });
      const root = doc.documentElement as Elem;
      expect(localNameOf(root)).to.equal('SubmitObjectsRequest');
      const res = await postSoap(`${node.url}/xds/registry`, ACTIONS.iti42.request, serializeBody(root));
      expect(status(res.body), `12361/${section}`).to.equal('Success');
    }
  });
  after(async () => {
    await node?.close();
  });

  const test = readTestInfo(NIST_TESTKIT, '12364');
  it('12364 is the whole of reg_mpq', () => {
    expect(test.collections).to.deep.equal(['reg_mpq']);
    expect(test.sections).to.deep.equal(['nothing', 'classcode', 'eventcode', 'hcftc', 'classcode_eventcode', 'eventcode_hcft', 'one_pid', 'multi_pid']);
  });

  for (const section of test.sections) {
    it(`12364/${section}`, async () => {
      const plan = readSectionPlan(test, section);
      const step = plan.steps[0]!;
      const tx = step.transaction!;
      expect(tx.kind).to.equal('MPQTransaction');
      const tokens = new Map(tx.useReports.map((u) => [u.useAs, fed.get(u.test!)!]));
      const query = loadMetadata(readFileSync(join(plan.dir, tx.metadataFiles[0]!), 'utf8'), tokens, `12364/${section}`);
      const res = await postSoap(`${node.url}/xds/registry`, ACTIONS.iti51.request, serializeBody(query));
      const answer = parseXmlDom(serializeXml(res.body), 'ITI-51 answer').documentElement as Elem;
      const problems = [
        ...checkStatus(step.expectedStatus, step.expectedErrorCodes, { status: responseStatus(answer), errors: registryErrors(answer) }),
        ...(tx.expectedContents ? new ContentsValidator(new MetadataView(answer), () => undefined).run(tx.expectedContents) : []),
      ];
      expect(problems).to.deep.equal([]);
    });
  }
});
