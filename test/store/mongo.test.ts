/**
 * Runs the store contract against a real MongoDB server when MONGODB_URI is set (e.g.
 * mongodb://127.0.0.1:27017/?replicaSet=rs0 for the transactional path, or a standalone server
 * for the compensating path). Each store opened gets its own database, dropped afterwards.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { openMongoStore } from '../../registry/store/mongo/index.js';
import { describeRegistryStoreContract } from './contract.js';

const uri = process.env.MONGODB_URI;

if (uri === undefined || uri === '') {
  console.log('MongoDB store contract: skipped, MONGODB_URI is not set');
} else {
  const mongoUri = uri;
  const runId = randomUUID().slice(0, 8);
  let counter = 0;
  let database = '';
  const databases = new Set<string>();

  describeRegistryStoreContract(
    `MongoDB (${mongoUri.replace(/\/\/[^@/]*@/, '//***@')})`,
    async () => {
      database = `koblingspunkt_test_${runId}_${++counter}`;
      databases.add(database);
      return openMongoStore({ uri: mongoUri, database });
    },
    async () => {
      const client = new MongoClient(mongoUri);
      try {
        await client.connect();
        for (const name of databases) await client.db(name).dropDatabase();
        databases.clear();
      } finally {
        await client.close();
      }
    },
    { reopen: async () => openMongoStore({ uri: mongoUri, database }) },
  );
}
