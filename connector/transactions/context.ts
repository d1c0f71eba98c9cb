/**
 * The per-request context, built in ONE place for every transaction the node serves: who is
 * calling (IP, wsa:From, the mutual-TLS client certificate), the verified Principal when the
 * trust model is enabled for the endpoint, and this node's identity, with the audit recorder
 * bound to all of it.
 *
 * The context itself knows no wire: `requestContext` builds it from the parties as audited and a
 * verified Principal. The SOAP endpoints reach it through `transactionContext` / `withContext`
 * (XUA verification of the wsse:Security header), the MHD endpoint through connector/fhir/http
 * (a HelseID access token); policy and audit (serve.ts, policy.ts) then run alike for both.
 *
 * Trust before data: the assertion is verified before the transaction reads its body.
 * A verification failure is audited as a security failure and only then answered with the
 * verifier's SOAP fault (wsse:InvalidSecurity / FailedAuthentication / MessageExpired), so no
 * refused request goes unrecorded. When trust is disabled for the endpoint (the quick-start
 * default) there is no Principal and the access policy is not applied; startNode logs that loudly.
 */
import { serializeAdhocQueryRequest } from '../../registry/ebxml/index.js';
import type { DocumentEntry } from '../../registry/model/metadata.js';
import { serializeXml } from '../../registry/xml/serialize.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, textContent } from '../../registry/xml/tree.js';
import type { Auditor } from '../audit/auditor.js';
import { auditEvents, securityFailureEvent, type AuditCode, type AuditEndpoint, type AuditEvent, type AuditPrincipal, type BaseAuditInput, type Outcome, type TransactionId } from '../audit/event.js';
import { clientIdentity, type ClientIdentity } from '../http/client-cert.js';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { RoutedRequest } from '../http/direct-routes.js';
import { pathOf } from '../http/request-path.js';
import type { SoapHandler, SoapReply, SoapRequest } from '../soap/endpoint.js';
import type { OutboundAudit, OutboundOutcome } from '../gateway/types.js';
import type { PatientBlockStore } from '../trust/blocks.js';
import type { TrustPolicyConfig } from '../trust/config.js';
import type { Principal } from '../trust/principal.js';
import { faultCause, securityFault } from '../trust/faults.js';
import type { XuaVerifier } from '../trust/xua.js';
import { queriedPatients } from './policy.js';

/** The SOAP endpoints. */
export type EndpointName = 'registry' | 'repository' | 'responding' | 'initiating';
/** Every endpoint whose requests get a TransactionContext: the SOAP ones and the MHD (FHIR) one. */
export type ServedEndpoint = EndpointName | 'fhir';

export interface TrustServices {
  readonly verifier: XuaVerifier;
  readonly policy: TrustPolicyConfig;
  readonly blocks: PatientBlockStore;
  /** Endpoints on which a credential (an XUA assertion; a HelseID token on fhir) is required and the policy applied. */
  readonly endpoints: ReadonlySet<ServedEndpoint>;
}

/** What startNode hands every transaction: built once per node. */
export interface TransactionServices {
  /** This node as the audit source (AuditSourceID). */
  readonly node: { readonly id: string; readonly enterpriseSiteId?: string | undefined };
  /** urn:oid:… of this community: the location of a denial's XDSRegistryError. */
  readonly homeCommunityId?: string | undefined;
  readonly auditor: Auditor;
  /** Absent when trust is disabled for the whole node. */
  readonly trust?: TrustServices | undefined;
  /** Registered DocumentEntries by uniqueId: the retrieve policy and the audited patient come from them. */
  readonly documentEntries: (uniqueIds: readonly string[]) => Promise<DocumentEntry[]>;
}

