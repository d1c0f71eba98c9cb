/**
 * The ITI-51 endpoint of a test node, served beside it on a listener of its own.
 *
 * Why: startNode (connector/node.ts) builds the registry endpoint's action map with
 * `registryTransactions(registry, services)` and does not yet hand it `registry.multiPatientQuery`,
 * so a node never offers ITI-51 whatever its configuration. Until that one argument is added, this
 * does the same wiring with the node's own parts: its registry, its auditor (the events land in
 * the node's audit store), its patient-block store, an XUA verifier built from its trust
 * configuration exactly as connector/transactions/services.ts builds it, and the SOAP layer of
 * connector/soap, on the node's registry path. Nothing is replaced by a stand-in.
 *
 * Once startNode passes the setting, the tests can drop this and use `node.url` with
 * `registry: { multiPatientQuery: … }` in the node's configuration.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { MultiPatientQueryConfig } from '../../connector/config.js';
import { soapEndpoint } from '../../connector/soap/endpoint.js';
import type { TransactionServices } from '../../connector/transactions/context.js';
import { registryTransactions } from '../../connector/transactions/registry.js';
import { xuaVerifierFromConfig } from '../../connector/trust/xua.js';
import { NS } from '../../registry/xml/namespaces.js';
import { inProcessRegistry } from '../../repository/registry-port.js';
import type { TestNode } from '../helpers/node.js';

export interface MultiPatientEndpoint {
  /** The registry endpoint URL (the node's registry path on this listener). */
  readonly registryUrl: string;
  close(): Promise<void>;
}

/** `registry.multiPatientQuery` with defaults filled in, as the configuration schema gives it. */
export function multiPatientSettings(enabled: boolean, allowed: Partial<MultiPatientQueryConfig['allowed']> = {}): MultiPatientQueryConfig {
  return { enabled, allowed: { organizations: allowed.organizations ?? [], roles: allowed.roles ?? [] } };
}

export async function startMultiPatientEndpoint(node: TestNode, settings: MultiPatientQueryConfig): Promise<MultiPatientEndpoint> {
  const config = node.config;
  const t = config.trust;
  const trust: TransactionServices['trust'] = t.enabled
    ? {
        verifier: xuaVerifierFromConfig(t),
        policy: { ...t.policy, acceptSyntheticIds: config.registry.patientIds.acceptSyntheticNorwegianIds },
        blocks: node.patientBlocks!,
        endpoints: new Set(t.endpoints),
      }
    : undefined;
  const port = inProcessRegistry(node.registry);
  const services: TransactionServices = {
    node: { id: config.audit.nodeId ?? config.homeCommunityId },
    homeCommunityId: config.homeCommunityId,
    auditor: node.auditor,
    ...(trust !== undefined ? { trust } : {}),
    documentEntries: (uniqueIds) => port.documentEntries(uniqueIds),
  };
  const app = express();
  app.use(
    config.endpoints.registry,
    soapEndpoint({
      actions: registryTransactions(node.registry, services, { multiPatientQuery: settings }),
      ...(trust?.endpoints.has('registry') ? { understoodHeaders: [{ ns: NS.wsse, local: 'Security' }] } : {}),
      maxBodyBytes: config.limits.maxRequestBytes,
      maxXmlDepth: config.limits.maxXmlDepth,
      xmlCaps: config.limits.xml,
      logger: node.logger,
    }),
  );
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    registryUrl: `http://127.0.0.1:${bound}${config.endpoints.registry}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
