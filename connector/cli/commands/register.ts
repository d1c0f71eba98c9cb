/**
 * `koblingspunkt register FILE… --patient ID`: ITI-41 Provide and Register of one or more files
 * for one patient, in one submission set (all registered or none), with Norwegian defaults for the
 * metadata (codes.ts). Prints the new DocumentEntry uniqueIds, one per line (or JSON).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CLIENT_HELP, CLIENT_OPTIONS, nodeTarget, parsed } from '../args.js';
import type { Command } from '../command.js';
import { readDocumentFile, type DocumentFile } from '../document-file.js';
import { describeRegistryError, EXIT, UsageError } from '../errors.js';
import { out, outJson, say } from '../io.js';
import { METADATA_HELP, METADATA_OPTIONS, metadataOptions } from '../metadata-options.js';
import { NodeClient } from '../node-client.js';
import { patientOption } from '../patient.js';
import { buildSubmission, documentId, newDocumentUniqueId } from '../submission.js';

const SYNOPSIS = 'usage: koblingspunkt register FILE... --patient FNR|CX [metadata options] [node options]';

const HELP = `${SYNOPSIS}

Registers the files for one patient with ITI-41 (Provide and Register Document Set-b) at the
node's repository, in one submission set: all of them are registered, or none. The type of each
file is told from its bytes and name (PDF, CDA or other XML, text, JPEG, PNG); its size and SHA-1
are computed and sent. Prints each new DocumentEntry uniqueId (a UUID) on its own line.

  --patient FNR|CX             an 11-digit fødselsnummer, D-number or H-number (its CX is made with
                               the national OID), or a CX such as 13116900216^^^&2.16.578.1.12.4.1.4.1&ISO

${METADATA_HELP}

${CLIENT_HELP}`;

export const register: Command = {
  name: 'register',
  synopsis: SYNOPSIS,
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parsed(() =>
      parseArgs({ args: [...args], options: { patient: { type: 'string' }, ...METADATA_OPTIONS, ...CLIENT_OPTIONS }, allowPositionals: true }),
    );
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return EXIT.ok;
    }
    if (positionals.length === 0) throw new UsageError('name at least one file to register');
    if (values.patient === undefined) throw new UsageError('--patient is required');
    const patientId = patientOption(values.patient);
    const metadata = metadataOptions(values, patientId);
    const target = nodeTarget(values, io);
    const files: DocumentFile[] = [];
    for (const name of positionals) {
      try {
        files.push(await readDocumentFile(resolve(io.cwd, name), values['mime-type']));
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    const planned = files.map((file) => ({ file, uniqueId: newDocumentUniqueId() }));
    const submission = buildSubmission(planned, metadata);
    const client = new NodeClient(target);
    try {
      const warnings = await client.provideAndRegister(
        submission,
        planned.map((p, i) => ({ id: documentId(i), file: p.file })),
      );
      for (const w of warnings) say(io, `koblingspunkt register: warning: ${describeRegistryError(w)}`);
    } finally {
      await client.close();
    }
    if (values.json) {
      outJson(io, {
        patientId,
        submissionSetUniqueId: submission.submissionSet.uniqueId,
        documents: planned.map(({ file, uniqueId }) => ({ file: file.path, uniqueId, mimeType: file.mimeType, size: file.size, hash: file.sha1 })),
      });
    } else {
      for (const p of planned) out(io, p.uniqueId);
    }
    return EXIT.ok;
  },
};