export interface TransactionContext {
  readonly endpoint: ServedEndpoint;
  readonly transaction: TransactionId;
  readonly services: TransactionServices;
  /** The client as audited (Source of a query, Destination of a retrieve). */
  readonly client: AuditEndpoint;
  /** This endpoint as audited: its URL and host. */
  readonly server: AuditEndpoint;
  /** The verified mutual-TLS client certificate, when the connection has one. */
  readonly clientIdentity?: ClientIdentity | undefined;
  /** The verified principal; present exactly when the trust model applies to this endpoint. */
  readonly principal?: Principal | undefined;
  /** The human requestor as audited. */
  readonly requestor?: AuditPrincipal | undefined;
  /** The fields every audit event of this request shares. */
  auditBase(outcome: Outcome, patientId?: string, outcomeDescription?: string): BaseAuditInput;
  /** Records an event durably; resolves before the response is sent. */
  record(event: AuditEvent): Promise<void>;
}

/** A code of the Principal as the audit model names its parts. */
function coded(c: { code: string; codeSystem?: string; displayName?: string } | undefined): AuditCode | undefined {
  return c === undefined ? undefined : { code: c.code, system: c.codeSystem, display: c.displayName };
}

/**
 * The Principal as the audit model names it (name, never-shown national id, organisation, purpose …),
 * with the credential it was read from (an XUA assertion unless said otherwise).
 */
export function auditPrincipal(p: Principal, credential: 'saml' | 'oauth' = 'saml'): AuditPrincipal {
  const orgId = p.organizationId?.extension;
  return {
    name: p.subjectName,
    userId: p.subjectId,
    hpr: p.hprNumber,
    organisation: orgId !== undefined ? { id: orgId, name: p.organizationName } : p.organizationName !== undefined ? { id: p.organizationName, name: p.organizationName } : undefined,
    pointOfCare: p.childOrganizationId !== undefined ? { id: p.childOrganizationId.extension, name: p.childOrganizationName } : undefined,
    healthcareService: coded(p.healthcareService),
    purposeOfUse: coded(p.purposeOfUseCode),
    decisionRef: p.decisionRef?.id ?? p.decisionRef?.raw,
    role: coded(p.role),
    // The verified assertion's ID (a token's jti): BALP's user agent carries it as the agent's policy.
    assertionId: p.assertionId,
    // Only an OAuth token is marked: SAML stays the unmarked default, so events stay as they were.
    ...(credential === 'oauth' ? { credential } : {}),
  };
}

/** IPv4 peers arrive as ::ffff:a.b.c.d on a dual-stack socket; audit shows the address as dialled. */
export function peerAddress(http: IncomingMessage): string | undefined {
  const a = http.socket.remoteAddress;
  return a?.startsWith('::ffff:') ? a.slice(7) : a;
}

function clientEndpoint(req: SoapRequest, identity: ClientIdentity | undefined): AuditEndpoint {
  // wsa:From names the sending system when a peer bothers to; ReplyTo is always anonymous here.
  const from = req.header ? childElement(req.header, NS.wsa, 'From') : undefined;
  const fromAddress = from ? childElement(from, NS.wsa, 'Address') : undefined;
  const replyTo = req.header ? childElement(req.header, NS.wsa, 'ReplyTo') : undefined;
  const replyAddress = replyTo ? childElement(replyTo, NS.wsa, 'Address') : undefined;
  const userId = (fromAddress && textContent(fromAddress).trim()) || (replyAddress && textContent(replyAddress).trim()) || 'http://www.w3.org/2005/08/addressing/anonymous';
  return {
    userId,
    ...(identity !== undefined ? { alternativeUserId: identity.subject } : {}),
    ...(peerAddress(req.httpRequest) !== undefined ? { networkAccessPoint: peerAddress(req.httpRequest) } : {}),
  };
}

/** The endpoint of an HTTP request as audited: the URL it addressed (without the query) and the host. */
export function serverEndpoint(http: RoutedRequest): AuditEndpoint {
  const host = http.headers.host ?? http.socket.localAddress ?? 'localhost';
  return { userId: `${protocolOf(http)}://${host}${pathOf(http.originalUrl)}`, networkAccessPoint: withoutPort(host) };
}

/**
 * The scheme the request came by: express's `req.protocol` without a trusted proxy (the node sets
 * no `trust proxy`, so X-Forwarded-Proto is not believed), from Node's request alone.
 */
