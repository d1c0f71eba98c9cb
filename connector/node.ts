/**
 * A koblingspunkt node: the express app with one SOAP endpoint per actor, over one store.
 *
 * `startNode` is what `npm start`, the tests, the conformance runner and the demo network use, so
 * that every one of them exercises the same wiring over real HTTP. A node of several processes
 * (`processes` > 1, connector/cluster) runs it in each worker with a `WorkerRole`: the same wiring,
 * except that registry writes go to the primary, which also recovers and sweeps the repository.
 */
import type { Server, ServerResponse } from 'node:http';
import express from 'express';
import type winston from 'winston';
import { DocumentRegistry } from '../registry/registry.js';
import { createPatientIdPolicy } from '../registry/patients.js';
import { openRegistryStore } from '../registry/store/open.js';
import type { RegistryStore } from '../registry/store/store.js';
import type { NodeConfig } from './config.js';
import { createLogger } from './log.js';
import { soapEndpoint } from './soap/endpoint.js';
import { createGateways, type Gateways } from './gateway/wiring.js';
import { NS } from '../registry/xml/namespaces.js';
import { respondingTransactions } from './transactions/responding.js';
import { initiatingTransactions } from './transactions/initiating.js';
import { registryTransactions } from './transactions/registry.js';
import { openBlobStore } from '../repository/blob/index.js';
import { inProcessRegistry, type RegistryPort } from '../repository/registry-port.js';
import { DocumentRepository } from '../repository/repository.js';
import { remoteRegistry } from './clients/registry-client.js';
import { repositoryTransactions } from './transactions/repository.js';
import { blobSpooler } from './transactions/spool.js';
import { wsdlPath } from './transactions/wsdl.js';
import { join } from 'node:path';
import { clientCertificateGuard, listen, refuseWithJson, type BufferBudget } from './http/index.js';
import { finalAnswer } from './http/final-answer.js';
import { directRoutes, type DirectRoute, type RoutedHandler, type RoutedRequest } from './http/direct-routes.js';
import type { TlsEndpoint } from './http/config.js';
import { SqlitePatientBlockStore, type PatientBlockStore } from './trust/blocks.js';
import { patientBlocksApi } from './trust/blocks-api.js';
import { accessLogRouter } from './audit/access-log.js';
import { adminRouter } from './admin/router.js';
import type { Auditor } from './audit/auditor.js';
import type { AuditStore } from './audit/store.js';
import type { EndpointName, TransactionServices } from './transactions/context.js';
import type { InitiatingGateway } from './gateway/initiating.js';
import { createTransactionServices } from './transactions/services.js';
import { ensureWritableDataDir } from './data-dir.js';
import { logStart, originUrl, type ConfigOrigin } from './start-log.js';
import { NodeMetrics } from './metrics/metrics.js';
import { metricsHandler } from './metrics/http.js';
import { readFileSync } from 'node:fs';
import { PACKAGE_ROOT } from './package-root.js';
import { loadFhirDefinitions } from './fhir/mapping/validate.js';
import { fhirEndpoint } from './fhir/http/index.js';
import { createAccessTokenVerifier } from './trust/helseid/verify.js';
import type { ProofReplayMemory } from './trust/helseid/replay.js';
import { ForwardingRegistry, withOwnersOutbox, type WriteSender } from '../registry/forwarded-writes.js';
import { adoptAuditQueues, queuesToAdopt } from './audit/adopt.js';
import { createSyslogSender } from './audit/config.js';

export interface RunningNode {
  /** Base URL, e.g. http://127.0.0.1:8080 (the bound port when 0 was asked for). */
  readonly url: string;
  readonly port: number;
  readonly config: NodeConfig;
  readonly registry: DocumentRegistry;
  readonly repository: DocumentRepository;
  readonly logger: winston.Logger;
  /**
   * The XCA gateways: always present, since homeCommunityId always has a value (the demo default
   * when the configuration sets none).
   */
  readonly gateways?: Gateways;
  /** The patient-block store (opened when trust is enabled or the block admin API is configured). */
  readonly patientBlocks?: PatientBlockStore;
  /** Records every transaction before its response is sent (connector/audit). */
  readonly auditor: Auditor;
  /** Request, gateway, audit-queue and store metrics: `/metrics` and the operator page's rates (connector/metrics). */
  readonly metrics: NodeMetrics;
  /** The node's own audit store (FHIR AuditEvents and the patient access log). */
  readonly auditStore: AuditStore;
  /** Request bytes held in memory by the requests in flight, under http.maxBufferedBytes. */
  readonly bufferBudget: BufferBudget;
  /**
   * Stops the node. With `drainMs`, a graceful stop (SIGTERM): /health answers 503 so that load
   * balancers stop sending, no new connection is accepted, idle keep-alive connections close, and
   * requests in flight get up to `drainMs` to finish before the remaining connections are cut.
   * Without it (tests, a failed start) every connection is cut at once.
   */
  close(options?: { readonly drainMs?: number }): Promise<void>;
}

