/**
 * ITI-42 lcm:SubmitObjectsRequest and ITI-41 xdsb:ProvideAndRegisterDocumentSetRequest ⇄ Submission.
 */
import { error, RegistryFailure } from '../model/errors.js';
import type { Association, DocumentEntry, Folder, Submission, SubmissionSet } from '../model/metadata.js';
import { NS } from '../xml/namespaces.js';
import { childElement, childElements, el, type XmlElement } from '../xml/tree.js';
import { readRegistryObjectList } from './read-objects.js';
import { metadataError } from './rim.js';
import { registryObjectElement } from './write-objects.js';

export function parseSubmitObjectsRequest(request: XmlElement): Submission {
  if (request.ns !== NS.lcm || request.local !== 'SubmitObjectsRequest') {
    throw metadataError(`expected lcm:SubmitObjectsRequest, got {${request.ns}}${request.local}`);
  }
  const list = childElement(request, NS.rim, 'RegistryObjectList');
  if (!list) throw metadataError('SubmitObjectsRequest without RegistryObjectList');
  const { objects, objectRefs } = readRegistryObjectList(list);
  const sets: SubmissionSet[] = [];
  const documentEntries: DocumentEntry[] = [];
  const folders: Folder[] = [];
  const associations: Association[] = [];
  for (const o of objects) {
    if (o.type === 'SubmissionSet') sets.push(o);
    else if (o.type === 'DocumentEntry') documentEntries.push(o);
    else if (o.type === 'Folder') folders.push(o);
    else associations.push(o);
  }
  if (sets.length !== 1) {
    throw metadataError(`a submission must contain exactly one SubmissionSet, this one has ${sets.length}`, sets[1]?.entryUuid);
  }
  return { submissionSet: sets[0]!, documentEntries, folders, associations, objectRefs: objectRefs.map((r) => r.id) };
}

export interface ProvideAndRegisterContent {
  readonly submission: Submission;
  /** xdsb:Document elements by id: base64 text or an xop:Include child, for the caller to resolve. */
  readonly documents: { id: string; content: XmlElement }[];
}

export function parseProvideAndRegisterRequest(request: XmlElement): ProvideAndRegisterContent {
  if (request.ns !== NS.xdsb || request.local !== 'ProvideAndRegisterDocumentSetRequest') {
    throw metadataError(`expected xdsb:ProvideAndRegisterDocumentSetRequest, got {${request.ns}}${request.local}`);
  }
  const sor = childElement(request, NS.lcm, 'SubmitObjectsRequest');
  if (!sor) throw metadataError('ProvideAndRegisterDocumentSetRequest without SubmitObjectsRequest');
  const documents = childElements(request, NS.xdsb, 'Document').map((content) => {
    const id = content.attrs['id'];
    if (id === undefined || id === '') {
      throw new RegistryFailure(error('XDSRepositoryMetadataError', 'Document element without id attribute'));
    }
    return { id, content };
  });
  return { submission: parseSubmitObjectsRequest(sor), documents };
}

export function serializeSubmitObjectsRequest(sub: Submission): XmlElement {
  return el(NS.lcm, 'SubmitObjectsRequest', {}, [submissionObjectList(sub)]);
}

/** ITI-41 request body; `documents` are the xdsb:Document elements the caller built (inline base64 or xop:Include). */
export function serializeProvideAndRegisterRequest(sub: Submission, documents: readonly XmlElement[]): XmlElement {
  return el(NS.xdsb, 'ProvideAndRegisterDocumentSetRequest', {}, [serializeSubmitObjectsRequest(sub), ...documents]);
}

function submissionObjectList(sub: Submission): XmlElement {
  return el(NS.rim, 'RegistryObjectList', {}, [
    ...sub.documentEntries.map(registryObjectElement),
    registryObjectElement(sub.submissionSet),
    ...sub.folders.map(registryObjectElement),
    ...sub.associations.map(registryObjectElement),
    ...sub.objectRefs.map((id) => el(NS.rim, 'ObjectRef', { id })),
  ]);
}
