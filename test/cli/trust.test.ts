/**
 * The CLI against a node with the trust model enabled: with --assertion (a SAML assertion signed by
 * the test issuer, as scripts/sign-assertion.ts makes them) it registers, finds and fetches back;
 * without one, or for another patient than the assertion's, the node's refusal is one line and a
 * non-zero exit.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { clinician, HOME, OTHER_FNR, PATIENT_FNR, signed, trustConfig } from '../wiring/helpers.js';
import { cli, cliProcess, hasStackTrace, SAMPLE_PDF } from './helpers.js';

describe('koblingspunkt against a trust-enabled node (--assertion)', function () {
  this.timeout(60_000);
  let node: TestNode;
  let work: string;
  let assertion: string;

  before(async () => {
    node = await startTestNode({ homeCommunityId: HOME, trust: trustConfig() });
    work = mkdtempSync(join(tmpdir(), 'kp-cli-trust-'));
    assertion = join(work, 'assertion.xml');
    // As an operator would save it: with an XML declaration.
    writeFileSync(assertion, `<?xml version="1.0" encoding="UTF-8"?>\n${signed(clinician(PATIENT_FNR))}`);
  });
  after(async () => {
    await node?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('register, query and retrieve with the assertion (the real program for register)', async () => {
    const reg = await cliProcess(['register', SAMPLE_PDF, '--patient', PATIENT_FNR, '--assertion', assertion], { env: { KOBLINGSPUNKT_URL: node.url } });
    expect(reg.stderr).to.equal('');
    expect(reg.code).to.equal(0);
    const uniqueId = reg.stdout.trim();
    const q = await cli(['query', '--patient', PATIENT_FNR, '--assertion', assertion, '--url', node.url, '--json']);
    expect(q.code).to.equal(0);
    expect((JSON.parse(q.stdout) as { documents: { uniqueId: string }[] }).documents.map((d) => d.uniqueId)).to.deep.equal([uniqueId]);
    const r = await cli(['retrieve', uniqueId, '-o', work, '--assertion', assertion, '--url', node.url]);
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    expect(readFileSync(join(work, `${uniqueId}.pdf`)).equals(readFileSync(SAMPLE_PDF))).to.equal(true);
  });

  it('without an assertion: the SOAP fault in one line, exit 1', async () => {
    const res = await cli(['query', '--patient', PATIENT_FNR, '--url', node.url]);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.match(/^koblingspunkt query: the node refused the request: SOAP fault Sender \(InvalidSecurity\): .+\n$/);
    expect(hasStackTrace(res.stderr)).to.equal(false);
  });

  it('for another patient than the assertion names: refused, exit 1', async () => {
    const res = await cli(['query', '--patient', OTHER_FNR, '--assertion', assertion, '--url', node.url]);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.match(/^koblingspunkt query: ITI-18 Registry Stored Query failed: XDSRegistryError: access denied: .+\n$/);
  });

  it('an --assertion file that is not a SAML assertion is a usage error (exit 2)', async () => {
    const notSaml = join(work, 'not-saml.xml');
    writeFileSync(notSaml, '<hello/>');
    const res = await cli(['query', '--patient', PATIENT_FNR, '--assertion', notSaml, '--url', node.url]);
    expect(res.code).to.equal(2);
    expect(res.stderr).to.contain('not a SAML 2.0 Assertion');
    expect((await cli(['query', '--patient', PATIENT_FNR, '--assertion', join(work, 'missing.xml'), '--url', node.url])).code).to.equal(2);
  });
});
