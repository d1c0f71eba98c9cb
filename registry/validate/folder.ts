/**
 * Folder rules for Register Document Set-b (ITI TF-3 4.2.3.4). lastUpdateTime is not checked:
 * the registry sets it, whatever the source sent (NIST 12323).
 */
import type { Folder } from '../model/metadata.js';
import { codeProblem, oidProblem } from './formats.js';
import { isBlank, perObject, type Rule } from './rule.js';

const folders = (sub: { folders: readonly Folder[] }) => sub.folders;

const REQUIRED: readonly [attribute: string, present: (f: Folder) => boolean][] = [
  ['codeList', (f) => f.codeList.length > 0],
  ['patientId', (f) => !isBlank(f.patientId)],
  ['title', (f) => !isBlank(f.title?.value)],
  ['uniqueId', (f) => !isBlank(f.uniqueId)],
];

export const folderRequiredRules: readonly Rule[] = REQUIRED.map(([attribute, present]) =>
  perObject(
    { id: `FOL-required-${attribute}`, description: `Folder.${attribute} is required in Register Document Set-b`, errorCode: 'XDSRegistryMetadataError' },
    folders,
    (f) => (present(f) ? undefined : `Folder ${f.entryUuid} is missing required attribute ${attribute}`),
  ),
);

export const folderFormatRules: readonly Rule[] = [
  perObject(
    { id: 'FOL-format-uniqueId', description: 'Folder.uniqueId is an OID', errorCode: 'XDSRegistryMetadataError' },
    folders,
    (f) => (isBlank(f.uniqueId) ? undefined : oidProblem('Folder.uniqueId', f.uniqueId ?? '')),
  ),
  perObject(
    { id: 'FOL-format-codeList', description: 'Folder.codeList codes have a code, codingScheme and display name', errorCode: 'XDSRegistryMetadataError' },
    folders,
    (f) => f.codeList.map((c) => codeProblem('codeList', c)).find((p) => p !== undefined),
  ),
];
