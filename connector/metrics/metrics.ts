/**
 * The node's metrics: Prometheus exposition at `metrics.path` (default `/metrics`) and, for the
 * operator page, per-minute request rates and the state of each community.
 *
 * Interface for the operator page (connector/admin), stable:
 *
 *   metrics.recentRates(): RateBucket[]   the last 60 minutes, oldest first, one bucket per minute
 *                                         (the current minute last; minutes without traffic are
 *                                         there with zeros)
 *   metrics.communities(): CommunityState[]  per community of the initiating gateway: the last
 *                                         call's latency, whether it answered, when, and the
 *                                         timeouts and failures counted since start
 *
 * Where the numbers come from (nothing in the transactions is touched):
 * - every SOAP request, once, from the endpoint's observer (connector/soap/endpoint.ts `observe`):
 *   its latency, HTTP status, SOAP fault, and, read from the reply body actually sent, its ebRS
 *   status and RegistryError codes (outcome.ts says why the reply and not the audit events);
 * - every outbound call of the initiating gateway from `callCommunity`'s observer
 *   (connector/gateway/fanout.ts);
 * - the audit queue from `auditQueueMetrics()` (only this node's queue file), the blob store from a
 *   walk at most once a minute (blob-size.ts), the process from prom-client's default collectors.
 *
 * Each node has its own prom-client Registry (never the global one), so several nodes in one
 * process (the tests, the demo network) keep their numbers apart. The process metrics are the
 * process's, whichever node serves them: they live in one registry per process (also not the
 * global one), made on first use, because prom-client's default collectors start an event-loop
 * delay monitor and a GC observer that are never stopped, one more set per call.
 *
 * - the registry's size from `RegistryStore.objectCounts`, counts the stores keep with every commit
 *   (a `count()` by type would walk millions of index rows per scrape).
 */
import { join } from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SignaturePathCounts } from '../trust/xua.js';
import { auditQueueMetrics } from '../audit/queue.js';
import { QUEUE_FILE } from '../audit/auditor.js';
import type { CommunityCall, CommunityCallObserver } from '../gateway/fanout.js';
import { ACTIONS } from '../soap/actions.js';
import type { SoapObserver, SoapOutcome } from '../soap/endpoint.js';
import type { EndpointName } from '../transactions/context.js';
import type { RegistryStore } from '../../registry/store/store.js';
import { BlobSizeSampler, blobDirectory } from './blob-size.js';
import { classifyReply, faultLabel, type RequestOutcome } from './outcome.js';

/** One minute of requests, as the operator page plots it. */
export interface RateBucket {
  /** Start of the minute, ISO 8601 UTC (`2026-12-06T05:58:00.000Z`). */
  readonly start: string;
  readonly requests: number;
  /** Requests whose outcome was failure, fault, denied or aborted (partial successes are not errors). */
  readonly errors: number;
  /**
   * By transaction: `ITI-18`, `ITI-38`, `ITI-39`, `ITI-41`, `ITI-42`, `ITI-43`, `ITI-51`, `ITI-57`, `ITI-62`, `ITI-86`, `ITI-92`; the initiating
   * gateway's as `ITI-18 federated`, `ITI-43 federated`; an action no endpoint serves (or a request
   * refused before its action was read) as `unknown`.
   */
  readonly byTransaction: Record<string, { requests: number; errors: number }>;
}

/** One community of the initiating gateway, as the operator page shows it. */
export interface CommunityState {
  readonly homeCommunityId: string;
  /** Latency of the last call (ms), absent before the first. */
  lastLatencyMs?: number;
  /** Whether the last call got an answer (any status); false for a timeout or failure. */
  lastOk?: boolean;
  /** When the last call ended (ISO 8601 UTC). */
  lastAt?: string;
  /** Calls that ran past the community's deadline, since start. */
  timeouts: number;
  /** Calls that failed otherwise (unreachable, a fault, an unusable answer), since start. */
  failures: number;
}

