/**
 * The operator page: a static HTML page with one script and one stylesheet (connector/admin/static,
 * no build step) and the small JSON API it reads, for the people who run the node:
 *
 *   GET <path>/                    the page (static files: no secrets, so no token)
 *   GET <path>/api/overview        roles, the node's identity, the effective configuration (secrets masked)
 *   GET <path>/api/communities     the community directory, each probed (?refresh=1 probes now), with call statistics
 *   GET <path>/api/rates           requests and errors per minute over the last hour
 *   GET <path>/api/audit           the audit trail, searched by patient, practitioner, organisation, transaction, outcome and time
 *   GET <path>/api/access-log      one patient's access log (the access-log API, connector/audit/access-log.ts)
 *
 * Every API call needs `Authorization: Bearer <admin.token>`, compared in constant time. The page
 * keeps the token in sessionStorage (gone when the tab closes) and sends it as that header, never
 * as a cookie, so no other site can make the browser call the API on the operator's behalf.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { maskConfig } from '../cli/mask.js';
import type { NodeConfig } from '../config.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { accessLogRouter, parseInstant } from '../audit/access-log.js';
import { TRANSACTION_NAMES } from '../audit/event.js';
import { parsePatientId } from '../audit/patient.js';
import type { AuditSearchQuery, AuditStore } from '../audit/store.js';
import { CommunityProber } from './probe.js';

/**
 * The page's static files. Resolved from the package root, not from this module: the build
 * compiles TypeScript into dist/ and copies no other file, so the sources' folder is the one
 * place they are found whether the node runs from the sources or from dist/.
 */
export const ADMIN_STATIC_DIR = join(PACKAGE_ROOT, 'connector', 'admin', 'static');

/** One minute of request counts (the node's metrics, connector/metrics). */
export interface AdminRateBucket {
  /** The minute's start, ISO 8601. */
  readonly start: string;
  readonly requests: number;
  readonly errors: number;
  readonly byTransaction: Readonly<Record<string, { readonly requests: number; readonly errors: number }>>;
}

/** Outbound call statistics of one community. */
export interface AdminCommunityStats {
  readonly homeCommunityId: string;
  readonly lastLatencyMs?: number;
  readonly lastOk?: boolean;
  readonly lastAt?: string;
  readonly timeouts: number;
  readonly failures: number;
}

/** What the page reads of the node's metrics; NodeMetrics (connector/metrics) has this shape. */
export interface AdminMetricsSource {
  /** Per-minute buckets of the last 60 minutes, oldest first. */
  recentRates(): readonly AdminRateBucket[];
  communities(): readonly AdminCommunityStats[];
}

export interface AdminRouterOptions {
  readonly token: string;
  readonly config: NodeConfig;
  readonly auditStore: AuditStore;
  /** Request rates and community call statistics; without them the page says they are unavailable. */
  readonly metrics?: AdminMetricsSource | undefined;
  /** Deadline of a community probe. Default 3 s. */
  readonly probeTimeoutMs?: number;
  /** Probe results younger than this are reused. Default 5 s. */
  readonly probeFreshMs?: number;
  /** Default ADMIN_STATIC_DIR. */
  readonly staticDir?: string;
}

