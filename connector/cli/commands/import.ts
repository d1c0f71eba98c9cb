/**
 * `koblingspunkt import FOLDER --patient-map CSV`: registers every file of a folder, one ITI-41
 * submission per file (a refused file fails alone), each for the patient the map gives it.
 *
 * Resumable (import-state.ts): a rerun skips what is registered and settles what an interrupted
 * run left unknown. A progress bar is drawn on standard error when it is a terminal. At the end, a
 * summary: how many were registered, skipped and failed, and each failure with its IHE error code.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CLIENT_HELP, CLIENT_OPTIONS, nodeTarget, parsed } from '../args.js';
import type { Command } from '../command.js';
import { readDocumentFile } from '../document-file.js';
import { CliError, describeRegistryError, EXIT, messageOf, UsageError } from '../errors.js';
import { ImportState, STATE_FILE, type StateRecord } from '../import-state.js';
import { out, outJson, say, type CliIo } from '../io.js';
import { METADATA_HELP, METADATA_OPTIONS, metadataOptions } from '../metadata-options.js';
import { NodeClient, RegistryRefusal } from '../node-client.js';
import { patientCx } from '../patient.js';
import { inPool } from '../pool.js';
import { progressBar } from '../progress.js';
import { readPatientMap } from '../patient-map.js';
import { buildSubmission, documentId, newDocumentUniqueId, type MetadataOptions } from '../submission.js';

const SYNOPSIS = 'usage: koblingspunkt import FOLDER --patient-map CSV [--concurrency N] [metadata options] [node options]';

const HELP = `${SYNOPSIS}

Registers every file in FOLDER (not its subfolders; hidden files skipped) with ITI-41, one
submission per file, for the patient the map gives the file:

  --patient-map CSV    lines FILE,PATIENT (or ;-separated, as spreadsheets export), e.g.
                         file;patient
                         epikrise-kari.pdf;13116900216
                       PATIENT is an 11-digit fødselsnummer, D-number or H-number, or a CX
  --concurrency N      files sent at once (default 4)

What was registered is recorded in FOLDER/${STATE_FILE}; a rerun skips those files, so an
import that failed for some files (or was interrupted) is finished by running it again. A file
changed since it was registered is reported, not registered again.

The metadata options apply to every file (the title defaults to each file's name):

${METADATA_HELP}

${CLIENT_HELP}

exit codes: 0 every file registered or already registered; 1 some files failed (listed with their
IHE error codes); 3 the node could not be reached (the import stops; rerun it)`;

interface Failure {
  readonly file: string;
  readonly codes: readonly string[];
  readonly message: string;
}

interface Summary {
  readonly registered: { file: string; uniqueId: string; patientId: string }[];
  readonly skipped: { file: string; uniqueId: string }[];
  readonly failed: Failure[];
}

export const importCommand: Command = {
  name: 'import',
  synopsis: SYNOPSIS,
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parsed(() =>
      parseArgs({
        args: [...args],
        options: { 'patient-map': { type: 'string' }, concurrency: { type: 'string' }, ...METADATA_OPTIONS, ...CLIENT_OPTIONS },
        allowPositionals: true,
      }),
    );
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return EXIT.ok;
    }
    if (positionals.length !== 1) throw new UsageError('name one folder to import');
    if (values['patient-map'] === undefined) throw new UsageError('--patient-map is required');
    const concurrency = values.concurrency === undefined ? 4 : Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UsageError(`--concurrency ${values.concurrency}: expected 1–64`);
    const folder = resolve(io.cwd, positionals[0]!);
    const mapPath = resolve(io.cwd, values['patient-map']);
    const files = listFiles(folder, mapPath);
    let map;
    try {
      map = readPatientMap(mapPath);
    } catch (e) {
      throw new UsageError(messageOf(e));
    }
    // The metadata options are checked once, before anything is sent; only the patient differs per file.
    const base = metadataOptions(values, '');
    let state: ImportState;
    try {
      state = new ImportState(folder);
    } catch (e) {
      throw new CliError(messageOf(e));
    }
    for (const name of map.patients.keys()) if (!files.includes(name)) say(io, `koblingspunkt import: warning: ${name} is in the patient map but not in ${folder}`);

    const client = new NodeClient(nodeTarget(values, io));
    const summary: Summary = { registered: [], skipped: [], failed: [] };
    try {
      await settlePending(client, state);
      const todo: string[] = [];
      for (const name of files) {
        const record = state.records.get(name);
        if (record?.status !== 'registered') todo.push(name);
        else if (changedSince(join(folder, name), record)) {
          summary.failed.push({ file: name, codes: [], message: `changed since it was registered as ${record.uniqueId}; not registered again` });
        } else summary.skipped.push({ file: name, uniqueId: record.uniqueId });
      }
      const progress = progressBar(io, todo.length, values.json ?? false);
      try {
        await inPool(todo, concurrency, async (name) => {
          const outcome = await importOne(client, state, folder, name, map.patients.get(name), base, values['mime-type']);
          if ('uniqueId' in outcome) summary.registered.push(outcome);
          else summary.failed.push(outcome);
          progress?.increment();
        });
      } finally {
        progress?.stop();
      }
    } finally {
      await client.close();
    }
    report(io, summary, values.json ?? false);
    return summary.failed.length > 0 ? EXIT.failed : EXIT.ok;
  },
};

/** The files to import: regular, not hidden, not the state file or the map; sorted, so runs go in the same order. */
function listFiles(folder: string, mapPath: string): string[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch (e) {
    throw new UsageError(`cannot read the folder ${folder}: ${(e as NodeJS.ErrnoException).code ?? messageOf(e)}`);
  }
  return names
    .filter((n) => !n.startsWith('.') && n !== STATE_FILE && join(folder, n) !== mapPath)
    .filter((n) => statSync(join(folder, n)).isFile())
    .sort();
}

