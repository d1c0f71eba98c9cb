/**
 * Norwegian building blocks of synthetic metadata: identity numbers with valid check digits,
 * Volven codes (docs/norway.md), HPR-identified health personnel and institutions with an
 * organisasjonsnummer. Names and numbers are synthetic; the shapes are the national ones.
 */
import type { Author, Code } from '../../registry/model/metadata.js';
import { NORWEGIAN_ID_OID } from '../../registry/patients.js';
import type { Random } from './random.js';

export const VOLVEN = '2.16.578.1.12.4.1.1';
export const HPR_OID = '2.16.578.1.12.4.1.4.4';
export const ORGNR_OID = '2.16.578.1.12.4.1.4.101';
const HL7_CONFIDENTIALITY = '2.16.840.1.113883.5.25';
const FORMAT_SCHEME = 'urn:oid:1.3.6.1.4.1.19376.1.2.3';

function code(value: string, scheme: string, name: string): Code {
  return { code: value, scheme, displayName: { value: name } };
}

/** Category (classCode) and type (typeCode) pairs of Volven 9602, with how common each is. */
export const CLASS_TYPE: readonly (readonly [readonly [Code, Code], number])[] = [
  [[code('A00-1', `${VOLVEN}.9602`, 'Epikriser og sammenfatninger'), code('A03-2', `${VOLVEN}.9602`, 'Epikrise')], 25],
  [[code('B00-1', `${VOLVEN}.9602`, 'Løpende journal'), code('B02-2', `${VOLVEN}.9602`, 'Journalnotat')], 35],
  [[code('C00-1', `${VOLVEN}.9602`, 'Prøvesvar'), code('C01-2', `${VOLVEN}.9602`, 'Medisinsk biokjemi')], 20],
  [[code('E00-1', `${VOLVEN}.9602`, 'Bildediagnostikk'), code('E01-2', `${VOLVEN}.9602`, 'Bildediagnostiske svar')], 10],
  [[code('I00-1', `${VOLVEN}.9602`, 'Korrespondanse'), code('I01-2', `${VOLVEN}.9602`, 'Henvisning')], 10],
];

/** Volven 9603: most documents normal, some blocked (NORS) or with deferred citizen access (NORU). */
export const CONFIDENTIALITY: readonly (readonly [Code, number])[] = [
  [code('N', `${VOLVEN}.9603`, 'Normal'), 90],
  [code('NORS', `${VOLVEN}.9603`, 'Sperret'), 4],
  [code('NORU', `${VOLVEN}.9603`, 'Utsatt innsyn'), 3],
  [code('N', HL7_CONFIDENTIALITY, 'normal'), 3],
];

export const FACILITY_TYPE: readonly (readonly [Code, number])[] = [
  [code('86.101', `${VOLVEN}.1303`, 'Somatisk sykehus'), 70],
  [code('86.211', `${VOLVEN}.1303`, 'Allmennlegetjeneste'), 30],
];

export const PRACTICE_SETTING: readonly (readonly [Code, number])[] = [
  [code('S03', `${VOLVEN}.8655`, 'Indremedisin'), 80],
  [code('KP01', `${VOLVEN}.8663`, 'KP01'), 20],
];

/** formatCode with the matching mimeType. */
export const FORMAT: readonly (readonly [readonly [Code, string], number])[] = [
  [[code('urn:no:ehelse:document:pdf', FORMAT_SCHEME, 'PDF'), 'application/pdf'], 75],
  [[code('urn:no:ehelse:document:text', FORMAT_SCHEME, 'Tekst'), 'text/plain'], 15],
  [[code('urn:ihe:iti:xds:2017:mimeTypeSufficient', FORMAT_SCHEME, 'mimeType Sufficient'), 'text/xml'], 10],
];

export const CONTENT_TYPE: readonly Code[] = [
  code('A03-2', `${VOLVEN}.9602`, 'Epikrise'),
  code('B02-2', `${VOLVEN}.9602`, 'Journalnotat'),
  code('I01-2', `${VOLVEN}.9602`, 'Henvisning'),
];

export const FOLDER_CODES: readonly Code[] = [
  code('A00-1', `${VOLVEN}.9602`, 'Epikriser og sammenfatninger'),
  code('I00-1', `${VOLVEN}.9602`, 'Korrespondanse'),
];

