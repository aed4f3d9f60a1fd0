/**
 * Runs one benchmark contender as a child process and measures its wall time, CPU time and peak
 * resident memory.
 *
 * Peak RSS is the kernel's own high-water mark (VmHWM in /proc/<pid>/status), read every 50 ms while
 * the child lives: worker_threads and DuckDB's native threads share the pid, so one file covers them.
 * VmHWM only grows, so a poll misses nothing but growth in the last < 50 ms before exit.
 *
 * CPU time (user + sys of every thread of the process) is what the child's own process.cpuUsage()
 * says as it exits, reported by a preloaded script (NODE_OPTIONS --require), so it needs nothing from
 * the program measured and works for any Node program or build. The same preload names the threads
 * that run JavaScript workers; the per-thread split (main thread, JS workers, the rest: V8's GC and
 * compiler threads, libuv's I/O pool) comes from /proc/<pid>/task/<tid>/stat, read at every poll,
 * so it misses each thread's last < 50 ms.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface MeasuredRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Spawn to exit, as a user timing the command would see it (includes Node start-up). */
  seconds: number;
  /** Highest VmHWM (or VmRSS) seen, in bytes; 0 when /proc is not available (not Linux). */
  peakRssBytes: number;
  /** user + sys seconds of the whole process (all threads); NaN when the child did not report it. */
  cpuSeconds: number;
  /** The same split by thread (from /proc; 0 each when it is not there). */
  cpuByThread: { main: number; workers: number; other: number };
  stdout: string;
  stderr: string;
}

const POLL_MS = 50;
/** Enough stderr to explain a failure without holding a chatty child's whole output. */
const STDERR_LIMIT = 64 * 1024;

/** Peak resident bytes of a live process so far, or 0 when it has gone or /proc is absent. */
export function readPeakRss(pid: number): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return 0;
  }
  let peak = 0;
  for (const field of ['VmHWM', 'VmRSS']) {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (m) peak = Math.max(peak, Number(m[1]) * 1024);
  }
  return peak;
}

const TICKS_PER_SECOND = 100;

/** user + sys clock ticks of each thread of a live process, by thread id. */
function readThreadTicks(pid: number, into: Map<number, number>): void {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
      // Fields after the command name (which may hold spaces) start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      into.set(Number(tid), Number(fields[11]) + Number(fields[12]));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
}

/** Preloaded into the child: its CPU time at exit, and which threads run JavaScript workers. */
const PRELOAD = `const { isMainThread } = require('node:worker_threads');
const fs = require('node:fs');
const out = process.env.S3LOGS_BENCH_CPU_FILE;
if (out) {
  if (isMainThread) {
    process.on('exit', () => {
      const u = process.cpuUsage();
      fs.appendFileSync(out, JSON.stringify({ cpu: (u.user + u.system) / 1e6 }) + '\\n');
    });
  } else {
    try { fs.appendFileSync(out, JSON.stringify({ worker: Number(fs.readlinkSync('/proc/thread-self').split('/').pop()) }) + '\\n'); } catch {}
  }
}
`;

/** Spawns `command args` (never through a shell, so the pid is the measured process itself). */
export function runMeasured(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<MeasuredRun> {
  const dir = mkdtempSync(join(tmpdir(), 's3logs-bench-'));
  const preload = join(dir, 'cpu.cjs');
  const report = join(dir, 'cpu.jsonl');
  writeFileSync(preload, PRELOAD);
  const env = { ...(options.env ?? process.env) };
  env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require ${preload}`.trim();
  env.S3LOGS_BENCH_CPU_FILE = report;
  return new Promise<MeasuredRun>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let peak = 0;
    let stdout = '';
    let stderr = '';
    const ticks = new Map<number, number>();
    const poll = (): void => {
      if (child.pid === undefined) return;
      peak = Math.max(peak, readPeakRss(child.pid));
      readThreadTicks(child.pid, ticks);
    };
    const timer = setInterval(poll, POLL_MS);
    poll();
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < STDERR_LIMIT) stderr += chunk.slice(0, STDERR_LIMIT - stderr.length);
    });
    child.on('error', (error) => {
      clearInterval(timer);
      reject(error);
    });
    let ended = 0;
    child.on('exit', () => {
      ended = performance.now();
      clearInterval(timer);
    });
    // 'close' comes after 'exit' once stdout is drained; the clock stopped at 'exit'.
    child.on('close', (code, signal) => {
      clearInterval(timer);
      let text = '';
      try {
        text = readFileSync(report, 'utf8');
      } catch {
        // The child died before its exit handler ran: no CPU figure.
      }
      const lines = text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { cpu?: number; worker?: number });
      const cpuSeconds = lines.find((l) => l.cpu !== undefined)?.cpu ?? NaN;
      const workers = new Set(lines.flatMap((l) => (l.worker === undefined ? [] : [l.worker])));
      const cpuByThread = { main: 0, workers: 0, other: 0 };
      for (const [tid, t] of ticks) {
        const seconds = t / TICKS_PER_SECOND;
        if (tid === child.pid) cpuByThread.main += seconds;
        else if (workers.has(tid)) cpuByThread.workers += seconds;
        else cpuByThread.other += seconds;
      }
      resolve({
        code,
        signal,
        seconds: ((ended || performance.now()) - started) / 1000,
        peakRssBytes: peak,
        cpuSeconds,
        cpuByThread,
        stdout,
        stderr,
      });
    });
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}
