/**
 * `koblingspunkt backup TARGET`: an online, consistent copy of the node's embedded store into a
 * new directory laid out like the data directory (backup-copy.ts says why it is consistent), so
 * that restoring is putting that directory in the data directory's place.
 */
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DATA_DIR_OPTIONS, parsed } from '../args.js';
import { backupDatabase, copyDocuments, fsyncDirectory, type CopiedDatabase } from '../backup-copy.js';
import type { Command } from '../command.js';
import { CliError, EXIT, messageOf, UsageError } from '../errors.js';
import { out, outJson, say } from '../io.js';
import { DOCUMENTS, nodeDataDir, PATIENT_BLOCKS_FILE, REGISTRY_FILE, storeDatabases } from '../store-files.js';

const SYNOPSIS = 'usage: koblingspunkt backup TARGET [--data-dir DIR | --config FILE] [--verify] [--json]';

/** The backup's own description, written into it. */
export const MANIFEST_FILE = 'koblingspunkt-backup.json';

const HELP = `${SYNOPSIS}

Copies the node's embedded store into TARGET, a new directory (or an empty one), while the node
runs: every SQLite file of the data directory (registry.sqlite, audit.sqlite, audit-queue.sqlite,
audit-intents.sqlite, patient-blocks.sqlite, any other *.sqlite) with SQLite's online backup, then
the documents (documents/). The copy is consistent: every document the copied registry names is
in it. TARGET has the data directory's layout plus ${MANIFEST_FILE} (what was copied, when).

  --data-dir DIR   the node's data directory (default: dataDir of the configuration: --config,
                   KOBLINGSPUNKT_CONFIG, DATA_DIR, else ./data)
  --config FILE    the node's configuration file (also for trust.patientBlocksFile)
  --verify         run SQLite's integrity check on every copied database
  --json           print the manifest as JSON

Restore:
  1. stop the node;
  2. move its data directory aside (mv data data.old) and put the backup in its place
     (cp -a TARGET data), or point DATA_DIR / dataDir at a copy of TARGET; if
     trust.patientBlocksFile names a file outside the data directory, copy
     TARGET/${PATIENT_BLOCKS_FILE} there;
  3. start the node: it commits the documents whose registration the backup holds but which were
     still staged, and removes staging leftovers; then check with koblingspunkt query.

A node on MongoDB (mongoUri) keeps its registry, documents and audit trail there: back those up
with mongodump; this command then copies only the SQLite files of the data directory.`;

export const backup: Command = {
  name: 'backup',
  synopsis: SYNOPSIS,
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parsed(() =>
      parseArgs({
        args: [...args],
        options: { ...DATA_DIR_OPTIONS, verify: { type: 'boolean' } },
        allowPositionals: true,
      }),
    );
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return EXIT.ok;
    }
    if (positionals.length !== 1) throw new UsageError('name one target directory');
    const target = resolve(io.cwd, positionals[0]!);
    const { config, dataDir } = nodeDataDir(io, values['data-dir'], values.config);
    const mongo = config.mongoUri !== undefined && values['data-dir'] === undefined;
    if (!existsSync(dataDir)) throw new CliError(`data directory ${dataDir} does not exist (--data-dir names it)`, EXIT.usage);
    const blocksFile = config.trust.patientBlocksFile !== undefined ? resolve(io.cwd, config.trust.patientBlocksFile) : undefined;
    const databases = storeDatabases(dataDir, blocksFile);
    if (!mongo && !databases.some((d) => d.name === REGISTRY_FILE)) {
      throw new CliError(`no embedded store in ${dataDir}: ${REGISTRY_FILE} is missing (--data-dir names the node's data directory)`);
    }
    if (mongo) say(io, 'koblingspunkt backup: this node keeps its registry, documents and audit trail in MongoDB (mongoUri): back them up with mongodump; copying the SQLite files of the data directory only');
    if (existsSync(target) && readdirSync(target).length > 0) throw new CliError(`${target} exists and is not empty: name a new directory`, EXIT.usage);

    // Written under a temporary name and renamed when complete, so a directory with the target's
    // name is always a whole backup.
    const partial = join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
    await mkdir(partial, { recursive: true });
    try {
      const copied: CopiedDatabase[] = [];
      for (const db of databases) copied.push(await backupDatabase(db, join(partial, db.name), values.verify ?? false));
      const documents = mongo ? undefined : await copyDocuments(join(dataDir, DOCUMENTS.dir), join(partial, DOCUMENTS.dir));
      const manifest = { createdAt: new Date().toISOString(), dataDir, databases: copied, ...(documents ? { documents } : {}) };
      writeFileSync(join(partial, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
      await fsyncDirectory(partial);
      if (existsSync(target)) rmSync(target, { recursive: true });
      renameSync(partial, target);
      await fsyncDirectory(dirname(target));
      const bad = copied.filter((c) => c.integrity !== undefined && c.integrity !== 'ok');
      if (values.json) outJson(io, { target, ...manifest });
      else {
        for (const c of copied) out(io, `${c.name.padEnd(24)}${c.what}, ${c.bytes} bytes${c.integrity !== undefined ? `, integrity ${c.integrity}` : ''}`);
        if (documents) out(io, `${`${DOCUMENTS.dir}/`.padEnd(24)}${documents.blobs} documents, ${documents.staged} staged, ${documents.bytes} bytes`);
        out(io, `backup written to ${target}`);
      }
      if (bad.length > 0) throw new CliError(`the integrity check failed for ${bad.map((b) => b.name).join(', ')}`);
      return EXIT.ok;
    } catch (e) {
      rmSync(partial, { recursive: true, force: true });
      if (e instanceof CliError) throw e;
      throw new CliError(`backup failed: ${messageOf(e)}`);
    }
  },
};
