/**
 * registry/ebxml: the only module that knows the ebRIM / ebRS / LCM / Query 3.0 wire shapes.
 * Everything else speaks the metadata model (registry/model).
 */
export { parseSubmitObjectsRequest, parseProvideAndRegisterRequest, serializeSubmitObjectsRequest, serializeProvideAndRegisterRequest } from './submit.js';
export type { ProvideAndRegisterContent } from './submit.js';
export { parseAdhocQueryRequest, serializeAdhocQueryRequest, adhocQueryResponse, parseAdhocQueryResponse, serializeRegistryObjectList } from './query.js';
export type { AdhocQueryResponseContent } from './query.js';
export { parseRemoveObjectsRequest, serializeRemoveObjectsRequest, DELETE_ALL } from './remove.js';
export { registryResponse, registryErrorList, parseRegistryResponse, readRegistryErrors } from './response.js';
export { readRegistryObjectList } from './read-objects.js';
export type { RegistryObjectListContent } from './read-objects.js';
export { registryObjectElement, objectRefElement } from './write-objects.js';
export { derivedId } from './rim.js';
export * from './constants.js';