export const MIN_ADMIN_TOKEN_LENGTH = 32;
const MAX_AUDIT_RESULTS = 1000;
const DEFAULT_AUDIT_RESULTS = 200;
const OUTCOMES = ['success', 'failure', 'refused'] as const;

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Strict enough that the page's own files and fetches are all it can load or run. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function adminRouter(options: AdminRouterOptions): Router {
  // Checked here too, not only by the configuration schema: a short token is guessable.
  if (options.token.length < MIN_ADMIN_TOKEN_LENGTH) throw new Error(`admin token must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters`);
  const expected = digest(options.token);
  const { config, auditStore, metrics } = options;
  const prober = new CommunityProber(config.gateway.communities, {
    timeoutMs: options.probeTimeoutMs ?? 3000,
    freshMs: options.probeFreshMs ?? 5000,
  });
  const router = express.Router();

  router.use((_req, res, next) => {
    res.set({
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    });
    next();
  });
  // `<path>` without its slash: the page's relative URLs (admin.js, api/…) need `<path>/` as base.
  router.get('/', (req, res, next) => {
    const [pathname, query] = req.originalUrl.split('?', 2) as [string, string | undefined];
    if (!pathname.endsWith('/')) {
      res.redirect(308, `${pathname}/${query !== undefined ? `?${query}` : ''}`);
      return;
    }
    next();
  });
  router.use(express.static(options.staticDir ?? ADMIN_STATIC_DIR, { index: 'index.html', redirect: false, dotfiles: 'ignore' }));

  const api = express.Router();
  api.use((req: Request, res: Response, next: NextFunction) => {
    const match = /^Bearer ([^\s]+)$/i.exec(req.get('authorization') ?? '');
    // Hashed first, so the comparison takes the same time whatever the length presented.
    if (!timingSafeEqual(digest(match?.[1] ?? ''), expected) || match === null) {
      res.set('WWW-Authenticate', 'Bearer realm="admin"').status(401).json({ error: 'unauthorized' });
      return;
    }
    next();
  });

  api.get('/overview', (_req, res) => {
    res.json({
      node: {
        homeCommunityId: config.homeCommunityId,
        repositoryUniqueId: config.repository.repositoryUniqueId,
        gatewayMode: config.gateway.mode,
        store: config.mongoUri !== undefined ? 'mongodb' : 'embedded',
        tls: config.tls.enabled,
        trust: config.trust.enabled,
      },
      roles: rolesOf(config),
      config: maskConfig(config),
      features: { metrics: metrics !== undefined, auditSearch: auditStore.search !== undefined },
    });
  });

  api.get('/communities', async (req, res) => {
    const results = await prober.probe(req.query.refresh === '1');
    const stats = new Map((metrics?.communities() ?? []).map((s) => [bare(s.homeCommunityId), s]));
    res.json({
      communities: results.map((r) => {
        const s = stats.get(bare(r.homeCommunityId));
        return { ...r, ...(s !== undefined ? { calls: { ...s, homeCommunityId: undefined } } : {}) };
      }),
    });
  });

  api.get('/rates', (_req, res) => {
    if (metrics === undefined) {
      res.json({ available: false, buckets: [] });
      return;
    }
    res.json({ available: true, buckets: metrics.recentRates() });
  });

  api.get('/audit', async (req, res) => {
    const search = auditStore.search?.bind(auditStore);
    if (search === undefined) {
      res.status(501).json({ error: 'this audit store cannot be searched' });
      return;
    }
    const parsed = auditQuery(req.query, config.registry.patientIds.acceptSyntheticNorwegianIds);
    if ('error' in parsed) {
      res.status(400).json(parsed);
      return;
    }
    try {
      // One more than asked for tells whether the page is all there is.
      const hits = await search({ ...parsed.query, limit: parsed.query.limit + 1 });
      res.json({ events: hits.slice(0, parsed.query.limit), truncated: hits.length > parsed.query.limit });
    } catch {
      res.status(503).json({ error: 'audit store unavailable' });
    }
  });

  // The patient access log exactly as its own API serves it, behind the admin token instead.
  api.use(
    '/access-log',
    accessLogRouter(auditStore, {
      token: options.token,
      maxResults: config.audit.accessLog.maxResults,
      acceptSyntheticIds: config.registry.patientIds.acceptSyntheticNorwegianIds,
    }),
  );
  api.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });

  router.use('/api', api);
  return router;
}

function bare(oid: string): string {
  return oid.replace(/^urn:oid:/, '');
}

