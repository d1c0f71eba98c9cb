/**
 * Runs the blob store contract against a real MongoDB server when MONGODB_URI is set. Each store
 * opened gets its own database, dropped afterwards.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { openGridFsBlobStore } from '../../repository/blob/gridfs/index.js';
import { describeBlobStoreContract } from './contract.js';

const uri = process.env.MONGODB_URI;

if (uri === undefined || uri === '') {
  console.log('GridFS blob store contract: skipped, MONGODB_URI is not set');
} else {
  const mongoUri = uri;
  const runId = randomUUID().slice(0, 8);
  let counter = 0;
  let database = '';
  const databases = new Set<string>();

  describeBlobStoreContract(`GridFS (${mongoUri.replace(/\/\/[^@/]*@/, '//***@')})`, {
    open: async () => {
      database = `koblingspunkt_blob_test_${runId}_${++counter}`;
      databases.add(database);
      return openGridFsBlobStore({ uri: mongoUri, database });
    },
    reopen: async () => openGridFsBlobStore({ uri: mongoUri, database }),
    cleanup: async () => {
      const client = new MongoClient(mongoUri);
      try {
        await client.connect();
        for (const name of databases) await client.db(name).dropDatabase();
        databases.clear();
      } finally {
        await client.close();
      }
    },
  });
}
