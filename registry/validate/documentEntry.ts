/**
 * DocumentEntry rules for Register Document Set-b (ITI TF-3 4.2.3.2, metadata optionality for
 * the XDS Document Registry: the "R" attributes must be present, formats must hold).
 */
import { isValidDtm } from '../model/hl7.js';
import { DOCUMENT_ENTRY_TYPE, type DocumentEntry } from '../model/metadata.js';
import {
  authorProblem,
  codeProblem,
  documentUniqueIdProblem,
  isLanguageTag,
  isMimeType,
  isPidLine,
  isSha1Hex,
  isSize,
  oidProblem,
  xcnProblem,
} from './formats.js';
import { isBlank, perObject, type Rule } from './rule.js';

const entries = (sub: { documentEntries: readonly DocumentEntry[] }) => sub.documentEntries;

/** One rule per required ("R") DocumentEntry attribute, so each omission names its attribute. */
const REQUIRED: readonly [attribute: string, present: (de: DocumentEntry) => boolean][] = [
  ['classCode', (de) => de.classCode !== undefined],
  ['confidentialityCode', (de) => de.confidentialityCodes.length > 0],
  ['creationTime', (de) => !isBlank(de.creationTime)],
  ['formatCode', (de) => de.formatCode !== undefined],
  ['hash', (de) => !isBlank(de.hash)],
  ['healthcareFacilityTypeCode', (de) => de.healthcareFacilityTypeCode !== undefined],
  ['languageCode', (de) => !isBlank(de.languageCode)],
  ['mimeType', (de) => !isBlank(de.mimeType)],
  ['patientId', (de) => !isBlank(de.patientId)],
  ['practiceSettingCode', (de) => de.practiceSettingCode !== undefined],
  ['repositoryUniqueId', (de) => !isBlank(de.repositoryUniqueId)],
  ['size', (de) => !isBlank(de.size)],
  ['sourcePatientId', (de) => !isBlank(de.sourcePatientId)],
  ['typeCode', (de) => de.typeCode !== undefined],
  ['uniqueId', (de) => !isBlank(de.uniqueId)],
];

export const documentEntryRequiredRules: readonly Rule[] = REQUIRED.map(([attribute, present]) =>
  perObject(
    {
      id: `DE-required-${attribute}`,
      description: `DocumentEntry.${attribute} is required in Register Document Set-b`,
      errorCode: 'XDSRegistryMetadataError',
    },
    entries,
    (de) => (present(de) ? undefined : `DocumentEntry ${de.entryUuid} is missing required attribute ${attribute}`),
  ),
);

function optionalDtm(attribute: 'creationTime' | 'serviceStartTime' | 'serviceStopTime'): Rule {
  return perObject(
    {
      id: `DE-format-${attribute}`,
      description: `DocumentEntry.${attribute} is an XDS DTM (YYYY[MM[DD[hh[mm[ss]]]]], UTC)`,
      errorCode: 'XDSRegistryMetadataError',
    },
    entries,
    (de) => {
      const value = de[attribute];
      return value === undefined || isValidDtm(value) ? undefined : `${attribute} "${value}" is not a valid DTM`;
    },
  );
}

