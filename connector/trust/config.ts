/**
 * Configuration of the trust model: XUA verification (which issuers, which certificates, which
 * audiences, how much clock skew) and the Norwegian access policy (which roles and security levels
 * may see data, the citizen age limits, where patient blocks are stored).
 *
 * A zod fragment for connector/config.ts (`trust: trustConfigSchema`), strict like the rest of
 * the configuration: a misspelt trust key must stop the start, never silently weaken the policy.
 */
import { z } from 'zod';
import { helseIdConfigSchema } from './helseid/config.js';

const positiveAge = z.number().int().min(0).max(150);

export const trustPolicySchema = z
  .object({
    /**
     * Volven 9060 role codes (kategori helsepersonell) allowed to see data. NHN's reference source
     * permits physicians (LE), specialists... (SP) and psychologists (PS) by default.
     */
    roles: z.array(z.string().min(1)).default(['LE', 'SP', 'PS']),
    /** Accepted values of the SecurityLevel attribute (the national trust framework requires 4). */
    securityLevels: z.array(z.string().min(1)).default(['4']),
    /**
     * Issuers whose assertions may claim a citizen purpose of use (ISO 14265 13, PATRQT, FAMRQT,
     * PWATRNY). Empty means any configured issuer; NHN issues citizen tokens from helsenorge only.
     */
    citizenIssuers: z.array(z.string().min(1)).default([]),
    /** From this age a citizen sees their own documents (helserettslig myndighetsalder: 16). */
    citizenOwnAccessAge: positiveAge.default(16),
    /** From this age a citizen's own access is no longer limited to non-restricted documents. */
    citizenAdultAge: positiveAge.default(18),
    /** Below this age a parent (acp …7.2.1.1) may see a child's documents. */
    parentalAccessBelowAge: positiveAge.default(12),
    /**
     * Who may remove documents from the repository (ITI-86) besides the organisation that authored
     * them: principals of these organisations (org.nr of the assertion's organization-id) or with
     * these Volven 9060 roles may remove any document. Empty by default: then only a principal of
     * the authoring organisation (an authorInstitution of the DocumentEntry, while the registry
     * still holds it) may remove a document.
     */
    documentAdministration: z
      .object({
        organizations: z.array(z.string().regex(/^\d{9}$/, 'expected an organisation number (org.nr) of 9 digits')).default([]),
        roles: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const trustConfigSchema = z
  .object({
    /** Require and verify an XUA assertion on every SOAP request that reads or writes data. */
    enabled: z.boolean().default(false),
    /**
     * The endpoints on which, when `enabled`, a credential is required and the access policy
     * applied (default: all of them): an XUA assertion on the four SOAP endpoints, a HelseID access
     * token (`helseid` below) on `fhir`, the MHD endpoint. An endpoint left out is served without
     * either, which start-up logs as a warning: e.g. a registry reached only by the node's own
     * repository. With `fhir` listed and no `helseid` configured, the MHD endpoint is not served at
     * all (logged): it could only be open or refuse everything.
     */
    endpoints: z
      .array(z.enum(['registry', 'repository', 'responding', 'initiating', 'fhir']))
      .default(['registry', 'repository', 'responding', 'initiating', 'fhir']),
    /**
     * Verification of HelseID access tokens on the MHD endpoint (docs/helseid.md): issuer,
     * audience, keys, DPoP, scopes per transaction. Used while `enabled` and `fhir` is among the
     * `endpoints`.
     */
    helseid: helseIdConfigSchema.optional(),
    /**
     * PEM files with the issuers' signing certificates. Only these verify signatures: the
     * certificate an assertion carries in its KeyInfo is never trusted.
     */
    pinnedIssuerCertificates: z.array(z.string().min(1)).default([]),
    /** Accepted saml:Issuer values, e.g. https://helseid-xdssaml.test.nhn.no, sikkerhet.helsenorge.no. */
    issuers: z.array(z.string().min(1)).default([]),
    /** Accepted saml:Audience values, e.g. nhn:dokumentdeling-saml. */
    audiences: z.array(z.string().min(1)).default([]),
    /** Tolerated clock difference for NotBefore / NotOnOrAfter and wsu:Timestamp, in seconds. */
    clockSkewSeconds: z.number().int().min(0).max(3600).default(300),
    /** Accept RSA-SHA1 signatures and SHA-1 digests (off: SHA-1 collisions are practical). */
    allowSha1: z.boolean().default(false),
    /** Refuse a wsse:Security header without wsu:Timestamp (IHE XUA does not require one). */
    requireTimestamp: z.boolean().default(false),
    /** Most verified assertions remembered (by ID and exact bytes) until they expire. */
    cacheSize: z.number().int().min(0).max(1_000_000).default(10_000),
    policy: trustPolicySchema.prefault({}),
    /** File of the embedded patient-block store (default: <dataDir>/patient-blocks.sqlite). */
    patientBlocksFile: z.string().min(1).optional(),
    /**
     * The patient-block admin API (blocks-api.ts): mounted only when a token is configured. The
     * token is compared in constant time; 32 characters at least, so it cannot be guessed.
     */
    blocksApi: z
      .object({
        token: z.string().min(32, 'expected a token of at least 32 characters').optional(),
        path: z.string().regex(/^\/[A-Za-z0-9/_.-]*$/, 'expected an absolute URL path').default('/admin/patient-blocks'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((v, ctx) => {
    // Turning verification on without anything to verify against would refuse every request
    // (or, worse, tempt someone to relax the checks): say so at start.
    if (!v.enabled) return;
    if (v.pinnedIssuerCertificates.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['pinnedIssuerCertificates'], message: 'at least one certificate is required when trust.enabled is true' });
    }
    if (v.issuers.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['issuers'], message: 'at least one issuer is required when trust.enabled is true' });
    }
    if (v.audiences.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['audiences'], message: 'at least one audience is required when trust.enabled is true' });
    }
  });

export type TrustConfig = z.infer<typeof trustConfigSchema>;
export type TrustConfigInput = z.input<typeof trustConfigSchema>;
export type TrustPolicyConfig = z.infer<typeof trustPolicySchema> & {
  /**
   * Accept synthetic F- and D-numbers (Tenor test persons, month + 80) as user and patient ids
   * (ATT-10). Not a key of `trust.policy`: it is registry.patientIds.acceptSyntheticNorwegianIds,
   * the one setting the registry obeys too (connector/transactions/services.ts).
   */
  readonly acceptSyntheticIds: boolean;
};
