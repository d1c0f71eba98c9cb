/**
 * ITI-39 Cross Gateway Retrieve: xdsb:RetrieveDocumentSetRequest in, xdsb:RetrieveDocumentSetResponse
 * out, always MTOM (ITI TF-2b 3.39.5: the response is MTOM-encoded). The wire mapping serves both
 * directions, so the initiating gateway's remote communities and its ITI-43 front use it too.
 */
import { Readable } from 'node:stream';
import { parseRegistryResponse, registryResponse } from '../../registry/ebxml';
import { RegistryFailure } from '../../registry/model/errors';
import { NS } from '../../registry/xml/namespaces';
import { childElement, childElements, el, textContent, type XmlElement } from '../../registry/xml/tree';
import type { DocumentRequest, RetrievedDocument, RetrieveResult } from '../gateway/types';
import type { RespondingGateway } from '../gateway/responding';
import { credentialsFrom } from '../gateway/security';
import type { SoapHandler, SoapReply } from '../soap/endpoint';
import { ACTIONS } from '../soap/actions';
import { SoapFault } from '../soap/fault';
import { attachmentSize, attachmentStream, type Attachment, type Attachments } from '../soap/mime';
import { binaryAttachment, newContentId, xopInclude } from '../soap/xop';
import { expectBody } from './common';
import { abandoned } from './iti38';

/** xdsb:RetrieveDocumentSetRequest → DocumentRequests. Missing required children are the sender's fault. */
export function parseRetrieveDocumentSetRequest(body: XmlElement): DocumentRequest[] {
  expectBody(body, NS.xdsb, 'RetrieveDocumentSetRequest');
  return childElements(body, NS.xdsb, 'DocumentRequest').map((r, i) => {
    const text = (local: string): string | undefined => {
      const e = childElement(r, NS.xdsb, local);
      const v = e ? textContent(e).trim() : undefined;
      return v === '' ? undefined : v;
    };
    const repositoryUniqueId = text('RepositoryUniqueId');
    const documentUniqueId = text('DocumentUniqueId');
    if (repositoryUniqueId === undefined || documentUniqueId === undefined) {
      throw new SoapFault({
        code: 'Sender',
        reason: `DocumentRequest ${i + 1} lacks ${repositoryUniqueId === undefined ? 'RepositoryUniqueId' : 'DocumentUniqueId'}`,
      });
    }
    const home = text('HomeCommunityId');
    return { ...(home !== undefined ? { homeCommunityId: home } : {}), repositoryUniqueId, documentUniqueId };
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
    const text = (local: string): string | undefined => {
      const e = childElement(d, NS.xdsb, local);
      return e ? textContent(e).trim() : undefined;
    };
    const documentEl = childElement(d, NS.xdsb, 'Document');
    const repositoryUniqueId = text('RepositoryUniqueId');
    const documentUniqueId = text('DocumentUniqueId');
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
    const home = text('HomeCommunityId');
    documents.push({
      ...(home ? { homeCommunityId: home } : {}),
      repositoryUniqueId,
      documentUniqueId,
      mimeType: text('mimeType') || content.contentType,
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

/** An ITI-39/43 answer: always MTOM, even when no document is returned. */
export function retrieveReply(action: string, result: RetrieveResult): SoapReply {
  const { body, attachments } = retrieveDocumentSetResponse(result);
  return { action, body, mtom: true, attachments };
}

export function iti39(gateway: RespondingGateway): SoapHandler {
  return async (req) => {
    const requests = parseRetrieveDocumentSetRequest(req.body);
    const credentials = credentialsFrom(req.header);
    const result = await gateway.retrieve(requests, { ...(credentials ? { credentials } : {}), signal: abandoned(req) });
    req.logger.info('ITI-39 cross gateway retrieve', {
      status: result.status,
      requested: requests.length,
      returned: result.documents.length,
      errors: result.errors.map((e) => e.code),
    });
    return retrieveReply(ACTIONS.iti39.response, result);
  };
}
