/**
 * Verifies the access token of an MHD request (IHE IUA ITI-72 "Incorporate Access Token") as
 * HelseID issues it, and turns it into the Principal the SAML path produces (claims.ts), so the
 * access policy sees one kind of requester whatever the transport.
 *
 * The token is an RFC 9068 JWT access token: signature against the issuer's pinned keys (a JWKS
 * file or the issuer's jwks_uri), issuer, audience, an allow-list of asymmetric algorithms, expiry
 * with a small skew, and `typ` at+jwt. The type check is what RFC 9068 §4 asks of a resource
 * server, and it matters here: HelseID signs ID tokens (`typ` JWT) with the same keys, and an ID
 * token must never open a patient's records. So `at+jwt` (or `application/at+jwt`) only.
 *
 * Sender constraint (RFC 9449, DPoP): a token whose `cnf.jkt` names a key must come with the
 * `DPoP` scheme and a fresh proof signed by that key, for this method and URL and this very token
 * (`ath`); presenting such a token as Bearer is a downgrade and is refused. Proof ids are kept in a
 * bounded memory for as long as the proof could be accepted, one per node (replay.ts), so a captured
 * proof cannot be replayed.
 *
 * Every failure is a result with the HTTP status, the RFC 6750 / RFC 9449 error code and the
 * WWW-Authenticate challenge to send: `verify` never throws and never answers 500 for a bad token.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  base64url,
  calculateJwkThumbprint,
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  EmbeddedJWK,
  errors,
  jwtVerify,
  type FetchImplementation,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { Principal } from '../principal.js';
import { principalFromAccessToken, scopesOf } from './claims.js';
import { ACCESS_TOKEN_ALGORITHMS, HELSEID_TRANSACTIONS, type HelseIdConfig, type HelseIdTransaction } from './config.js';
import { ProofReplayCache, type ProofReplayMemory } from './replay.js';

/**
 * Longest access token accepted. HelseID tokens with an attestation are 2–4 KiB; the cap keeps a
 * hostile header from costing a JSON parse of megabytes (the HTTP layer caps headers too).
 */
export const MAX_ACCESS_TOKEN_LENGTH = 16 * 1024;
/** Longest DPoP proof accepted (a proof is a few hundred bytes plus its embedded public key). */
export const MAX_DPOP_PROOF_LENGTH = 8 * 1024;
/** Longest proof `jti` remembered: bounds the replay cache's memory per entry. */
const MAX_JTI_LENGTH = 256;

export interface AccessTokenRequest {
  /** The Authorization header as received (undefined when absent). */
  readonly authorization: string | undefined;
  /** The DPoP header(s) as received: Node joins repeated headers with ", ", or gives an array. */
  readonly dpop: string | readonly string[] | undefined;
  /** The HTTP method, as sent (GET, POST …). */
  readonly method: string;
  /**
   * The absolute URL the client addressed (scheme, host and path as the client saw them, e.g.
   * behind a TLS-terminating proxy the public one): a proof's `htu` is compared with it.
   */
  readonly url: string;
  /** The MHD transaction the request is, for the scope check. */
  readonly transaction: HelseIdTransaction;
}

export type AccessTokenError = 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'invalid_request';

export interface AccessTokenAccepted {
  readonly ok: true;
  readonly principal: Principal;
  /** Every scope the token grants. */
  readonly scopes: readonly string[];
  /** The token's `jti` (also the Principal's assertionId). */
  readonly tokenId: string;
}

export interface AccessTokenRefused {
  readonly ok: false;
  /** 401 for a missing or bad token or proof, 403 for a good token without the scope. */
  readonly status: 401 | 403;
  readonly error: AccessTokenError;
  /** Why, for the log and the challenge; never contains the token. */
  readonly description: string;
  /** The WWW-Authenticate header value to answer with. */
  readonly wwwAuthenticate: string;
}

export type AccessTokenResult = AccessTokenAccepted | AccessTokenRefused;

export interface AccessTokenVerifier {
  verify(request: AccessTokenRequest): Promise<AccessTokenResult>;
}

export interface AccessTokenVerifierOptions {
  /** The clock (tests pin it). */
  readonly now?: () => Date;
  /** Fetches the remote JWKS (tests, or an HTTP client with the node's proxy settings). */
  readonly fetch?: FetchImplementation;
  /**
   * Where used DPoP proofs are remembered: by default in this process (`dpopReplayCacheSize`); a
   * worker of a multi-process node passes the node's one memory, kept by its primary (replay.ts).
   */
  readonly replay?: ProofReplayMemory;
}

type Scheme = 'Bearer' | 'DPoP';

