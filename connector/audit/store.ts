/**
 * The node's own audit store: every AuditEvent as the node's neutral event record (event.ts, its
 * JSON text), served as a FHIR R4 AuditEvent (fhir.ts) rendered when read, plus the projection the
 * patient's access log reads (name and organisation of the practitioner, the documents, the
 * outcome — never the practitioner's national id number, ATT-8).
 *
 * Why the event and not its FHIR text: the event is serialised anyway (a submission's for the
 * registry's outbox, before its commit), the FHIR text is 2.5 × as long, and an event is written
 * on every request but read back one by one, when someone asks. Storing the FHIR text cost a second
 * serialisation on the main thread and a larger row in the writer's transaction (BENCHMARKS.md,
 * issue 19, tenth session). The rendering is a pure function of the event, so a stored event reads
 * as the same AuditEvent it would have been stored as; rows written before (schema 0: the FHIR text)
 * are read as they are.
 *
 * Two implementations: embedded SQLite (store-embedded.ts, file `audit.sqlite` in the data
 * directory) and MongoDB (store-mongo.ts, collection `auditEvents`). `append` and `appendMany`
 * are idempotent by event id, so the durable queue may redeliver an event without duplicating it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { accessEntryOf, type AccessEntry } from './access-log.js';
import { eventFromJson, eventJson, type AuditEvent } from './event.js';
import { toFhirAuditEvent, type FhirResource } from './fhir.js';
import { patientKeyOf, type PatientKey } from './patient.js';

export interface AccessLogQuery {
  /** CX.1 of the patient id (the fødselsnummer / D-number). */
  readonly patientId: string;
  /** Assigning authority OID (bare), when the caller gave one. */
  readonly assigningAuthority?: string | undefined;
  readonly from: Date;
  /** Exclusive upper bound. */
  readonly to: Date;
  readonly limit: number;
  /** Newest first (the access log's order) instead of oldest first. */
  readonly newestFirst?: boolean | undefined;
  /**
   * Keyset paging, newest first only: accesses strictly before this one in (recorded, id) order,
   * i.e. the page after the one that ended with it.
   */
  readonly before?: { readonly recorded: string; readonly id: string } | undefined;
}

/**
 * A search of the whole audit trail (the operator page): every given criterion must match, newest
 * first. Practitioner and organisation are matched on the access projection (name, or the
 * organisation's id), the same fields the patient's access log shows.
 */
export interface AuditSearchQuery {
  /** CX.1 of the patient id. */
  readonly patientId?: string | undefined;
  /** Part of the practitioner's name, case-insensitive. */
  readonly practitioner?: string | undefined;
  /** The organisation's id (org.nr) exactly, or part of its name, case-insensitive. */
  readonly organisation?: string | undefined;
  /** An IHE transaction, e.g. ITI-18. */
  readonly transaction?: string | undefined;
  readonly outcome?: AccessEntry['outcome'] | undefined;
  readonly from?: Date | undefined;
  /** Exclusive upper bound. */
  readonly to?: Date | undefined;
  readonly limit: number;
}

/** One event found by `search`: the access projection plus when and about which patient. */
export interface AuditSearchHit {
  readonly id: string;
  readonly recorded: string;
  /** CX.1 of the patient id, when the event concerns one patient. */
  readonly patientId?: string | undefined;
  readonly entry: AccessEntry;
}

/** A patient access entry as stored: the projection plus when and for whom. */
export interface StoredAccess {
  readonly id: string;
  readonly recorded: string;
  readonly entry: AccessEntry;
}

export interface AuditStore {
  /** Stores the event (its record and access projection). A second append of the same id is a no-op. */
  append(event: AuditEvent): Promise<void>;
  /**
   * Stores a group of events in one durable write (the Auditor hands over each group commit of
   * its queue at once, so the group costs one sync instead of one per event). Ids already stored
   * are skipped, as with `append`. Resolves only once every event is stored; when it rejects, the
   * caller must assume none was and deliver them again.
   */
  appendMany(events: readonly AuditEvent[]): Promise<void>;
  /** The stored event as a FHIR AuditEvent, if there is one. */
  get(id: string): Promise<FhirResource | undefined>;
  /** Accesses to one patient's records in [from, to), oldest first (or newest first, from `before` on), ties by id. */
  patientAccesses(query: AccessLogQuery): Promise<StoredAccess[]>;
  /**
   * Events matching every criterion of the query, newest first, ties by id (the operator page's
   * audit search). Both stores implement it; it is optional so that the stand-ins of the delivery
   * tests, which never search, need not.
   */
  search?(query: AuditSearchQuery): Promise<AuditSearchHit[]>;
  close(): Promise<void>;
}

export { patientKeyOf, type PatientKey } from './patient.js';

/** What a store keeps for one event. */
export interface AuditRecord {
  readonly id: string;
  readonly recorded: string;
  readonly patient: PatientKey | undefined;
  readonly access: AccessEntry;
  /** The event's JSON text (`eventJson`), which `storedEventResource` renders when read. */
  readonly eventJson: string;
}

export function auditRecordOf(event: AuditEvent): AuditRecord {
  return {
    id: event.id,
    recorded: event.recorded,
    patient: event.patientId !== undefined ? patientKeyOf(event.patientId) : undefined,
    access: accessEntryOf(event),
    eventJson: eventJson(event),
  };
}

/** The FHIR AuditEvent of a stored event's JSON text. */
export function storedEventResource(json: string): FhirResource {
  return toFhirAuditEvent(eventFromJson(json));
}

export const EMBEDDED_AUDIT_FILE = 'audit.sqlite';

export interface OpenAuditStoreOptions {
  /** Directory of the embedded store's file `audit.sqlite`. */
  readonly dataDir: string;
  readonly mongoUri?: string | undefined;
  readonly mongoDatabase?: string | undefined;
}

/** MongoDB when a URI is given, else the embedded store beside the registry's. */
export async function openAuditStore(options: OpenAuditStoreOptions): Promise<AuditStore> {
  if (options.mongoUri) {
    const { openMongoAuditStore } = await import('./store-mongo.js');
    return openMongoAuditStore({ uri: options.mongoUri, ...(options.mongoDatabase !== undefined ? { database: options.mongoDatabase } : {}) });
  }
  mkdirSync(options.dataDir, { recursive: true });
  const { openEmbeddedAuditStore } = await import('./store-embedded.js');
  return openEmbeddedAuditStore({ path: join(options.dataDir, EMBEDDED_AUDIT_FILE) });
}
