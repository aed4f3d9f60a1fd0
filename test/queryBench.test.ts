/**
 * `npm run bench:query` at a tiny size: it runs end to end, the lakes hold the same rows, and the
 * objects it says a query read are the files DuckDB had to open (checked against the lake on disk).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../dist/scripts/benchQuery.js', import.meta.url));

interface Results {
  corpus: { objects: number; keyDates: string[] };
  lakes: Array<{ id: string; rows: number; objects: number; partitions: number; missing?: string }>;
  groups: Array<{ group: string; cells: Record<string, { objects: number }> }>;
  queries: Record<string, Array<{ query: string; objects: number; rows: number }>>;
  sql: Record<string, string>;
}

let dir: string;
let stdout = '';
let code: number | null;
let stderr = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3logs-benchq-'));
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, '--days', '2', '--mb', '1', '--runs', '1', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (c) => {
      code = c;
      resolve();
    });
  });
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('times every query on every lake and counts the objects each one reads', async () => {
  expect(code, stderr).toBe(0);
  const results = JSON.parse(await readFile(join(dir, 'query-results.json'), 'utf8')) as Results;
  const lake = (id: string) => results.lakes.find((l) => l.id === id)!;
  // The converted lake and DuckDB's copy of it hold the same rows; read_csv reads every raw object.
  expect(lake('a').rows).toBeGreaterThan(1000);
  expect(lake('c').rows).toBe(lake('a').rows);
  expect(lake('b').missing === 'compact not available' || lake('b').rows === lake('a').rows).toBe(true);
  expect(lake('d').objects).toBe(results.corpus.objects);
  for (const q of results.queries.d!)
    expect({ q: q.query, objects: q.objects % results.corpus.objects }).toEqual({ q: q.query, objects: 0 });
  // The one-hour query names one dt: DuckDB opens that day's files and no others.
  const day = /dt = '(\d{4}-\d{2}-\d{2})'/.exec(results.sql.one_hour!)![1]!;
  const dayFiles = (await readdir(join(dir, 'query-run-2d-1mb-seed1', 'a-converted'), { recursive: true })).filter(
    (p) => p.endsWith('.parquet') && p.includes(`dt=${day}`),
  );
  const allFiles = (await readdir(join(dir, 'query-run-2d-1mb-seed1', 'a-converted'), { recursive: true })).filter((p) =>
    p.endsWith('.parquet'),
  );
  expect(dayFiles.length).toBeLessThan(allFiles.length);
  expect(results.queries.a!.find((q) => q.query === 'one_hour')!.objects).toBe(dayFiles.length);
  // The lookup finds its request on every lake.
  for (const id of ['a', 'c', 'd'])
    expect(results.queries[id]!.find((q) => q.query === 'requestid_lookup')!.rows).toBeGreaterThanOrEqual(1);
  // The table names every group and every lake.
  for (const g of [
    'security (7 queries)',
    'usage (6 queries)',
    'cost (6 queries)',
    'operations (6 queries)',
    'point lookup by requestid',
    'one hour (dt + time range)',
  ])
    expect(stdout).toContain(`| ${g} |`);
  expect(stdout).toContain('(b) + s3logs compact');
});

/** Runs the script to its end: exit code, stdout, stderr. */
function runScript(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
}

it('--queries times only the named queries, one row each, and names the known ids when one is not', async () => {
  const wrong = await runScript(['--queries', 'one_hour,no_such_query', '--dir', join(dir, 'unused')]);
  expect(wrong.code).toBe(2);
  expect(wrong.stderr).toMatch(/--queries takes a comma-separated list of .*one_hour.*count_star.*; unknown: no_such_query/);
  await expect(readdir(join(dir, 'unused'))).rejects.toMatchObject({ code: 'ENOENT' });

  const some = await runScript(['--days', '1', '--mb', '1', '--runs', '2', '--queries', 'one_hour,count_star', '--dir', join(dir, 'some')]);
  expect(some.code, some.stderr).toBe(0);
  const results = JSON.parse(await readFile(join(dir, 'some', 'query-results.json'), 'utf8')) as Results;
  for (const id of ['a', 'b', 'c', 'd']) expect(results.queries[id]!.map((q) => q.query)).toEqual(['one_hour', 'count_star']);
  expect(Object.keys(results.sql)).toEqual(['one_hour', 'count_star']);
  expect(some.stdout).toMatch(/\| one_hour \| [\d.]+ ms \| [\d.]+ ms \| [\d.]+ ms \| [\d.]+ ms \|/);
  expect(some.stdout).toMatch(/\| count_star \| [\d.]+ ms/);
  expect(some.stdout).not.toContain('| security_summary |');
}, 60_000);