function protocolOf(http: IncomingMessage): 'https' | 'http' {
  return (http.socket as TLSSocket).encrypted ? 'https' : 'http';
}

/** The host without a trailing `:port` (digits after the last colon), as `host.replace(/:\d+$/, '')` would give it. */
export function withoutPort(host: string): string {
  let i = host.length;
  while (i > 0 && host.charCodeAt(i - 1) >= 48 && host.charCodeAt(i - 1) <= 57) i--;
  return i < host.length && i > 0 && host.charCodeAt(i - 1) === 58 ? host.slice(0, i - 1) : host;
}

// The two factories below return anonymous closures: they are made for every request, and a
// closure bound to a name (`const f = () => …`) costs a property definition each time under the
// loader's keep-names transform.

/** The fields every audit event of one served request shares, with its outcome, patient and description. */
function responderAuditBase(
  client: AuditEndpoint,
  server: AuditEndpoint,
  node: TransactionServices['node'],
  requestor: AuditPrincipal | undefined,
): TransactionContext['auditBase'] {
  // Members added one by one, not spread from fragments: this runs for every audited request.
  return (outcome, patientId, outcomeDescription) => {
    const input: { -readonly [K in keyof BaseAuditInput]: BaseAuditInput[K] } = { side: 'responder', client, server, node, outcome };
    if (requestor !== undefined) input.principal = requestor;
    if (patientId !== undefined) input.patientId = patientId;
    if (outcomeDescription !== undefined) input.outcomeDescription = outcomeDescription;
    return input;
  };
}

/** Records through the auditor. */
function recorder(auditor: Auditor): TransactionContext['record'] {
  return (event) => auditor.record(event);
}

/** Who is calling and who answers, as audited: what a wire adapter reads off its request. */
export interface RequestParties {
  readonly client: AuditEndpoint;
  readonly server: AuditEndpoint;
  /** The verified mutual-TLS client certificate, when the connection has one. */
  readonly clientIdentity?: ClientIdentity | undefined;
}

/** The credential a Principal was verified from: it decides how the audit types the user. */
export type CredentialKind = 'saml' | 'oauth';

/**
 * The context of one request, whatever its wire: its parties, this node, and the verified
 * Principal (absent when the trust model does not apply to the endpoint). Policy and audit read
 * nothing else.
 */
export function requestContext(
  services: TransactionServices,
  endpoint: ServedEndpoint,
  transaction: TransactionId,
  parties: RequestParties,
  principal?: Principal,
  credential: CredentialKind = 'saml',
): TransactionContext {
  const { client, server, clientIdentity: identity } = parties;
  const requestor = principal ? auditPrincipal(principal, credential) : undefined;
  return {
    endpoint,
    transaction,
    services,
    client,
    server,
    ...(identity !== undefined ? { clientIdentity: identity } : {}),
    ...(principal !== undefined ? { principal } : {}),
    ...(requestor !== undefined ? { requestor } : {}),
    auditBase: responderAuditBase(client, server, services.node, requestor),
    record: recorder(services.auditor),
  };
}

/**
 * Records a refused credential (an XUA assertion, an access token) as a security failure of the
 * transaction attempted, before the refusal is answered: no refused request goes unrecorded.
 */
export function recordAuthenticationFailure(services: TransactionServices, parties: RequestParties, transaction: TransactionId, reason: string): Promise<void> {
  return services.auditor.record(
    securityFailureEvent({
      ...responderAuditBase(parties.client, parties.server, services.node, undefined)('minor-failure'),
      kind: 'user-authentication',
      reason,
      transaction,
    }),
  );
}

/**
 * Builds the context of one SOAP request. Throws the verifier's SoapFault, after auditing it, when
 * the trust model applies and the assertion does not verify.
 */
