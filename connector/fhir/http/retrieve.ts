/**
 * ITI-68 Retrieve Document: `GET <base>/Binary/<uniqueId>?repositoryUniqueId=<oid>[&homeCommunityId=…]`,
 * the URL every DocumentReference this endpoint writes carries in content.attachment.url.
 *
 * The request is the one DocumentRequest ITI-43 would carry, run by the same pipeline
 * (connector/transactions/serve.ts `runRetrieve`): the request decision, the repository (or, for
 * another community's document, the initiating gateway), the per-document decision by the
 * registry entry (ATT-4, NORS, citizen rules), and the audit (Export, like ITI-43, naming ITI-68).
 *
 * The bytes are streamed from the blob store as ITI-43 streams them, with the entry's mimeType as
 * Content-Type. A single byte range (`Range: bytes=…`) is answered 206 with Content-Range, an
 * unsatisfiable one 416; several ranges, or a range under If-Range (the node has no validator to
 * compare), are answered with the whole document (RFC 9110 §14.2 lets a server ignore Range). The
 * blob store reads from the start, so a range is cut out of the stream: its bytes are never held
 * whole, but the bytes before it are read and dropped.
 *
 * A client that asks for FHIR JSON only (`Accept: application/fhir+json`, or `_format=json`) gets
 * the document as a Binary resource, as a FHIR read of Binary answers; that holds the document in
 * memory, so it is limited to fhir.maxRequestBytes.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import type { RoutedRequest } from '../../http/direct-routes.js';
import { sameOid } from '../../gateway/oid.js';
import type { DocumentRequest, RetrievedDocument, RetrieveResult } from '../../gateway/types.js';
import { runRetrieve } from '../../transactions/serve.js';
import { mhdError } from '../mapping/issues.js';
import { federationContext, type FhirActors } from './actors.js';
import { FhirError, issuesOfErrors, sendResource } from './answer.js';
import { mediaTypeOf } from './body.js';
import { fhirContext, fhirLogger, type FhirRequestServices } from './request.js';

/** The query parameters ITI-68 URLs carry, and `_format`. */
const PARAMETERS: ReadonlySet<string> = new Set(['repositoryUniqueId', 'homeCommunityId', '_format']);
const OID = /^[0-2](\.(0|[1-9]\d*))+$/;
const URN_OID = /^(urn:oid:)?[0-2](\.(0|[1-9]\d*))+$/;

export type ByteRange = { readonly start: number; readonly end: number } | 'unsatisfiable';

/**
 * The one range of a `Range` header for a representation of `size` bytes (RFC 9110 §14.1.2):
 * `bytes=a-b`, `bytes=a-` or `bytes=-n`, the end clipped to the last byte. Undefined when the header
 * is absent, names another unit, several ranges, or is malformed: the whole document is sent.
 */
export function byteRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Number(m[2]);
  if (m[2] !== '' && end < start) return undefined; // invalid: ignored, as RFC 9110 allows
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}

/** The bytes from `start` to `end` (inclusive) of a stream: what comes before is read and dropped, what comes after is not read. */
export function sliceStream(source: Readable, start: number, end: number): Readable {
  async function* slice(): AsyncGenerator<Buffer> {
    let position = 0;
    for await (const chunk of source) {
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      const next = position + bytes.length;
      if (next > start) yield bytes.subarray(Math.max(0, start - position), Math.min(bytes.length, end + 1 - position));
      position = next;
      // Leaving the loop destroys the source: nothing past the range is read.
      if (position > end) break;
    }
  }
  return Readable.from(slice());
}

/**
 * `_format`, read as express's `req.query` read it (its default parser is Node's querystring): a
 * repeated one is no format at all.
 */
function formatOf(req: RoutedRequest): string | undefined {
  const i = req.originalUrl.indexOf('?');
  const format = i < 0 ? undefined : parseQueryString(req.originalUrl.slice(i + 1))['_format'];
  return typeof format === 'string' ? format : undefined;
}

/** Whether the client asked for the Binary resource rather than the document itself. */
function wantsResource(req: RoutedRequest, format: string | undefined): boolean {
  if (format !== undefined) return /json/.test(format);
  const accept = (req.headers.accept ?? '').split(',').map(mediaTypeOf);
  return accept.length > 0 && accept.every((t) => t === 'application/fhir+json' || t === 'application/json+fhir');
}

