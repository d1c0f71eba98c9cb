/**
 * Node configuration: one JSON file plus environment overrides, validated with zod at start.
 *
 * A bad or unknown key stops the start with a message that names it (`registry.queryResultLimit:
 * expected number`), because a connection point that silently ignores a misspelt setting is a
 * connection point that silently runs with the wrong trust or patient-id policy. A bad value set
 * through the environment is named by its variable (`PORT (overrides port): expected an integer
 * 0–65535, got "abc"`), since that is what the operator typed.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  DEFAULT_MAX_ATTRIBUTES,
  DEFAULT_MAX_ATTRIBUTES_PER_ELEMENT,
  DEFAULT_MAX_ELEMENTS,
  DEFAULT_MAX_NAMESPACE_DECLARATIONS,
  DEFAULT_MAX_NAMESPACE_DECLARATIONS_PER_ELEMENT,
} from '../registry/xml/parse.js';
import { httpConfigSchema, tlsConfigSchema } from './http/config.js';
import { trustConfigSchema } from './trust/config.js';
import { auditConfigSchema } from './audit/config.js';

const oid = z.string().regex(/^[0-2](\.(0|[1-9]\d*))+$/, 'expected an OID such as 2.16.578.1.12.4.1.4.1');
const urnOid = z
  .string()
  .regex(/^urn:oid:[0-2](\.(0|[1-9]\d*))+$/, 'expected urn:oid:<OID>');

/** The quick-start demo community's homeCommunityId (a UUID-derived OID, unique without registration). */
export const DEMO_HOME_COMMUNITY_ID = 'urn:oid:2.25.327228083839797640599768083032891521746';

/** The quick-start demo repository's uniqueId (a UUID-derived OID, as above). */
export const DEMO_REPOSITORY_UNIQUE_ID = '2.25.309237645197082458325426232421537170187';

/** winston's levels, most severe first. */
const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

const endpointPath = z.string().regex(/^\/[A-Za-z0-9/_.-]*$/, 'expected an absolute URL path such as /xds/registry');

