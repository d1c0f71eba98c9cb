/**
 * Reading NIST testkit test plans: a test directory holds either sections listed in index.idx
 * (each with its own testplan.xml) or a single testplan.xml. Plans are parsed into a typed
 * skeleton; the transaction element itself is kept as DOM because validators and assertions read
 * it directly.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { attr, childElementsOf, type Elem, firstChild, localNameOf, parseXmlDom, textOf } from './dom.js';

export interface UseIdRef {
  /** Directory of the producing section, relative to the consuming section (undefined = this one). */
  readonly testdir?: string;
  readonly step: string;
  readonly section: string;
  readonly id: string;
  readonly symbol: string;
}

export interface UseReportRef {
  /** Producing test id (undefined = this test). */
  readonly test?: string;
  /** Producing section ('THIS' or undefined = this section). */
  readonly section?: string;
  readonly step: string;
  readonly reportName: string;
  readonly useAs: string;
}

export interface ReportSpec {
  readonly name: string;
  /** 'Result' or 'InputMetadata'. */
  readonly section: string;
  readonly xpath: string;
}

export interface AssertSpec {
  readonly id: string;
  readonly xpath: string;
}

export interface TransactionSpec {
  /** Element name, e.g. RegisterTransaction. */
  readonly kind: string;
  readonly element: Elem;
  readonly flags: ReadonlySet<string>;
  /** Symbolic ids named by `<NoAssignUids id="…"/>`: their uniqueIds stay as written. */
  readonly keepUidsOf: ReadonlySet<string>;
  readonly metadataFiles: readonly string[];
  /** Symbolic DocumentEntry id → payload file (ProvideAndRegister). */
  readonly documents: ReadonlyMap<string, string>;
  readonly useIds: readonly UseIdRef[];
  readonly useReports: readonly UseReportRef[];
  readonly reports: readonly ReportSpec[];
  readonly expectedContents?: Elem;
  readonly assertions: readonly AssertSpec[];
  /** Retrieve: document uniqueId (possibly a $token$) → reference file, relative to the test directory. */
  readonly referenceDocuments: readonly { uid: string; file: string }[];
  readonly expectedMimeType?: string;
  readonly referenceMetadata?: { testdir?: string; step: string };
}

export interface StepSpec {
  readonly id: string;
  readonly expectedStatus: readonly string[];
  readonly expectedErrorCodes: readonly string[];
  /** Step-level markers: NewPatientId, AltPatientId. */
  readonly stepFlags: ReadonlySet<string>;
  readonly transaction?: TransactionSpec;
}

export interface SectionPlan {
  readonly testId: string;
  /** Section directory name ('' when the test has a single top-level plan). */
  readonly section: string;
  /** Absolute directory of this section. */
  readonly dir: string;
  readonly steps: readonly StepSpec[];
}

export interface TestInfo {
  readonly id: string;
  readonly dir: string;
  readonly title: string;
  readonly collections: readonly string[];
  readonly sections: readonly string[];
}

const FLAG_ELEMENTS = new Set([
  'XDSb', 'NoPatientId', 'AltPatientId', 'AssignUuids', 'NoAssignUids', 'NoMetadata', 'CreateNewPatientId',
  'ParseMetadata', 'CleanParams', 'ASync', 'UseRepositoryUniqueId',
]);

function lines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith('#'));
}

export function readTestInfo(testkitDir: string, testId: string): TestInfo {
  const dir = join(testkitDir, 'tests', testId);
  if (!existsSync(dir)) throw new Error(`test ${testId} not found in ${join(testkitDir, 'tests')}`);
  const title = lines(join(dir, 'readme.txt'))[0] ?? '';
  const collections = lines(join(dir, 'collections.txt'));
  const idx = lines(join(dir, 'index.idx'));
  const sections = idx.length > 0 ? idx : existsSync(join(dir, 'testplan.xml')) ? [''] : [];
  return { id: testId, dir, title, collections, sections };
}

