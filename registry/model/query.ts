import type { RegistryErrorInfo, ResponseStatus } from './errors.js';
import type { RegistryObject } from './metadata.js';

/**
 * The 14 XDS stored queries of ITI TF-2a 3.18.4.1.2.3.7 (ITI-18) and the two multi-patient
 * queries of ITI TF-2b 3.51.4.1.2 (ITI-51). The multi-patient ids are spelled `39a2`, as in the
 * NIST testkit (test 12364), the NIST registry simulator and IPF.
 */
export const STORED_QUERY_ID = {
  FindDocuments: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d',
  FindSubmissionSets: 'urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9',
  FindFolders: 'urn:uuid:958f3006-baad-4929-a4de-ff1114824431',
  GetAll: 'urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3',
  GetDocuments: 'urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4',
  GetFolders: 'urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4',
  GetAssociations: 'urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155',
  GetDocumentsAndAssociations: 'urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a',
  GetSubmissionSets: 'urn:uuid:51224314-5390-4169-9b91-b1980040715a',
  GetSubmissionSetAndContents: 'urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83',
  GetFolderAndContents: 'urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7',
  GetFoldersForDocument: 'urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578',
  GetRelatedDocuments: 'urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6',
  FindDocumentsByReferenceId: 'urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492',
  FindDocumentsForMultiplePatients: 'urn:uuid:3d1bdb10-39a2-11de-89c2-2f44d94eaa9f',
  FindFoldersForMultiplePatients: 'urn:uuid:50d3f5ac-39a2-11de-a1ca-b366239e58df',
} as const;

export type StoredQueryName = keyof typeof STORED_QUERY_ID;

export type ReturnType = 'LeafClass' | 'ObjectRef';

/**
 * The transaction a stored query arrives in. Each offers its own queries and refuses the other's
 * as unknown (XDSUnknownStoredQuery): ITI-18 (and ITI-38, which shares its queries) the 14
 * single-patient ones, ITI-51 only the two multi-patient ones (ITI TF-2b 3.51.4.1.2).
 */
export type StoredQueryTransaction = 'ITI-18' | 'ITI-51';

/** One query parameter slot exactly as sent: name and raw values (still quoted / parenthesised). */
export interface QueryParameterSlot {
  readonly name: string;
  readonly values: readonly string[];
}

/** An ITI-18 / ITI-38 / ITI-51 AdhocQueryRequest reduced to what the registry needs. */
export interface StoredQueryRequest {
  /** AdhocQuery/@id, e.g. STORED_QUERY_ID.FindDocuments (unknown ids → XDSUnknownStoredQuery). */
  readonly queryId: string;
  readonly returnType: ReturnType;
  /** Slots in request order; repeated names are kept separate (AND semantics for code lists). */
  readonly parameters: readonly QueryParameterSlot[];
  /** AdhocQuery/@home when present. */
  readonly homeCommunityId?: string;
  /**
   * Set by the transaction, not read from the wire. Absent means ITI-18, so that a multi-patient
   * query is only ever run where a transaction asked for ITI-51 on purpose.
   */
  readonly transaction?: StoredQueryTransaction;
}

/** An rim:ObjectRef in an answer: a reference only, with the community it lives in. */
export interface ObjectReference {
  readonly id: string;
  readonly home?: string;
}

/**
 * What a stored query answers, from the registry and through gateways alike. With ObjectRef,
 * `objects` still holds the objects; only their ids are serialised. `objectRefs` are the bare
 * references another community answered with (ITI-38 relays them); a registry's own answer has none.
 */
export interface StoredQueryResult {
  readonly status: ResponseStatus;
  readonly errors: readonly RegistryErrorInfo[];
  readonly returnType: ReturnType;
  readonly objects: readonly RegistryObject[];
  readonly objectRefs: readonly ObjectReference[];
}

/**
 * The answer of a query that failed as a whole: status Failure, these errors, nothing found. The
 * return type is the request's when the request could be read, LeafClass otherwise.
 */
export function failedQueryResult(request: Pick<StoredQueryRequest, 'returnType'> | undefined, errors: readonly RegistryErrorInfo[]): StoredQueryResult {
  return { status: 'Failure', errors, returnType: request?.returnType ?? 'LeafClass', objects: [], objectRefs: [] };
}
