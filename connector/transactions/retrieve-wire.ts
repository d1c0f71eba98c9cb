/**
 * The RetrieveDocumentSet wire format, shared by ITI-43 (repository, initiating gateway front) and
 * ITI-39 (responding gateway, and the initiating gateway's calls to remote communities): both are
 * one xdsb:RetrieveDocumentSetRequest / RetrieveDocumentSetResponse pair, answered as MTOM
 * (ITI TF-2b 3.39.5, 3.43.5: peers expect MTOM even for a Failure), each document an xop:Include
 * part streamed from its source and never loaded whole.
 */
import type { Readable } from 'node:stream';
import { parseRegistryResponse, registryResponse } from '../../registry/ebxml/index.js';
import { RegistryFailure } from '../../registry/model/errors.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, childElements, el, textContent, type XmlElement } from '../../registry/xml/tree.js';
import type { DocumentRequest, RetrievedDocument, RetrieveResult } from '../gateway/types.js';
import type { SoapReply } from '../soap/endpoint.js';
import { SoapFault } from '../soap/fault.js';
import { attachmentSize, attachmentStream, type Attachment, type Attachments } from '../soap/mime.js';
import { binaryAttachment, newContentId, xopInclude } from '../soap/xop.js';
import { expectBody } from './common.js';

export interface ParseRetrieveOptions {
  /**
   * What a DocumentRequest without RepositoryUniqueId or DocumentUniqueId becomes: a SOAP Sender
   * fault (ITI-39, where the responding gateway cannot route it), or a request with '' kept so that
   * the repository answers it with its own error code (ITI-43: XDSUnknownRepositoryId /
   * XDSDocumentUniqueIdError, and the other documents are still returned).
   */
  readonly missingId: 'fault' | 'keep';
}

function childText(parent: XmlElement, local: string): string | undefined {
  const e = childElement(parent, NS.xdsb, local);
  const v = e ? textContent(e).trim() : undefined;
  return v === '' ? undefined : v;
}

/** xdsb:RetrieveDocumentSetRequest → DocumentRequests, in request order. */
/**
 * Most DocumentRequests one ITI-43, ITI-39 or ITI-86 request may carry (they share this reader).
 * Each costs a registry lookup and a blob-store open, and an unknown one a RegistryError in the
 * answer; without a bound a 13 MB request of unknown ids bought seconds of work and a 50 MB answer.
 */
export const MAX_DOCUMENT_REQUESTS = 10_000;

export function parseRetrieveDocumentSetRequest(body: XmlElement, options: ParseRetrieveOptions = { missingId: 'fault' }): DocumentRequest[] {
  expectBody(body, NS.xdsb, 'RetrieveDocumentSetRequest');
  const requests = childElements(body, NS.xdsb, 'DocumentRequest');
  if (requests.length > MAX_DOCUMENT_REQUESTS) {
    throw new SoapFault({ code: 'Sender', reason: `the request names ${requests.length} documents; at most ${MAX_DOCUMENT_REQUESTS} are served in one request` });
  }
  return requests.map((r, i) => {
    const repositoryUniqueId = childText(r, 'RepositoryUniqueId');
    const documentUniqueId = childText(r, 'DocumentUniqueId');
    if ((repositoryUniqueId === undefined || documentUniqueId === undefined) && options.missingId === 'fault') {
      throw new SoapFault({
        code: 'Sender',
        reason: `DocumentRequest ${i + 1} lacks ${repositoryUniqueId === undefined ? 'RepositoryUniqueId' : 'DocumentUniqueId'}`,
      });
    }
    const home = childText(r, 'HomeCommunityId');
    return { ...(home !== undefined ? { homeCommunityId: home } : {}), repositoryUniqueId: repositoryUniqueId ?? '', documentUniqueId: documentUniqueId ?? '' };
  });
}

