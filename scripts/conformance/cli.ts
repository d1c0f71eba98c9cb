/**
 * `npm run conformance -- --url http://127.0.0.1:8080 --collections R.b,SQ.b [--test 11990] [--verbose]`
 * Replays the NIST testkit plans against a running node and prints pass/fail per test plan and
 * totals per collection. Exit code 1 when any counted test did not pass, 2 on usage errors.
 */
import { parseArgs } from 'node:util';
import { type ConformanceReport, resolveTestkitDir, runCollections, type TestResult } from './runner';

const USAGE = 'usage: npm run conformance -- --url <base url> [--collections R.b,SQ.b] [--test 11990[,11991]] ' +
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
  if (!values.url) {
    console.error(`--url is required (the runner starts nothing itself)\n${USAGE}`);
    return 2;
  }
  const collections = (values.collections ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const tests = (values.test ?? []).flatMap((t) => t.split(',')).map((s) => s.trim()).filter(Boolean);
  if (collections.length === 0 && tests.length === 0) {
    console.error(`give --collections and/or --test\n${USAGE}`);
    return 2;
  }
  const verbose = values.verbose ?? false;
  const report = await runCollections({
    baseUrl: values.url,
    collections,
    tests,
    testkitDir: resolveTestkitDir(values.testkit),
    patientAuthority: values['patient-authority'],
    homeCommunityId: values.home,
    onTestDone: (t) => {
      for (const l of formatTest(t, verbose)) console.log(l);
    },
  });
  console.log('');
  for (const l of formatTotals(report)) console.log(l);
  if (values.json) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(values.json, JSON.stringify(report, null, 2));
  }
  const selected = report.tests.filter((t) => !t.prerequisiteOnly);
  return selected.some((t) => t.status === 'fail' || t.status === 'unsupported') ? 1 : 0;
}

main().then((code) => process.exit(code), (e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  process.exit(2);
});
