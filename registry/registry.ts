/**
 * The Document Registry actor: ITI-42 registration, ITI-57 update, ITI-92 restricted update, ITI-62
 * deletion and ITI-18 stored queries over one store.
 * Pure TypeScript: it takes and returns model objects; transactions do the wire work.
 */
import type { RegistryObject, Submission } from './model/metadata.js';
import type { StoredQueryRequest, StoredQueryResult } from './model/query.js';
import type { PatientIdPolicy } from './patients.js';
import { registerSubmission, type RegisterOutcome } from './register.js';
import { deleteObjects } from './delete.js';
import { objectsChangedBy, restrictedUpdateDocumentSet, updateDocumentSet, type UpdateContext } from './update.js';
import type { DeleteRequest } from './model/delete.js';
import type { CommitRecord, WriteOutcome } from './write-queue.js';
import { runStoredQuery } from './query/index.js';
import type { RegistryStore } from './store/store.js';

export interface DocumentRegistryOptions {
  /** This community's homeCommunityId (urn:oid:…); set on every object a query returns. */
  readonly homeCommunityId?: string;
  /** Result limit of stored queries (XDSTooManyResults above it). */
  readonly queryResultLimit: number;
  readonly patientIds: PatientIdPolicy;
  /** Clock, injectable so that tests can fix lastUpdateTime and submission times. */
  readonly now?: () => Date;
}

export class DocumentRegistry {
  constructor(
    readonly store: RegistryStore,
    private readonly options: DocumentRegistryOptions,
  ) {}

  /** ITI-42: validates and stores a submission set whole, or stores nothing. */
  register(submission: Submission): Promise<RegisterOutcome> {
    return registerSubmission(this.store, submission, {
      patientIds: this.options.patientIds,
      now: this.options.now ?? (() => new Date()),
      ...(this.options.homeCommunityId === undefined ? {} : { homeCommunityId: this.options.homeCommunityId }),
    });
  }

  /** ITI-57: applies the update whole or not at all; `records` are stored with it. */
  update(submission: Submission, records: readonly CommitRecord[] = []): Promise<WriteOutcome> {
    return updateDocumentSet(this.store, submission, this.updateContext(), records);
  }

  /**
   * ITI-92 (Restricted Metadata Update, XDS and XCA Persistence Options): new DocumentEntry versions
   * only, applied whole or not at all; `records` are stored with it.
   */
  restrictedUpdate(submission: Submission, records: readonly CommitRecord[] = []): Promise<WriteOutcome> {
    return restrictedUpdateDocumentSet(this.store, submission, this.updateContext(), records);
  }

  private updateContext(): UpdateContext {
    return {
      patientIds: this.options.patientIds,
      now: this.options.now ?? (() => new Date()),
      ...(this.options.homeCommunityId === undefined ? {} : { homeCommunityId: this.options.homeCommunityId }),
    };
  }

  /** The registered objects an ITI-57 or ITI-92 request would change (for its trust decision and audit; the update decides on its own reads). */
  objectsChangedBy(submission: Submission): Promise<RegistryObject[]> {
    return objectsChangedBy(this.store, submission);
  }

  /** ITI-62: removes the named objects whole or not at all; `records` are stored with the removal. */
  delete(request: DeleteRequest, records: readonly CommitRecord[] = []): Promise<WriteOutcome> {
    return deleteObjects(this.store, request, records);
  }

  /** ITI-18: runs one stored query. */
  query(request: StoredQueryRequest): Promise<StoredQueryResult> {
    return runStoredQuery(this.store, request, {
      maxResults: this.options.queryResultLimit,
      ...(this.options.homeCommunityId === undefined ? {} : { homeCommunityId: this.options.homeCommunityId }),
    });
  }
}
