/**
 * The Document Repository actor: ITI-41 Provide and Register (store the documents, register their
 * metadata) and ITI-43 Retrieve. Pure TypeScript, no SOAP: transactions do the wire work.
 *
 * Atomicity: documents are staged in the BlobStore first (streamed, hashed, fsynced, invisible);
 * then the metadata is registered; only after the registry accepted it are the blobs committed
 * under their document uniqueIds. A failed registration aborts every staged blob, so nothing of a
 * rejected submission is visible. With the node's own registry, the registration's commit also
 * records which staged blob is owed a commit under which uniqueId (registry-port.ts, commit
 * records), so a crash at any point after it leaves a record that `recover()` finds with one
 * indexed read. When the registry's answer is unknown (it threw), the repository asks the registry
 * whether the entries are there and commits or aborts accordingly; if even that fails the blobs
 * stay staged for `recover()`.
 *
 * A registration that was stored is never answered as failed: when committing its blobs fails
 * afterwards (a full disk, an I/O error), the answer is still Success (the source must not send
 * again what the registry holds), the failure is logged at error level, the blobs stay staged, and
 * their commit is retried here, by the sweep and at the next start. A full disk before the
 * registry commit is XDSRepositoryOutOfResources (staging) or the registry's
 * XDSRegistryOutOfResources, and nothing is stored.
 *
 * Removal (`remove()`, ITI-86): the repository deletes its copy of each document it holds and
 * leaves the registry alone. The Remove Metadata and Documents profile gives the two stores two
 * transactions (ITI-62 removes the metadata at the registry, ITI-86 the document here) and leaves
 * their order to the Document Administrator; the repository has nothing to check against the
 * registry, and NIST's rep_rd plans remove documents whose entries are still registered. Who may
 * remove is the transaction's decision (connector/transactions/iti86.ts), not the actor's.
 *
 * Recovery (`recover()`, at start): staged blobs a record names are committed, every other staged
 * leftover is removed (nothing is in flight at start); the sweep does the same for what is older
 * than `orphanAgeMs`. With a remote registry there are no records: leftovers are removed once
 * older than `orphanAgeMs`.
 */
import type { Readable } from 'node:stream';
import { error, type RegistryErrorInfo, type ResponseStatus } from '../registry/model/errors.js';
import { sameOid } from '../registry/model/hl7.js';
import { DOCUMENT_ENTRY_TYPE, type DocumentEntry, type Submission } from '../registry/model/metadata.js';
import { BlobTooLargeError, isOutOfSpace, type BlobSource, type BlobStore, type StagedBlob } from './blob/index.js';
import { blobCommitRecord, blobCommitRecordId, withCommitRecords, type BlobCommitRecord, type CommitRecord, type RegistryPort } from './registry-port.js';

/** A document of a submission: bytes still to be staged, or a blob the transport already staged while the request streamed in. */
export type DocumentContent = BlobSource | StagedBlob;

export function isStagedBlob(content: unknown): content is StagedBlob {
  return typeof content === 'object' && content !== null && 'stagingId' in content && 'commit' in content;
}