/**
 * Builds the verifier. A JWKS file is read here, so a missing or unusable key file stops the start
 * (this throws); a remote JWKS is fetched on the first token and refreshed per the configuration.
 */
export function createAccessTokenVerifier(config: HelseIdConfig, options: AccessTokenVerifierOptions = {}): AccessTokenVerifier {
  const now = options.now ?? (() => new Date());
  const keys: JWTVerifyGetKey = 'file' in config.jwks ? createLocalJWKSet(readJwksFile(config.jwks.file)) : remoteKeys(config.jwks, options.fetch);
  const replay = options.replay ?? new ProofReplayCache(config.dpopReplayCacheSize);
  const algs = ACCESS_TOKEN_ALGORITHMS.join(' ');

  /**
   * A refusal with its challenge. `bare` leaves the error out of the challenge: RFC 6750 §3.1 says
   * a request that carried no credentials at all gets the challenge alone.
   */
  const refuse = (
    status: 401 | 403,
    error: AccessTokenError,
    description: string,
    scheme: Scheme | 'both',
    extra: { readonly scope?: string; readonly bare?: boolean } = {},
  ): AccessTokenRefused => {
    const params: Record<string, string> = extra.bare ? {} : { error, error_description: headerSafe(description) };
    if (extra.scope !== undefined) params.scope = headerSafe(extra.scope);
    return { ok: false, status, error, description, wwwAuthenticate: challenge(scheme, params, algs, config.requireDPoP) };
  };

  async function verify(request: AccessTokenRequest): Promise<AccessTokenResult> {
    const credentials = parseAuthorization(request.authorization);
    if (credentials === 'missing') {
      // RFC 6750 §3.1: a request without credentials gets the challenge without an error code.
      return refuse(401, 'invalid_request', 'no access token (Authorization header missing)', 'both', { bare: true });
    }
    if (credentials === 'too-large') return refuse(401, 'invalid_token', `the access token exceeds ${MAX_ACCESS_TOKEN_LENGTH} bytes`, 'both');
    if (credentials === 'malformed') return refuse(401, 'invalid_request', 'the Authorization header is not "Bearer <token>" or "DPoP <token>"', 'both');
    const { scheme, token } = credentials;
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) {
      // Also catches `alg: none` tokens, whose signature part is empty.
      return refuse(401, 'invalid_token', 'the access token is not a signed JWT', scheme);
    }

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: [...config.algorithms],
        typ: 'at+jwt',
        clockTolerance: config.clockSkewSeconds,
        currentDate: now(),
        requiredClaims: ['exp', 'jti'],
      }));
    } catch (e) {
      return refuse(401, 'invalid_token', tokenFailure(e), scheme);
    }
    if (typeof payload.jti !== 'string' || payload.jti === '') return refuse(401, 'invalid_token', 'the access token has no jti', scheme);

    const binding = keyBinding(payload.cnf);
    if (binding === 'unsupported') return refuse(401, 'invalid_token', 'the access token is bound to something other than a DPoP key (cnf)', scheme);
    if (scheme === 'Bearer') {
      if (binding) return refuse(401, 'invalid_token', 'the access token is DPoP-bound and must be sent with the DPoP scheme and a proof', 'DPoP');
      if (config.requireDPoP) return refuse(401, 'invalid_request', 'this server accepts DPoP-bound access tokens only', 'DPoP');
    } else {
      if (!binding) return refuse(401, 'invalid_token', 'the DPoP scheme needs a DPoP-bound access token (cnf.jkt)', 'DPoP');
      const proof = await checkProof(request, token, binding, now(), config.clockSkewSeconds, replay);
      if (proof !== undefined) return refuse(401, 'invalid_dpop_proof', proof, 'DPoP');
    }

    const scopes = scopesOf(payload);
    if (!(HELSEID_TRANSACTIONS as readonly string[]).includes(request.transaction)) {
      return refuse(403, 'insufficient_scope', `no scope is configured for ${String(request.transaction)}`, scheme);
    }
    const required = config.scopes[request.transaction];
    if (!required.some((s) => scopes.includes(s))) {
      return refuse(403, 'insufficient_scope', `${request.transaction} needs the scope ${required.join(' or ')}`, scheme, { scope: required.join(' ') });
    }

    const read = principalFromAccessToken(payload);
    if (!read.ok) return refuse(401, 'invalid_token', read.reason, scheme);
    return { ok: true, principal: read.principal, scopes, tokenId: payload.jti };
  }

  return {
    async verify(request: AccessTokenRequest): Promise<AccessTokenResult> {
      try {
        return await verify(request);
      } catch {
        // A bug or an unexpected library error must still be a refusal, never a 500 with details.
        return refuse(401, 'invalid_token', 'the access token could not be verified', 'both');
      }
    },
  };
}

