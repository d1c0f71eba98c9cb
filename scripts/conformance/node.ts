/**
 * Starts a node configured the way the NIST plans need it: the testkit's patient-id assigning
 * authority accepted (there is no patient identity feed; the runner allocates ids in it), an
 * empty embedded store in a temporary directory, an ephemeral port on 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../connector/config';
import { startNode, type RunningNode } from '../../connector/node';
import { DEFAULT_PATIENT_AUTHORITY } from './patients';

export const CONFORMANCE_HOME_COMMUNITY_ID = 'urn:oid:1.3.6.1.4.1.21367.13.70.200';

export async function startConformanceNode(options: { silent?: boolean } = {}): Promise<RunningNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kp-conformance-'));
  const node = await startNode(
    parseConfig({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      silent: options.silent ?? true,
      homeCommunityId: CONFORMANCE_HOME_COMMUNITY_ID,
      registry: { patientIds: { acceptedAssigningAuthorities: [DEFAULT_PATIENT_AUTHORITY] } },
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
