/**
 * ITI-62 lcm:RemoveObjectsRequest ⇄ DeleteRequest. ITI-62 names the objects to remove by
 * rim:ObjectRefList only (ITI TF-2 3.62.4.1.2): the ebRS alternative of selecting them by an
 * AdhocQuery, and any deletionScope other than DeleteAll, are refused.
 */
import { MAX_OBJECT_REFS, type DeleteRequest } from '../model/delete.js';
import { error, RegistryFailure } from '../model/errors.js';
import { NS } from '../xml/namespaces.js';
import { childElement, childElements, el, type XmlElement } from '../xml/tree.js';
import { metadataError } from './rim.js';

export const DELETE_ALL = 'urn:oasis:names:tc:ebxml-regrep:DeletionScopeType:DeleteAll';

export function parseRemoveObjectsRequest(request: XmlElement): DeleteRequest {
  if (request.ns !== NS.lcm || request.local !== 'RemoveObjectsRequest') {
    throw metadataError(`expected lcm:RemoveObjectsRequest, got {${request.ns}}${request.local}`);
  }
  const scope = request.attrs['deletionScope'];
  if (scope !== undefined && scope !== DELETE_ALL) {
    throw new RegistryFailure([error('XDSRegistryError', `deletionScope ${scope} is not supported; ITI-62 removes with ${DELETE_ALL}`)]);
  }
  if (childElement(request, NS.rim, 'AdhocQuery') !== undefined) {
    throw new RegistryFailure([error('XDSRegistryError', 'ITI-62 names the objects to remove in rim:ObjectRefList; selection by AdhocQuery is not supported')]);
  }
  const list = childElement(request, NS.rim, 'ObjectRefList');
  if (list === undefined) throw metadataError('RemoveObjectsRequest without rim:ObjectRefList');
  const refs = childElements(list, NS.rim, 'ObjectRef');
  if (refs.length > MAX_OBJECT_REFS) {
    throw new RegistryFailure([error('XDSRegistryError', `the request names ${refs.length} objects; at most ${MAX_OBJECT_REFS} may be removed in one request`)]);
  }
  const objectRefs = refs.map((ref) => {
    const id = ref.attrs['id'];
    if (id === undefined || id === '') throw metadataError('rim:ObjectRef without an id');
    return id;
  });
  return { objectRefs };
}

export function serializeRemoveObjectsRequest(request: DeleteRequest): XmlElement {
  return el(NS.lcm, 'RemoveObjectsRequest', {}, [
    el(NS.rim, 'ObjectRefList', {}, request.objectRefs.map((id) => el(NS.rim, 'ObjectRef', { id }))),
  ]);
}
