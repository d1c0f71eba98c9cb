/**
 * Configuration of the HelseID access-token verifier (verify.ts): the REST (MHD) counterpart of
 * the XUA settings in ../config.ts. HelseID is the health sector's identity service; on the MHD
 * path it issues the OAuth 2.0 access tokens (RFC 9068 JWTs, often DPoP-bound per RFC 9449) that
 * take the place of the SAML assertion.
 *
 * A zod fragment, strict like the rest of the configuration: a misspelt key must stop the start,
 * never silently weaken verification. Nothing here has a default that trusts anybody: issuer,
 * audience and the signing keys must be named.
 */
import { z } from 'zod';

/** The MHD transactions a token is checked for (their scopes are configured per transaction). */
export const HELSEID_TRANSACTIONS = ['ITI-65', 'ITI-66', 'ITI-67', 'ITI-68'] as const;
export type HelseIdTransaction = (typeof HELSEID_TRANSACTIONS)[number];

/**
 * Signature algorithms an access token may use. Asymmetric only: `none` and the HMAC family
 * (HS256 …) are not even expressible, so a configuration cannot open the door to unsigned tokens
 * or to the algorithm-confusion attack (an HS256 token "signed" with the issuer's public key).
 */
/** Most DPoP proofs remembered at once when `dpopReplayCacheSize` is not set. */
export const DEFAULT_DPOP_REPLAY_CACHE_SIZE = 100_000;

export const ACCESS_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;
export type AccessTokenAlgorithm = (typeof ACCESS_TOKEN_ALGORITHMS)[number];

/** RFC 6749 §3.3 scope-token: printable ASCII without space, `"` or `\`. */
const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'expected an OAuth scope (printable ASCII, no spaces)');

/**
 * Scopes that grant one transaction: the token must carry at least one of them. A list rather
 * than one value so that a node can accept both its own API resource and a shared one during a
 * migration; empty is refused, so no transaction is ever open to any token of the audience.
 */
const scopeList = z.array(scopeToken).min(1, 'expected at least one scope');

/**
 * A JWKS URL: https, or plain http on the loopback interface only (tests, a local sidecar). Keys
 * fetched over plain HTTP from elsewhere could be swapped in transit, which would let anyone mint
 * tokens.
 */
const jwksUrl = z
  .url({ protocol: /^https?$/ })
  .refine((value) => {
    const url = new URL(value);
    if (url.protocol === 'https:') return true;
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  }, 'expected an https URL (plain http only on 127.0.0.1, localhost or [::1])');

export const helseIdJwksSchema = z.union([
  z
    .object({
      /** A JWKS JSON file with the issuer's public keys, read once at start. */
      file: z.string().min(1),
    })
    .strict(),
  z
    .object({
      /** The issuer's jwks_uri, e.g. https://helseid-sts.test.nhn.no/.well-known/openid-configuration/jwks. */
      url: jwksUrl,
      /** Abort a key download after this long (the token is then refused). */
      timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
      /**
       * A token with an unknown `kid` triggers a download (HelseID rotates keys), but at most once
       * per cooldown, so a flood of forged kids cannot turn the node into a load generator.
       */
      cooldownSeconds: z.number().int().min(1).max(3_600).default(30),
      /** Downloaded keys are used at most this long before they are fetched again. */
      cacheMaxAgeSeconds: z.number().int().min(1).max(86_400).default(600),
    })
    .strict(),
]);

export const helseIdConfigSchema = z
  .object({
    /** The `iss` every token must carry, exactly, e.g. https://helseid-sts.test.nhn.no (NHN's test STS). */
    issuer: z.string().min(1),
    /**
     * Accepted `aud` values (one or several); a token must name at least one. NHN's document
     * source uses `nhn:phr-repo`; a node registers its own API resource in HelseID.
     */
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    /** Where the issuer's signing keys come from: a pinned file or the issuer's jwks_uri. */
    jwks: helseIdJwksSchema,
    /** Signature algorithms accepted on access tokens. HelseID signs with RS256 today. */
    algorithms: z.array(z.enum(ACCESS_TOKEN_ALGORITHMS)).min(1).default(['RS256', 'PS256', 'ES256']),
    /**
     * Tolerated clock difference, in seconds, for exp / nbf and for the age of a DPoP proof. HelseID
     * access tokens live about a minute, so minutes of skew would double their life.
     */
    clockSkewSeconds: z.number().int().min(0).max(300).default(30),
    /**
     * Refuse tokens that are not DPoP-bound (RFC 9449). Off by default because HelseID still issues
     * Bearer tokens to older clients; NHN's own APIs are phasing Bearer out.
     */
    requireDPoP: z.boolean().default(false),
    /**
     * Most DPoP proof ids (`jti`) remembered to refuse replays. Each is kept only while its proof
     * could still be accepted (2 × clockSkewSeconds); when the cache is full of live entries new
     * proofs are refused rather than an old one forgotten (see docs/helseid.md).
     */
    dpopReplayCacheSize: z.number().int().min(1).max(10_000_000).default(DEFAULT_DPOP_REPLAY_CACHE_SIZE),
    /**
     * The scopes that grant each MHD transaction (any one of the list suffices). The defaults
     * follow NHN's naming for its document-sharing API: `nhn:phr-repo/mhd/create` is what NHN's
     * test token for its document source carries for ITI-65; the read scopes mirror NHN's
     * `nhn:phr/mhd/read-documentreferences` (searches) and `nhn:phr/mhd/read-document` (retrieve)
     * under the same API resource. A node with its own HelseID API resource sets its own.
     */
    scopes: z
      .object({
        /** Provide Document Bundle. */
        'ITI-65': scopeList.default(['nhn:phr-repo/mhd/create']),
        /** Find Document Lists (List / SubmissionSet searches). */
        'ITI-66': scopeList.default(['nhn:phr-repo/mhd/read-documentreferences']),
        /** Find Document References. */
        'ITI-67': scopeList.default(['nhn:phr-repo/mhd/read-documentreferences']),
        /** Retrieve Document. */
        'ITI-68': scopeList.default(['nhn:phr-repo/mhd/read-document']),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type HelseIdConfig = z.infer<typeof helseIdConfigSchema>;
export type HelseIdConfigInput = z.input<typeof helseIdConfigSchema>;
