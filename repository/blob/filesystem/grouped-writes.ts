/**
 * Group commit for the small-document table (small-blobs.ts). Every small upload writes its row
 * durably before its registration is sent, and again when it is committed: one SQLite transaction
 * with synchronous=FULL each, i.e. one fsync. The uploads that arrive while a transaction is on its
 * way to disk wait here, and the next transaction takes them all, as the registry's write queue
 * and the audit trail group theirs: under load the table sees one fsync in flight per group, not
 * per document.
 *
 * A group is one transaction, all or nothing, so its statements are written not to fail on their
 * own (INSERTs of fresh ids, UPDATE OR IGNORE, DELETEs); what does fail a group (a full disk, an
 * I/O error, a dead writer) fails each of its callers, as it would have failed each alone. Nobody
 * is answered before the transaction that holds their statements is on disk.
 */
import type { BatchWriter, SqlStatement } from '../../../registry/store/embedded/sqlite-writer.js';

interface Queued {
  readonly statements: readonly SqlStatement[];
  readonly transfer: readonly ArrayBuffer[];
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/** Most statements in one transaction: bounds a group's memory (small documents are ≤ 1 MiB each). */
const MAX_GROUP_STATEMENTS = 256;

export class GroupedWrites {
  private queued: Queued[] = [];
  private inFlight: Promise<void> | undefined;

  constructor(private readonly writer: BatchWriter) {}

  /**
   * Resolves once `statements` are committed durably (in a transaction shared with other callers).
   * `transfer`: buffers of the parameters moved to the writer thread instead of copied (BatchWriter).
   */
  run(statements: readonly SqlStatement[], transfer: readonly ArrayBuffer[] = []): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ statements, transfer, resolve, reject });
      if (this.inFlight === undefined) this.next();
    });
  }

  /** Waits for everything queued so far. */
  async drain(): Promise<void> {
    while (this.inFlight !== undefined) await this.inFlight;
  }

  private next(): void {
    if (this.queued.length === 0) {
      this.inFlight = undefined;
      return;
    }
    const group: Queued[] = [];
    let statements = 0;
    while (this.queued.length > 0 && (group.length === 0 || statements + this.queued[0]!.statements.length <= MAX_GROUP_STATEMENTS)) {
      const q = this.queued.shift()!;
      group.push(q);
      statements += q.statements.length;
    }
    this.inFlight = this.writer.run(group.flatMap((q) => q.statements), group.flatMap((q) => q.transfer)).then(
      () => {
        for (const q of group) q.resolve();
        this.next();
      },
      (e: unknown) => {
        for (const q of group) q.reject(e);
        this.next();
      },
    );
  }
}
