/**
 * Test environments for the gateway plans whose SUT is an Initiating Gateway (ig(xca), ig(xca)_ad).
 *
 * The NIST toolkit tests an initiating gateway by building an environment around it
 * (IgOrchestrationBuilder in iheos-toolkit2): two Responding Gateway simulators, community1
 * (`urn:oid:1.2.34.567.8.1`) and community2 (`urn:oid:1.2.34.567.8.2`), with test data loaded by
 * plan 15807 section by section, each section into a given community for a given patient; and
 * community1 configured to answer a Cross Gateway Query for one patient with XDSRegistryError. The
 * SUT's initiating gateway is configured with both communities; the toolkit then acts as Document
 * Consumer (IGQ / IGR = ITI-18 / ITI-43 to the SUT).
 *
 * Here the responding gateways are our own nodes (real registry, repository and responding
 * gateway each), the SUT is a conformance node whose community directory points at them, and the
 * one behaviour a node has no configuration for — answering XDSRegistryError for a patient — is
 * played by a small HTTP stand-in in front of community1, as the toolkit's simulator plays it.
 * The placement table below is that orchestration, copied as data; the runner stays a general
 * interpreter of the plans and only asks the environment where a section's data goes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request as undiciRequest } from 'undici';
import { startConformanceNode } from './node.js';
import type { RunningNode } from '../../connector/node.js';
import { ACTIONS } from '../../connector/soap/actions.js';
import { buildEnvelope, soapContentType } from '../../connector/soap/response.js';
import { adhocQueryResponse } from '../../registry/ebxml/index.js';
import { error } from '../../registry/model/errors.js';
import { parseXml } from '../../registry/xml/parse.js';
import { NS } from '../../registry/xml/namespaces.js';
import { escapeText } from '../../registry/xml/serialize.js';
import { childElement, textContent } from '../../registry/xml/tree.js';
import type { DataTarget, RunOptions } from './runner.js';

export interface CommunitySpec {
  readonly name: string;
  readonly homeCommunityId: string;
  readonly repositoryUniqueId: string;
  /**
   * Patient-feed tests whose patient gets XDSRegistryError from this community's Cross Gateway
   * Query (the toolkit simulator's `errorForPatient` setting).
   */
  readonly registryErrorForPatientsOf?: readonly string[];
}

export interface Placement {
  /** Community (name) whose registry/repository receives the section's submissions and queries. */
  readonly community: string;
  /** Patient-feed test whose patient id the section's submissions carry. */
  readonly patientOf?: string;
}

export interface GatewayOrchestration {
  /** Collections whose SUT is an initiating gateway: they run in this environment. */
  readonly collections: readonly string[];
  readonly communities: readonly CommunitySpec[];
  /** Data-loading tests the toolkit runs while building the environment, before any plan. */
  readonly loaders: readonly string[];
  /** 'test/section' or 'test' → where its data goes. */
  readonly placements: Readonly<Record<string, Placement>>;
  /** Where data of any other loading step goes (12318 "Responding Gateway test data" for 12306–12308). */
  readonly defaultCommunity: string;
}

/** The toolkit's Initiating Gateway orchestration (IgOrchestrationBuilder, PIF tests 15824–15827). */
export const IG_XCA_ORCHESTRATION: GatewayOrchestration = {
  collections: ['ig(xca)', 'ig(xca)_ad'],
  communities: [
    { name: 'community1', homeCommunityId: 'urn:oid:1.2.34.567.8.1', repositoryUniqueId: '1.2.34.567.8.1.2', registryErrorForPatientsOf: ['15827'] },
    { name: 'community2', homeCommunityId: 'urn:oid:1.2.34.567.8.2', repositoryUniqueId: '1.2.34.567.8.2.2' },
  ],
  loaders: ['15807'],
  placements: {
    // oneDocPid: one document in community1; twoDocPid: two documents in community1.
    '15807/onedoc1': { community: 'community1', patientOf: '15824' },
    '15807/twodoc': { community: 'community1', patientOf: '15825' },
    // twoRgPid: one document in each community.
    '15807/onedoc2': { community: 'community1', patientOf: '15826' },
    '15807/onedoc3': { community: 'community2', patientOf: '15826' },
    // registryErrorPid: community1 answers XDSRegistryError, community2 holds one document.
    '15807/registryError': { community: 'community2', patientOf: '15827' },
  },
  defaultCommunity: 'community1',
};

/** The orchestration that serves a collection, if its SUT is not a plain registry/repository/responding gateway. */
export function orchestrationFor(collection: string): GatewayOrchestration | undefined {
  return IG_XCA_ORCHESTRATION.collections.includes(collection) ? IG_XCA_ORCHESTRATION : undefined;
}

export interface RunningCommunity {
  readonly spec: CommunitySpec;
  readonly node: RunningNode;
  /** What the SUT's directory lists as its ITI-38 endpoint (the stand-in when errors are injected). */
  readonly queryUrl: string;
  readonly retrieveUrl: string;
}

export interface GatewayEnvironment {
  /** The SUT: a conformance node whose initiating gateway knows every community. */
  readonly sut: RunningNode;
  readonly communities: readonly RunningCommunity[];
  /** Options for runCollections: endpoints, where each section's data goes, loaders. */
  runOptions(): Pick<RunOptions, 'baseUrl' | 'homeCommunityId' | 'crossCommunityVia' | 'dataTarget' | 'loaders' | 'configTokens' | 'onSessionStart'>;
  close(): Promise<void>;
}

