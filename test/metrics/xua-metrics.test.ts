/**
 * `koblingspunkt_xua_signature_checks_total`: every XUA signature check counted under the path that
 * made it, so that an operator sees assertions the fast path leaves to xml-crypto (each costs
 * several ms: a rise means unusual or hostile assertions).
 */
import { expect } from 'chai';
import { cx, findDocumentsBody, status } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, postRaw, signedEnvelope, soapContentType } from '../helpers/soap.js';
import { clinician, HOME, PATIENT_FNR, signed, trustConfig } from '../wiring/helpers.js';

/** The counter's value per path, from the exposition text. */
function checksByPath(exposition: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of exposition.matchAll(/^koblingspunkt_xua_signature_checks_total\{path="([^"]+)"\} (\S+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

describe('metrics: XUA signature checks by path', function () {
  this.timeout(30_000);
  let node: TestNode;

  before(async () => {
    node = await startTestNode({ homeCommunityId: HOME, trust: trustConfig() });
  });
  after(async () => node?.close());

  const scrape = async () => checksByPath(await (await fetch(`${node.url}/metrics`)).text());

  it('counts each fresh assertion once under the path that checked it; a cached one is not checked again', async () => {
    expect(await scrape()).to.deep.equal({ fast: 0, 'xml-crypto': 0 });
    const query = (assertion: string) =>
      postRaw(`${node.url}/xds/registry`, signedEnvelope(assertion, ACTIONS.iti18.request, findDocumentsBody(cx(PATIENT_FNR))), soapContentType(ACTIONS.iti18.request));
    const first = signed(clinician(PATIENT_FNR));
    for (const assertion of [first, first, signed(clinician(PATIENT_FNR))]) expect(status((await query(assertion)).body)).to.equal('Success');
    expect(await scrape()).to.deep.equal({ fast: 2, 'xml-crypto': 0 });
  });

  it('is absent when the trust model is off', async () => {
    const plain = await startTestNode();
    try {
      expect(checksByPath(await (await fetch(`${plain.url}/metrics`)).text())).to.deep.equal({});
    } finally {
      await plain.close();
    }
  });
});
