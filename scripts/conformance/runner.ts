/**
 * The conformance runner: replays NIST testkit plans against a running node over HTTP, resolving
 * the plans' linkage (UseId / UseReport) across steps, sections and tests, running prerequisite
 * tests first (each at most once per session), and reporting per step, section, test and
 * collection.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { DOMImplementation } from '@xmldom/xmldom';
import { checkAssertions, checkStatus, ContentsValidator, MetadataView, registryErrors, responseStatus } from './check.js';
import { attr, childElementsOf, descendantsByLocal, type Doc, type Elem, localNameOf, parseXmlDom, textOf, xpathString } from './dom.js';
import { type Exclusion, exclusionFor } from './exclusions.js';
import { loadMetadata, prepareSubmission, registryObjectList, SCHEME, substituteTokens, UniqueIdAllocator } from './metadata.js';
import { PatientIdAllocator } from './patients.js';
import { listTests, readSectionPlan, readTestInfo, type SectionPlan, type StepSpec, type TestInfo, type TransactionSpec, type UseIdRef, type UseReportRef } from './plan.js';
import { ACTION, type Attachment, documentBytes, type SoapResponse, sendSoap, serializeBody } from './soap.js';
import { NS } from '../../registry/xml/namespaces.js';
import { NIST_TESTKIT } from '../../fixtures/index.js';

/** The testkit copy the repository carries (fixtures/conformance/nist-testkit). */
export const DEFAULT_TESTKIT_DIR = NIST_TESTKIT;

export interface Endpoints {
  readonly registry: string;
  readonly repository: string;
  readonly respondingGateway: string;
  readonly initiatingGateway: string;
}

/**
 * Where the data-side transactions of a step go when the SUT is not the registry/repository (an
 * initiating gateway under test): the registry and repository of a responding community, with the
 * values the toolkit reports for that simulator.
 */
export interface DataTarget {
  readonly registryUrl: string;
  readonly repositoryUrl: string;
  /** Reported as `$testdata_home$` by the steps that load data there. */
  readonly homeCommunityId: string;
  /** Reported as `$testdata_repid$`. */
  readonly repositoryUniqueId: string;
  /** Patient-feed test whose patient id the step's submissions carry (instead of the test's own). */
  readonly patientOf?: string;
}

export interface RunOptions {
  readonly baseUrl: string;
  readonly collections: readonly string[];
  readonly tests?: readonly string[];
  readonly testkitDir?: string;
  readonly patientAuthority?: string;
  readonly altPatientAuthority?: string;
  /** Extra exclusions (test id → reason) on top of the documented list. */
  readonly exclusions?: Readonly<Record<string, Exclusion>>;
  /** homeCommunityId of the node, for `$testdata_home$` (XCA tests). */
  readonly homeCommunityId?: string;
  readonly endpoints?: Partial<Endpoints>;
  readonly uniqueIdBase?: string;
  readonly timeoutMs?: number;
  /**
   * Where XCQ/XCR steps go: the SUT's responding gateway (ITI-38/39, default), or — when the SUT is
   * an initiating gateway (the ig collections: "initiate a Cross-Community Query from your
   * Initiating Gateway") — its initiating gateway as ITI-18/43, which must fan out the ITI-38/39.
   */
  readonly crossCommunityVia?: 'respondingGateway' | 'initiatingGateway';
  /**
   * When set, registry and repository transactions (data loading, the toolkit's own look-ups) go to
   * the data target of their section instead of the SUT: the SUT is a gateway in front of them.
   */
  readonly dataTarget?: (testId: string, section: string) => DataTarget | undefined;
  /** Tests run first, as prerequisites, before any selected test (an environment's data loaders). */
  readonly loaders?: readonly string[];
  /**
   * Per test, tokens that take the patient id of a patient-feed test: the links a plan needs but
   * whose UseReport the testkit's copy has commented out (the toolkit's operator supplies them).
   */
  readonly feedTokens?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Tokens the environment's configuration defines (`$repositoryuid$`), overridden by a plan's own UseId/UseReport. */
  readonly configTokens?: Readonly<Record<string, string>>;
  /** Called with the session before any test runs (environments that need its patient ids). */
  readonly onSessionStart?: (session: Session) => void;
  /** Called as each test finishes (progress output). */
  readonly onTestDone?: (t: TestResult) => void;
}

export type StepStatus = 'pass' | 'fail' | 'unsupported' | 'local' | 'not-run';
export type TestStatus = 'pass' | 'fail' | 'unsupported' | 'excluded';

export interface StepResult {
  readonly step: string;
  readonly transaction?: string;
  readonly status: StepStatus;
  readonly reasons: readonly string[];
}
export interface SectionResult {
  readonly section: string;
  readonly status: TestStatus;
  readonly steps: readonly StepResult[];
}
export interface TestResult {
  readonly test: string;
  readonly title: string;
  readonly collections: readonly string[];
  readonly status: TestStatus;
  readonly reason?: string;
  readonly sections: readonly SectionResult[];
  /** True when the test was not selected and ran only because a selected test depends on it. */
  readonly prerequisiteOnly: boolean;
}
export interface CollectionTotals {
  readonly collection: string;
  readonly passed: number;
  readonly failed: number;
  readonly unsupported: number;
  /** Tests counted: passed + failed + unsupported. */
  readonly applicable: number;
  readonly excluded: number;
}
export interface ConformanceReport {
  readonly baseUrl: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly tests: readonly TestResult[];
  readonly totals: readonly CollectionTotals[];
}

