/**
 * `npm run bench -- --report FILE` prints an earlier run's tables from the results file it wrote,
 * measuring nothing: so that a section of BENCHMARKS.md can be written (or mended) from the raw
 * figures of the run it quotes.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const summary = (rps: number, cpu: number) => ({ rps, p50Ms: 12.34, p99Ms: 40, peakRssMb: 400, cpuMsPerRequest: cpu, requests: 1000, rounds: [] });

describe('bench --report', function () {
  this.timeout(60_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kp-bench-report-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the table of every line of a results file, and the scaling between its sizes', () => {
    const line = (entries: number, rps: number) => ({
      entries,
      scenario: 'ITI-18 FindDocuments LeafClass',
      clients: 32,
      responseBytes: 305_307,
      node: summary(rps, 0.45),
      ceiling: summary(2 * rps, 0.3),
      share: { rps: 0.5, cpu: 0.667, paired: true },
    });
    const results = {
      machine: '2 × test cpu',
      loadAverage: '1.0 / 1.0 / 1.0',
      settings: { sizes: [10_000, 10_000_000], seed: 1, rounds: 2, durationMs: 5000, maxRequests: 200_000, largeRuns: 5, processes: 1 },
      generation: {},
      stores: {},
      auditStores: {},
      lines: [line(10_000, 2060), line(10_000_000, 1971)],
    };
    const file = join(dir, 'results.json');
    writeFileSync(file, JSON.stringify(results));
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/bench.ts', '--report', file], { encoding: 'utf8' });
    expect(out).to.include('| 10,000 | ITI-18 FindDocuments LeafClass | 32 | 298.2 | 2060 | 12.3 | 40.0 | 400 | 4120 | 40.0 | 50 % | 0.45 | 0.30 | 67 % |');
    expect(out).to.include('| 10,000,000 | ITI-18 FindDocuments LeafClass | 32 | 298.2 | 1971 |');
    expect(out).to.match(/\| ITI-18 FindDocuments LeafClass \| 12\.3 \| 12\.3 \| 1\.00 × \|/);
    expect(out).to.include(`raw figures: ${file}`);
  });
});