export interface RepositoryOptions {
  /** This repository's uniqueId (an OID), written on every DocumentEntry it stores. */
  readonly repositoryUniqueId: string;
  /** This community's homeCommunityId (urn:oid:…), echoed in retrieve responses. */
  readonly homeCommunityId?: string;
  /** Largest document accepted; larger → XDSRepositoryError. */
  readonly maxDocumentBytes: number;
  /** Staged blobs older than this and not recovered are orphans. Default one hour. */
  readonly orphanAgeMs?: number;
  /** Called for problems that do not fail a request (an abort that failed, a recovery). */
  readonly log?: (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;
}

export interface ProvideOutcome {
  readonly status: ResponseStatus;
  readonly errors: readonly RegistryErrorInfo[];
}

export interface ProvideOptions {
  /**
   * Records to store with the registration if it is stored (the transaction's audit event of the
   * success): written in the registry's commit by the node's own registry, ignored by a remote one.
   */
  readonly commitRecords?: readonly CommitRecord[];
  /**
   * Runs right before the registration is sent, after every local check passed; when it rejects,
   * nothing is registered and the request fails with its error. The transaction writes its audit
   * intent here when the registry cannot store `commitRecords` (a remote one).
   */
  readonly beforeRegister?: () => Promise<void>;
}

export interface RetrieveRequest {
  readonly repositoryUniqueId: string;
  readonly documentUniqueId: string;
  readonly homeCommunityId?: string;
}

export interface RetrievedDocument {
  readonly repositoryUniqueId: string;
  readonly documentUniqueId: string;
  readonly homeCommunityId?: string;
  readonly mimeType: string;
  readonly size: number;
  /** A fresh stream over the bytes (pipe it; never buffer it whole). */
  stream(): Readable;
}

export interface RetrieveOutcome {
  readonly status: ResponseStatus;
  readonly documents: readonly RetrievedDocument[];
  readonly errors: readonly RegistryErrorInfo[];
}

/** A document to remove (ITI-86): the DocumentRequest of an rmd:RemoveDocumentsRequest. */
export type RemoveRequest = RetrieveRequest;

export interface RemoveOutcome {
  readonly status: ResponseStatus;
  /** The documents removed, in request order (each once). */
  readonly removed: readonly RemoveRequest[];
  /** One error per document not removed (XDSUnknownRepositoryId, XDSUnknownCommunity, XDSDocumentUniqueIdError, XDSRepositoryError). */
  readonly errors: readonly RegistryErrorInfo[];
}

export interface RecoveryReport {
  /** Staged blobs committed because their DocumentEntry had been registered. */
  readonly recovered: number;
  /** Orphaned staging leftovers removed. */
  readonly removed: number;
}

const HOUR = 60 * 60 * 1000;
/** First retry of a blob commit that failed after its registration was stored, then doubling. */
const COMMIT_RETRY_FIRST_MS = 2000;
/** Retries before the owed commits are left to the sweep and the next start (~4 minutes in all). */
const COMMIT_RETRIES = 7;

/** Blob commits recovery runs at once (the libuv pool has 4 threads; fsyncs queue there). */
const RECOVERY_COMMITS_IN_FLIGHT = 8;

/** Runs `work` on every item, at most `limit` at a time. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A blob whose registration is stored and whose commit failed: retried until it succeeds. */
interface OwedCommit {
  readonly blob: StagedBlob;
  readonly uniqueId: string;
}

export class DocumentRepository {
  private readonly orphanAgeMs: number;
  /** Blob commits owed by stored registrations, by stagingId, while this process retries them. */
  private readonly owed = new Map<string, OwedCommit>();
  /** A retry of the owed commits is scheduled. */
  private retrying = false;

  constructor(
    readonly blobs: BlobStore,
    private readonly registry: RegistryPort,
    private readonly options: RepositoryOptions,
  ) {
    this.orphanAgeMs = options.orphanAgeMs ?? HOUR;
  }

  get repositoryUniqueId(): string {
    return this.options.repositoryUniqueId;
  }

  /** Whether the registry stores commit records with its commits (the node's own registry), or ignores them (a remote one). */
  get registryStoresCommitRecords(): boolean {
    return this.registry.pendingBlobCommits !== undefined;
  }

  /** Which of these document uniqueIds the registry holds a DocumentEntry of, for this repository; throws when it cannot be asked. */
  async registeredDocuments(uniqueIds: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    // Bounded questions: a remote registry gets them as ITI-18 GetDocuments.
    for (let i = 0; i < uniqueIds.length; i += 100) {
      for (const e of await this.registry.documentEntries(uniqueIds.slice(i, i + 100))) {
        if (e.uniqueId !== undefined && (e.repositoryUniqueId === undefined || e.repositoryUniqueId === this.repositoryUniqueId)) found.add(e.uniqueId);
      }
    }
    return found;
  }

