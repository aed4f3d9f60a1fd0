/** SIGKILL at random moments (test/randomKill*.test.ts): seeded moments, a killed run, what a lake must not hold. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from './backends.js';
import { type CliResult, runCli } from './cli.js';

/** mulberry32: the kill moments are the same on every run of the suite (as shares of the clean run's time). */
export function shares(seed: number, count: number): number[] {
  let a = seed >>> 0;
  return Array.from({ length: count }, () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  });
}

/**
 * The kill moments of a random-kill test: `count` seeded shares, or S3LOGS_KILLS moments from
 * S3LOGS_KILL_SEED when set (`S3LOGS_KILLS=60 S3LOGS_KILL_SEED=$RANDOM npx vitest run test/randomKill`:
 * many more moments than the suite's, at other places). `seeded`: the suite's own moments, whose share
 * of kills (rather than runs that finished first) each test can count on.
 */
export function killMoments(seed: number, count: number): { moments: number[]; seeded: boolean } {
  const envSeed = process.env.S3LOGS_KILL_SEED;
  const envCount = Number(process.env.S3LOGS_KILLS);
  const n = Number.isSafeInteger(envCount) && envCount > 0 ? envCount : count;
  return { moments: shares(envSeed ? Number(envSeed) : seed, n), seeded: !envSeed && n === count };
}

/** The CLI, SIGKILLed after `ms` unless it has finished by then. */
export function runKilledAfter(args: string[], ms: number, env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, env, ms);
}

/** What a lake holds besides its data: leftovers of an interrupted run, and catalog entries of missing files. */
export function leftoversOf(files: ReadonlyMap<string, string>): string[] {
  return [...files.keys()].filter(
    (k) =>
      k.includes('/staging/') ||
      /publish-[^/]+\.json$/.test(k) ||
      /lock[^/]*\.json$/.test(k) ||
      k.endsWith('.staged') ||
      k.includes('/shards/') ||
      /(^|\/)\.[^/]*\.s3logs-(tmp|cas)$/.test(k),
  );
}

export async function catalogMissing(
  dir: string,
  files: ReadonlyMap<string, string>,
): Promise<{ partitions: string[]; missing: string[] }> {
  const catalog = JSON.parse(await readFile(join(dir, '_s3logs', 'catalog.json'), 'utf8')) as {
    partitions: Record<string, { contributions: Record<string, { files: string[] }> }>;
  };
  const listed = Object.values(catalog.partitions).flatMap((p) => Object.values(p.contributions).flatMap((c) => c.files));
  return { partitions: Object.keys(catalog.partitions).sort(), missing: listed.filter((f) => !files.has(f)) };
}

/** A lake as the random-kill tests compare it: data files with their hashes, leftovers, and catalog entries of missing files. */
export async function lakeState(backend: Backend, dest: string) {
  const snap = await backend.snapshot(dest);
  const data = [...snap.files].filter(([k]) => k.endsWith('.parquet') || k.endsWith('.jsonl')).sort();
  return { dir: snap.dir, data, leftovers: leftoversOf(snap.files), ...(await catalogMissing(snap.dir, snap.files)) };
}
