/**
 * The generator's core: registers the deterministic patient histories of `patient.ts` through
 * the DocumentRegistry actor (every ITI-42 rule runs), committing `batchSize` entries at a time
 * (the store writes one batch while the next is decided), and records after each commit where it
 * stands, so that an interrupted run continues there.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RegisterOutcome } from '../../registry/register.js';
import { DocumentRegistry } from '../../registry/registry.js';
import { createPatientIdPolicy } from '../../registry/patients.js';
import type { RegistryObject } from '../../registry/model/metadata.js';
import type { CommitBatch, FindOptions, ObjectCount, RegistryFilter, RegistryStore } from '../../registry/store/store.js';
import { StoreOverlay } from '../../registry/store-overlay.js';
import { createWorld, planPatient, type PatientPlan, GENERATOR_VERSION } from './patient.js';
import { MAX_UNIQUE_PATIENTS } from './norway.js';

export const PROGRESS_FILE = 'generate-progress.json';

/** Where a run stands: the next submission to register is submission `submission` of patient `patient`. */
export interface Progress {
  readonly seed: number;
  /** GENERATOR_VERSION that filled the directory (absent: version 1). */
  readonly version?: number;
  readonly patient: number;
  readonly submission: number;
  /** DocumentEntries registered so far (replacements included). */
  readonly entries: number;
  readonly submissions: number;
  /** Wall time spent registering, summed over all runs. */
  readonly elapsedMs: number;
}

export interface GenerateOptions {
  readonly store: RegistryStore;
  readonly dataDir: string;
  /** Stop once at least this many DocumentEntries are registered (a submission may overshoot by ≤ 2). */
  readonly entries: number;
  readonly seed: number;
  /** DocumentEntries per commit of the store; 1 gives one durable commit per submission. */
  readonly batchSize?: number;
  readonly onProgress?: (p: Progress) => void;
  /** Stop after this many commits (tests simulate an interrupted run with it). */
  readonly maxCommits?: number;
}

export interface GenerateResult {
  readonly progress: Progress;
  /** Entries registered by this run, and how long it took. */
  readonly entriesThisRun: number;
  readonly msThisRun: number;
  /** Submissions found already stored when resuming after an interruption between commit and progress write. */
  readonly skipped: number;
}

export function readProgress(dataDir: string): Progress | undefined {
  const file = join(dataDir, PROGRESS_FILE);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as Progress;
}

