/**
 * The generator's core: registers the deterministic patient histories of `patient.ts` through
 * the DocumentRegistry actor (every ITI-42 rule runs), committing `batchSize` entries at a time,
 * and records after each commit where it stands, so that an interrupted run continues there.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DocumentRegistry } from '../../registry/registry.js';
import { createPatientIdPolicy } from '../../registry/patients.js';
import type { RegistryStore } from '../../registry/store/store.js';
import { StoreOverlay } from '../../registry/store-overlay.js';
import { createWorld, planPatient, type PatientPlan, GENERATOR_VERSION } from './patient.js';

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
      `${options.dataDir} was filled by generator version ${previous.version ?? 1}, which makes other patients than version ${GENERATOR_VERSION}; use another data directory`,
    );
  }
  if (previous === undefined && (await options.store.count({})) > 0) {
    throw new GenerationError(`${options.dataDir} holds a registry that this generator did not fill; use an empty data directory`);
  }
  let progress: Progress = previous ?? { seed: options.seed, version: GENERATOR_VERSION, patient: 0, submission: 0, entries: 0, submissions: 0, elapsedMs: 0 };
  const batching = new StoreOverlay(options.store);
  const registry = new DocumentRegistry(batching, {
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
  let commits = 0;

  while (progress.entries < options.entries && (options.maxCommits === undefined || commits < options.maxCommits)) {
    const batchStart = Date.now();
    let { patient, submission, entries, submissions } = progress;
    let batchEntries = 0;
    while (batchEntries < batchSize && entries < options.entries) {
      if (plan === undefined || planned !== patient) {
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
      const outcome = await registry.register(next.submission);
      if (outcome.status !== 'Success') {
        throw new GenerationError(
          `patient ${patient} submission ${submission - 1} was rejected: ${outcome.errors.map((e) => `${e.code}: ${e.message}`).join('; ')}`,
        );
      }
      entries += next.documents;
      batchEntries += next.documents;
      submissions++;
    }
    await batching.flush();
    progress = { seed: options.seed, version: GENERATOR_VERSION, patient, submission, entries, submissions, elapsedMs: progress.elapsedMs + (Date.now() - batchStart) };
    writeProgress(options.dataDir, progress);
    commits++;
    options.onProgress?.(progress);
  }
  return { progress, entriesThisRun: progress.entries - startEntries - skippedEntries, msThisRun: Date.now() - started, skipped };
}
