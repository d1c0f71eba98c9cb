/**
 * The patient's access log: for one patient and a time range, who accessed which documents,
 * when, and with what result — the citizen's right to see who read their records.
 *
 * The practitioner is shown by name, organisation, point of care and role, never by national id
 * number (ATT-8). The projection is made when the event is stored (accessEntryOf), from named
 * fields only, so the fødselsnummer never reaches this table at all; the response is built
 * from that projection alone.
 *
 * The HTTP API is guarded by its own bearer credential, compared in constant time, because it
 * is reached by a citizen-facing service (e.g. helsenorge), not by IHE peers.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { TRANSACTION_NAMES, type AuditEvent } from './event.js';
import { patientKeyOf, type AuditStore } from './store.js';

/** One access as the patient sees it. */
export interface AccessEntry {
  /** The IHE transaction, or null for a security failure. */
  readonly transaction: string | null;
  /** Human-readable action ("Registry Stored Query", "Retrieve Document Set"). */
  readonly action: string;
  readonly outcome: 'success' | 'failure' | 'refused';
  readonly practitioner: {
    readonly name?: string;
    readonly role?: string;
  };
  readonly organisation?: { readonly id: string; readonly name?: string };
  readonly pointOfCare?: { readonly id: string; readonly name?: string };
  readonly purpose?: string;
  /** Document uniqueIds involved (retrieved, submitted or removed). */
  readonly documents: readonly string[];
}

/** The projection stored beside each event. Only the fields named here leave the audit store. */
export function accessEntryOf(event: AuditEvent): AccessEntry {
  const p = event.requestor;
  const practitioner: { name?: string; role?: string } = {};
  if (p?.name !== undefined) practitioner.name = p.name;
  if (p?.role !== undefined) practitioner.role = p.role.display ?? p.role.code;
  const org = p?.organisation;
  const poc = p?.pointOfCare;
  return {
    transaction: event.transaction,
    action: event.transaction !== null ? TRANSACTION_NAMES[event.transaction] : event.eventTypes[0]?.display ?? event.eventId.display,
    outcome: event.denied ? 'refused' : event.outcome === 'success' ? 'success' : 'failure',
    practitioner,
    ...(org !== undefined ? { organisation: { id: org.id, ...(org.name !== undefined ? { name: org.name } : {}) } } : {}),
    ...(poc !== undefined ? { pointOfCare: { id: poc.id, ...(poc.name !== undefined ? { name: poc.name } : {}) } } : {}),
    ...(p?.purposeOfUse !== undefined ? { purpose: p.purposeOfUse.display ?? p.purposeOfUse.code } : {}),
    documents: event.documents.map((d) => d.uniqueId),
  };
}

export interface AccessLogResponse {
  readonly patientId: string;
  readonly from: string;
  readonly to: string;
  readonly accesses: ReadonlyArray<AccessEntry & { readonly time: string }>;
  /** True when more accesses exist in the range than were returned (narrow the range). */
  readonly truncated: boolean;
}

export interface AccessLogRouterOptions {
  /** The bearer token callers must present. */
  readonly token: string;
  /** Most accesses per response. Default 1000. */
  readonly maxResults?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time token check; hashing first makes the comparison length-independent too. */
function authorised(req: Request, expected: Buffer): boolean {
  const header = req.get('authorization') ?? '';
  const match = /^Bearer ([^\s]+)$/i.exec(header);
  const presented = digest(match?.[1] ?? '');
  return timingSafeEqual(presented, expected) && match !== null;
}

function parseInstant(value: unknown): Date | undefined | null {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value)) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * GET /?patientId=<fnr or CX>&from=<ISO date/time>&to=<ISO date/time>
 * Defaults: to = now, from = 365 days before `to`.
 */
export function accessLogRouter(store: AuditStore, options: AccessLogRouterOptions): Router {
  if (options.token.length < 16) throw new Error('access log token must be at least 16 characters');
  const expected = digest(options.token);
  const maxResults = options.maxResults ?? 1000;
  const router = express.Router();

  router.get('/', async (req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store');
    if (!authorised(req, expected)) {
      res.set('WWW-Authenticate', 'Bearer realm="access-log"').status(401).json({ error: 'unauthorized' });
      return;
    }
    const patientParam = req.query.patientId;
    if (typeof patientParam !== 'string' || patientParam.trim() === '') {
      res.status(400).json({ error: 'patientId is required (fødselsnummer, D-number or CX)' });
      return;
    }
    const key = patientKeyOf(patientParam);
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(key.id)) {
      res.status(400).json({ error: 'patientId is not a valid identifier' });
      return;
    }
    const to = parseInstant(req.query.to);
    const fromParam = parseInstant(req.query.from);
    if (to === null || fromParam === null) {
      res.status(400).json({ error: 'from and to must be ISO 8601 dates or date-times' });
      return;
    }
    const end = to ?? new Date();
    const start = fromParam ?? new Date(end.getTime() - 365 * DAY_MS);
    if (start.getTime() > end.getTime()) {
      res.status(400).json({ error: 'from must not be after to' });
      return;
    }
    try {
      const found = await store.patientAccesses({
        patientId: key.id,
        assigningAuthority: key.authority,
        from: start,
        to: end,
        limit: maxResults + 1,
      });
      const body: AccessLogResponse = {
        patientId: key.id,
        from: start.toISOString(),
        to: end.toISOString(),
        accesses: found.slice(0, maxResults).map((a) => ({ time: a.recorded, ...a.entry })),
        truncated: found.length > maxResults,
      };
      res.json(body);
    } catch {
      res.status(503).json({ error: 'audit store unavailable' });
    }
  });
  return router;
}
