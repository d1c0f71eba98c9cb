/**
 * The MongoDB registry store: one collection `registryObjects` holding the records of record.ts,
 * each with a monotonic `seq` (insertion order) drawn from a counter document in
 * `registryCounters`.
 *
 * Atomicity of `commit`:
 *
 * - **Replica set or sharded cluster (mongos):** each batch runs in one multi-document
 *   transaction (snapshot read concern, majority write concern). A batch is visible wholly or not
 *   at all, to every reader, and a crash at any point leaves nothing of an unacknowledged batch.
 *   All commits update the same counter document, so concurrent commits conflict and the driver
 *   retries them one after another: commits never interleave and `seq` order is commit order.
 *
 * - **Standalone server (no transactions):** each single document write is atomic and, with the
 *   `{ w: 'majority', j: true }` write concern used here, journaled before it is acknowledged; a
 *   batch as a whole is NOT atomic. What the store does:
 *   1. It checks first that every replacement and deletion exists and that no insert's entryUuid
 *      exists or repeats; a batch failing these checks writes nothing.
 *   2. It then writes inserts (one ordered insertMany), replacements (one bulkWrite), deletions,
 *      and on any error compensates: deletes the inserts it made, writes back the replaced and
 *      deleted documents as they were, and rethrows.
 *   3. Commits of this process are serialised by an in-process lock.
 *   What it cannot give: readers (in any process) may see a batch half-applied while it is being
 *   written; if the process or the server dies during a commit, the half that was written stays
 *   (e.g. a DocumentEntry without its SubmissionSet or HasMember association); the compensation
 *   itself can fail if the server becomes unreachable; and commits from other processes are not
 *   isolated from ours (a check in step 1 can be overtaken, a compensation can overwrite another
 *   process's newer replacement). A duplicate entryUuid racing in from another process is still
 *   refused by the unique index, and compensated. Use a replica set (a single-node one suffices)
 *   for the "nothing half-done" guarantee.
 *
 * Object counts (`objectCounts`, the registry-size metric) live in `registryObjectCounts`, one
 * document per (type, availabilityStatus) group, moved by `$inc` with every commit: inside the
 * transaction on a replica set (exact), after the batch's writes on a standalone server (a crash in
 * between leaves them off by that batch; a failure to move them is swallowed, because the batch is
 * stored and must not be reported as failed). A database written by a version without counts is
 * counted once when the store opens (one aggregation over the collection).
 *
 * Outbox records of a batch (store.ts `OutboxRecord`) go to the collection `registryOutbox`: inside
 * the transaction, or on a standalone server first, before any object, so that a record is never
 * missing for a stored batch (its consumer checks the witness, which a half-written or undone batch
 * lacks).
 */
import {
  MongoClient,
  type ClientSession,
  type Collection,
  type Document,
  type Db,
} from 'mongodb';
import type { AvailabilityStatus, RegistryObject, RegistryObjectType } from '../../model/metadata.js';
import { fromRecord, toRecord } from '../record.js';
import {
  DuplicateEntryUuidError,
  UnknownEntryUuidError,
  type CommitBatch,
  type CommitOutbox,
  type FindOptions,
  type ObjectCount,
  type OutboxRecord,
  type RegistryFilter,
  type RegistryStore,
} from '../store.js';
import { duplicateEntryUuidOf } from './duplicate-key.js';

export interface MongoStoreOptions {
  readonly uri: string;
  /** Database name; default: the one in the URI, else `koblingspunkt`. */
  readonly database?: string;
}

export const OBJECTS_COLLECTION = 'registryObjects';
export const COUNTERS_COLLECTION = 'registryCounters';
export const OUTBOX_COLLECTION = 'registryOutbox';
export const COUNTS_COLLECTION = 'registryObjectCounts';