/** What a finished step leaves behind for later steps (the toolkit's log.xml sections). */
interface StepState {
  readonly assignedUuids: Map<string, string>;
  readonly assignedUids: Map<string, string>;
  readonly assignedPatientIds: Map<string, string>;
  readonly assignedSourceIds: Map<string, string>;
  readonly reports: Map<string, string>;
  patientId?: string;
  input?: Doc;
  result?: Doc;
}

class LinkError extends Error {}

const NETWORK_KINDS: Readonly<Record<string, { endpoint: keyof Endpoints; action: string; kind: 'submit' | 'pnr' | 'query' | 'retrieve' }>> = {
  RegisterTransaction: { endpoint: 'registry', action: ACTION.register, kind: 'submit' },
  // ITI-57 is a SubmitObjectsRequest prepared as a registration is (AssignUuids, uniqueIds, patient ids).
  MuTransaction: { endpoint: 'registry', action: ACTION.updateDocumentSet, kind: 'submit' },
  // ITI-92 (RMU) likewise. RmuTransaction goes to the Update Responder under test: the registry
  // (XDS Persistence Option, reg_rmu), or the responding gateway when the SUT is one (VIA_RESPONDING);
  // XCRmuTransaction is the same request, always to the responding gateway (XCA Persistence Option).
  RmuTransaction: { endpoint: 'registry', action: ACTION.restrictedUpdateDocumentSet, kind: 'submit' },
  XCRmuTransaction: { endpoint: 'respondingGateway', action: ACTION.restrictedUpdateDocumentSet, kind: 'submit' },
  ProvideAndRegisterTransaction: { endpoint: 'repository', action: ACTION.provideAndRegister, kind: 'pnr' },
  StoredQueryTransaction: { endpoint: 'registry', action: ACTION.storedQuery, kind: 'query' },
  RetrieveTransaction: { endpoint: 'repository', action: ACTION.retrieve, kind: 'retrieve' },
  // ITI-62, ITI-86 and ITI-51 send their metadata file as it is (ids filled in from earlier steps), as a query does.
  RemoveMetadataTransaction: { endpoint: 'registry', action: ACTION.deleteDocumentSet, kind: 'query' },
  RdTransaction: { endpoint: 'repository', action: ACTION.removeDocuments, kind: 'query' },
  MPQTransaction: { endpoint: 'registry', action: ACTION.multiPatientQuery, kind: 'query' },
  XCQTransaction: { endpoint: 'respondingGateway', action: ACTION.crossGatewayQuery, kind: 'query' },
  XCRTransaction: { endpoint: 'respondingGateway', action: ACTION.crossGatewayRetrieve, kind: 'retrieve' },
  // The toolkit as Document Consumer in front of an Initiating Gateway SUT.
  IGQTransaction: { endpoint: 'initiatingGateway', action: ACTION.storedQuery, kind: 'query' },
  IGRTransaction: { endpoint: 'initiatingGateway', action: ACTION.retrieve, kind: 'retrieve' },
};

/**
 * Update transactions of a test whose SUT is a responding gateway (the rg(xca)… collections): the
 * toolkit sends a site's RMU to that site's Update Responder, here the gateway (XCA Persistence
 * Option, rg(xca)_rmu 40030…: "the update was accepted by the Responding Gateway"). Data loading
 * (RegisterTransaction, MuTransaction) still goes to the registry behind it.
 */
const VIA_RESPONDING: Readonly<Record<string, (typeof NETWORK_KINDS)[string]>> = {
  RmuTransaction: NETWORK_KINDS['XCRmuTransaction']!,
};

/** Collections whose SUT is a responding gateway. */
const respondingGatewayCollection = (collection: string): boolean => collection.startsWith('rg(');

/** XCQ/XCR when the SUT is an initiating gateway: the consumer's ITI-18/43 that make it send them. */
const VIA_INITIATING: Readonly<Record<string, (typeof NETWORK_KINDS)[string]>> = {
  XCQTransaction: NETWORK_KINDS['IGQTransaction']!,
  XCRTransaction: NETWORK_KINDS['IGRTransaction']!,
};

export function defaultEndpoints(baseUrl: string): Endpoints {
  const b = baseUrl.replace(/\/+$/, '');
  return {
    registry: `${b}/xds/registry`,
    repository: `${b}/xds/repository`,
    respondingGateway: `${b}/xca/responding`,
    initiatingGateway: `${b}/xca/initiating`,
  };
}

