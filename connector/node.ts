/**
 * A koblingspunkt node: the express app with one SOAP endpoint per actor, over one store.
 *
 * `startNode` is what `npm start`, the tests, the conformance runner and the demo network use, so
 * that every one of them exercises the same wiring over real HTTP.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type winston from 'winston';
import { DocumentRegistry } from '../registry/registry';
import { createPatientIdPolicy } from '../registry/patients';
import { openRegistryStore } from '../registry/store/open';
import type { RegistryStore } from '../registry/store/store';
import type { NodeConfig } from './config';
import { createLogger } from './log';
import { soapEndpoint } from './soap/endpoint';
import { createGateways, type Gateways } from './gateway/wiring';
import { NS } from '../registry/xml/namespaces';
import { respondingTransactions } from './transactions/responding';
import { initiatingTransactions } from './transactions/initiating';
import { registryTransactions } from './transactions/registry';
import { openBlobStore } from '../repository/blob';
import { inProcessRegistry, type RegistryPort } from '../repository/registry-port';
import { DocumentRepository } from '../repository/repository';
import { remoteRegistry } from './clients/registry-client';
import { repositoryTransactions } from './transactions/repository';
import { blobSpooler } from './transactions/spool';
import { wsdlPath } from './transactions/wsdl';

export interface RunningNode {
  /** Base URL, e.g. http://127.0.0.1:8080 (the bound port when 0 was asked for). */
  readonly url: string;
  readonly port: number;
  readonly config: NodeConfig;
  readonly registry: DocumentRegistry;
  readonly repository: DocumentRepository;
  readonly logger: winston.Logger;
  /** The XCA gateways (absent without a homeCommunityId). */
  readonly gateways?: Gateways;
  close(): Promise<void>;
}

export interface StartNodeOptions {
  /** Wraps the repository's registry port (tests inject failures between blob write and registry commit). */
  readonly wrapRegistryPort?: (port: RegistryPort) => RegistryPort;
}

export async function startNode(config: NodeConfig, options: StartNodeOptions = {}): Promise<RunningNode> {
  const logger = createLogger({ level: config.logLevel, silent: config.silent });
  if (!config.mongoUri) mkdirSync(config.dataDir, { recursive: true });
  const store: RegistryStore = await openRegistryStore({
    dataDir: config.dataDir,
    ...(config.mongoUri ? { mongoUri: config.mongoUri } : {}),
  });
  const registry = new DocumentRegistry(store, {
    queryResultLimit: config.registry.queryResultLimit,
    patientIds: createPatientIdPolicy(config.registry.patientIds),
    ...(config.homeCommunityId ? { homeCommunityId: config.homeCommunityId } : {}),
  });

  const blobs = await openBlobStore({ dataDir: config.dataDir, ...(config.mongoUri ? { mongoUri: config.mongoUri } : {}) });
  const port0 = config.repository.registryUrl ? remoteRegistry({ url: config.repository.registryUrl }) : inProcessRegistry(registry);
  const repository = new DocumentRepository(blobs, options.wrapRegistryPort ? options.wrapRegistryPort(port0) : port0, {
    repositoryUniqueId: config.repository.repositoryUniqueId,
    maxDocumentBytes: config.repository.maxDocumentBytes,
    orphanAgeMs: config.repository.orphanAgeMs,
    ...(config.homeCommunityId ? { homeCommunityId: config.homeCommunityId } : {}),
    log: (level, message, meta) => logger.log(level, message, meta),
  });
  // Finish what a crash interrupted before accepting new submissions, then sweep now and then.
  const recovery = await repository.recover();
  if (recovery.recovered > 0 || recovery.removed > 0) logger.info('repository recovery', { ...recovery });
  const sweep = setInterval(() => {
    repository.recover(config.repository.orphanAgeMs).catch((e: unknown) => {
      logger.warn('repository sweep failed', { error: e instanceof Error ? e.message : String(e) });
    });
  }, config.repository.orphanAgeMs);
  sweep.unref();

  const app = express();
  app.disable('x-powered-by');
  let ready = false;
  app.get('/health', (_req, res) => {
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'starting' });
  });
  app.use(
    config.endpoints.registry,
    soapEndpoint({
      actions: registryTransactions(registry),
      maxBodyBytes: config.limits.maxRequestBytes,
      maxXmlDepth: config.limits.maxXmlDepth,
      logger,
      wsdl: wsdlPath('registry'),
    }),
  );
  app.use(
    config.endpoints.repository,
    soapEndpoint({
      actions: repositoryTransactions(repository),
      maxBodyBytes: config.limits.maxRequestBytes,
      maxXmlDepth: config.limits.maxXmlDepth,
      spooler: blobSpooler(blobs, config.repository.maxDocumentBytes),
      logger,
      wsdl: wsdlPath('repository'),
    }),
  );

  const gateways = createGateways(config, registry, repository);
  if (gateways) {
    // wsse:Security is declared understood: the hub sends it with mustUnderstand; it is forwarded
    // to the communities here, and verified once the trust layer (issue #5) is configured.
    const gatewayEndpoint = (actions: ReturnType<typeof respondingTransactions>, wsdl: 'responding' | 'initiating') =>
      soapEndpoint({
        actions,
        understoodHeaders: [{ ns: NS.wsse, local: 'Security' }],
        maxBodyBytes: config.limits.maxRequestBytes,
        maxXmlDepth: config.limits.maxXmlDepth,
        logger,
        wsdl: wsdlPath(wsdl),
      });
    app.use(config.endpoints.responding, gatewayEndpoint(respondingTransactions(gateways.responding), 'responding'));
    app.use(config.endpoints.initiating, gatewayEndpoint(initiatingTransactions(gateways.initiating), 'initiating'));
  }

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  // Peers keep connections alive between transactions; a short idle timeout frees sockets.
  server.keepAliveTimeout = 5_000;
  const port = (server.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  ready = true;
  logger.info('node started', { port, store: config.mongoUri ? 'mongodb' : 'embedded', dataDir: config.dataDir });

  return {
    url: `http://${host}:${port}`,
    port,
    config,
    registry,
    repository,
    logger,
    ...(gateways ? { gateways } : {}),
    async close() {
      await gateways?.close();
      clearInterval(sweep);
      ready = false;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
      await blobs.close();
    },
  };
}
