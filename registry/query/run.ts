/**
 * ITI-18 Registry Stored Query and ITI-51 Multi-Patient Stored Query: one code path for both.
 * Refuses a query the request's transaction does not offer, validates the request against the
 * query's parameter table, runs the query on the store and applies the checks every answer gets
 * (result size, single patient), then stamps the community's homeCommunityId on what it returns.
 */
import { error, RegistryFailure, type RegistryErrorInfo } from '../model/errors.js';
import type { RegistryObject } from '../model/metadata.js';
import {
  failedQueryResult,
  STORED_QUERY_ID,
  type StoredQueryName,
  type StoredQueryRequest,
  type StoredQueryResult,
  type StoredQueryTransaction,
} from '../model/query.js';
import type { RegistryStore } from '../store/store.js';
import { carryStoredForm } from '../store/stored-forms.js';
import type { QueryImplementation } from './context.js';
import {
  findDocuments,
  findDocumentsByReferenceId,
  findDocumentsForMultiplePatients,
  findFolders,
  findFoldersForMultiplePatients,
  findSubmissionSets,
} from './find-queries.js';
import {
  getAll,
  getAssociations,
  getDocuments,
  getDocumentsAndAssociations,
  getFolderAndContents,
  getFolders,
  getFoldersForDocument,
  getRelatedDocuments,
  getSubmissionSetAndContents,
  getSubmissionSets,
} from './get-queries.js';
import { P, PARAMETER_TABLES } from './parameter-tables.js';
import { readParameters } from './parameters.js';

export interface StoredQueryOptions {
  /** Largest number of objects one answer may hold; more is XDSTooManyResults. */
  readonly maxResults: number;
  /** This community's homeCommunityId (urn:oid:…), set on every returned object. */
  readonly homeCommunityId?: string;
}

const IMPLEMENTATIONS: Record<StoredQueryName, QueryImplementation> = {
  FindDocuments: findDocuments,
  FindSubmissionSets: findSubmissionSets,
  FindFolders: findFolders,
  GetAll: getAll,
  GetDocuments: getDocuments,
  GetFolders: getFolders,
  GetAssociations: getAssociations,
  GetDocumentsAndAssociations: getDocumentsAndAssociations,
  GetSubmissionSets: getSubmissionSets,
  GetSubmissionSetAndContents: getSubmissionSetAndContents,
  GetFolderAndContents: getFolderAndContents,
  GetFoldersForDocument: getFoldersForDocument,
  GetRelatedDocuments: getRelatedDocuments,
  FindDocumentsByReferenceId: findDocumentsByReferenceId,
  FindDocumentsForMultiplePatients: findDocumentsForMultiplePatients,
  FindFoldersForMultiplePatients: findFoldersForMultiplePatients,
};

/**
 * The queries of ITI-51 (ITI TF-2b 3.51.4.1.2): the only ones it offers, and the only ones whose
 * answers may span patients (exempt from XDSResultNotSinglePatient). Every other query is ITI-18's.
 */
const MULTI_PATIENT_QUERIES: ReadonlySet<StoredQueryName> = new Set(['FindDocumentsForMultiplePatients', 'FindFoldersForMultiplePatients']);

const transactionOf = (name: StoredQueryName): StoredQueryTransaction => (MULTI_PATIENT_QUERIES.has(name) ? 'ITI-51' : 'ITI-18');

const NAME_BY_ID = new Map<string, StoredQueryName>(
  (Object.entries(STORED_QUERY_ID) as [StoredQueryName, string][]).map(([name, id]) => [id.toLowerCase(), name]),
);

/**
 * The query name for an AdhocQuery/@id among the queries `transaction` offers (ITI-18 unless
 * given), or undefined for an id this registry does not know there. A multi-patient id is thus
 * unknown to ITI-18 and ITI-38 callers, and a single-patient one to ITI-51 callers.
 */
export function storedQueryName(queryId: string, transaction: StoredQueryTransaction = 'ITI-18'): StoredQueryName | undefined {
  const name = NAME_BY_ID.get(queryId.trim().toLowerCase());
  return name !== undefined && transactionOf(name) === transaction ? name : undefined;
}

