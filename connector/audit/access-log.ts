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
import { parsePatientId } from './patient.js';
import type { AuditStore } from './store.js';

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
  /** Newest first. */
  readonly accesses: ReadonlyArray<AccessEntry & { readonly time: string }>;
  /** True when more accesses exist in the range than this page holds: `next` fetches them. */
  readonly truncated: boolean;
  /** The URL (path and query) of the next, older page; only when `truncated`. */
  readonly next?: string;
}

export interface AccessLogRouterOptions {
  /** The bearer token callers must present. */
  readonly token: string;
  /** Most accesses per page (and the default page size). Default 1000. */
  readonly maxResults?: number;
  /** Accept synthetic test-register ids (month + 80) as patient ids: the registry's `acceptSyntheticNorwegianIds`. Default false. */
  readonly acceptSyntheticIds?: boolean;
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

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):(\d{2})))?$/;

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * A date (`2026-02-28`, midnight UTC) or a date-time with a zone (`…T10:00Z`, `…T10:00:00.5+01:00`),
 * read strictly: every field must exist in the calendar and the clock (`2026-02-30`, `T24:00`,
 * `+15:00` are errors, not rolled over as `new Date` does); undefined when absent, null when invalid.
 */
export function parseInstant(value: unknown): Date | undefined | null {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return null;
  const m = INSTANT.exec(value);
  if (m === null) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  const hour = m[4] !== undefined ? Number(m[4]) : 0;
  const minute = m[5] !== undefined ? Number(m[5]) : 0;
  const second = m[6] !== undefined ? Number(m[6]) : 0;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const ms = m[7] !== undefined ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  let offset = 0;
  if (m[9] !== undefined) {
    const [oh, om] = [Number(m[10]), Number(m[11])];
    if (oh > 14 || om > 59) return null;
    offset = (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC reads years 0–99 as 1900–1999; such dates are no access-log range anyway.
  if (year < 100) return null;
  return new Date(utc - offset);
}

/** The page cursor: the (time, id) of the last access of the page before, base64url, opaque to callers. */
interface Cursor {
  readonly recorded: string;
  readonly id: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.recorded} ${c.id}`, 'utf8').toString('base64url');
}

function decodeCursor(value: string): Cursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(value)) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(
    Buffer.from(value, 'base64url').toString('utf8'),
  );
  return m === null ? undefined : { recorded: m[1]!, id: m[2]! };
}

/** 400 with the message and the parameter it concerns. */
function badRequest(res: Response, field: string, error: string): void {
  res.status(400).json({ error, field });
}

/**
 * GET /?patientId=<fnr, D-number or CX>&from=<date or date-time>&to=<date or date-time>&count=<n>&cursor=<c>
 * Defaults: to = now, from = 365 days before `to`, count = maxResults. Newest first; when more
 * accesses exist than `count`, the response's `next` is the URL of the next (older) page, with
 * from and to fixed to this page's range so that paging does not drift with the clock.
 */
export function accessLogRouter(store: AuditStore, options: AccessLogRouterOptions): Router {
  if (options.token.length < 16) throw new Error('access log token must be at least 16 characters');
  const expected = digest(options.token);
  const maxResults = options.maxResults ?? 1000;
  const synthetic = options.acceptSyntheticIds ?? false;
  const router = express.Router();

  router.get('/', async (req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store');
    if (!authorised(req, expected)) {
      res.set('WWW-Authenticate', 'Bearer realm="access-log"').status(401).json({ error: 'unauthorized' });
      return;
    }
    const patientParam = req.query.patientId;
    if (typeof patientParam !== 'string' || patientParam.trim() === '') {
      badRequest(res, 'patientId', 'patientId is required (fødselsnummer, D-number or CX)');
      return;
    }
    const patient = parsePatientId(patientParam, { synthetic });
    if ('error' in patient) {
      badRequest(res, 'patientId', patient.error);
      return;
    }
    const key = patient.key;
    const to = parseInstant(req.query.to);
    if (to === null) {
      badRequest(res, 'to', 'to must be a valid ISO 8601 date (YYYY-MM-DD) or date-time with a zone');
      return;
    }
    const fromParam = parseInstant(req.query.from);
    if (fromParam === null) {
      badRequest(res, 'from', 'from must be a valid ISO 8601 date (YYYY-MM-DD) or date-time with a zone');
      return;
    }
    const end = to ?? new Date();
    const start = fromParam ?? new Date(end.getTime() - 365 * DAY_MS);
    if (start.getTime() > end.getTime()) {
      badRequest(res, 'from', 'from must not be after to');
      return;
    }
    let count = maxResults;
    if (req.query.count !== undefined) {
      const c = typeof req.query.count === 'string' && /^[1-9]\d{0,6}$/.test(req.query.count) ? Number(req.query.count) : Number.NaN;
      if (!(c >= 1 && c <= maxResults)) {
        badRequest(res, 'count', `count must be a whole number from 1 to ${maxResults}`);
        return;
      }
      count = c;
    }
    let before: Cursor | undefined;
    if (req.query.cursor !== undefined) {
      before = typeof req.query.cursor === 'string' ? decodeCursor(req.query.cursor) : undefined;
      if (before === undefined) {
        badRequest(res, 'cursor', 'cursor is not one this API gave out');
        return;
      }
    }
    try {
      const found = await store.patientAccesses({
        patientId: key.id,
        assigningAuthority: key.authority,
        from: start,
        to: end,
        limit: count + 1,
        newestFirst: true,
        before,
      });
      const page = found.slice(0, count);
      const truncated = found.length > count;
      const last = page[page.length - 1];
      let next: string | undefined;
      if (truncated && last !== undefined) {
        const query = new URLSearchParams({
          patientId: patientParam,
          from: start.toISOString(),
          to: end.toISOString(),
          count: String(count),
          cursor: encodeCursor({ recorded: last.recorded, id: last.id }),
        });
        next = `${req.baseUrl}${req.path === '/' ? '' : req.path}?${query.toString()}`;
      }
      const body: AccessLogResponse = {
        patientId: key.id,
        from: start.toISOString(),
        to: end.toISOString(),
        accesses: page.map((a) => ({ time: a.recorded, ...a.entry })),
        truncated,
        ...(next !== undefined ? { next } : {}),
      };
      res.json(body);
    } catch {
      res.status(503).json({ error: 'audit store unavailable' });
    }
  });
  return router;
}
