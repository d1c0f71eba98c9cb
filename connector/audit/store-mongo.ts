/**
 * MongoDB audit store: collection `auditEvents`, one document per event with `_id` = event id
 * (so a redelivered event is ignored), `recorded` as a Date, the patient key, the access
 * projection and the event (store.ts: served as a FHIR AuditEvent rendered when read; documents
 * written before hold the FHIR resource instead, and are read as they are). Writes are journaled
 * ({ w: 'majority', j: true }): an event the store acknowledged is on disk.
 *
 * `appendMany` is one insertMany for the whole group: a redelivered event fails its insert with a
 * duplicate key, which is ignored like `append`'s upsert ignores it. The insert is unordered: an
 * ordered insertMany stops at the first duplicate and would silently skip every later event of
 * the group, while unordered inserts every new one; nothing reads the insertion order (queries sort
 * on `recorded` and `_id`).
 */
import { MongoBulkWriteError, MongoClient, type Collection } from 'mongodb';
import type { AuditEvent } from './event.js';
import type { FhirResource } from './fhir.js';
import type { AccessEntry } from './access-log.js';
import { auditRecordOf, storedEventResource, type AccessLogQuery, type AuditSearchHit, type AuditSearchQuery, type AuditStore, type StoredAccess } from './store.js';

export const AUDIT_COLLECTION = 'auditEvents';

const DUPLICATE_KEY = 11000;
const DURABLE = { w: 'majority', j: true } as const;

interface AuditDocument {
  _id: string;
  recorded: Date;
  // Authority null, not absent, when the patient id had none (the stored shape since the first version).
  patient: { id: string; authority: string | null } | null;
  access: AccessEntry;
  /** The event's JSON text (store.ts `eventJson`), since the event replaced the resource. */
  event?: string;
  /** The FHIR AuditEvent, in documents written before. */
  resource?: FhirResource;
}

export async function openMongoAuditStore(options: { uri: string; database?: string }): Promise<AuditStore> {
  const client = new MongoClient(options.uri);
  await client.connect();
  try {
    const db = client.db(options.database ?? (client.options.dbName || 'koblingspunkt'));
    const collection = db.collection<AuditDocument>(AUDIT_COLLECTION);
    await collection.createIndex({ 'patient.id': 1, recorded: 1 });
    // The operator's audit search without a patient: newest first over a time range.
    await collection.createIndex({ recorded: 1 });
    return new MongoAuditStore(client, collection);
  } catch (e) {
    await client.close();
    throw e;
  }
}

function documentOf(event: AuditEvent): AuditDocument {
  const r = auditRecordOf(event);
  return {
    _id: r.id,
    recorded: new Date(r.recorded),
    patient: r.patient === undefined ? null : { id: r.patient.id, authority: r.patient.authority ?? null },
    access: r.access,
    event: r.eventJson,
  };
}

/**
 * True when every failed insert was an id already stored and the write concern was met: then every
 * event of the group is durably in the collection. Anything else (another write error, a missed
 * write concern) must fail the group, so the queue delivers it again.
 */
function onlyDuplicates(e: MongoBulkWriteError): boolean {
  const errors = Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
  return errors.length > 0 && errors.every((w) => w.code === DUPLICATE_KEY) && e.result.getWriteConcernError() === undefined && e.err === undefined;
}

class MongoAuditStore implements AuditStore {
  constructor(
    private readonly client: MongoClient,
    private readonly collection: Collection<AuditDocument>,
  ) {}

  async append(event: AuditEvent): Promise<void> {
    const { _id, ...fields } = documentOf(event);
    await this.collection.updateOne({ _id }, { $setOnInsert: fields as Partial<AuditDocument> }, { upsert: true, writeConcern: DURABLE });
  }

  async appendMany(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    try {
      await this.collection.insertMany(events.map(documentOf), { ordered: false, writeConcern: DURABLE });
    } catch (e) {
      if (!(e instanceof MongoBulkWriteError) || !onlyDuplicates(e)) throw e;
    }
  }

  async get(id: string): Promise<FhirResource | undefined> {
    const doc = await this.collection.findOne({ _id: id });
    if (doc === null) return undefined;
    return doc.event !== undefined ? storedEventResource(doc.event) : doc.resource;
  }

  async patientAccesses(q: AccessLogQuery): Promise<StoredAccess[]> {
    const recorded: Record<string, Date> = { $gte: q.from, $lt: q.to };
    const filter: Record<string, unknown> = { 'patient.id': q.patientId, recorded };
    if (q.assigningAuthority !== undefined) filter['patient.authority'] = q.assigningAuthority;
    const direction = q.newestFirst === true ? -1 : 1;
    if (q.newestFirst === true && q.before !== undefined) {
      // Strictly before (recorded, _id) of the cursor: the upper bound on `recorded` serves the index.
      const at = new Date(q.before.recorded);
      recorded.$lte = at;
      filter.$or = [{ recorded: { $lt: at } }, { _id: { $lt: q.before.id } }];
    }
    const docs = await this.collection.find(filter).sort({ recorded: direction, _id: direction }).limit(q.limit).toArray();
    return docs.map((d) => ({ id: d._id, recorded: d.recorded.toISOString(), entry: d.access }));
  }

  async search(q: AuditSearchQuery): Promise<AuditSearchHit[]> {
    const filter: Record<string, unknown> = {};
    if (q.patientId !== undefined) filter['patient.id'] = q.patientId;
    if (q.from !== undefined || q.to !== undefined) {
      filter.recorded = { ...(q.from !== undefined ? { $gte: q.from } : {}), ...(q.to !== undefined ? { $lt: q.to } : {}) };
    }
    if (q.transaction !== undefined) filter['access.transaction'] = q.transaction;
    if (q.outcome !== undefined) filter['access.outcome'] = q.outcome;
    // Escaped: the operator's text is matched as text, never as a pattern.
    const contains = (text: string) => ({ $regex: text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), $options: 'i' });
    if (q.practitioner !== undefined) filter['access.practitioner.name'] = contains(q.practitioner);
    if (q.organisation !== undefined) {
      filter.$or = [{ 'access.organisation.id': q.organisation }, { 'access.organisation.name': contains(q.organisation) }];
    }
    const docs = await this.collection.find(filter).sort({ recorded: -1, _id: -1 }).limit(q.limit).toArray();
    return docs.map((d) => ({
      id: d._id,
      recorded: d.recorded.toISOString(),
      ...(d.patient !== null ? { patientId: d.patient.id } : {}),
      entry: d.access,
    }));
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
