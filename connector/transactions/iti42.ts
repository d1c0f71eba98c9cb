/**
 * ITI-42 Register Document Set-b: lcm:SubmitObjectsRequest in, rs:RegistryResponse out.
 * Wire ⇄ model here; the rules and the storing are the registry actor's.
 *
 * The success event is written with the registry commit (see serve.ts `prepareSubmissionAudit`):
 * a stored submission has its audit event whenever the process dies, and is answered Success even
 * if recording the event afterwards fails.
 */
import { parseSubmitObjectsRequest, registryResponse } from '../../registry/ebxml/index.js';
import { NS } from '../../registry/xml/namespaces.js';
import { withCommitRecords } from '../../registry/register.js';
import type { DocumentRegistry } from '../../registry/registry.js';
import type { SoapHandler } from '../soap/endpoint.js';
import { ACTIONS } from '../soap/actions.js';
import { childElement, type XmlElement } from '../../registry/xml/tree.js';
import type { Submission } from '../../registry/model/metadata.js';
import { expectBody, failureOnRegistryError } from './common.js';
import { withContext, type TransactionServices } from './context.js';
import { auditSubmission, prepareSubmissionAudit, type PreparedSubmissionAudit } from './serve.js';

/**
 * The request element: lcm:SubmitObjectsRequest as ITI TF-2b 3.42 defines it, or the same wrapped
 * in xdsb:RegisterDocumentSetRequest, which Norwegian clients send (see nhn-samples/IT_iti-42_request.xml).
 */
function submitObjectsRequest(body: XmlElement): XmlElement {
  if (body.ns === NS.xdsb && body.local === 'RegisterDocumentSetRequest') {
    const inner = childElement(body, NS.lcm, 'SubmitObjectsRequest');
    if (inner) return inner;
  }
  expectBody(body, NS.lcm, 'SubmitObjectsRequest');
  return body;
}

export function iti42(registry: DocumentRegistry, services: TransactionServices): SoapHandler {
  return withContext(services, 'registry', 'ITI-42', async (req, ctx) => {
    const request = submitObjectsRequest(req.body);
    let submission: Submission | undefined;
    let prepared: PreparedSubmissionAudit | undefined;
    const outcome = await failureOnRegistryError(async () => {
      submission = parseSubmitObjectsRequest(request);
      prepared = prepareSubmissionAudit(ctx, submission);
      return registry.register(withCommitRecords(submission, [prepared.commitRecord]));
    }, (errors) => ({ status: 'Failure' as const, errors: [...errors] }));
    await auditSubmission(ctx, submission, outcome, prepared, req.logger);
    req.logger.info('ITI-42 register', { status: outcome.status, errors: outcome.errors.map((e) => e.code) });
    return { action: ACTIONS.iti42.response, body: registryResponse(outcome.status, outcome.errors) };
  });
}
