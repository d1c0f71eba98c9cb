/**
 * The MHD endpoint, mounted at `fhir.path` (default `/fhir`) and routing by itself (routes.ts):
 *
 * | method and path | transaction |
 * |---|---|
 * | `GET metadata` | the CapabilityStatement (no token needed) |
 * | `POST` (the base) | ITI-65 Provide Document Bundle |
 * | `GET DocumentReference?…`, `POST DocumentReference/_search` | ITI-67 Find Document References |
 * | `GET DocumentReference/<id>` | ITI-67 (read) |
 * | `GET List?…`, `POST List/_search` | ITI-66 Find Document Lists |
 * | `GET Binary/<uniqueId>?repositoryUniqueId=…` | ITI-68 Retrieve Document |
 *
 * FHIR R4 JSON only: `_format=xml` or an Accept naming FHIR XML alone is 406, an XML body 415,
 * each with an OperationOutcome. Another method on a known path is 405 with Allow, any other path
 * 404. Whatever goes wrong below a route ends here: a FhirError is answered as it says; anything
 * else is logged whole and answered 500 with an OperationOutcome that names no internals.
 */
import type { ServerResponse } from 'node:http';
import type winston from 'winston';
import type { FhirConfig } from '../../config.js';
import type { RoutedHandler, RoutedRequest } from '../../http/direct-routes.js';
import { pathOf } from '../../http/request-path.js';
import type { TransactionServices } from '../../transactions/context.js';
import type { AccessTokenVerifier } from '../../trust/helseid/verify.js';
import type { FhirActors } from './actors.js';
import { FhirError, sendError, sendResource } from './answer.js';
import { mediaTypeOf, searchForm, type BodyLimits } from './body.js';
import { capabilityStatement } from './capability.js';
import { provideBundle } from './provide.js';
import { baseUrlOf, type FhirRequestServices } from './request.js';
import { retrieveDocument } from './retrieve.js';
import { routeTable, type RouteMatch } from './routes.js';
import { readDocumentReference, searchDocumentReferences, searchLists } from './search.js';

export interface FhirEndpointOptions {
  readonly config: FhirConfig;
  readonly services: TransactionServices;
  /** The HelseID verifier: present exactly when the trust model protects the endpoint. */
  readonly tokens?: AccessTokenVerifier | undefined;
  readonly actors: FhirActors;
  readonly logger: winston.Logger;
  /** Sees every request once it is answered (connector/metrics): transaction, HTTP status (0: none sent), milliseconds. */
  readonly observe?: ((transaction: string, status: number, ms: number) => void) | undefined;
  /** The node's version, for the CapabilityStatement. */
  readonly version?: string | undefined;
  /** Give up on a request body that stops arriving for this long (default 30 s). */
  readonly bodyIdleTimeoutMs?: number | undefined;
}

const JSON_FORMATS: ReadonlySet<string> = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']);
const JSON_ACCEPT: ReadonlySet<string> = new Set(['*/*', 'application/*', 'application/json', 'application/fhir+json', 'application/json+fhir']);
const XML_ACCEPT: ReadonlySet<string> = new Set(['application/fhir+xml', 'application/xml', 'text/xml', 'application/xml+fhir', 'xml']);

/** The largest search form read before the token is checked … after it: forms are small. */
const MAX_FORM_BYTES = 1024 * 1024;

/** The query string of a request target ('' without one). */
function queryOf(req: RoutedRequest): string {
  const i = req.originalUrl.indexOf('?');
  return i < 0 ? '' : req.originalUrl.slice(i + 1);
}

/** The query parameters as sent (URLSearchParams, not express's parser, which would nest `a[b]=`). */
export function queryParams(req: RoutedRequest): URLSearchParams {
  return new URLSearchParams(queryOf(req));
}

/** JSON is what this endpoint answers in; a client that will take only XML is told so (406). */
function negotiate(req: RoutedRequest): void {
  const format = queryParams(req).get('_format');
  if (format !== null) {
    if (JSON_FORMATS.has(format.trim().toLowerCase().split(';')[0]!)) return;
    throw FhirError.http(406, 'not-supported', `_format=${format} is not supported: this endpoint answers in FHIR JSON only (_format=json)`);
  }
  const accepted = (req.headers.accept ?? '').split(',').map((t) => mediaTypeOf(t)).filter((t) => t !== '');
  if (accepted.length === 0 || accepted.some((t) => JSON_ACCEPT.has(t))) return;
  if (accepted.some((t) => XML_ACCEPT.has(t))) {
    throw FhirError.http(406, 'not-supported', 'this endpoint answers in FHIR JSON only (application/fhir+json); FHIR XML is not supported');
  }
}

/** Whether a request body was sent and is still (partly) unread. */
function unreadBody(req: RoutedRequest): boolean {
  const declared = req.headers['content-length'];
  const sent = req.headers['transfer-encoding'] !== undefined || (declared !== undefined && declared !== '0');
  return sent && !req.readableEnded;
}

