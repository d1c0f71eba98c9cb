/**
 * Builds the gateway actors of a node from its configuration: the community directory (one SOAP
 * client per community), the shared concurrency cap, the local community, and the responding and
 * initiating gateways for node or hub mode. connector/node.ts mounts what this returns.
 */
import { readFileSync } from 'node:fs';
import type { NodeConfig } from '../config.js';
import type { DocumentRegistry } from '../../registry/registry.js';
import { SoapClient, type ClientTlsOptions } from '../soap/client.js';
import { InitiatingGateway } from './initiating.js';
import { Limiter } from './limiter.js';
import { localCommunity } from './local.js';
import { sameOid } from './oid.js';
import { remoteCommunity } from './remote.js';
import type { CommunityCallObserver } from './fanout.js';
import { federatedSource, RespondingGateway } from './responding.js';
import type { Community, DocumentSource } from './types.js';

export interface Gateways {
  readonly responding: RespondingGateway;
  readonly initiating: InitiatingGateway;
  readonly limiter: Limiter;
  /** Closes the outbound connection pools. */
  close(): Promise<void>;
}

type CommunityConfig = NodeConfig['gateway']['communities'][number];

export function createGateways(
  config: NodeConfig,
  registry: DocumentRegistry,
  repository?: DocumentSource,
  /** Sees every outbound call of the initiating gateway (connector/metrics). */
  observe?: CommunityCallObserver,
): Gateways | undefined {
  const home = config.homeCommunityId;
  // A parsed configuration always has a homeCommunityId (the demo default when none is set), so
  // the gateways are always built. The guard is for a configuration assembled by hand without
  // one: a gateway that cannot stamp `home` on what it answers is not built at all.
  if (home === undefined) return undefined;
  const g = config.gateway;
  const limiter = new Limiter(g.maxConcurrency);
  const clients: SoapClient[] = [];
  const remotes: Community[] = g.communities
    // The node's own entry in a shared directory file is itself, served locally.
    .filter((c) => !sameOid(c.homeCommunityId, home))
    .map((c) => {
      const client = new SoapClient({
        maxResponseBytes: g.maxResponseBytes,
        maxXmlDepth: config.limits.maxXmlDepth,
        ...(c.tls ? { tls: communityTlsOptions(c.tls) } : {}),
      });
      clients.push(client);
      return remoteCommunity({
        homeCommunityId: c.homeCommunityId,
        queryUrl: c.queryUrl,
        ...(c.retrieveUrl !== undefined ? { retrieveUrl: c.retrieveUrl } : {}),
        timeoutMs: c.timeoutMs ?? g.defaultTimeoutMs,
        serves: c.serves,
        client,
      });
    });

  let initiating: InitiatingGateway;
  let responding: RespondingGateway;
  if (g.mode === 'hub') {
    initiating = new InitiatingGateway({ communities: remotes, limiter, observe });
    responding = new RespondingGateway(home, federatedSource(initiating), {
      serves: (h) => initiating.community(h) !== undefined,
    });
  } else {
    const local = localCommunity({
      homeCommunityId: home,
      registry,
      ...(repository ? { repository } : {}),
      timeoutMs: g.defaultTimeoutMs,
    });
    initiating = new InitiatingGateway({ communities: [local, ...remotes], limiter, observe });
    const retrieveLocal = local.retrieve;
    responding = new RespondingGateway(home, {
      query: (request) => registry.query(request),
      ...(retrieveLocal ? { retrieve: (requests) => retrieveLocal(requests, { signal: new AbortController().signal }) } : {}),
      // XCA Persistence Option: an ITI-92 at the responding gateway updates this node's registry.
      registry,
    });
  }
  return {
    responding,
    initiating,
    limiter,
    async close() {
      await Promise.all(clients.map((c) => c.close()));
    },
  };
}

/**
 * The client TLS options of a community entry (certificate files read now). Shared with the
 * operator page's probe, which reads them at every probe so a renewed certificate needs no restart.
 */
export function communityTlsOptions(tls: NonNullable<CommunityConfig['tls']>): ClientTlsOptions {
  const read = (file: string): Buffer => readFileSync(file);
  return {
    ...(tls.caFile !== undefined ? { ca: read(tls.caFile) } : {}),
    ...(tls.certFile !== undefined ? { cert: read(tls.certFile) } : {}),
    ...(tls.keyFile !== undefined ? { key: read(tls.keyFile) } : {}),
    ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}),
    ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
    rejectUnauthorized: tls.rejectUnauthorized,
  };
}
