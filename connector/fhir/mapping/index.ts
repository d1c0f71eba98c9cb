/**
 * IHE MHD (FHIR R4) ⇄ the plain XDS model: what the FHIR endpoints of the node call. Nothing here
 * knows HTTP; see each module for its mapping table and rules.
 */
export { documentEntryToDocumentReference, documentReferenceToDocumentEntry, documentReferenceRef, documentReferenceTargetUuid, relatesToCode } from './document-reference.js';
export type { DocumentReferenceRead, DocumentReferenceReadOptions, DocumentReferenceWriteOptions, RelatesToRead } from './document-reference.js';
export { folderToList, listKind, listToFolder, listToSubmissionSet, submissionSetToList } from './list.js';
export type { ListEntryRead, ListKind, ListRead, ListReadOptions, ListWriteOptions } from './list.js';
export { documentContents, provideBundleToSubmission, transactionResponse, uuidToOid } from './provide-bundle.js';
export type { EntryKind, EntryOutcome, ProvideBundleOptions, ProvideBundleResult, ProvidedDocument, ProvidedSubmission, TransactionResponseOptions } from './provide-bundle.js';
export { expectResourceType, fhirDefinitionsLoadTime, loadFhirDefinitions, mhdProvideBundleIssues, parseFhirJson, validateFhirResource, validateProvideBundle } from './validate.js';
export type { Parsed, ProvideBundleValidation, ProvideBundleValidationOptions } from './validate.js';
export { documentReferenceSearchBundle, findDocumentListsQuery, findDocumentReferencesQuery, ITI66_PARAMETERS, ITI67_PARAMETERS, listEntriesOf, listSearchBundle, readDocumentReferenceQuery } from './search.js';
export type { ListSearchBundleOptions, SearchBundleOptions, SearchMapping, SearchOptions, SearchParams } from './search.js';
export { hasErrors, httpStatusOf, issuesFromRegistryErrors, mhdError, mhdWarning, operationOutcome, type MhdIssue } from './issues.js';
export { cxOfPatientResourceId, patientResourceId } from './patient.js';
export * from './fhir.js';
