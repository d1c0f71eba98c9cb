/**
 * MongoDB audit store: collection `auditEvents`, one document per event with `_id` = event id
 * (so a redelivered event is ignored), `recorded` as a Date, the patient key, the access
 * projection and the FHIR resource. Writes are journaled ({ w: 'majority', j: true }): an event
 * the store acknowledged is on disk.
 */
import { MongoClient, type Collection } from 'mongodb';
import type { AuditEvent } from './event';
import type { FhirResource } from './fhir';
import type { AccessEntry } from './access-log';
import { auditRecordOf, type AccessLogQuery, type AuditStore, type PatientKey, type StoredAccess } from './store';

export const AUDIT_COLLECTION = 'auditEvents';

interface AuditDocument {
  _id: string;
  recorded: Date;
  patient: PatientKey | null;
  access: AccessEntry;
  resource: FhirResource;
}

export async function openMongoAuditStore(options: { uri: string; database?: string }): Promise<AuditStore> {
  const client = new MongoClient(options.uri);
  await client.connect();
  try {
    const db = client.db(options.database ?? (client.options.dbName || 'koblingspunkt'));
    const collection = db.collection<AuditDocument>(AUDIT_COLLECTION);
    await collection.createIndex({ 'patient.id': 1, recorded: 1 });
    return new MongoAuditStore(client, collection);
  } catch (e) {
    await client.close();
    throw e;
  }
}

class MongoAuditStore implements AuditStore {
  constructor(
    private readonly client: MongoClient,
    private readonly collection: Collection<AuditDocument>,
  ) {}

  async append(event: AuditEvent): Promise<void> {
    const r = auditRecordOf(event);
    await this.collection.updateOne(
      { _id: r.id },
      {
        $setOnInsert: {
          recorded: new Date(r.recorded),
          patient: r.patient === undefined ? null : { id: r.patient.id, authority: r.patient.authority ?? null },
          access: r.access,
          resource: r.resource,
        } as Partial<AuditDocument>,
      },
      { upsert: true, writeConcern: { w: 'majority', j: true } },
    );
  }

  async get(id: string): Promise<FhirResource | undefined> {
    const doc = await this.collection.findOne({ _id: id });
    return doc === null ? undefined : doc.resource;
  }

  async patientAccesses(q: AccessLogQuery): Promise<StoredAccess[]> {
    const filter: Record<string, unknown> = { 'patient.id': q.patientId, recorded: { $gte: q.from, $lt: q.to } };
    if (q.assigningAuthority !== undefined) filter['patient.authority'] = q.assigningAuthority;
    const docs = await this.collection.find(filter).sort({ recorded: 1, _id: 1 }).limit(q.limit).toArray();
    return docs.map((d) => ({ id: d._id, recorded: d.recorded.toISOString(), entry: d.access }));
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
