/**
 * The patient-block admin API: a small JSON API over a PatientBlockStore, for the tool that
 * registers a patient's blocks (helsenorge's "sperring", a case worker's console).
 *
 *   GET    <path>?patientId=<id>   → 200 { blocks: PatientBlock[] }
 *   POST   <path>                  { patientId, kind: 'all'|'practitioner'|'organization', value?, reason? } → 201 PatientBlock
 *   DELETE <path>/<blockId>        → 204, or 404 when there is no such block
 *
 * `patientId` is a fødselsnummer or D-number (11 digits, check digits verified; written into the
 * store as a CX with the national OID) or a full CX `id^^^&oid&ISO`. Every call needs
 * `Authorization: Bearer <token>` (compared in constant time); errors are JSON `{ error }` and
 * never echo internals. The API is separate from the SOAP endpoints: its caller is an
 * administrator, not a health-care system, so it has its own credential.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import express from 'express';
import type winston from 'winston';
import { z } from 'zod';
import { checkCxFormat, isValidNorwegianId, NORWEGIAN_ID_OID, type NorwegianIdKind } from '../../registry/patients.js';
import { bareOid, parseCx } from '../../registry/model/hl7.js';
import type { PatientBlockStore } from './blocks.js';

export interface PatientBlocksApiOptions {
  /** The bearer token callers must present. */
  readonly token: string;
  readonly logger: winston.Logger;
  /** Accept synthetic (Tenor test) F- and D-numbers, month + 80 (test environments only). */
  readonly acceptSyntheticIds?: boolean;
  /** Largest accepted JSON body. Default 16 KiB (a block is a few hundred bytes). */
  readonly maxBodyBytes?: number;
}

const KIND_BY_OID: Readonly<Record<string, NorwegianIdKind>> = {
  [NORWEGIAN_ID_OID.fodselsnummer]: 'F',
  [NORWEGIAN_ID_OID.dNumber]: 'D',
  [NORWEGIAN_ID_OID.hNumber]: 'H',
};

/**
 * A patient id as the store keeps it (CX), or an error message. Bare 11 digits are a fødselsnummer
 * or, with the day + 40, a D-number. A CX of a Norwegian authority gets its check digits verified
 * too, since a block on a mistyped number would protect nobody.
 */
export function normalisePatientId(input: string, synthetic: boolean): { cx: string } | { error: string } {
  const value = input.trim();
  if (/^\d{11}$/.test(value)) {
    if (isValidNorwegianId(value, 'F', { synthetic })) return { cx: `${value}^^^&${NORWEGIAN_ID_OID.fodselsnummer}&ISO` };
    if (isValidNorwegianId(value, 'D', { synthetic })) return { cx: `${value}^^^&${NORWEGIAN_ID_OID.dNumber}&ISO` };
    return { error: 'patientId is not a valid fødselsnummer or D-number (check digits or date)' };
  }
  const problem = checkCxFormat(value);
  if (problem !== undefined) return { error: `patientId must be a fødselsnummer, a D-number or a CX id^^^&oid&ISO: ${problem}` };
  const cx = parseCx(value);
  const kind = KIND_BY_OID[bareOid(cx.assigningAuthority?.universalId ?? '')];
  if (kind !== undefined && !isValidNorwegianId(cx.id, kind, { synthetic })) {
    return { error: `patientId ${cx.id} is not a valid ${kind}-number for its assigning authority` };
  }
  return { cx: value };
}

/** HPR numbers, fødselsnumre, organisation numbers and RESH ids are all short digit strings. */
const identifier = z.string().trim().regex(/^\d{1,11}$/, 'expected an HPR number, fødselsnummer or organisation number (digits)');

const newBlockSchema = z
  .object({
    patientId: z.string().min(1).max(256),
    kind: z.enum(['all', 'practitioner', 'organization']),
    value: identifier.optional(),
    reason: z.string().max(1000).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.kind === 'all' && v.value !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: "a block of kind 'all' takes no value" });
    }
    if (v.kind !== 'all' && v.value === undefined) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `a ${v.kind} block needs the blocked ${v.kind}'s identifier` });
    }
  });

