/**
 * The metadata options `register` and `import` share, and how they become MetadataOptions.
 */
import type { Author } from '../../registry/model/metadata.js';
import { isOid } from '../../registry/model/hl7.js';
import { DEFAULT_CODES, parseCode, TABLES } from './codes.js';
import { UsageError } from './errors.js';
import { CLI_SOURCE_ID, type MetadataOptions } from './submission.js';
import { parseTime } from './time.js';

const HPR_OID = '2.16.578.1.12.4.1.4.4';
const ORGANIZATION_NUMBER_OID = '2.16.578.1.12.4.1.4.101';

export const METADATA_OPTIONS = {
  title: { type: 'string' },
  class: { type: 'string' },
  type: { type: 'string' },
  format: { type: 'string' },
  confidentiality: { type: 'string', multiple: true },
  facility: { type: 'string' },
  practice: { type: 'string' },
  language: { type: 'string' },
  author: { type: 'string' },
  institution: { type: 'string' },
  'author-role': { type: 'string' },
  'creation-time': { type: 'string' },
  'source-id': { type: 'string' },
  'mime-type': { type: 'string' },
} as const;

export const METADATA_HELP = `metadata (defaults: an epikrise as in fixtures/messages/iti42-norwegian-epikrise.xml):
  --title TEXT                 title (default: the file name without its extension)
  --class CODE                 classCode, Volven 9602 (default ${DEFAULT_CODES.classCode} Epikriser og sammenfatninger)
  --type CODE                  typeCode, Volven 9602 (default ${DEFAULT_CODES.typeCode} Epikrise)
  --format CODE                formatCode (default: urn:no:ehelse:document:pdf for PDF, else
                               urn:ihe:iti:xds:2017:mimeTypeSufficient)
  --confidentiality CODE       Volven 9603, repeatable (default ${DEFAULT_CODES.confidentiality} Normal; NORS Sperret, NORU Utsatt innsyn)
  --facility CODE              healthcareFacilityTypeCode, Volven 1303 (default ${DEFAULT_CODES.facility} Somatisk sykehus)
  --practice CODE              practiceSettingCode, Volven 8655 (default ${DEFAULT_CODES.practice} Indremedisin)
  --language TAG               languageCode (default nb-NO)
  --author HPR|XCN             the author: an HPR number, or an XCN as the registry stores it
  --institution NAME^ORGNR|XON the author's institution: name and organisation number, or an XON
  --author-role CODE           authorRole (e.g. LE)
  --creation-time TIME         YYYY-MM-DD[THH:MM[:SS]] (UTC) or an HL7 DTM (default: the file's modification time)
  --source-id OID              SubmissionSet.sourceId (default: this tool's, ${CLI_SOURCE_ID})
  --mime-type TYPE             the mime type, when it cannot be told from the bytes and the name
A CODE is CODE^Display name, CODE^Display name^codingScheme, or one of the codes known by name:
${Object.values(TABLES)
  .map((t) => `  ${t.option.padEnd(19)}${t.known.map((c) => `${c.code} (${c.displayName?.value ?? ''})`).join(', ')}`)
  .join('\n')}`;

export interface MetadataValues {
  readonly title?: string | undefined;
  readonly class?: string | undefined;
  readonly type?: string | undefined;
  readonly format?: string | undefined;
  readonly confidentiality?: string[] | undefined;
  readonly facility?: string | undefined;
  readonly practice?: string | undefined;
  readonly language?: string | undefined;
  readonly author?: string | undefined;
  readonly institution?: string | undefined;
  readonly 'author-role'?: string | undefined;
  readonly 'creation-time'?: string | undefined;
  readonly 'source-id'?: string | undefined;
}

/** The metadata of the command line, for one patient; bad values are usage errors. */
export function metadataOptions(values: MetadataValues, patientId: string): MetadataOptions {
  const code = <T>(make: () => T): T => {
    try {
      return make();
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  };
  const sourceId = values['source-id'] ?? CLI_SOURCE_ID;
  if (!isOid(sourceId)) throw new UsageError(`--source-id ${sourceId} is not an OID`);
  const language = values.language ?? 'nb-NO';
  if (!/^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(language)) throw new UsageError(`--language ${language} is not a language tag such as nb-NO`);
  const author = authorOf(values);
  return {
    patientId,
    ...(values.title !== undefined ? { title: values.title } : {}),
    classCode: code(() => parseCode(values.class ?? DEFAULT_CODES.classCode, TABLES.classCode)),
    typeCode: code(() => parseCode(values.type ?? DEFAULT_CODES.typeCode, TABLES.typeCode)),
    ...(values.format !== undefined ? { formatCode: code(() => parseCode(values.format!, TABLES.format)) } : {}),
    confidentialityCodes: (values.confidentiality ?? [DEFAULT_CODES.confidentiality]).map((c) => code(() => parseCode(c, TABLES.confidentiality))),
    healthcareFacilityTypeCode: code(() => parseCode(values.facility ?? DEFAULT_CODES.facility, TABLES.facility)),
    practiceSettingCode: code(() => parseCode(values.practice ?? DEFAULT_CODES.practice, TABLES.practice)),
    languageCode: language,
    authors: author === undefined ? [] : [author],
    ...(values['creation-time'] !== undefined ? { creationTime: code(() => parseTime(values['creation-time']!, '--creation-time')) } : {}),
    sourceId,
  };
}

function authorOf(values: MetadataValues): Author | undefined {
  const person = values.author?.trim();
  const institution = values.institution?.trim();
  const role = values['author-role']?.trim();
  if (!person && !institution) {
    if (role) throw new UsageError('--author-role needs --author or --institution');
    return undefined;
  }
  return {
    ...(person ? { person: /^\d+$/.test(person) ? `${person}^^^^^^^^&${HPR_OID}&ISO` : person } : {}),
    institutions: institution ? [institutionXon(institution)] : [],
    roles: role ? [role] : [],
    specialties: [],
    telecommunications: [],
  };
}

/** `Name^123456789` is a name and an organisation number (enhetsregisteret); anything else an XON as given. */
function institutionXon(value: string): string {
  const m = /^([^^]+)\^(\d{9})$/.exec(value);
  return m ? `${m[1]!.trim()}^^^^^&${ORGANIZATION_NUMBER_OID}&ISO^^^^${m[2]}` : value;
}
