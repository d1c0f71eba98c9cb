/**
 * The Document Repository actor: ITI-41 Provide and Register (store the documents, register their
 * metadata) and ITI-43 Retrieve. Pure TypeScript, no SOAP: transactions do the wire work.
 *
 * Atomicity: documents are staged in the BlobStore first (streamed, hashed, fsynced, invisible);
 * then the metadata is registered; only after the registry accepted it are the blobs committed
 * under their document uniqueIds. A failed registration aborts every staged blob, so nothing of a
 * rejected submission is visible. When the registry's answer is unknown (it threw), the repository
 * asks the registry whether the entries are there and commits or aborts accordingly; if even that
 * fails the blobs stay staged and `recover()` (run at start) commits those whose DocumentEntry got
 * registered. Orphans (staged and never registered) are removed after `orphanAgeMs`.
 */
import type { Readable } from 'node:stream';
import { error, type RegistryErrorInfo, type ResponseStatus } from '../registry/model/errors.js';
import { sameOid } from '../registry/model/hl7.js';
import { DOCUMENT_ENTRY_TYPE, type DocumentEntry, type Submission } from '../registry/model/metadata.js';
import { BlobTooLargeError, type BlobSource, type BlobStore, type StagedBlob } from './blob/index.js';
import type { RegistryPort } from './registry-port.js';

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

export interface RecoveryReport {
  /** Staged blobs committed because their DocumentEntry had been registered. */
  readonly recovered: number;
  /** Orphaned staging leftovers removed. */
  readonly removed: number;
}

const HOUR = 60 * 60 * 1000;

export class DocumentRepository {
  private readonly orphanAgeMs: number;

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

  /**
   * ITI-41. `documents` maps the DocumentEntry ids of the submission (as submitted: symbolic or
   * urn:uuid) to their content. Every staged blob passed in or staged here is committed or aborted
   * before this returns (or left staged for recovery when the registry's answer is unknown).
   */
  async provideAndRegister(submission: Submission, documents: ReadonlyMap<string, DocumentContent>): Promise<ProvideOutcome> {
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
          throw e;
        }
      }
      for (const [id, blob] of staged) {
        if (blob.size > this.options.maxDocumentBytes) return failure([tooLarge(id, this.options.maxDocumentBytes)]);
      }

      const checked = this.fillSizeAndHash(submission, staged);
      if ('errors' in checked) return failure(checked.errors);
      const toRegister = checked.submission;

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

      try {
        await this.commitAll(toRegister, staged);
      } catch (e) {
        // The metadata is registered: aborting now would leave entries without documents. The blobs
        // stay staged; recover() commits them (at the latest at the next start).
        keepStaged = true;
        throw e;
      }
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
      if (r.repositoryUniqueId !== this.repositoryUniqueId) {
        errors.push(error('XDSUnknownRepositoryId', `repository ${r.repositoryUniqueId} is not served here (this is ${this.repositoryUniqueId})`, r.repositoryUniqueId));
        continue;
      }
      // homeCommunityIds travel bare and as urn:oid: (NORWAY.md, Wire); both name the same community.
      if (r.homeCommunityId !== undefined && home !== undefined && !sameOid(r.homeCommunityId, home)) {
        errors.push(error('XDSUnknownCommunity', `community ${r.homeCommunityId} is not this community (${home})`, r.homeCommunityId));
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
   * Finishes what a crash interrupted: staged blobs whose DocumentEntry is registered (crash between
   * the registry commit and the blob commit) are committed under its uniqueId; staging leftovers
   * older than `olderThanMs` are removed. Run at start (all staged blobs) and periodically.
   */
  async recover(olderThanMs = 0): Promise<RecoveryReport> {
    const threshold = Date.now() - olderThanMs;
    const staged = (await this.blobs.listStaged()).filter((b) => b.stagedAt.getTime() <= threshold);
    let recovered = 0;
    if (staged.length > 0 && this.registry.documentEntriesByHash) {
      const entries = await this.registry.documentEntriesByHash(this.repositoryUniqueId, [...new Set(staged.map((b) => b.sha1))]);
      const used = new Set<StagedBlob>();
      for (const entry of entries) {
        if (!entry.uniqueId || entry.hash === undefined || entry.size === undefined) continue;
        if (await this.blobs.exists(entry.uniqueId)) continue;
        const blob = staged.find((b) => !used.has(b) && b.sha1 === entry.hash!.toLowerCase() && sameSize(entry.size!, b.size));
        if (!blob) continue;
        await blob.commit(entry.uniqueId);
        used.add(blob);
        recovered++;
        this.options.log?.('info', 'recovered a document whose registration completed before a crash', { documentUniqueId: entry.uniqueId });
      }
    }
    const removed = await this.blobs.cleanOrphans(Math.max(olderThanMs, this.orphanAgeMs));
    return { recovered, removed };
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

  private async commitAll(submission: Submission, staged: ReadonlyMap<string, StagedBlob>): Promise<void> {
    for (const de of submission.documentEntries) {
      const blob = staged.get(de.entryUuid);
      // A successful registration guarantees a uniqueId on every DocumentEntry.
      if (blob) await blob.commit(de.uniqueId!);
    }
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
      await this.commitAll(submission, staged);
      return { keepStaged: false, outcome: { status: 'Success', errors: [] } };
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