const listQuerySchema = z.object({ patientId: z.string().min(1).max(256) }).strict();
const blockIdSchema = z.uuid();

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time bearer check: hashing first makes the compared lengths equal whatever was sent. */
function authorised(header: string | undefined, expected: Buffer): boolean {
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  const presented = digest(m?.[1] ?? '');
  return timingSafeEqual(presented, expected) && m !== null;
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
}

export function patientBlocksApi(store: PatientBlockStore, options: PatientBlocksApiOptions): express.Router {
  const expected = digest(options.token);
  const synthetic = options.acceptSyntheticIds ?? false;
  const log = options.logger;
  const router = express.Router();

  router.use((req, res, next) => {
    if (authorised(req.headers.authorization, expected)) {
      next();
      return;
    }
    log.warn('patient-block API: refused, bad or missing bearer token', { method: req.method, remoteAddress: req.socket.remoteAddress });
    res.status(401).setHeader('WWW-Authenticate', 'Bearer realm="patient-blocks"');
    res.json({ error: 'a valid bearer token is required' });
  });
  router.use(express.json({ limit: options.maxBodyBytes ?? 16 * 1024, strict: true, type: ['application/json', 'application/*+json'] }));

  router.get('/', async (req, res) => {
    const q = listQuerySchema.safeParse(req.query);
    if (!q.success) {
      res.status(400).json({ error: issues(q.error) });
      return;
    }
    const patient = normalisePatientId(q.data.patientId, synthetic);
    if ('error' in patient) {
      res.status(400).json({ error: patient.error });
      return;
    }
    res.json({ patientId: patient.cx, blocks: await store.list(patient.cx) });
  });

  router.post('/', async (req, res) => {
    if (!req.is('application/json') && !req.is('application/*+json')) {
      res.status(415).json({ error: 'send the block as application/json' });
      return;
    }
    const body = newBlockSchema.safeParse(req.body);
    if (!body.success) {
      res.status(400).json({ error: issues(body.error) });
      return;
    }
    const patient = normalisePatientId(body.data.patientId, synthetic);
    if ('error' in patient) {
      res.status(400).json({ error: patient.error });
      return;
    }
    const block = await store.add({
      patientId: patient.cx,
      kind: body.data.kind,
      ...(body.data.value !== undefined ? { value: body.data.value } : {}),
      ...(body.data.reason !== undefined ? { reason: body.data.reason } : {}),
    });
    log.info('patient block added', { blockId: block.id, patientId: block.patientId, kind: block.kind, value: block.value });
    res.status(201).setHeader('Location', `${req.baseUrl}/${block.id}`);
    res.json(block);
  });

  router.delete('/:id', async (req, res) => {
    const id = blockIdSchema.safeParse(req.params.id);
    if (!id.success) {
      res.status(400).json({ error: 'the block id must be a UUID' });
      return;
    }
    if (!(await store.remove(id.data))) {
      res.status(404).json({ error: 'no such block' });
      return;
    }
    log.info('patient block removed', { blockId: id.data });
    res.status(204).end();
  });

  router.use((_req, res) => {
    res.status(404).json({ error: 'not found: use GET ?patientId=, POST, or DELETE /<blockId>' });
  });

  // Malformed JSON, an oversize body, a store failure: answer in JSON without internals.
  router.use((err: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const e = err as { status?: unknown; type?: unknown; message?: unknown };
    const status = typeof e.status === 'number' && e.status >= 400 && e.status < 500 ? e.status : 500;
    if (status === 500) {
      log.error('patient-block API failed', { error: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined });
      res.status(500).json({ error: 'internal error' });
      return;
    }
    const message =
      e.type === 'entity.parse.failed' ? 'the body is not valid JSON' : e.type === 'entity.too.large' ? 'the body is too large' : 'bad request';
    res.status(status).json({ error: message });
  });

  return router;
}
