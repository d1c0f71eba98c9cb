/**
 * ITI-18 / ITI-38 query:AdhocQueryRequest and query:AdhocQueryResponse, both directions.
 */
import { error, RegistryFailure, STATUS_URN, type RegistryErrorInfo, type ResponseStatus } from '../model/errors.js';
import type { RegistryObject } from '../model/metadata.js';
import type { QueryParameterSlot, ReturnType, StoredQueryRequest, StoredQueryResult } from '../model/query.js';
import { NS } from '../xml/namespaces.js';
import { childElement, el, type XmlElement, type XmlNode } from '../xml/tree.js';
import { RETURN_TYPES } from './constants.js';
import { readRegistryObjectList } from './read-objects.js';
import { readRegistryErrors, readResponseStatus, registryErrorList } from './response.js';
import { readHome, readSlots, slotElement } from './rim.js';
import { objectRefElement, registryObjectElement, registryObjectNode } from './write-objects.js';

function queryError(message: string, location?: string): RegistryFailure {
  return new RegistryFailure(error('XDSRegistryError', message, location));
}

export function parseAdhocQueryRequest(request: XmlElement): StoredQueryRequest {
  if (request.ns !== NS.query || request.local !== 'AdhocQueryRequest') {
    throw queryError(`expected query:AdhocQueryRequest, got {${request.ns}}${request.local}`);
  }
  const option = childElement(request, NS.query, 'ResponseOption');
  // ebRS 3.0 defaults returnType to RegistryObject, which XDS does not allow (ITI TF-2a 3.18.4.1.2.3.1).
  const returnType = option?.attrs['returnType'] ?? 'RegistryObject';
  if (!(RETURN_TYPES as readonly string[]).includes(returnType)) {
    throw queryError(`returnType ${returnType} is not supported; use LeafClass or ObjectRef`, 'returnType');
  }
  const query = childElement(request, NS.rim, 'AdhocQuery');
  if (!query) throw queryError('AdhocQueryRequest without AdhocQuery');
  const queryId = query.attrs['id'];
  if (queryId === undefined || queryId === '') throw queryError('AdhocQuery without id');
  const parameters: QueryParameterSlot[] = readSlots(query).map((s) => ({ name: s.name, values: s.values }));
  const home = readHome(query);
  const out = { queryId, returnType: returnType as ReturnType, parameters };
  return home === undefined ? out : { ...out, homeCommunityId: home };
}

export function serializeAdhocQueryRequest(req: StoredQueryRequest): XmlElement {
  return el(NS.query, 'AdhocQueryRequest', {}, [
    el(NS.query, 'ResponseOption', { returnComposedObjects: 'true', returnType: req.returnType }),
    el(
      NS.rim,
      'AdhocQuery',
      { id: req.queryId, home: req.homeCommunityId },
      req.parameters.map((p) => slotElement({ name: p.name, values: p.values })),
    ),
  ]);
}

/**
 * query:AdhocQueryResponse for a result. The objects are pre-serialised fragments where they can be
 * (write-objects.ts: the same frozen object gives the same fragment in every answer), so only
 * `serializeXml` can read the RegistryObjectList's content; use `serializeRegistryObjectList` for a
 * readable tree.
 */
export function adhocQueryResponse(result: Omit<StoredQueryResult, 'objectRefs'>): XmlElement {
  const objects = result.objects;
  const write = result.returnType === 'LeafClass' ? registryObjectNode : objectRefElement;
  const list: XmlNode[] = new Array<XmlNode>(objects.length);
  for (let i = 0; i < objects.length; i++) list[i] = write(objects[i]!);
  const children: XmlNode[] = [];
  const errors = registryErrorList(result.errors);
  if (errors !== undefined) children.push(errors);
  children.push({ ns: NS.rim, local: 'RegistryObjectList', attrs: NO_ATTRIBUTES, children: list });
  return { ns: NS.query, local: 'AdhocQueryResponse', attrs: { status: STATUS_URN[result.status] }, children };
}

const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

/** rim:RegistryObjectList with full objects (LeafClass) or rim:ObjectRef elements (ObjectRef), as a readable tree. */
export function serializeRegistryObjectList(objects: readonly RegistryObject[], returnType: ReturnType): XmlElement {
  return el(NS.rim, 'RegistryObjectList', {}, objects.map(returnType === 'LeafClass' ? registryObjectElement : objectRefElement));
}

export interface AdhocQueryResponseContent {
  readonly status: ResponseStatus;
  readonly errors: RegistryErrorInfo[];
  readonly objects: RegistryObject[];
  readonly objectRefs: { id: string; home?: string }[];
}

export function parseAdhocQueryResponse(response: XmlElement): AdhocQueryResponseContent {
  if (response.ns !== NS.query || response.local !== 'AdhocQueryResponse') {
    throw queryError(`expected query:AdhocQueryResponse, got {${response.ns}}${response.local}`);
  }
  const list = childElement(response, NS.rim, 'RegistryObjectList');
  const content = list ? readRegistryObjectList(list) : { objects: [], objectRefs: [] };
  return { status: readResponseStatus(response), errors: readRegistryErrors(response), ...content };
}
