/**
 * Measures the heap cost of one entry of the embedded store's record cache (record-cache.ts), per
 * object type, on the bench generator's data (seed 1), to size `DEFAULT_CACHE_ENTRIES`. Not a
 * test (mocha runs *.test.ts only): a measurement, run by hand:
 *
 *   node --expose-gc --import tsx scripts/measure-cache-heap.ts [count]
 */
import type { RegistryObject } from '../registry/model/metadata.js';
import { RecordCache, parseRecord } from '../registry/store/embedded/record-cache.js';
import { toRecord } from '../registry/store/record.js';
import { createWorld, planPatient } from './generate/patient.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const count = Number(process.argv[2] ?? 10_000);

const byType = new Map<RegistryObject['type'], string[]>();
const world = createWorld(1);
for (let patient = 0; [...byType.values()].some((b) => b.length < count) || byType.size < 3; patient++) {
  for (const { submission } of planPatient(world, patient).submissions) {
    const objects: RegistryObject[] = [submission.submissionSet, ...submission.documentEntries, ...submission.folders, ...submission.associations];
    for (const obj of objects) {
      const bodies = byType.get(obj.type) ?? [];
      byType.set(obj.type, bodies);
      if (bodies.length < count) bodies.push(JSON.stringify(toRecord(obj)));
    }
  }
  if (patient > 100_000) break;
}

for (const [type, bodies] of byType) {
  const cache = new RecordCache(bodies.length);
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < bodies.length; i++) cache.set(i, parseRecord(0, bodies[i]!));
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  const perEntry = (after - before) / cache.size;
  const json = bodies.reduce((n, b) => n + b.length, 0) / bodies.length;
  console.log(
    `${type}: ${cache.size} cached, ${(perEntry / 1024).toFixed(2)} KiB heap per entry ` +
      `(JSON body ${(json / 1024).toFixed(2)} KiB); 100 MiB holds ${Math.floor((100 * 1024 * 1024) / perEntry)}`,
  );
  cache.clear();
}