export interface StartNodeOptions {
  /** Wraps the repository's registry port (tests inject failures between blob write and registry commit). */
  readonly wrapRegistryPort?: (port: RegistryPort) => RegistryPort;
  /** Where the configuration came from, for the start log (`npm start` knows; other callers may not). */
  readonly configOrigin?: ConfigOrigin;
  /** Set when this node is one worker process of a multi-process node (connector/cluster/worker.ts). */
  readonly worker?: WorkerRole;
}

/**
 * What changes in a worker of a multi-process node (connector/cluster): everything else is the
 * single-process node, wired the same way.
 */
export interface WorkerRole {
  /** 1 … processes. */
  readonly index: number;
  /** How many workers the node has (which former workers' audit queues this one takes over, connector/audit/adopt.ts). */
  readonly processes: number;
  /** Carries every registry write to the write owner, the primary (registry/forwarded-writes.ts). */
  readonly writes: WriteSender;
  /** Tells the write owner that these registry outbox records are done (their deletion rides on its next commit). */
  readonly outboxDone: (ids: readonly string[]) => void;
  /** The whole node's /metrics exposition, summed over every process by the primary. */
  readonly exposition: () => Promise<string>;
  /** The node's one memory of used DPoP proofs, kept by the primary (trust/helseid/replay.ts). */
  readonly proofReplay: ProofReplayMemory;
  /** This worker's own audit queue and intents directory (one per worker index, taken over by its replacement). */
  readonly auditQueueDir: string;
  /** Whether this worker writes the start log (one of them does; the primary adds its own lines). */
  readonly startLog: boolean;
}