/** Why an id is refused: unknown everywhere, or a query of the other transaction (the message says which). */
function unknownQuery(request: StoredQueryRequest, transaction: StoredQueryTransaction): RegistryErrorInfo {
  const elsewhere = NAME_BY_ID.get(request.queryId.trim().toLowerCase());
  const message =
    elsewhere === undefined
      ? `unknown stored query id ${request.queryId}`
      : `stored query ${elsewhere} (${request.queryId}) belongs to ${transactionOf(elsewhere)}, not to ${transaction}`;
  return error('XDSUnknownStoredQuery', message, request.queryId);
}

export async function runStoredQuery(
  store: RegistryStore,
  request: StoredQueryRequest,
  options: StoredQueryOptions,
): Promise<StoredQueryResult> {
  const transaction = request.transaction ?? 'ITI-18';
  const name = storedQueryName(request.queryId, transaction);
  if (name === undefined) return failedQueryResult(request, [unknownQuery(request, transaction)]);
  try {
    const params = readParameters(PARAMETER_TABLES[name], request.parameters);
    const objects = await IMPLEMENTATIONS[name]({
      store,
      params,
      limit: options.maxResults + 1,
      metadataLevel: params.single(P.metadataLevel) === '2' ? 2 : 1,
      associationStatuses: params.statuses(P.associationStatus) ?? ['Approved'],
    });
    if (objects.length > options.maxResults) {
      return failedQueryResult(request, [
        error('XDSTooManyResults', `the query matches more than ${options.maxResults} objects; narrow it down`, name),
      ]);
    }
    if (request.returnType === 'LeafClass' && !MULTI_PATIENT_QUERIES.has(name)) {
      const patients = patientsOf(objects);
      if (patients.size > 1) {
        return failedQueryResult(request, [
          error('XDSResultNotSinglePatient', `the result holds objects of ${patients.size} patients`, name),
        ]);
      }
    }
    return {
      status: 'Success',
      errors: [],
      returnType: request.returnType,
      objects: options.homeCommunityId === undefined ? objects : objects.map((o) => withHome(o, options.homeCommunityId!)),
      objectRefs: [],
    };
  } catch (e) {
    if (e instanceof RegistryFailure) return failedQueryResult(request, e.errors);
    throw e;
  }
}

function patientsOf(objects: readonly RegistryObject[]): Set<string> {
  const patients = new Set<string>();
  for (const o of objects) {
    if (o.type !== 'Association' && o.patientId !== undefined) patients.add(o.patientId);
  }
  return patients;
}

/**
 * Source object → the same object stamped with our homeCommunityId. The store hands out the same
 * frozen object for an unchanged record, so the stamped copy is made once, not per answer, and is
 * itself the same object in every answer (write-objects.ts keys its serialised form on that).
 * Unfrozen objects could change after stamping, so they are copied each time, as before.
 */
const stamped = new WeakMap<RegistryObject, RegistryObject>();

function withHome<T extends RegistryObject>(object: T, homeCommunityId: string): T {
  if (object.homeCommunityId === homeCommunityId) return object;
  // An unfrozen object (parsed for one read: a cold miss) is never in the map, and looking it up
  // would give it an identity hash for nothing.
  // The copy differs only by its home: it keeps the stored LeafClass form read with the object
  // (write-objects.ts puts the home into it), unless the object came with another home.
  const carry = object.homeCommunityId === undefined;
  if (!Object.isFrozen(object)) {
    const copy = { ...object, homeCommunityId };
    if (carry) carryStoredForm(object, copy);
    return copy;
  }
  const hit = stamped.get(object);
  if (hit !== undefined && hit.homeCommunityId === homeCommunityId) return hit as T;
  const copy: T = { ...object, homeCommunityId };
  Object.freeze(copy);
  if (carry) carryStoredForm(object, copy);
  stamped.set(object, copy);
  return copy;
}