/** One (type, availabilityStatus) group's count; `_id` is `type status`. */
interface CountDocument {
  _id: string;
  type: RegistryObjectType;
  availabilityStatus: AvailabilityStatus;
  n: number;
}
/** Present in `registryCounters` once `registryObjectCounts` holds the counts of every stored object. */
const COUNTED_MARKER_ID = 'registryObjects.counted';

interface OutboxDocument {
  _id: string;
  kind: string;
  payload: string;
  witness: string;
}
const SEQ_COUNTER_ID = 'registryObjects.seq';
const DEFAULT_DATABASE = 'koblingspunkt';

/** Write concern of the non-transactional path: acknowledged means journaled. */
const DURABLE = { w: 'majority', journal: true } as const;
/** Store-internal fields left out of what queries return. */
const INTERNAL_PROJECTION = { _id: 0, seq: 0, _s: 0 } as const;

interface Counter {
  _id: string;
  value: number;
}

export async function openMongoStore(options: MongoStoreOptions): Promise<RegistryStore> {
  const client = new MongoClient(options.uri);
  await client.connect();
  try {
    const db = client.db(options.database ?? databaseInUri(options.uri) ?? DEFAULT_DATABASE);
    const objects = db.collection(OBJECTS_COLLECTION);
    const counters = db.collection<Counter>(COUNTERS_COLLECTION);
    const outbox = db.collection<OutboxDocument>(OUTBOX_COLLECTION);
    const counts = db.collection<CountDocument>(COUNTS_COLLECTION);
    await createIndexes(objects);
    await outbox.createIndex({ kind: 1 }, { name: 'kind_1' });
    await ensureCounter(counters);
    await ensureCounts(objects, counters, counts);
    const transactions = await supportsTransactions(db);
    return new MongoRegistryStore(client, objects, counters, outbox, counts, transactions);
  } catch (e) {
    await client.close();
    throw e;
  }
}

/** Upserts: a record id written again replaces the record, as the embedded store's INSERT OR REPLACE does. */
function outboxWrites(records: readonly OutboxRecord[]) {
  return records.map((r) => ({
    replaceOne: { filter: { _id: r.id }, replacement: { kind: r.kind, payload: r.payload, witness: r.witness }, upsert: true },
  }));
}

/** The database path of a mongodb:// or mongodb+srv:// URI, if it names one. */
export function databaseInUri(uri: string): string | undefined {
  const m = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]+)/.exec(uri);
  return m?.[1] ? decodeURIComponent(m[1]) : undefined;
}

async function createIndexes(objects: Collection): Promise<void> {
  await objects.createIndexes([
    { key: { entryUuid: 1 }, name: 'entryUuid_1', unique: true },
    { key: { seq: 1 }, name: 'seq_1', unique: true },
    { key: { type: 1, patientId: 1, availabilityStatus: 1 }, name: 'type_1_patientId_1_availabilityStatus_1' },
    { key: { uniqueId: 1 }, name: 'uniqueId_1' },
    { key: { sourceUuid: 1 }, name: 'sourceUuid_1' },
    { key: { targetUuid: 1 }, name: 'targetUuid_1' },
    { key: { referenceIdList: 1 }, name: 'referenceIdList_1' },
  ]);
}

async function ensureCounter(counters: Collection<Counter>): Promise<void> {
  try {
    await counters.updateOne({ _id: SEQ_COUNTER_ID }, { $setOnInsert: { value: 0 } }, { upsert: true, writeConcern: DURABLE });
  } catch (e) {
    // Two processes opening a new database at once: the other one created it.
    if ((e as { code?: unknown }).code !== 11000) throw e;
  }
}

/**
 * Makes sure the counts cover every stored object. A new database starts counted (its first commit
 * counts from zero); one written by a version without counts is counted now, once, by grouping the
 * objects. Several processes upgrading one database at the same moment each count and `$set` the
 * same result; a commit landing during that count may be missed by it (the operations guide says to
 * upgrade with the writers stopped).
 */
