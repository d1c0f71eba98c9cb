/**
 * `npm run bench:stored-form -- [--entries 1000000] [--patients 300] [--from 0] [--dictionary-patients 8] [--dictionary-kb 32]`
 *
 * What a cold FindDocuments LeafClass answer would cost if each DocumentEntry's LeafClass element
 * were kept in the store, written and packed when the entry is registered, instead of being parsed
 * from its record and written anew on every miss (the design issue 19 suggests). Nothing of it is
 * built in the node: this measures the design's floor on the bench's generated store before anyone
 * spends the on-disk and registration budgets on it.
 *
 * For `--patients` patients of the bench's cold walk from `--from` it measures, per DocumentEntry:
 *
 * - today's miss: the candidate query and row read, unpacking and parsing the record, and writing
 *   its LeafClass fragment (the pieces of `bench:cold`'s CPU per entry);
 * - the stored form's miss: the candidate query and the form's row read, inflating it into the
 *   answer's bytes; in a second variant the form is kept without its derived ids (the ~12
 *   Classification/ExternalIdentifier ids `derivedId` makes, 16 bytes of entropy each, which no
 *   dictionary compresses) and they are derived and spliced back on read;
 * - what registering would add: writing the fragment (main thread) and packing it (raw deflate at
 *   level 6 against a dictionary of the last `--dictionary-kb` KB of `--dictionary-patients` other
 *   patients' fragments, one zlib handle reset per form, as
 *   record-codec.mjs packs records), and the packed size per entry.
 *
 * The forms live in a scratch SQLite file keyed by seq (the design would keep them in the object's
 * row, read instead of the record: one b-tree lookup per entry either way). Every inflated form is
 * checked byte for byte against the fragment written from the record. CPU is the process's (user +
 * system), pages in the page cache (each pass reads the same rows once first).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { derivedId } from '../registry/ebxml/index.js';
import { registryObjectNode } from '../registry/ebxml/write-objects.js';
import type { RegistryObject } from '../registry/model/metadata.js';
import { EMBEDDED_FILE_NAME } from '../registry/store/open.js';
import { fromRecord } from '../registry/store/record.js';
import { reusableDeflater, reusableInflater, unpackRecord } from '../registry/store/embedded/record-codec.mjs';
import { benchPatient, coldPatients } from './bench/requests.js';
import { createWorld, GENERATOR_VERSION } from './generate/patient.js';
import { readProgress } from './generate/run.js';

const { values: args } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    'cache-dir': { type: 'string', default: join(tmpdir(), 'koblingspunkt-bench') },
    patients: { type: 'string', default: '300' },
    from: { type: 'string', default: '0' },
    'dictionary-patients': { type: 'string', default: '8' },
    'dictionary-kb': { type: 'string', default: '32' },
    'home-community-id': { type: 'string', default: 'urn:oid:2.16.578.1.12.4.5.100.1' },
  },
});

const dataDir = join(args['cache-dir'], `entries-${args.entries}-seed-1-v${GENERATOR_VERSION}`);
const progress = readProgress(dataDir);
if (progress === undefined) throw new Error(`no generated store in ${dataDir}: run \`npm run bench -- --entries ${args.entries} --only cold\` first`);
const world = createWorld(1);
const walk = coldPatients(progress.patient, progress.patient);
const from = Number(args.from);
const measured = walk.slice(from, from + Number(args.patients)).map((i) => benchPatient(world, i).patientId);
// Dictionary patients from the far end of the walk: none of them is measured.
const dictionaryPatients = walk.slice(walk.length - Number(args['dictionary-patients'])).map((i) => benchPatient(world, i).patientId);

const db = new Database(join(dataDir, EMBEDDED_FILE_NAME), { readonly: true });
const candidates = db
  .prepare("SELECT json_array(json_group_array(seq), json_group_array(rev)) FROM objects WHERE type = 'DocumentEntry' AND patient_id = ? AND status = ?")
  .pluck();
const records = db.prepare('SELECT seq, rev, packed FROM objects WHERE seq IN (SELECT value FROM json_each(?))').raw(true);
const home = args['home-community-id'];

function seqsOf(patientId: string): number[] {
  return (JSON.parse(candidates.get(patientId, 'Approved') as string) as [number[], number[]])[0];
}

/** The object a LeafClass answer writes for a row: its record's model object, stamped with our home. */
function objectOf(packed: Buffer | string): RegistryObject {
  return { ...fromRecord(JSON.parse(unpackRecord(packed)) as Record<string, unknown>), homeCommunityId: home } as RegistryObject;
}

function fragmentText(o: RegistryObject): string {
  return (registryObjectNode(o) as unknown as { xml: string }).xml;
}

