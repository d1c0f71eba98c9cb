/**
 * The MHD endpoint's own routing: a request's method and path below the mount → the handler of
 * its route, a 405 with the methods the path takes, or nothing (404). Small on purpose: the
 * endpoint has seven paths, and without express's router a request to it can go from the listener
 * straight to its handler (connector/http/direct-routes.ts), as the SOAP POSTs do.
 *
 * It matches as the express Router it replaced did (`Router({ caseSensitive: true, strict: false
 * })`, path-to-regexp 8), so that no answer changed: paths compared letter for letter, one trailing
 * slash ignored, a `:name` segment matching one non-empty segment (percent-decoded), HEAD served
 * by the GET handler, and the first route whose path matches deciding. The one difference: a
 * `:name` segment that is not valid percent-encoding was express's 400 error page; here it is a
 * FhirError (400 with an OperationOutcome).
 */
import { pathOf } from '../../http/request-path.js';
import { FhirError } from './answer.js';

/** A route's handlers by method (HEAD is answered by GET's). */
export interface RouteSpec<H> {
  /** Below the mount: `/`, `/metadata`, `/DocumentReference/:id`. */
  readonly path: string;
  readonly methods: Readonly<Partial<Record<'GET' | 'POST', H>>>;
}

export type RouteMatch<H> =
  | { readonly kind: 'handler'; readonly handler: H; readonly params: Readonly<Record<string, string>> }
  /** The path is known, the method is not one it takes. */
  | { readonly kind: 'method'; readonly allow: string }
  | { readonly kind: 'none' };

interface CompiledRoute<H> {
  /** Literal segments, or a parameter's name after `:`. */
  readonly segments: readonly string[];
  readonly methods: ReadonlyMap<string, H>;
  readonly allow: string;
}

export function routeTable<H>(specs: readonly RouteSpec<H>[]): (method: string, url: string) => RouteMatch<H> {
  const routes: CompiledRoute<H>[] = specs.map((s) => {
    const methods = new Map<string, H>();
    for (const [m, h] of Object.entries(s.methods) as [string, H | undefined][]) if (h !== undefined) methods.set(m, h);
    return { segments: segmentsOf(s.path), methods, allow: [...methods.keys()].join(', ') };
  });
  return (method, url) => {
    const segments = segmentsOf(pathOf(url), true);
    for (const route of routes) {
      const params = matchSegments(route.segments, segments);
      if (params === undefined) continue;
      const handler = route.methods.get(method) ?? (method === 'HEAD' ? route.methods.get('GET') : undefined);
      return handler === undefined ? { kind: 'method', allow: route.allow } : { kind: 'handler', handler, params };
    }
    return { kind: 'none' };
  };
}

/** `/a/b` → ['a', 'b'], `/` → []; for a request's path, one trailing slash is dropped first (strict: false). */
function segmentsOf(path: string, request = false): string[] {
  let p = path;
  if (request && p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  if (p === '/') return [];
  return p.slice(1).split('/');
}

function matchSegments(route: readonly string[], path: readonly string[]): Record<string, string> | undefined {
  if (route.length !== path.length) return undefined;
  let params: Record<string, string> | undefined;
  for (let i = 0; i < route.length; i++) {
    const r = route[i]!;
    const p = path[i]!;
    if (r.startsWith(':')) {
      if (p === '') return undefined;
      (params ??= {})[r.slice(1)] = decoded(p);
    } else if (r !== p) return undefined;
  }
  return params ?? {};
}

function decoded(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    throw FhirError.http(400, 'invalid', 'the URL has a segment that is not valid percent-encoding');
  }
}
