/**
 * A DocumentEntry's outgoing document relationships (RPLC, APND, XFRM, XFRM_RPLC, signs, and
 * IsSnapshotOf): the associations whose source it is. MHD writes them into every
 * DocumentReference as `relatesTo`, so an ITI-67 search needs them for each entry it answers.
 *
 * Looking them up per search was a statement with one index probe per entry (~0.3 ms for a
 * 47-entry answer with its pages cached, ~11 ms with them on disk, measured at 1M entries), for an
 * answer that almost never changes. So they are remembered per entry object, under one invariant
 * that the write path keeps:
 *
 *   **An entry's stored object is written anew whenever an association of these types whose source
 *   it is appears, changes or goes** (`restampRelationshipSources`, applied by write-queue.ts to
 *   every accepted write).
 *
 * The embedded store hands out one frozen object per stored version of a row (its (seq, rev),
 * which a write by any process on the file changes), and the query stamps it once
 * (query/run.ts `withHome`), so the object an answer holds for an entry is a new one exactly when
 * the entry was written since: a relationship remembered for an object can never be stale, in this
 * process or after another process's write. Objects that are not frozen (no cache, MongoDB, a
 * masked stub) are not remembered and are looked up every time.
 *
 * Registering a relationship never needs the re-write in practice (ITI-42 requires the source
 * to be a DocumentEntry of the same submission, which is inserted by the same batch); it happens
 * for an ITI-62 deletion or an ITI-57 status change of a relationship association alone: one
 * more row written in a rare write, against one statement saved in every search.
 */
import { ASSOCIATION_TYPE, DOCUMENT_RELATIONSHIPS, type Association, type DocumentEntry, type RegistryObject } from './model/metadata.js';
import type { CommitBatch, RegistryStore } from './store/store.js';

/** The association types that relate one document to another (and that MHD writes as relatesTo). */
export const RELATIONSHIP_TYPES: readonly string[] = [...DOCUMENT_RELATIONSHIPS, ASSOCIATION_TYPE.IsSnapshotOf];

const RELATIONSHIP_TYPE_SET: ReadonlySet<string> = new Set(RELATIONSHIP_TYPES);

const isRelationship = (o: RegistryObject): o is Association => o.type === 'Association' && RELATIONSHIP_TYPE_SET.has(o.associationType);

/** Entry object → its relationships when it was read: valid for as long as the object is (see the header). */
const remembered = new WeakMap<DocumentEntry, readonly Association[]>();

/**
 * The relationships whose source is one of these entries, in no particular order: remembered ones
 * without a read, the others with one statement for all of them.
 */
export async function relationshipsOf(store: RegistryStore, entries: readonly DocumentEntry[]): Promise<Association[]> {
  const out: Association[] = [];
  const unknown: DocumentEntry[] = [];
  for (const e of entries) {
    const hit = remembered.get(e);
    if (hit === undefined) unknown.push(e);
    else for (const a of hit) out.push(a);
  }
  if (unknown.length === 0) return out;
  const found = (await store.find({ type: 'Association', sourceUuid: { $in: unknown.map((e) => e.entryUuid) }, associationType: { $in: RELATIONSHIP_TYPES } })) as Association[];
  const bySource = new Map<string, Association[]>();
  for (const a of found) {
    out.push(a);
    const list = bySource.get(a.sourceUuid);
    if (list === undefined) bySource.set(a.sourceUuid, [a]);
    else list.push(a);
  }
  for (const e of unknown) {
    if (!Object.isFrozen(e)) continue;
    const list = bySource.get(e.entryUuid) ?? NONE;
    // Remembered only what is as immutable as the entry: a relationship the store did not freeze could change.
    if (list.every((a) => Object.isFrozen(a))) remembered.set(e, list);
  }
  return out;
}

const NONE: readonly Association[] = Object.freeze([]);

/**
 * The batch with the source entry of every relationship association it inserts, replaces or
 * deletes written anew (replaced by itself), unless the batch writes or deletes that entry
 * already: the invariant of this module's header. `registry` is what the batch was decided
 * against (the write group's overlay).
 */
export async function restampRelationshipSources(registry: RegistryStore, batch: CommitBatch): Promise<CommitBatch> {
  const deleted = batch.deletions ?? [];
  const changed = [...batch.inserts, ...batch.replacements].filter(isRelationship);
  // A deleted association's source is only known from the stored object; reading is skipped for
  // a batch that deletes nothing or whose deletions cannot be associations of interest.
  if (deleted.length > 0) changed.push(...(await registry.getByUuids(deleted)).filter(isRelationship));
  if (changed.length === 0) return batch;
  const written = new Set<string>(deleted);
  for (const o of batch.inserts) written.add(o.entryUuid);
  for (const o of batch.replacements) written.add(o.entryUuid);
  const sources = [...new Set(changed.map((a) => a.sourceUuid))].filter((uuid) => !written.has(uuid));
  if (sources.length === 0) return batch;
  const restamped = (await registry.getByUuids(sources)).filter((o) => o.type === 'DocumentEntry');
  if (restamped.length === 0) return batch;
  return { ...batch, replacements: [...batch.replacements, ...restamped] };
}
