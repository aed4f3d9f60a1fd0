/** Runs the built CLI (dist/, made by `npm test`'s build step) as a user would, capturing its output. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../bin/s3logs.js', import.meta.url));

export interface CliResult {
  code: number | null;
  /** Set when the process was killed by a signal. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `killAfterMs`: SIGKILL the process then unless it has finished (test/helpers/kills.ts). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, killAfterMs?: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
