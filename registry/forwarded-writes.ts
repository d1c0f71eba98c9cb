/**
 * Registry writes decided in another process: the registry side of a multi-process node
 * (connector/cluster). Every process reads the store on its own connection, but writes are decided
 * and committed in ONE place, the write owner, on its one queue (write-queue.ts): two processes
 * each deciding against its own view could both accept the same uniqueId, or both delete what the
 * other one references.
 *
 * A worker's `ForwardingRegistry` is a `DocumentRegistry` whose four writes (ITI-42 registration,
 * ITI-57 update, ITI-92 restricted update, ITI-62 deletion) are not run here: each becomes a
 * `ForwardedWrite`, plain data (the model objects of the request and its commit records), that
 * `send` carries to the owner, which applies it with `applyForwardedWrite` to its own
 * `DocumentRegistry` (and so through the very same `registerSubmission`, `updateDocumentSet`,
 * `restrictedUpdateDocumentSet` and `deleteObjects`) and answers the `WriteOutcome`. Queries and
 * every other read stay in the worker.
 *
 * What the queue promises holds unchanged, because the queue and the commit are the owner's: writes
 * of all processes are decided in arrival order against the registry plus the group's earlier
 * writes, group-committed, their commit records (audit event, staged documents) written in the same
 * transaction, and a caller is answered only once its write is durable. A worker that dies after
 * sending a write loses only the answer: the owner still decides and commits it, and its commit
 * records name the work owed (the audit event is drained from the outbox, the staged documents are
 * committed by the sweep). An owner that dies, or cannot be reached, rejects the write: the outcome
 * is then unknown, exactly as when a store throws (the repository asks the registry whether the
 * entries are there).
 *
 * The commit records of a registration travel on the submission (register.ts `withCommitRecords`);
 * they are read where `write` receives the write (write-queue.ts `writeThrough`), so no caller
 * needs to know that the write goes elsewhere. Actors and the transport know nothing of this.
 */
import type { DeleteRequest } from './model/delete.js';
import type { Submission } from './model/metadata.js';
import type { PatientIdPolicy } from './patients.js';
import { registerSubmission, withCommitRecords, type RegisterOutcome } from './register.js';
import { DocumentRegistry, type DocumentRegistryOptions } from './registry.js';
import type { RegistryStore } from './store/store.js';
import { restrictedUpdateDocumentSet, updateDocumentSet } from './update.js';
import { deleteObjects } from './delete.js';
import { writeThrough, type CommitRecord, type RegistryWrite, type WriteOutcome } from './write-queue.js';

/** One registry write as plain data, for the write owner (structured-clone safe: model objects and strings). */
export type ForwardedWrite =
  | { readonly kind: 'register'; readonly submission: Submission; readonly records: readonly CommitRecord[] }
  | { readonly kind: 'update'; readonly submission: Submission; readonly records: readonly CommitRecord[] }
  | { readonly kind: 'restrictedUpdate'; readonly submission: Submission; readonly records: readonly CommitRecord[] }
  | { readonly kind: 'delete'; readonly request: DeleteRequest; readonly records: readonly CommitRecord[] };

export type ForwardedWriteKind = ForwardedWrite['kind'];

/** Carries a write to the owner; resolves with its answer, rejects when the outcome is unknown. */
export type WriteSender = (write: ForwardedWrite) => Promise<WriteOutcome>;

/**
 * The store as a worker's registry sees it: reads are its own, but the outbox's `done` goes to the
 * write owner, whose next commit takes the records' deletion along (as in one process), so that the
 * owner's connection stays the only one that writes the registry. Only the worker that `drains`
 * (one of them) lists pending records: the outbox's consumers (the audit trail's drain of events
 * nobody recorded) then run in one process, not in every one, and do not record one event N times.
 */
export function withOwnersOutbox(store: RegistryStore, done: (ids: readonly string[]) => void, options: { readonly drains: boolean }): RegistryStore {
  const outbox = store.outbox;
  if (outbox === undefined) return store;
  return {
    find: (filter, options) => store.find(filter, options),
    getByUuids: (ids) => store.getByUuids(ids),
    count: (filter) => store.count(filter),
    objectCounts: () => store.objectCounts(),
    commit: (batch) => store.commit(batch),
    close: () => store.close(),
    outbox: {
      pending: (kind) => (options.drains ? outbox.pending(kind) : Promise.resolve([])),
      done: (ids) => {
        if (ids.length > 0) done(ids);
      },
    },
  };
}

/** Applies a forwarded write on the owner's registry (its queue, its store). */
export function applyForwardedWrite(registry: DocumentRegistry, w: ForwardedWrite): Promise<WriteOutcome> {
  switch (w.kind) {
    case 'register':
      return registry.register(withCommitRecords(w.submission, w.records));
    case 'update':
      return registry.update(w.submission, w.records);
    case 'restrictedUpdate':
      return registry.restrictedUpdate(w.submission, w.records);
    case 'delete':
      return registry.delete(w.request, w.records);
  }
}

/** A DocumentRegistry whose writes are decided by the write owner (see the header); reads are its own. */
export class ForwardingRegistry extends DocumentRegistry {
  private readonly patientIds: PatientIdPolicy;

  constructor(
    store: RegistryStore,
    options: DocumentRegistryOptions,
    private readonly send: WriteSender,
  ) {
    super(store, options);
    this.patientIds = options.patientIds;
  }

  override register(submission: Submission): Promise<RegisterOutcome> {
    // registerSubmission hands its write (with the records attached to the submission) to
    // `write`, which passes it here instead of deciding it.
    const via = this.through((w) => this.send({ kind: 'register', submission, records: w.records }));
    return registerSubmission(via, submission, { patientIds: this.patientIds, now: () => new Date() });
  }

  override update(submission: Submission, records: readonly CommitRecord[] = []): Promise<WriteOutcome> {
    const via = this.through((w) => this.send({ kind: 'update', submission, records: w.records }));
    return updateDocumentSet(via, submission, { patientIds: this.patientIds, now: () => new Date() }, records);
  }

  override restrictedUpdate(submission: Submission, records: readonly CommitRecord[] = []): Promise<WriteOutcome> {
    const via = this.through((w) => this.send({ kind: 'restrictedUpdate', submission, records: w.records }));
    return restrictedUpdateDocumentSet(via, submission, { patientIds: this.patientIds, now: () => new Date() }, records);
  }

  override delete(request: DeleteRequest, records: readonly CommitRecord[] = []): Promise<WriteOutcome> {
    const via = this.through((w) => this.send({ kind: 'delete', request, records: w.records }));
    return deleteObjects(via, request, records);
  }

  /** The store as one write sees it: reads go to the store, the write to `owner` (write-queue.ts `writeThrough`). */
  private through(owner: (w: RegistryWrite) => Promise<WriteOutcome>): RegistryStore {
    const store = this.store;
    const via: RegistryStore = {
      find: (filter, options) => store.find(filter, options),
      getByUuids: (ids) => store.getByUuids(ids),
      count: (filter) => store.count(filter),
      objectCounts: () => store.objectCounts(),
      commit: () => Promise.reject(new Error('a forwarded write is committed by the write owner')),
      close: () => Promise.resolve(),
    };
    writeThrough(via, owner);
    return via;
  }
}
