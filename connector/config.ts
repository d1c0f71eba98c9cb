/**
 * Node configuration: one JSON file plus environment overrides, validated with zod at start.
 *
 * A bad or unknown key stops the start with a message that names it (`registry.queryResultLimit:
 * expected number`), because a connection point that silently ignores a misspelt setting is a
 * connection point that silently runs with the wrong trust or patient-id policy.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { tlsConfigSchema } from './http/config.js';
import { trustConfigSchema } from './trust/config.js';
import { auditConfigSchema } from './audit/config.js';

const oid = z.string().regex(/^[0-2](\.(0|[1-9]\d*))+$/, 'expected an OID such as 2.16.578.1.12.4.1.4.1');
const urnOid = z
  .string()
  .regex(/^urn:oid:[0-2](\.(0|[1-9]\d*))+$/, 'expected urn:oid:<OID>');

/** The quick-start demo community's homeCommunityId (a UUID-derived OID, unique without registration). */
export const DEMO_HOME_COMMUNITY_ID = 'urn:oid:2.25.327228083839797640599768083032891521746';

const endpointPath = z.string().regex(/^\/[A-Za-z0-9/_.-]*$/, 'expected an absolute URL path such as /xds/registry');

export const configSchema = z
  .object({
    /** TCP port of the HTTP listener (PORT overrides). */
    port: z.number().int().min(0).max(65535).default(8080),
    /** Interface to listen on. */
    host: z.string().min(1).default('0.0.0.0'),
    /** Directory of the embedded store (DATA_DIR overrides). */
    dataDir: z.string().min(1).default('./data'),
    /** MongoDB connection string; when set, MongoDB is the store (MONGODB_URI overrides). */
    mongoUri: z.string().min(1).optional(),
    /**
     * This community's homeCommunityId (urn:oid:…), written on query results as `home`. The
     * default is a self-assigned UUID OID (2.25) for the quick-start demo community, so that
     * `npm start` runs every role including the gateways; set your community's real OID.
     */
    homeCommunityId: urnOid.default(DEMO_HOME_COMMUNITY_ID),
    logLevel: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
    /** Log nothing at all (tests). */
    silent: z.boolean().default(false),
    endpoints: z
      .object({
        registry: endpointPath.default('/xds/registry'),
        repository: endpointPath.default('/xds/repository'),
        responding: endpointPath.default('/xca/responding'),
        initiating: endpointPath.default('/xca/initiating'),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        /** Largest accepted HTTP request body, in bytes (documents included). */
        maxRequestBytes: z.number().int().positive().default(100 * 1024 * 1024),
        /** Deepest accepted XML element nesting. */
        maxXmlDepth: z.number().int().min(8).max(10_000).default(200),
      })
      .strict()
      .prefault({}),
    registry: z
      .object({
        /** More stored-query results than this → XDSTooManyResults. */
        queryResultLimit: z.number().int().positive().default(5000),
        /**
         * Parsed registry objects the embedded store keeps in memory between queries (~3.6 KiB
         * per DocumentEntry); unset: the store's default (25,000, ~90 MiB at most); 0: none.
         * The MongoDB store does not cache.
         */
        cacheEntries: z.number().int().min(0).optional(),
        patientIds: z
          .object({
            /**
             * Assigning authorities (OIDs) whose patient ids are all known, beside the Norwegian
             * F-, D- and H-numbers, which are known whenever their check digits are valid.
             */
            acceptedAssigningAuthorities: z.array(oid).default([]),
            /** Individual patient ids (full CX values) that are known. */
            knownPatientIds: z.array(z.string().min(1)).default([]),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    repository: z
      .object({
        /**
         * This repository's uniqueId, written on every DocumentEntry it stores and required in
         * retrieve requests. The default is a fixed UUID-derived OID (2.25, needs no registration)
         * so that a demo node works; a deployment sets its own OID.
         */
        repositoryUniqueId: oid.default('2.25.309237645197082458325426232421537170187'),
        /** Largest single document, in bytes; larger → XDSRepositoryError (the whole request stays under limits.maxRequestBytes). */
        maxDocumentBytes: z.number().int().positive().default(100 * 1024 * 1024),
        /** A remote Document Registry (ITI-42/ITI-18 endpoint URL); without it the node's own registry is used. */
        registryUrl: z.url({ protocol: /^https?$/ }).optional(),
        /** Staged documents never registered are removed after this long (ms). */
        orphanAgeMs: z.number().int().positive().default(60 * 60 * 1000),
      })
      .strict()
      .prefault({}),
    /** Cross-community gateways (ITI-38/39): served only when homeCommunityId is set. */
    gateway: z
      .object({
        /**
         * 'node': a regional node; the responding gateway answers from the local registry and
         * repository, the initiating gateway federates them with the communities below.
         * 'hub': the national hub; both gateways answer by fanning out to the communities below
         * (the requester's own, named by the SAML homeCommunityId attribute, left out).
         */
        mode: z.enum(['node', 'hub']).default('node'),
        /** Most outbound calls in flight at once, over all communities and requests. */
        maxConcurrency: z.number().int().positive().max(10_000).default(64),
        /** Deadline of a call to a community without its own timeoutMs. */
        defaultTimeoutMs: z.number().int().positive().max(600_000).default(10_000),
        /** Largest answer accepted from a community, in bytes. */
        maxResponseBytes: z.number().int().positive().default(100 * 1024 * 1024),
        /** The community directory: homeCommunityId → endpoints, deadline, TLS. */
        communities: z
          .array(
            z
              .object({
                homeCommunityId: z.string().regex(/^(urn:oid:)?[0-2](\.(0|[1-9]\d*))+$/, 'expected an OID, bare or urn:oid:'),
                /** A readable name for logs and the operator. */
                name: z.string().min(1).optional(),
                /** The community's ITI-38 endpoint. */
                queryUrl: z.url({ protocol: /^https?$/ }),
                /** Its ITI-39 endpoint (without one, retrieves to it are refused as XDSUnknownCommunity). */
                retrieveUrl: z.url({ protocol: /^https?$/ }).optional(),
                timeoutMs: z.number().int().positive().max(600_000).optional(),
                /** Communities reachable through this one (a hub): their Get… queries and retrieves go here. */
                serves: z.array(z.string().regex(/^(urn:oid:)?[0-2](\.(0|[1-9]\d*))+$/, 'expected an OID, bare or urn:oid:')).default([]),
                /** TLS towards this community: PEM files; certFile + keyFile for mutual TLS. */
                tls: z
                  .object({
                    caFile: z.string().min(1).optional(),
                    certFile: z.string().min(1).optional(),
                    keyFile: z.string().min(1).optional(),
                    passphrase: z.string().optional(),
                    rejectUnauthorized: z.boolean().default(true),
                    servername: z.string().min(1).optional(),
                  })
                  .strict()
                  .optional(),
              })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .prefault({}),
    /** The listener: HTTPS and mutual TLS per endpoint, or plain HTTP (the default, loudly logged). */
    tls: tlsConfigSchema.prefault({}),
    /** XUA verification, the Norwegian access policy and patient blocks (connector/trust). */
    trust: trustConfigSchema.prefault({}),
    /** Audit: the node's own audit store, the optional syslog ARR and the patient access log (connector/audit). */
    audit: auditConfigSchema,
  })
  .strict();

export type NodeConfig = z.infer<typeof configSchema>;
export type NodeConfigInput = z.input<typeof configSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Validates a configuration object; the error message names every bad key. */
export function parseConfig(input: unknown): NodeConfig {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const path = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') {
        const prefix = path ? `${path}.` : '';
        return `unknown key ${issue.keys.map((k) => `'${prefix}${k}'`).join(', ')}`;
      }
      return `${path || '(root)'}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  return result.data;
}

/** Environment variables that override configuration keys. */
const ENV_OVERRIDES: ReadonlyArray<{ name: string; apply: (cfg: Record<string, unknown>, value: string) => void }> = [
  { name: 'PORT', apply: (c, v) => (c.port = Number.isNaN(Number(v)) ? v : Number(v)) },
  { name: 'HOST', apply: (c, v) => (c.host = v) },
  { name: 'DATA_DIR', apply: (c, v) => (c.dataDir = v) },
  { name: 'MONGODB_URI', apply: (c, v) => (c.mongoUri = v) },
  { name: 'HOME_COMMUNITY_ID', apply: (c, v) => (c.homeCommunityId = v) },
  { name: 'LOG_LEVEL', apply: (c, v) => (c.logLevel = v) },
];

/**
 * Loads the configuration: the JSON file (if given) and then the environment overrides.
 * Empty environment values are ignored so that `PORT= npm start` behaves like no override.
 */
export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): NodeConfig {
  const env = options.env ?? process.env;
  let raw: Record<string, unknown> = {};
  if (options.file) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read configuration file ${options.file}: ${(e as Error).message}`);
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new ConfigError(`configuration file ${options.file} must hold a JSON object`);
      }
      raw = parsed as Record<string, unknown>;
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(`configuration file ${options.file} is not valid JSON: ${(e as Error).message}`);
    }
  }
  for (const o of ENV_OVERRIDES) {
    const v = env[o.name];
    if (v !== undefined && v !== '') o.apply(raw, v);
  }
  return parseConfig(raw);
}
