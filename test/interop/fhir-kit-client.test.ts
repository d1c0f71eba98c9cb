/**
 * The MHD endpoint driven by an independent FHIR client, fhir-kit-client (Vermonster), over real
 * HTTP: what a FHIR application does with it out of the box. The CapabilityStatement, ITI-65 as a
 * `transaction`, ITI-67 as `search` (GET and POST `_search`) and `read`, ITI-66 as a List search,
 * ITI-68 as a `read` of Binary (the client asks for FHIR JSON, so the document comes as a Binary
 * resource) and as a plain GET of the attachment URL, refusals as the client's errors carrying
 * the OperationOutcome, and a bearer token set on the client for a node under the trust model.
 */
import { expect } from 'chai';
import type { Client as FhirClient } from 'fhir-kit-client';
import { mintTestToken, TEST_AUDIENCE, TEST_ISSUER, TEST_JWKS_FILE } from '../../fixtures/helseid/mint.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { HOME, PATIENT_FNR, trustConfig } from '../wiring/helpers.js';
import { nhnBundle, type Json } from '../fhir/bundles.js';

const NHN_PATIENT = 'urn:oid:2.16.578.1.12.4.1.4.1|17855599120';
const NHN_DOC_UUID = '00136637-d4a1-4dab-8460-994dd2a82aa4';
const NHN_DOC_UID = '29946a9c-e77c-4c19-bc05-324d87605646';

/**
 * fhir-kit-client is ESM only (its exports have an `import` condition alone), and mocha loads this
 * file through require: the class is imported dynamically.
 */
async function clientClass(): Promise<typeof FhirClient> {
  return (await import('fhir-kit-client')).Client;
}

/** The status and OperationOutcome a rejected fhir-kit-client call carries. */
async function refusal(call: Promise<unknown>): Promise<{ status: number; outcome: Json }> {
  try {
    await call;
  } catch (e) {
    const response = (e as { response?: { status: number; data: Json } }).response;
    if (response === undefined) throw e;
    return { status: response.status, outcome: response.data };
  }
  throw new Error('expected the call to be refused');
}

describe('interop: fhir-kit-client against the MHD endpoint', function () {
  this.timeout(60_000);
  let node: TestNode;
  let client: FhirClient;
  const document = Buffer.from(nhnBundle().entry[3].resource.data as string, 'base64');

  before(async () => {
    node = await startTestNode({ registry: { patientIds: { acceptSyntheticNorwegianIds: true } } });
    const Client = await clientClass();
    client = new Client({ baseUrl: `${node.url}/fhir` });
  });
  after(async () => node?.close());

  it('reads the CapabilityStatement', async () => {
    const cs = (await client.capabilityStatement()) as Json;
    expect(cs.resourceType).to.equal('CapabilityStatement');
    expect(cs.fhirVersion).to.equal('4.0.1');
  });

  it("provides NHN's Bundle as a transaction (ITI-65)", async () => {
    const response = (await client.transaction({ body: nhnBundle() as never })) as Json;
    expect(response.resourceType).to.equal('Bundle');
    expect(response.type).to.equal('transaction-response');
    expect(response.entry.map((e: Json) => e.response.status)).to.deep.equal(['201 Created', '200 OK', '201 Created', '201 Created']);
  });

  it('searches (GET and POST _search) and reads DocumentReferences (ITI-67)', async () => {
    const searchParams = { 'patient.identifier': NHN_PATIENT, status: 'current' };
    const found = (await client.search({ resourceType: 'DocumentReference', searchParams })) as Json;
    expect(found.type).to.equal('searchset');
    expect(found.entry.map((e: Json) => e.resource.id)).to.deep.equal([NHN_DOC_UUID]);
    const posted = (await client.search({ resourceType: 'DocumentReference', searchParams, options: { postSearch: true } })) as Json;
    expect(posted.entry.map((e: Json) => e.resource.id)).to.deep.equal([NHN_DOC_UUID]);
    const read = (await client.read({ resourceType: 'DocumentReference', id: NHN_DOC_UUID })) as Json;
    expect(read).to.deep.equal(found.entry[0].resource);
  });

  it('searches Lists (ITI-66)', async () => {
    const lists = (await client.search({ resourceType: 'List', searchParams: { 'patient.identifier': NHN_PATIENT, status: 'current', code: 'submissionset' } })) as Json;
    expect(lists.total).to.equal(1);
    expect(lists.entry[0].resource.entry[0].item.reference).to.equal(`DocumentReference/${NHN_DOC_UUID}`);
  });

  it('retrieves the document (ITI-68): as a Binary read, and from the attachment URL, the same bytes', async () => {
    const binary = (await client.read({ resourceType: 'Binary', id: NHN_DOC_UID })) as Json;
    expect(binary.resourceType).to.equal('Binary');
    expect(binary.contentType).to.equal('application/xml');
    expect(Buffer.from(binary.data as string, 'base64').equals(document)).to.equal(true);
    const reference = (await client.read({ resourceType: 'DocumentReference', id: NHN_DOC_UUID })) as Json;
    const viaUrl = (await client.request(reference.content[0].attachment.url as string)) as Json;
    expect(viaUrl).to.deep.equal(binary);
    const raw = Buffer.from(await (await fetch(reference.content[0].attachment.url as string)).arrayBuffer());
    expect(raw.equals(document)).to.equal(true);
  });

  it('sees refusals as errors carrying the OperationOutcome', async () => {
    const missing = await refusal(client.search({ resourceType: 'DocumentReference', searchParams: { 'patient.identifier': NHN_PATIENT } }));
    expect(missing.status).to.equal(400);
    expect(missing.outcome.resourceType).to.equal('OperationOutcome');
    const unknown = await refusal(client.read({ resourceType: 'DocumentReference', id: '0b7e1d7c-5a4e-4f0a-9d3c-2b1a0f9e8d7c' }));
    expect(unknown.status).to.equal(404);
    const twice = await refusal(client.transaction({ body: nhnBundle() as never }));
    expect(twice.status).to.equal(400);
    expect(JSON.stringify(twice.outcome)).to.contain('XDSDuplicateUniqueIdInRegistry');
  });
});

describe('interop: fhir-kit-client with a HelseID bearer token', function () {
  this.timeout(60_000);
  let node: TestNode;

  before(async () => {
    node = await startTestNode({
      homeCommunityId: HOME,
      trust: { ...trustConfig(), helseid: { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: TEST_JWKS_FILE } } },
    });
  });
  after(async () => node?.close());

  it('is refused without the token and answered with it', async () => {
    const searchParams = { 'patient.identifier': `urn:oid:2.16.578.1.12.4.1.4.1|${PATIENT_FNR}`, status: 'current' };
    const Client = await clientClass();
    const anonymous = new Client({ baseUrl: `${node.url}/fhir` });
    expect((await refusal(anonymous.search({ resourceType: 'DocumentReference', searchParams }))).status).to.equal(401);
    const client = new Client({ baseUrl: `${node.url}/fhir`, bearerToken: await mintTestToken({ patient: PATIENT_FNR }) });
    const found = (await client.search({ resourceType: 'DocumentReference', searchParams })) as Json;
    expect(found.resourceType).to.equal('Bundle');
    expect(found.total).to.equal(0);
  });
});
