/**
 * The codes a registered document is classified with, and the Norwegian defaults.
 *
 * The defaults are those of the project's Norwegian example submission
 * (fixtures/messages/iti42-norwegian-epikrise.xml): an *epikrise* (discharge summary) coded with
 * Volven 9602 (class and type), 9603 (confidentiality), 1303 (facility type) and 8655 (practice
 * setting), in Norwegian bokmål. A region registering other kinds of documents names them with
 * --class, --type, --confidentiality, --facility, --practice; the registry checks codes for
 * structure only (docs/norway.md, "Volven code systems"), so any code system the affinity domain
 * uses is accepted.
 *
 * On the command line a code is `CODE` (one of the codes the tables below know by name: the
 * registry requires a display name, so another bare code is refused), `CODE^Display name` (in the
 * option's default code system) or `CODE^Display name^codingScheme`.
 */
import type { Code } from '../../registry/model/metadata.js';
import type { DocumentKind } from './mime.js';

const VOLVEN = '2.16.578.1.12.4.1.1';
/** IHE's format code system (ITI TF-3 Table 4.2.3.2.9-1 and the IHE FormatCode value set). */
const IHE_FORMAT = '1.3.6.1.4.1.19376.1.2.3';

function code(value: string, scheme: string, name: string): Code {
  return { code: value, scheme, displayName: { value: name } };
}

/** One classifying attribute: its default code system and the codes known by name. */
export interface CodeTable {
  /** The option that sets it, for messages. */
  readonly option: string;
  readonly scheme: string;
  readonly known: readonly Code[];
}

const DOCUMENT_CLASSES: readonly Code[] = [
  code('A00-1', `${VOLVEN}.9602`, 'Epikriser og sammenfatninger'),
  code('B00-1', `${VOLVEN}.9602`, 'Løpende journal'),
  code('C00-1', `${VOLVEN}.9602`, 'Prøvesvar'),
  code('E00-1', `${VOLVEN}.9602`, 'Bildediagnostikk'),
  code('I00-1', `${VOLVEN}.9602`, 'Korrespondanse'),
];

const DOCUMENT_TYPES: readonly Code[] = [
  code('A03-2', `${VOLVEN}.9602`, 'Epikrise'),
  code('B02-2', `${VOLVEN}.9602`, 'Journalnotat'),
  code('C01-2', `${VOLVEN}.9602`, 'Medisinsk biokjemi'),
  code('E01-2', `${VOLVEN}.9602`, 'Bildediagnostiske svar'),
  code('I01-2', `${VOLVEN}.9602`, 'Henvisning'),
];

export const TABLES = {
  classCode: { option: '--class', scheme: `${VOLVEN}.9602`, known: DOCUMENT_CLASSES },
  typeCode: { option: '--type', scheme: `${VOLVEN}.9602`, known: DOCUMENT_TYPES },
  confidentiality: {
    option: '--confidentiality',
    scheme: `${VOLVEN}.9603`,
    known: [code('N', `${VOLVEN}.9603`, 'Normal'), code('NORS', `${VOLVEN}.9603`, 'Sperret'), code('NORU', `${VOLVEN}.9603`, 'Utsatt innsyn')],
  },
  facility: {
    option: '--facility',
    scheme: `${VOLVEN}.1303`,
    known: [code('86.101', `${VOLVEN}.1303`, 'Somatisk sykehus'), code('86.211', `${VOLVEN}.1303`, 'Allmennlegetjeneste')],
  },
  practice: { option: '--practice', scheme: `${VOLVEN}.8655`, known: [code('S03', `${VOLVEN}.8655`, 'Indremedisin')] },
  format: {
    option: '--format',
    scheme: IHE_FORMAT,
    known: [code('urn:no:ehelse:document:pdf', `${VOLVEN}.9604`, 'PDF'), code('urn:ihe:iti:xds:2017:mimeTypeSufficient', IHE_FORMAT, 'mimeType Sufficient')],
  },
} as const satisfies Record<string, CodeTable>;

export const DEFAULT_CODES = {
  classCode: 'A00-1',
  typeCode: 'A03-2',
  confidentiality: 'N',
  facility: '86.101',
  practice: 'S03',
} as const;

/**
 * The format code of a document kind: the Norwegian PDF code of the example submission for PDF,
 * IHE's "the mime type says it all" for the rest (an image, plain text, an XML or CDA document
 * whose template the CLI cannot know).
 */
export function defaultFormat(kind: DocumentKind): Code {
  return kind === 'pdf' ? TABLES.format.known[0] : TABLES.format.known[1];
}

/** A code as typed on the command line (see the module comment); throws an Error naming the option. */
export function parseCode(value: string, table: CodeTable): Code {
  const [raw = '', display, scheme] = value.split('^').map((p) => p.trim());
  if (raw === '') throw new Error(`${table.option} "${value}": expected CODE, CODE^Display name or CODE^Display name^codingScheme`);
  if (display === undefined || display === '') {
    const known = table.known.find((c) => c.code === raw);
    if (known === undefined) {
      const names = table.known.map((c) => c.code).join(', ');
      throw new Error(`${table.option} ${raw} is not a code this tool knows by name (${names}); give it as ${raw}^Display name[^codingScheme]`);
    }
    return known;
  }
  return code(raw, scheme === undefined || scheme === '' ? table.scheme : scheme, display);
}

/** How a code is shown in a table: its display name, else the code. */
export function showCode(c: Code | undefined): string {
  return c?.displayName?.value ?? c?.code ?? '';
}

/** A code as a stored-query parameter value names it: `code^^scheme` (ITI TF-2a 3.18.4.1.2.3.7). */
export function queryCode(c: Code): string {
  return `${c.code}^^${c.scheme ?? ''}`;
}
