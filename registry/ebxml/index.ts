/**
 * registry/ebxml: the only module that knows the ebRIM / ebRS / LCM / Query 3.0 wire shapes.
 * Everything else speaks the metadata model (registry/model).
 */
export { parseSubmitObjectsRequest, parseProvideAndRegisterRequest, serializeSubmitObjectsRequest, serializeProvideAndRegisterRequest } from './submit';
export type { ProvideAndRegisterContent } from './submit';
export { parseAdhocQueryRequest, serializeAdhocQueryRequest, adhocQueryResponse, parseAdhocQueryResponse, serializeRegistryObjectList } from './query';
export type { AdhocQueryResponseContent } from './query';
export { registryResponse, registryErrorList, parseRegistryResponse, readRegistryErrors } from './response';
export { readRegistryObjectList } from './read-objects';
export type { RegistryObjectListContent } from './read-objects';
export { registryObjectElement, objectRefElement } from './write-objects';
export { derivedId } from './rim';
export * from './constants';
