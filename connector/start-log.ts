/**
 * What a node tells its operator when it has started: one log line per fact, its message text
 * readable by a person (`listening on http://0.0.0.0:8080 (all interfaces): …`) and the same fact
 * in the line's fields for log shippers. The lines are built by a pure function (`startLines`), so
 * tests can check them without a listener, and logged by `logStart`.
 *
 * The facts are what an operator checks first when something is wrong: where it really listens,
 * which file it read, which identities it uses (and whether those are the demo defaults), what it
 * serves where, where it keeps its data, and whether TLS and the trust model are on.
 */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { isIPv6 } from 'node:net';
import type winston from 'winston';
import { DEMO_HOME_COMMUNITY_ID, DEMO_REPOSITORY_UNIQUE_ID, maskSecrets, type NodeConfig } from './config.js';

export interface StartLine {
  readonly level: 'info' | 'warn';
  readonly message: string;
  readonly meta: Record<string, unknown>;
}

/** Where the configuration came from (known to `npm start`, not to a program calling startNode). */
export interface ConfigOrigin {
  /** The configuration file read, absent when none was. */
  readonly file?: string | undefined;
  /** The environment variables that overrode configuration keys. */
  readonly environment: readonly string[];
}

export interface StartFacts {
  readonly config: NodeConfig;
  /** The port really bound (differs from config.port when that was 0). */
  readonly port: number;
  readonly scheme: 'http' | 'https';
  /** The data directory, absolute. */
  readonly dataDir: string;
  /** Whether the XCA gateway endpoints are mounted. */
  readonly gateways: boolean;
  readonly origin?: ConfigOrigin | undefined;
  /** The machine's interfaces (os.networkInterfaces(); tests pass their own). */
  readonly interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** How long loading the FHIR R4 definitions took at start (absent when the MHD endpoint is not served). */
  readonly fhirDefinitionsMs?: number | undefined;
}

/** Logs the start lines, in order. */
export function logStart(logger: winston.Logger, facts: StartFacts): void {
  for (const line of startLines(facts)) logger.log(line.level, line.message, line.meta);
}

export function startLines(facts: StartFacts): StartLine[] {
  return [
    listeningLine(facts),
    ...originLines(facts.origin),
    ...identityLines(facts.config),
    storeLine(facts),
    ...endpointLines(facts),
    ...fhirLines(facts),
    tlsLine(facts.config),
    trustLine(facts.config),
    ...demoWarnings(facts.config),
  ];
}

const info = (message: string, meta: Record<string, unknown> = {}): StartLine => ({ level: 'info', message, meta });
const warn = (message: string, meta: Record<string, unknown> = {}): StartLine => ({ level: 'warn', message, meta });