  /**
   * ITI-41. `documents` maps the DocumentEntry ids of the submission (as submitted: symbolic or
   * urn:uuid) to their content. Every staged blob passed in or staged here is committed or aborted
   * before this returns (or left staged for recovery when the registry's answer is unknown).
   */
  async provideAndRegister(submission: Submission, documents: ReadonlyMap<string, DocumentContent>, options: ProvideOptions = {}): Promise<ProvideOutcome> {
    const staged = new Map<string, StagedBlob>();
    for (const [id, content] of documents) if (isStagedBlob(content)) staged.set(id, content);
    let keepStaged = false;
    try {
      const mismatch = this.matchDocuments(submission, documents);
      if (mismatch.length > 0) return failure(mismatch);

      for (const [id, content] of documents) {
        if (staged.has(id) || isStagedBlob(content)) continue;
        try {
          staged.set(id, await this.blobs.stage(content, { maxBytes: this.options.maxDocumentBytes }));
        } catch (e) {
          if (e instanceof BlobTooLargeError) return failure([tooLarge(id, this.options.maxDocumentBytes)]);
          if (isOutOfSpace(e)) return failure([outOfResources(id)]);
          throw e;
        }
      }
      for (const [id, blob] of staged) {
        if (blob.size > this.options.maxDocumentBytes) return failure([tooLarge(id, this.options.maxDocumentBytes)]);
      }

      const checked = this.fillSizeAndHash(submission, staged);
      if ('errors' in checked) return failure(checked.errors);
      // The registry's commit names each staged blob's uniqueId, and carries the caller's records.
      const toRegister = withCommitRecords(checked.submission, [...(options.commitRecords ?? []), ...this.blobRecords(checked.submission, staged)]);

      await options.beforeRegister?.();
      let outcome: ProvideOutcome;
      try {
        outcome = await this.registry.register(toRegister);
      } catch (e) {
        const settled = await this.settleUnknownOutcome(toRegister, staged, e);
        keepStaged = settled.keepStaged;
        return settled.outcome;
      }
      // The registry's errors are relayed as they are (XDSPatientIdDoesNotMatch, XDSUnknownPatientId…).
      if (outcome.status === 'Failure') return outcome;

      // The metadata is registered: from here on the answer is the registry's, whatever happens to
      // the blobs (aborting them would leave entries without documents).
      keepStaged = !(await this.commitRegistered(toRegister, staged));
      return outcome;
    } finally {
      if (!keepStaged) await this.abortAll(staged.values());
    }
  }

  /** ITI-43: one result per request, in request order for the found ones. */
  async retrieve(requests: readonly RetrieveRequest[]): Promise<RetrieveOutcome> {
    if (requests.length === 0) {
      return { status: 'Failure', documents: [], errors: [error('XDSRepositoryError', 'RetrieveDocumentSetRequest without DocumentRequest')] };
    }
    const ours = requests.filter((r) => r.repositoryUniqueId === this.repositoryUniqueId);
    const entries = await this.registry.documentEntries([...new Set(ours.map((r) => r.documentUniqueId))]);
    const documents: RetrievedDocument[] = [];
    const errors: RegistryErrorInfo[] = [];
    const home = this.options.homeCommunityId;
    for (const r of requests) {
      const elsewhere = this.addressedElsewhere(r);
      if (elsewhere !== undefined) {
        errors.push(elsewhere);
        continue;
      }
      const entry = pickEntry(entries, r.documentUniqueId, this.repositoryUniqueId);
      const blob = entry ? await this.blobs.open(r.documentUniqueId) : undefined;
      if (!entry || !blob) {
        errors.push(error('XDSDocumentUniqueIdError', `document ${r.documentUniqueId} is not in repository ${this.repositoryUniqueId}`, r.documentUniqueId));
        continue;
      }
      documents.push({
        repositoryUniqueId: this.repositoryUniqueId,
        documentUniqueId: r.documentUniqueId,
        ...(home !== undefined ? { homeCommunityId: home } : {}),
        mimeType: entry.mimeType ?? 'application/octet-stream',
        size: blob.size,
        stream: () => blob.stream(),
      });
    }
    const status: ResponseStatus = documents.length === 0 ? 'Failure' : errors.length > 0 ? 'PartialSuccess' : 'Success';
    return { status, documents, errors };
  }

