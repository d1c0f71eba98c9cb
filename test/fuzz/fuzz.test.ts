import { expect } from 'chai';
import { judge } from '../../scripts/fuzz/judge.js';
import { makeCase, MUTATIONS, type CaseContext } from '../../scripts/fuzz/mutate.js';
import { makeAssertionKit } from '../../scripts/fuzz/assertions.js';
import { Rng } from '../../scripts/fuzz/random.js';
import { loadSeeds } from '../../scripts/fuzz/seeds.js';
import { clean, formatSummary, runFuzz } from '../../scripts/fuzz/run.js';
import { join } from 'node:path';
import { REPO_ROOT } from '../../fixtures/index.js';
import { answerEnvelope, faultBody } from '../helpers/soap.js';

describe('hostile input (fuzz)', function () {
  this.timeout(60_000);
  const seeds = loadSeeds();

  it('is deterministic: the same seed gives the same bytes', () => {
    const ctx = (rng: Rng): CaseContext => ({
      seeds,
      nhnSeeds: seeds.filter((s) => s.source.startsWith('nhn-samples/')),
      assertions: makeAssertionKit(rng),
      maxRequestBytes: 1 << 20,
      maxXmlDepth: 200,
    });
    const a = new Rng(42);
    const b = new Rng(42);
    const ca = ctx(a);
    const cb = ctx(b);
    for (let i = 0; i < 50; i++) {
      const x = makeCase(i, a, ca);
      const y = makeCase(i, b, cb);
      expect(x.body.equals(y.body), `case ${i}`).to.equal(true);
      expect([x.mutation, x.variant, x.endpoint, x.contentType]).to.deep.equal([y.mutation, y.variant, y.endpoint, y.contentType]);
    }
  });

  it('the judge refuses 5xx without a fault, unparseable bodies and leaked stack traces or paths', () => {
    const fault = (text: string) => Buffer.from(answerEnvelope(faultBody('Receiver', text)));
    expect(judge({ status: 500, contentType: 'application/soap+xml', body: fault('internal error') })).to.deep.include({ ok: true, kind: 'fault', code: 'Receiver' });
    expect(judge({ status: 500, contentType: 'text/html', body: Buffer.from('Internal Server Error') })).to.deep.include({ ok: false, problem: 'unexplained-5xx' });
    expect(judge({ status: 400, contentType: 'text/plain', body: Buffer.from('nope') })).to.deep.include({ ok: false, problem: 'unparseable' });
    expect(judge({ status: 500, contentType: 'application/soap+xml', body: fault(`Error: x\n    at handle (${join(REPO_ROOT, 'connector', 'x.ts')}:1:2)`) })).to.deep.include({ ok: false, problem: 'leak' });
    expect(judge({ status: 200, contentType: 'application/soap+xml', body: fault('x') })).to.deep.include({ ok: false, problem: 'fault-with-2xx' });
  });

  it('200 mutated NIST and NHN messages: each gets a fault or a registry answer, the node stays up', async () => {
    const s = await runFuzz({ cases: 200, seconds: 45, seed: 7, seeds, concurrency: 8, requestTimeoutMs: 15_000, batchSize: 50 });
    expect(s.cases, formatSummary(s)).to.equal(200);
    expect(clean(s), formatSummary(s)).to.equal(true);
    expect(s.findings.filter((f) => f.problem !== 'receiver-fault'), formatSummary(s)).to.deep.equal([]);
    expect(s.healthChecks).to.equal(4);
    // Every answer was classified; most mutation families were exercised.
    const faults = Object.values(s.faultsByCode).reduce((a, b) => a + b, 0);
    const responses = Object.values(s.responsesByStatus).reduce((a, b) => a + b, 0);
    expect(faults + responses).to.equal(200);
    expect(Object.values(s.casesByMutation).filter((n) => n > 0).length).to.be.greaterThan(MUTATIONS.length - 4);
    expect(s.faultsByCode.Sender).to.be.greaterThan(0);
  });
});
