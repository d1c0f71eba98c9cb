/**
 * The demo network on loopback: a national hub and regional nodes, each a real node started with
 * startNode (its own embedded store in a temporary directory, its own homeCommunityId), wired the
 * way docs/norway.md describes: the hub's community directory lists every region's responding gateway;
 * each region's directory lists the hub, which serves the other regions.
 *
 * `npm run network` and the gateway integration tests both start the network through here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type NodeConfigInput } from '../../connector/config.js';
import { startNode, type RunningNode } from '../../connector/node.js';
import { ACTIONS } from '../../connector/soap/actions.js';
import { SoapClient } from '../../connector/soap/client.js';
import { newContentId, xopInclude } from '../../connector/soap/xop.js';
import { parseRegistryResponse, serializeProvideAndRegisterRequest } from '../../registry/ebxml/index.js';
import { NS } from '../../registry/xml/namespaces.js';
import { el } from '../../registry/xml/tree.js';
import { demoSubmission, DEMO_PATIENTS, type DemoDocument, type DemoPatient, type DemoRegion } from './data.js';

/** The national community (docs/norway.md, Identifiers). */
export const HUB_HOME_COMMUNITY_ID = 'urn:oid:2.16.578.1.12.4.1.7.1.1';

export interface RegionSpec extends DemoRegion {
  readonly homeCommunityId: string;
}

export const DEMO_REGIONS: readonly RegionSpec[] = [
  {
    name: 'Helse Sør-Øst',
    homeCommunityId: 'urn:oid:2.16.578.1.12.4.5.100.1',
    institution: 'Oslo universitetssykehus HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^993467049',
    author: '565505933^LEGE^KARI^^^^^^&2.16.578.1.12.4.1.4.4&ISO',
    sourceOid: '2.16.578.1.12.4.5.100.1.1',
  },
  {
    name: 'Helse Vest',
    homeCommunityId: 'urn:oid:2.16.578.1.12.4.5.100.2',
    institution: 'Helse Bergen HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974724',
    author: '9144900^LEGE^OLA^^^^^^&2.16.578.1.12.4.1.4.4&ISO',
    sourceOid: '2.16.578.1.12.4.5.100.2.1',
  },
  {
    name: 'Helse Nord',
    homeCommunityId: 'urn:oid:2.16.578.1.12.4.5.100.3',
    institution: 'Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880',
    author: '502116685^GEIRAAS^BENEDIKTE^^^^^^&2.16.578.1.12.4.1.4.4&ISO',
    sourceOid: '2.16.578.1.12.4.5.100.3.1',
  },
];

export interface NetworkNode {
  readonly name: string;
  readonly homeCommunityId: string;
  readonly node: RunningNode;
  readonly respondingUrl: string;
  readonly initiatingUrl: string;
  readonly repositoryUrl: string;
}

export interface DemoNetwork {
  readonly hub: NetworkNode;
  readonly regions: readonly (NetworkNode & { readonly spec: RegionSpec })[];
  close(): Promise<void>;
}

export interface NetworkOptions {
  readonly regions?: readonly RegionSpec[];
  /** Deadline of every gateway call (ms). */
  readonly timeoutMs?: number;
  readonly silent?: boolean;
  /** Extra configuration for every node (e.g. gateway.maxConcurrency). */
  readonly overrides?: NodeConfigInput;
}

