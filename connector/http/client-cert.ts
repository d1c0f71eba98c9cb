/**
 * Mutual TLS at the application layer: who the verified client certificate names, and a guard per
 * endpoint that refuses requests without one (or with one no configured CA issued).
 *
 * The TLS listener asks for a certificate but does not abort the handshake over it
 * (`rejectUnauthorized: false`, see server.ts): an endpoint that needs one must answer with a SOAP
 * fault the peer can read and log, not with a reset connection that looks like a network problem,
 * and optional endpoints must still be reachable without one. The guard runs before the body is
 * read, so an unauthenticated peer costs no more than its headers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import type { RoutedHandler } from './direct-routes.js';
import { pathOf } from './request-path.js';
import type winston from 'winston';
import { SoapFault, WSSE_FAULT, faultBodyXml } from '../soap/fault.js';
import { buildEnvelope, sendSoap } from '../soap/response.js';
import type { ClientCertificateMode } from './config.js';

/** The verified client certificate of a mutual-TLS connection, for policy and audit. */
export interface ClientIdentity {
  /** Subject distinguished name, most significant first as OpenSSL prints it: `C=NO, O=…, CN=…`. */
  readonly subject: string;
  /** Subject attributes by short name (a repeated attribute keeps its last value). */
  readonly subjectAttributes: Readonly<Record<string, string>>;
  /** Issuer distinguished name, same form as `subject`. */
  readonly issuer: string;
  /** Serial number, upper-case hex without separators. */
  readonly serialNumber: string;
  /** SHA-256 fingerprint of the DER certificate, upper-case hex pairs separated by colons. */
  readonly fingerprint256: string;
  /** ISO 8601. */
  readonly validFrom: string;
  readonly validTo: string;
}

type IdentityState = { kind: 'none' } | { kind: 'untrusted'; reason: string } | { kind: 'verified'; identity: ClientIdentity };

/** One answer per TLS connection: the certificate cannot change while the socket lives. */
const bySocket = new WeakMap<object, IdentityState>();

function isTlsSocket(socket: unknown): socket is TLSSocket {
  return typeof socket === 'object' && socket !== null && (socket as { encrypted?: unknown }).encrypted === true;
}

/** `C=NO\nO=x\nCN=y` (X509Certificate.subject) → `C=NO, O=x, CN=y`. */
function dn(lines: string): string {
  return lines.split('\n').filter((l) => l !== '').join(', ');
}

function attributes(lines: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function identityOf(cert: X509Certificate): ClientIdentity {
  return {
    subject: dn(cert.subject),
    subjectAttributes: attributes(cert.subject),
    issuer: dn(cert.issuer),
    serialNumber: cert.serialNumber.toUpperCase(),
    fingerprint256: cert.fingerprint256.toUpperCase(),
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
  };
}

function stateOf(req: IncomingMessage): IdentityState {
  const socket = req.socket;
  if (!isTlsSocket(socket)) return { kind: 'none' };
  const cached = bySocket.get(socket);
  if (cached) return cached;
  const cert = socket.getPeerX509Certificate();
  let state: IdentityState;
  if (!cert) state = { kind: 'none' };
  else if (!socket.authorized) {
    const err = socket.authorizationError;
    state = { kind: 'untrusted', reason: err instanceof Error ? err.message : String(err ?? 'not verified') };
  } else state = { kind: 'verified', identity: identityOf(cert) };
  bySocket.set(socket, state);
  return state;
}

/**
 * The verified client certificate's identity, or undefined on plain HTTP, without a certificate,
 * or with one that did not verify against the configured CA bundle (never an unverified identity).
 */
export function clientIdentity(req: IncomingMessage): ClientIdentity | undefined {
  const s = stateOf(req);
  return s.kind === 'verified' ? s.identity : undefined;
}

/** Why a request is refused, or undefined when it may pass. */
export function clientCertificateRefusal(req: IncomingMessage, mode: ClientCertificateMode): string | undefined {
  if (mode === 'off') return undefined;
  const s = stateOf(req);
  // A certificate that is presented and does not verify is refused even where none is needed:
  // it is either a misconfigured peer (which should learn it now) or someone trying.
  if (s.kind === 'untrusted') return `the client certificate is not trusted: ${s.reason}`;
  if (s.kind === 'none' && mode === 'required') return 'a client certificate issued by a trusted CA is required on this endpoint (mutual TLS)';
  return undefined;
}

export interface ClientCertificateGuardOptions {
  readonly mode: ClientCertificateMode;
  readonly logger: winston.Logger;
  /** Endpoint name for the log. */
  readonly endpoint: string;
  /** Writes the refusal; default: a SOAP 1.2 fault (Sender, wsse:FailedAuthentication), HTTP 403. */
  readonly refuse?: (res: ServerResponse, reason: string) => void;
}

/** The refusal as a SOAP 1.2 fault. The body was not read, so the connection is closed after it. */
export function refuseWithSoapFault(res: ServerResponse, reason: string): void {
  const fault = new SoapFault({ code: 'Sender', subcode: WSSE_FAULT.failedAuthentication, reason, httpStatus: 403 });
  const built = buildEnvelope({ action: fault.action, body: faultBodyXml(fault) });
  void sendSoap(res, { status: fault.httpStatus, action: fault.action, envelopeXml: built.xml, close: true });
}

/** The refusal as JSON, for the non-SOAP endpoints (the patient-block admin API). */
export function refuseWithJson(res: ServerResponse, reason: string): void {
  const body = Buffer.from(JSON.stringify({ error: reason }), 'utf8');
  res.writeHead(403, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length, Connection: 'close' });
  res.end(body);
}

/** Enforces an endpoint's client-certificate mode before anything else runs (mounted on express or taken directly, direct-routes.ts). */
export function clientCertificateGuard(options: ClientCertificateGuardOptions): RoutedHandler {
  const refuse = options.refuse ?? refuseWithSoapFault;
  return (req, res, next) => {
    const reason = clientCertificateRefusal(req, options.mode);
    if (reason === undefined) {
      next();
      return;
    }
    options.logger.warn('client certificate refused', {
      endpoint: options.endpoint,
      // express's req.path: the URL below the mount, without the query.
      path: pathOf(req.url ?? '/'),
      remoteAddress: req.socket.remoteAddress,
      reason,
    });
    refuse(res, reason);
  };
}
