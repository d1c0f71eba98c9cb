/**
 * Requests an endpoint answers whole go straight from the listener to its handler, without
 * express: POSTs to the exact path of a SOAP endpoint, and every request at or below the MHD
 * endpoint's path.
 *
 * Why: express walked its router for each request (the final-handler closure, a `next` closure per
 * layer, the URL parsed, each earlier layer's path matched, the mount path trimmed from the URL and
 * put back) and, before that, swapped the prototype of Node's request and response for its own.
 * Swapping an IncomingMessage's prototype alone costs ~6–8 µs (measured in a loop: 0.2 → 8 µs per
 * request object) and leaves the request an object whose every property read is slow. In a
 * profile of the node under the ITI-42 bench line the two were ~4 % of the main thread (~25 µs per
 * registration); `npm run bench:routing` measures ~100 µs per request.
 *
 * The handlers taken directly use Node's request and response only, plus what express and this
 * both set (`RoutedRequest`): the request as it was addressed (`originalUrl`), the URL below the
 * mount (`url`), the response (`res`). They stay mounted on the app as well, and express hands
 * them whatever this does not take, so an endpoint behaves the same either way.
 *
 * What a route takes (`takes`):
 * - `posts`: POSTs to the path itself, no query, no trailing slash (a SOAP endpoint, whose other
 *   methods use express's helpers: `?wsdl`).
 * - `subtree`: every method at the path or below it (an endpoint that routes and answers all of
 *   them itself, the MHD endpoint): `/fhir`, `/fhir?…`, `/fhir/`, `/fhir/DocumentReference?…`.
 * Either way only the path as configured, letter for letter: express matches a mount path
 * ignoring case (`/FHIR/…` reaches the same handler through express), and an empty segment
 * (`/fhir//x`) is left to express's own trimming.
 *
 * Only a path no other mount overlaps is taken: express gives a request to the first layer whose
 * path is a segment-wise prefix of it, case-insensitively, so a mount at `/xds` ahead of
 * `/xds/registry` would take that endpoint's requests. Where two mounts overlap, express decides.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type express from 'express';
import { finalAnswer } from './final-answer.js';

/**
 * A request as a mounted handler sees it, routed by express or taken directly: Node's request, the
 * URL below the mount path in `url`, and what both set.
 */
export interface RoutedRequest extends IncomingMessage {
  /** The request target as the client sent it (express's `originalUrl`). */
  originalUrl: string;
  res?: ServerResponse | undefined;
}

/** A handler that needs nothing of express: it can be mounted on the app and taken directly. */
export type RoutedHandler = (req: RoutedRequest, res: ServerResponse, next: (err?: unknown) => void) => void;

/** What a direct route takes (see the module comment). */
export type DirectlyTaken = 'posts' | 'subtree';

export interface DirectRoute {
  /** The endpoint's mount path, as given to `app.use`. */
  readonly path: string;
  /** What is mounted there. */
  readonly handler: RoutedHandler;
  readonly takes: DirectlyTaken;
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The listener: what the `direct` routes take goes to their handlers, everything else to `app`.
 * `otherMounts` are the paths of everything else mounted on the app (which only decide what may
 * not be taken directly).
 */
export function directRoutes(app: express.Express, direct: readonly DirectRoute[], otherMounts: readonly string[]): Listener {
  const all = [...direct.map((d) => d.path), ...otherMounts];
  const posts = new Map<string, RoutedHandler>();
  const subtrees: { readonly path: string; readonly handler: RoutedHandler }[] = [];
  for (const d of direct) {
    if (!directlyRoutable(d.path, all)) continue;
    if (d.takes === 'posts') posts.set(d.path, d.handler);
    else subtrees.push({ path: d.path, handler: d.handler });
  }
  if (posts.size === 0 && subtrees.length === 0) return app;
  return (req, res) => {
    const url = req.url!;
    if (req.method === 'POST') {
      const handler = posts.get(url);
      if (handler !== undefined) {
        take(handler, req, res, url, '/');
        return;
      }
    }
    for (const s of subtrees) {
      const below = belowMount(url, s.path);
      if (below !== undefined) {
        take(s.handler, req, res, url, below);
        return;
      }
    }
    app(req, res);
  };
}

/** Hands a request to a handler with what express's router sets before calling one mounted with app.use(path). */
function take(handler: RoutedHandler, req: IncomingMessage, res: ServerResponse, url: string, below: string): void {
  const request = req as RoutedRequest;
  request.originalUrl = url;
  request.url = below;
  request.res = res;
  handler(request, res, (err?: unknown) => unrouted(request, res, err));
}

/**
 * The URL below a mount path, as express would give it to the handler (`/fhir?a` → `/?a`,
 * `/fhir/x` → `/x`), or undefined when the URL is not at or below the path letter for letter, or
 * its next segment is empty (express trims such URLs its own way: they are left to it).
 */
export function belowMount(url: string, path: string): string | undefined {
  if (!url.startsWith(path)) return undefined;
  const n = path.length;
  if (url.length === n) return '/';
  const next = url.charCodeAt(n);
  if (next === 0x3f /* ? */) return `/${url.slice(n)}`;
  if (next !== 0x2f /* / */ || url.charCodeAt(n + 1) === 0x2f) return undefined;
  return url.slice(n);
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
 * A handler taken directly passed the request on. The SOAP endpoint, the client-certificate guard
 * and the MHD endpoint answer every request they take themselves, so this only happens through a
 * bug; express would have offered the request to the later layers and then to the node's final
 * handlers, which answer as this does (final-answer.ts).
 */
function unrouted(req: RoutedRequest, res: ServerResponse, err: unknown): void {
  req.url = req.originalUrl;
  finalAnswer(req, res, err);
}