export async function startNode(config: NodeConfig, options: StartNodeOptions = {}): Promise<RunningNode> {
  const logger = createLogger({ level: config.logLevel, silent: config.silent, ...(options.worker ? { process: { worker: options.worker.index } } : {}) });
  // Checked before any store opens it, with MongoDB too: the audit queue is always kept there.
  const dataDir = ensureWritableDataDir(config.dataDir);
  const store: RegistryStore = await openRegistryStore({
    dataDir: config.dataDir,
    ...(config.mongoUri ? { mongoUri: config.mongoUri } : {}),
    ...(config.registry.cacheEntries !== undefined ? { cacheEntries: config.registry.cacheEntries } : {}),
  });
  const worker = options.worker;
  const metrics = new NodeMetrics({
    dataDir: config.dataDir,
    ...(worker ? { auditQueueDir: worker.auditQueueDir } : {}),
    filesystemBlobs: !config.mongoUri,
    registry: store,
    warn: (message, meta) => logger.warn(message, meta),
  });
  const registryOptions = {
    queryResultLimit: config.registry.queryResultLimit,
    patientIds: createPatientIdPolicy(config.registry.patientIds),
    homeCommunityId: config.homeCommunityId,
  };
  // In a worker, writes are decided by the primary; queries run here on this process's connection.
  const registry = worker
    ? new ForwardingRegistry(withOwnersOutbox(store, worker.outboxDone, { drains: worker.index === 1 }), registryOptions, worker.writes)
    : new DocumentRegistry(store, registryOptions);

  const blobs = await openBlobStore({ dataDir: config.dataDir, smallDocumentBytes: config.repository.smallDocumentBytes, ...(config.mongoUri ? { mongoUri: config.mongoUri } : {}) });
  // A remote registry client owns a connection pool, closed with the node.
  const remote = config.repository.registryUrl ? remoteRegistry({ url: config.repository.registryUrl }) : undefined;
  const port0 = remote ?? inProcessRegistry(registry);
  const repository = new DocumentRepository(blobs, options.wrapRegistryPort ? options.wrapRegistryPort(port0) : port0, {
    repositoryUniqueId: config.repository.repositoryUniqueId,
    maxDocumentBytes: config.repository.maxDocumentBytes,
    orphanAgeMs: config.repository.orphanAgeMs,
    homeCommunityId: config.homeCommunityId,
    log: (level, message, meta) => logger.log(level, message, meta),
  });
  // Finish what a crash interrupted before accepting new submissions, then sweep now and then. A
  // worker does neither: the primary recovered before any worker started, and sweeps alone, so no
  // process ever takes another's upload in flight for a leftover.
  const sweep = worker ? undefined : await startRepositorySweep(repository, config, logger);

  // Patient blocks: one embedded store beside the registry (its own file, its own lifecycle).
  const blocksApiToken = config.trust.blocksApi.token;
  const patientBlocks: PatientBlockStore | undefined =
    config.trust.enabled || blocksApiToken !== undefined
      ? new SqlitePatientBlockStore(config.trust.patientBlocksFile ?? join(config.dataDir, 'patient-blocks.sqlite'))
      : undefined;
  // Trust and audit for every transaction: built once here (connector/transactions/services.ts).
  const created = await createTransactionServices({
    config,
    logger,
    documentEntries: (uniqueIds) => port0.documentEntries(uniqueIds),
    patientBlocks,
    ...(worker ? { auditQueueDir: worker.auditQueueDir } : {}),
  });
  const services = created.services;
  const verifier = services.trust?.verifier;
  if (verifier !== undefined) metrics.observeXua(() => verifier.signaturePaths);
  // Audit queues of processes this node no longer runs (processes was changed): delivered from here.
  const orphanQueues = queuesToAdopt(config.dataDir, worker);
  const adopted =
    orphanQueues.length === 0
      ? undefined
      : adoptAuditQueues({
          dirs: orphanQueues,
          store: created.auditStore,
          syslog: config.audit.syslog ? createSyslogSender(config.audit.syslog) : undefined,
          logger: { warn: (message, meta) => logger.warn(message, meta), error: (message, meta) => logger.error(message, meta) },
        });
  if (adopted) logger.info('audit queues of processes this node no longer runs: delivering what waits in them', { queues: orphanQueues });
  // wsse:Security is understood (mustUnderstand accepted) where the trust layer verifies it.
  const securityUnderstood = (endpoint: EndpointName) =>
    created.unprotected.includes(endpoint) ? {} : { understoodHeaders: [{ ns: NS.wsse, local: 'Security' }] };

  const app = express();
  app.disable('x-powered-by');
  // Mutual TLS per endpoint: the guard runs before the SOAP layer reads the body, in the same
  // router layer as the endpoint (a layer of its own would be matched and trimmed for every
  // request). Without TLS there is no guard at all, not a pass-through.
  const guarded = <Req extends RoutedRequest, Res extends ServerResponse>(
    endpoint: TlsEndpoint,
    handler: (req: Req, res: Res, next: (err?: unknown) => void) => void,
  ): ((req: Req, res: Res, next: (err?: unknown) => void) => void) => {
    if (!config.tls.enabled) return handler;
    const guard = clientCertificateGuard({
      mode: config.tls.clientCertificates[endpoint],
      logger,
      endpoint,
      ...(endpoint === 'blocksApi' ? { refuse: refuseWithJson } : {}),
    });
    return (req, res, next) => guard(req, res, () => handler(req, res, next));
  };
  let ready = false;
  app.get('/health', (_req, res) => {
    // A worker of a multi-process node says which one answered (its index, not its pid).
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'starting', ...(worker ? { worker: worker.index } : {}) });
  });
  // Off the IHE endpoints; open unless metrics.token is set (the start log says which).
  app.use(config.metrics.path, metricsHandler(metrics, { token: config.metrics.token, exposition: worker?.exposition }));
  // The SOAP endpoints, mounted on the app and taken directly by their POSTs (directRoutes).
  const direct: DirectRoute[] = [];
  const mountSoap = (path: string, handler: RoutedHandler): void => {
    app.use(path, handler);
    direct.push({ path, handler, takes: 'posts' });
  };
  mountSoap(
    config.endpoints.registry,
    guarded(
      'registry',
      soapEndpoint({
        actions: registryTransactions(registry, services, { multiPatientQuery: config.registry.multiPatientQuery }),
        observe: metrics.soapObserver('registry'),
        ...securityUnderstood('registry'),
        maxBodyBytes: config.limits.maxRequestBytes,
        maxXmlDepth: config.limits.maxXmlDepth,
        xmlCaps: config.limits.xml,
        logger,
        wsdl: wsdlPath('registry'),
      }),
    ),
  );
  mountSoap(
    config.endpoints.repository,
    guarded(
      'repository',
      soapEndpoint({
        actions: repositoryTransactions(repository, services),
        observe: metrics.soapObserver('repository'),
        ...securityUnderstood('repository'),
        maxBodyBytes: config.limits.maxRequestBytes,
        maxXmlDepth: config.limits.maxXmlDepth,
        xmlCaps: config.limits.xml,
        spooler: blobSpooler(blobs, config.repository.maxDocumentBytes),
        logger,
        wsdl: wsdlPath('repository'),
      }),
    ),
  );

  const gateways = createGateways(config, registry, repository, metrics.communityObserver);
  if (gateways) metrics.knowCommunities(gateways.initiating.communities.map((c) => c.homeCommunityId));
  if (gateways) {
    // wsse:Security is declared understood: the hub sends it with mustUnderstand; it is forwarded
    // to the communities here, and verified by the trust layer when trust is enabled.
    const gatewayEndpoint = (actions: ReturnType<typeof respondingTransactions>, wsdl: 'responding' | 'initiating') =>
      soapEndpoint({
        actions,
        understoodHeaders: [{ ns: NS.wsse, local: 'Security' }],
        maxBodyBytes: config.limits.maxRequestBytes,
        maxXmlDepth: config.limits.maxXmlDepth,
        xmlCaps: config.limits.xml,
        logger,
        wsdl: wsdlPath(wsdl),
        observe: metrics.soapObserver(wsdl),
      });
    mountSoap(config.endpoints.responding, guarded('responding', gatewayEndpoint(respondingTransactions(gateways.responding, services), 'responding')));
    mountSoap(config.endpoints.initiating, guarded('initiating', gatewayEndpoint(initiatingTransactions(gateways.initiating, services), 'initiating')));
  }

  if (patientBlocks && blocksApiToken !== undefined) {
    app.use(
      config.trust.blocksApi.path,
      guarded('blocksApi', patientBlocksApi(patientBlocks, { token: blocksApiToken, logger, acceptSyntheticIds: config.registry.patientIds.acceptSyntheticNorwegianIds })),
    );
  }

  // The patient's access log (ATT-8: names, never national id numbers), behind its own token.
  if (config.audit.accessLog.token !== undefined) {
    app.use(config.audit.accessLog.path, accessLogRouter(created.auditStore, {
        token: config.audit.accessLog.token,
        maxResults: config.audit.accessLog.maxResults,
        acceptSyntheticIds: config.registry.patientIds.acceptSyntheticNorwegianIds,
      }));
  }

  // The operator page (connector/admin): only with a token, since it shows the whole audit trail.
  if (config.admin.token !== undefined) {
    app.use(config.admin.path, adminRouter({ token: config.admin.token, config, auditStore: created.auditStore, metrics }));
  }

  // IHE MHD (connector/fhir): the same registry, repository, policy and audit behind FHIR R4 JSON.
  // Taken directly as a whole (every request at or below its path), like the SOAP POSTs.
  const fhir = mountFhir(app, { config, services, registry, repository, logger, metrics, proofReplay: options.worker?.proofReplay, federation: gateways && config.gateway.mode === 'node' && config.gateway.communities.length > 0 ? gateways.initiating : undefined });
  if (fhir.handler !== undefined) direct.push({ path: config.fhir.path, handler: fhir.handler, takes: 'subtree' });

  // What nothing above took, and errors handlers passed on: a plain answer, never express's HTML
  // page with the stack trace (final-answer.ts).
  app.use((req: express.Request, res: express.Response) => finalAnswer(req, res, undefined));
  app.use((err: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => finalAnswer(req, res, err, logger));

  // Every other path mounted, whether or not its feature is on: a direct path one of them overlaps is left to express.
  const otherMounts = ['/health', config.metrics.path, config.trust.blocksApi.path, config.audit.accessLog.path, config.admin.path, ...(fhir.handler === undefined ? [config.fhir.path] : [])];
  const listener = await listen(directRoutes(app, direct, otherMounts), {
    tls: config.tls,
    http: config.http,
    maxRequestBytes: config.limits.maxRequestBytes,
    port: config.port,
    host: config.host,
    logger,
  });
  const server: Server = listener.server;
  // Peers keep connections alive between transactions; a short idle timeout frees sockets.
  server.keepAliveTimeout = 5_000;
  const port = listener.port;
  // A wildcard address is not one a client can connect to: `url` names this machine's loopback.
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  ready = true;
  if (worker === undefined || worker.startLog) logStart(logger, { config, port, scheme: listener.scheme, dataDir, gateways: gateways !== undefined, origin: options.configOrigin, ...(fhir.definitionsMs !== undefined ? { fhirDefinitionsMs: fhir.definitionsMs } : {}) });

  return {
    url: originUrl(listener.scheme, host, port),
    port,
    config,
    registry,
    repository,
    logger,
    ...(gateways ? { gateways } : {}),
    ...(patientBlocks ? { patientBlocks } : {}),
    auditor: services.auditor,
    metrics,
    auditStore: created.auditStore,
    bufferBudget: listener.budget,
    async close(options = {}) {
      clearInterval(sweep);
      ready = false;
      // The listener first: requests in flight may still need the gateways and the stores.
      await new Promise<void>((resolve) => {
        const drainMs = options.drainMs ?? 0;
        const cut = drainMs > 0 ? setTimeout(() => server.closeAllConnections(), drainMs) : undefined;
        // A keep-alive connection whose request is answered during the drain turns idle and stays
        // open; closing the idle ones again every 100 ms ends the drain as soon as the last answer is out.
        const sweepIdle = drainMs > 0 ? setInterval(() => server.closeIdleConnections(), 100) : undefined;
        server.close(() => {
          clearTimeout(cut);
          clearInterval(sweepIdle);
          resolve();
        });
        if (drainMs > 0) server.closeIdleConnections();
        else server.closeAllConnections();
      });
      await gateways?.close();
      await remote?.close();
      await store.close();
      await blobs.close();
      await adopted?.close();
      await created.close();
      await patientBlocks?.close();
    },
  };
}