export interface NodeMetricsOptions {
  /** The node's data directory: its audit queue file and, without MongoDB, its blob store. */
  readonly dataDir: string;
  /** Where this process's audit queue file is, when not in dataDir (a worker of a multi-process node). */
  readonly auditQueueDir?: string | undefined;
  /** With MongoDB the blobs are in GridFS, which is not measured. */
  readonly filesystemBlobs: boolean;
  /** The registry store whose size is exported (its maintained counts). */
  readonly registry?: Pick<RegistryStore, 'objectCounts'>;
  /** The clock (tests). */
  readonly now?: () => number;
  /** Where a failed blob-store walk or registry count is reported. */
  readonly warn?: (message: string, meta: Record<string, unknown>) => void;
}

/** Latency buckets in seconds, 1 ms to 30 s: a stored query takes milliseconds, a 100 MiB ITI-41 tens of seconds. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The process metrics (CPU, memory, event loop, GC), collected once per process for every node. */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** This process's metrics (CPU, memory, event loop, GC) as prom-client's JSON. */
export function processMetricsJson(): Promise<unknown[]> {
  return processMetrics().getMetricsAsJSON();
}

const MINUTE_MS = 60_000;
const RATE_MINUTES = 60;

/** Action → transaction on each endpoint (the same action means ITI-18 at the registry and at the initiating gateway). */
const TRANSACTIONS: Readonly<Record<EndpointName, ReadonlyMap<string, string>>> = {
  registry: new Map([
    [ACTIONS.iti42.request, 'ITI-42'],
    [ACTIONS.iti18.request, 'ITI-18'],
    [ACTIONS.iti51.request, 'ITI-51'],
    [ACTIONS.iti57.request, 'ITI-57'],
    [ACTIONS.iti62.request, 'ITI-62'],
    [ACTIONS.iti92.request, 'ITI-92'],
  ]),
  repository: new Map([
    [ACTIONS.iti41.request, 'ITI-41'],
    [ACTIONS.iti43.request, 'ITI-43'],
    [ACTIONS.iti86.request, 'ITI-86'],
  ]),
  responding: new Map([
    [ACTIONS.iti38.request, 'ITI-38'],
    [ACTIONS.iti39.request, 'ITI-39'],
    [ACTIONS.iti92.request, 'ITI-92'],
  ]),
  initiating: new Map([
    [ACTIONS.iti18.request, 'ITI-18'],
    [ACTIONS.iti43.request, 'ITI-43'],
  ]),
};

/** Outcomes the rate buckets count as errors. */
const ERROR_OUTCOMES: ReadonlySet<RequestOutcome> = new Set(['failure', 'fault', 'denied', 'aborted']);

interface MutableBucket {
  requests: number;
  errors: number;
  byTransaction: Record<string, { requests: number; errors: number }>;
}

export class NodeMetrics {
  /** The node's own registry: what `/metrics` serves, followed by the process metrics. */
  readonly registry = new Registry();
  private readonly requests: Counter<'endpoint' | 'transaction' | 'outcome'>;
  private readonly registryErrors: Counter<'endpoint' | 'transaction' | 'code'>;
  private readonly faults: Counter<'endpoint' | 'transaction' | 'code'>;
  private readonly latency: Histogram<'endpoint' | 'transaction'>;
  private readonly communityLatency: Histogram<'community'>;
  private readonly communityTimeouts: Counter<'community'>;
  private readonly communityFailures: Counter<'community'>;
  private readonly now: () => number;
  /** Minute number (ms / 60,000) → its bucket; minutes older than the window are dropped as new ones open. */
  private readonly minutes = new Map<number, MutableBucket>();
  private readonly communityStates = new Map<string, CommunityState>();
  /** The XUA verifier's signature checks per path, once the trust model is wired (`observeXua`). */
  private xuaPaths: (() => Readonly<SignaturePathCounts>) | undefined;