export async function startGatewayEnvironment(
  orchestration: GatewayOrchestration,
  options: { silent?: boolean; timeoutMs?: number } = {},
): Promise<GatewayEnvironment> {
  const started: { close(): Promise<void> }[] = [];
  const close = async (): Promise<void> => {
    for (const s of started.reverse()) await s.close();
  };
  // The session is created after the environment; the stand-in asks it for patient ids at request time.
  let patientOf: (testId: string) => string | undefined = () => undefined;
  try {
    const communities: RunningCommunity[] = [];
    for (const spec of orchestration.communities) {
      const node = await startConformanceNode({
        silent: options.silent ?? true,
        homeCommunityId: spec.homeCommunityId,
        repositoryUniqueId: spec.repositoryUniqueId,
      });
      started.push(node);
      const respondingUrl = `${node.url}${node.config.endpoints.responding}`;
      let queryUrl = respondingUrl;
      if (spec.registryErrorForPatientsOf && spec.registryErrorForPatientsOf.length > 0) {
        const feeds = spec.registryErrorForPatientsOf;
        const standIn = await startErrorStandIn(respondingUrl, () => feeds.map((f) => patientOf(f)).filter((p): p is string => p !== undefined));
        started.push(standIn);
        queryUrl = standIn.url;
      }
      communities.push({ spec, node, queryUrl, retrieveUrl: respondingUrl });
    }
    const sut = await startConformanceNode({
      silent: options.silent ?? true,
      gateway: {
        communities: communities.map((c) => ({
          homeCommunityId: c.spec.homeCommunityId,
          name: c.spec.name,
          queryUrl: c.queryUrl,
          retrieveUrl: c.retrieveUrl,
          timeoutMs: options.timeoutMs ?? 10_000,
        })),
      },
    });
    started.push(sut);

    const byName = new Map(communities.map((c) => [c.spec.name, c]));
    const target = (name: string, patientFeed?: string): DataTarget => {
      const c = byName.get(name);
      if (!c) throw new Error(`orchestration names an unknown community ${name}`);
      const base = c.node.url;
      return {
        registryUrl: `${base}${c.node.config.endpoints.registry}`,
        repositoryUrl: `${base}${c.node.config.endpoints.repository}`,
        homeCommunityId: c.spec.homeCommunityId,
        repositoryUniqueId: c.spec.repositoryUniqueId,
        ...(patientFeed !== undefined ? { patientOf: patientFeed } : {}),
      };
    };
    const fallback = target(orchestration.defaultCommunity);
    return {
      sut,
      communities,
      runOptions: () => ({
        baseUrl: sut.url,
        ...(sut.config.homeCommunityId ? { homeCommunityId: sut.config.homeCommunityId } : {}),
        crossCommunityVia: 'initiatingGateway',
        loaders: orchestration.loaders,
        dataTarget: (testId, section) => {
          const placed = orchestration.placements[`${testId}/${section}`] ?? orchestration.placements[testId];
          return placed ? target(placed.community, placed.patientOf) : fallback;
        },
        // Plans that retrieve from "the" responding gateway without naming its repository
        // (12308) mean the default community's, as the toolkit fills it from that simulator's config.
        configTokens: { '$repositoryuid$': fallback.repositoryUniqueId },
        onSessionStart: (session) => {
          patientOf = (testId) => session.patientOf(testId);
        },
      }),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * A responding-gateway stand-in: Cross Gateway Queries naming one of the given patients are answered
 * with a Failure carrying XDSRegistryError (what the toolkit's simulator does for its configured
 * patient); every other request is passed through to the real responding gateway unchanged.
 */
async function startErrorStandIn(target: string, patients: () => readonly string[]): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString('utf8');
      const contentType = req.headers['content-type'] ?? '';
      const isQuery = text.includes(ACTIONS.iti38.request);
      const named = patients().some((p) => text.includes(escapeText(p)) || text.includes(p));
      if (isQuery && named && !contentType.startsWith('multipart/')) {
        const envelope = buildEnvelope({
          action: ACTIONS.iti38.response,
          relatesTo: requestMessageId(text),
          body: adhocQueryResponse({
            status: 'Failure',
            errors: [error('XDSRegistryError', 'this community is configured to fail queries for this patient (toolkit errorForPatient)')],
            returnType: 'LeafClass',
            objects: [],
          }),
        });
        res.writeHead(200, { 'content-type': soapContentType(ACTIONS.iti38.response) });
        res.end(envelope.xml);
        return;
      }
      undiciRequest(target, { method: 'POST', headers: { 'content-type': contentType }, body })
        .then(async (answer) => {
          const bytes = Buffer.from(await answer.body.arrayBuffer());
          const type = answer.headers['content-type'];
          res.writeHead(answer.statusCode, typeof type === 'string' ? { 'content-type': type } : {});
          res.end(bytes);
        })
        .catch((e: unknown) => {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`stand-in could not reach ${target}: ${e instanceof Error ? e.message : String(e)}`);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/xca/responding`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function requestMessageId(envelopeText: string): string | undefined {
  try {
    const env = parseXml(envelopeText);
    const header = childElement(env, NS.soap12, 'Header');
    const id = header ? childElement(header, NS.wsa, 'MessageID') : undefined;
    return id ? textContent(id).trim() : undefined;
  } catch {
    return undefined;
  }
}