  /**
   * ITI-86: deletes the bytes of each document this repository holds (the blob store makes the
   * deletion durable before it returns). A document named twice is removed once and answered once.
   *
   * Not idempotent on the wire, as the profile has it: removing a document already removed is
   * XDSDocumentUniqueIdError, so a Document Administrator that repeats a request whose answer it
   * lost learns that the document is gone either way. A registered document whose bytes are still
   * owed a commit (the commit failed and is being retried) counts as held: its staged bytes are
   * dropped with the retry, so that the retry cannot bring the document back after its removal.
   */
  async remove(requests: readonly RemoveRequest[]): Promise<RemoveOutcome> {
    if (requests.length === 0) {
      return { status: 'Failure', removed: [], errors: [error('XDSRepositoryError', 'RemoveDocumentsRequest without DocumentRequest')] };
    }
    const removed: RemoveRequest[] = [];
    const errors: RegistryErrorInfo[] = [];
    const seen = new Set<string>();
    for (const r of requests) {
      const key = JSON.stringify([r.homeCommunityId ?? '', r.repositoryUniqueId, r.documentUniqueId]);
      if (seen.has(key)) continue;
      seen.add(key);
      const elsewhere = this.addressedElsewhere(r);
      if (elsewhere !== undefined) {
        errors.push(elsewhere);
        continue;
      }
      if (r.documentUniqueId === '') {
        errors.push(error('XDSDocumentUniqueIdError', 'DocumentRequest without DocumentUniqueId'));
        continue;
      }
      let held: boolean;
      try {
        const owed = await this.dropOwedCommits(r.documentUniqueId);
        held = (await this.blobs.remove(r.documentUniqueId)) || owed;
      } catch (e) {
        // The document may or may not be gone: say so, and let the administrator ask again.
        this.options.log?.('error', 'could not remove a document', { documentUniqueId: r.documentUniqueId, error: e instanceof Error ? e.message : String(e) });
        errors.push(error('XDSRepositoryError', `document ${r.documentUniqueId} could not be removed; try again later`, r.documentUniqueId));
        continue;
      }
      if (!held) {
        errors.push(error('XDSDocumentUniqueIdError', `document ${r.documentUniqueId} is not in repository ${this.repositoryUniqueId}`, r.documentUniqueId));
        continue;
      }
      removed.push({
        ...(r.homeCommunityId !== undefined ? { homeCommunityId: r.homeCommunityId } : {}),
        repositoryUniqueId: r.repositoryUniqueId,
        documentUniqueId: r.documentUniqueId,
      });
    }
    const status: ResponseStatus = removed.length === 0 ? 'Failure' : errors.length > 0 ? 'PartialSuccess' : 'Success';
    return { status, removed, errors };
  }

  /** Drops the retried commits of a document (aborting their staged bytes); true if there was one. */
  /** The error of a request (ITI-43, ITI-86) naming another repository or another community, if it does. */
  private addressedElsewhere(r: { readonly repositoryUniqueId: string; readonly homeCommunityId?: string | undefined }): RegistryErrorInfo | undefined {
    if (r.repositoryUniqueId !== this.repositoryUniqueId) {
      return error('XDSUnknownRepositoryId', `repository ${r.repositoryUniqueId} is not served here (this is ${this.repositoryUniqueId})`, r.repositoryUniqueId);
    }
    // homeCommunityIds travel bare and as urn:oid: (NORWAY.md, Wire); both name the same community.
    const home = this.options.homeCommunityId;
    if (r.homeCommunityId !== undefined && home !== undefined && !sameOid(r.homeCommunityId, home)) {
      return error('XDSUnknownCommunity', `community ${r.homeCommunityId} is not this community (${home})`, r.homeCommunityId);
    }
    return undefined;
  }

  private async dropOwedCommits(uniqueId: string): Promise<boolean> {
    const owed = [...this.owed].filter(([, o]) => o.uniqueId === uniqueId);
    if (owed.length === 0) return false;
    for (const [stagingId, o] of owed) {
      await o.blob.abort();
      this.owed.delete(stagingId);
    }
    this.registry.blobCommitsDone?.(owed.map(([stagingId]) => blobCommitRecordId(stagingId)));
    return true;
  }

