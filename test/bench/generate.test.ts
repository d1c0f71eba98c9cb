/** The synthetic-data generator: valid Norwegian metadata, every submission accepted by the registry, resumable runs. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { isValidNorwegianId } from '../../registry/patients.js';
import { createPatientIdPolicy } from '../../registry/patients.js';
import { openRegistryStore } from '../../registry/store/open.js';
import type { RegistryStore } from '../../registry/store/store.js';
import { validateSubmission } from '../../registry/validate/index.js';
import { fodselsnummer, MAX_UNIQUE_PATIENTS, organisasjonsnummer, uniqueFodselsnummer } from '../../scripts/generate/norway.js';
import { createWorld, planPatient, MAX_ENTRIES_PER_PATIENT } from '../../scripts/generate/patient.js';
import { Random } from '../../scripts/generate/random.js';
import { generate, GenerationError, PROGRESS_FILE, readProgress } from '../../scripts/generate/run.js';

const policy = createPatientIdPolicy({ acceptedAssigningAuthorities: [] });

/**
 * Everything in a store, for comparing two stores: objects by entryUuid and status, associations
 * by what they link (the registry gives the folder memberships it adds on RPLC fresh UUIDs).
 */
async function contents(store: RegistryStore): Promise<string[]> {
  const all = await store.find({});
  return all
    .map((o) =>
      o.type === 'Association'
        ? `Association ${o.sourceUuid} ${o.associationType} ${o.targetUuid} ${o.availabilityStatus}`
        : `${o.type} ${o.entryUuid} ${o.availabilityStatus}`,
    )
    .sort();
}