/** What each mounted path serves, in node.ts's order (the start log says the same at start). */
function rolesOf(config: NodeConfig): { path: string; role: string }[] {
  const e = config.endpoints;
  const registryTarget = config.repository.registryUrl !== undefined ? 'a remote registry' : "this node's registry";
  const communities = config.gateway.communities.length;
  const over = `${communities} configured ${communities === 1 ? 'community' : 'communities'}`;
  const roles = [
    { path: '/health', role: 'readiness' },
    { path: e.registry, role: 'Document Registry (ITI-42, ITI-18)' },
    { path: e.repository, role: `Document Repository (ITI-41, ITI-43), registering with ${registryTarget}` },
  ];
  if (config.gateway.mode === 'hub') {
    roles.push(
      { path: e.responding, role: `XCA Responding Gateway, hub mode (ITI-38, ITI-39), fanned out to ${over}` },
      { path: e.initiating, role: `XCA Initiating Gateway, hub mode (ITI-18, ITI-43 federated) over ${over}` },
    );
  } else {
    roles.push(
      { path: e.responding, role: "XCA Responding Gateway (ITI-38, ITI-39), answering from this node's registry and repository" },
      { path: e.initiating, role: `XCA Initiating Gateway (ITI-18, ITI-43 federated) over this node and ${over}` },
    );
  }
  if (config.trust.blocksApi.token !== undefined) roles.push({ path: config.trust.blocksApi.path, role: 'patient-block admin API' });
  if (config.audit.accessLog.token !== undefined) roles.push({ path: config.audit.accessLog.path, role: 'patient access log API' });
  roles.push({ path: config.admin.path, role: 'operator page (this page)' });
  return roles;
}

type Query = Request['query'];

/** The audit search's parameters, checked; an error names the parameter. */
function auditQuery(q: Query, synthetic: boolean): { query: AuditSearchQuery } | { error: string; field: string } {
  const text = (name: string): string | undefined => {
    const v = q[name];
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  };
  for (const name of ['patient', 'practitioner', 'organisation', 'transaction', 'outcome', 'from', 'to', 'limit']) {
    const v = q[name];
    if (v !== undefined && typeof v !== 'string') return { error: `${name} must be given once`, field: name };
    if (typeof v === 'string' && v.length > 256) return { error: `${name} is too long`, field: name };
  }
  let patientId: string | undefined;
  const patient = text('patient');
  if (patient !== undefined) {
    const parsed = parsePatientId(patient, { synthetic });
    if ('error' in parsed) return { error: parsed.error, field: 'patient' };
    patientId = parsed.key.id;
  }
  const transaction = text('transaction');
  if (transaction !== undefined && !Object.hasOwn(TRANSACTION_NAMES, transaction)) {
    return { error: `transaction must be one of ${Object.keys(TRANSACTION_NAMES).join(', ')}`, field: 'transaction' };
  }
  const outcome = text('outcome');
  if (outcome !== undefined && !(OUTCOMES as readonly string[]).includes(outcome)) {
    return { error: `outcome must be one of ${OUTCOMES.join(', ')}`, field: 'outcome' };
  }
  const from = parseInstant(text('from'));
  if (from === null) return { error: 'from must be an ISO 8601 date or date-time with a zone', field: 'from' };
  const to = parseInstant(text('to'));
  if (to === null) return { error: 'to must be an ISO 8601 date or date-time with a zone', field: 'to' };
  let limit = DEFAULT_AUDIT_RESULTS;
  const limitText = text('limit');
  if (limitText !== undefined) {
    limit = /^[1-9]\d{0,5}$/.test(limitText) ? Number(limitText) : Number.NaN;
    if (!(limit <= MAX_AUDIT_RESULTS)) return { error: `limit must be a whole number from 1 to ${MAX_AUDIT_RESULTS}`, field: 'limit' };
  }
  return {
    query: {
      patientId,
      practitioner: text('practitioner'),
      organisation: text('organisation'),
      transaction,
      outcome: outcome as AuditSearchQuery['outcome'],
      from,
      to,
      limit,
    },
  };
}
