/**
 * Runs one benchmark contender as a child process and measures its wall time and peak resident memory.
 *
 * Peak RSS is the kernel's own high-water mark (VmHWM in /proc/<pid>/status), read every 50 ms while
 * the child lives: worker_threads and DuckDB's native threads share the pid, so one file covers them.
 * VmHWM only grows, so a poll misses nothing but growth in the last < 50 ms before exit.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface MeasuredRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Spawn to exit, as a user timing the command would see it (includes Node start-up). */
  seconds: number;
  /** Highest VmHWM (or VmRSS) seen, in bytes; 0 when /proc is not available (not Linux). */
  peakRssBytes: number;
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

/** Spawns `command args` (never through a shell, so the pid is the measured process itself). */
export function runMeasured(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<MeasuredRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let peak = 0;
    let stdout = '';
    let stderr = '';
    const poll = (): void => {
      if (child.pid !== undefined) peak = Math.max(peak, readPeakRss(child.pid));
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
      resolve({ code, signal, seconds: ((ended || performance.now()) - started) / 1000, peakRssBytes: peak, stdout, stderr });
    });
  });
}