// ---------------------------------------------------------------- packing against a dictionary

/** Marks a derived id in a form kept without them: a control character, which XML text never holds. */
const ID_MARK = '\u0001';

/** The fragment with each derived id of its object replaced by ID_MARK + its position + ';'. */
function withoutDerivedIds(text: string, owner: string): string {
  let out = text;
  for (let k = 0; k < 64; k++) {
    const id = derivedId(owner, k);
    if (!out.includes(id)) continue;
    out = out.split(id).join(`${ID_MARK}${k};`);
  }
  return out;
}

function withDerivedIds(text: string, owner: string): string {
  const parts = text.split(ID_MARK);
  let out = parts[0]!;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    const end = p.indexOf(';');
    out += derivedId(owner, Number(p.slice(0, end))) + p.slice(end + 1);
  }
  return out;
}

const dictionaryOf = (texts: readonly string[]) => {
  // zlib uses the last 32 KB of a dictionary: the commonest material last.
  const joined = Buffer.from(texts.join(''), 'utf8');
  return joined.subarray(Math.max(0, joined.length - Number(args['dictionary-kb']) * 1024));
};

const dictionaryObjects = dictionaryPatients.flatMap((p) => (records.all(JSON.stringify(seqsOf(p))) as [number, number, Buffer][]).map((r) => objectOf(r[2])));
const fullDictionary = dictionaryOf(dictionaryObjects.map(fragmentText));
const strippedDictionary = dictionaryOf(dictionaryObjects.map((o) => withoutDerivedIds(fragmentText(o), o.entryUuid)));

// ---------------------------------------------------------------- the measured patients' forms

const scratch = mkdtempSync(join(tmpdir(), 'kp-stored-form-'));
const forms = new Database(join(scratch, 'forms.sqlite'));
forms.pragma('journal_mode = WAL');
forms.exec('CREATE TABLE full_forms (seq INTEGER PRIMARY KEY, length INTEGER NOT NULL, form BLOB NOT NULL); CREATE TABLE stripped_forms (seq INTEGER PRIMARY KEY, length INTEGER NOT NULL, form BLOB NOT NULL)');
const insertFull = forms.prepare('INSERT INTO full_forms (seq, length, form) VALUES (?, ?, ?)');
const insertStripped = forms.prepare('INSERT INTO stripped_forms (seq, length, form) VALUES (?, ?, ?)');
const readFull = forms.prepare('SELECT seq, length, form FROM full_forms WHERE seq IN (SELECT value FROM json_each(?))').raw(true);
const readStripped = forms.prepare('SELECT seq, length, form FROM stripped_forms WHERE seq IN (SELECT value FROM json_each(?))').raw(true);

const cpuUs = (f: () => void): number => {
  const t = process.cpuUsage();
  f();
  const u = process.cpuUsage(t);
  return u.user + u.system;
};

const deflateFull = reusableDeflater(fullDictionary);
const deflateStripped = reusableDeflater(strippedDictionary);
// A copy each: the deflaters return views of their scratch memory.
const packFull = (input: Buffer): Buffer => Buffer.from(deflateFull(input));
const packStripped = (input: Buffer): Buffer => Buffer.from(deflateStripped(input));
const rows = measured.flatMap((p) => records.all(JSON.stringify(seqsOf(p))) as [number, number, Buffer][]);
const objects = rows.map((r) => objectOf(r[2]));
// Each step timed over all entries at once, after one unmeasured pass (compiled code, as on a
// node that has served for a while).
const texts = objects.map((o) => fragmentText({ ...o } as RegistryObject));
const writeUs = cpuUs(() => {
  for (let i = 0; i < objects.length; i++) texts[i] = fragmentText({ ...objects[i]! } as RegistryObject);
});
const strippedTexts = objects.map((o, i) => withoutDerivedIds(texts[i]!, o.entryUuid));
const textBuffers = texts.map((t) => Buffer.from(t, 'utf8'));
const strippedBuffers = strippedTexts.map((t) => Buffer.from(t, 'utf8'));
let full: Buffer[] = textBuffers.map(packFull);
let small: Buffer[] = strippedBuffers.map(packStripped);
const packFullUs = cpuUs(() => (full = textBuffers.map(packFull)));
const packStrippedUs = cpuUs(() => (small = strippedBuffers.map(packStripped)));
/** Expected bytes per seq: the fragment written from the record, as today's answer holds it. */
const expected = new Map<number, string>();
const owners = new Map<number, string>();
const textBytes = textBuffers.reduce((n, b) => n + b.length, 0);
const fullBytes = full.reduce((n, b) => n + b.length, 0);
const strippedBytes = small.reduce((n, b) => n + b.length, 0);
forms.transaction(() => {
  for (let i = 0; i < rows.length; i++) {
    const seq = rows[i]![0];
    expected.set(seq, texts[i]!);
    owners.set(seq, objects[i]!.entryUuid);
    insertFull.run(seq, textBuffers[i]!.length, full[i]!);
    insertStripped.run(seq, strippedBuffers[i]!.length, small[i]!);
  }
})();
const n = expected.size;