const GIVEN = ['KARI', 'OLA', 'INGRID', 'LARS', 'SIGRID', 'BENEDIKTE', 'NILS', 'ASTRID', 'JONAS', 'SOLVEIG', 'EIRIK', 'MARIT', 'HÅKON', 'TONE', 'ØYVIND', 'LIV'];
const FAMILY = ['NORDMANN', 'HANSEN', 'JOHANSEN', 'OLSEN', 'LARSEN', 'ANDERSEN', 'PEDERSEN', 'NILSEN', 'GEIRAAS', 'BERG', 'HAUGEN', 'HAGEN', 'JOHNSEN', 'BAKKE', 'SÆTHER', 'ØDEGÅRD'];
const PLACES = ['Tromsø', 'Bodø', 'Harstad', 'Alta', 'Kirkenes', 'Mo i Rana', 'Narvik', 'Hammerfest', 'Vadsø', 'Sandnessjøen', 'Lofoten', 'Vesterålen'];

const W_K1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const W_K2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
const W_ORG = [3, 2, 7, 6, 5, 4, 3, 2];

function mod11(digits: readonly number[], weights: readonly number[]): number | undefined {
  const k = 11 - (weights.reduce((s, w, i) => s + w * digits[i]!, 0) % 11);
  return k === 11 ? 0 : k === 10 ? undefined : k;
}

/**
 * A fødselsnummer with a real birth date, the century's individual-number range and both mod-11
 * check digits (born 1930–2023).
 */
export function fodselsnummer(rnd: Random): string {
  for (;;) {
    const year = rnd.int(1930, 2023);
    const month = rnd.int(1, 12);
    const day = rnd.int(1, new Date(Date.UTC(year, month, 0)).getUTCDate());
    const individual = year < 2000 ? rnd.int(0, 499) : rnd.int(500, 999);
    const base = `${String(day).padStart(2, '0')}${String(month).padStart(2, '0')}${String(year % 100).padStart(2, '0')}${String(individual).padStart(3, '0')}`;
    const digits = [...base].map(Number);
    const k1 = mod11(digits, W_K1);
    if (k1 === undefined) continue;
    const k2 = mod11([...digits, k1], W_K2);
    if (k2 === undefined) continue;
    return `${base}${k1}${k2}`;
  }
}

const FIRST_BIRTH = Date.UTC(1930, 0, 1);
/** Birth dates 1930-01-01 … 2023-12-31. */
const BIRTH_DAYS = Math.round((Date.UTC(2024, 0, 1) - FIRST_BIRTH) / 86_400_000);
/** Every (birth date, individual number) pair: 500 individual numbers per date and century. */
const FNR_SPACE = BigInt(BIRTH_DAYS) * 500n;
/** Candidate slots per patient; a slot fails only when a check digit would be 10 (~1 in 6). */
const SLOTS_PER_PATIENT = 64n;
/** A prime that shares no factor with FNR_SPACE (= BIRTH_DAYS × 2² × 5³), so `slot × A + B mod N` permutes. */
const SPREAD = 2_654_435_761n;

function gcd(a: bigint, b: bigint): bigint {
  return b === 0n ? a : gcd(b, a % b);
}
if (gcd(SPREAD, FNR_SPACE) !== 1n) throw new Error('fødselsnummer spread must be coprime to the space it permutes');

/** The most patients `uniqueFodselsnummer` can tell apart (~268,000: some 10 million entries). */
export const MAX_UNIQUE_PATIENTS = Number(FNR_SPACE / SLOTS_PER_PATIENT);

/**
 * The fødselsnummer of generated patient `patient`: valid (real birth date 1930–2023, the
 * century's individual-number range, both mod-11 check digits) and different for every patient
 * of a seed, as a population's are. `fodselsnummer` draws at random, and among the ~27,000
 * patients of a million entries about 30 pairs drew the same number (two people the registry
 * cannot tell apart). Here each patient owns 64 slots of the space of (date, individual number)
 * pairs, spread over it by a permutation that depends on the seed, and takes its first slot whose
 * check digits exist: disjoint slots, so distinct numbers, and still a function of (seed, patient)
 * alone, so any patient can be planned without the ones before it.
 */
