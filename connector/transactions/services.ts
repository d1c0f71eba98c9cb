/**
 * Builds the TransactionServices of a node from its configuration: the Auditor (durable queue under
 * dataDir, the node's own audit store, the optional syslog Audit Record Repository) and, when
 * `trust.enabled`, the XUA verifier with its pinned certificates and the access policy. Called once
 * by startNode; `close` flushes and closes what it opened.
 */
import { hostname } from 'node:os';
import type winston from 'winston';
import type { DocumentEntry } from '../../registry/model/metadata.js';
import { Auditor } from '../audit/auditor.js';
import { createSyslogSender } from '../audit/config.js';
import { openAuditStore, type AuditStore } from '../audit/store.js';
import type { NodeConfig } from '../config.js';
import type { PatientBlockStore } from '../trust/blocks.js';
import { xuaVerifierFromConfig } from '../trust/xua.js';
import type { EndpointName, TransactionServices } from './context.js';

export interface CreatedServices {
  readonly services: TransactionServices;
  readonly auditStore: AuditStore;
  /** Endpoints served without XUA verification (all of them when trust is disabled). */
  readonly unprotected: readonly EndpointName[];
  close(): Promise<void>;
}

export interface ServicesInput {
  readonly config: NodeConfig;
  readonly logger: winston.Logger;
  readonly documentEntries: (uniqueIds: readonly string[]) => Promise<DocumentEntry[]>;
  /** Required when trust is enabled: ATT-5 is enforced on every query and retrieve. */
  readonly patientBlocks?: PatientBlockStore | undefined;
  /** Directory of the audit queue and intents files; dataDir unless given (a worker of a multi-process node has its own, connector/cluster). */
  readonly auditQueueDir?: string | undefined;
}

const ALL_ENDPOINTS: readonly EndpointName[] = ['registry', 'repository', 'responding', 'initiating'];

export async function createTransactionServices(input: ServicesInput): Promise<CreatedServices> {
  const { config, logger } = input;
  const audit = config.audit;
  const auditStore = await openAuditStore({ dataDir: config.dataDir, ...(config.mongoUri ? { mongoUri: config.mongoUri } : {}) });
  const syslog = audit.syslog ? createSyslogSender(audit.syslog) : undefined;
  const nodeId = audit.nodeId ?? config.homeCommunityId ?? hostname();
  const auditor = new Auditor({
    dataDir: input.auditQueueDir ?? config.dataDir,
    store: auditStore,
    syslog,
    storeTimeoutMs: audit.storeTimeoutMs,
    retryMaxMs: audit.retryMaxMs,
    logger: { warn: (message, meta) => logger.warn(message, meta), error: (message, meta) => logger.error(message, meta) },
  });

  let trust: TransactionServices['trust'];
  const t = config.trust;
  if (t.enabled) {
    if (!input.patientBlocks) throw new Error('trust is enabled but no patient-block store was opened');
    trust = {
      verifier: xuaVerifierFromConfig(t),
      policy: { ...t.policy, acceptSyntheticIds: config.registry.patientIds.acceptSyntheticNorwegianIds },
      blocks: input.patientBlocks,
      endpoints: new Set(t.endpoints),
    };
  }
  const unprotected = ALL_ENDPOINTS.filter((e) => !trust?.endpoints.has(e));
  if (!trust) {
    logger.warn(
      'TRUST MODEL DISABLED: no XUA assertion is verified and the Norwegian access policy is NOT applied on any endpoint; every caller sees every document. Set trust.enabled in production.',
    );
  } else if (unprotected.length > 0) {
    logger.warn(`TRUST MODEL OFF on endpoint(s) ${unprotected.join(', ')}: no XUA verification and no access policy there`);
  }
  logger.info('audit', { nodeId, store: config.mongoUri ? 'mongodb' : 'embedded', syslog: audit.syslog ? `${audit.syslog.transport}://${audit.syslog.host}:${audit.syslog.port}` : 'off' });

  let closing: Promise<void> | undefined;
  return {
    services: {
      node: { id: nodeId, ...(audit.enterpriseSiteId !== undefined ? { enterpriseSiteId: audit.enterpriseSiteId } : {}) },
      ...(config.homeCommunityId !== undefined ? { homeCommunityId: config.homeCommunityId } : {}),
      auditor,
      ...(trust ? { trust } : {}),
      documentEntries: input.documentEntries,
    },
    auditStore,
    unprotected,
    close() {
      // Idempotent: a node may be closed twice (a test's afterEach after a failed start check).
      closing ??= (async () => {
        // Give queued events a moment to reach their sinks; what does not stays on disk for next start.
        await auditor.flush(2000);
        await auditor.close();
        await auditStore.close();
      })();
      return closing;
    },
  };
}
