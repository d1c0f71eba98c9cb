/**
 * ITI-41 Provide and Register Document Set-b: xdsb:ProvideAndRegisterDocumentSetRequest in (MTOM
 * with xop:Include parts, as Axis2/CXF send it, or inline base64), rs:RegistryResponse out.
 *
 * On the repository endpoint MTOM parts are staged in the blob store while the request streams in
 * (see spool.ts `blobSpooler`), so a part arrives here as a StagedBlob that the repository commits
 * or aborts; an inline document is decoded from the envelope and staged by the repository. A part
 * the blob store had no space for is XDSRepositoryOutOfResources.
 *
 * The success event is written with the registry commit (see serve.ts `prepareSubmissionAudit`)
 * when the registry is the node's own, and as an intent written before the registration is sent
 * when it is remote (connector/audit/intents.ts); either way a stored submission has its event
 * whenever the process dies, and is answered Success even if recording the event afterwards fails.
 */
import { Readable } from 'node:stream';
import { parseProvideAndRegisterRequest, registryResponse } from '../../registry/ebxml/index.js';
import { error, RegistryFailure } from '../../registry/model/errors.js';
import { NS } from '../../registry/xml/namespaces.js';
import { isOutOfSpace } from '../../repository/blob/index.js';
import { isStagedBlob, type DocumentContent, type DocumentRepository } from '../../repository/repository.js';
import { ACTIONS } from '../soap/actions.js';
import type { SoapHandler } from '../soap/endpoint.js';
import { isSpooled } from '../soap/mime.js';
import { binaryAttachment } from '../soap/xop.js';
import type { Submission } from '../../registry/model/metadata.js';
import { expectBody, failureOnRegistryError } from './common.js';
import { withContext, type TransactionServices } from './context.js';
import { auditSubmission, prepareSubmissionAudit, type PreparedSubmissionAudit } from './serve.js';
import { adoptStagedBlob, isOutOfSpacePart, isTooLargePart } from './spool.js';

export function iti41(repository: DocumentRepository, services: TransactionServices): SoapHandler {
  return withContext(services, 'repository', 'ITI-41', async (req, ctx) => {
    expectBody(req.body, NS.xdsb, 'ProvideAndRegisterDocumentSetRequest');
    let parsed: Submission | undefined;
    let prepared: PreparedSubmissionAudit | undefined;
    const outcome = await failureOnRegistryError(
      async () => {
        const { submission, documents } = parseProvideAndRegisterRequest(req.body);
        parsed = submission;
        prepared = prepareSubmissionAudit(ctx, submission);
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
          if (isOutOfSpacePart(spooled)) {
            throw new RegistryFailure(error('XDSRepositoryOutOfResources', `the repository has no storage space left for document ${d.id}; nothing was stored, try again later`, d.id));
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
        const audit = prepared;
        return repository.provideAndRegister(submission, contents, {
          commitRecords: [audit.commitRecord],
          ...(repository.registryStoresCommitRecords ? {} : { beforeRegister: () => writeIntent(services, audit, submission) }),
        });
      },
      (errors) => ({ status: 'Failure' as const, errors }),
    );
    await auditSubmission(ctx, parsed, outcome, prepared, req.logger);
    req.logger.info('ITI-41 provide and register', { status: outcome.status, errors: outcome.errors.map((e) => e.code) });
    return { action: ACTIONS.iti41.response, body: registryResponse(outcome.status, outcome.errors) };
  });
}

/**
 * The audit intent of a submission for a remote registry, on disk before the registration is sent.
 * When it cannot be written, nothing is sent: no submission is stored without its audit.
 */
async function writeIntent(services: TransactionServices, prepared: PreparedSubmissionAudit, submission: Submission): Promise<void> {
  const documents = submission.documentEntries.flatMap((d) => (d.uniqueId === undefined ? [] : [d.uniqueId]));
  try {
    await services.auditor.recordIntent(prepared.event, documents);
  } catch (e) {
    if (isOutOfSpace(e)) {
      throw new RegistryFailure(error('XDSRepositoryOutOfResources', 'the repository has no storage space left for the audit of the submission; nothing was stored, try again later'));
    }
    throw new RegistryFailure(error('XDSRepositoryError', 'the submission could not be audited, so it was not registered (no submission without audit); try again later'));
  }
}
