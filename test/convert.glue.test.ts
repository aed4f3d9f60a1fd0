/**
 * convert --catalog glue end to end: the CLI registers partitions through @aws-sdk/client-glue over
 * HTTP in a Glue stand-in on loopback; then DuckDB answers the questions users ask, checked against
 * the generator's truth.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyDate, writeKeyDateToDirectory, type ExpectedRow, type GenerateOptions } from '../scripts/genLogs.js';
import { runCli } from './helpers/cli.js';
import { query } from './helpers/duck.js';
import { GLUE_WRITE_OPERATIONS, startGlueStandIn, type GlueStandIn } from './helpers/glueStandIn.js';

const DAYS = ['2024-06-10', '2024-06-11'];
const ENV = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
const options = (keyDate: string, seed: number): GenerateOptions => ({
  seed,
  keyDate,
  layout: 'simple',
  prefix: 'logs/',
  objects: 12,
  maxObjectBytes: 128 * 1024,
  lateFraction: 0.05,
});

async function partitionDirs(lake: string): Promise<string[]> {
  const out: string[] = [];
  for (const b of await readdir(lake)) {
    if (!b.startsWith('bucket=')) continue;
    for (const d of await readdir(join(lake, b))) out.push(`${b.slice(7)}\u0001${d.slice(3)}`);
  }
  return out.sort();
}

describe('convert --catalog glue', () => {
  let glue: GlueStandIn;
  let work: string;
  let lake: string;
  const rows: ExpectedRow[] = [];

  beforeAll(async () => {
    glue = await startGlueStandIn({ pageSize: 3 });
    work = await mkdtemp(join(tmpdir(), 's3logs-glue-'));
    lake = join(work, 'lake');
    for (const [i, day] of DAYS.entries()) {
      await writeKeyDateToDirectory(join(work, 'raw'), options(day, 30 + i));
      for (const o of generateKeyDate(options(day, 30 + i))) rows.push(...o.rows);
    }
  });
  afterAll(async () => {
    await glue?.close();
    await rm(work, { recursive: true, force: true });
  });

  const convert = (extra: string[] = []) =>
    runCli(
      [
        'convert',
        '--source',
        join(work, 'raw', 'logs/'),
        '--dest',
        lake,
        '--date',
        DAYS[0]!,
        '--to',
        DAYS[1]!,
        '--catalog',
        'glue',
        '--database',
        'logs_db',
        '--table',
        'access',
        '--endpoint-url',
        glue.endpoint,
        '--json',
        '--quiet',
        ...extra,
      ],
      ENV,
    );

  it('registers exactly the partitions that have files, with their locations, after two key dates with late records', async () => {
    const result = await convert();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const registered = glue.state.partitions.get('logs_db.access')!;
    expect([...registered.keys()].sort()).toEqual(await partitionDirs(lake));
    for (const [values, partition] of registered) {
      const [bucket, dt] = values.split('\u0001');
      expect((partition as { StorageDescriptor: { Location: string } }).StorageDescriptor.Location).toBe(
        `${lake}/bucket=${bucket}/dt=${dt}/`,
      );
    }
    const table = glue.state.tables.get('logs_db.access')!.input as { TableType: string; PartitionKeys: Array<{ Name: string }> };
    expect(table.TableType).toBe('EXTERNAL_TABLE');
    expect(table.PartitionKeys.map((k) => k.Name)).toEqual(['bucket', 'dt']);
  });

  it('a re-run makes no write calls to Glue', async () => {
    const writesBefore = glue.count(...GLUE_WRITE_OPERATIONS);
    const result = await convert();
    expect(result.code).toBe(0);
    expect(glue.count(...GLUE_WRITE_OPERATIONS)).toBe(writesBefore);
  });

  it('a throttled run still registers everything', async () => {
    glue.state.partitions.clear();
    glue.throttleNext(4);
    const result = await convert(['--table', 'access']);
    expect(result.code, result.stdout).toBe(0);
    expect([...glue.state.partitions.get('logs_db.access')!.keys()].sort()).toEqual(await partitionDirs(lake));
  });

  it('a Glue catalog the run cannot read is a setup error found before any key date publishes: exit 2, one line', async () => {
    const denied = await startGlueStandIn();
    try {
      denied.deny('GetDatabase');
      const dest = join(work, 'denied-lake');
      const result = await runCli(
        [
          'convert',
          '--source',
          join(work, 'raw', 'logs/'),
          '--dest',
          dest,
          '--date',
          DAYS[0]!,
          '--to',
          DAYS[1]!,
          '--catalog',
          'glue',
          '--endpoint-url',
          denied.endpoint,
        ],
        ENV,
      );
      expect(result.code, result.stderr).toBe(2);
      const lines = result.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.includes('NodeVersionSupportWarning') && l.startsWith('s3logs'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^s3logs convert: --catalog glue: .*GetDatabase/);
      const written = (await readdir(dest, { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile());
      expect(written).toEqual([]);
    } finally {
      await denied.close();
    }
  });

  describe('query readiness on the output (DuckDB)', () => {
    const from = () => `read_parquet('${lake}/**/*.parquet', hive_partitioning = true)`;
    const dtOf = (r: ExpectedRow) => new Date(r.requestdatetime as number).toISOString().slice(0, 10);

    it('403s by requester for a day', async () => {
      const got = await query(
        `SELECT coalesce(requester, '-') AS who, count(*) AS n FROM ${from()} WHERE dt = DATE '${DAYS[0]}' AND httpstatus = 403 GROUP BY 1`,
      );
      const want = new Map<string, number>();
      for (const r of rows)
        if (dtOf(r) === DAYS[0] && r.httpstatus === 403)
          want.set((r.requester as string | null) ?? '-', (want.get((r.requester as string | null) ?? '-') ?? 0) + 1);
      expect(want.size).toBeGreaterThan(0);
      expect(new Map(got.map((g) => [g.who as string, Number(g.n)]))).toEqual(want);
    });

    it('most requested keys, bytes sent by operation, slowest requests', async () => {
      const top = await query(`SELECT key, count(*) AS n FROM ${from()} WHERE key IS NOT NULL GROUP BY 1 ORDER BY n DESC, key LIMIT 5`);
      const counts = new Map<string, number>();
      for (const r of rows) if (r.key !== null) counts.set(r.key as string, (counts.get(r.key as string) ?? 0) + 1);
      const wantTop = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 5);
      expect(top.map((t) => [t.key, Number(t.n)])).toEqual(wantTop);

      const bytes = await query(`SELECT operation, sum(bytessent) AS b FROM ${from()} GROUP BY 1`);
      const wantBytes = new Map<string, number>();
      for (const r of rows)
        wantBytes.set(r.operation as string, (wantBytes.get(r.operation as string) ?? 0) + ((r.bytessent as number | null) ?? 0));
      expect(new Map(bytes.map((b) => [b.operation as string, Number(b.b ?? 0)]))).toEqual(wantBytes);

      const slow = await query(`SELECT totaltime FROM ${from()} WHERE totaltime IS NOT NULL ORDER BY totaltime DESC LIMIT 3`);
      const wantSlow = rows
        .map((r) => r.totaltime)
        .filter((t): t is number => t !== null)
        .sort((a, b) => b - a)
        .slice(0, 3);
      expect(slow.map((s) => s.totaltime)).toEqual(wantSlow);
    });
  });
});