export const documentEntryFormatRules: readonly Rule[] = [
  perObject(
    {
      id: 'DE-objectType-stable',
      description: 'Register Document Set-b registers stable DocumentEntries only (on-demand entries use ITI-61)',
      errorCode: 'XDSRegistryMetadataError',
    },
    entries,
    (de) =>
      de.objectType === DOCUMENT_ENTRY_TYPE.stable
        ? undefined
        : `objectType "${de.objectType}" is not the stable DocumentEntry type ${DOCUMENT_ENTRY_TYPE.stable}`,
  ),
  perObject(
    {
      id: 'DE-format-uniqueId',
      description: 'DocumentEntry.uniqueId is structured as its format requires (DICOM UID; else OID, OID^extension or UUID), 128 bytes at most',
      errorCode: 'XDSRegistryMetadataError',
    },
    entries,
    (de) =>
      isBlank(de.uniqueId) ? undefined : documentUniqueIdProblem(de.uniqueId ?? '', { mimeType: de.mimeType, formatCodeScheme: de.formatCode?.scheme }),
  ),
  optionalDtm('creationTime'),
  optionalDtm('serviceStartTime'),
  optionalDtm('serviceStopTime'),
  perObject(
    { id: 'DE-format-hash', description: 'DocumentEntry.hash is a SHA-1 in 40 hex digits (any case)', errorCode: 'XDSRegistryMetadataError' },
    entries,
    (de) => (isBlank(de.hash) || isSha1Hex(de.hash ?? '') ? undefined : `hash "${de.hash}" is not 40 hexadecimal digits`),
  ),
  perObject(
    { id: 'DE-format-size', description: 'DocumentEntry.size is a decimal integer', errorCode: 'XDSRegistryMetadataError' },
    entries,
    (de) => (isBlank(de.size) || isSize(de.size ?? '') ? undefined : `size "${de.size}" is not a decimal integer`),
  ),
  perObject(
    { id: 'DE-format-languageCode', description: 'DocumentEntry.languageCode is an RFC 3066 language tag', errorCode: 'XDSRegistryMetadataError' },
    entries,
    (de) =>
      isBlank(de.languageCode) || isLanguageTag(de.languageCode ?? '') ? undefined : `languageCode "${de.languageCode}" is not a language tag`,
  ),
  perObject(
    { id: 'DE-format-mimeType', description: 'DocumentEntry.mimeType is type/subtype', errorCode: 'XDSRegistryMetadataError' },
    entries,
    (de) => (isBlank(de.mimeType) || isMimeType(de.mimeType ?? '') ? undefined : `mimeType "${de.mimeType}" is not a MIME type`),
  ),
  perObject(
    { id: 'DE-format-repositoryUniqueId', description: 'DocumentEntry.repositoryUniqueId is an OID', errorCode: 'XDSRegistryMetadataError' },
    entries,
    (de) => (isBlank(de.repositoryUniqueId) ? undefined : oidProblem('repositoryUniqueId', de.repositoryUniqueId ?? '')),
  ),
  perObject(
    { id: 'DE-format-codes', description: 'DocumentEntry codes have a code, a codingScheme and a display name', errorCode: 'XDSRegistryMetadataError' },
    entries,
    (de) => {
      const single = [
        ['classCode', de.classCode],
        ['typeCode', de.typeCode],
        ['formatCode', de.formatCode],
        ['healthcareFacilityTypeCode', de.healthcareFacilityTypeCode],
        ['practiceSettingCode', de.practiceSettingCode],
      ] as const;
      for (const [name, code] of single) {
        const p = code === undefined ? undefined : codeProblem(name, code);
        if (p) return p;
      }
      for (const code of de.confidentialityCodes) {
        const p = codeProblem('confidentialityCode', code);
        if (p) return p;
      }
      for (const code of de.eventCodes) {
        const p = codeProblem('eventCodeList', code);
        if (p) return p;
      }
      return undefined;
    },
  ),
  perObject(
    { id: 'DE-format-author', description: 'DocumentEntry authors are well formed', errorCode: 'XDSRegistryMetadataError' },
    entries,
    (de) => de.authors.map((a) => authorProblem('DocumentEntry', a)).find((p) => p !== undefined),
  ),
  perObject(
    { id: 'DE-format-legalAuthenticator', description: 'DocumentEntry.legalAuthenticator is an XCN', errorCode: 'XDSRegistryMetadataError' },
    entries,
    (de) => (isBlank(de.legalAuthenticator) ? undefined : xcnProblem('legalAuthenticator', de.legalAuthenticator ?? '')),
  ),
  perObject(
    { id: 'DE-format-sourcePatientId', description: 'DocumentEntry.sourcePatientId is a CX id^^^&oid&ISO', errorCode: 'XDSRegistryMetadataError' },
    entries,
    (de, ctx) => (isBlank(de.sourcePatientId) ? undefined : ctx.patientIds.checkFormat(de.sourcePatientId ?? '')),
  ),
  perObject(
    { id: 'DE-format-sourcePatientInfo', description: 'DocumentEntry.sourcePatientInfo values are PID-n|value', errorCode: 'XDSRegistryMetadataError' },
    entries,
    (de) => {
      const bad = de.sourcePatientInfo.find((line) => !isPidLine(line));
      return bad === undefined ? undefined : `sourcePatientInfo value "${bad}" is not of the form PID-n|value`;
    },
  ),
];