/** Test ids to run: the given ids plus every test whose collections.txt names one of the collections. */
export function selectTests(testkitDir: string, collections: readonly string[], tests: readonly string[] = []): string[] {
  const wanted = new Set(collections);
  const out = new Set(tests);
  if (wanted.size > 0) {
    for (const id of listTests(testkitDir)) {
      if (readTestInfo(testkitDir, id).collections.some((c) => wanted.has(c))) out.add(id);
    }
  }
  return [...out].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

export async function runCollections(options: RunOptions): Promise<ConformanceReport> {
  const session = new Session(options);
  options.onSessionStart?.(session);
  const startedAt = new Date().toISOString();
  const selected = selectTests(session.testkitDir, options.collections, options.tests ?? []);
  for (const id of options.loaders ?? []) await session.runTest(id, true);
  for (const id of selected) await session.runTest(id, false);
  const tests = [...session.results.values()];
  return {
    baseUrl: options.baseUrl,
    startedAt,
    finishedAt: new Date().toISOString(),
    tests,
    totals: computeTotals(tests, options.collections),
  };
}

export function computeTotals(tests: readonly TestResult[], collections: readonly string[]): CollectionTotals[] {
  const names = collections.length > 0 ? [...collections] : [...new Set(tests.flatMap((t) => t.collections))].sort();
  return names.map((collection) => {
    const members = tests.filter((t) => t.collections.includes(collection));
    const n = (s: TestStatus): number => members.filter((t) => t.status === s).length;
    const passed = n('pass');
    const failed = n('fail');
    const unsupported = n('unsupported');
    return { collection, passed, failed, unsupported, applicable: passed + failed + unsupported, excluded: n('excluded') };
  });
}

export class Session {
  readonly testkitDir: string;
  readonly testsRoot: string;
  readonly results = new Map<string, TestResult>();
  private readonly running = new Set<string>();
  private readonly steps = new Map<string, StepState>();
  private readonly sectionLogs = new Map<string, Doc>();
  private readonly testPatient = new Map<string, string>();
  /** Document uniqueId → the file a ProvideAndRegister step of this session sent as its content. */
  private readonly submittedFiles = new Map<string, string>();
  /** mimeType the plans' own submissions registered, by document uniqueId (see checkRetrieved). */
  private readonly submittedMimeTypes = new Map<string, string>();
  private readonly patients: PatientIdAllocator;
  private readonly uids: UniqueIdAllocator;
  private readonly endpoints: Endpoints;
  /** When the last submission was answered (ms), for `$now$` below. */
  private lastMutationAt = 0;

  constructor(private readonly options: RunOptions) {
    this.testkitDir = options.testkitDir ?? DEFAULT_TESTKIT_DIR;
    this.testsRoot = join(this.testkitDir, 'tests');
    this.patients = new PatientIdAllocator(options.patientAuthority, options.altPatientAuthority);
    this.uids = new UniqueIdAllocator(options.uniqueIdBase);
    this.endpoints = { ...defaultEndpoints(options.baseUrl), ...options.endpoints };
  }

  /** Runs a test (and, first, the tests it refers to), unless it already ran in this session. */
  async runTest(testId: string, asPrerequisite: boolean): Promise<TestResult | undefined> {
    const done = this.results.get(testId);
    if (done) {
      if (!asPrerequisite && done.prerequisiteOnly) this.results.set(testId, { ...done, prerequisiteOnly: false });
      return done;
    }
    if (this.running.has(testId)) return undefined;
    const info = readTestInfo(this.testkitDir, testId);
    const exclusion = exclusionFor(testId, this.options.exclusions);
    if (exclusion && !exclusion.runsAsPrerequisite && exclusion.sections === undefined) {
      return this.finish({ test: testId, title: info.title, collections: info.collections, status: 'excluded', reason: exclusion.reason, sections: [], prerequisiteOnly: asPrerequisite });
    }
    this.running.add(testId);
    try {
      const plans: SectionPlan[] = [];
      const problems: string[] = [];
      for (const s of info.sections) {
        try {
          plans.push(readSectionPlan(info, s));
        } catch (e) {
          problems.push((e as Error).message);
        }
      }
      for (const dep of this.prerequisites(info)) await this.runTest(dep, true);
      const sections: SectionResult[] = [];
      for (const plan of plans) {
        // A section with a documented defect is reported, not run; the test counts by the others.
        if (exclusion?.sections?.includes(plan.section)) sections.push({ section: plan.section, status: 'excluded', steps: [] });
        else sections.push(await this.runSection(plan));
      }
      let status: TestStatus = sections.some((s) => s.status === 'fail') || problems.length > 0 ? 'fail'
        : sections.some((s) => s.status === 'unsupported') ? 'unsupported' : 'pass';
      let reason = problems.length > 0 ? problems.join('; ') : undefined;
      if (info.sections.length === 0) {
        status = 'unsupported';
        reason = 'no test plan in this test directory';
      }
      if (exclusion?.sections !== undefined) {
        reason = [reason, `section${exclusion.sections.length > 1 ? 's' : ''} ${exclusion.sections.join(', ')} not counted: ${exclusion.reason}`].filter(Boolean).join('; ');
      } else if (exclusion) {
        status = 'excluded';
        reason = exclusion.reason;
      }
      return this.finish({ test: testId, title: info.title, collections: info.collections, status, reason, sections, prerequisiteOnly: asPrerequisite });
    } finally {
      this.running.delete(testId);
    }
  }

  private finish(r: TestResult): TestResult {
    this.results.set(r.test, r);
    this.options.onTestDone?.(r);
    return r;
  }

  /** Other tests this test's plans refer to (UseId testdir, UseReport test, ReferenceMetadata testdir). */
  prerequisites(info: TestInfo): string[] {
    const deps = new Set<string>();
    for (const s of info.sections) {
      const dir = s === '' ? info.dir : join(info.dir, s);
      const file = join(dir, 'testplan.xml');
      if (!existsSync(file)) continue;
      const root = parseXmlDom(readFileSync(file, 'utf8'), file).documentElement as Elem;
      for (const name of ['UseId', 'ReferenceMetadata']) {
        for (const e of descendantsByLocal(root, name)) {
          const td = attr(e, 'testdir');
          if (td) deps.add(this.sectionKey(this.testdirOf(dir, td)).split('/')[0]!);
        }
      }
      for (const e of descendantsByLocal(root, 'UseReport')) {
        const t = attr(e, 'test');
        if (t) deps.add(t);
      }
    }
    deps.delete(info.id);
    return [...deps].filter((d) => existsSync(join(this.testsRoot, d)));
  }

  /** 'test/section' (or 'test') for a section directory. */
  private sectionKey(dir: string): string {
    return relative(this.testsRoot, dir).split(sep).join('/');
  }

  private async runSection(plan: SectionPlan): Promise<SectionResult> {
    const key = this.sectionKey(plan.dir);
    const log = new DOMImplementation().createDocument(null, 'TestResults', null) as unknown as Doc;
    (log.documentElement as Elem).setAttribute('test', key);
    this.sectionLogs.set(key, log);
    const results: StepResult[] = [];
    let stopped = false;
    for (const step of plan.steps) {
      if (stopped) {
        results.push({ step: step.id, transaction: step.transaction?.kind, status: 'not-run', reasons: ['an earlier step of this section did not pass'] });
        continue;
      }
      let r: StepResult;
      try {
        r = await this.runStep(plan, key, log, step);
      } catch (e) {
        r = { step: step.id, transaction: step.transaction?.kind, status: 'fail', reasons: [(e as Error).message] };
      }
      results.push(r);
      if (r.status === 'fail' || r.status === 'unsupported') stopped = true;
    }
    const status: TestStatus = results.some((r) => r.status === 'fail') ? 'fail'
      : results.some((r) => r.status === 'unsupported') ? 'unsupported' : 'pass';
    return { section: plan.section, status, steps: results };
  }

  /**
   * A plan that queries "up to `$now$`" was written for a toolkit that a person drives: by the
   * time it runs, the data it loaded earlier is seconds old. The runner replays everything within
   * one second, and DTMs have one-second precision (a registry may also have moved a folder's
   * lastUpdateTime one second ahead to keep it increasing), so it waits until two whole seconds
   * have passed since the last submission, as real time would have.
   */
  private async letTimePass(): Promise<void> {
    const until = Math.floor(this.lastMutationAt / 1000) * 1000 + 2000;
    const wait = until - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  /** Whether the test belongs to a collection whose SUT is a responding gateway. */
  private sutIsRespondingGateway(testId: string): boolean {
    return readTestInfo(this.testkitDir, testId).collections.some(respondingGatewayCollection);
  }

  /** The patient id a test (a patient feed) was given in this session, if it ran. */
  patientOf(testId: string): string | undefined {
    return this.testPatient.get(testId);
  }

  private currentPatient(testId: string): string {
    let p = this.testPatient.get(testId);
    if (!p) {
      p = this.patients.fresh();
      this.testPatient.set(testId, p);
    }
    return p;
  }

  /**
   * A UseId/ReferenceMetadata testdir is relative to the section directory ("../submit"). Some
   * plans (12021/retrieve: testdir="submit") name a sibling section without the "../"; the toolkit
   * finds it, so when the section-relative directory does not exist the test directory is tried.
   */
  private testdirOf(sectionDir: string, testdir: string): string {
    const direct = resolve(sectionDir, testdir);
    if (existsSync(direct)) return direct;
    const sibling = resolve(dirname(sectionDir), testdir);
    return existsSync(sibling) ? sibling : direct;
  }

  resolveUseId(u: UseIdRef | Elem, sectionDir: string, sectionKey: string): string {
    const ref: UseIdRef = 'nodeType' in u
      ? { testdir: attr(u, 'testdir'), step: attr(u, 'step') ?? '', section: attr(u, 'section') ?? '', id: attr(u, 'id') ?? '', symbol: attr(u, 'symbol') ?? '' }
      : u;
    const key = ref.testdir ? this.sectionKey(this.testdirOf(sectionDir, ref.testdir)) : sectionKey;
    const state = this.steps.get(`${key}/${ref.step}`);
    if (!state) throw new LinkError(`UseId: step ${ref.step} of ${key} has not run (or did not complete) in this session`);
    const value = ref.section === 'AssignedUuids' ? state.assignedUuids.get(ref.id)
      : ref.section === 'AssignedUids' ? state.assignedUids.get(ref.id)
      : ref.section === 'AssignedPatientId' ? state.assignedPatientIds.get(ref.id) ?? state.patientId
      : ref.section === 'AssignedSourceId' ? state.assignedSourceIds.get(ref.id)
      : undefined;
    if (value === undefined) throw new LinkError(`UseId: ${ref.section} of ${key}/${ref.step} has no entry for ${ref.id}`);
    return value;
  }

  resolveUseReport(u: UseReportRef, testId: string, sectionName: string): string {
    const test = u.test ?? testId;
    const section = u.section === undefined || u.section === 'THIS' ? (test === testId ? sectionName : '') : u.section;
    const key = `${section === '' ? test : `${test}/${section}`}/${u.step}`;
    const value = this.steps.get(key)?.reports.get(u.reportName);
    if (value !== undefined) return value;
    if (u.reportName === '$testdata_home$') {
      if (this.options.homeCommunityId) return this.options.homeCommunityId;
      throw new LinkError('UseReport $testdata_home$ needs the node\'s homeCommunityId (option homeCommunityId)');
    }
    if (!this.steps.has(key)) throw new LinkError(`UseReport: step ${key} has not run (or did not complete) in this session`);
    throw new LinkError(`UseReport: step ${key} produced no report ${u.reportName}`);
  }

  private async runStep(plan: SectionPlan, sectionKey: string, log: Doc, step: StepSpec): Promise<StepResult> {
    const tx = step.transaction;
    const state: StepState = {
      assignedUuids: new Map(), assignedUids: new Map(), assignedPatientIds: new Map(), assignedSourceIds: new Map(), reports: new Map(),
    };
    const stepKey = `${sectionKey}/${step.id}`;
    if (step.stepFlags.has('NewPatientId')) this.testPatient.set(plan.testId, this.patients.fresh());
    const done = (status: StepStatus, reasons: string[]): StepResult => {
      this.steps.set(stepKey, state);
      return { step: step.id, transaction: tx?.kind, status, reasons };
    };
    if (!tx) {
      state.patientId = this.testPatient.get(plan.testId);
      return done('pass', []);
    }

    if (tx.metadataFiles.some((f) => readFileSync(join(plan.dir, f), 'utf8').includes('$now$'))) await this.letTimePass();
    const tokens = builtInTokens(new Date());
    for (const [k, v] of Object.entries(this.options.configTokens ?? {})) tokens.set(k, v);
    for (const [token, feed] of Object.entries(this.options.feedTokens?.[plan.testId] ?? {})) {
      await this.runTest(feed, true);
      const fed = this.testPatient.get(feed);
      if (fed === undefined) return done('fail', [`patient feed ${feed} produced no patient id for ${token}`]);
      tokens.set(token, fed);
    }
    try {
      for (const ur of tx.useReports) tokens.set(ur.useAs, this.resolveUseReport(ur, plan.testId, plan.section));
      for (const ui of tx.useIds) tokens.set(ui.symbol, this.resolveUseId(ui, plan.dir, sectionKey));
    } catch (e) {
      if (e instanceof LinkError) return done('fail', [e.message]);
      throw e;
    }

    if (tx.kind === 'PatientIdentityFeedTransaction') {
      const pid = tx.flags.has('CreateNewPatientId') ? this.patients.fresh() : this.currentPatient(plan.testId);
      this.testPatient.set(plan.testId, pid);
      state.patientId = pid;
      state.reports.set('$patientid$', pid);
      return done('local', [`no feed sent: patient id ${pid} allocated by the runner`]);
    }

    const alt = step.stepFlags.has('AltPatientId') || tx.flags.has('AltPatientId');
    const fromReport = tx.useReports.find((u) => u.reportName === '$patientid$' || u.useAs === '$patientid$');
    const net =
      (this.options.crossCommunityVia === 'initiatingGateway' ? VIA_INITIATING[tx.kind] : undefined) ??
      (this.sutIsRespondingGateway(plan.testId) ? VIA_RESPONDING[tx.kind] : undefined) ??
      NETWORK_KINDS[tx.kind];
    const target = net && (net.endpoint === 'registry' || net.endpoint === 'repository') ? this.options.dataTarget?.(plan.testId, plan.section) : undefined;
    let pid: string;
    if (alt) pid = this.patients.alternate();
    else if (fromReport) {
      pid = tokens.get(fromReport.useAs)!;
      this.testPatient.set(plan.testId, pid);
    } else if (target?.patientOf !== undefined) {
      // The environment says whose data this is (the toolkit hands each data section its own patient).
      await this.runTest(target.patientOf, true);
      const fed = this.testPatient.get(target.patientOf);
      if (fed === undefined) return done('fail', [`patient feed ${target.patientOf} produced no patient id`]);
      pid = fed;
    } else pid = this.currentPatient(plan.testId);
    if (!tokens.has('$patientid$')) tokens.set('$patientid$', pid);
    state.patientId = pid;
    // The toolkit reports a step's parameters as Reports of the step (BasicTransaction
    // reportStepParameters), so a later step may UseReport the $patientid$ a query ran with (20001).
    state.reports.set('$patientid$', tokens.get('$patientid$')!);

    if (tx.kind === 'NullTransaction') {
      const txLog = appendStepLog(log, step.id, tx.kind);
      const problems = checkAssertions(tx.assertions.map((a) => ({ id: a.id, xpath: substituteTokens(a.xpath, tokens) })), log);
      setStepLogStatus(txLog, problems.length === 0);
      return done(problems.length === 0 ? 'pass' : 'fail', problems);
    }
    if (!net) return done('unsupported', [`unsupported transaction ${tx.kind}`]);

    const request = this.buildRequest(plan, tx, net.kind, tokens, pid, alt, state);
    state.input = request.input;
    if (target && (net.kind === 'submit' || net.kind === 'pnr')) {
      // What the toolkit reports for data it loaded into a simulator (15808 … compare against it).
      state.reports.set('$testdata_home$', target.homeCommunityId);
      state.reports.set('$testdata_repid$', target.repositoryUniqueId);
    }
    const url = target ? (net.endpoint === 'registry' ? target.registryUrl : target.repositoryUrl) : this.endpoints[net.endpoint];
    const response = await sendSoap({
      url, action: net.action, bodyXml: request.bodyXml, attachments: request.attachments, timeoutMs: this.options.timeoutMs,
    });
    if (net.kind === 'submit' || net.kind === 'pnr') this.lastMutationAt = Date.now();
    state.result = resultDoc(response);
    const reasons: string[] = [];
    if (!response.body) reasons.push(`response is not a SOAP envelope (HTTP ${response.httpStatus}, ${response.contentType}): ${response.envelopeText.slice(0, 300)}`);
    const outcome = { status: responseStatus(response.body), fault: response.fault, errors: registryErrors(response.body) };
    if (response.body) reasons.push(...checkStatus(step.expectedStatus, step.expectedErrorCodes, outcome));

    for (const r of tx.reports) {
      const src = r.section === 'InputMetadata' ? state.input : state.result;
      if (!src) continue;
      try {
        state.reports.set(r.name, xpathString(substituteTokens(r.xpath, tokens), src).trim());
      } catch (e) {
        reasons.push(`Report ${r.name} cannot be evaluated: ${(e as Error).message}`);
      }
    }
    const succeeded = outcome.status === 'Success' || outcome.status === 'PartialSuccess';
    if (tx.expectedContents && childElementsOf(tx.expectedContents).length > 0 && !response.fault) {
      const subject = net.kind === 'submit' || net.kind === 'pnr' ? state.input : state.result;
      const v = new ContentsValidator(new MetadataView(subject), (u) => {
        try {
          return this.resolveUseId(u, plan.dir, sectionKey);
        } catch {
          return undefined;
        }
      });
      reasons.push(...v.run(tx.expectedContents).map((m) => `ExpectedContents: ${m}`));
    }
    if (net.kind === 'retrieve' && succeeded) reasons.push(...this.checkRetrieved(plan, sectionKey, tx, tokens, response));

    const txLog = appendStepLog(log, step.id, tx.kind, state);
    reasons.push(...checkAssertions(tx.assertions.map((a) => ({ id: a.id, xpath: substituteTokens(a.xpath, tokens) })), log));
    setStepLogStatus(txLog, reasons.length === 0);
    return done(reasons.length === 0 ? 'pass' : 'fail', reasons);
  }

  private buildRequest(
    plan: SectionPlan, tx: TransactionSpec, kind: 'submit' | 'pnr' | 'query' | 'retrieve', tokens: Map<string, string>,
    pid: string, alt: boolean, state: StepState,
  ): { bodyXml: string; input: Doc; attachments?: Attachment[] } {
    if (tx.metadataFiles.length === 0) throw new Error(`${tx.kind} without MetadataFile`);
    const docs = tx.metadataFiles.map((f) => {
      const path = join(plan.dir, f);
      return loadMetadata(readFileSync(path, 'utf8'), tokens, path);
    });
    const input = docs[0]!;
    if (kind === 'query' || kind === 'retrieve') return { bodyXml: serializeBody(input), input };

    // Further metadata files contribute their objects to the first submission.
    const list = registryObjectList(input);
    for (const extra of docs.slice(1)) {
      const l = registryObjectList(extra);
      if (list && l) for (const o of childElementsOf(l)) list.appendChild(input.importNode(o as never, true) as never);
    }
    const forcePatient = !tx.flags.has('NoPatientId') || alt;
    const ids = prepareSubmission(input, {
      assignUuids: tx.flags.has('AssignUuids'),
      assignUids: !tx.flags.has('NoAssignUids') || tx.keepUidsOf.size > 0,
      keepUidsOf: tx.keepUidsOf,
      patientId: forcePatient ? pid : undefined,
      uids: this.uids,
    });
    for (const [k, v] of ids.assignedUuids) state.assignedUuids.set(k, v);
    for (const [k, v] of ids.assignedUids) state.assignedUids.set(k, v);
    for (const [k, v] of ids.assignedPatientIds) state.assignedPatientIds.set(k, v);
    for (const [k, v] of ids.assignedUids) state.reports.set(`${k}_uid`, v);
    for (const [k, v] of ids.assignedUuids) state.reports.set(`${k}_uuid`, v);
    if (list) {
      for (const ei of descendantsByLocal(list, 'ExternalIdentifier')) {
        if (attr(ei, 'identificationScheme') === SCHEME.ssSourceId) state.assignedSourceIds.set(attr(ei, 'registryObject') ?? '', attr(ei, 'value') ?? '');
      }
      // Source ids are looked up by the symbolic id the author wrote, so map them back as well.
      for (const [sym, uuid] of ids.assignedUuids) {
        const v = state.assignedSourceIds.get(uuid);
        if (v !== undefined) state.assignedSourceIds.set(sym, v);
      }
    }
    if (kind === 'submit') return { bodyXml: serializeBody(submitObjectsRequest(input)), input };

    // Provide and Register: wrap the SubmitObjectsRequest and attach each Document as an MTOM part.
    const root = input.documentElement as Elem;
    let pnr: Elem;
    if (localNameOf(root) === 'ProvideAndRegisterDocumentSetRequest') pnr = root;
    else {
      const wrapper = new DOMImplementation().createDocument(NS.xdsb, 'xdsb:ProvideAndRegisterDocumentSetRequest', null) as unknown as Doc;
      pnr = wrapper.documentElement as Elem;
      pnr.appendChild(wrapper.importNode(root as never, true) as never);
    }
    const owner = pnr.ownerDocument!;
    const attachments: Attachment[] = [];
    const eos = list ? childElementsOf(list, 'ExtrinsicObject') : [];
    let n = 0;
    for (const [symbolicId, file] of tx.documents) {
      const uid = ids.assignedUids.get(symbolicId);
      if (uid !== undefined) this.submittedFiles.set(uid, join(plan.dir, file));
      const id = ids.assignedUuids.get(symbolicId) ?? symbolicId;
      const eo = eos.find((e) => attr(e, 'id') === id);
      const cid = `doc${++n}@koblingspunkt.conformance`;
      const declaredMime = eo ? attr(eo, 'mimeType') : undefined;
      if (uid !== undefined && declaredMime) this.submittedMimeTypes.set(uid, declaredMime);
      attachments.push({ contentId: cid, contentType: eo ? attr(eo, 'mimeType') ?? 'application/octet-stream' : 'application/octet-stream', bytes: readFileSync(join(plan.dir, file)) });
      const d = owner.createElementNS(NS.xdsb, 'xdsb:Document');
      d.setAttribute('id', id);
      const inc = owner.createElementNS(NS.xop, 'xop:Include');
      inc.setAttribute('href', `cid:${cid}`);
      d.appendChild(inc);
      pnr.appendChild(d);
    }
    return { bodyXml: serializeBody(pnr), input, attachments };
  }

  /** ReferenceDocument, ExpectedMimeType and ReferenceMetadata checks of a retrieve. */
  private checkRetrieved(plan: SectionPlan, sectionKey: string, tx: TransactionSpec, tokens: Map<string, string>, response: SoapResponse): string[] {
    const problems: string[] = [];
    const docs = retrievedDocuments(response);
    for (const ref of tx.referenceDocuments) {
      const uid = substituteTokens(ref.uid, tokens);
      const got = docs.find((d) => d.uniqueId === uid);
      if (!got) {
        problems.push(`document ${uid} not in the retrieve response`);
        continue;
      }
      const file = join(dirname(plan.dir), ref.file);
      let path = existsSync(file) ? file : join(plan.dir, ref.file);
      // 12029/retrieve names submit/my_document.pdf as the reference, but 12029/submit sends
      // submit/readme.txt as Document01. The property the plan checks is that the repository
      // returns the bytes it was given, so when the named reference is not what this session
      // submitted for that uniqueId, the submitted file is the reference. (ReferenceMetadata still
      // checks the bytes against the registry's size and hash independently.)
      const submitted = this.submittedFiles.get(uid);
      if (submitted !== undefined && existsSync(path) && !readFileSync(path).equals(readFileSync(submitted))) path = submitted;
      if (!existsSync(path)) {
        problems.push(`ReferenceDocument ${ref.file} not found in the testkit`);
        continue;
      }
      const want = readFileSync(path);
      if (!got.bytes || Buffer.compare(Buffer.from(got.bytes), want) !== 0) {
        problems.push(`document ${uid}: retrieved ${got.bytes?.length ?? 0} bytes differ from ${ref.file} (${want.length} bytes)`);
      }
    }
    if (tx.expectedMimeType) {
      // 12313 expects text/plain for both documents of 12318, whose own metadata registers
      // Document02 (summary.xml) as text/xml; a repository must return the registered mimeType
      // (ITI TF-2b 3.43.4.2.2), so for a document this run submitted the registered one is expected.
      for (const d of docs) {
        const expected = this.submittedMimeTypes.get(d.uniqueId) ?? tx.expectedMimeType;
        if (d.mimeType !== expected) problems.push(`document ${d.uniqueId}: mimeType ${d.mimeType}, expected ${expected}`);
      }
    }
    if (tx.referenceMetadata) {
      const key = tx.referenceMetadata.testdir ? this.sectionKey(this.testdirOf(plan.dir, tx.referenceMetadata.testdir)) : sectionKey;
      const meta = this.steps.get(`${key}/${tx.referenceMetadata.step}`)?.result;
      if (!meta) problems.push(`ReferenceMetadata: step ${key}/${tx.referenceMetadata.step} has no result`);
      else {
        const eos = new MetadataView(meta).extrinsicObjects;
        for (const d of docs) {
          const eo = eos.find((e) => childElementsOf(e, 'ExternalIdentifier').some((x) => attr(x, 'identificationScheme') === SCHEME.docUniqueId && attr(x, 'value') === d.uniqueId));
          if (!eo) continue;
          const slot = (name: string): string | undefined => {
            const s = childElementsOf(eo, 'Slot').find((x) => attr(x, 'name') === name);
            const v = s ? descendantsByLocal(s, 'Value')[0] : undefined;
            return v ? textOf(v) : undefined;
          };
          const bytes = d.bytes ?? new Uint8Array();
          const size = slot('size');
          const hash = slot('hash');
          if (size !== undefined && Number(size) !== bytes.length) problems.push(`document ${d.uniqueId}: ${bytes.length} bytes retrieved, metadata size is ${size}`);
          const sha1 = createHash('sha1').update(bytes).digest('hex');
          if (hash !== undefined && hash.toLowerCase() !== sha1) problems.push(`document ${d.uniqueId}: SHA-1 ${sha1}, metadata hash is ${hash}`);
          if (attr(eo, 'mimeType') && d.mimeType !== attr(eo, 'mimeType')) problems.push(`document ${d.uniqueId}: mimeType ${d.mimeType}, metadata says ${attr(eo, 'mimeType')}`);
        }
      }
    }
    return problems;
  }
}

interface RetrievedDocument {
  readonly uniqueId: string;
  readonly repositoryUniqueId: string;
  readonly mimeType: string;
  readonly bytes?: Uint8Array;
}

export function retrievedDocuments(response: Pick<SoapResponse, 'body' | 'parts'>): RetrievedDocument[] {
  if (!response.body) return [];
  return childElementsOf(response.body, 'DocumentResponse').map((dr) => {
    const text = (n: string): string => {
      const e = childElementsOf(dr, n)[0];
      return e ? textOf(e) : '';
    };
    const docEl = childElementsOf(dr, 'Document')[0];
    return {
      uniqueId: text('DocumentUniqueId'),
      repositoryUniqueId: text('RepositoryUniqueId'),
      mimeType: text('mimeType'),
      bytes: docEl ? documentBytes(docEl, response.parts) : undefined,
    };
  });
}

function submitObjectsRequest(doc: Doc): Elem {
  const root = doc.documentElement as Elem;
  return localNameOf(root) === 'SubmitObjectsRequest' ? root : childElementsOf(root, 'SubmitObjectsRequest')[0] ?? root;
}

function resultDoc(response: SoapResponse): Doc | undefined {
  if (!response.body) return undefined;
  const d = new DOMImplementation().createDocument(null, 'Result', null) as unknown as Doc;
  const imported = d.importNode(response.body as never, true) as never;
  d.replaceChild(imported, d.documentElement as never);
  return d;
}

/** Appends `<TestStep id><Kind step=id><InputMetadata/><Result/></Kind></TestStep>` to the section log. */
function appendStepLog(log: Doc, stepId: string, kind: string, state?: StepState): Elem {
  const ts = log.createElement('TestStep');
  ts.setAttribute('id', stepId);
  const tx = log.createElement(kind);
  tx.setAttribute('step', stepId);
  ts.appendChild(tx);
  if (state?.patientId) {
    const p = log.createElement('AssignedPatientId');
    p.appendChild(log.createTextNode(state.patientId));
    tx.appendChild(p);
  }
  for (const [name, src] of [['InputMetadata', state?.input], ['Result', state?.result]] as const) {
    if (!src?.documentElement) continue;
    const holder = log.createElement(name);
    holder.appendChild(log.importNode(src.documentElement as never, true) as never);
    tx.appendChild(holder);
  }
  log.documentElement!.appendChild(ts);
  return ts;
}

function setStepLogStatus(stepLog: Elem, pass: boolean): void {
  stepLog.setAttribute('status', pass ? 'Pass' : 'Fail');
}

/** The testkit directory: `--testkit`, else NIST_TESTKIT_DIR, else the repository's own copy. */
export function resolveTestkitDir(dir?: string): string {
  return dir ?? process.env['NIST_TESTKIT_DIR'] ?? DEFAULT_TESTKIT_DIR;
}

/** HL7 DTM (YYYYMMDDhhmmss, UTC) as the toolkit writes times. */
function dtm(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/**
 * Tokens the toolkit fills in itself: `$DATE$` (today, YYYYMMDD), `$now$` and `$lastyear$` (DTMs
 * used as time-range bounds, e.g. 11899 FindFolders by lastUpdateTime).
 */
export function builtInTokens(now: Date): Map<string, string> {
  const lastYear = new Date(now);
  lastYear.setUTCFullYear(now.getUTCFullYear() - 1);
  return new Map([
    ['$DATE$', dtm(now).slice(0, 8)],
    ['$now$', dtm(now)],
    ['$lastyear$', dtm(lastYear)],
  ]);
}