  /**
   * Finishes what a crash interrupted, and removes staging leftovers. Run at start with no
   * argument: every staged blob is then a leftover (no request is in flight yet), those the
   * registry's commit records name are committed under their uniqueIds and all others removed.
   * Run periodically with `olderThanMs` (the sweep): the same for what was staged longer ago.
   * Only indexed reads: the commit records of one kind, the DocumentEntries of their witnesses.
   */
  async recover(olderThanMs = 0): Promise<RecoveryReport> {
    const atStart = olderThanMs === 0;
    const threshold = Date.now() - olderThanMs;
    // With no records to tell registered from unregistered (a remote registry), or other nodes
    // staging into the same storage, only the orphan age tells a leftover from an upload.
    const canTell = this.registry.pendingBlobCommits !== undefined;
    const removeAfterMs = atStart && canTell && !this.blobs.sharedStaging ? 0 : Math.max(olderThanMs, this.orphanAgeMs);
    let recovered = 0;
    const keep = new Set<string>();
    if (canTell) {
      const records = await this.registry.pendingBlobCommits!();
      if (records.length > 0) {
        const staged = new Map((await this.blobs.listStaged()).map((b) => [b.stagingId, b]));
        const done: string[] = [];
        // Young: the request that staged it may still be committing it.
        const due = records.filter((r) => (staged.get(r.stagingId)?.stagedAt.getTime() ?? 0) <= threshold);
        // Each commit waits for its directory fsyncs (~10 ms here): several at once, so that a
        // start after a crash under load is not held up by them one after another.
        await inParallel(due, RECOVERY_COMMITS_IN_FLIGHT, async (record) => {
          const settled = await this.settleRecord(record, staged.get(record.stagingId));
          if (settled === 'committed') recovered++;
          if (settled === 'kept') keep.add(record.stagingId);
          else done.push(record.id);
        });
        this.registry.blobCommitsDone?.(done);
      }
    }
    for (const stagingId of this.owed.keys()) keep.add(stagingId);
    const removed = await this.blobs.cleanOrphans(removeAfterMs, { keep });
    return { recovered, removed };
  }

  /** Commits the staged blob a record names, or finds it already committed; 'kept' when it must be tried again. */
  private async settleRecord(record: BlobCommitRecord, blob: StagedBlob | undefined): Promise<'committed' | 'already' | 'kept' | 'lost'> {
    if (blob === undefined) {
      if (await this.blobs.exists(record.uniqueId)) return 'already';
      this.options.log?.('error', 'a registered document has neither staged nor committed bytes; its DocumentEntry cannot be retrieved', {
        documentUniqueId: record.uniqueId,
        stagingId: record.stagingId,
      });
      return 'lost';
    }
    if (blob.sha1 !== record.sha1 || blob.size !== record.size) {
      this.options.log?.('error', 'a staged document does not match its commit record; it is kept', { documentUniqueId: record.uniqueId, stagingId: record.stagingId });
      return 'kept';
    }
    try {
      await blob.commit(record.uniqueId);
    } catch (e) {
      this.options.log?.('error', 'could not commit a registered document; it stays staged and is tried again', {
        documentUniqueId: record.uniqueId,
        error: e instanceof Error ? e.message : String(e),
      });
      return 'kept';
    }
    this.options.log?.('info', 'recovered a document whose registration completed before a crash', { documentUniqueId: record.uniqueId });
    return 'committed';
  }

  /** Every stable DocumentEntry needs a document and every document a DocumentEntry (ITI TF-2b 3.41.4.1.3). */
  private matchDocuments(submission: Submission, documents: ReadonlyMap<string, DocumentContent>): RegistryErrorInfo[] {
    const errors: RegistryErrorInfo[] = [];
    const entries = submission.documentEntries.filter((de) => de.objectType !== DOCUMENT_ENTRY_TYPE.onDemand);
    for (const de of entries) {
      if (!documents.has(de.entryUuid)) {
        errors.push(error('XDSMissingDocument', `DocumentEntry ${de.entryUuid} has no document in the request`, de.entryUuid));
      }
    }
    for (const id of documents.keys()) {
      if (!entries.some((de) => de.entryUuid === id)) {
        errors.push(error('XDSMissingDocumentMetadata', `Document ${id} has no DocumentEntry in the metadata`, id));
      }
    }
    return errors;
  }

