/** Starting and watching the measured child process (node or ceiling): its URL, its peak RSS, its end. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));

/**
 * The V8 flags `npm start` gives the node (package.json), so the measured node runs as deployed;
 * the ceiling gets them too, so both sides run on the same runtime. A 64 MB young generation:
 * a request's garbage (parsed XML, records, answer pieces) mostly dies young, and with the
 * default semi-space V8 scavenged often enough to promote some of it (BENCHMARKS.md, fourth pass).
 */
export const NODE_RUNTIME_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

export interface Child {
  readonly url: string;
  readonly pid: number;
  /**
   * Resident set size now, in bytes (Linux /proc; 0 elsewhere). Of every process of the child: a
   * multi-process node (--processes) is its primary and its workers, and so are the figures below.
   */
  rss(): number;
  /**
   * The largest resident set size the process has had, in bytes (VmHWM, kept by the kernel, so no
   * spike is missed); with several processes the sum of each one's peak (an upper bound).
   */
  peakRss(): number;
  /**
   * Starts a new high-water mark at the current RSS (Linux: `5` to /proc/PID/clear_refs), so a
   * later `peakRss` tells the peak of what ran since, not of the process's start-up.
   */
  resetPeakRss(): void;
  /** CPU time (user + system) used so far, in ms (Linux /proc; 0 elsewhere). */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** A field of /proc/PID/status given in kB, in bytes (0 where there is no /proc). */
function status(pid: number, field: string): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The child's process and its descendants (a multi-process node's workers), from /proc's parent links. */
function processTree(root: number): number[] {
  const parents = new Map<number, number>();
  try {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    return [root];
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of parents) if (ppid === tree[i]) tree.push(pid);
  return tree;
}

/** CPU time (user + system) of one process so far, in ms (0 when it is gone or there is no /proc). */
function processCpuMs(pid: number): number {
  try {
    // Fields 14 and 15 of /proc/PID/stat (after the parenthesised command name), in clock ticks of 10 ms.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

export async function startChild(args: readonly string[], options: { cpuProfileDir?: string } = {}): Promise<Child> {
  const nodeArgs = [
    ...NODE_RUNTIME_FLAGS,
    ...(options.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`]),
    '--import',
    'tsx',
    SERVER,
    ...args,
  ];
  const child: ChildProcess = spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`bench server ${args.join(' ')} exited with ${code} before listening`)));
  });
  const pid = child.pid!;
  // The processes are known once the child listens (a multi-process node has forked its workers
  // by then); `cpuMs` looks again, the 25 ms RSS samples use this list.
  let tree = processTree(pid);
  const sum = (f: (p: number) => number) => tree.reduce((n, p) => n + f(p), 0);
  return {
    url,
    pid,
    rss: () => sum((p) => status(p, 'VmRSS')),
    peakRss: () => sum((p) => status(p, 'VmHWM')),
    resetPeakRss: () => {
      for (const p of tree) {
        try {
          writeFileSync(`/proc/${p}/clear_refs`, '5');
        } catch {
          // Not Linux, or not allowed: the peak then counts from the start, which only overstates it.
        }
      }
    },
    cpuMs: () => {
      tree = processTree(pid);
      return sum(processCpuMs);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  };
}

/**
 * Samples a child's RSS every 25 ms while `work` runs; resolves to the work's result, the peak and
 * the CPU time the child used meanwhile. CPU time per request, unlike throughput, hardly depends
 * on what else the machine is running.
 */
export async function withPeakRss<T>(child: Child, work: () => Promise<T>): Promise<{ result: T; peakRss: number; cpuMs: number }> {
  let peak = child.rss();
  const cpuBefore = child.cpuMs();
  const timer = setInterval(() => {
    peak = Math.max(peak, child.rss());
  }, 25);
  try {
    const result = await work();
    peak = Math.max(peak, child.rss());
    return { result, peakRss: peak, cpuMs: child.cpuMs() - cpuBefore };
  } finally {
    clearInterval(timer);
  }
}
