/**
 * `koblingspunkt query --patient ID`: ITI-18 FindDocuments, shown as a table of the entries a
 * person needs to pick one (and retrieve it), or as JSON.
 */
import { parseArgs } from 'node:util';
import type { Code, DocumentEntry } from '../../../registry/model/metadata.js';
import { STATUS_URN_PREFIX } from '../../../registry/model/metadata.js';
import { STORED_QUERY_ID, type QueryParameterSlot } from '../../../registry/model/query.js';
import { CLIENT_HELP, CLIENT_OPTIONS, nodeTarget, parsed } from '../args.js';
import { parseCode, queryCode, showCode, TABLES } from '../codes.js';
import type { Command } from '../command.js';
import { describeRegistryError, EXIT, UsageError } from '../errors.js';
import { out, outJson, say } from '../io.js';
import { NodeClient } from '../node-client.js';
import { patientOption } from '../patient.js';
import { quoted, storedQueryString } from '../query-values.js';
import { table } from '../table.js';
import { parseTime, showTime } from '../time.js';

const SYNOPSIS = 'usage: koblingspunkt query --patient FNR|CX [--status S] [--class CODE] [--from TIME] [--to TIME] [node options]';

const STATUSES = ['approved', 'deprecated', 'submitted'] as const;

const HELP = `${SYNOPSIS}

Finds a patient's documents with ITI-18 FindDocuments and prints a table: uniqueId, title, class,
creation time, mime type, size, status and repositoryUniqueId (what \`retrieve\` needs).

  --patient FNR|CX   an 11-digit fødselsnummer, D-number or H-number, or a CX
  --status S         approved (default), deprecated, submitted or all; repeatable
  --class CODE       classCode, e.g. A00-1 (Volven 9602) or CODE^Display^codingScheme; repeatable
  --from TIME        created at or after: YYYY-MM-DD[THH:MM[:SS]] (UTC) or an HL7 DTM
  --to TIME          created before

${CLIENT_HELP}`;

export const query: Command = {
  name: 'query',
  synopsis: SYNOPSIS,
  help: HELP,
  async run(args, io) {
    const { values } = parsed(() =>
      parseArgs({
        args: [...args],
        options: {
          patient: { type: 'string' },
          status: { type: 'string', multiple: true },
          class: { type: 'string', multiple: true },
          from: { type: 'string' },
          to: { type: 'string' },
          ...CLIENT_OPTIONS,
        },
        allowPositionals: false,
      }),
    );
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return EXIT.ok;
    }
    if (values.patient === undefined) throw new UsageError('--patient is required');
    const usage = <T>(make: () => T): T => {
      try {
        return make();
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    };
    const patientId = patientOption(values.patient);
    const parameters: QueryParameterSlot[] = [
      { name: '$XDSDocumentEntryPatientId', values: [quoted(patientId)] },
      { name: '$XDSDocumentEntryStatus', values: [storedQueryString(statusUrns(values.status ?? ['approved']))] },
    ];
    for (const c of values.class ?? []) {
      parameters.push({ name: '$XDSDocumentEntryClassCode', values: [storedQueryString([queryCode(usage(() => parseCode(c, TABLES.classCode)))])] });
    }
    if (values.from !== undefined) parameters.push({ name: '$XDSDocumentEntryCreationTimeFrom', values: [usage(() => parseTime(values.from!, '--from'))] });
    if (values.to !== undefined) parameters.push({ name: '$XDSDocumentEntryCreationTimeTo', values: [usage(() => parseTime(values.to!, '--to'))] });

    const client = new NodeClient(nodeTarget(values, io));
    let entries: DocumentEntry[];
    try {
      const answer = await client.storedQuery({ queryId: STORED_QUERY_ID.FindDocuments, returnType: 'LeafClass', parameters });
      for (const w of answer.errors) say(io, `koblingspunkt query: warning: ${describeRegistryError(w)}`);
      entries = answer.objects.filter((o): o is DocumentEntry => o.type === 'DocumentEntry');
    } finally {
      await client.close();
    }
    entries.sort((a, b) => (b.creationTime ?? '').localeCompare(a.creationTime ?? ''));
    if (values.json) {
      outJson(io, { patientId, documents: entries.map(entryJson) });
      return EXIT.ok;
    }
    if (entries.length === 0) {
      say(io, `no documents for ${patientId}`);
      return EXIT.ok;
    }
    out(
      io,
      table(
        ['uniqueId', 'title', 'class', 'created (UTC)', 'mime type', 'size', 'status', 'repositoryUniqueId'],
        entries.map((e) => [
          e.uniqueId ?? '',
          e.title?.value ?? '',
          showCode(e.classCode),
          showTime(e.creationTime),
          e.mimeType ?? '',
          e.size ?? '',
          e.availabilityStatus,
          e.repositoryUniqueId ?? '',
        ]),
      ),
    );
    return EXIT.ok;
  },
};

function statusUrns(statuses: readonly string[]): string[] {
  const wanted = new Set<string>();
  for (const s of statuses.map((x) => x.toLowerCase())) {
    if (s === 'all') STATUSES.forEach((x) => wanted.add(x));
    else if ((STATUSES as readonly string[]).includes(s)) wanted.add(s);
    else throw new UsageError(`--status ${s}: expected approved, deprecated, submitted or all`);
  }
  return [...wanted].map((s) => `${STATUS_URN_PREFIX}${s[0]!.toUpperCase()}${s.slice(1)}`);
}

const codeJson = (c: Code | undefined) => (c === undefined ? undefined : { code: c.code, codingScheme: c.scheme, displayName: c.displayName?.value });

/** The entry as --json shows it: the table's columns and a few more a script may want. */
function entryJson(e: DocumentEntry) {
  return {
    uniqueId: e.uniqueId,
    entryUUID: e.entryUuid,
    title: e.title?.value,
    classCode: codeJson(e.classCode),
    typeCode: codeJson(e.typeCode),
    confidentialityCodes: e.confidentialityCodes.map(codeJson),
    creationTime: e.creationTime,
    mimeType: e.mimeType,
    size: e.size === undefined ? undefined : Number(e.size),
    hash: e.hash,
    status: e.availabilityStatus,
    repositoryUniqueId: e.repositoryUniqueId,
    homeCommunityId: e.homeCommunityId,
  };
}
