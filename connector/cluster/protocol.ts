/**
 * The messages between the primary and the workers of a multi-process node (see primary.ts), over
 * node:cluster's IPC channel with `serialization: 'advanced'` (structured clone: the model objects
 * of a forwarded write arrive as sent, `undefined` fields included). Every message carries `kp`, so
 * that other users of the channel (prom-client's own cluster messages) are left alone.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ForwardedWrite } from '../../registry/forwarded-writes.js';
import type { WriteOutcome } from '../../registry/write-queue.js';
import type { NodeConfig } from '../config.js';
import type { ProofSeen } from '../trust/helseid/replay.js';
import type { ConfigOrigin } from '../start-log.js';

/** Primary → worker. */
export type ToWorker =
  /** The first message: what to start. */
  | {
      readonly kp: 'start';
      readonly config: NodeConfig;
      readonly index: number;
      /** How many workers the node has. */
      readonly processes: number;
      readonly configOrigin?: ConfigOrigin | undefined;
      readonly startLog: boolean;
    }
  /** The answer to a forwarded write: its outcome, or why the outcome is unknown. */
  | { readonly kp: 'written'; readonly id: number; readonly outcome?: WriteOutcome; readonly error?: string }
  /** The answer to a metrics request: the whole node's exposition. */
  | { readonly kp: 'exposition'; readonly id: number; readonly text?: string; readonly error?: string }
  /** The answer to a proof-seen question: whether the node's one memory of used DPoP proofs knew it. */
  | { readonly kp: 'proof-answer'; readonly id: number; readonly seen: ProofSeen }
  /** Asks for this worker's metrics as prom-client JSON (for a scrape). */
  | { readonly kp: 'collect'; readonly id: number }
  /** A graceful stop: drain, close, exit. */
  | { readonly kp: 'stop'; readonly drainMs: number };

/** Worker → primary. */
export type ToPrimary =
  /** The worker's message handler is in place: it may be sent `start` (a message sent earlier is lost). */
  | { readonly kp: 'hello' }
  | { readonly kp: 'ready'; readonly port: number; readonly url: string }
  | { readonly kp: 'failed'; readonly message: string; readonly usage: boolean }
  | { readonly kp: 'write'; readonly id: number; readonly write: ForwardedWrite }
  /** Registry outbox records whose work this worker did (no answer). */
  | { readonly kp: 'outbox-done'; readonly ids: readonly string[] }
  | { readonly kp: 'metrics'; readonly id: number }
  /** A DPoP proof this worker is about to accept: remember it, or say it was used (trust/helseid/replay.ts). */
  | { readonly kp: 'proof-seen'; readonly id: number; readonly key: string; readonly expiresAtMs: number; readonly nowMs: number }
  | { readonly kp: 'collected'; readonly id: number; readonly metrics: unknown[] };

function isOurs(m: unknown): boolean {
  return typeof m === 'object' && m !== null && typeof (m as { kp?: unknown }).kp === 'string';
}

export function isToWorker(m: unknown): m is ToWorker {
  return isOurs(m);
}

export function isToPrimary(m: unknown): m is ToPrimary {
  return isOurs(m);
}

/** The number of processes `processes` asks for: "auto" is the cores this process may use. */
export function processCount(config: Pick<NodeConfig, 'processes'>): number {
  return config.processes === 'auto' ? availableParallelism() : config.processes;
}

/** A worker's own directory under dataDir: its audit queue and intents files (taken over by the worker that replaces it). */
export function workerDirectory(dataDir: string, index: number): string {
  return join(dataDir, 'workers', String(index));
}
