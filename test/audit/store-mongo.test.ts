/** The audit store contract against a real MongoDB server when MONGODB_URI is set; each test gets its own database. */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { openMongoAuditStore } from '../../connector/audit/store-mongo.js';
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
}
