/**
 * One memory of used DPoP proofs per node, however many processes serve it: node:cluster hands
 * each new connection to the next worker, so a captured proof sent again on a new connection
 * usually reaches another worker than the one that accepted it. Over real HTTP, a node of two
 * processes under the trust model with HelseID (test keys of fixtures/helseid): a proof accepted
 * through one worker is refused as a replay through the other, and through the first.
 */
import { expect } from 'chai';
import { fetch } from 'undici';
import { mintDpopProof, mintTestToken, TEST_AUDIENCE, TEST_ISSUER, TEST_JWKS_FILE } from '../../fixtures/helseid/mint.js';
import { PATIENT_FNR, trustConfig } from '../wiring/helpers.js';
import { startClusterNode, workerClients, type ClusterNode, type WorkerClient } from './helpers.js';

describe('a node of two processes under HelseID: one memory of used DPoP proofs', function () {
  this.timeout(180_000);
  let node: ClusterNode;
  let clients: Map<number, WorkerClient>;

  before(async () => {
    node = await startClusterNode({
      processes: 2,
      config: {
        trust: { ...trustConfig(), helseid: { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: TEST_JWKS_FILE } } },
        registry: { patientIds: { acceptSyntheticNorwegianIds: true } },
      },
    });
    clients = await workerClients(node.url, 2);
  });
  after(async () => {
    for (const c of clients?.values() ?? []) await c.close();
    if (node) expect(await node.stop()).to.equal(0);
  });

  /** An MHD search through one worker's connection with a DPoP-bound token and its proof. */
  const search = async (worker: number, url: string, token: string, proof: string) => {
    const res = await fetch(url, { dispatcher: clients.get(worker)!.agent, headers: { authorization: `DPoP ${token}`, dpop: proof } });
    return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() };
  };

  it('a proof accepted through worker 1 is refused as a replay through worker 2 and through worker 1', async () => {
    const token = await mintTestToken({ patient: PATIENT_FNR, dpopKey: 'dpop-client-ec' });
    const url = `${node.url}/fhir/DocumentReference?patient.identifier=urn:oid:2.16.578.1.12.4.1.4.1|${PATIENT_FNR}&status=current`;
    const proof = await mintDpopProof({ method: 'GET', url, accessToken: token });

    const first = await search(1, url, token, proof);
    expect(first.status, first.body).to.equal(200);
    for (const worker of [2, 1]) {
      const again = await search(worker, url, token, proof);
      expect(again.status, `worker ${worker}: ${again.body}`).to.equal(401);
      expect(again.challenge).to.match(/invalid_dpop_proof.*replayed/);
    }
  });

  it('fresh proofs of the same token pass through either worker', async () => {
    const token = await mintTestToken({ patient: PATIENT_FNR, dpopKey: 'dpop-client-ec' });
    const url = `${node.url}/fhir/DocumentReference?patient.identifier=urn:oid:2.16.578.1.12.4.1.4.1|${PATIENT_FNR}&status=current`;
    for (const worker of [2, 1, 2]) {
      const res = await search(worker, url, token, await mintDpopProof({ method: 'GET', url, accessToken: token }));
      expect(res.status, `worker ${worker}: ${res.body}`).to.equal(200);
    }
  });
});
