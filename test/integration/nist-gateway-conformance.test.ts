/**
 * The NIST testkit's XCA gateway collections, replayed over real HTTP:
 * - rg(xca): the node is the Responding Gateway (ITI-38/39), data loaded into it by 12318;
 * - rg(xca)_rmu: the node's Responding Gateway as Update Responder with the XCA Persistence Option
 *   (ITI-92 to /xca/responding), data loaded into its registry;
 * - ig(xca) and ig(xca)_ad: the node is the Initiating Gateway, in the environment the toolkit builds
 *   for it (scripts/conformance/environment.ts): two responding communities that are our own nodes
 *   loaded with 15807's sections, community1 answering XDSRegistryError for one patient; the
 *   runner acts as Document Consumer (ITI-18/43 to /xca/initiating), the SUT fans out ITI-38/39.
 * Every applicable plan must pass.
 */
import { expect } from 'chai';
import type { RunningNode } from '../../connector/node.js';
import { SoapClient } from '../../connector/soap/client.js';
import { parseAdhocQueryResponse, serializeAdhocQueryRequest } from '../../registry/ebxml/index.js';
import { STORED_QUERY_ID } from '../../registry/model/query.js';
import { IG_XCA_ORCHESTRATION, startGatewayEnvironment, type GatewayEnvironment } from '../../scripts/conformance/environment.js';
import { startConformanceNode } from '../../scripts/conformance/node.js';
import { runCollections, type ConformanceReport, type Session } from '../../scripts/conformance/runner.js';
import { ACTIONS } from '../helpers/soap.js';
import { expectAllApplicablePass } from './conformance-expect.js';

describe('NIST conformance: XCA Responding Gateway (rg(xca), rg(xca)_rmu)', function () {
  this.timeout(120_000);
  let node: RunningNode;
  let report: ConformanceReport;

  before(async () => {
    node = await startConformanceNode();
    report = await runCollections({
      baseUrl: node.url,
      collections: ['rg(xca)', 'rg(xca)_rmu'],
      ...(node.config.homeCommunityId ? { homeCommunityId: node.config.homeCommunityId } : {}),
    });
  });
  after(async () => node?.close());

  it('passes every applicable rg(xca) plan', () => expectAllApplicablePass(report, 'rg(xca)', 5));
  it('passes every applicable rg(xca)_rmu plan (ITI-92, XCA Persistence Option)', () => expectAllApplicablePass(report, 'rg(xca)_rmu', 8));
});

describe('NIST conformance: XCA Initiating Gateway (ig(xca), ig(xca)_ad) against two responding communities', function () {
  this.timeout(120_000);
  let env: GatewayEnvironment;
  let report: ConformanceReport;
  let session: Session | undefined;

  before(async () => {
    env = await startGatewayEnvironment(IG_XCA_ORCHESTRATION);
    const options = env.runOptions();
    report = await runCollections({
      ...options,
      collections: ['ig(xca)', 'ig(xca)_ad'],
      onSessionStart: (s) => {
        session = s;
        options.onSessionStart?.(s);
      },
    });
  });
  after(async () => env?.close());

  it('passes every applicable ig(xca) plan', () => expectAllApplicablePass(report, 'ig(xca)', 3));
  it('passes every applicable ig(xca)_ad plan', () => expectAllApplicablePass(report, 'ig(xca)_ad', 4));

  it('loaded each 15807 section into the community the orchestration names', async () => {
    const [community1, community2] = env.communities;
    // onedoc1 (1) + twodoc (2) + onedoc2 (1) + 12318 (2) in community1; onedoc3 + registryError in community2.
    expect(await community1!.node.registry.store.count({ type: 'DocumentEntry' })).to.equal(6);
    expect(await community2!.node.registry.store.count({ type: 'DocumentEntry' })).to.equal(2);
    expect(await env.sut.registry.store.count({ type: 'DocumentEntry' })).to.equal(0);
  });

  it('names community1 as the location of its XDSRegistryError in the PartialSuccess (15814)', async () => {
    const patient = session?.patientOf('15827');
    expect(patient, 'patient of feed 15827').to.be.a('string');
    const client = new SoapClient();
    try {
      const res = await client.call({
        url: `${env.sut.url}${env.sut.config.endpoints.initiating}`,
        action: ACTIONS.iti18.request,
        body: serializeAdhocQueryRequest({
          queryId: STORED_QUERY_ID.FindDocuments,
          returnType: 'LeafClass',
          parameters: [
            { name: '$XDSDocumentEntryPatientId', values: [`'${patient!}'`] },
            { name: '$XDSDocumentEntryStatus', values: ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"] },
          ],
        }),
        timeoutMs: 10_000,
      });
      const answer = parseAdhocQueryResponse(res.body);
      expect(answer.status).to.equal('PartialSuccess');
      expect(answer.errors.map((e) => [e.code, e.location])).to.deep.equal([['XDSRegistryError', 'urn:oid:1.2.34.567.8.1']]);
      expect(answer.objects.map((o) => o.homeCommunityId)).to.deep.equal(['urn:oid:1.2.34.567.8.2']);
    } finally {
      await client.close();
    }
  });
});
