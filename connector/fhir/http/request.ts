/**
 * One MHD request as the shared pipeline sees it: the URL the client addressed (from
 * `fhir.publicBaseUrl`, else from the request), the client and server as audited, and, when the
 * trust model protects the endpoint, the Principal read from a verified HelseID access token. The
 * result is the same TransactionContext the SOAP endpoints build from an XUA assertion
 * (connector/transactions/context.ts), so policy and audit run unchanged.
 *
 * A refused token is audited as a security failure of the transaction attempted and answered
 * 401 (no, bad or expired token, bad DPoP proof) or 403 (a good token without the transaction's
 * scope), with the verifier's WWW-Authenticate challenge and an OperationOutcome.
 */
import type { TLSSocket } from 'node:tls';
import type winston from 'winston';
import type { AuditEndpoint } from '../../audit/event.js';
import { clientIdentity } from '../../http/client-cert.js';
import type { RoutedRequest } from '../../http/direct-routes.js';
import { requestLogger } from '../../log.js';
import type { HelseIdTransaction } from '../../trust/helseid/config.js';
import type { AccessTokenVerifier } from '../../trust/helseid/verify.js';
import type { Principal } from '../../trust/principal.js';
import { peerAddress, recordAuthenticationFailure, requestContext, withoutPort, type RequestParties, type TransactionContext, type TransactionServices } from '../../transactions/context.js';
import { FhirError } from './answer.js';
import { pathOf } from '../../http/request-path.js';

/** Where the endpoint is, as its clients see it. */
export interface EndpointLocation {
  /** `fhir.path`, where the router is mounted. */
  readonly mountPath: string;
  /** `fhir.publicBaseUrl`, without a trailing slash. */
  readonly publicBaseUrl?: string | undefined;
}

/** The endpoint's base URL as this request addressed it: the configured public one, else scheme + Host + mount path. */
export function baseUrlOf(req: RoutedRequest, where: EndpointLocation): string {
  if (where.publicBaseUrl !== undefined) return where.publicBaseUrl;
  const host = req.headers.host ?? `${req.socket.localAddress ?? 'localhost'}:${req.socket.localPort ?? ''}`;
  // The scheme of the connection (what express's req.protocol gave with `trust proxy` off, as the node has it).
  const scheme = (req.socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http';
  return `${scheme}://${host}${where.mountPath}`;
}

/** The absolute URL of this request without query (what a DPoP proof's htu names). */
export function requestUrlOf(req: RoutedRequest, where: EndpointLocation): string {
  const path = pathOf(req.originalUrl);
  const below = path.startsWith(where.mountPath) ? path.slice(where.mountPath.length) : pathOf(req.url!);
  return `${baseUrlOf(req, where)}${below}`;
}

/** The server as audited: the endpoint URL addressed and its host. */
function serverParty(req: RoutedRequest, where: EndpointLocation): AuditEndpoint {
  const url = requestUrlOf(req, where);
  let host: string;
  try {
    host = new URL(url).host;
  } catch {
    host = req.headers.host ?? 'localhost';
  }
  return { userId: url, networkAccessPoint: withoutPort(host) };
}

/**
 * The client as audited. There is no wsa:From on REST: the OAuth client the token was issued to
 * names the system when there is a token, its network address otherwise.
 */
function clientParty(req: RoutedRequest, principal: Principal | undefined): AuditEndpoint {
  const address = peerAddress(req);
  const identity = clientIdentity(req);
  return {
    userId: principal?.clientId ?? (address !== undefined ? `http://${address.includes(':') ? `[${address}]` : address}` : 'unknown'),
    ...(identity !== undefined ? { alternativeUserId: identity.subject } : {}),
    ...(address !== undefined ? { networkAccessPoint: address } : {}),
  };
}

function partiesOf(req: RoutedRequest, where: EndpointLocation, principal: Principal | undefined): RequestParties {
  const identity = clientIdentity(req);
  return { client: clientParty(req, principal), server: serverParty(req, where), ...(identity !== undefined ? { clientIdentity: identity } : {}) };
}

/** What the router hands every request. */
export interface FhirRequestServices {
  readonly services: TransactionServices;
  /** Present exactly when the trust model protects the endpoint: every request then needs a token. */
  readonly tokens?: AccessTokenVerifier | undefined;
  readonly where: EndpointLocation;
  readonly logger: winston.Logger;
}

/** A request's logger: its transaction and the client's request id, when it sent one. */
export function fhirLogger(base: winston.Logger, req: RoutedRequest, transaction: string): winston.Logger {
  const id = req.headers['x-request-id'];
  return requestLogger(base, { action: `MHD ${transaction}`, ...(typeof id === 'string' && id.length <= 200 ? { messageId: id } : {}) });
}

/**
 * The context of one MHD request. Under the trust model the access token is verified first (for
 * `transaction`'s scope); a refusal is recorded and thrown as a FhirError before anything is read.
 */
export async function fhirContext(fhir: FhirRequestServices, req: RoutedRequest, transaction: HelseIdTransaction, logger: winston.Logger): Promise<TransactionContext> {
  if (fhir.tokens === undefined) return requestContext(fhir.services, 'fhir', transaction, partiesOf(req, fhir.where, undefined));
  const result = await fhir.tokens.verify({
    authorization: req.headers.authorization,
    dpop: req.headers.dpop,
    method: req.method ?? '',
    url: requestUrlOf(req, fhir.where),
    transaction,
  });
  if (!result.ok) {
    const parties = partiesOf(req, fhir.where, undefined);
    await recordAuthenticationFailure(fhir.services, parties, transaction, `${result.error}: ${result.description}`);
    logger.warn('HelseID access token refused', { error: result.error, reason: result.description, client: parties.client.networkAccessPoint });
    throw FhirError.http(result.status, result.status === 403 ? 'forbidden' : 'login', `${result.error}: ${result.description}`, {
      'WWW-Authenticate': result.wwwAuthenticate,
    });
  }
  return requestContext(fhir.services, 'fhir', transaction, partiesOf(req, fhir.where, result.principal), result.principal, 'oauth');
}
