/**
 * The HTTP side of IHE MHD: the router the node mounts at `fhir.path` (router.ts) and what it is
 * built from. The mapping between FHIR and the XDS model is ../mapping; policy and audit are the
 * shared pipeline of connector/transactions (serve.ts, policy.ts).
 */
export { fhirEndpoint, queryParams, type FhirEndpointOptions } from './router.js';
export { routeTable, type RouteSpec, type RouteMatch } from './routes.js';
export { documentUrl, DOCUMENT_PATH, type FhirActors } from './actors.js';
export { byteRange, sliceStream, type ByteRange } from './retrieve.js';
export { jsonDepthExceeds } from './body.js';
export { capabilityStatement } from './capability.js';
export { documentReferenceSearchsetJson } from './searchset.js';
