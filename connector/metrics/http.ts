/**
 * `GET <metrics.path>`: the Prometheus exposition of one node, off the IHE endpoints.
 *
 * With `metrics.token` set, a scrape needs `Authorization: Bearer <token>` (Prometheus'
 * `authorization` / `bearer_token_file`); without one the endpoint is open, which the start log
 * and the README say. The numbers carry no patient data, but they do show traffic and community
 * health, so an exposed node should set the token or keep the path off its public interface.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type express from 'express';
import type { NodeMetrics } from './metrics.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time check: both sides hashed first, so neither the content nor the length leaks. */
function authorised(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer ([^\s]+)$/i.exec(header ?? '');
  const ok = timingSafeEqual(digest(match?.[1] ?? ''), expected);
  return ok && match !== null;
}

export interface MetricsHandlerOptions {
  readonly token?: string | undefined;
  /**
   * The exposition to answer instead of this process's: a worker of a multi-process node asks the
   * primary for the whole node's (connector/cluster/metrics.ts).
   */
  readonly exposition?: (() => Promise<string>) | undefined;
}

export function metricsHandler(metrics: NodeMetrics, options: MetricsHandlerOptions): express.RequestHandler {
  const exposition = options.exposition ?? (() => metrics.exposition());
  const expected = options.token !== undefined ? digest(options.token) : undefined;
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.status(405).setHeader('Allow', 'GET, HEAD');
      res.type('text/plain').send('GET the metrics');
      return;
    }
    if (expected !== undefined && !authorised(req.get('authorization'), expected)) {
      res.status(401).setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      res.type('text/plain').send('a bearer token is required');
      return;
    }
    exposition().then((text) => {
      res.status(200).setHeader('Content-Type', metrics.contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.send(text);
    }, next);
  };
}