async function ensureCounts(objects: Collection, counters: Collection<Counter>, counts: Collection<CountDocument>): Promise<void> {
  if ((await counters.findOne({ _id: COUNTED_MARKER_ID })) !== null) return;
  if ((await objects.estimatedDocumentCount()) > 0) {
    const groups = await objects
      .aggregate<{ _id: { type: RegistryObjectType; status: AvailabilityStatus }; n: number }>([
        { $group: { _id: { type: '$type', status: '$availabilityStatus' }, n: { $sum: 1 } } },
      ])
      .toArray();
    if (groups.length > 0) {
      await counts.bulkWrite(
        groups.map((g) => ({
          replaceOne: {
            filter: { _id: countId(g._id.type, g._id.status) },
            replacement: { type: g._id.type, availabilityStatus: g._id.status, n: g.n },
            upsert: true,
          },
        })),
        { ordered: false, writeConcern: DURABLE },
      );
    }
  }
  await counters.updateOne({ _id: COUNTED_MARKER_ID }, { $setOnInsert: { value: 1 } }, { upsert: true, writeConcern: DURABLE });
}

function countId(type: string, status: string): string {
  return `${type} ${status}`;
}

/** What a stored object is counted under. */
type Counted = Pick<RegistryObject, 'type' | 'availabilityStatus'>;

/**
 * The count changes of a batch, given what the objects it replaces or deletes were before it:
 * applied in the batch's order (inserts, replacements, deletions), so an object replaced twice or
 * replaced and then deleted in one batch moves the counts as it moves through the batch.
 */
export function countDeltas(batch: CommitBatch, before: ReadonlyMap<string, Counted>): ObjectCount[] {
  const current = new Map(before);
  const deltas = new Map<string, ObjectCount>();
  const add = (obj: Counted, delta: number): void => {
    const key = countId(obj.type, obj.availabilityStatus);
    const count = (deltas.get(key)?.count ?? 0) + delta;
    deltas.set(key, { type: obj.type, availabilityStatus: obj.availabilityStatus, count });
  };
  for (const obj of batch.inserts) {
    add(obj, 1);
    current.set(obj.entryUuid, obj);
  }
  for (const obj of batch.replacements) {
    const was = current.get(obj.entryUuid);
    if (was !== undefined) add(was, -1);
    add(obj, 1);
    current.set(obj.entryUuid, obj);
  }
  for (const id of batch.deletions ?? []) {
    const was = current.get(id);
    if (was === undefined) continue;
    add(was, -1);
    current.delete(id);
  }
  return [...deltas.values()].filter((d) => d.count !== 0);
}

/** Transactions need a replica set member or a mongos; a standalone server answers neither. */
async function supportsTransactions(db: Db): Promise<boolean> {
  const hello = await db.admin().command({ hello: 1 });
  return typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
}

class MongoRegistryStore implements RegistryStore {
  /** Serialises this process's commits on the non-transactional path. */
  private commitQueue: Promise<unknown> = Promise.resolve();
  readonly outbox: CommitOutbox;

  constructor(
    private readonly client: MongoClient,
    private readonly objects: Collection,
    private readonly counters: Collection<Counter>,
    private readonly outboxRecords: Collection<OutboxDocument>,
    private readonly counts: Collection<CountDocument>,
    private readonly transactions: boolean,
  ) {
    this.outbox = {
      pending: async (kind) =>
        (await this.outboxRecords.find({ kind }).toArray()).map((d): OutboxRecord => ({ id: d._id, kind: d.kind, payload: d.payload, witness: d.witness })),
      // Not awaited by the caller (done is lazy by contract): a lost deletion brings the record back once more.
      done: (ids) => {
        if (ids.length > 0) this.outboxRecords.deleteMany({ _id: { $in: [...ids] } }).catch(() => undefined);
      },
    };
  }