/**
 * Start-up recovery of the repository (what a crash left staged), then the periodic orphan sweep.
 * Run by a single-process node and by the primary of a multi-process node, before any request.
 */
export async function startRepositorySweep(repository: DocumentRepository, config: NodeConfig, logger: winston.Logger): Promise<NodeJS.Timeout> {
  const recovery = await repository.recover();
  if (recovery.recovered > 0 || recovery.removed > 0) logger.info('repository recovery', { ...recovery });
  const sweep = setInterval(() => {
    repository.recover(config.repository.orphanAgeMs).catch((e: unknown) => {
      logger.warn('repository sweep failed', { error: e instanceof Error ? e.message : String(e) });
    });
  }, config.repository.orphanAgeMs);
  sweep.unref();
  return sweep;
}

interface FhirMountInput {
  readonly config: NodeConfig;
  readonly services: TransactionServices;
  readonly registry: DocumentRegistry;
  readonly repository: DocumentRepository;
  readonly logger: winston.Logger;
  readonly metrics: NodeMetrics;
  /** The initiating gateway, when MHD answers across communities. */
  readonly federation?: InitiatingGateway | undefined;
  /** The node's memory of used DPoP proofs when it is not this process's own (a worker's). */
  readonly proofReplay?: ProofReplayMemory | undefined;
}

