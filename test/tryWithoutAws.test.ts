/**
 * docs/try-without-aws.md runs as written: the shell block between its recipe markers is executed by
 * bash, so the doc and this test cannot drift. Three things differ from a user's terminal, all outside
 * the recipe's own lines: PORT is a free port picked here, WORK a temp directory, and `npx` is a shell
 * function that runs the same local bin npx resolves for `npx s3logs` (bin/s3logs.js) without npm's ~3 s
 * start-up per call. Nothing else is changed, and AWS_* variables are removed from the
 * environment so the recipe has to set what it needs itself.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { athenaProjectionProblems, tblProperties } from './helpers/athenaProjection.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const DOC = join(REPO, 'docs', 'try-without-aws.md');

/** The sh block between `<!-- recipe:start -->` and `<!-- recipe:end -->`. */
function recipeOf(markdown: string): string {
  const m = /<!-- recipe:start -->\s*```sh\n([\s\S]*?)```\s*<!-- recipe:end -->/.exec(markdown);
  if (!m) throw new Error('docs/try-without-aws.md has no recipe block');
  return m[1]!;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('docs/try-without-aws.md', () => {
  let work: string;
  let result: { code: number | null; stdout: string; stderr: string };
  let recipe: string;
  let port: number;
  let serverLeft: boolean;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 's3logs-try-'));
    recipe = recipeOf(await readFile(DOC, 'utf8'));
    port = await freePort();
    for (const line of ['PORT=4568', 'WORK=./s3logs-try']) expect(recipe.split('\n')).toContain(line);
    const script = [
      'set -euo pipefail',
      `npx() { case "$1" in s3logs) shift; node ${JSON.stringify(join(REPO, 'bin', 's3logs.js'))} "$@";; ` +
        `*) echo "unexpected npx $1" >&2; return 127;; esac; }`,
      recipe.replace(/^PORT=4568$/m, `PORT=${port}`).replace(/^WORK=\.\/s3logs-try$/m, `WORK=${JSON.stringify(work)}`),
    ].join('\n');
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && k !== 'NODE_OPTIONS'));
    const child = spawn('bash', ['-c', script], {
      cwd: REPO,
      env: { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_EC2_METADATA_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(killGroup, 50_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    // Whether the recipe's own trap stopped the server: probed after bash exits, before any cleanup here.
    await new Promise((resolve) => setTimeout(resolve, 300));
    serverLeft = await fetch(`http://127.0.0.1:${port}`).then(
      () => true,
      () => false,
    );
    killGroup();
    await closed;
    result = { code, stdout, stderr };
  }, 60_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('runs to the end', () => {
    expect(result.code, result.stderr.slice(-3000)).toBe(0);
  });

  it('converts into the local S3 server, reports from s3:// and prints projection DDL for the lake', async () => {
    const lake = join(work, 's3', 'lake', 'access-logs');
    const buckets = (await readdir(lake))
      .filter((d) => d.startsWith('bucket='))
      .map((d) => d.slice(7))
      .sort();
    expect(buckets.length).toBeGreaterThan(0);
    for (const b of buckets) expect(await readdir(join(lake, `bucket=${b}`))).toContain('dt=2024-01-29');
    const html = await readFile(join(work, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('2024-01-29');
    const props = tblProperties(result.stdout);
    expect(athenaProjectionProblems(props, ['bucket', 'dt'])).toEqual([]);
    expect(props['projection.bucket.values']).toBe(buckets.join(','));
    expect(props['storage.location.template']).toBe('s3://lake/access-logs/bucket=${bucket}/dt=${dt}/');
  });

  it('stops the S3 server it started', () => {
    // The recipe's trap kills $S3RVER_PID when the script exits; nothing may still listen on the port.
    expect(serverLeft).toBe(false);
  });

  it('queries the lake on s3://: one CSV row per bucket the lake holds, every row of the lake counted', async () => {
    const lake = join(work, 's3', 'lake', 'access-logs');
    const buckets = (await readdir(lake))
      .filter((d) => d.startsWith('bucket='))
      .map((d) => d.slice(7))
      .sort();
    const lines = (await readFile(join(work, 'requests.csv'), 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('bucket,requests,denied');
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.map((r) => r[0])).toEqual(buckets);
    for (const r of rows) expect(Number(r[1])).toBeGreaterThan(Number(r[2]));
    // The demo's own summary line counts the rows it converted from the same seeded sample.
    const converted = /(\d[\d,]*) rows/.exec(result.stderr)?.[1];
    expect(converted, result.stderr.slice(-2000)).toBeDefined();
    expect(rows.reduce((sum, r) => sum + Number(r[1]), 0)).toBe(Number(converted!.replace(/,/g, '')));
  });
});
