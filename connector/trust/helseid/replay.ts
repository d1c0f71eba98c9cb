/**
 * The memory of DPoP proofs already used (RFC 9449 §11.1), that refuses a captured proof sent
 * again. A proof is remembered under its key's thumbprint and its `jti` for as long as it could
 * still pass the verifier's `iat` check; after that the check refuses it anyway.
 *
 * One memory per node, whatever its number of processes: node:cluster hands each new connection
 * to the next worker, so a proof replayed on a new connection usually lands on another worker than
 * the original, and a memory per worker would take it as fresh. A multi-process node therefore
 * keeps the one memory in its primary (connector/cluster), and its workers ask it over IPC
 * (`ProofReplayMemory` may answer asynchronously); a single process keeps it here, in memory.
 */

/**
 * `fresh`: not seen, now remembered; `replay`: seen while still acceptable; `full`: the memory
 * holds only live proofs and takes no more (refused, never an old one forgotten: forgetting would
 * re-open that proof to replay); `unavailable`: the memory could not be asked (a worker whose
 * primary is gone), so nothing says the proof is fresh.
 */
export type ProofSeen = 'fresh' | 'replay' | 'full' | 'unavailable';

/** Where a verifier remembers the proofs it accepted. */
export interface ProofReplayMemory {
  /**
   * Remembers `key` until `expiresAtMs` unless it is remembered already; `nowMs` is the verifier's
   * clock, so a memory in another process judges expiry by the same clock as the proof's `iat`.
   */
  remember(key: string, expiresAtMs: number, nowMs: number): ProofSeen | Promise<ProofSeen>;
}

/**
 * Proofs seen recently, in this process. Entries leave once their proof would fail the iat check
 * anyway; when the memory is full of live entries a new proof is refused.
 */
export class ProofReplayCache implements ProofReplayMemory {
  private readonly entries = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  remember(key: string, expiresAtMs: number, nowMs: number): 'fresh' | 'replay' | 'full' {
    const known = this.entries.get(key);
    if (known !== undefined && known > nowMs) return 'replay';
    if (known !== undefined) this.entries.delete(key);
    this.dropExpiredFront(nowMs);
    if (this.entries.size >= this.capacity) {
      this.sweep(nowMs);
      if (this.entries.size >= this.capacity) return 'full';
    }
    this.entries.set(key, expiresAtMs);
    return 'fresh';
  }

  /** How many proofs are remembered (tests, and the primary's log). */
  get size(): number {
    return this.entries.size;
  }

  /** Insertion order is nearly expiry order: trimming the front keeps the memory small cheaply. */
  private dropExpiredFront(nowMs: number): void {
    for (const [key, expiresAt] of this.entries) {
      if (expiresAt > nowMs) return;
      this.entries.delete(key);
    }
  }

  private sweep(nowMs: number): void {
    for (const [key, expiresAt] of this.entries) if (expiresAt <= nowMs) this.entries.delete(key);
  }
}