export function uniqueFodselsnummer(seed: number, patient: number): string {
  if (!Number.isSafeInteger(patient) || patient < 0 || patient >= MAX_UNIQUE_PATIENTS) {
    throw new RangeError(`patient ${patient} is outside the ${MAX_UNIQUE_PATIENTS} patients unique fødselsnumre can be made for`);
  }
  const offset = ((BigInt(Math.trunc(seed)) * 7_919n) % FNR_SPACE + FNR_SPACE) % FNR_SPACE;
  for (let slot = 0n; slot < SLOTS_PER_PATIENT; slot++) {
    const k = (((BigInt(patient) * SLOTS_PER_PATIENT + slot) * SPREAD) % FNR_SPACE + offset) % FNR_SPACE;
    const birth = new Date(FIRST_BIRTH + Number(k % BigInt(BIRTH_DAYS)) * 86_400_000);
    const year = birth.getUTCFullYear();
    const individual = Number(k / BigInt(BIRTH_DAYS)) + (year < 2000 ? 0 : 500);
    const fnr = withCheckDigits(birth.getUTCDate(), birth.getUTCMonth() + 1, year, individual);
    if (fnr !== undefined) return fnr;
  }
  throw new Error(`no valid fødselsnummer among patient ${patient}'s slots`);
}

/** The 11 digits, or undefined when a check digit would be 10 (no such number exists). */
function withCheckDigits(day: number, month: number, year: number, individual: number): string | undefined {
  const base = `${String(day).padStart(2, '0')}${String(month).padStart(2, '0')}${String(year % 100).padStart(2, '0')}${String(individual).padStart(3, '0')}`;
  const digits = [...base].map(Number);
  const k1 = mod11(digits, W_K1);
  if (k1 === undefined) return undefined;
  const k2 = mod11([...digits, k1], W_K2);
  if (k2 === undefined) return undefined;
  return `${base}${k1}${k2}`;
}

export function patientCx(fnr: string): string {
  return `${fnr}^^^&${NORWEGIAN_ID_OID.fodselsnummer}&ISO`;
}

export function personName(rnd: Random): { given: string; family: string } {
  return { given: rnd.pick(GIVEN), family: rnd.pick(FAMILY) };
}

/** A 9-digit organisasjonsnummer starting with 8 or 9, with its mod-11 check digit. */
export function organisasjonsnummer(rnd: Random): string {
  for (;;) {
    const base = `${rnd.int(8, 9)}${String(rnd.int(0, 9_999_999)).padStart(7, '0')}`;
    const k = mod11([...base].map(Number), W_ORG);
    if (k !== undefined) return `${base}${k}`;
  }
}

export interface Institution {
  readonly name: string;
  readonly orgnr: string;
}

/**
 * A region's institutions: hospitals and GP offices, fixed per seed so that the same few hundred
 * organisations recur across patients, as they do in a real region.
 */
export function institutions(rnd: Random, count = 200): Institution[] {
  const list: Institution[] = [{ name: 'Finnmarkssykehuset HF', orgnr: '983974880' }];
  while (list.length < count) {
    const place = rnd.pick(PLACES);
    const name = rnd.next() < 0.3 ? `Sykehuset ${place} avd. ${list.length}` : `${place} legekontor ${list.length}`;
    list.push({ name, orgnr: organisasjonsnummer(rnd) });
  }
  return list;
}

export interface Practitioner {
  readonly hpr: string;
  readonly given: string;
  readonly family: string;
  readonly institution: Institution;
}

/** Health personnel with HPR numbers, each working at one of the institutions. */
export function practitioners(rnd: Random, where: readonly Institution[], count = 2000): Practitioner[] {
  const list: Practitioner[] = [];
  for (let i = 0; i < count; i++) {
    list.push({ hpr: String(rnd.int(1_000_000, 999_999_999)), ...personName(rnd), institution: rnd.pick(where) });
  }
  return list;
}

export function author(p: Practitioner): Author {
  return {
    person: `${p.hpr}^${p.family}^${p.given}^^^^^^&${HPR_OID}&ISO`,
    institutions: [`${p.institution.name}^^^^^&${ORGNR_OID}&ISO^^^^${p.institution.orgnr}`],
    roles: [],
    specialties: [],
    telecommunications: [],
  };
}
