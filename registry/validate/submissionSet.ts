/** SubmissionSet rules for Register Document Set-b (ITI TF-3 4.2.3.3). */
import { isValidDtm } from '../model/hl7.js';
import type { SubmissionSet } from '../model/metadata.js';
import { authorProblem, codeProblem, oidProblem } from './formats.js';
import { isBlank, perObject, type Rule } from './rule.js';

const submissionSet = (sub: { submissionSet: SubmissionSet }) => [sub.submissionSet];

const REQUIRED: readonly [attribute: string, present: (ss: SubmissionSet) => boolean][] = [
  ['contentTypeCode', (ss) => ss.contentTypeCode !== undefined],
  ['patientId', (ss) => !isBlank(ss.patientId)],
  ['sourceId', (ss) => !isBlank(ss.sourceId)],
  ['submissionTime', (ss) => !isBlank(ss.submissionTime)],
  ['uniqueId', (ss) => !isBlank(ss.uniqueId)],
];

export const submissionSetRequiredRules: readonly Rule[] = REQUIRED.map(([attribute, present]) =>
  perObject(
    {
      id: `SS-required-${attribute}`,
      description: `SubmissionSet.${attribute} is required in Register Document Set-b`,
      errorCode: 'XDSRegistryMetadataError',
    },
    submissionSet,
    (ss) => (present(ss) ? undefined : `SubmissionSet ${ss.entryUuid} is missing required attribute ${attribute}`),
  ),
);

export const submissionSetFormatRules: readonly Rule[] = [
  perObject(
    { id: 'SS-format-uniqueId', description: 'SubmissionSet.uniqueId is an OID', errorCode: 'XDSRegistryMetadataError' },
    submissionSet,
    (ss) => (isBlank(ss.uniqueId) ? undefined : oidProblem('SubmissionSet.uniqueId', ss.uniqueId ?? '')),
  ),
  perObject(
    { id: 'SS-format-sourceId', description: 'SubmissionSet.sourceId is an OID', errorCode: 'XDSRegistryMetadataError' },
    submissionSet,
    (ss) => (isBlank(ss.sourceId) ? undefined : oidProblem('SubmissionSet.sourceId', ss.sourceId ?? '')),
  ),
  perObject(
    { id: 'SS-format-submissionTime', description: 'SubmissionSet.submissionTime is an XDS DTM', errorCode: 'XDSRegistryMetadataError' },
    submissionSet,
    (ss) =>
      ss.submissionTime === undefined || isValidDtm(ss.submissionTime) ? undefined : `submissionTime "${ss.submissionTime}" is not a valid DTM`,
  ),
  perObject(
    { id: 'SS-format-contentTypeCode', description: 'SubmissionSet.contentTypeCode has a code, codingScheme and display name', errorCode: 'XDSRegistryMetadataError' },
    submissionSet,
    (ss) => (ss.contentTypeCode === undefined ? undefined : codeProblem('contentTypeCode', ss.contentTypeCode)),
  ),
  perObject(
    { id: 'SS-format-author', description: 'SubmissionSet authors are well formed', errorCode: 'XDSRegistryMetadataError' },
    submissionSet,
    (ss) => ss.authors.map((a) => authorProblem('SubmissionSet', a)).find((p) => p !== undefined),
  ),
  perObject(
    { id: 'SS-intendedRecipient', description: 'SubmissionSet.intendedRecipient values are not empty', errorCode: 'XDSRegistryMetadataError' },
    submissionSet,
    (ss) => (ss.intendedRecipients.some((r) => r.replace(/[|^&]/g, '').trim() === '') ? 'intendedRecipient has an empty value' : undefined),
  ),
  perObject(
    { id: 'SS-not-limited', description: 'Limited metadata is not allowed in Register Document Set-b (XDR/XDM only)', errorCode: 'XDSRegistryMetadataError' },
    submissionSet,
    (ss) => (ss.limitedMetadata ? 'a SubmissionSet with limited metadata cannot be registered' : undefined),
  ),
];