  async find(filter: RegistryFilter, options: FindOptions = {}): Promise<RegistryObject[]> {
    if (options.limit !== undefined && options.limit <= 0) return [];
    let cursor = this.objects.find(filter, { projection: INTERNAL_PROJECTION }).sort({ seq: 1 });
    if (options.limit !== undefined && Number.isFinite(options.limit)) cursor = cursor.limit(options.limit);
    const docs = await cursor.toArray();
    return docs.map((doc) => fromRecord(doc));
  }

  async getByUuids(entryUuids: readonly string[]): Promise<RegistryObject[]> {
    if (entryUuids.length === 0) return [];
    const docs = await this.objects
      .find({ entryUuid: { $in: [...new Set(entryUuids)] } }, { projection: INTERNAL_PROJECTION })
      .toArray();
    return docs.map((doc) => fromRecord(doc));
  }

  async count(filter: RegistryFilter): Promise<number> {
    return this.objects.countDocuments(filter);
  }

  async objectCounts(): Promise<ObjectCount[]> {
    const docs = await this.counts.find({ n: { $ne: 0 } }).toArray();
    return docs.map((d) => ({ type: d.type, availabilityStatus: d.availabilityStatus, count: d.n }));
  }

  async commit(batch: CommitBatch): Promise<void> {
    assertNoRepeatedInserts(batch);
    if (this.transactions) return this.commitInTransaction(batch);
    const run = this.commitQueue.then(() => this.commitWithCompensation(batch));
    this.commitQueue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.commitQueue;
    await this.client.close();
  }