function writeProgress(dataDir: string, progress: Progress): void {
  // Written aside and renamed so that a crash never leaves a half-written file.
  const file = join(dataDir, PROGRESS_FILE);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(progress, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export class GenerationError extends Error {}

export async function generate(options: GenerateOptions): Promise<GenerateResult> {
  const batchSize = options.batchSize ?? 1000;
  const previous = readProgress(options.dataDir);
  if (previous !== undefined && previous.seed !== options.seed) {
    throw new GenerationError(`${options.dataDir} was generated with seed ${previous.seed}, not ${options.seed}; use another data directory`);
  }
  if (previous !== undefined && (previous.version ?? 1) !== GENERATOR_VERSION) {
    throw new GenerationError(
      `${options.dataDir} was filled by generator version ${previous.version ?? 1}, which makes other patients or another store format than version ${GENERATOR_VERSION}; use another data directory`,
    );
  }
  if (previous === undefined && (await options.store.count({})) > 0) {
    throw new GenerationError(`${options.dataDir} holds a registry that this generator did not fill; use an empty data directory`);
  }
  let progress: Progress = previous ?? { seed: options.seed, version: GENERATOR_VERSION, patient: 0, submission: 0, entries: 0, submissions: 0, elapsedMs: 0 };
  // Two overlays (registry/store-overlay.ts) that take turns, so that the store commits one batch
  // while the next is decided: the registry registers into the deciding one (through `registering`,
  // which names whichever overlay that is); a decided batch is committed by flushing that overlay
  // itself to the store on the writer's thread, while the other one, empty again, decides the next
  // batch over it. Reads see the registry as it will be: the deciding overlay, then the committing
  // one (its objects stay visible until the store has them), then the store. Handing the decided
  // overlay on whole, rather than copying its batch into a second overlay, saves a `commit` and a
  // `put` per object and the garbage they make (BENCHMARKS.md, issue 19, fifth session).
  // Each overlay reads through an `Underneath` of its own, so that its store underneath can change.
  let committing = overlayOn(options.store);
  let deciding = overlayOn(committing.overlay);
  const registering = new Underneath(deciding.overlay);
  const registry = new DocumentRegistry(registering, {
    queryResultLimit: 5000,
    patientIds: createPatientIdPolicy({ acceptedAssigningAuthorities: [] }),
  });
  const world = createWorld(options.seed);
  let plan: PatientPlan | undefined;
  let planned = -1;
  // After an interruption between a commit and its progress record, the first submissions may be
  // stored already; they are recognised by their SubmissionSet uniqueId until the first one is not.
  let checkExisting = previous !== undefined;
  let skipped = 0;
  let skippedEntries = 0;
  const started = Date.now();
  const startEntries = progress.entries;
  /** The batch whose commit is on its way, and where the run stands once it is stored. */
  let inFlight: { readonly done: Promise<void>; readonly progress: Omit<Progress, 'elapsedMs'> } | undefined;
  let lastDurableAt = started;

  /** Waits for the batch on its way and records its cursor: from here on, a new run continues after it. */
  const settle = async (): Promise<void> => {
    if (inFlight === undefined) return;
    const batch = inFlight;
    inFlight = undefined;
    await batch.done;
    const now = Date.now();
    progress = { ...batch.progress, elapsedMs: progress.elapsedMs + (now - lastDurableAt) };
    lastDurableAt = now;
    writeProgress(options.dataDir, progress);
    options.onProgress?.(progress);
  };

  let cursor = { patient: progress.patient, submission: progress.submission, entries: progress.entries, submissions: progress.submissions };
  let batches = 0;
  try {
    while (cursor.entries < options.entries && (options.maxCommits === undefined || batches < options.maxCommits)) {
      let { patient, submission, entries, submissions } = cursor;
      let batchEntries = 0;
      // Registered all at once: the registry's write queue decides them in this order, in groups
      // (registry/write-queue.ts), each group moved into the deciding overlay in one step.
      const registered: { outcome: Promise<RegisterOutcome>; patient: number; submission: number }[] = [];
      while (batchEntries < batchSize && entries < options.entries) {
        if (plan === undefined || planned !== patient) {
          // The batch being built is not committed: the progress file names the last one that is.
          if (patient >= MAX_UNIQUE_PATIENTS) {
            throw new GenerationError(
              `the generator makes at most ${MAX_UNIQUE_PATIENTS} patients, each with a fødselsnummer of its own (about 10.0 million entries); ${progress.entries} entries are stored, ask for no more`,
            );
          }
          plan = planPatient(world, patient);
          planned = patient;
        }
        if (submission >= plan.submissions.length) {
          patient++;
          submission = 0;
          continue;
        }
        const next = plan.submissions[submission]!;
        submission++;
        if (checkExisting) {
          const found = await options.store.find({ type: 'SubmissionSet', uniqueId: next.submission.submissionSet.uniqueId });
          if (found.length > 0) {
            skipped++;
            skippedEntries += next.documents;
            entries += next.documents;
            submissions++;
            continue;
          }
          checkExisting = false;
        }
        registered.push({ outcome: registry.register(next.submission), patient, submission: submission - 1 });
        entries += next.documents;
        batchEntries += next.documents;
        submissions++;
      }
      const outcomes = await Promise.all(registered.map((r) => r.outcome));
      outcomes.forEach((outcome, i) => {
        if (outcome.status !== 'Success') {
          const r = registered[i]!;
          throw new GenerationError(
            `patient ${r.patient} submission ${r.submission} was rejected: ${outcome.errors.map((e) => `${e.code}: ${e.message}`).join('; ')}`,
          );
        }
      });
      // What the store's commit of this batch will do on this thread (its records' and stored
      // forms' texts), done while the batch before is being written rather than after.
      const decidedBatch = deciding.overlay.batch();
      options.store.prepare?.([...decidedBatch.inserts, ...decidedBatch.replacements]);
      // The batch before this one must be stored before the overlays change turns: from then on
      // the decided overlay reads the store directly, and the emptied one decides over it.
      await settle();
      const decided = deciding;
      decided.under.target = options.store;
      deciding = committing;
      deciding.under.target = decided.overlay;
      committing = decided;
      registering.target = deciding.overlay;
      cursor = { patient, submission, entries, submissions };
      inFlight = { done: committing.overlay.flush(), progress: { seed: options.seed, version: GENERATOR_VERSION, ...cursor } };
      // A failed commit is reported by `settle`; until then it must not count as unhandled.
      inFlight.done.catch(() => undefined);
      batches++;
    }
    await settle();
  } finally {
    // Interrupted (a rejected submission, onProgress throwing): the batch on its way is stored or
    // not; either way the progress file names no batch that is not.
    if (inFlight !== undefined) await inFlight.done.catch(() => undefined);
  }
  return { progress, entriesThisRun: progress.entries - startEntries - skippedEntries, msThisRun: Date.now() - started, skipped };
}

/** An overlay on `store` through an `Underneath`, so that what it reads through can change. */
function overlayOn(store: RegistryStore): { readonly overlay: StoreOverlay; readonly under: Underneath } {
  const under = new Underneath(store);
  return { overlay: new StoreOverlay(under), under };
}

/**
 * A store that passes every call on to `target`, which the generator changes when the overlays
 * take turns: the registry (and its write queue, kept per store) sees one store throughout.
 */
class Underneath implements RegistryStore {
  constructor(public target: RegistryStore) {}

  find(filter: RegistryFilter, options?: FindOptions): Promise<RegistryObject[]> {
    return this.target.find(filter, options);
  }

  getByUuids(entryUuids: readonly string[]): Promise<RegistryObject[]> {
    return this.target.getByUuids(entryUuids);
  }

  count(filter: RegistryFilter): Promise<number> {
    return this.target.count(filter);
  }

  objectCounts(): Promise<ObjectCount[]> {
    return this.target.objectCounts();
  }

  commit(batch: CommitBatch): Promise<void> {
    return this.target.commit(batch);
  }

  close(): Promise<void> {
    return this.target.close();
  }
}