/**
 * Mounts the MHD endpoint when `fhir.enabled`, and loads the FHIR R4 definitions its validation
 * needs first (~1.5 s, blocking; done here so that no request pays for it). With the trust model
 * on for `fhir`, every request needs a HelseID token: without `trust.helseid` there is nothing to
 * verify one with, so the endpoint is not served at all rather than served open (logged).
 */
function mountFhir(app: express.Express, input: FhirMountInput): { readonly definitionsMs?: number; readonly handler?: RoutedHandler } {
  const { config, services, logger } = input;
  if (!config.fhir.enabled) return {};
  const trust = services.trust;
  const protectedByTrust = trust?.endpoints.has('fhir') ?? false;
  if (protectedByTrust && config.trust.helseid === undefined) return {};
  if (trust !== undefined && !protectedByTrust) {
    logger.warn(`TRUST MODEL OFF on endpoint fhir (${config.fhir.path}): no access token is verified and no access policy applied there`);
  }
  // A missing or unusable JWKS file stops the start here, as a bad pinned certificate does.
  const tokens = protectedByTrust ? createAccessTokenVerifier(config.trust.helseid!, input.proofReplay ? { replay: input.proofReplay } : {}) : undefined;
  const definitionsMs = loadFhirDefinitions();
  const handler = fhirEndpoint({
    config: config.fhir,
    services,
    tokens,
    actors: {
      registry: input.registry,
      repository: input.repository,
      homeCommunityId: config.homeCommunityId,
      repositoryUniqueId: config.repository.repositoryUniqueId,
      federation: input.federation,
    },
    logger,
    observe: (transaction, status, ms) => input.metrics.recordFhirRequest(transaction, status, ms),
    version: packageVersion(),
  });
  // Mounted on the app too: express hands it what the listener does not take (`/FHIR/…`, `/fhir//…`).
  app.use(config.fhir.path, handler);
  return { definitionsMs, handler };
}

let version: string | undefined;
/** The package's version (package.json), read once. */
function packageVersion(): string {
  if (version === undefined) {
    try {
      version = String((JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: unknown }).version ?? '0');
    } catch {
      version = '0';
    }
  }
  return version;
}
