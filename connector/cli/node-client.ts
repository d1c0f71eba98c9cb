/**
 * The CLI's client of one node: ITI-41, ITI-18 and ITI-43 over the node's own SOAP client and wire
 * mappings (registry/ebxml for the metadata, connector/transactions/retrieve-wire.ts for retrieve),
 * so the tool sends exactly what the node itself reads and writes.
 *
 * Every failure leaves as a CliError: a registry's Failure as a RegistryRefusal (with its errors,
 * which `import` reports per file), a transport problem as fromSoapClientError says.
 */
import { createReadStream } from 'node:fs';
import { parseAdhocQueryResponse, parseRegistryResponse, serializeAdhocQueryRequest, serializeProvideAndRegisterRequest, type AdhocQueryResponseContent } from '../../registry/ebxml/index.js';
import { RegistryFailure, type RegistryErrorInfo } from '../../registry/model/errors.js';
import type { DocumentEntry, Submission } from '../../registry/model/metadata.js';
import { STORED_QUERY_ID, type StoredQueryRequest } from '../../registry/model/query.js';
import { NS } from '../../registry/xml/namespaces.js';
import { el, type XmlElement } from '../../registry/xml/tree.js';
import type { DocumentRequest, RetrieveResult } from '../gateway/types.js';
import { ACTIONS } from '../soap/actions.js';
import { SoapClient, SoapClientError, type SoapResponse } from '../soap/client.js';
import type { Attachment } from '../soap/mime.js';
import { newContentId, xopInclude } from '../soap/xop.js';
import { parseRetrieveDocumentSetResponse, serializeRetrieveDocumentSetRequest } from '../transactions/retrieve-wire.js';
import type { NodeTarget } from './args.js';
import type { DocumentFile } from './document-file.js';
import { CliError, describeRegistryErrors, fromSoapClientError } from './errors.js';
import { securityHeader } from './security.js';
import { storedQueryString } from './query-values.js';

/** The node's endpoints, at their default paths (config.ts `endpoints`). */
export const ENDPOINT = { registry: '/xds/registry', repository: '/xds/repository' } as const;

/** Largest answer read: a retrieved document of the default repository.maxDocumentBytes (100 MiB) and its envelope, with room. */
const MAX_RESPONSE_BYTES = 512 * 1024 * 1024;

/** The registry answered Failure: the errors are the registry's, with their IHE codes. */
export class RegistryRefusal extends CliError {
  constructor(
    what: string,
    readonly errors: readonly RegistryErrorInfo[],
  ) {
    super(`${what} failed: ${describeRegistryErrors(errors)}`);
    this.name = 'RegistryRefusal';
  }
}

export class NodeClient {
  private readonly soap: SoapClient;

  constructor(readonly target: NodeTarget) {
    this.soap = new SoapClient({ connections: 4, maxResponseBytes: MAX_RESPONSE_BYTES, ...(target.tls ? { tls: target.tls } : {}) });
  }

  /** ITI-41: the submission with each file as an MTOM part, streamed from disk. Warnings (if any) are returned. */
  async provideAndRegister(submission: Submission, files: readonly { id: string; file: DocumentFile }[]): Promise<readonly RegistryErrorInfo[]> {
    const attachments = new Map<string, Attachment>();
    const documents = files.map(({ id, file }) => {
      const cid = newContentId();
      attachments.set(cid, { contentType: file.mimeType, size: file.size, stream: () => createReadStream(file.path) });
      return el(NS.xdsb, 'Document', { id }, [xopInclude(cid)]);
    });
    const answer = await this.call(ENDPOINT.repository, ACTIONS.iti41.request, serializeProvideAndRegisterRequest(submission, documents), attachments);
    const { status, errors } = this.read(() => parseRegistryResponse(answer.body), 'RegistryResponse');
    if (status === 'Failure') throw new RegistryRefusal('ITI-41 Provide and Register', errors);
    return errors;
  }

  /** ITI-18; a Failure is a RegistryRefusal. */
  async storedQuery(request: StoredQueryRequest): Promise<AdhocQueryResponseContent> {
    const answer = await this.call(ENDPOINT.registry, ACTIONS.iti18.request, serializeAdhocQueryRequest(request));
    const content = this.read(() => parseAdhocQueryResponse(answer.body), 'AdhocQueryResponse');
    if (content.status === 'Failure') throw new RegistryRefusal('ITI-18 Registry Stored Query', content.errors);
    return content;
  }

  /** The DocumentEntries of these uniqueIds (GetDocuments); those the registry does not hold are missing. */
  async documentEntries(uniqueIds: readonly string[]): Promise<DocumentEntry[]> {
    if (uniqueIds.length === 0) return [];
    const content = await this.storedQuery({
      queryId: STORED_QUERY_ID.GetDocuments,
      returnType: 'LeafClass',
      parameters: [{ name: '$XDSDocumentEntryUniqueId', values: [storedQueryString(uniqueIds)] }],
    });
    return content.objects.filter((o): o is DocumentEntry => o.type === 'DocumentEntry');
  }

  /** ITI-43. A Failure or PartialSuccess is returned, not thrown: the caller reports each document. */
  async retrieve(requests: readonly DocumentRequest[]): Promise<RetrieveResult> {
    const answer = await this.call(ENDPOINT.repository, ACTIONS.iti43.request, serializeRetrieveDocumentSetRequest(requests));
    return this.read(() => parseRetrieveDocumentSetResponse(answer.body, answer.attachments), 'RetrieveDocumentSetResponse');
  }

  close(): Promise<void> {
    return this.soap.close();
  }

  private async call(path: string, action: string, body: XmlElement, attachments?: ReadonlyMap<string, Attachment>): Promise<SoapResponse> {
    const url = `${this.target.url}${path}`;
    try {
      return await this.soap.call({
        url,
        action,
        body,
        timeoutMs: this.target.timeoutMs,
        ...(this.target.assertion !== undefined ? { headers: [securityHeader(this.target.assertion)] } : {}),
        ...(attachments !== undefined ? { attachments } : {}),
      });
    } catch (e) {
      if (e instanceof SoapClientError) throw fromSoapClientError(e, url);
      throw e;
    }
  }

  /** Reads an answer with a wire mapping; an answer it cannot read is the node's failure, said in one line. */
  private read<T>(parse: () => T, what: string): T {
    try {
      return parse();
    } catch (e) {
      if (e instanceof RegistryFailure) throw new CliError(`the node sent an unusable ${what}: ${e.message}`);
      throw e;
    }
  }
}