/** A failed download of the issuer's keys (connection refused, DNS, TLS): not the token's fault. */
class KeysUnavailable extends Error {}

/**
 * The issuer's jwks_uri through jose's cache. jose reports an HTTP error or a timeout as its own
 * error but lets a network failure through as a bare TypeError; both become KeysUnavailable here
 * so the refusal says what happened.
 */
function remoteKeys(jwks: Extract<HelseIdConfig['jwks'], { url: string }>, fetchImpl: FetchImplementation | undefined): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(new URL(jwks.url), {
    timeoutDuration: jwks.timeoutMs,
    cooldownDuration: jwks.cooldownSeconds * 1000,
    cacheMaxAge: jwks.cacheMaxAgeSeconds * 1000,
    ...(fetchImpl ? { [customFetch]: fetchImpl } : {}),
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (e) {
      if (e instanceof errors.JOSEError) throw e;
      throw new KeysUnavailable('the JWKS download failed', { cause: e });
    }
  };
}

/** Reads and checks a pinned JWKS file: public signing keys only. */
function readJwksFile(path: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`helseid.jwks.file: cannot read ${path} as JSON: ${(e as Error).message}`);
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error(`helseid.jwks.file: ${path} is not a JWKS ({"keys": [...]}) with at least one key`);
  for (const key of keys as JWK[]) {
    // A private or symmetric key here is a mistake that must not go unnoticed: it means the
    // signing secret was copied around, and an `oct` key would make HMAC tokens verifiable.
    if (typeof key !== 'object' || key === null || typeof key.kty !== 'string') throw new Error(`helseid.jwks.file: ${path} holds an entry that is not a JWK`);
    if (key.kty === 'oct' || key.d !== undefined) throw new Error(`helseid.jwks.file: ${path} must hold public keys only (found a private or symmetric key)`);
  }
  return { keys: keys as JWK[] };
}

type Credentials = { scheme: Scheme; token: string } | 'missing' | 'malformed' | 'too-large';

/** `Bearer <token68>` or `DPoP <token68>`, the scheme case-insensitively (RFC 9110 §11.1). */
function parseAuthorization(header: string | undefined): Credentials {
  if (header === undefined || header.trim() === '') return 'missing';
  if (header.length > MAX_ACCESS_TOKEN_LENGTH + 16) return 'too-large';
  const m = /^\s*([A-Za-z]+) +([A-Za-z0-9\-._~+/]+=*)\s*$/.exec(header);
  if (!m) return 'malformed';
  const scheme = m[1]!.toLowerCase();
  const token = m[2]!;
  if (token.length > MAX_ACCESS_TOKEN_LENGTH) return 'too-large';
  if (scheme === 'bearer') return { scheme: 'Bearer', token };
  if (scheme === 'dpop') return { scheme: 'DPoP', token };
  return 'malformed';
}

/** cnf.jkt, nothing (unbound), or a binding this verifier cannot check (mTLS `x5t#S256`, …). */
function keyBinding(cnf: unknown): string | undefined | 'unsupported' {
  if (cnf === undefined) return undefined;
  if (typeof cnf !== 'object' || cnf === null) return 'unsupported';
  const jkt = (cnf as { jkt?: unknown }).jkt;
  if (typeof jkt === 'string' && jkt !== '') return jkt;
  return 'unsupported';
}

/** RFC 9449 §4.3: the checks of a proof; a reason when it fails, undefined when it passes. */
async function checkProof(request: AccessTokenRequest, token: string, jkt: string, now: Date, skewSeconds: number, replay: ProofReplayMemory): Promise<string | undefined> {
  const proofs = proofHeaders(request.dpop);
  if (proofs.length === 0) return 'the DPoP header with a proof is missing';
  if (proofs.length > 1) return 'more than one DPoP proof';
  const proof = proofs[0]!;
  if (proof.length > MAX_DPOP_PROOF_LENGTH) return `the DPoP proof exceeds ${MAX_DPOP_PROOF_LENGTH} bytes`;

  let payload: JWTPayload;
  let jwk: JWK;
  try {
    const verified = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: [...ACCESS_TOKEN_ALGORITHMS],
      requiredClaims: ['jti', 'htm', 'htu', 'iat'],
      currentDate: now,
      clockTolerance: skewSeconds,
    });
    payload = verified.payload;
    jwk = verified.protectedHeader.jwk as JWK;
  } catch (e) {
    return `the DPoP proof is invalid: ${proofFailure(e)}`;
  }

  // The proof's key must be the one the token was issued to.
  if ((await calculateJwkThumbprint(jwk, 'sha256')) !== jkt) return 'the DPoP proof is signed by another key than the token is bound to (cnf.jkt)';
  if (payload.htm !== request.method) return 'the DPoP proof is for another HTTP method (htm)';
  const htu = typeof payload.htu === 'string' ? targetUri(payload.htu) : undefined;
  const target = targetUri(request.url);
  if (htu === undefined || target === undefined || htu !== target) return 'the DPoP proof is for another URL (htu)';
  const iat = payload.iat!;
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (Math.abs(nowSeconds - iat) > skewSeconds) return 'the DPoP proof is too old or from the future (iat)';
  if (payload.ath !== accessTokenHash(token)) return 'the DPoP proof is not for this access token (ath)';
  if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > MAX_JTI_LENGTH) return 'the DPoP proof has no usable jti';

  // Remembered until the proof could no longer pass the iat check above.
  const seen = await replay.remember(`${jkt} ${payload.jti}`, (iat + skewSeconds + 1) * 1000, now.getTime());
  if (seen === 'replay') return 'the DPoP proof was used before (jti replayed)';
  if (seen === 'full') return 'too many DPoP proofs in flight; retry shortly';
  if (seen === 'unavailable') return 'the DPoP proof could not be checked against the proofs already used; retry shortly';
  return undefined;
}

