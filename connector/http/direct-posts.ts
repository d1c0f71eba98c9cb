/**
 * POSTs to the exact path of a SOAP endpoint go straight to the endpoint's handler, without
 * express.
 *
 * Why: every SOAP request is a POST to one fixed path, yet express walked its router for each one
 * (the final-handler closure, a `next` closure per layer, the URL parsed, each earlier layer's path
 * matched, the mount path trimmed from the URL and put back) and, before that, swapped the
 * prototype of Node's request and response for its own. Swapping an IncomingMessage's prototype
 * alone costs ~6–8 µs (measured in a loop: 0.2 → 8 µs per request object) and leaves the request
 * an object whose every property read is slow. In a profile of the node under the ITI-42 bench
 * line the two were ~4 % of the main thread (~25 µs per registration).
 *
 * The handlers taken directly (the SOAP endpoint, the client-certificate guard) use Node's request
 * and response only, plus what express and this both set (`RoutedRequest`): the request as it was
 * addressed (`originalUrl`), the URL below the mount (`url`, here `/`), the response (`res`).
 * Every other request (another method, a query string, a trailing slash, another case) goes
 * through express as before.
 *
 * Only a path no other mount overlaps is taken: express gives a request to the first layer whose
 * path is a segment-wise prefix of it, case-insensitively, so a mount at `/xds` ahead of
 * `/xds/registry` would take that endpoint's requests. Where two mounts overlap, express decides.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type express from 'express';

/**
 * A request as a mounted handler sees it, routed by express or taken directly: Node's request, the
 * URL below the mount path in `url`, and what both set.
 */
export interface RoutedRequest extends IncomingMessage {
  /** The request target as the client sent it (express's `originalUrl`). */
  originalUrl: string;
  res?: ServerResponse | undefined;
}

/** The path of a request target: the URL without its query (what express's `req.path` gives below a mount). */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** A handler that needs nothing of express: it can be mounted on the app and taken directly. */
export type RoutedHandler = (req: RoutedRequest, res: ServerResponse, next: (err?: unknown) => void) => void;

export interface DirectPost {
  /** The endpoint's mount path, as given to `app.use`. */
  readonly path: string;
  /** What is mounted there. */
  readonly handler: RoutedHandler;
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The listener: `direct` endpoints' POSTs to their exact paths go to their handlers, everything
 * else to `app`. `otherMounts` are the paths of everything else mounted on the app (which only
 * decide what may not be taken directly).
 */
export function directPosts(app: express.Express, direct: readonly DirectPost[], otherMounts: readonly string[]): Listener {
  const all = [...direct.map((d) => d.path), ...otherMounts];
  const routes = new Map<string, RoutedHandler>();
  for (const d of direct) {
    if (directlyRoutable(d.path, all)) routes.set(d.path, d.handler);
  }
  if (routes.size === 0) return app;
  return (req, res) => {
    const url = req.url!;
    const handler = req.method === 'POST' ? routes.get(url) : undefined;
    if (handler === undefined) {
      app(req, res);
      return;
    }
    // What express's router sets before calling a handler mounted with app.use(path).
    const request = req as RoutedRequest;
    request.originalUrl = url;
    request.url = '/';
    request.res = res;
    handler(request, res, (err?: unknown) => unrouted(request, res, err));
  };
}

/**
 * A path taken directly: no trailing slash (express then also matches without one) and no overlap
 * with any other mount (equal, or a segment-wise prefix either way, ignoring case as express does).
 */
function directlyRoutable(path: string, all: readonly string[]): boolean {
  if (path.endsWith('/')) return false;
  const own = path.toLowerCase();
  let self = 0;
  for (const other of all) {
    const o = other.toLowerCase();
    if (o === own) {
      // The path itself is in the list once; a second mount at the same path is an overlap.
      if (++self > 1) return false;
      continue;
    }
    if (o === '/' || o.endsWith('/') || own.startsWith(`${o}/`) || o.startsWith(`${own}/`)) return false;
  }
  return true;
}

/**
 * A handler taken directly passed the request on. The SOAP endpoint and the client-certificate
 * guard answer every POST themselves, so this only happens through a bug; express would have
 * offered the request to the later layers, none of which serves the path, and answered as its
 * final handler does: 404 without an error, the error's status (or 500) with one.
 */
function unrouted(req: RoutedRequest, res: ServerResponse, err: unknown): void {
  req.url = req.originalUrl;
  if (res.headersSent) {
    req.socket.destroy();
    return;
  }
  const status = err === undefined ? 404 : errorStatus(err);
  const body = Buffer.from(err === undefined ? `Cannot ${req.method} ${req.originalUrl}\n` : 'Internal Server Error\n', 'utf8');
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, 'X-Content-Type-Options': 'nosniff' });
  res.end(body);
}

function errorStatus(err: unknown): number {
  const status = (err as { status?: unknown; statusCode?: unknown } | null)?.status ?? (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}