export function readSectionPlan(test: TestInfo, section: string): SectionPlan {
  const dir = section === '' ? test.dir : join(test.dir, section);
  const file = join(dir, 'testplan.xml');
  if (!existsSync(file)) throw new Error(`${test.id}/${section}: testplan.xml missing`);
  const doc = parseXmlDom(readFileSync(file, 'utf8'), file);
  const root = doc.documentElement as Elem;
  const steps = childElementsOf(root, 'TestStep').map((s) => parseStep(s));
  return { testId: test.id, section, dir, steps };
}

export function parseStep(stepEl: Elem): StepSpec {
  const expectedStatus: string[] = [];
  const expectedErrorCodes: string[] = [];
  const stepFlags = new Set<string>();
  let transaction: TransactionSpec | undefined;
  for (const c of childElementsOf(stepEl)) {
    const name = localNameOf(c);
    if (name === 'ExpectedStatus') expectedStatus.push(...textOf(c).split(/[\s,|]+/).filter(Boolean));
    else if (name === 'ExpectedErrorCode' || name === 'ExpectedErrorMessage') expectedErrorCodes.push(textOf(c));
    else if (name === 'NewPatientId' || name === 'AltPatientId') stepFlags.add(name);
    else if (name.endsWith('Transaction')) transaction = parseTransaction(c);
  }
  return { id: attr(stepEl, 'id') ?? '', expectedStatus, expectedErrorCodes, stepFlags, transaction };
}

function parseTransaction(t: Elem): TransactionSpec {
  const flags = new Set<string>();
  /** `<NoAssignUids id="Document01"/>` keeps the uniqueId of that object only; without id, of all. */
  const keepUidsOf = new Set<string>();
  const metadataFiles: string[] = [];
  const documents = new Map<string, string>();
  const useIds: UseIdRef[] = [];
  const useReports: UseReportRef[] = [];
  const reports: ReportSpec[] = [];
  const assertions: AssertSpec[] = [];
  const referenceDocuments: { uid: string; file: string }[] = [];
  let expectedContents: Elem | undefined;
  let expectedMimeType: string | undefined;
  let referenceMetadata: { testdir?: string; step: string } | undefined;
  for (const c of childElementsOf(t)) {
    const name = localNameOf(c);
    if (name === 'NoAssignUids' && attr(c, 'id')) keepUidsOf.add(attr(c, 'id')!);
    else if (FLAG_ELEMENTS.has(name)) flags.add(name);
    else if (name === 'MetadataFile') metadataFiles.push(textOf(c));
    else if (name === 'Document') documents.set(attr(c, 'id') ?? '', textOf(c));
    else if (name === 'UseId') {
      useIds.push({
        testdir: attr(c, 'testdir'), step: attr(c, 'step') ?? '', section: attr(c, 'section') ?? '',
        id: attr(c, 'id') ?? '', symbol: attr(c, 'symbol') ?? '',
      });
    } else if (name === 'UseReport') {
      useReports.push({
        test: attr(c, 'test'), section: attr(c, 'section'), step: attr(c, 'step') ?? '',
        reportName: attr(c, 'reportName') ?? '', useAs: attr(c, 'useAs') ?? '',
      });
    } else if (name === 'Report') {
      reports.push({ name: attr(c, 'name') ?? '', section: attr(c, 'section') ?? 'Result', xpath: textOf(c) });
    } else if (name === 'ExpectedContents') expectedContents = c;
    else if (name === 'Assertions') {
      for (const a of childElementsOf(c, 'Assert')) assertions.push({ id: attr(a, 'id') ?? '', xpath: textOf(a) });
    } else if (name === 'ReferenceDocument') referenceDocuments.push({ uid: attr(c, 'uid') ?? '', file: textOf(c) });
    else if (name === 'ExpectedMimeType') expectedMimeType = textOf(c);
    else if (name === 'ReferenceMetadata') referenceMetadata = { testdir: attr(c, 'testdir'), step: attr(c, 'step') ?? '' };
  }
  return {
    kind: localNameOf(t), element: t, flags, keepUidsOf, metadataFiles, documents, useIds, useReports, reports,
    expectedContents, assertions, referenceDocuments, expectedMimeType, referenceMetadata,
  };
}

/** Every test id (directory name) in the testkit. */
export function listTests(testkitDir: string): string[] {
  const root = join(testkitDir, 'tests');
  return readdirSync(root).filter((n) => statSync(join(root, n)).isDirectory()).sort();
}