  private async commitInTransaction(batch: CommitBatch): Promise<void> {
    const session = this.client.startSession();
    try {
      await session.withTransaction(
        async () => {
          // The counter update comes first: a concurrent commit conflicts here and is retried after us.
          const firstSeq = await this.reserveSeqs(batch.inserts.length, session);
          const before = await this.countedBefore(batch, session);
          if (batch.outbox?.length) await this.outboxRecords.bulkWrite(outboxWrites(batch.outbox), { session, ordered: true });
          if (batch.inserts.length > 0) {
            await this.objects.insertMany(insertDocuments(batch, firstSeq), { session, ordered: true });
          }
          const replaced = await this.existing(replacedIds(batch), session, { seq: 1, entryUuid: 1 });
          if (batch.replacements.length > 0) {
            await this.objects.bulkWrite(replaceOperations(batch, replaced), { session, ordered: true });
          }
          const deletions = uniqueDeletions(batch);
          if (deletions.length > 0) {
            await this.existing(deletions, session, { entryUuid: 1 });
            await this.objects.deleteMany({ entryUuid: { $in: deletions } }, { session });
          }
          await this.moveCounts(countDeltas(batch, before), session);
        },
        { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' } },
      );
    } catch (e) {
      throw mapCommitError(e);
    } finally {
      await session.endSession();
    }
  }

  private async commitWithCompensation(submitted: CommitBatch): Promise<void> {
    const batch = foldIntoInserts(submitted);
    // Step 1: checks that write nothing.
    const replaced = await this.existing(replacedIds(batch), undefined, {});
    const deletions = uniqueDeletions(batch);
    const deleted = await this.existing(deletions, undefined, {});
    if (batch.inserts.length > 0) {
      const clash = await this.objects.findOne(
        { entryUuid: { $in: batch.inserts.map((o) => o.entryUuid) } },
        { projection: { entryUuid: 1 } },
      );
      if (clash !== null) throw new DuplicateEntryUuidError(String(clash.entryUuid));
    }

    // Step 2: writes, undone on failure. The outbox records first: a crash in the middle must
    // not leave stored objects whose owed work nobody knows of.
    if (submitted.outbox?.length) await this.outboxRecords.bulkWrite(outboxWrites(submitted.outbox), { ordered: true, writeConcern: DURABLE });
    const firstSeq = await this.reserveSeqs(batch.inserts.length, undefined);
    try {
      if (batch.inserts.length > 0) {
        await this.objects.insertMany(insertDocuments(batch, firstSeq), { ordered: true, writeConcern: DURABLE });
      }
      if (batch.replacements.length > 0) {
        const result = await this.objects.bulkWrite(replaceOperations(batch, replaced), { ordered: true, writeConcern: DURABLE });
        if (result.matchedCount !== batch.replacements.length) {
          throw new UnknownEntryUuidError(await this.firstMissing(replacedIds(batch)));
        }
      }
      if (deletions.length > 0) {
        const result = await this.objects.deleteMany({ entryUuid: { $in: deletions } }, { writeConcern: DURABLE });
        if (result.deletedCount !== deletions.length) {
          throw new UnknownEntryUuidError(await this.firstMissing(deletions));
        }
      }
    } catch (e) {
      try {
        await this.compensate(firstSeq, batch.inserts.length, [...replaced.values(), ...deleted.values()]);
        if (submitted.outbox?.length) await this.outboxRecords.deleteMany({ _id: { $in: submitted.outbox.map((r) => r.id) } }, { writeConcern: DURABLE });
      } catch (undoError) {
        throw new Error('registry commit failed and could not be fully undone; the batch may be partly written', {
          cause: new AggregateError([e, undoError]),
        });
      }
      throw mapCommitError(e);
    }
    // Stored: from here on nothing may turn the commit into a failure (see the header on the counts).
    const before = new Map<string, Counted>();
    for (const doc of [...replaced.values(), ...deleted.values()]) before.set(String(doc.entryUuid), doc as unknown as Counted);
    await this.moveCounts(countDeltas(batch, before), undefined).catch(() => undefined);
  }

  /** The objects a batch replaces or deletes (other than its own inserts) as they are before it. */
  private async countedBefore(batch: CommitBatch, session: ClientSession): Promise<Map<string, Counted>> {
    const inserted = new Set(batch.inserts.map((o) => o.entryUuid));
    const ids = [...new Set([...batch.replacements.map((o) => o.entryUuid), ...(batch.deletions ?? [])])].filter((id) => !inserted.has(id));
    const before = new Map<string, Counted>();
    if (ids.length === 0) return before;
    const docs = await this.objects
      .find({ entryUuid: { $in: ids } }, { projection: { _id: 0, entryUuid: 1, type: 1, availabilityStatus: 1 }, session })
      .toArray();
    for (const doc of docs) before.set(String(doc.entryUuid), doc as unknown as Counted);
    return before;
  }

  private async moveCounts(deltas: readonly ObjectCount[], session: ClientSession | undefined): Promise<void> {
    if (deltas.length === 0) return;
    await this.counts.bulkWrite(
      deltas.map((d) => ({
        updateOne: {
          filter: { _id: countId(d.type, d.availabilityStatus) },
          update: { $inc: { n: d.count }, $setOnInsert: { type: d.type, availabilityStatus: d.availabilityStatus } },
          upsert: true,
        },
      })),
      { ordered: false, ...(session ? { session } : { writeConcern: DURABLE }) },
    );
  }

  /** Undoes a failed non-transactional commit: removes its inserts, restores the old documents. */
  private async compensate(firstSeq: number, insertCount: number, previous: Document[]): Promise<void> {
    if (insertCount > 0) {
      await this.objects.deleteMany({ seq: { $gte: firstSeq, $lt: firstSeq + insertCount } }, { writeConcern: DURABLE });
    }
    if (previous.length > 0) {
      await this.objects.bulkWrite(
        previous.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })),
        { ordered: false, writeConcern: DURABLE },
      );
    }
  }

  /** Reserves `count` consecutive seq numbers; returns the first. */
  private async reserveSeqs(count: number, session: ClientSession | undefined): Promise<number> {
    if (count === 0) return 0;
    const counter = await this.counters.findOneAndUpdate(
      { _id: SEQ_COUNTER_ID },
      { $inc: { value: count } },
      { upsert: true, returnDocument: 'after', ...(session ? { session } : { writeConcern: DURABLE }) },
    );
    if (counter === null) throw new Error(`sequence counter ${SEQ_COUNTER_ID} could not be updated`);
    return counter.value - count + 1;
  }

  /**
   * The stored documents with the given entryUuids, by entryUuid, with the projection given;
   * throws UnknownEntryUuidError naming the first id that is missing.
   */
  private async existing(
    entryUuids: readonly string[],
    session: ClientSession | undefined,
    projection: Document,
  ): Promise<Map<string, Document>> {
    const found = new Map<string, Document>();
    if (entryUuids.length === 0) return found;
    const docs = await this.objects
      .find({ entryUuid: { $in: [...entryUuids] } }, { projection, ...(session ? { session } : {}) })
      .toArray();
    for (const doc of docs) found.set(String(doc.entryUuid), doc);
    const missing = entryUuids.find((id) => !found.has(id));
    if (missing !== undefined) throw new UnknownEntryUuidError(missing);
    return found;
  }

  private async firstMissing(entryUuids: readonly string[]): Promise<string> {
    const docs = await this.objects.find({ entryUuid: { $in: [...entryUuids] } }, { projection: { entryUuid: 1 } }).toArray();
    const present = new Set(docs.map((d) => String(d.entryUuid)));
    return entryUuids.find((id) => !present.has(id)) ?? entryUuids[0] ?? '';
  }
}

