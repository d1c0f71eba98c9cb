/**
 * npm run generate -- --entries 1000000 [--data-dir DIR] [--seed N] [--batch N]
 *
 * Fills a node's embedded store (or MongoDB with --mongo-uri) with synthetic Norwegian metadata
 * through the registry's ITI-42 validation, batching commits. Interrupt it at any time and run
 * the same command again: it continues where the last commit left off.
 */
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { openRegistryStore } from '../registry/store/open.js';
import { generate, GenerationError, readProgress } from './generate/run.js';

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run generate -- --entries N [--data-dir DIR] [--seed N] [--batch N] [--mongo-uri URI]\n`);
  process.exit(2);
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 0) usage(`--${name} must be a non-negative integer, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        entries: { type: 'string' },
        'data-dir': { type: 'string' },
        seed: { type: 'string' },
        batch: { type: 'string' },
        'mongo-uri': { type: 'string' },
      },
    }));
  } catch (e) {
    usage((e as Error).message);
  }
  if (values.entries === undefined) usage('--entries is required');
  const entries = positiveInt('entries', values.entries, 0);
  const seed = positiveInt('seed', values.seed, 1);
  const batchSize = Math.max(1, positiveInt('batch', values.batch, 1000));
  const dataDir = values['data-dir'] ?? './data';
  const store = await openRegistryStore({ dataDir, ...(values['mongo-uri'] ? { mongoUri: values['mongo-uri'] } : {}) });

  const before = readProgress(dataDir);
  const bar = new cliProgress.SingleBar(
    { format: 'generate |{bar}| {percentage}% {value}/{total} entries | {rate} entries/s | patients {patients} | ETA {eta_formatted}', hideCursor: true, noTTYOutput: true, notTTYSchedule: 10_000 },
    cliProgress.Presets.shades_classic,
  );
  const startEntries = before?.entries ?? 0;
  const started = Date.now();
  bar.start(entries, startEntries, { rate: '-', patients: before?.patient ?? 0 });
  let interrupted = false;
  process.once('SIGINT', () => {
    // The current batch is committed (or not) atomically; the progress file names the last commit.
    interrupted = true;
  });
  try {
    const result = await generate({
      store,
      dataDir,
      entries,
      seed,
      batchSize,
      onProgress: (p) => {
        const seconds = (Date.now() - started) / 1000;
        bar.update(Math.min(p.entries, entries), { rate: Math.round((p.entries - startEntries) / seconds), patients: p.patient });
        if (interrupted) throw new GenerationError('interrupted; run the same command again to continue');
      },
    });
    bar.stop();
    const p = result.progress;
    const rate = result.entriesThisRun / Math.max(0.001, result.msThisRun / 1000);
    process.stdout.write(
      `${p.entries} entries, ${p.submissions} submissions, ${p.patient + 1} patients in ${dataDir}; ` +
        `this run: ${result.entriesThisRun} entries in ${(result.msThisRun / 1000).toFixed(1)} s (${Math.round(rate)} entries/s)` +
        `${result.skipped > 0 ? `, ${result.skipped} submissions found already stored` : ''}\n`,
    );
  } catch (e) {
    bar.stop();
    if (e instanceof GenerationError) {
      process.stderr.write(`${e.message}\n`);
      process.exitCode = 1;
    } else throw e;
  } finally {
    await store.close();
  }
}

await main();
