/**
 * The rewritten AWS example queries in docs/log-format.md ("Queries written for AWS's table") run as
 * written against a converted lake, and count what the generator's truth says they should: the doc's
 * SQL is extracted from the markdown, so doc and test cannot drift. DuckDB runs them with the session in
 * UTC, as Athena's is.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as DuckDB from '@duckdb/node-api';
import { requireCjs } from '../src/cjs.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyDate, writeKeyDateToDirectory, type ExpectedRow, type GenerateOptions } from '../scripts/genLogs.js';
import { duckdbView } from '../src/schema/ddl.js';
import { runCli } from './helpers/cli.js';

// By require, not import, as src/ does (src/cjs.ts): 0.25 CPU s less per test file.
const { DuckDBInstance } = requireCjs('@duckdb/node-api') as typeof DuckDB;
type DuckDBInstance = DuckDB.DuckDBInstance;

const DOC = fileURLToPath(new URL('../docs/log-format.md', import.meta.url));
const DAY = '2024-01-29';
const OPTIONS: GenerateOptions = {
  seed: 29,
  keyDate: DAY,
  layout: 'date-based',
  prefix: 'logs/',
  objects: 8,
  maxObjectBytes: 256 * 1024,
  lateFraction: 0.05,
};

/** The sql block after `<!-- query:<name> -->`. */
function docQuery(markdown: string, name: string): string {
  const m = new RegExp(`<!-- query:${name} -->\\s*\`\`\`sql\\n([\\s\\S]*?)\`\`\``).exec(markdown);
  if (!m) throw new Error(`docs/log-format.md has no query:${name}`);
  return m[1]!.replace(/^ {3}/gm, '');
}

describe('docs/log-format.md: AWS example queries rewritten for s3logs types', () => {
  let work: string;
  let markdown: string;
  let instance: DuckDBInstance;
  const rows: ExpectedRow[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 's3logs-queries-'));
    markdown = await readFile(DOC, 'utf8');
    await writeKeyDateToDirectory(join(work, 'raw'), OPTIONS);
    for (const o of generateKeyDate(OPTIONS)) rows.push(...o.rows);
    const result = await runCli([
      'convert',
      '--source',
      join(work, 'raw', 'logs/'),
      '--dest',
      join(work, 'lake'),
      '--date',
      DAY,
      '--quiet',
    ]);
    expect(result.code, result.stderr).toBe(0);
    instance = await DuckDBInstance.create(':memory:');
  }, 60_000);
  afterAll(async () => {
    instance?.closeSync();
    await rm(work, { recursive: true, force: true });
  });

  async function count(name: string): Promise<number> {
    const db = await instance.connect();
    try {
      await db.run(`SET TimeZone = 'UTC'`);
      await db.run(duckdbView({ location: join(work, 'lake') }));
      const out = (await db.runAndReadAll(docQuery(markdown, name))).getRowObjectsJS() as Array<{ n: bigint }>;
      return Number(out[0]!.n);
    } finally {
      db.closeSync();
    }
  }

  it('1. time as a timestamp, with dt for pruning', async () => {
    const from = Date.parse('2024-01-29T00:42:42Z');
    const to = Date.parse('2024-01-30T00:42:42Z');
    const want = rows.filter(
      (r) => r.operation === 'REST.GET.OBJECT' && r.requestdatetime !== null && r.requestdatetime >= from && r.requestdatetime <= to,
    ).length;
    expect(want).toBeGreaterThan(0);
    expect(await count('time')).toBe(want);
  });

  it('2. status and times as integers', async () => {
    const want = rows.filter((r) => r.httpstatus === 403 && r.totaltime !== null && r.totaltime >= 10).length;
    expect(want).toBeGreaterThan(0);
    expect(await count('integers')).toBe(want);
  });

  it('3. quoted fields without their quotes, aclrequired a boolean', async () => {
    const want = rows.filter((r) => r.useragent?.startsWith('aws-cli/') && r.aclrequired === false).length;
    expect(want).toBeGreaterThan(0);
    expect(await count('quotes')).toBe(want);
  });
});