/** The DPoP header values: a proof is one compact JWT, so a comma means several were sent. */
function proofHeaders(value: string | readonly string[] | undefined): string[] {
  const list = value === undefined ? [] : typeof value === 'string' ? [value] : [...value];
  return list
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** RFC 9449 §4.3 htu comparison: scheme, host, port and path; no query, no fragment. */
function targetUri(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    return `${url.origin}${url.pathname}`;
  } catch {
    return undefined;
  }
}

function accessTokenHash(token: string): string {
  return base64url.encode(createHash('sha256').update(token, 'ascii').digest());
}

/** A short reason for a refused access token, from jose's error. */
function tokenFailure(e: unknown): string {
  if (e instanceof errors.JWTExpired) return 'the access token has expired';
  if (e instanceof errors.JWTClaimValidationFailed) {
    switch (e.claim) {
      case 'nbf':
        return 'the access token is not valid yet (nbf)';
      case 'iss':
        return 'the access token is from another issuer';
      case 'aud':
        return 'the access token is for another audience';
      case 'typ':
        return 'the token is not an access token (typ must be at+jwt)';
      default:
        return e.reason === 'missing' ? `the access token has no ${e.claim} claim` : `the access token's ${e.claim} claim is not acceptable`;
    }
  }
  if (e instanceof errors.JOSEAlgNotAllowed) return 'the access token is signed with an algorithm this server does not accept';
  if (e instanceof errors.JWKSNoMatchingKey) return 'no signing key of the issuer matches the access token (kid)';
  if (e instanceof errors.JWKSMultipleMatchingKeys) return 'the access token does not say which signing key it uses (kid)';
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'the access token signature does not verify';
  if (e instanceof errors.JWKSTimeout) return "the issuer's signing keys could not be fetched in time";
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid || e instanceof errors.JOSENotSupported) return 'the access token is malformed';
  if (e instanceof errors.JOSEError || e instanceof KeysUnavailable) return "the issuer's signing keys are unavailable";
  return 'the access token could not be verified';
}

function proofFailure(e: unknown): string {
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'typ') return 'typ must be dpop+jwt';
    return e.reason === 'missing' ? `no ${e.claim} claim` : `bad ${e.claim} claim`;
  }
  if (e instanceof errors.JWTExpired) return 'expired';
  if (e instanceof errors.JOSEAlgNotAllowed) return 'the algorithm is not accepted (asymmetric only)';
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  if (e instanceof errors.JWSInvalid && /public key/.test(e.message)) return 'the embedded jwk must be a public key';
  return 'malformed';
}

/** RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E, so no quotes or backslashes. */
function headerSafe(text: string): string {
  return text.replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '?');
}

/**
 * The WWW-Authenticate value. A DPoP challenge names the proof algorithms it accepts (RFC 9449
 * §7.1); when either scheme would do, both challenges are offered.
 */
function challenge(scheme: Scheme | 'both', params: Record<string, string>, algs: string, requireDPoP: boolean): string {
  const render = (name: Scheme, p: Record<string, string>): string => {
    const all = name === 'DPoP' ? { ...p, algs } : p;
    const list = Object.entries(all).map(([k, v]) => `${k}="${v}"`);
    return list.length === 0 ? name : `${name} ${list.join(', ')}`;
  };
  if (scheme === 'both') {
    const offered: Scheme[] = requireDPoP ? ['DPoP'] : ['Bearer', 'DPoP'];
    return offered.map((s) => render(s, params)).join(', ');
  }
  return render(scheme, params);
}
