/**
 * `npm run fuzz -- --cases 10000 --seconds 600 --seed 1 [--concurrency 8] [--timeout-ms 20000] [--json]`
 *
 * Hostile-input run against a node of its own (see scripts/fuzz/run.ts). Prints the summary; the
 * exit code is 1 when anything crashed, hung, leaked or answered a 5xx without a SOAP fault.
 */
import { parseArgs } from 'node:util';
import { clean, formatSummary, runFuzz } from './fuzz/run.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '600' },
    seed: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '8' },
    'timeout-ms': { type: 'string', default: '20000' },
    json: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});

const int = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`fuzz: --${name} must be a non-negative integer\n`);
    process.exit(2);
  }
  return n;
};

const summary = await runFuzz({
  cases: int('cases', values.cases),
  seconds: int('seconds', values.seconds),
  seed: int('seed', values.seed),
  concurrency: Math.max(1, int('concurrency', values.concurrency)),
  requestTimeoutMs: Math.max(1, int('timeout-ms', values['timeout-ms'])),
  ...(values.quiet ? {} : { progress: (line: string) => process.stderr.write(`${line}\n`) }),
});
process.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
process.exit(clean(summary) ? 0 : 1);
