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
import { registryTransactions } from './transactions/registry';
import { wsdlPath } from './transactions/wsdl';

export interface RunningNode {
  /** Base URL, e.g. http://127.0.0.1:8080 (the bound port when 0 was asked for). */
  readonly url: string;
  readonly port: number;
  readonly config: NodeConfig;
  readonly registry: DocumentRegistry;
  readonly logger: winston.Logger;
  close(): Promise<void>;
}

export async function startNode(config: NodeConfig): Promise<RunningNode> {
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
    logger,
    async close() {
      ready = false;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
    },
  };
}