/** Files an interrupted run left pending: registered after all (the registry has the uniqueId), or still to send. */
async function settlePending(client: NodeClient, state: ImportState): Promise<void> {
  const pending = [...state.records.values()].filter((r) => r.status === 'pending');
  for (let i = 0; i < pending.length; i += 100) {
    const batch = pending.slice(i, i + 100);
    const found = new Set((await client.documentEntries(batch.map((r) => r.uniqueId))).map((e) => e.uniqueId));
    for (const r of batch) {
      if (found.has(r.uniqueId)) state.append({ ...r, status: 'registered' });
    }
  }
}

function changedSince(path: string, record: StateRecord): boolean {
  try {
    const s = statSync(path);
    return s.size !== record.size || s.mtimeMs !== record.mtimeMs;
  } catch {
    return true;
  }
}

async function importOne(
  client: NodeClient,
  state: ImportState,
  folder: string,
  name: string,
  patient: string | undefined,
  base: MetadataOptions,
  mimeType: string | undefined,
): Promise<{ file: string; uniqueId: string; patientId: string } | Failure> {
  if (patient === undefined) return { file: name, codes: [], message: 'no patient for it in the patient map' };
  let patientId: string;
  try {
    patientId = patientCx(patient);
  } catch (e) {
    return { file: name, codes: [], message: `patient ${messageOf(e)}` };
  }
  const path = join(folder, name);
  let file;
  try {
    file = await readDocumentFile(path, mimeType);
  } catch (e) {
    return { file: name, codes: [], message: messageOf(e) };
  }
  // An earlier attempt's uniqueId is reused: if that attempt was registered after all, the
  // registry refuses the duplicate instead of storing the document twice.
  const earlier = state.records.get(name);
  const uniqueId = earlier?.status === 'pending' ? earlier.uniqueId : newDocumentUniqueId();
  const mtimeMs = statSync(path).mtimeMs;
  state.append({ file: name, status: 'pending', uniqueId, patientId, size: file.size, mtimeMs });
  try {
    await client.provideAndRegister(buildSubmission([{ file, uniqueId }], { ...base, patientId }), [{ id: documentId(0), file }]);
  } catch (e) {
    if (e instanceof RegistryRefusal) return { file: name, codes: e.errors.map((x) => x.code), message: e.errors.map(describeRegistryError).join('; ') };
    // The node is gone: every further file would fail the same way. Stop; a rerun resumes.
    if (e instanceof CliError && e.exitCode === EXIT.unreachable) throw e;
    return { file: name, codes: [], message: messageOf(e) };
  }
  state.append({ file: name, status: 'registered', uniqueId, patientId, size: file.size, mtimeMs });
  return { file: name, uniqueId, patientId };
}

function report(io: CliIo, summary: Summary, json: boolean): void {
  if (json) {
    outJson(io, summary);
    return;
  }
  out(io, `registered ${summary.registered.length}, skipped ${summary.skipped.length} (already registered), failed ${summary.failed.length}`);
  for (const f of summary.failed) out(io, `  FAILED ${f.file}: ${f.message}`);
}
