/** The audit store contract against a real MongoDB server when MONGODB_URI is set; each test gets its own database. */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { expect } from 'chai';
import { auditEvents } from '../../connector/audit/event.js';
import { toFhirAuditEvent } from '../../connector/audit/fhir.js';
import { AUDIT_COLLECTION, openMongoAuditStore } from '../../connector/audit/store-mongo.js';
import { baseInput } from './fixtures.js';
import { describeAuditStoreContract } from './store-contract.js';

const uri = process.env.MONGODB_URI;

if (uri === undefined || uri === '') {
  console.log('MongoDB audit store contract: skipped, MONGODB_URI is not set');
} else {
  const mongoUri = uri;
  const runId = randomUUID().slice(0, 8);
  let counter = 0;
  let database = '';
  describeAuditStoreContract(
    `MongoDB (${mongoUri.replace(/\/\/[^@/]*@/, '//***@')})`,
    async () => {
      database = `koblingspunkt_audit_test_${runId}_${++counter}`;
      return openMongoAuditStore({ uri: mongoUri, database });
    },
    async () => {
      const client = new MongoClient(mongoUri);
      try {
        await client.connect();
        await client.db(database).dropDatabase();
      } finally {
        await client.close();
      }
    },
  );

  describe('MongoDB audit store: documents written before it kept the event', () => {
    it('serves the FHIR resource such a document holds, and the event of one written since', async () => {
      const name = `koblingspunkt_audit_test_${runId}_old`;
      const client = new MongoClient(mongoUri);
      await client.connect();
      const store = await openMongoAuditStore({ uri: mongoUri, database: name });
      try {
        const old = auditEvents.iti43({ ...baseInput({ at: new Date('2026-01-05T08:00:00.000Z') }), documents: [{ uniqueId: '1.2.3' }] });
        await client
          .db(name)
          .collection<{ _id: string; [field: string]: unknown }>(AUDIT_COLLECTION)
          .insertOne({ _id: old.id, recorded: new Date(old.recorded), patient: null, access: { transaction: 'ITI-43' }, resource: toFhirAuditEvent(old) });
        const added = auditEvents.iti43({ ...baseInput(), documents: [{ uniqueId: '1.2.4' }] });
        await store.append(added);
        expect(await store.get(old.id)).to.deep.equal(toFhirAuditEvent(old));
        expect(await store.get(added.id)).to.deep.equal(toFhirAuditEvent(added));
      } finally {
        await store.close();
        await client.db(name).dropDatabase();
        await client.close();
      }
    });
  });
}