describe('synthetic data generator', () => {
  const dirs: string[] = [];
  const stores: RegistryStore[] = [];
  async function freshStore(): Promise<{ dataDir: string; store: RegistryStore }> {
    const dataDir = mkdtempSync(join(tmpdir(), 'kp-generate-'));
    dirs.push(dataDir);
    const store = await openRegistryStore({ dataDir });
    stores.push(store);
    return { dataDir, store };
  }
  after(async () => {
    for (const s of stores) await s.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('makes fødselsnumre with valid check digits and organisation numbers with a valid mod-11 digit', () => {
    const rnd = new Random(7, 1);
    for (let i = 0; i < 2000; i++) expect(isValidNorwegianId(fodselsnummer(rnd), 'F'), `draw ${i}`).to.equal(true);
    const weights = [3, 2, 7, 6, 5, 4, 3, 2];
    for (let i = 0; i < 200; i++) {
      const orgnr = organisasjonsnummer(rnd);
      const sum = weights.reduce((s, w, j) => s + w * Number(orgnr[j]), 0);
      expect((11 - (sum % 11)) % 11).to.equal(Number(orgnr[8]));
    }
  });

  it('gives every patient of a seed its own valid fødselsnummer, birth dates spread over 1930–2023', () => {
    const seen = new Map<string, number>();
    const years = new Set<number>();
    for (let p = 0; p < 30_000; p++) {
      const fnr = uniqueFodselsnummer(1, p);
      expect(isValidNorwegianId(fnr, 'F'), `patient ${p}: ${fnr}`).to.equal(true);
      expect(seen.get(fnr), `patients ${seen.get(fnr)} and ${p} share ${fnr}`).to.equal(undefined);
      seen.set(fnr, p);
      const yy = Number(fnr.slice(4, 6));
      years.add(Number(fnr.slice(6, 9)) >= 500 ? 2000 + yy : 1900 + yy);
    }
    expect(Math.min(...years)).to.equal(1930);
    expect(Math.max(...years)).to.equal(2023);
    // A function of (seed, patient) alone, and another seed gives other numbers.
    expect(uniqueFodselsnummer(1, 12_345)).to.equal(uniqueFodselsnummer(1, 12_345));
    expect(uniqueFodselsnummer(2, 12_345)).to.not.equal(uniqueFodselsnummer(1, 12_345));
    expect(planPatient(createWorld(1), 777).patientId.startsWith(uniqueFodselsnummer(1, 777))).to.equal(true);
    expect(() => uniqueFodselsnummer(1, MAX_UNIQUE_PATIENTS)).to.throw(RangeError);
  });

  it('plans the same patient identically from the same seed, and differently from another seed', () => {
    const a = planPatient(createWorld(3), 42);
    expect(planPatient(createWorld(3), 42)).to.deep.equal(a);
    expect(planPatient(createWorld(4), 42).patientId).to.not.equal(a.patientId);
  });

  it('gives patients 1–200 entries, skewed towards few', () => {
    const world = createWorld(1);
    const counts = Array.from({ length: 300 }, (_, p) => planPatient(world, p).submissions.reduce((n, s) => n + s.documents, 0));
    expect(Math.min(...counts)).to.be.at.least(1);
    expect(Math.max(...counts)).to.be.at.most(MAX_ENTRIES_PER_PATIENT);
    const sorted = [...counts].sort((x, y) => x - y);
    const median = sorted[150]!;
    const mean = counts.reduce((s, c) => s + c, 0) / counts.length;
    expect(median).to.be.below(mean);
  });

  it('plans submissions that pass every ITI-42 rule on their own, with folders and replacements among them', () => {
    const world = createWorld(1);
    let folders = 0;
    let replacements = 0;
    for (let p = 0; p < 20; p++) {
      for (const { submission } of planPatient(world, p).submissions) {
        folders += submission.folders.length;
        replacements += submission.associations.filter((a) => a.associationType.endsWith(':RPLC')).length;
        if (submission.associations.some((a) => a.associationType.endsWith(':RPLC'))) continue; // needs its target registered
        const errors = validateSubmission(submission, { patientIds: policy });
        expect(errors, JSON.stringify(errors)).to.deep.equal([]);
      }
    }
    expect(folders).to.be.greaterThan(0);
    expect(replacements).to.be.greaterThan(0);
  });

  it('registers through the registry in batches: entries, deprecated originals and folders end up in the store', async () => {
    const { dataDir, store } = await freshStore();
    const result = await generate({ store, dataDir, entries: 400, seed: 1, batchSize: 150 });
    expect(result.progress.entries).to.be.within(400, 402);
    expect(await store.count({ type: 'DocumentEntry' })).to.equal(result.progress.entries);
    expect(await store.count({ type: 'SubmissionSet' })).to.equal(result.progress.submissions);
    expect(await store.count({ type: 'DocumentEntry', availabilityStatus: 'Deprecated' })).to.be.greaterThan(0);
    expect(await store.count({ type: 'Folder' })).to.be.greaterThan(0);
    expect(readProgress(dataDir)).to.deep.include({ seed: 1, entries: result.progress.entries });
  });

  it('gives the same store whatever the batch size, and continues an interrupted run where it stopped', async () => {
    const whole = await freshStore();
    await generate({ ...whole, entries: 300, seed: 2, batchSize: 1000 });

    const resumed = await freshStore();
    const first = await generate({ ...resumed, entries: 300, seed: 2, batchSize: 60, maxCommits: 2 });
    expect(first.progress.entries).to.be.below(300);
    const second = await generate({ ...resumed, entries: 300, seed: 2, batchSize: 60 });
    expect(second.skipped).to.equal(0);
    expect(second.progress.entries).to.equal((await generate({ ...whole, entries: 300, seed: 2 })).progress.entries);
    expect(await contents(resumed.store)).to.deep.equal(await contents(whole.store));
  });

  it('skips what was committed when the run stopped before recording its progress', async () => {
    const reference = await freshStore();
    await generate({ ...reference, entries: 250, seed: 5, batchSize: 100 });

    const crashed = await freshStore();
    await generate({ ...crashed, entries: 250, seed: 5, batchSize: 100, maxCommits: 1 });
    const before = readProgress(crashed.dataDir)!;
    await generate({ ...crashed, entries: 250, seed: 5, batchSize: 100, maxCommits: 1 });
    // As if the second commit had landed but its progress record had not.
    writeFileSync(join(crashed.dataDir, PROGRESS_FILE), JSON.stringify(before));
    const resumed = await generate({ ...crashed, entries: 250, seed: 5, batchSize: 100 });
    expect(resumed.skipped).to.be.greaterThan(0);
    expect(await contents(crashed.store)).to.deep.equal(await contents(reference.store));
  });

  it('stops with a GenerationError, not a crash, when it runs out of patients with fødselsnumre of their own', async () => {
    const { dataDir, store } = await freshStore();
    // A run that has reached the last patient the generator can make.
    writeFileSync(
      join(dataDir, PROGRESS_FILE),
      JSON.stringify({ seed: 1, version: 3, patient: MAX_UNIQUE_PATIENTS - 1, submission: 0, entries: 0, submissions: 0, elapsedMs: 0 }),
    );
    let failure: unknown;
    await generate({ store, dataDir, entries: 10_000, seed: 1, batchSize: 10_000 }).catch((e: unknown) => (failure = e));
    expect(failure).to.be.instanceOf(GenerationError);
    expect(String(failure)).to.contain(`at most ${MAX_UNIQUE_PATIENTS} patients`);
    // Nothing of the unfinished batch was stored, and the progress file names no batch that is not.
    expect(await store.count({})).to.equal(0);
    expect(readProgress(dataDir)!.patient).to.equal(MAX_UNIQUE_PATIENTS - 1);
  });

  it('refuses another seed in the same directory and a store it did not fill', async () => {
    const { dataDir, store } = await freshStore();
    await generate({ store, dataDir, entries: 20, seed: 1 });
    let failure: unknown;
    await generate({ store, dataDir, entries: 40, seed: 9 }).catch((e: unknown) => (failure = e));
    expect(failure).to.be.instanceOf(GenerationError);

    // A directory filled by generator version 1 (random, possibly shared fødselsnumre) is not continued.
    const progress = readProgress(dataDir)!;
    writeFileSync(join(dataDir, PROGRESS_FILE), JSON.stringify({ ...progress, version: undefined }));
    failure = undefined;
    await generate({ store, dataDir, entries: 40, seed: 1 }).catch((e: unknown) => (failure = e));
    expect(failure).to.be.instanceOf(GenerationError);
    expect(String(failure)).to.contain('generator version 1');

    rmSync(join(dataDir, PROGRESS_FILE));
    failure = undefined;
    await generate({ store, dataDir, entries: 40, seed: 1 }).catch((e: unknown) => (failure = e));
    expect(failure).to.be.instanceOf(GenerationError);
  });
});