function insertDocuments(batch: CommitBatch, firstSeq: number): Document[] {
  return batch.inserts.map((obj, i) => ({ ...toRecord(obj), seq: firstSeq + i }));
}

/** Replacements keep the object's seq (its place in insertion order) and its _id. */
function replaceOperations(batch: CommitBatch, current: Map<string, Document>) {
  return batch.replacements.map((obj) => {
    const seq = current.get(obj.entryUuid)?.seq as number;
    return { replaceOne: { filter: { entryUuid: obj.entryUuid }, replacement: { ...toRecord(obj), seq } } };
  });
}

/**
 * The same end state with objects inserted by the batch itself replaced or deleted in their
 * insert rather than afterwards, because the non-transactional path checks replacements and
 * deletions against the stored state before it writes anything.
 */
export function foldIntoInserts(batch: CommitBatch): CommitBatch {
  const insertedIds = new Set(batch.inserts.map((o) => o.entryUuid));
  const lastReplacement = new Map<string, RegistryObject>();
  for (const obj of batch.replacements) {
    if (insertedIds.has(obj.entryUuid)) lastReplacement.set(obj.entryUuid, obj);
  }
  const deleted = new Set(batch.deletions ?? []);
  return {
    inserts: batch.inserts
      .filter((o) => !deleted.has(o.entryUuid))
      .map((o) => lastReplacement.get(o.entryUuid) ?? o),
    replacements: batch.replacements.filter((o) => !insertedIds.has(o.entryUuid)),
    deletions: [...deleted].filter((id) => !insertedIds.has(id)),
  };
}

function replacedIds(batch: CommitBatch): string[] {
  return [...new Set(batch.replacements.map((o) => o.entryUuid))];
}

function uniqueDeletions(batch: CommitBatch): string[] {
  return [...new Set(batch.deletions ?? [])];
}

/** A batch inserting the same entryUuid twice fails like an insert of an existing one. */
function assertNoRepeatedInserts(batch: CommitBatch): void {
  const seen = new Set<string>();
  for (const obj of batch.inserts) {
    if (seen.has(obj.entryUuid)) throw new DuplicateEntryUuidError(obj.entryUuid);
    seen.add(obj.entryUuid);
  }
}

function mapCommitError(e: unknown): unknown {
  if (e instanceof DuplicateEntryUuidError || e instanceof UnknownEntryUuidError) return e;
  const entryUuid = duplicateEntryUuidOf(e);
  return entryUuid === undefined ? e : new DuplicateEntryUuidError(entryUuid);
}