  /** Size and hash filled in from the stored bytes, or checked when the source gave them; repositoryUniqueId set. */
  private fillSizeAndHash(submission: Submission, staged: ReadonlyMap<string, StagedBlob>): { submission: Submission } | { errors: RegistryErrorInfo[] } {
    const errors: RegistryErrorInfo[] = [];
    const documentEntries = submission.documentEntries.map((de): DocumentEntry => {
      const blob = staged.get(de.entryUuid);
      if (!blob) return de;
      if (de.size !== undefined && !sameSize(de.size, blob.size)) {
        errors.push(error('XDSRepositoryMetadataError', `size ${de.size} of DocumentEntry ${de.entryUuid} does not match the document (${blob.size} bytes)`, de.entryUuid));
      }
      // Hex is case-insensitive; upper-case hashes are accepted (NIST 11981) and kept as submitted.
      if (de.hash !== undefined && de.hash.trim().toLowerCase() !== blob.sha1) {
        errors.push(error('XDSRepositoryMetadataError', `hash ${de.hash} of DocumentEntry ${de.entryUuid} does not match the document (SHA-1 ${blob.sha1})`, de.entryUuid));
      }
      return {
        ...de,
        size: de.size ?? String(blob.size),
        hash: de.hash ?? blob.sha1,
        repositoryUniqueId: this.repositoryUniqueId,
      };
    });
    if (errors.length > 0) return { errors };
    return { submission: { ...submission, documentEntries } };
  }

  /** The commit record of each staged blob: which uniqueId it is to be committed under. */
  private blobRecords(submission: Submission, staged: ReadonlyMap<string, StagedBlob>): CommitRecord[] {
    const records: CommitRecord[] = [];
    for (const de of submission.documentEntries) {
      const blob = staged.get(de.entryUuid);
      // Without a uniqueId the registry refuses the submission; there is nothing to record.
      if (blob && de.uniqueId !== undefined && de.uniqueId !== '') records.push(blobCommitRecord(blob, de.uniqueId));
    }
    return records;
  }

  /**
   * Commits the blobs of a stored registration and confirms their records done. A blob that cannot
   * be committed stays staged (its record too) and is retried: the registration stands, so the
   * failure is the operator's to see, loudly, not the source's. False when one is left staged.
   */
  private async commitRegistered(submission: Submission, staged: ReadonlyMap<string, StagedBlob>): Promise<boolean> {
    const done: string[] = [];
    let all = true;
    for (const de of submission.documentEntries) {
      const blob = staged.get(de.entryUuid);
      if (!blob) continue;
      // A successful registration guarantees a uniqueId on every DocumentEntry.
      const uniqueId = de.uniqueId!;
      try {
        await blob.commit(uniqueId);
        done.push(blobCommitRecordId(blob.stagingId));
      } catch (e) {
        all = false;
        this.options.log?.('error', 'REGISTERED DOCUMENT NOT YET RETRIEVABLE: its registration is stored but committing its bytes failed; answered Success, kept staged, retrying', {
          documentUniqueId: uniqueId,
          stagingId: blob.stagingId,
          outOfSpace: isOutOfSpace(e),
          error: e instanceof Error ? e.message : String(e),
        });
        this.owed.set(blob.stagingId, { blob, uniqueId });
      }
    }
    this.registry.blobCommitsDone?.(done);
    if (!all) this.scheduleRetry();
    return all;
  }

  /** Retries the owed commits with a doubling delay; after the last try the sweep and the next start take over. */
  private scheduleRetry(attempt = 0): void {
    if (attempt === 0 && (this.retrying || this.owed.size === 0)) return;
    this.retrying = true;
    const timer = setTimeout(() => void this.retryOwed(attempt), COMMIT_RETRY_FIRST_MS * 2 ** attempt);
    // A pending retry must not keep a stopping process alive: the records survive it.
    timer.unref();
  }