  constructor(options: NodeMetricsOptions) {
    this.now = options.now ?? Date.now;
    const registers = [this.registry];

    this.requests = new Counter({
      name: 'koblingspunkt_requests_total',
      help: 'Requests answered (SOAP, and MHD on endpoint fhir), by endpoint, transaction and outcome (success, partial, failure, denied, fault, aborted)',
      labelNames: ['endpoint', 'transaction', 'outcome'],
      registers,
    });
    this.registryErrors = new Counter({
      name: 'koblingspunkt_registry_errors_total',
      help: 'RegistryErrors of severity Error in the responses sent, by IHE error code',
      labelNames: ['endpoint', 'transaction', 'code'],
      registers,
    });
    this.faults = new Counter({
      name: 'koblingspunkt_soap_faults_total',
      help: 'SOAP faults sent, by fault code and first subcode (e.g. Sender/ActionNotSupported)',
      labelNames: ['endpoint', 'transaction', 'code'],
      registers,
    });
    this.latency = new Histogram({
      name: 'koblingspunkt_request_duration_seconds',
      help: 'Time from the request arriving to the last byte of its answer handed to the socket',
      labelNames: ['endpoint', 'transaction'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.communityLatency = new Histogram({
      name: 'koblingspunkt_gateway_call_duration_seconds',
      help: 'Outbound calls of the initiating gateway (ITI-38/39, or the local registry/repository), by community, the wait for a slot included',
      labelNames: ['community'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.communityTimeouts = new Counter({
      name: 'koblingspunkt_gateway_call_timeouts_total',
      help: "Outbound calls that ran past the community's deadline",
      labelNames: ['community'],
      registers,
    });
    this.communityFailures = new Counter({
      name: 'koblingspunkt_gateway_call_failures_total',
      help: 'Outbound calls that failed otherwise: unreachable, a SOAP fault, an unusable answer',
      labelNames: ['community'],
      registers,
    });

    const metrics = this;
    new Counter({
      name: 'koblingspunkt_xua_signature_checks_total',
      help: 'XUA assertion signatures checked, by path: fast (the node\'s own c14n and node:crypto) or xml-crypto (a shape the fast path leaves to the verifier of record; each costs several ms, so a rise means unusual or hostile assertions)',
      labelNames: ['path'],
      registers,
      collect() {
        const paths = metrics.xuaPaths?.();
        if (paths === undefined) return;
        // The verifier counts; the counter mirrors it (never decreasing, as the verifier's never do).
        this.reset();
        this.inc({ path: 'fast' }, paths.fast);
        this.inc({ path: 'xml-crypto' }, paths.xmlCrypto);
      },
    });

    // Only this node's queue: auditQueueMetrics() lists every queue open in the process.
    const queuePath = join(options.auditQueueDir ?? options.dataDir, QUEUE_FILE);
    const ownQueue = () => auditQueueMetrics(this.now()).find((q) => q.path === queuePath);
    new Gauge({
      name: 'koblingspunkt_audit_queue_depth',
      help: 'Audit events waiting in the durable queue for a sink (store: an audit-store outage; syslog: the ATNA repository)',
      labelNames: ['sink'],
      registers,
      collect() {
        this.reset();
        for (const s of ownQueue()?.sinks ?? []) this.set({ sink: s.sink }, s.depth);
      },
    });
    new Gauge({
      name: 'koblingspunkt_audit_queue_dead',
      help: 'Audit events parked as undeliverable (never retried; an operator must act)',
      labelNames: ['sink'],
      registers,
      collect() {
        this.reset();
        for (const s of ownQueue()?.sinks ?? []) this.set({ sink: s.sink }, s.dead);
      },
    });
    new Gauge({
      name: 'koblingspunkt_audit_queue_oldest_age_seconds',
      help: 'Age of the oldest undelivered audit event per sink (0 when none waits)',
      labelNames: ['sink'],
      registers,
      // Across the processes of a multi-process node (one queue each): the oldest of them.
      aggregator: 'max',
      collect() {
        this.reset();
        for (const s of ownQueue()?.sinks ?? []) this.set({ sink: s.sink }, (s.oldestUndeliveredAgeMs ?? 0) / 1000);
      },
    });

    const registry = options.registry;
    if (registry !== undefined) {
      new Gauge({
        name: 'koblingspunkt_registry_objects',
        help: 'Objects in the registry by type (DocumentEntry, SubmissionSet, Folder, Association) and availability status',
        labelNames: ['type', 'status'],
        registers,
        // Store-wide: every process of a multi-process node reads the same counts, which are not added up.
        aggregator: 'max',
        async collect() {
          // Reset first: a group that emptied (all deprecated, say) must drop to nothing, not keep its last value.
          this.reset();
          try {
            for (const c of await registry.objectCounts()) this.set({ type: c.type, status: c.availabilityStatus }, c.count);
          } catch (e) {
            options.warn?.('registry size could not be read', { error: e instanceof Error ? e.message : String(e) });
          }
        },
      });
    }

    if (options.filesystemBlobs) {
      const sampler = new BlobSizeSampler(blobDirectory(options.dataDir), MINUTE_MS, (e) =>
        options.warn?.('blob store size could not be measured', { error: e instanceof Error ? e.message : String(e) }),
      );
      new Gauge({
        name: 'koblingspunkt_blob_store_documents',
        help: 'Committed documents in the filesystem blob store (measured at most once a minute)',
        registers,
        aggregator: 'max',
        async collect() {
          const size = await sampler.current();
          if (size !== undefined) this.set(size.documents);
        },
      });
      new Gauge({
        name: 'koblingspunkt_blob_store_bytes',
        help: 'Bytes of the committed documents in the filesystem blob store (measured at most once a minute)',
        registers,
        aggregator: 'max',
        async collect() {
          const size = await sampler.current();
          if (size !== undefined) this.set(size.bytes);
        },
      });
    }
  }

  /** Exports the XUA verifier's signature checks per path (`koblingspunkt_xua_signature_checks_total`). */
  observeXua(paths: () => Readonly<SignaturePathCounts>): void {
    this.xuaPaths = paths;
  }

  /** The observer to give the SOAP endpoint mounted as `endpoint`. */
  soapObserver(endpoint: EndpointName): SoapObserver {
    const table = TRANSACTIONS[endpoint];
    return (action, _status, ms, outcome) => {
      const transaction = (action !== undefined ? table.get(action) : undefined) ?? 'unknown';
      this.recordRequest(endpoint, transaction, ms, outcome);
    };
  }

  /**
   * Counts one request of the MHD endpoint once it is answered: `transaction` is ITI-65 … ITI-68,
   * `metadata` or `unknown`; the outcome follows from the HTTP status (2xx success, 401/403 denied,
   * 0 aborted, anything else failure), since there is no ebRS status to read.
   */
  recordFhirRequest(transaction: string, status: number, ms: number): void {
    const result: RequestOutcome =
      status === 0 ? 'aborted' : status < 300 ? 'success' : status === 401 || status === 403 ? 'denied' : 'failure';
    this.requests.inc({ endpoint: 'fhir', transaction, outcome: result });
    this.latency.observe({ endpoint: 'fhir', transaction }, ms / 1000);
    this.countMinute(transaction, ERROR_OUTCOMES.has(result));
  }

  /** The observer to give the initiating gateway (createGateways). */
  readonly communityObserver: CommunityCallObserver = (call) => this.recordCommunityCall(call);

  /** Makes the communities known before their first call, so the operator page lists all of them. */
  knowCommunities(homeCommunityIds: readonly string[]): void {
    for (const id of homeCommunityIds) this.community(id);
  }

  /** Per-minute buckets of the last 60 minutes, oldest first (minutes without traffic included, zeros). */
  recentRates(): RateBucket[] {
    const current = Math.floor(this.now() / MINUTE_MS);
    const out: RateBucket[] = [];
    for (let m = current - RATE_MINUTES + 1; m <= current; m++) {
      const b = this.minutes.get(m);
      out.push({
        start: new Date(m * MINUTE_MS).toISOString(),
        requests: b?.requests ?? 0,
        errors: b?.errors ?? 0,
        // Copies: the page must not be able to change the counts.
        byTransaction: b === undefined ? {} : Object.fromEntries(Object.entries(b.byTransaction).map(([k, v]) => [k, { ...v }])),
      });
    }
    return out;
  }

  /** Per community: last call latency in ms, ok or not, when; timeouts and failures since start. */
  communities(): { homeCommunityId: string; lastLatencyMs?: number; lastOk?: boolean; lastAt?: string; timeouts: number; failures: number }[] {
    return [...this.communityStates.values()].map((c) => ({ ...c }));
  }

  /** The exposition text (what `/metrics` answers): this node's metrics, then the process's. */
  async exposition(): Promise<string> {
    const [own, process] = await Promise.all([this.registry.metrics(), processMetrics().metrics()]);
    return `${own}\n${process}`;
  }

  /**
   * This node's metrics and the process's, as prom-client's JSON (with each metric's aggregator):
   * what a worker of a multi-process node hands the primary, which adds up all processes'
   * (connector/cluster/metrics.ts).
   */
  async metricsJson(): Promise<unknown[]> {
    const [own, process] = await Promise.all([this.registry.getMetricsAsJSON(), processMetricsJson()]);
    return [...own, ...process];
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private recordRequest(endpoint: EndpointName, transaction: string, ms: number, outcome: SoapOutcome): void {
    let result: RequestOutcome;
    if ('reply' in outcome) {
      const classified = classifyReply(outcome.reply);
      result = classified.outcome;
      for (const code of classified.errorCodes) this.registryErrors.inc({ endpoint, transaction, code });
    } else if ('fault' in outcome) {
      result = 'fault';
      this.faults.inc({ endpoint, transaction, code: faultLabel(outcome.fault) });
    } else {
      result = 'aborted';
    }
    this.requests.inc({ endpoint, transaction, outcome: result });
    this.latency.observe({ endpoint, transaction }, ms / 1000);
    this.countMinute(endpoint === 'initiating' && transaction !== 'unknown' ? `${transaction} federated` : transaction, ERROR_OUTCOMES.has(result));
  }

  private countMinute(key: string, error: boolean): void {
    const minute = Math.floor(this.now() / MINUTE_MS);
    let bucket = this.minutes.get(minute);
    if (bucket === undefined) {
      bucket = { requests: 0, errors: 0, byTransaction: {} };
      this.minutes.set(minute, bucket);
      // A new minute opened: forget what fell out of the window (the map holds at most 61 minutes).
      for (const m of this.minutes.keys()) if (m <= minute - RATE_MINUTES) this.minutes.delete(m);
    }
    const t = (bucket.byTransaction[key] ??= { requests: 0, errors: 0 });
    bucket.requests++;
    t.requests++;
    if (error) {
      bucket.errors++;
      t.errors++;
    }
  }

  private community(id: string): CommunityState {
    let state = this.communityStates.get(id);
    if (state === undefined) {
      state = { homeCommunityId: id, timeouts: 0, failures: 0 };
      this.communityStates.set(id, state);
    }
    return state;
  }

  private recordCommunityCall(call: CommunityCall): void {
    const community = call.homeCommunityId;
    // A consumer that went away says nothing about the community: not measured.
    if (call.result === 'abandoned') return;
    this.communityLatency.observe({ community }, call.ms / 1000);
    const state = this.community(community);
    state.lastLatencyMs = call.ms;
    state.lastOk = call.result === 'ok';
    state.lastAt = new Date(this.now()).toISOString();
    if (call.result === 'timeout') {
      state.timeouts++;
      this.communityTimeouts.inc({ community });
    } else if (call.result === 'failure') {
      state.failures++;
      this.communityFailures.inc({ community });
    }
  }
}
