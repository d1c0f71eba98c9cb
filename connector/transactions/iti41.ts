/**
 * ITI-41 Provide and Register Document Set-b: xdsb:ProvideAndRegisterDocumentSetRequest in (MTOM
 * with xop:Include parts, as Axis2/CXF send it, or inline base64), rs:RegistryResponse out.
 *
 * On the repository endpoint MTOM parts are staged in the blob store while the request streams in
 * (see repository.ts `blobSpooler`), so a part arrives here as a StagedBlob that the repository
 * commits or aborts; an inline document is decoded from the envelope and staged by the repository.
 */
import { Readable } from 'node:stream';
import { parseProvideAndRegisterRequest, registryResponse } from '../../registry/ebxml/index.js';
import { error, RegistryFailure } from '../../registry/model/errors.js';
import { NS } from '../../registry/xml/namespaces.js';
import { isStagedBlob, type DocumentContent, type DocumentRepository } from '../../repository/repository.js';
import { ACTIONS } from '../soap/actions.js';
import type { SoapHandler } from '../soap/endpoint.js';
import { isSpooled } from '../soap/mime.js';
import { binaryAttachment } from '../soap/xop.js';
import type { Submission } from '../../registry/model/metadata.js';
import { expectBody, failureOnRegistryError } from './common.js';
import { withContext, type TransactionServices } from './context.js';
import { auditSubmission } from './serve.js';
import { adoptStagedBlob, isTooLargePart } from './spool.js';

export function iti41(repository: DocumentRepository, services: TransactionServices): SoapHandler {
  return withContext(services, 'repository', 'ITI-41', async (req, ctx) => {
    expectBody(req.body, NS.xdsb, 'ProvideAndRegisterDocumentSetRequest');
    let parsed: Submission | undefined;
    const outcome = await failureOnRegistryError(
      async () => {
        const { submission, documents } = parseProvideAndRegisterRequest(req.body);
        parsed = submission;
        const contents = new Map<string, DocumentContent>();
        for (const d of documents) {
          if (contents.has(d.id)) {
            throw new RegistryFailure(error('XDSRepositoryMetadataError', `more than one Document element with id ${d.id}`, d.id));
          }
          const attachment = binaryAttachment(d.content, req.attachments);
          if (!isSpooled(attachment)) {
            contents.set(d.id, Readable.from([attachment.data]));
            continue;
          }
          const spooled = attachment.spooled;
          if (isTooLargePart(spooled)) {
            throw new RegistryFailure(error('XDSRepositoryError', `document ${d.id} exceeds the size limit of ${spooled.maxBytes} bytes`, d.id));
          }
          if (isStagedBlob(spooled)) {
            if ([...contents.values()].includes(spooled)) {
              throw new RegistryFailure(error('XDSRepositoryMetadataError', `Document ${d.id} references the same MIME part as another Document`, d.id));
            }
            contents.set(d.id, spooled);
          } else contents.set(d.id, attachment.stream());
        }
        // Ownership of the staged parts passes to the repository only now, when nothing here can fail.
        for (const c of contents.values()) if (isStagedBlob(c)) adoptStagedBlob(c);
        return repository.provideAndRegister(submission, contents);
      },
      (errors) => ({ status: 'Failure' as const, errors }),
    );
    await auditSubmission(ctx, parsed, outcome);
    req.logger.info('ITI-41 provide and register', { status: outcome.status, errors: outcome.errors.map((e) => e.code) });
    return { action: ACTIONS.iti41.response, body: registryResponse(outcome.status, outcome.errors) };
  });
}