export function serializeRetrieveDocumentSetRequest(requests: readonly DocumentRequest[]): XmlElement {
  return el(
    NS.xdsb,
    'RetrieveDocumentSetRequest',
    {},
    requests.map((r) =>
      el(NS.xdsb, 'DocumentRequest', {}, [
        r.homeCommunityId !== undefined ? el(NS.xdsb, 'HomeCommunityId', {}, [r.homeCommunityId]) : undefined,
        el(NS.xdsb, 'RepositoryUniqueId', {}, [r.repositoryUniqueId]),
        el(NS.xdsb, 'DocumentUniqueId', {}, [r.documentUniqueId]),
      ]),
    ),
  );
}

/** The response body with one xop:Include per document, and the attachments (streamed, never loaded whole). */
export function retrieveDocumentSetResponse(result: RetrieveResult): { body: XmlElement; attachments: Map<string, Attachment> } {
  const attachments = new Map<string, Attachment>();
  const responses = result.documents.map((d) => {
    const id = newContentId();
    attachments.set(id, { contentType: d.mimeType, size: d.size, stream: () => d.stream() });
    return el(NS.xdsb, 'DocumentResponse', {}, [
      d.homeCommunityId !== undefined ? el(NS.xdsb, 'HomeCommunityId', {}, [d.homeCommunityId]) : undefined,
      el(NS.xdsb, 'RepositoryUniqueId', {}, [d.repositoryUniqueId]),
      el(NS.xdsb, 'DocumentUniqueId', {}, [d.documentUniqueId]),
      el(NS.xdsb, 'mimeType', {}, [d.mimeType]),
      el(NS.xdsb, 'Document', {}, [xopInclude(id)]),
    ]);
  });
  return {
    body: el(NS.xdsb, 'RetrieveDocumentSetResponse', {}, [registryResponse(result.status, result.errors), ...responses]),
    attachments,
  };
}

/** An ITI-39/43 answer: always MTOM, even when no document is returned. */
export function retrieveReply(action: string, result: RetrieveResult): SoapReply {
  const { body, attachments } = retrieveDocumentSetResponse(result);
  return { action, body, mtom: true, attachments };
}

/**
 * xdsb:RetrieveDocumentSetResponse (MTOM or inline base64) → RetrieveResult. Throws RegistryFailure
 * for an answer that is not one.
 */
export function parseRetrieveDocumentSetResponse(body: XmlElement, attachments: Attachments): RetrieveResult {
  if (body.ns !== NS.xdsb || body.local !== 'RetrieveDocumentSetResponse') {
    throw new RegistryFailure({ code: 'XDSRegistryError', message: `expected xdsb:RetrieveDocumentSetResponse, got {${body.ns}}${body.local}`, severity: 'Error' });
  }
  const rr = childElement(body, NS.rs, 'RegistryResponse');
  if (!rr) throw new RegistryFailure({ code: 'XDSRegistryError', message: 'RetrieveDocumentSetResponse without RegistryResponse', severity: 'Error' });
  const { status, errors } = parseRegistryResponse(rr);
  const documents: RetrievedDocument[] = [];
  for (const d of childElements(body, NS.xdsb, 'DocumentResponse')) {
    const documentEl = childElement(d, NS.xdsb, 'Document');
    const repositoryUniqueId = childText(d, 'RepositoryUniqueId');
    const documentUniqueId = childText(d, 'DocumentUniqueId');
    if (!documentEl || !repositoryUniqueId || !documentUniqueId) {
      throw new RegistryFailure({ code: 'XDSRegistryError', message: 'DocumentResponse without RepositoryUniqueId, DocumentUniqueId or Document', severity: 'Error' });
    }
    let content: Attachment;
    try {
      content = binaryAttachment(documentEl, attachments);
    } catch (e) {
      if (e instanceof SoapFault) throw new RegistryFailure({ code: 'XDSRegistryError', message: e.reason, severity: 'Error' });
      throw e;
    }
    const home = childText(d, 'HomeCommunityId');
    documents.push({
      ...(home ? { homeCommunityId: home } : {}),
      repositoryUniqueId,
      documentUniqueId,
      mimeType: childText(d, 'mimeType') || content.contentType,
      size: attachmentSize(content),
      stream: () => attachmentStream(content),
    });
  }
  return { status, errors, documents };
}

/** Reads a whole retrieved document into memory (tests, the demo; never the gateway's own path). */
export async function documentBytes(d: RetrievedDocument): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of d.stream() as Readable) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