// ---------------------------------------------------------------- reading: today and the stored form

const inflateFull = reusableInflater(fullDictionary);
const inflateStripped = reusableInflater(strippedDictionary);

/** Where inflated forms are copied, as fragments' bytes are cut from shared slabs (registry/xml/serialize.ts). */
let slab = Buffer.allocUnsafeSlow(64 * 1024);
let slabUsed = 0;
function toSlab(bytes: Buffer): Buffer {
  if (slabUsed + bytes.length > slab.length) {
    slab = Buffer.allocUnsafeSlow(Math.max(64 * 1024, bytes.length));
    slabUsed = 0;
  }
  const start = slabUsed;
  slab.set(bytes, start);
  slabUsed += bytes.length;
  return slab.subarray(start, slabUsed);
}

function today(): number {
  let entries = 0;
  for (const p of measured) {
    for (const [, , packed] of records.all(JSON.stringify(seqsOf(p))) as [number, number, Buffer][]) {
      registryObjectNode(objectOf(packed));
      entries++;
    }
  }
  return entries;
}

/**
 * Answers every measured patient from one table of forms: each row read, turned into the answer's
 * bytes by `bytesOf`, and, when `check`, compared with the fragment written from the record.
 */
function fromForms(read: Database.Statement, bytesOf: (seq: number, length: number, form: Buffer) => Buffer, check: boolean): number {
  let entries = 0;
  for (const p of measured) {
    for (const [seq, length, form] of read.all(JSON.stringify(seqsOf(p))) as [number, number, Buffer][]) {
      const bytes = bytesOf(seq, length, form);
      if (check && bytes.toString('utf8') !== expected.get(seq)) throw new Error(`stored form of row ${seq} differs from the fragment`);
      entries++;
    }
  }
  return entries;
}

const storedFull = (check: boolean) => fromForms(readFull, (_seq, length, form) => toSlab(inflateFull(form, 0, length)), check);
const storedStripped = (check: boolean) =>
  fromForms(readStripped, (seq, length, form) => Buffer.from(withDerivedIds(inflateStripped(form, 0, length).toString('utf8'), owners.get(seq)!), 'utf8'), check);

function readOnly(): number {
  let entries = 0;
  for (const p of measured) entries += (readFull.all(JSON.stringify(seqsOf(p))) as unknown[]).length;
  return entries;
}

// Checked once (and every page read once), then measured in turns.
today();
storedFull(true);
storedStripped(true);
const rounds = 5;
const perEntry: Record<string, number[]> = { today: [], 'stored form': [], 'stored form, ids derived on read': [], 'stored form, row read only': [] };
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of [
    ['today', today],
    ['stored form', () => storedFull(false)],
    ['stored form, ids derived on read', () => storedStripped(false)],
    ['stored form, row read only', readOnly],
  ] as const) {
    let entries = 0;
    const us = cpuUs(() => (entries = f()));
    perEntry[name]!.push(us / entries);
  }
}
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

process.stdout.write(
  `store ${dataDir}: ${measured.length} patients of the cold walk from ${from}, ${n} DocumentEntries (${(n / measured.length).toFixed(1)} per patient), ` +
    `${(textBytes / n / 1024).toFixed(2)} KB of LeafClass text each; dictionaries from ${dictionaryPatients.length} other patients' ${dictionaryObjects.length} entries\n\n` +
    '| miss, per DocumentEntry | CPU µs (median of 5 passes) |\n|---|---:|\n' +
    Object.entries(perEntry)
      .map(([k, v]) => `| ${k} | ${median(v).toFixed(1)} |`)
      .join('\n') +
    '\n\n| registering, per DocumentEntry | |\n|---|---:|\n' +
    `| writing the fragment (main thread) | ${(writeUs / n).toFixed(1)} µs |\n` +
    `| packing it, ids kept (raw deflate, level 6, ${fullDictionary.length >> 10} KB dictionary) | ${(packFullUs / n).toFixed(1)} µs, ${(fullBytes / n).toFixed(0)} B |\n` +
    `| packing it, ids left out | ${(packStrippedUs / n).toFixed(1)} µs, ${(strippedBytes / n).toFixed(0)} B |\n`,
);
forms.close();
db.close();
rmSync(scratch, { recursive: true, force: true });
