/** Starts a real node on 127.0.0.1 with a fresh embedded store in a temporary directory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type NodeConfigInput } from '../../connector/config.js';
import { startNode, type RunningNode } from '../../connector/node.js';

/** The NIST testkit's patient-id assigning authority, accepted by test nodes. */
export const NIST_PATIENT_AUTHORITY = '1.3.6.1.4.1.21367.2005.13.20.1000';

export interface TestNode extends RunningNode {
  readonly dataDir: string;
}

export async function startTestNode(overrides: NodeConfigInput = {}): Promise<TestNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kp-node-'));
  const config = parseConfig({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    silent: true,
    homeCommunityId: 'urn:oid:2.16.578.1.12.4.5.100.1',
    ...overrides,
    registry: {
      ...overrides.registry,
      patientIds: {
        acceptedAssigningAuthorities: [NIST_PATIENT_AUTHORITY],
        ...overrides.registry?.patientIds,
      },
    },
  });
  const node = await startNode(config);
  return {
    ...node,
    dataDir,
    async close(options) {
      await node.close(options);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
