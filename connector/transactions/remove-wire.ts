/**
 * The RemoveDocuments wire format (ITI-86, IHE Remove Metadata and Documents): an
 * rmd:RemoveDocumentsRequest holding one or more xdsb:DocumentRequest elements, answered by a
 * plain rs:RegistryResponse whose RegistryErrorList names each document that was not removed.
 *
 * The DocumentRequest is the very element ITI-43 uses (the RMD schema imports it from the XDS.b
 * repository schema, xsd/rmd.xsd), so it is read and written by the retrieve mapping
 * (retrieve-wire.ts), not a second time here.
 */
import { parseRegistryResponse, registryResponse } from '../../registry/ebxml/index.js';
import { RegistryFailure, type RegistryErrorInfo, type ResponseStatus } from '../../registry/model/errors.js';
import { NS } from '../../registry/xml/namespaces.js';
import { el, type XmlElement } from '../../registry/xml/tree.js';
import type { DocumentRequest } from '../gateway/types.js';
import { expectBody } from './common.js';
import { parseRetrieveDocumentSetRequest, serializeRetrieveDocumentSetRequest } from './retrieve-wire.js';

/**
 * rmd:RemoveDocumentsRequest → DocumentRequests, in request order. A DocumentRequest without
 * RepositoryUniqueId or DocumentUniqueId is kept with '' so that the repository answers it with
 * its own error code (XDSUnknownRepositoryId, XDSDocumentUniqueIdError) and removes the others.
 */
export function parseRemoveDocumentsRequest(body: XmlElement): DocumentRequest[] {
  expectBody(body, NS.rmd, 'RemoveDocumentsRequest');
  // Read as the retrieve request it has the shape of: same children, same reader, same rules.
  return parseRetrieveDocumentSetRequest({ ...body, ns: NS.xdsb, local: 'RetrieveDocumentSetRequest' }, { missingId: 'keep' });
}

export function serializeRemoveDocumentsRequest(requests: readonly DocumentRequest[]): XmlElement {
  return el(NS.rmd, 'RemoveDocumentsRequest', {}, serializeRetrieveDocumentSetRequest(requests).children);
}

/** The answer: status and one RegistryError per document not removed (ITI TF-2 3.86.4.2). */
export function removeDocumentsResponse(outcome: { readonly status: ResponseStatus; readonly errors: readonly RegistryErrorInfo[] }): XmlElement {
  return registryResponse(outcome.status, outcome.errors);
}

/** rs:RegistryResponse → status and errors. Throws RegistryFailure for an answer that is not one. */
export function parseRemoveDocumentsResponse(body: XmlElement): { status: ResponseStatus; errors: RegistryErrorInfo[] } {
  if (body.ns !== NS.rs || body.local !== 'RegistryResponse') {
    throw new RegistryFailure({ code: 'XDSRepositoryError', message: `expected rs:RegistryResponse, got {${body.ns}}${body.local}`, severity: 'Error' });
  }
  return parseRegistryResponse(body);
}
