/**
 * Reachability of the communities of the directory (gateway.communities), for the operator page.
 *
 * A probe is a GET of the community's queryUrl with `?wsdl`: any HTTP answer, whatever its status,
 * means the endpoint is reachable (a responding gateway need not serve its WSDL, and a 405 or 500
 * still proves that a server listens and TLS works); a refused connection, a TLS failure or no
 * answer within the timeout means it is down. Nothing is sent that a gateway would audit or act on.
 * TLS towards a community uses its own `tls` settings, as the gateway's calls do, so that a probe
 * fails where a real call would.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { NodeConfig } from '../config.js';
import { communityTlsOptions } from '../gateway/wiring.js';

export type CommunityConfig = NodeConfig['gateway']['communities'][number];

export interface ProbeResult {
  readonly homeCommunityId: string;
  readonly name?: string;
  readonly queryUrl: string;
  readonly retrieveUrl?: string;
  readonly up: boolean;
  /** The HTTP status of the answer, when one came. */
  readonly status?: number;
  /** Time to the answer's headers (or to the failure). */
  readonly latencyMs: number;
  /** Why it is down. */
  readonly error?: string;
  readonly probedAt: string;
}

/** The URL probed: the query endpoint's WSDL (`?wsdl`, or `&wsdl` after an existing query). */
export function probeUrl(queryUrl: string): URL {
  const url = new URL(queryUrl);
  url.search = url.search ? `${url.search}&wsdl` : '?wsdl';
  return url;
}

export function probeCommunity(community: CommunityConfig, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  const probedAt = new Date().toISOString();
  const base = {
    homeCommunityId: community.homeCommunityId,
    ...(community.name !== undefined ? { name: community.name } : {}),
    queryUrl: community.queryUrl,
    ...(community.retrieveUrl !== undefined ? { retrieveUrl: community.retrieveUrl } : {}),
    probedAt,
  };
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise<ProbeResult>((resolve) => {
    let settled = false;
    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    let url: URL;
    let tls: Record<string, unknown>;
    try {
      url = probeUrl(community.queryUrl);
      // Read per probe: a renewed certificate is picked up without a restart.
      tls = url.protocol === 'https:' && community.tls !== undefined ? { ...communityTlsOptions(community.tls) } : {};
    } catch (e) {
      finish({ ...base, up: false, latencyMs: 0, error: e instanceof Error ? e.message : String(e) });
      return;
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'GET', agent: false, headers: { accept: '*/*', connection: 'close' }, ...tls }, (res: IncomingMessage) => {
      finish({ ...base, up: true, status: res.statusCode ?? 0, latencyMs: elapsed() });
      // The answer itself is of no interest: drop it and the connection.
      res.resume();
      req.destroy();
    });
    req.on('error', (e: NodeJS.ErrnoException) => finish({ ...base, up: false, latencyMs: elapsed(), error: e.message || e.code || 'connection failed' }));
    const timer = setTimeout(() => {
      finish({ ...base, up: false, latencyMs: elapsed(), error: `no answer within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.end();
  });
}


/**
 * Probes every community at once, at most once per `freshMs`: the page refreshes every 30 s per
 * open tab, and several operators must not multiply the probes. Concurrent callers share one run.
 */
export class CommunityProber {
  private last: { readonly at: number; readonly results: ProbeResult[] } | undefined;
  private running: Promise<ProbeResult[]> | undefined;

  constructor(
    private readonly communities: readonly CommunityConfig[],
    private readonly options: { readonly timeoutMs: number; readonly freshMs: number },
  ) {}

  async probe(force = false): Promise<ProbeResult[]> {
    if (!force && this.last !== undefined && Date.now() - this.last.at < this.options.freshMs) return this.last.results;
    if (this.running !== undefined) return this.running;
    this.running = Promise.all(this.communities.map((c) => probeCommunity(c, this.options.timeoutMs))).then((results) => {
      this.last = { at: Date.now(), results };
      this.running = undefined;
      return results;
    });
    return this.running;
  }
}
