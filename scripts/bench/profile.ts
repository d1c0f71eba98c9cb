/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per area of the
 * code (our layers, the libraries), and inclusive time per function (the samples whose stack
 * holds it), so a profile can be read in a terminal and quoted in BENCHMARKS.md. A window (µs of
 * the monotonic clock the profile's timestamps use: `process.hrtime` on Linux) keeps only the
 * samples of the load run, without the process's start-up (with fhir.enabled, reading the FHIR
 * definitions takes seconds). Usage: tsx scripts/bench/profile.ts FILE.cpuprofile [top]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  /** µs, monotonic clock. */
  readonly startTime?: number;
  readonly endTime?: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Samples taken from `fromUs` to `toUs` (the profile's clock, µs). */
export interface ProfileWindow {
  readonly fromUs: number;
  readonly toUs: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** The window's length, when the summary is of one (ms); `totalMs` is what was sampled in it. */
  readonly windowMs?: number;
  readonly byArea: readonly { area: string; ms: number; share: number }[];
  readonly byFunction: readonly { fn: string; area: string; ms: number; share: number }[];
  /** Time of the samples whose stack holds the function (each counted once per sample, recursion or not). */
  readonly byFunctionInclusive: readonly { fn: string; area: string; ms: number; share: number }[];
}

/** Where the profile's clock stands now, µs (`process.hrtime`: CLOCK_MONOTONIC on Linux, as V8's profiler). */
export function profileClockUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** The area a source URL belongs to: a project directory (registry/store …) or a package. */
export function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(registry|connector|repository|scripts)\/([^/]+)/.exec(url);
  if (own) return `${own[1]}/${own[2]!.replace(/\.ts$/, '')}`;
  if (url.startsWith('node:')) return url;
  return url.replace(/^.*\//, '');
}

export function summarise(profile: CpuProfile, window?: ProfileWindow): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  // Sample i is taken at startTime + the deltas up to i.
  let at = profile.startTime ?? 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window !== undefined && (at < window.fromUs || at > window.toUs)) return;
    self.set(id, (self.get(id) ?? 0) + delta);
  });
  let total = 0;
  const areas = new Map<string, number>();
  const fns = new Map<string, { area: string; us: number }>();
  const inclusive = new Map<string, { area: string; us: number }>();
  const keyOf = (node: ProfileNode) => `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/^.*\/(node_modules\/)?/, '')}:${node.callFrame.lineNumber + 1}`;
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (node === undefined) continue;
    total += us;
    const { functionName, url } = node.callFrame;
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const key = keyOf(node);
    const f = fns.get(key) ?? { area, us: 0 };
    f.us += us;
    fns.set(key, f);
    const seen = new Set<string>();
    for (let n: ProfileNode | undefined = node; n !== undefined; n = byId.get(parent.get(n.id) ?? -1)) {
      const k = keyOf(n);
      if (seen.has(k)) continue;
      seen.add(k);
      const g = inclusive.get(k) ?? { area: areaOf(n.callFrame.url, n.callFrame.functionName), us: 0 };
      g.us += us;
      inclusive.set(k, g);
    }
  }
  const share = (us: number) => (total === 0 ? 0 : us / total);
  const ranked = (m: Map<string, { area: string; us: number }>) =>
    [...m].map(([fn, f]) => ({ fn, area: f.area, ms: f.us / 1000, share: share(f.us) })).sort((a, b) => b.ms - a.ms);
  return {
    totalMs: total / 1000,
    ...(window === undefined ? {} : { windowMs: (window.toUs - window.fromUs) / 1000 }),
    byArea: [...areas].map(([area, us]) => ({ area, ms: us / 1000, share: share(us) })).sort((a, b) => b.ms - a.ms),
    byFunction: ranked(fns),
    // The root and the event loop's own frames hold every sample: left out.
    byFunctionInclusive: ranked(inclusive).filter((f) => !/^\((root|program|idle|garbage collector)\) /.test(f.fn)),
  };
}

export function formatSummary(s: ProfileSummary, top = 15): string {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)} %`;
  return [
    `total ${s.totalMs.toFixed(0)} ms sampled${s.windowMs === undefined ? '' : ` in the load run's ${(s.windowMs / 1000).toFixed(1)} s (start-up left out)`}`,
    'by area (self time):',
    ...s.byArea.slice(0, top).map((a) => `  ${pct(a.share)}  ${a.area}`),
    'by function (self time):',
    ...s.byFunction.slice(0, top).map((f) => `  ${pct(f.share)}  ${f.fn}`),
    'by function (inclusive: samples whose stack holds it; after an await, under the async function resumed):',
    ...s.byFunctionInclusive.slice(0, top).map((f) => `  ${pct(f.share)}  ${f.fn}`),
  ].join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: tsx scripts/bench/profile.ts FILE.cpuprofile [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${formatSummary(summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile), Number(process.argv[3] ?? 15))}\n`);
}
