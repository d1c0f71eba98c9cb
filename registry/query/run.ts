/**
 * ITI-18 Registry Stored Query: validates the request against the query's parameter table, runs
 * the query on the store and applies the checks every answer gets (result size, single patient),
 * then stamps the community's homeCommunityId on what it returns.
 */
import { error, RegistryFailure, type RegistryErrorInfo } from '../model/errors.js';
import type { RegistryObject } from '../model/metadata.js';
import { STORED_QUERY_ID, type StoredQueryName, type StoredQueryRequest, type StoredQueryResult } from '../model/query.js';
import type { RegistryStore } from '../store/store.js';
import type { QueryImplementation } from './context.js';
import {
  findDocuments,
  findDocumentsByReferenceId,
  findDocumentsForMultiplePatients,
  findFolders,
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
import { PARAMETER_TABLES } from './parameter-tables.js';
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
};

/** Queries whose answers span patients by design, exempt from XDSResultNotSinglePatient. */
const MULTI_PATIENT_QUERIES: ReadonlySet<StoredQueryName> = new Set(['FindDocumentsForMultiplePatients']);

const NAME_BY_ID = new Map<string, StoredQueryName>(
  (Object.entries(STORED_QUERY_ID) as [StoredQueryName, string][]).map(([name, id]) => [id.toLowerCase(), name]),
);

/** The query name for an AdhocQuery/@id, or undefined for an id this registry does not know. */
export function storedQueryName(queryId: string): StoredQueryName | undefined {
  return NAME_BY_ID.get(queryId.trim().toLowerCase());
}

export async function runStoredQuery(
  store: RegistryStore,
  request: StoredQueryRequest,
  options: StoredQueryOptions,
): Promise<StoredQueryResult> {
  const name = storedQueryName(request.queryId);
  if (name === undefined) {
    return failure(request, [error('XDSUnknownStoredQuery', `unknown stored query id ${request.queryId}`, request.queryId)]);
  }
  try {
    const params = readParameters(PARAMETER_TABLES[name], request.parameters);
    const objects = await IMPLEMENTATIONS[name]({ store, params, limit: options.maxResults + 1 });
    if (objects.length > options.maxResults) {
      return failure(request, [
        error('XDSTooManyResults', `the query matches more than ${options.maxResults} objects; narrow it down`, name),
      ]);
    }
    if (request.returnType === 'LeafClass' && !MULTI_PATIENT_QUERIES.has(name)) {
      const patients = patientsOf(objects);
      if (patients.size > 1) {
        return failure(request, [
          error('XDSResultNotSinglePatient', `the result holds objects of ${patients.size} patients`, name),
        ]);
      }
    }
    return {
      status: 'Success',
      errors: [],
      returnType: request.returnType,
      objects: options.homeCommunityId === undefined ? objects : objects.map((o) => withHome(o, options.homeCommunityId!)),
    };
  } catch (e) {
    if (e instanceof RegistryFailure) return failure(request, e.errors);
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
  const hit = stamped.get(object);
  if (hit !== undefined && hit.homeCommunityId === homeCommunityId) return hit as T;
  const copy: T = { ...object, homeCommunityId };
  if (Object.isFrozen(object)) {
    Object.freeze(copy);
    stamped.set(object, copy);
  }
  return copy;
}

function failure(request: StoredQueryRequest, errors: readonly RegistryErrorInfo[]): StoredQueryResult {
  return { status: 'Failure', errors, returnType: request.returnType, objects: [] };
}
