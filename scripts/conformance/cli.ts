/**
 * `npm run conformance [-- --collections R.b,SQ.b] [--test 11990] [--verbose] [--url http://host:port]`
 * Replays the NIST testkit plans and prints pass/fail per test plan and totals per collection.
 * Without --url it starts a node of its own (empty embedded store, the testkit's patient
 * authority accepted) and stops it afterwards. Collections whose SUT is an initiating gateway
 * (ig(xca), ig(xca)_ad) run in their own environment: responding-gateway nodes loaded with the
 * plans' data and a SUT node whose community directory lists them (environment.ts). Exit code 1 when any counted test did not pass,
 * 2 on usage errors.
 */
import { parseArgs } from 'node:util';
import { orchestrationFor, startGatewayEnvironment, type GatewayOrchestration } from './environment.js';
import { startConformanceNode } from './node.js';
import { MPQ_COLLECTION, mpqRunOptions } from './mpq.js';
import { readTestInfo } from './plan.js';
import { type ConformanceReport, resolveTestkitDir, runCollections, type RunOptions, type TestResult } from './runner.js';

/** The collections the node claims today; the default when neither --collections nor --test is given. */
export const DEFAULT_COLLECTIONS = ['R.b', 'SQ.b', 'PR.b', 'Ret.b'];

const USAGE = 'usage: npm run conformance -- [--url <base url>] [--collections R.b,SQ.b] [--test 11990[,11991]] ' +
  '[--testkit <dir>] [--patient-authority <oid>] [--home <homeCommunityId>] [--json <file>] [--verbose]';

function formatTest(t: TestResult, verbose: boolean): string[] {
  const mark = { pass: 'PASS', fail: 'FAIL', unsupported: 'UNSUP', excluded: 'EXCL' }[t.status];
  const out = [`${mark.padEnd(5)} ${t.test.padEnd(14)} ${t.title}${t.prerequisiteOnly ? ' (prerequisite)' : ''}${t.reason ? ` — ${t.reason}` : ''}`];
  for (const s of t.sections) {
    for (const st of s.steps) {
      if (!verbose && (st.status === 'pass' || st.status === 'local' || st.status === 'not-run')) continue;
      out.push(`        ${s.section || '.'}/${st.step} [${st.transaction ?? 'no transaction'}] ${st.status}`);
      for (const r of st.reasons) out.push(`            ${r}`);
    }
  }
  return out;
}

export function formatTotals(report: ConformanceReport): string[] {
  const rows = report.totals.map((c) => [c.collection, String(c.passed), String(c.applicable), String(c.excluded)]);
  const header = ['collection', 'passed', 'applicable', 'excluded'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      collections: { type: 'string' },
      test: { type: 'string', multiple: true },
      testkit: { type: 'string' },
      'patient-authority': { type: 'string' },
      home: { type: 'string' },
      json: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const tests = (values.test ?? []).flatMap((t) => t.split(',')).map((s) => s.trim()).filter(Boolean);
  let collections = (values.collections ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (collections.length === 0 && tests.length === 0) collections = DEFAULT_COLLECTIONS;
  const verbose = values.verbose ?? false;
  const testkitDir = resolveTestkitDir(values.testkit);
  const onTestDone = (t: TestResult): void => {
    for (const l of formatTest(t, verbose)) console.log(l);
  };
  // One session per environment: the same loader (12318) means data in the SUT for rg(xca) and
  // data in a responding community for ig(xca).
  const groups = new Map<GatewayOrchestration | undefined, { collections: string[]; tests: string[] }>();
  const group = (o: GatewayOrchestration | undefined): { collections: string[]; tests: string[] } => {
    let g = groups.get(o);
    if (!g) groups.set(o, (g = { collections: [], tests: [] }));
    return g;
  };
  // reg_mpq runs alone on a node of its own (scripts/conformance/mpq.ts says why).
  const mpq = collections.includes(MPQ_COLLECTION);
  for (const c of collections) if (c !== MPQ_COLLECTION) group(orchestrationFor(c)).collections.push(c);
  for (const t of tests) group(readTestInfo(testkitDir, t).collections.map(orchestrationFor).find((o) => o !== undefined)).tests.push(t);
  if (values.url && [...groups.keys()].some((o) => o !== undefined)) {
    console.error('the initiating-gateway collections need an environment the runner builds around its own SUT node; run them without --url');
    return 2;
  }
  const reports: ConformanceReport[] = [];
  for (const [orchestration, g] of groups) {
    const common = { collections: g.collections, tests: g.tests, testkitDir, patientAuthority: values['patient-authority'], onTestDone };
    if (orchestration) {
      const env = await startGatewayEnvironment(orchestration);
      console.log(`started an initiating-gateway environment: SUT ${env.sut.url}, ${env.communities.map((c) => `${c.spec.name} ${c.node.url}`).join(', ')}`);
      try {
        reports.push(await runCollections({ ...common, ...env.runOptions() }));
      } finally {
        await env.close();
      }
      continue;
    }
    const node = values.url ? undefined : await startConformanceNode();
    const baseUrl = values.url ?? node!.url;
    if (node) console.log(`started a node for the run at ${baseUrl}`);
    try {
      const options: RunOptions = { ...common, baseUrl, homeCommunityId: values.home ?? node?.config.homeCommunityId };
      reports.push(await runCollections(options));
    } finally {
      await node?.close();
    }
  }
  if (mpq) {
    if (values.url) console.warn(`${MPQ_COLLECTION} against --url: its queries without a patient id count every document the node holds; the plan expects an empty registry before 12361`);
    const node = values.url ? undefined : await startConformanceNode();
    const baseUrl = values.url ?? node!.url;
    try {
      reports.push(
        await runCollections({
          collections: [MPQ_COLLECTION], tests: [], testkitDir, patientAuthority: values['patient-authority'], onTestDone,
          baseUrl, homeCommunityId: values.home ?? node?.config.homeCommunityId, ...mpqRunOptions(),
        }),
      );
    } finally {
      await node?.close();
    }
  }
  const report = mergeReports(reports, collections);
  console.log('');
  for (const l of formatTotals(report)) console.log(l);
  if (values.json) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(values.json, JSON.stringify(report, null, 2));
  }
  const selected = report.tests.filter((t) => !t.prerequisiteOnly);
  return selected.some((t) => t.status === 'fail' || t.status === 'unsupported') ? 1 : 0;
}

function mergeReports(reports: readonly ConformanceReport[], collections: readonly string[]): ConformanceReport {
  const totals = reports.flatMap((r) => r.totals);
  const order = (c: string): number => (collections.includes(c) ? collections.indexOf(c) : collections.length);
  return {
    baseUrl: reports.map((r) => r.baseUrl).join(', '),
    startedAt: reports[0]?.startedAt ?? new Date().toISOString(),
    finishedAt: reports.at(-1)?.finishedAt ?? new Date().toISOString(),
    tests: reports.flatMap((r) => r.tests),
    totals: [...totals].sort((a, b) => order(a.collection) - order(b.collection)),
  };
}

main().then((code) => process.exit(code), (e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  process.exit(2);
});
