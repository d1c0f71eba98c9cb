/** The progress bar of long commands (cli-progress), drawn only where a person watches it. */
import cliProgress from 'cli-progress';
import type { CliIo } from './io.js';

/** A bar on standard error, only on a terminal (a log file would fill with redraws) and not under --json. */
export function progressBar(io: CliIo, total: number, json: boolean): cliProgress.SingleBar | undefined {
  if (!io.stderr.isTTY || json || total === 0) return undefined;
  const bar = new cliProgress.SingleBar(
    { stream: io.stderr, format: 'importing [{bar}] {value}/{total} files  {eta_formatted} left', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}
