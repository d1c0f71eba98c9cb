/**
 * `koblingspunkt write-forms`: gives the DocumentEntries of an embedded store written before
 * schema v7 their stored LeafClass forms (registry/store/embedded/backfill-forms.ts), so that cold
 * FindDocuments answers inflate them instead of writing each element from its record. Safe while
 * the node runs: each batch is one short write transaction.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { leafForm } from '../../../registry/ebxml/write-objects.js';
import { writeForms as writeAllForms } from '../../../registry/store/embedded/backfill-forms.js';
import { prepareDatabase } from '../../../registry/store/embedded/schema.js';
import { DATA_DIR_OPTIONS, parsed } from '../args.js';
import type { Command } from '../command.js';
import { CliError, EXIT, messageOf, UsageError } from '../errors.js';
import { out, outJson, say } from '../io.js';
import { nodeDataDir, REGISTRY_FILE } from '../store-files.js';

const SYNOPSIS = 'usage: koblingspunkt write-forms [--data-dir DIR | --config FILE] [--batch N] [--json]';

const HELP = `${SYNOPSIS}

Since schema v7 the embedded registry keeps each DocumentEntry's LeafClass element with its record,
written when the entry is committed, and a FindDocuments answer of entries not in the read cache
inflates it (~5 µs an entry) instead of writing the element from the record (~36 µs). Entries
registered before the node was upgraded have none: they are answered exactly as before, only
slower when cold. This command writes their forms, walking the registry once in seq order. It can
run while the node runs (each batch is one short write; the node's commits wait for at most one),
and again at any time: entries that have their form are passed over.

  --data-dir DIR   the node's data directory (default: dataDir of the configuration: --config,
                   KOBLINGSPUNKT_CONFIG, DATA_DIR, else ./data)
  --config FILE    the node's configuration file
  --batch N        entries per write transaction (default 512)
  --json           print the result as JSON

About 150 µs of CPU per entry (1M entries: ~2.5 minutes), and ~0.5 KB more on disk per entry.
A node on MongoDB (mongoUri) keeps no stored forms: there is nothing to write.`;

export const writeForms: Command = {
  name: 'write-forms',
  synopsis: SYNOPSIS,
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parsed(() =>
      parseArgs({
        args: [...args],
        options: { ...DATA_DIR_OPTIONS, batch: { type: 'string' } },
        allowPositionals: true,
      }),
    );
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return EXIT.ok;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const batch = values.batch === undefined ? 512 : Number(values.batch);
    if (!Number.isSafeInteger(batch) || batch < 1) throw new UsageError(`--batch must be a positive integer, got "${values.batch}"`);
    const { config, dataDir } = nodeDataDir(io, values['data-dir'], values.config);
    if (config.mongoUri !== undefined && values['data-dir'] === undefined) {
      throw new CliError('this node keeps its registry in MongoDB (mongoUri), which keeps no stored forms: nothing to write', EXIT.usage);
    }
    const path = join(dataDir, REGISTRY_FILE);
    if (!existsSync(path)) throw new CliError(`no embedded store in ${dataDir}: ${REGISTRY_FILE} is missing (--data-dir names the node's data directory)`, EXIT.usage);

    const db = new Database(path);
    const started = Date.now();
    let written = 0;
    try {
      // Migrates a file of an earlier version first, as the node would on start.
      prepareDatabase(db);
      let shown = started;
      written = writeAllForms(
        db,
        leafForm,
        (n, last) => {
          written = n;
          if (values.json || Date.now() - shown < 5_000) return;
          shown = Date.now();
          say(io, `koblingspunkt write-forms: ${n} entries so far (seq ${last})`);
        },
        batch,
      );
    } catch (e) {
      throw new CliError(`write-forms failed after ${written} entries: ${messageOf(e)}`);
    } finally {
      db.close();
    }
    const seconds = (Date.now() - started) / 1000;
    if (values.json) outJson(io, { dataDir, written, seconds });
    else out(io, `wrote the stored forms of ${written} DocumentEntries in ${seconds.toFixed(1)} s`);
    return EXIT.ok;
  },
};