function answerError(req: RoutedRequest, res: ServerResponse, e: unknown, logger: winston.Logger): void {
  if (res.headersSent) {
    // Too late for an OperationOutcome: the client sees the answer cut short.
    logger.error('MHD request failed after its answer began', { error: e instanceof Error ? e.message : String(e), path: pathOf(req.url!) });
    res.destroy();
    return;
  }
  let error: FhirError;
  if (e instanceof FhirError) error = e;
  else {
    logger.error('MHD request failed', { error: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined, method: req.method, path: pathOf(req.url!) });
    error = FhirError.http(500, 'exception', 'the request could not be processed because of an internal error');
  }
  // A body nobody will read would be drained for the next request on the connection; close it instead.
  const headers = unreadBody(req) ? { ...error.headers, Connection: 'close' } : error.headers;
  sendError(res, new FhirError(error.status, error.outcome, headers));
}

/** A route's work: everything after the metrics, Cache-Control and negotiation every route shares. */
type Serve = (req: RoutedRequest, res: ServerResponse, params: Readonly<Record<string, string>>) => Promise<void>;

/** A route's handler: what it serves, the transaction its metrics count it under, and whether Accept and _format are checked. */
interface Route {
  readonly transaction: string;
  readonly serve: Serve;
  readonly negotiated: boolean;
}

/**
 * The MHD endpoint: one handler for every request below `fhir.path`, mounted on the app and taken
 * by the listener without express (connector/http/direct-routes.ts). It routes by itself
 * (routes.ts) and answers every request, so it never calls `next`.
 */
export function fhirEndpoint(options: FhirEndpointOptions): RoutedHandler {
  const { config, logger, actors } = options;
  const fhir: FhirRequestServices = {
    services: options.services,
    tokens: options.tokens,
    where: { mountPath: config.path, publicBaseUrl: config.publicBaseUrl?.replace(/\/+$/, '') },
    logger,
  };
  const limits: BodyLimits = { maxBytes: config.maxRequestBytes, maxDepth: config.maxJsonDepth, idleTimeoutMs: options.bodyIdleTimeoutMs ?? 30_000 };
  const formLimits: BodyLimits = { ...limits, maxBytes: Math.min(MAX_FORM_BYTES, config.maxRequestBytes) };
  const started = new Date().toISOString();
  const route = (transaction: string, serve: Serve, negotiated = true): Route => ({ transaction, serve, negotiated });

  const routes = routeTable<Route>([
    {
      path: '/metadata',
      methods: {
        GET: route('metadata', async (req, res) => {
          sendResource(res, 200, capabilityStatement({ baseUrl: baseUrlOf(req, fhir.where), tokenRequired: options.tokens !== undefined, version: options.version ?? '0', date: started }));
        }),
      },
    },
    {
      path: '/',
      methods: {
        POST: route('ITI-65', (req, res) =>
          provideBundle(fhir, actors, req, res, { limits, maxBundleEntries: config.maxBundleEntries, defaultLanguageCode: config.defaultLanguageCode === false ? undefined : config.defaultLanguageCode }),
        ),
      },
    },
    { path: '/DocumentReference', methods: { GET: route('ITI-67', (req, res) => searchDocumentReferences(fhir, actors, req, res, async () => queryParams(req))) } },
    { path: '/DocumentReference/_search', methods: { POST: route('ITI-67', (req, res) => searchDocumentReferences(fhir, actors, req, res, () => searchForm(req, formLimits, queryParams(req)))) } },
    { path: '/DocumentReference/:id', methods: { GET: route('ITI-67', (req, res, params) => readDocumentReference(fhir, actors, req, res, params['id']!)) } },
    { path: '/List', methods: { GET: route('ITI-66', (req, res) => searchLists(fhir, actors, req, res, async () => queryParams(req))) } },
    { path: '/List/_search', methods: { POST: route('ITI-66', (req, res) => searchLists(fhir, actors, req, res, () => searchForm(req, formLimits, queryParams(req)))) } },
    {
      path: '/Binary/:uniqueId',
      methods: {
        GET: route(
          'ITI-68',
          (req, res, params) => retrieveDocument(fhir, actors, req, res, params['uniqueId']!, { maxResourceBytes: config.maxRequestBytes }),
          false,
        ),
      },
    },
  ]);

  /** The request's route and the parameters of its path, or the refusal it is answered with (404, 405, 400 for an undecodable path). */
  const dispatch = (req: RoutedRequest): { readonly route: Route; readonly params: Readonly<Record<string, string>> } | FhirError => {
    let found: RouteMatch<Route>;
    try {
      found = routes(req.method!, req.url!);
    } catch (e) {
      return e instanceof FhirError ? e : FhirError.http(400, 'invalid', 'the request URL could not be read');
    }
    if (found.kind === 'handler') return { route: found.handler, params: found.params };
    if (found.kind === 'method') return FhirError.http(405, 'not-supported', `${req.method} is not supported here (${found.allow})`, { Allow: found.allow });
    return FhirError.http(404, 'not-supported', `${req.method} ${pathOf(req.url!)} is not served: see ${config.path}/metadata for what is`);
  };

  return (req, res) => {
    const start = performance.now();
    const found = dispatch(req);
    const transaction = found instanceof FhirError ? 'unknown' : found.route.transaction;
    const observe = options.observe;
    if (observe !== undefined) res.once('close', () => observe(transaction, res.headersSent ? res.statusCode : 0, performance.now() - start));
    res.setHeader('Cache-Control', 'no-store');
    if (found instanceof FhirError) {
      answerError(req, res, found, logger);
      return;
    }
    const { route, params } = found;
    void (async () => {
      try {
        if (route.negotiated) negotiate(req);
        await route.serve(req, res, params);
      } catch (e) {
        answerError(req, res, e, logger);
      }
    })();
  };
}