/** The DocumentRequest of the URL; 400 for parameters it does not take or ids that are not OIDs. */
function documentRequest(req: RoutedRequest, uniqueId: string, actors: FhirActors): DocumentRequest {
  const params = new URLSearchParams(req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '');
  for (const name of new Set(params.keys())) {
    if (!PARAMETERS.has(name)) throw FhirError.of([mhdError('InvalidRequestException', name, `${name} is not a parameter of a document URL (repositoryUniqueId, homeCommunityId)`, 'not-supported')]);
    if (params.getAll(name).length > 1) throw FhirError.of([mhdError('InvalidRequestException', name, `${name} is given more than once`, 'invalid')]);
  }
  const repository = params.get('repositoryUniqueId') ?? actors.repositoryUniqueId;
  const home = params.get('homeCommunityId') ?? undefined;
  if (!OID.test(repository)) throw FhirError.of([mhdError('XDSUnknownRepositoryId', 'repositoryUniqueId', 'repositoryUniqueId must be an OID', 'invalid')]);
  if (home !== undefined && !URN_OID.test(home)) throw FhirError.of([mhdError('XDSUnknownCommunity', 'homeCommunityId', 'homeCommunityId must be an OID (urn:oid:…)', 'invalid')]);
  if (uniqueId === '' || Buffer.byteLength(uniqueId) > 128) throw FhirError.of([mhdError('XDSDocumentUniqueIdError', '', 'the document uniqueId in the URL is empty or longer than 128 bytes', 'invalid')]);
  return { repositoryUniqueId: repository, documentUniqueId: uniqueId, ...(home !== undefined ? { homeCommunityId: home } : {}) };
}

/** The HTTP answer of a retrieve that delivered nothing: 403 for a refusal, else by the XDS code (404 for unknown documents). */
function failureOf(result: RetrieveResult): FhirError {
  return FhirError.of(issuesOfErrors(result.errors.filter((e) => e.severity === 'Error')).map((i) => (i.code === 'XDSDocumentUniqueIdError' && i.issueType === undefined ? { ...i, issueType: 'not-found' } : i)));
}

/** Reads a document whole, for the Binary resource; refused (400, too-costly) past the limit. */
async function wholeDocument(document: RetrievedDocument, limit: number): Promise<Buffer> {
  if (document.size > limit) {
    throw FhirError.http(400, 'too-costly', `the document has ${document.size} bytes, more than a Binary resource may carry here (fhir.maxRequestBytes); fetch it without Accept: application/fhir+json`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of document.stream()) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export interface RetrieveOptions {
  /** Largest document answered as a Binary resource. */
  readonly maxResourceBytes: number;
}

/** Serves ITI-68. */
export async function retrieveDocument(fhir: FhirRequestServices, actors: FhirActors, req: RoutedRequest, res: ServerResponse, uniqueId: string, options: RetrieveOptions): Promise<void> {
  const logger = fhirLogger(fhir.logger, req, 'ITI-68');
  const ctx = await fhirContext(fhir, req, 'ITI-68', logger);
  const request = documentRequest(req, uniqueId, actors);
  const format = formatOf(req);
  const federation = actors.federation;
  const foreign = request.homeCommunityId !== undefined && !sameOid(request.homeCommunityId, actors.homeCommunityId);
  const result = await runRetrieve(
    ctx,
    [request],
    (accepted) => (foreign && federation ? federation.retrieve(accepted, federationContext(ctx, res)) : actors.repository.retrieve(accepted)),
    logger,
  );
  const document = result.documents[0];
  logger.info('ITI-68 retrieve document', { status: result.status, bytes: document?.size ?? 0, errors: result.errors.map((e) => e.code) });
  if (document === undefined) throw failureOf(result);

  if (wantsResource(req, format)) {
    const bytes = await wholeDocument(document, options.maxResourceBytes);
    sendResource(res, 200, { resourceType: 'Binary', contentType: document.mimeType, data: bytes.toString('base64') }, { 'Cache-Control': 'no-store' });
    return;
  }

  const size = document.size;
  const range = req.headers['if-range'] === undefined ? byteRange(req.headers.range, size) : undefined;
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Cache-Control', 'no-store');
  // The node's own origin serves the operator page: a stored document must never run there as a page.
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', 'sandbox');
  if (range === 'unsatisfiable') {
    res.setHeader('Content-Range', `bytes */${size}`);
    throw FhirError.http(416, 'invalid', `the range ${req.headers.range ?? ''} lies outside the document's ${size} bytes`, { 'Content-Range': `bytes */${size}` });
  }
  res.setHeader('Content-Type', document.mimeType);
  let body: Readable;
  if (range !== undefined) {
    res.statusCode = 206;
    res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
    res.setHeader('Content-Length', range.end - range.start + 1);
    body = sliceStream(document.stream(), range.start, range.end);
  } else {
    res.statusCode = 200;
    res.setHeader('Content-Length', size);
    body = document.stream();
  }
  if (req.method === 'HEAD') {
    body.destroy();
    res.end();
    return;
  }
  try {
    await pipeline(body, res);
  } catch (e) {
    // The status line is out: a failure now can only cut the answer short, which the client sees
    // as fewer bytes than Content-Length. A client that went away is no failure of the node's.
    const gone = req.destroyed || (e as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE';
    const error = e instanceof Error ? e.message : String(e);
    if (gone) logger.warn('ITI-68 client left during the document', { error });
    else logger.error('ITI-68 document stream failed', { error });
    res.destroy();
  }
}