/** A URL's origin for a host (IPv6 literals in brackets). */
export function originUrl(scheme: string, host: string, port: number): string {
  return `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/**
 * The bound address and, for a wildcard address (0.0.0.0, ::), the addresses a client can use: a
 * wildcard itself is not one, and printing 127.0.0.1 instead hides that the node is reachable from
 * the network.
 */
export function listeningLine(facts: Pick<StartFacts, 'config' | 'port' | 'scheme' | 'interfaces'>): StartLine {
  const { config, port, scheme } = facts;
  const url = originUrl(scheme, config.host, port);
  const families = wildcardFamilies(config.host);
  if (!families) return info(`listening on ${url}`, { url, port });
  const addresses = interfaceAddresses(facts.interfaces ?? networkInterfaces(), families).map((a) => originUrl(scheme, a, port));
  const which = families.includes('IPv6') ? 'all interfaces, IPv6 and IPv4' : 'all IPv4 interfaces';
  const list = addresses.length > 0 ? `: ${addresses.join(', ')}` : '';
  return info(`listening on ${url} (${which})${list}`, { url, port, addresses });
}

/** The address families a wildcard host accepts (Node listens dual-stack on ::), or undefined. */
function wildcardFamilies(host: string): readonly string[] | undefined {
  if (host === '0.0.0.0') return ['IPv4'];
  if (host === '::' || host === '[::]') return ['IPv4', 'IPv6'];
  return undefined;
}

/** The interfaces' addresses of the given families, loopback first; IPv6 link-local ones need a zone and are left out. */
function interfaceAddresses(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>, families: readonly string[]): string[] {
  const all = Object.values(interfaces).flatMap((list) => list ?? []);
  const usable = all.filter((a) => families.includes(a.family) && !(a.family === 'IPv6' && /^fe80:/i.test(a.address)));
  const rank = (a: NetworkInterfaceInfo): number => (a.internal ? 0 : 1) * 2 + (a.family === 'IPv4' ? 0 : 1);
  return [...new Set(usable.sort((a, b) => rank(a) - rank(b)).map((a) => a.address))];
}

function originLines(origin: ConfigOrigin | undefined): StartLine[] {
  if (!origin) return [];
  const file = origin.file
    ? info(`configuration file: ${origin.file}`, { configFile: origin.file })
    : info('configuration file: none: defaults and environment', { configFile: null });
  const env = origin.environment.length > 0 ? origin.environment.join(', ') : 'none';
  return [file, info(`environment overrides: ${env}`, { environment: origin.environment })];
}

function identityLines(config: NodeConfig): StartLine[] {
  const home = config.homeCommunityId;
  const repo = config.repository.repositoryUniqueId;
  const demo = (isDemo: boolean): string => (isDemo ? ' (demo default)' : '');
  return [
    info(`homeCommunityId: ${home}${demo(isDemoHome(home))}`, { homeCommunityId: home, demo: isDemoHome(home) }),
    info(`repositoryUniqueId: ${repo}${demo(repo === DEMO_REPOSITORY_UNIQUE_ID)}`, {
      repositoryUniqueId: repo,
      demo: repo === DEMO_REPOSITORY_UNIQUE_ID,
    }),
  ];
}

function isDemoHome(home: string | undefined): boolean {
  return home === DEMO_HOME_COMMUNITY_ID;
}

/** Where the node keeps its data; a MongoDB password never reaches the log. */
function storeLine({ config, dataDir }: StartFacts): StartLine {
  if (!config.mongoUri) {
    return info(`store: embedded (SQLite and files) in ${dataDir}`, { store: 'embedded', dataDir });
  }
  const uri = maskSecrets(config.mongoUri);
  // The audit queue (and the patient blocks, when used) stay in the data directory.
  return info(`store: MongoDB at ${uri}; audit queue in ${dataDir}`, { store: 'mongodb', mongoUri: uri, dataDir });
}

/** One line per mounted path, saying which IHE role it plays: what node.ts mounts, in its order. */
function endpointLines({ config, gateways }: StartFacts): StartLine[] {
  const e = config.endpoints;
  const line = (path: string, role: string): StartLine => info(`endpoint ${path}: ${role}`, { path, role });
  const registryTarget = config.repository.registryUrl
    ? `the registry at ${maskSecrets(config.repository.registryUrl)}`
    : "this node's registry";
  const lines = [
    line('/health', 'readiness (200 once started)'),
    line(e.registry, 'Document Registry (ITI-42 register, ITI-18 stored query, ITI-57 update, ITI-62 delete, ITI-92 restricted update)'),
    line(e.repository, `Document Repository (ITI-41 provide and register, ITI-43 retrieve, ITI-86 remove), registering with ${registryTarget}`),
  ];
  if (gateways) lines.push(...gatewayLines(config, line));
  if (config.trust.blocksApi.token !== undefined) lines.push(line(config.trust.blocksApi.path, 'patient-block admin API (bearer token)'));
  if (config.audit.accessLog.token !== undefined) lines.push(line(config.audit.accessLog.path, 'patient access log API (bearer token)'));
  if (config.admin.token !== undefined) lines.push(line(config.admin.path, 'operator page (bearer token)'));
  // Always served; said apart from the IHE endpoints ('metrics endpoint …'), and loudly when open to anyone.
  const metricsRole = config.metrics.token !== undefined ? 'Prometheus metrics (bearer token)' : 'Prometheus metrics, OPEN to anyone who can reach the port (set metrics.token)';
  lines.push(info(`metrics endpoint ${config.metrics.path}: ${metricsRole}`, { path: config.metrics.path, role: metricsRole }));
  return lines;
}

/**
 * The MHD endpoint, said apart from the SOAP endpoints ('MHD endpoint …', as the metrics line is):
 * what it serves, whether a HelseID token is required, and loudly when trust is on for it but
 * nothing could verify a token, so that it is not served.
 */
function fhirLines({ config, fhirDefinitionsMs }: StartFacts): StartLine[] {
  const fhir = config.fhir;
  if (!fhir.enabled) return [info('MHD endpoint: off (fhir.enabled is false)', { fhir: false })];
  const trust = config.trust;
  const guarded = trust.enabled && trust.endpoints.includes('fhir');
  const meta = { path: fhir.path, fhir: true };
  if (guarded && trust.helseid === undefined) {
    return [
      warn(`MHD endpoint ${fhir.path}: NOT served: the trust model is on for fhir, but trust.helseid is not configured to verify access tokens (configure it, leave fhir out of trust.endpoints, or set fhir.enabled false)`, {
        ...meta,
        served: false,
      }),
    ];
  }
  const access = guarded
    ? `HelseID access token required (issuer ${trust.helseid!.issuer})`
    : trust.enabled
      ? 'OPEN: no access token verified, no access policy (fhir is not in trust.endpoints)'
      : 'no access token (trust model off)';
  const loaded = fhirDefinitionsMs !== undefined ? `; FHIR R4 definitions loaded in ${Math.round(fhirDefinitionsMs)} ms` : '';
  const role = `IHE MHD Document Recipient and Responder (ITI-65, ITI-66, ITI-67, ITI-68), FHIR R4 JSON; ${access}${loaded}`;
  return [info(`MHD endpoint ${fhir.path}: ${role}`, { ...meta, role, tokenRequired: guarded, ...(fhirDefinitionsMs !== undefined ? { fhirDefinitionsMs: Math.round(fhirDefinitionsMs) } : {}) })];
}

function gatewayLines(config: NodeConfig, line: (path: string, role: string) => StartLine): StartLine[] {
  const n = config.gateway.communities.length;
  const communities = n === 1 ? '1 configured community' : `${n} configured communities`;
  if (config.gateway.mode === 'hub') {
    return [
      line(config.endpoints.responding, `XCA Responding Gateway, hub mode (ITI-38, ITI-39), fanned out to ${communities}`),
      line(config.endpoints.initiating, `XCA Initiating Gateway, hub mode (ITI-18, ITI-43 federated) over ${communities}`),
    ];
  }
  // The node itself is always one of the initiating gateway's communities.
  const over = n === 0 ? 'over this node only (gateway.communities is empty)' : `over this node and ${communities}`;
  return [
    line(config.endpoints.responding, "XCA Responding Gateway (ITI-38, ITI-39, ITI-92 into this node's registry), answering from this node's registry and repository"),
    line(config.endpoints.initiating, `XCA Initiating Gateway (ITI-18, ITI-43 federated) ${over}`),
  ];
}

function tlsLine(config: NodeConfig): StartLine {
  const tls = config.tls;
  if (!tls.enabled) return info('TLS: off (plain HTTP)', { tls: false });
  const modes = Object.entries(tls.clientCertificates).map(([endpoint, mode]) => `${endpoint} ${mode}`);
  return info(`TLS: on (${tls.minVersion} or newer); client certificates: ${modes.join(', ')}`, {
    tls: true,
    clientCertificates: tls.clientCertificates,
  });
}

function trustLine(config: NodeConfig): StartLine {
  const trust = config.trust;
  if (!trust.enabled) return info('trust model: off (no XUA verification, no access policy; set trust.enabled)', { trust: false });
  const soap = trust.endpoints.filter((e) => e !== 'fhir');
  const credentials = trust.endpoints.includes('fhir') ? `XUA verified on ${soap.join(', ') || 'no SOAP endpoint'}, HelseID tokens on fhir` : 'XUA verified';
  return info(`trust model: on (${credentials}; the access policy applied on ${trust.endpoints.join(', ')})`, {
    trust: true,
    endpoints: trust.endpoints,
  });
}

/** A node on the demo identities must not join a real network: say which key to set. */
function demoWarnings(config: NodeConfig): StartLine[] {
  const warnings: StartLine[] = [];
  if (isDemoHome(config.homeCommunityId)) {
    warnings.push(
      warn(
        `homeCommunityId is the quick-start demo default ${DEMO_HOME_COMMUNITY_ID}: set homeCommunityId ` +
          "in the configuration file (or HOME_COMMUNITY_ID) to your community's OID before this node joins a network",
        { key: 'homeCommunityId', environment: 'HOME_COMMUNITY_ID' },
      ),
    );
  }
  if (config.repository.repositoryUniqueId === DEMO_REPOSITORY_UNIQUE_ID) {
    warnings.push(
      warn(
        `repositoryUniqueId is the quick-start demo default ${DEMO_REPOSITORY_UNIQUE_ID}: set ` +
          "repository.repositoryUniqueId in the configuration file to this repository's OID before this node joins a network",
        { key: 'repository.repositoryUniqueId' },
      ),
    );
  }
  return warnings;
}