export async function transactionContext(
  req: SoapRequest,
  services: TransactionServices,
  endpoint: EndpointName,
  transaction: TransactionId,
): Promise<TransactionContext> {
  const identity = clientIdentity(req.httpRequest);
  const parties: RequestParties = { client: clientEndpoint(req, identity), server: serverEndpoint(req.httpRequest), ...(identity !== undefined ? { clientIdentity: identity } : {}) };

  let principal: Principal | undefined;
  const trust = services.trust;
  if (trust && trust.endpoints.has(endpoint)) {
    try {
      principal = trust.verifier.verify({ header: req.header, rawEnvelope: req.rawEnvelopeBytes });
    } catch (e) {
      // verify() throws only SoapFaults; should anything else get out, it is a refusal all the same
      // (audited, 4xx, one log line), never an unaudited 500 with a stack trace.
      const fault = securityFault(e);
      await recordAuthenticationFailure(services, parties, transaction, fault.reason);
      const cause = faultCause(fault);
      req.logger.warn('XUA assertion refused', { reason: fault.reason, ...(cause !== undefined ? { cause } : {}), client: parties.client.networkAccessPoint });
      throw fault;
    }
  }
  return requestContext(services, endpoint, transaction, parties, principal);
}

/** A transaction handler that receives the request's context. */
export type ContextHandler = (req: SoapRequest, ctx: TransactionContext) => Promise<SoapReply>;

/** Wraps a transaction: the context (and with it XUA verification) comes before the handler runs. */
export function withContext(services: TransactionServices, endpoint: EndpointName, transaction: TransactionId, handler: ContextHandler): SoapHandler {
  return async (req) => handler(req, await transactionContext(req, services, endpoint, transaction));
}

/**
 * The audit of the ITI-38 / ITI-39 calls this request causes the gateway to send: this node is
 * the initiator (client = our endpoint, server = the community's URL), with the same human
 * requestor and patient as the inbound request.
 */
export function outboundAudit(ctx: TransactionContext): OutboundAudit {
  const ours: AuditEndpoint = { userId: ctx.server.userId, ...(ctx.server.networkAccessPoint !== undefined ? { networkAccessPoint: ctx.server.networkAccessPoint } : {}) };
  // Methods rather than named arrow functions: this object is made for every gateway request (see responderAuditBase).
  return {
    query(request, sent) {
      return ctx.record(
        auditEvents.iti38({
          ...initiatorAuditBase(ctx, ours, sent, queriedPatients(request)[0] ?? ctx.principal?.patientId),
          query: {
            storedQueryId: request.queryId,
            text: serializeXml(serializeAdhocQueryRequest(request)),
            ...(request.homeCommunityId !== undefined ? { homeCommunityId: request.homeCommunityId } : {}),
          },
        }),
      );
    },
    retrieve(requests, sent) {
      return ctx.record(
        auditEvents.iti39({
          ...initiatorAuditBase(ctx, ours, sent, ctx.principal?.patientId),
          documents: requests.map((r) => ({
            uniqueId: r.documentUniqueId,
            repositoryUniqueId: r.repositoryUniqueId,
            ...(r.homeCommunityId !== undefined ? { homeCommunityId: r.homeCommunityId } : {}),
          })),
        }),
      );
    },
  };
}

/** The fields of an outbound call's audit event: this node (`ours`) the client, the community's URL the server. */
function initiatorAuditBase(ctx: TransactionContext, ours: AuditEndpoint, sent: OutboundOutcome, patientId: string | undefined): BaseAuditInput {
  let host: string | undefined;
  try {
    host = new URL(sent.url).hostname;
  } catch {
    host = undefined;
  }
  return {
    side: 'initiator',
    client: ours,
    server: { userId: sent.url, ...(host !== undefined ? { networkAccessPoint: host } : {}) },
    node: ctx.services.node,
    ...(ctx.requestor !== undefined ? { principal: ctx.requestor } : {}),
    ...(patientId !== undefined ? { patientId } : {}),
    outcome: sent.outcome,
    ...(sent.description !== undefined ? { outcomeDescription: sent.description } : {}),
  };
}

/** Audit outcome of an ebRS status. */
export function outcomeOf(status: 'Success' | 'PartialSuccess' | 'Failure'): Outcome {
  return status === 'Success' ? 'success' : status === 'PartialSuccess' ? 'minor-failure' : 'serious-failure';
}