  private async retryOwed(attempt: number): Promise<void> {
    const done: string[] = [];
    for (const [stagingId, owed] of [...this.owed]) {
      try {
        await owed.blob.commit(owed.uniqueId);
      } catch {
        continue;
      }
      this.owed.delete(stagingId);
      done.push(blobCommitRecordId(stagingId));
      this.options.log?.('warn', 'a registered document is retrievable after a failed commit was retried', { documentUniqueId: owed.uniqueId });
    }
    this.registry.blobCommitsDone?.(done);
    if (this.owed.size > 0 && attempt + 1 < COMMIT_RETRIES) {
      this.scheduleRetry(attempt + 1);
      return;
    }
    // What is left stays staged with its record: the sweep and the next start commit it.
    this.owed.clear();
    this.retrying = false;
  }

  /**
   * The registry call threw: it may or may not have committed. Ask it; commit if the entries are
   * there, abort if they are not, and leave the blobs staged for `recover()` if it cannot be asked.
   */
  private async settleUnknownOutcome(
    submission: Submission,
    staged: ReadonlyMap<string, StagedBlob>,
    cause: unknown,
  ): Promise<{ outcome: ProvideOutcome; keepStaged: boolean }> {
    const reason = cause instanceof Error ? cause.message : String(cause);
    this.options.log?.('error', 'registration failed', { error: reason });
    const uniqueIds = submission.documentEntries.filter((de) => staged.has(de.entryUuid)).map((de) => de.uniqueId!);
    let registered: DocumentEntry[];
    try {
      registered = await this.registry.documentEntries(uniqueIds);
    } catch {
      return {
        keepStaged: true,
        outcome: failure([error('XDSRepositoryError', 'the Document Registry could not be reached; the outcome of the registration is unknown')]),
      };
    }
    const ours = (uid: string): boolean =>
      registered.some((e) => e.uniqueId === uid && e.repositoryUniqueId === this.repositoryUniqueId && e.hash?.toLowerCase() === this.hashOf(submission, staged, uid));
    if (uniqueIds.length > 0 && uniqueIds.every(ours)) {
      const committed = await this.commitRegistered(submission, staged);
      return { keepStaged: !committed, outcome: { status: 'Success', errors: [] } };
    }
    return { keepStaged: false, outcome: failure([error('XDSRepositoryError', 'the Document Registry failed to register the metadata')]) };
  }

  private hashOf(submission: Submission, staged: ReadonlyMap<string, StagedBlob>, uniqueId: string): string | undefined {
    const de = submission.documentEntries.find((d) => d.uniqueId === uniqueId);
    return de ? staged.get(de.entryUuid)?.sha1 : undefined;
  }

  private async abortAll(blobs: Iterable<StagedBlob>): Promise<void> {
    for (const blob of blobs) {
      // After a commit, abort is a no-op; otherwise the staged bytes go.
      await blob.abort().catch((e: unknown) => {
        this.options.log?.('warn', 'could not remove a staged document; it will be cleaned as an orphan', {
          stagingId: blob.stagingId,
          error: e instanceof Error ? e.message : String(e),
        });
      });
    }
  }
}

function failure(errors: readonly RegistryErrorInfo[]): ProvideOutcome {
  return { status: 'Failure', errors };
}

function outOfResources(id: string): RegistryErrorInfo {
  return error('XDSRepositoryOutOfResources', `the repository has no storage space left for document ${id}; nothing was stored, try again later`, id);
}

function tooLarge(id: string, maxBytes: number): RegistryErrorInfo {
  return error('XDSRepositoryError', `document ${id} exceeds the size limit of ${maxBytes} bytes`, id);
}

function sameSize(given: string, actual: number): boolean {
  const s = given.trim();
  return /^\d+$/.test(s) && Number(s) === actual;
}

/** The DocumentEntry a retrieve serves: this repository's, Approved before Deprecated. */
function pickEntry(entries: readonly DocumentEntry[], uniqueId: string, repositoryUniqueId: string): DocumentEntry | undefined {
  const mine = entries.filter((e) => e.uniqueId === uniqueId && (e.repositoryUniqueId === undefined || e.repositoryUniqueId === repositoryUniqueId));
  return mine.find((e) => e.availabilityStatus === 'Approved') ?? mine[0];
}
