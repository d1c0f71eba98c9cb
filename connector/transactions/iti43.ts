/**
 * ITI-43 Retrieve Document Set: xdsb:RetrieveDocumentSetRequest in, xdsb:RetrieveDocumentSetResponse
 * out, always as MTOM (peers expect it even for a Failure), each document an xop:Include part
 * streamed from the blob store.
 */
import { registryResponse } from '../../registry/ebxml';
import { NS } from '../../registry/xml/namespaces';
import { childElement, childElements, el, textContent, type XmlElement } from '../../registry/xml/tree';
import type { DocumentRepository, RetrieveRequest } from '../../repository/repository';
import { ACTIONS } from '../soap/actions';
import type { SoapHandler } from '../soap/endpoint';
import type { Attachment } from '../soap/mime';
import { newContentId, xopInclude } from '../soap/xop';
import { expectBody } from './common';

function text(parent: XmlElement, local: string): string | undefined {
  const e = childElement(parent, NS.xdsb, local);
  const v = e ? textContent(e).trim() : undefined;
  return v === '' ? undefined : v;
}

/** DocumentRequests as sent; a missing id is kept as '' so that it gets its own error code. */
export function parseRetrieveRequest(body: XmlElement): RetrieveRequest[] {
  return childElements(body, NS.xdsb, 'DocumentRequest').map((dr) => {
    const home = text(dr, 'HomeCommunityId');
    return {
      repositoryUniqueId: text(dr, 'RepositoryUniqueId') ?? '',
      documentUniqueId: text(dr, 'DocumentUniqueId') ?? '',
      ...(home !== undefined ? { homeCommunityId: home } : {}),
    };
  });
}

export function iti43(repository: DocumentRepository): SoapHandler {
  return async (req) => {
    expectBody(req.body, NS.xdsb, 'RetrieveDocumentSetRequest');
    const result = await repository.retrieve(parseRetrieveRequest(req.body));
    const attachments = new Map<string, Attachment>();
    const responses = result.documents.map((d) => {
      const cid = newContentId();
      attachments.set(cid, { contentType: d.mimeType, size: d.size, stream: d.stream });
      return el(NS.xdsb, 'DocumentResponse', {}, [
        d.homeCommunityId !== undefined ? el(NS.xdsb, 'HomeCommunityId', {}, [d.homeCommunityId]) : undefined,
        el(NS.xdsb, 'RepositoryUniqueId', {}, [d.repositoryUniqueId]),
        el(NS.xdsb, 'DocumentUniqueId', {}, [d.documentUniqueId]),
        el(NS.xdsb, 'mimeType', {}, [d.mimeType]),
        el(NS.xdsb, 'Document', {}, [xopInclude(cid)]),
      ]);
    });
    req.logger.info('ITI-43 retrieve', {
      status: result.status,
      documents: result.documents.length,
      bytes: result.documents.reduce((n, d) => n + d.size, 0),
      errors: result.errors.map((e) => e.code),
    });
    return {
      action: ACTIONS.iti43.response,
      mtom: true,
      attachments,
      body: el(NS.xdsb, 'RetrieveDocumentSetResponse', {}, [registryResponse(result.status, result.errors), ...responses]),
    };
  };
}