export const configSchema = z
  .object({
    /** TCP port of the HTTP listener (PORT overrides). */
    port: z.number().int().min(0).max(65535).default(8080),
    /** Interface to listen on. */
    host: z.string().min(1).default('0.0.0.0'),
    /**
     * Processes serving requests (KOBLINGSPUNKT_PROCESSES overrides): 1 (the default) is one
     * process, as always; N > 1 or "auto" (the cores available) runs a primary that decides every
     * registry write and N workers sharing the port, each reading the store (connector/cluster).
     */
    processes: z.union([z.number().int().min(1).max(256), z.literal('auto')]).default(1),
    /** Directory of the embedded store (DATA_DIR overrides). */
    dataDir: z.string().min(1).default('./data'),
    /** MongoDB connection string; when set, MongoDB is the store (MONGODB_URI overrides). */
    mongoUri: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\/./, 'expected a mongodb:// or mongodb+srv:// connection string')
      .optional(),
    /**
     * This community's homeCommunityId (urn:oid:…): written as `home` on query results and
     * retrieved documents, the responding gateway's own community, and the audit node id when
     * audit.nodeId is unset. It always has a value: the default is a self-assigned UUID OID (2.25)
     * for the quick-start demo community, so that `npm start` runs every role including the
     * gateways, and the start log warns while it is in use. Set your community's real OID.
     */
    homeCommunityId: urnOid.default(DEMO_HOME_COMMUNITY_ID),
    logLevel: z.enum(LOG_LEVELS).default('info'),
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
        /**
         * Counts a SOAP envelope may not exceed, so that time and memory stay bounded whatever the
         * shape of the XML (registry/xml/parse.ts): beyond them the request is a Sender fault.
         */
        xml: z
          .object({
            maxElements: z.number().int().min(1_000).default(DEFAULT_MAX_ELEMENTS),
            maxAttributesPerElement: z.number().int().min(16).default(DEFAULT_MAX_ATTRIBUTES_PER_ELEMENT),
            maxAttributes: z.number().int().min(1_000).default(DEFAULT_MAX_ATTRIBUTES),
            maxNamespaceDeclarationsPerElement: z.number().int().min(8).default(DEFAULT_MAX_NAMESPACE_DECLARATIONS_PER_ELEMENT),
            maxNamespaceDeclarations: z.number().int().min(100).default(DEFAULT_MAX_NAMESPACE_DECLARATIONS),
          })
          .strict()
          .prefault({}),
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
            /**
             * Test environments only: accept the synthetic fødselsnumre and D-numbers of the
             * national test register (Tenor: month + 80) as patients of the registry AND as user and
             * patient ids of the trust policy (ATT-10, blocks). One setting for both, so the two can
             * never disagree. Production must leave it off: such ids are no real person.
             */
            acceptSyntheticNorwegianIds: z.boolean().default(false),
          })
          .strict()
          .prefault({}),
        /**
         * ITI-51 Multi-Patient Stored Query at the registry endpoint. Off by default: its answers
         * cross patients, which the single-patient trust model does not foresee. Off, the action is
         * not offered (wsa:ActionNotSupported). On with trust enabled for the registry endpoint,
         * only principals whose organisation or role is listed in `allowed` may run it; on without
         * trust, anyone may, as everything else on such a node.
         */
        multiPatientQuery: z
          .object({
            enabled: z.boolean().default(false),
            allowed: z
              .object({
                /** Organisation numbers (org.nr, the assertion's organization-id). */
                organizations: z.array(z.string().regex(/^\d{9}$/, 'expected an organisation number (9 digits)')).default([]),
                /** Role codes of Volven 9060 (kategori helsepersonell), e.g. LE. */
                roles: z.array(z.string().regex(/^\S+$/, 'expected a role code of Volven 9060 such as LE')).default([]),
              })
              .strict()
              .prefault({}),
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
         * so that a demo node works (the start log warns while it is in use); a deployment sets its own OID.
         */
        repositoryUniqueId: oid.default(DEMO_REPOSITORY_UNIQUE_ID),
        /** Largest single document, in bytes; larger → XDSRepositoryError (the whole request stays under limits.maxRequestBytes). */
        maxDocumentBytes: z.number().int().positive().default(100 * 1024 * 1024),
        /** A remote Document Registry (ITI-42/ITI-18 endpoint URL); without it the node's own registry is used. */
        registryUrl: z.url({ protocol: /^https?$/ }).optional(),
        /** Staged documents never registered are removed after this long (ms). */
        orphanAgeMs: z.number().int().positive().default(60 * 60 * 1000),
        /**
         * Embedded store (no MongoDB): documents of at most this many bytes are kept in one SQLite
         * file (<dataDir>/documents/small-blobs.sqlite) whose writes concurrent uploads share,
         * instead of a file each; 0 keeps every document as a file. Either way existing documents
         * stay readable. Ignored with GridFS.
         */
        smallDocumentBytes: z.number().int().min(0).max(1024 * 1024).default(64 * 1024),
      })
      .strict()
      .prefault({}),
    /**
     * Cross-community gateways (ITI-38/39 and federated ITI-18/43): always served, on
     * endpoints.responding and endpoints.initiating, as the community homeCommunityId names.
     */
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
    /**
     * The IHE MHD endpoint (connector/fhir): Document Responder and Document Recipient in FHIR R4
     * JSON in front of the same registry and repository (ITI-65 provide, ITI-66 / ITI-67 search,
     * ITI-68 retrieve), under the same access policy and audit as the SOAP endpoints; with the
     * trust model on, every request needs a HelseID access token (trust.helseid).
     */
    fhir: z
      .object({
        /** Served unless false. It costs ~1.5 s of start time and ~100 MB while the FHIR R4 definitions are read (once). */
        enabled: z.boolean().default(true),
        /** Base path of the FHIR endpoint. */
        path: endpointPath.default('/fhir'),
        /**
         * The endpoint's URL as clients address it (scheme, host, port, path: e.g.
         * https://kp.example.no/fhir behind a TLS-terminating proxy): the base of the URLs the
         * answers carry (fullUrl, attachment.url) and the URL a DPoP proof's htu is checked
         * against. Default: built from the request (its scheme and Host header).
         */
        publicBaseUrl: z
          .url({ protocol: /^https?$/ })
          .refine((u) => !/[?#]/.test(u), 'expected a base URL without query or fragment')
          .optional(),
        /**
         * The languageCode of a DocumentReference provided without attachment.language (XDS
         * requires one; NHN's sample Bundle has none). The transaction-response says when it was
         * used. `false`: no default, such a Bundle is refused as the registry refuses it
         * (XDSRegistryMetadataError).
         */
        defaultLanguageCode: z
          .union([z.string().regex(/^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/, 'expected a language tag (BCP 47) such as nb-NO, or false'), z.literal(false)])
          .default('nb-NO'),
        /**
         * Largest request body (a Provide Document Bundle with its documents in base64, or a
         * search form), in bytes: more is refused with 413 before it is read. A FHIR JSON body is
         * held in memory whole (there is no streaming for JSON), so this is lower than
         * limits.maxRequestBytes; large documents go better through ITI-41 with MTOM. Also the
         * largest document answered as a FHIR Binary resource (ITI-68 with Accept: application/fhir+json).
         */
        maxRequestBytes: z.number().int().min(1024).default(32 * 1024 * 1024),
        /** Deepest JSON nesting accepted in a request (FHIR resources stay well under 30). */
        maxJsonDepth: z.number().int().min(16).max(1000).default(100),
        /**
         * Most entries in an ITI-65 Bundle; more is refused with 413 before any entry is validated.
         * Validation costs ~90 µs per entry on the event loop (R4 structure and the MHD rules), so
         * without a bound a 9 MB Bundle of 100,000 empty entries held the node for 9 s. A
         * submission of a few hundred documents stays far below.
         */
        maxBundleEntries: z.number().int().min(1).default(2000),
      })
      .strict()
      .prefault({}),
    /** The listener: HTTPS and mutual TLS per endpoint, or plain HTTP (the default, loudly logged). */
    tls: tlsConfigSchema.prefault({}),
    /** Deadlines for headers and bodies, and the memory budget of request bodies (connector/http). */
    http: httpConfigSchema.prefault({}),
    /** XUA verification, the Norwegian access policy and patient blocks (connector/trust). */
    trust: trustConfigSchema.prefault({}),
    /** Audit: the node's own audit store, the optional syslog ARR and the patient access log (connector/audit). */
    audit: auditConfigSchema,
    /**
     * The operator page (connector/admin): roles, masked configuration, communities, request
     * rates and the audit trail, for the people who run the node. Served on `path` only while a
     * token is set: the page reveals who accessed which patient's records.
     */
    admin: z
      .object({
        /** Bearer token the page's JSON API requires (the login form asks for it). */
        token: z.string().min(32, 'expected a token of at least 32 characters').optional(),
        path: endpointPath.default('/admin'),
      })
      .strict()
      .prefault({}),
    /**
     * Prometheus exposition (connector/metrics), always served on `path`. With `token` a scrape
     * needs it as a bearer token; without one the endpoint is open (the start log says so).
     */
    metrics: z
      .object({
        path: endpointPath.default('/metrics'),
        token: z.string().min(32, 'expected a token of at least 32 characters').optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type NodeConfig = z.infer<typeof configSchema>;
/** `registry.multiPatientQuery`: whether ITI-51 is offered, and to whom under the trust model. */
export type MultiPatientQueryConfig = NodeConfig['registry']['multiPatientQuery'];
/** `fhir`: the MHD endpoint. */
export type FhirConfig = NodeConfig['fhir'];
export type NodeConfigInput = z.input<typeof configSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Validates a configuration object; the error message names every bad key. */
export function parseConfig(input: unknown): NodeConfig {
  return parseWithSources(input, new Map());
}

/**
 * Validates, naming a value that came from the environment by its variable: the operator set
 * `PORT=abc`, so the message says PORT, not `port: expected number, received string`.
 */
function parseWithSources(input: unknown, fromEnvironment: ReadonlyMap<string, AppliedOverride>): NodeConfig {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const path = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') {
      const prefix = path ? `${path}.` : '';
      return `unknown key ${issue.keys.map((k) => `'${prefix}${k}'`).join(', ')}`;
    }
    const applied = fromEnvironment.get(path);
    if (applied) return describeBadOverride(applied);
    return `${path || '(root)'}: ${issue.message}`;
  });
  // One bad value can raise several issues (type and range); the operator needs it named once.
  throw new ConfigError(`invalid configuration: ${[...new Set(lines)].join('; ')}`);
}

/**
 * An environment variable that overrides one configuration key. `expected` says in the operator's
 * terms what the variable must hold; `convert` turns the text into the key's type where that is
 * not text (anything it cannot convert is passed on as text, and refused by the schema).
 */
interface EnvOverride {
  readonly name: string;
  /** The top-level configuration key it overrides. */
  readonly key: string;
  readonly expected: string;
  readonly convert?: (value: string) => unknown;
  /** How the refused value is shown (a connection string may carry a password). */
  readonly show?: (value: string) => string;
}

interface AppliedOverride {
  readonly override: EnvOverride;
  readonly value: string;
}

/** Environment variables that override configuration keys. */
const ENV_OVERRIDES: readonly EnvOverride[] = [
  // Digits only: Number() would also take "1e3", "0x50" and " 80 ".
  { name: 'PORT', key: 'port', expected: 'an integer 0–65535', convert: (v) => (/^\d{1,6}$/.test(v) ? Number(v) : v) },
  { name: 'HOST', key: 'host', expected: 'an interface address or host name' },
  {
    name: 'KOBLINGSPUNKT_PROCESSES',
    key: 'processes',
    expected: 'an integer 1–256 or auto',
    convert: (v) => (/^\d{1,4}$/.test(v) ? Number(v) : v),
  },
  { name: 'DATA_DIR', key: 'dataDir', expected: 'a directory path' },
  { name: 'MONGODB_URI', key: 'mongoUri', expected: 'a mongodb:// or mongodb+srv:// connection string', show: maskSecrets },
  { name: 'HOME_COMMUNITY_ID', key: 'homeCommunityId', expected: 'urn:oid:<OID>, e.g. urn:oid:2.16.578.1.12.4.5.100.1' },
  { name: 'LOG_LEVEL', key: 'logLevel', expected: `one of ${LOG_LEVELS.join(', ')}` },
];

function describeBadOverride({ override, value }: AppliedOverride): string {
  const shown = override.show ? override.show(value) : value;
  return `${override.name} (overrides ${override.key}): expected ${override.expected}, got ${JSON.stringify(shown)}`;
}

/** The environment overrides that are set (empty values do not count), in a fixed order. */
export function environmentOverrides(env: NodeJS.ProcessEnv = process.env): string[] {
  return ENV_OVERRIDES.filter((o) => env[o.name] !== undefined && env[o.name] !== '').map((o) => o.name);
}

/**
 * A connection string fit for a log line or an error message: the password of its user info and
 * the values of options that hold secrets are replaced by ****. Text, not URL parsing: a MongoDB
 * string may list several hosts, which WHATWG URLs refuse. The password runs to the authority's
 * last @, so that an unencoded @ in it (invalid, but typed) does not leave its tail visible.
 */
export function maskSecrets(uri: string): string {
  return uri
    .replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^:@/?#]*):[^/?#]*@/, '$1:****@')
    .replace(/([?&][^=&#]*(?:password|secret|token)[^=&#]*=)[^&#]*/gi, '$1****');
}

/** Where `loadConfig` finds its input. */
export interface ConfigSource {
  /** A JSON configuration file. */
  readonly file?: string;
  /** Where the file's name came from, for messages (`--config`, `KOBLINGSPUNKT_CONFIG`). */
  readonly fileFrom?: string;
  /** The environment whose overrides apply (process.env when absent). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Loads the configuration: the JSON file (if given) and then the environment overrides.
 * Empty environment values are ignored so that `PORT= npm start` behaves like no override.
 */
export function loadConfig(options: ConfigSource = {}): NodeConfig {
  const raw = options.file ? readConfigFile(options.file, options.fileFrom) : {};
  const applied = applyEnvironment(raw, options.env ?? process.env);
  return parseWithSources(raw, applied);
}

function readConfigFile(file: string, from: string | undefined): Record<string, unknown> {
  const named = from ? `${file} (${from})` : file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read configuration file ${named}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`configuration file ${named} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`configuration file ${named} must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** Writes the set overrides over `raw`; returns them by key, so that a refused value is named by its variable. */
function applyEnvironment(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Map<string, AppliedOverride> {
  const applied = new Map<string, AppliedOverride>();
  for (const override of ENV_OVERRIDES) {
    const value = env[override.name];
    if (value === undefined || value === '') continue;
    raw[override.key] = override.convert ? override.convert(value) : value;
    applied.set(override.key, { override, value });
  }
  return applied;
}
