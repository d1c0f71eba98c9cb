/**
 * What `import` has done in a folder, kept in the folder itself (STATE_FILE), so that a rerun —
 * after a failure, a fix to the patient map, or an interrupted run — registers only what is not
 * registered yet.
 *
 * One JSON line per event, appended and fsynced before the import goes on:
 *   - `pending` before a file is sent, with the uniqueId it is sent under;
 *   - `registered` once the node answered Success.
 * A file whose last line is `pending` may or may not have been registered (the answer was lost:
 * killed, node down). The next run asks the registry for that uniqueId (GetDocuments) and either
 * records it as registered or sends it again under the same uniqueId, so nothing is registered
 * twice. The last line of a file wins.
 */
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const STATE_FILE = '.koblingspunkt-import.jsonl';

export interface StateRecord {
  readonly file: string;
  readonly status: 'pending' | 'registered';
  readonly uniqueId: string;
  readonly patientId: string;
  /** Size and modification time when it was sent: a file changed since is not taken for registered. */
  readonly size: number;
  readonly mtimeMs: number;
  readonly at: string;
}

export class ImportState {
  private readonly path: string;
  /** The last record of each file. */
  readonly records = new Map<string, StateRecord>();

  constructor(folder: string) {
    this.path = join(folder, STATE_FILE);
    let text = '';
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${this.path}: ${(e as Error).message}`);
    }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let record: StateRecord;
      try {
        record = JSON.parse(line) as StateRecord;
      } catch {
        // A line cut by a crash mid-write: its event did not complete (pending is written before sending).
        continue;
      }
      if (typeof record.file === 'string' && typeof record.uniqueId === 'string') this.records.set(record.file, record);
    }
  }

  /** Appends a record durably (fsync) before the import acts on it. */
  append(record: Omit<StateRecord, 'at'>): void {
    const full: StateRecord = { ...record, at: new Date().toISOString() };
    const fd = openSync(this.path, 'a', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(full)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.records.set(full.file, full);
  }
}