/** A free TCP port on 127.0.0.1 (asked of the OS, released at once): every node must know the others' URLs before it starts. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startNetwork(options: NetworkOptions = {}): Promise<DemoNetwork> {
  const regions = options.regions ?? DEMO_REGIONS;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const ports = await Promise.all([freePort(), ...regions.map(() => freePort())]);
  const url = (port: number): string => `http://127.0.0.1:${port}`;
  const dirs: string[] = [];
  const started: RunningNode[] = [];
  const start = async (port: number, config: NodeConfigInput): Promise<RunningNode> => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kp-network-'));
    dirs.push(dataDir);
    const node = await startNode(
      parseConfig({ ...options.overrides, ...config, port, host: '127.0.0.1', dataDir, silent: options.silent ?? true }),
    );
    started.push(node);
    return node;
  };
  const close = async (): Promise<void> => {
    await Promise.all(started.map((n) => n.close()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  const describe = (name: string, homeCommunityId: string, node: RunningNode): NetworkNode => ({
    name,
    homeCommunityId,
    node,
    respondingUrl: `${node.url}${node.config.endpoints.responding}`,
    initiatingUrl: `${node.url}${node.config.endpoints.initiating}`,
    repositoryUrl: `${node.url}${node.config.endpoints.repository}`,
  });

  try {
    const [hubPort, ...regionPorts] = ports as [number, ...number[]];
    const overridesGateway = options.overrides?.gateway ?? {};
    const regionNodes = await Promise.all(
      regions.map(async (r, i) => {
        const node = await start(regionPorts[i]!, {
          homeCommunityId: r.homeCommunityId,
          repository: { repositoryUniqueId: `${r.homeCommunityId.slice(8)}.2` },
          gateway: {
            ...overridesGateway,
            mode: 'node',
            communities: [
              {
                homeCommunityId: HUB_HOME_COMMUNITY_ID,
                name: 'national hub',
                queryUrl: `${url(hubPort)}/xca/responding`,
                retrieveUrl: `${url(hubPort)}/xca/responding`,
                timeoutMs,
                serves: regions.filter((o) => o !== r).map((o) => o.homeCommunityId),
              },
            ],
          },
        });
        return { ...describe(r.name, r.homeCommunityId, node), spec: r };
      }),
    );
    const hubNode = await start(hubPort, {
      homeCommunityId: HUB_HOME_COMMUNITY_ID,
      gateway: {
        ...overridesGateway,
        mode: 'hub',
        communities: regionNodes.map((r) => ({
          homeCommunityId: r.homeCommunityId,
          name: r.name,
          queryUrl: r.respondingUrl,
          retrieveUrl: r.respondingUrl,
          timeoutMs,
        })),
      },
    });
    return { hub: describe('national hub', HUB_HOME_COMMUNITY_ID, hubNode), regions: regionNodes, close };
  } catch (e) {
    await close();
    throw e;
  }
}

export interface LoadedDocument {
  readonly region: string;
  readonly homeCommunityId: string;
  readonly patient: DemoPatient;
  readonly documentUniqueId: string;
  readonly repositoryUniqueId: string;
  readonly title: string;
  readonly text: string;
}

/** What the demo loads: each patient has documents in some regions, none in all. */
export const DEMO_PLAN: readonly { region: number; patient: number; documents: DemoDocument[] }[] = [
  { region: 0, patient: 0, documents: [
    { title: 'Epikrise kardiologisk avdeling', kind: 'epikrise', text: 'Epikrise: innlagt med brystsmerter, utskrevet i god form.' },
    { title: 'Journalnotat poliklinikk', kind: 'notat', text: 'Journalnotat: kontroll etter innleggelse, stabil.' },
  ] },
  { region: 1, patient: 0, documents: [
    { title: 'Prøvesvar medisinsk biokjemi', kind: 'provesvar', text: 'Prøvesvar: Hb 13,9 g/dL, CRP < 5 mg/L.' },
  ] },
  { region: 2, patient: 0, documents: [
    { title: 'Epikrise indremedisin', kind: 'epikrise', text: 'Epikrise Finnmarkssykehuset: pneumoni, behandlet med penicillin.' },
  ] },
  { region: 2, patient: 1, documents: [
    { title: 'Journalnotat legevakt', kind: 'notat', text: 'Journalnotat: distorsjon ankel, kontroll ved behov.' },
  ] },
];

/** One ITI-41 (MTOM) to a repository endpoint: a submission set with these documents of one patient. Returns their uniqueIds. */
export async function provideDocuments(
  client: SoapClient,
  repositoryUrl: string,
  region: DemoRegion,
  patient: DemoPatient,
  documents: readonly DemoDocument[],
): Promise<string[]> {
  const { submission, contents } = demoSubmission(region, patient, documents);
  const attachments = new Map<string, { contentType: string; data: Buffer }>();
  const documentElements = [...contents].map(([id, data]) => {
    const cid = newContentId();
    attachments.set(cid, { contentType: 'text/plain', data });
    return el(NS.xdsb, 'Document', { id }, [xopInclude(cid)]);
  });
  const res = await client.call({
    url: repositoryUrl,
    action: ACTIONS.iti41.request,
    body: serializeProvideAndRegisterRequest(submission, documentElements),
    attachments,
    timeoutMs: 30_000,
  });
  const outcome = parseRegistryResponse(res.body);
  if (outcome.status !== 'Success') {
    throw new Error(`ITI-41 to ${repositoryUrl} failed: ${outcome.errors.map((e) => `${e.code} ${e.message}`).join('; ')}`);
  }
  return submission.documentEntries.map((de) => de.uniqueId!);
}

/** Loads the demo documents into the regions with ITI-41 over HTTP (MTOM), exactly as a journal system would. */
export async function loadDemoData(network: DemoNetwork, plan = DEMO_PLAN): Promise<LoadedDocument[]> {
  const client = new SoapClient();
  const loaded: LoadedDocument[] = [];
  try {
    for (const step of plan) {
      const region = network.regions[step.region]!;
      const patient = DEMO_PATIENTS[step.patient]!;
      const uniqueIds = await provideDocuments(client, region.repositoryUrl, region.spec, patient, step.documents);
      uniqueIds.forEach((documentUniqueId, i) => {
        loaded.push({
          region: region.name,
          homeCommunityId: region.homeCommunityId,
          patient,
          documentUniqueId,
          repositoryUniqueId: region.node.config.repository.repositoryUniqueId,
          title: step.documents[i]!.title,
          text: step.documents[i]!.text,
        });
      });
    }
  } finally {
    await client.close();
  }
  return loaded;
}
