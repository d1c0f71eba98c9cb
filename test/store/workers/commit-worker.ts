/**
 * A separate process committing to the same embedded store file as the test, to show that
 * SQLite's locking keeps commits of different processes whole. Usage: commit-worker.ts FILE TAG N
 */
import { openEmbeddedStore } from '../../../registry/store/embedded/index.js';
import { documentEntry, submission } from '../factory.js';

const [file, tag, countText] = process.argv.slice(2);
if (file === undefined || tag === undefined || countText === undefined) {
  throw new Error('usage: commit-worker.ts FILE TAG COUNT');
}
const store = openEmbeddedStore({ path: file });
for (let i = 0; i < Number(countText); i++) {
  const sub = submission([documentEntry({ languageCode: tag }), documentEntry({ languageCode: tag })], { sourceId: tag });
  await store.commit({ inserts: sub.all, replacements: [] });
}
await store.close();
