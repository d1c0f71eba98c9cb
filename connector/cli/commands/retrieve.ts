/**
 * `koblingspunkt retrieve UNIQUEID…`: ITI-43 Retrieve Document Set, one document per request (so
 * that only one is ever held in memory), each written to a file and checked against what the
 * registry says of it: the SHA-1 and the size it was registered with. A document whose bytes
 * differ is not given its name: it is kept beside it as `<name>.mismatch` for inspection, and the
 * exit code is 1.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { parseArgs } from 'node:util';
import { isOid } from '../../../registry/model/hl7.js';
import type { DocumentEntry } from '../../../registry/model/metadata.js';
import type { RetrievedDocument } from '../../gateway/types.js';
import { CLIENT_HELP, CLIENT_OPTIONS, nodeTarget, parsed } from '../args.js';
import type { Command } from '../command.js';
import { CliError, describeRegistryErrors, EXIT, UsageError } from '../errors.js';
import { out, outJson, say, type CliIo } from '../io.js';
import { extensionOf } from '../mime.js';
import { NodeClient } from '../node-client.js';

const SYNOPSIS = 'usage: koblingspunkt retrieve UNIQUEID... [-o DIR] [--repository OID] [--force] [node options]';

const HELP = `${SYNOPSIS}

Fetches documents with ITI-43 (Retrieve Document Set) and writes each to DIR (default: the current
directory) as <uniqueId>.<extension of its mime type>. Each document's DocumentEntry is looked up
first (ITI-18 GetDocuments): it names the repository to ask and the SHA-1 and size the document
was registered with, which the written bytes must match. Prints the path of each file written.

  -o, --output DIR     where to write (created if missing)
  --repository OID     the repositoryUniqueId to ask (default: the entry's); with it, a document
                       without a registry entry is still fetched, but cannot be verified
  --force              overwrite existing files

${CLIENT_HELP}

exit codes: 0 every document written and verified; 1 one of them missing, refused or not matching
its hash or size (a mismatch is kept as <file>.mismatch)`;

interface Outcome {
  readonly uniqueId: string;
  readonly file?: string;
  readonly size?: number;
  readonly sha1?: string;
  readonly verified: boolean;
  readonly error?: string;
}

export const retrieve: Command = {
  name: 'retrieve',
  synopsis: SYNOPSIS,
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parsed(() =>
      parseArgs({
        args: [...args],
        options: { output: { type: 'string', short: 'o' }, repository: { type: 'string' }, force: { type: 'boolean' }, ...CLIENT_OPTIONS },
        allowPositionals: true,
      }),
    );
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return EXIT.ok;
    }
    if (positionals.length === 0) throw new UsageError('name at least one document uniqueId');
    if (values.repository !== undefined && !isOid(values.repository)) throw new UsageError(`--repository ${values.repository} is not an OID`);
    const target = nodeTarget(values, io);
    const dir = resolve(io.cwd, values.output ?? '.');
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new UsageError(`--output ${dir}: ${(e as Error).message}`);
    }

    const client = new NodeClient(target);
    const outcomes: Outcome[] = [];
    try {
      const entries = new Map((await client.documentEntries(positionals)).map((e) => [e.uniqueId, e]));
      for (const uniqueId of positionals) {
        outcomes.push(await fetchOne(client, uniqueId, entries.get(uniqueId), { dir, repository: values.repository, force: values.force ?? false }, io));
      }
    } finally {
      await client.close();
    }
    const failed = outcomes.filter((o) => o.error !== undefined);
    if (values.json) outJson(io, { documents: outcomes });
    else for (const o of outcomes) if (o.error === undefined) out(io, o.file);
    for (const f of failed) say(io, `koblingspunkt retrieve: ${f.uniqueId}: ${f.error}`);
    return failed.length > 0 ? EXIT.failed : EXIT.ok;
  },
};

interface FetchOptions {
  readonly dir: string;
  readonly repository: string | undefined;
  readonly force: boolean;
}

async function fetchOne(client: NodeClient, uniqueId: string, entry: DocumentEntry | undefined, options: FetchOptions, io: CliIo): Promise<Outcome> {
  const repositoryUniqueId = options.repository ?? entry?.repositoryUniqueId;
  if (repositoryUniqueId === undefined) {
    return { uniqueId, verified: false, error: entry ? 'its DocumentEntry names no repositoryUniqueId; give --repository' : 'no DocumentEntry with this uniqueId in the registry (or not visible to this user)' };
  }
  const result = await client.retrieve([{ repositoryUniqueId, documentUniqueId: uniqueId }]);
  const document = result.documents.find((d) => d.documentUniqueId === uniqueId);
  if (document === undefined) return { uniqueId, verified: false, error: describeRegistryErrors(result.errors) };
  const file = join(options.dir, `${safeName(uniqueId)}${extensionOf(document.mimeType)}`);
  if (existsSync(file) && !options.force) return { uniqueId, verified: false, error: `${file} exists (--force overwrites it)` };
  const written = await writeDocument(document, `${file}.part`);
  if (entry === undefined) {
    await rename(`${file}.part`, file);
    say(io, `koblingspunkt retrieve: ${uniqueId}: no DocumentEntry to check it against; written unverified`);
    return { uniqueId, file, ...written, verified: false };
  }
  const problem = mismatch(entry, written);
  if (problem !== undefined) {
    await rename(`${file}.part`, `${file}.mismatch`);
    return { uniqueId, file: `${file}.mismatch`, ...written, verified: false, error: `${problem}; kept as ${file}.mismatch` };
  }
  await rename(`${file}.part`, file);
  return { uniqueId, file, ...written, verified: true };
}

/** What differs between the bytes and the entry's hash and size, if anything. */
function mismatch(entry: DocumentEntry, written: { size: number; sha1: string }): string | undefined {
  const problems: string[] = [];
  if (entry.hash === undefined || entry.hash.toLowerCase() !== written.sha1) problems.push(`SHA-1 ${written.sha1}, registered ${entry.hash ?? '(none)'}`);
  if (entry.size === undefined || Number(entry.size) !== written.size) problems.push(`size ${written.size}, registered ${entry.size ?? '(none)'}`);
  return problems.length === 0 ? undefined : `the document does not match its DocumentEntry: ${problems.join(', ')}`;
}

/** Streams the document to `path`, computing its SHA-1 and size on the way. */
async function writeDocument(document: RetrievedDocument, path: string): Promise<{ size: number; sha1: string }> {
  const hash = createHash('sha1');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(document.stream(), measure, createWriteStream(path));
  } catch (e) {
    await rm(path, { force: true });
    throw new CliError(`cannot write ${path}: ${(e as Error).message}`);
  }
  return { size, sha1: hash.digest('hex') };
}

/** A uniqueId as a file name: anything but letters, digits, dot, dash and underscore becomes _ (an id may hold ^ or /). */
function safeName(uniqueId: string): string {
  return uniqueId.replace(/[^A-Za-z0-9._-]/g, '_');
}
