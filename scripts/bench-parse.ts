/**
 * `npm run bench:parse -- [--runs 7] [--ms 1500] [--baseline <git revision>] [--saxes]`
 *
 * Parse throughput of the XML reader (registry/xml/parse.ts) on two requests the node reads:
 *
 * - an ITI-42 Register Document Set-b request: the Norwegian discharge-summary submission
 *   (fixtures/messages) in a SOAP 1.2 envelope with WS-Addressing headers, about 8.6 KB;
 * - a 14 MB ITI-41 Provide and Register request that carries its document inline: the same
 *   metadata plus a 10.5 MB document as one base64 line (what a sender without MTOM sends).
 *
 * Both are handed over as UTF-8 bytes, as the SOAP endpoint does. `--baseline REV` also measures
 * the reader of that git revision (its registry/xml folder, written to a temporary folder and
 * imported from there), `--saxes` a tree builder on saxes (scripts/fuzz/saxes-reader.ts). Each
 * run gives every reader `--ms` milliseconds on each input, the readers taking turns in blocks
 * of ~50 ms so that a slow spell of a shared machine falls on all of them alike; the figures are
 * medians over the runs. MB are 10^6 bytes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ACTIONS } from '../connector/soap/actions.js';
import { parseXml } from '../registry/xml/parse.js';
import { buildEnvelope } from './conformance/soap.js';
import { EPIKRISE_ITI42, REPO_ROOT } from '../fixtures/index.js';
import { benchDocument } from './bench/documents.js';
import { parseWithSaxes } from './fuzz/saxes-reader.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    ms: { type: 'string', default: '1500' },
    baseline: { type: 'string' },
    saxes: { type: 'boolean', default: false },
  },
});
const runs = Math.max(1, Number(values.runs));
const budgetMs = Math.max(1, Number(values.ms));

type Parse = (bytes: Buffer) => unknown;
interface Reader {
  readonly name: string;
  readonly parse: Parse;
}

const TO = 'http://127.0.0.1:8080/xds/registry';
const MESSAGE_ID = 'urn:uuid:8b0f5a8e-3c55-4f5c-9a57-2f6f2b8f1c01';

function submission(): string {
  return readFileSync(EPIKRISE_ITI42, 'utf8')
    .replace(/^<\?xml[^>]*>\s*/, '')
    .replaceAll('$PATIENT$', '13116900216^^^&amp;2.16.578.1.12.4.1.4.1&amp;ISO')
    .replaceAll('$DOC_UID$', '2.16.578.1.12.4.5.100.1.77.1')
    .replaceAll('$SS_UID$', '2.16.578.1.12.4.5.100.1.77.1.1')
    .replaceAll('$NOW$', '20261120101500');
}

function iti42(): Buffer {
  return Buffer.from(buildEnvelope(ACTIONS.iti42.request, TO, submission(), MESSAGE_ID), 'utf8');
}

function provide14MB(): Buffer {
  const sor = submission();
  const base64 = benchDocument(10_500_000).toString('base64');
  const body =
    `<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007">${sor}` +
    `<xdsb:Document id="Document01">${base64}</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>`;
  return Buffer.from(buildEnvelope(ACTIONS.iti41.request, TO, body, MESSAGE_ID), 'utf8');
}

/** The reader of another revision: its whole registry/xml folder, imported from a temporary copy. */
async function baselineReader(rev: string, into: string): Promise<Reader> {
  const files = execFileSync('git', ['ls-tree', '--name-only', rev, 'registry/xml/'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f.endsWith('.ts'));
  for (const f of files) {
    const target = join(into, f);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, execFileSync('git', ['show', `${rev}:${f}`], { cwd: REPO_ROOT }));
  }
  const mod = (await import(pathToFileURL(join(into, 'registry/xml/parse.ts')).href)) as { parseXml: Parse };
  return { name: `baseline ${rev}`, parse: (b) => mod.parseXml(b) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Milliseconds per parse of each reader on one input: the readers take turns in blocks of about
 * 50 ms (at least one parse) until each has had the time budget, so that a slow spell of a shared
 * machine falls on all of them alike.
 */
function timeTogether(parsers: readonly Parse[], input: Buffer, first: number): number[] {
  const spent = parsers.map(() => 0);
  const counts = parsers.map(() => 0);
  while (spent.some((ms) => ms < budgetMs)) {
    for (let k = 0; k < parsers.length; k++) {
      const i = (k + first) % parsers.length;
      const start = process.hrtime.bigint();
      let elapsed = 0;
      do {
        parsers[i]!(input);
        counts[i]!++;
        elapsed = Number(process.hrtime.bigint() - start) / 1e6;
      } while (elapsed < 50);
      spent[i]! += elapsed;
    }
  }
  return spent.map((ms, i) => ms / counts[i]!);
}

const temp = mkdtempSync(join(tmpdir(), 'kp-bench-parse-'));
try {
  const readers: Reader[] = [{ name: 'current', parse: (b) => parseXml(b) }];
  if (values.baseline) readers.push(await baselineReader(values.baseline, temp));
  if (values.saxes) readers.push({ name: 'saxes', parse: (b) => parseWithSaxes(b) });
  const inputs: ReadonlyArray<readonly [string, Buffer]> = [
    ['ITI-42 request', iti42()],
    ['ITI-41 inline 14 MB', provide14MB()],
  ];
  // Warm-up: every reader reads every input until V8 has compiled the hot paths.
  for (const r of readers) for (const [, input] of inputs) for (let i = 0; i < (input.length < 100_000 ? 2000 : 3); i++) r.parse(input);

  const samples = new Map<string, number[]>();
  for (let run = 0; run < runs; run++) {
    for (const [label, input] of inputs) {
      const perParse = timeTogether(
        readers.map((r) => r.parse),
        input,
        run,
      );
      readers.forEach((r, i) => {
        const key = `${r.name}\u0000${label}`;
        if (!samples.has(key)) samples.set(key, []);
        samples.get(key)!.push(perParse[i]!);
      });
    }
    process.stderr.write(`run ${run + 1}/${runs} done\n`);
  }

  process.stdout.write(`Node ${process.version}, ${runs} runs of ${budgetMs} ms per reader and input (medians)\n\n`);
  process.stdout.write('| reader | input | bytes | µs per parse | MB/s |\n|---|---|---:|---:|---:|\n');
  for (const [label, input] of inputs) {
    for (const r of readers) {
      const ms = median(samples.get(`${r.name}\u0000${label}`)!);
      const us = ms * 1000;
      const mbs = input.length / 1e6 / (ms / 1000);
      process.stdout.write(`| ${r.name} | ${label} | ${input.length.toLocaleString('en-US')} | ${us.toFixed(us < 1000 ? 1 : 0)} | ${mbs.toFixed(1)} |\n`);
    }
  }
} finally {
  rmSync(temp, { recursive: true, force: true });
}
