/**
 * Starts a node configured the way the NIST plans need it: the testkit's patient-id assigning
 * authority accepted (there is no patient identity feed; the runner allocates ids in it), an
 * empty embedded store in a temporary directory, an ephemeral port on 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type NodeConfigInput } from '../../connector/config.js';
import { startNode, type RunningNode } from '../../connector/node.js';
import { DEFAULT_PATIENT_AUTHORITY } from './patients.js';

export const CONFORMANCE_HOME_COMMUNITY_ID = 'urn:oid:1.3.6.1.4.1.21367.13.70.200';

export interface ConformanceNodeOptions {
  readonly silent?: boolean;
  /** Default CONFORMANCE_HOME_COMMUNITY_ID (the gateway environment gives each community its own). */
  readonly homeCommunityId?: string;
  readonly repositoryUniqueId?: string;
  /** The initiating gateway's community directory and limits (gateway environments). */
  readonly gateway?: NodeConfigInput['gateway'];
}

export async function startConformanceNode(options: ConformanceNodeOptions = {}): Promise<RunningNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kp-conformance-'));
  const node = await startNode(
    parseConfig({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      silent: options.silent ?? true,
      homeCommunityId: options.homeCommunityId ?? CONFORMANCE_HOME_COMMUNITY_ID,
      // ITI-51 on: the reg_mpq plans query across the patients the runner allocates (no trust here).
      registry: { patientIds: { acceptedAssigningAuthorities: [DEFAULT_PATIENT_AUTHORITY] }, multiPatientQuery: { enabled: true } },
      ...(options.repositoryUniqueId !== undefined ? { repository: { repositoryUniqueId: options.repositoryUniqueId } } : {}),
      ...(options.gateway !== undefined ? { gateway: options.gateway } : {}),
    }),
  );
  return {
    ...node,
    async close() {
      await node.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
