/**
 * `s3logs query` on a lake converted from seeded logs: results checked against the generator's truth
 * rows (computed here in TypeScript), range pruning counted by DuckDB itself (EXPLAIN ANALYZE) on the
 * local store and by the GET requests that reach the local S3 server, the three output formats, errors
 * and exit codes, SQL from stdin and --file, and the demo's last step.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyDate, type ExpectedRow } from '../scripts/genLogs.js';
import { convert } from '../src/commands/convert.js';
import { pickFormat, queryLake, runQuery, type QueryStats } from '../src/commands/query.js';
import { csvField, isoFromMicros, type OutputFormat } from '../src/commands/queryOutput.js';
import { parseConvertConfig } from '../src/config.js';
import { ConfigError, QueryError } from '../src/errors.js';
import { CLI, runCli, type CliResult } from './helpers/cli.js';
import { startFaultProxy, type FaultProxy } from './helpers/faultProxy.js';
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from './helpers/s3Server.js';

const KEY_DATES = ['2024-03-01', '2024-03-02', '2024-03-03'];
let work: string;
let lake: string;
const truth: Array<ExpectedRow & { dt: string }> = [];

/** Runs the CLI with `input` on its stdin. */
function runWithStdin(args: string[], input: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** queryLake in this process, its output collected. */
async function run(
  sql: string,
  format: OutputFormat,
  days?: string[],
  dest = lake,
  aws = {},
): Promise<{ text: string; stats: QueryStats }> {
  let text = '';
  const stats = await queryLake({
    dest,
    ...(days ? { days } : {}),
    sql,
    format,
    store: { aws },
    out: { write: async (t) => void (text += t) },
  });
  return { text, stats };
}

const jsonLines = (text: string): Array<Record<string, unknown>> =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function parquetFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).filter((p) => p.endsWith('.parquet')).map((p) => p.split('\\').join('/'));
}

/** Rows per bucket and dt, and their bytes sent, from the truth: what the grouped query must return. */
function expectedGroups(days: readonly string[]): Array<Record<string, unknown>> {
  const groups = new Map<string, { bucket: string; dt: string; n: number; sent: number }>();
  for (const row of truth.filter((r) => days.includes(r.dt))) {
    const key = `${row.bucket_name}|${row.dt}`;
    const g = groups.get(key) ?? { bucket: row.bucket_name!, dt: row.dt, n: 0, sent: 0 };
    g.n += 1;
    g.sent += row.bytessent ?? 0;
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => (a.bucket + a.dt < b.bucket + b.dt ? -1 : 1));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 's3logs-query-'));
  lake = join(work, 'lake');
  for (const [i, keyDate] of KEY_DATES.entries()) {
    for (const o of generateKeyDate({
      seed: 71 + i,
      keyDate,
      layout: 'date-based',
      prefix: 'logs/',
      objects: 10,
      minObjectBytes: 20_000,
      maxObjectBytes: 80_000,
    })) {
      const path = join(work, 'raw', ...o.key.split('/'));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, o.body);
      truth.push(...o.rows.map((r) => ({ ...r, dt: new Date(r.requestdatetime!).toISOString().slice(0, 10) })));
    }
  }
  const summary = await convert(
    parseConvertConfig([
      '--source',
      join(work, 'raw', 'logs') + '/',
      '--dest',
      lake,
      '--date',
      KEY_DATES[0]!,
      '--to',
      KEY_DATES[2]!,
      '--quiet',
    ]),
  );
  expect(summary.ok).toBe(true);
}, 60_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('s3logs query (local store)', () => {
  it('answers from the range only, with the generator truth', async () => {
    const days = ['2024-03-02', '2024-03-03'];
    // Late records put rows into days before the range: they exist and must not be read.
    expect(truth.some((r) => r.dt < '2024-03-02')).toBe(true);
    const { text } = await run(
      'SELECT bucket, dt, count(*) AS n, COALESCE(sum(bytessent), 0) AS sent FROM access_logs GROUP BY ALL ORDER BY bucket, dt',
      'json',
      days,
    );
    expect(jsonLines(text)).toEqual(expectedGroups(days));
    // Without a range every partition is read.
    const all = await run('SELECT count(*) AS n, min(dt) AS first_dt FROM access_logs', 'json');
    const earliest = truth.map((r) => r.dt).sort()[0];
    expect(jsonLines(all.text)).toEqual([{ n: truth.length, first_dt: earliest }]);
  });

  it('reads only the files of the range: DuckDB counts them (EXPLAIN ANALYZE)', async () => {
    const files = await parquetFiles(lake);
    const inRange = files.filter((p) => /\/dt=2024-03-0[23]\//.test(p));
    expect(inRange.length).toBeGreaterThan(0);
    expect(inRange.length).toBeLessThan(files.length);
    const filesRead = async (days?: string[]): Promise<number> => {
      const { text, stats } = await run('EXPLAIN ANALYZE SELECT count(*) FROM access_logs', 'json', days);
      const plan = jsonLines(text)
        .map((r) => Object.values(r).join('\n'))
        .join('\n');
      const counts = [...plan.matchAll(/Total Files Read: (\d+)/g)].map((m) => Number(m[1]));
      expect(counts.length).toBe(1);
      expect(stats.files).toBe(counts[0]);
      return counts[0]!;
    };
    expect(await filesRead(['2024-03-02', '2024-03-03'])).toBe(inRange.length);
    expect(await filesRead()).toBe(files.length);
  });

  it('gives dt as a DATE and bucket as VARCHAR, and an empty range an empty table of the schema', async () => {
    const { text } = await run(
      "SELECT typeof(dt) AS dt_type, typeof(bucket) AS bucket_type, typeof(requestdatetime) AS t FROM access_logs WHERE dt BETWEEN DATE '2024-03-02' AND current_date - 1 LIMIT 1",
      'json',
      ['2024-03-02'],
    );
    expect(jsonLines(text)).toEqual([{ dt_type: 'DATE', bucket_type: 'VARCHAR', t: 'TIMESTAMP WITH TIME ZONE' }]);
    const empty = await run('SELECT count(*) AS n, count(DISTINCT requestid) AS ids FROM access_logs', 'json', ['2020-01-01']);
    expect([jsonLines(empty.text), empty.stats.files]).toEqual([[{ n: 0, ids: 0 }], 0]);
  });

  it('json: JSON Lines, timestamps ISO-8601 UTC, integers numbers while exact, nested values as JSON', async () => {
    const first = truth
      .filter((r) => r.dt === '2024-03-02')
      .sort((a, b) => a.requestdatetime! - b.requestdatetime! || (a.requestid! < b.requestid! ? -1 : 1))[0]!;
    const { text } = await run(
      `SELECT requestid, requestdatetime, bytessent, objectsize, aclrequired, 9007199254740993::BIGINT AS big, 12::HUGEINT AS huge, 1.25 AS dec,
         [1, 2] AS list, {'k': 'v'} AS struct, NULL AS nothing
       FROM access_logs ORDER BY requestdatetime, requestid LIMIT 1`,
      'json',
      ['2024-03-02'],
    );
    expect(text.endsWith('\n') && text.split('\n').length === 2).toBe(true);
    expect(jsonLines(text)).toEqual([
      {
        requestid: first.requestid,
        requestdatetime: new Date(first.requestdatetime!).toISOString().replace('.000Z', 'Z'),
        bytessent: first.bytessent,
        objectsize: first.objectsize,
        aclrequired: first.aclrequired,
        big: '9007199254740993',
        huge: 12,
        dec: 1.25,
        list: [1, 2],
        struct: { k: 'v' },
        nothing: null,
      },
    ]);
    expect([
      isoFromMicros(1_706_522_400_000_000n),
      isoFromMicros(1_706_522_400_123_000n),
      isoFromMicros(1_706_522_400_123_456n),
      isoFromMicros(-1n),
    ]).toEqual(['2024-01-29T10:00:00Z', '2024-01-29T10:00:00.123Z', '2024-01-29T10:00:00.123456Z', '1969-12-31T23:59:59.999999Z']);
  });

  it('csv: a header, RFC 4180 quoting, NULL empty and the empty string ""', async () => {
    const { text } = await run(
      `SELECT 'plain' AS a, 'x,y' AS b, 'say "hi"' AS c, 'two\nlines' AS d, NULL AS e, '' AS f, 7 AS g, TIMESTAMPTZ '2024-03-02 10:00:00+00' AS t`,
      'csv',
    );
    expect(text).toBe('a,b,c,d,e,f,g,t\nplain,"x,y","say ""hi""","two\nlines",,"",7,2024-03-02T10:00:00Z\n');
    expect(csvField(null)).toBe('');
  });

  it('table: aligned columns, numbers right-aligned, NULL spelled out', async () => {
    const { text } = await run(
      `SELECT * FROM (VALUES ('example-web-assets', 12345), ('b', NULL), ('tab\there', 7)) AS t(bucket, n)`,
      'table',
    );
    const lines = text.trimEnd().split('\n');
    expect(lines).toEqual([
      ' bucket             | n',
      '--------------------+-------',
      ' example-web-assets | 12345',
      ' b                  |  NULL',
      ' tab\\there          |     7',
    ]);
    expect([pickFormat(undefined, true), pickFormat(undefined, false), pickFormat('json', true)]).toEqual(['table', 'csv', 'json']);
  });

  it('runs several statements and prints the last one; a failing query is a QueryError with DuckDB’s message', async () => {
    const { text } = await run(
      `CREATE TEMP TABLE denied AS SELECT * FROM access_logs WHERE httpstatus = 403; SELECT count(*) AS n FROM denied`,
      'json',
      ['2024-03-02'],
    );
    expect(jsonLines(text)).toEqual([{ n: truth.filter((r) => r.dt === '2024-03-02' && r.httpstatus === 403).length }]);
    const failure = (sql: string): Promise<unknown> =>
      run(sql, 'csv').then(
        () => undefined,
        (e: unknown) => e,
      );
    const parse = await failure('SELEC 1');
    expect(parse).toBeInstanceOf(QueryError);
    expect((parse as Error).message).toMatch(/^Parser Error: syntax error at or near "SELEC"/);
    expect(((await failure('SELECT nope FROM access_logs')) as Error).message).toMatch(/^Binder Error: Referenced column "nope" not found/);
    // An error on a later row, while the result streams.
    expect(
      ((await failure(`SELECT CAST(CASE WHEN i = 5000 THEN 'x' ELSE '1' END AS INTEGER) FROM range(10000) t(i)`)) as Error).message,
    ).toMatch(/^Conversion Error/);
  });

  it('refuses bad usage with a ConfigError naming the flag', async () => {
    const bad = async (args: string[]): Promise<string | undefined> =>
      runQuery(args).then(
        () => undefined,
        (e: unknown) => (e instanceof ConfigError ? e.flag : String(e)),
      );
    expect(await bad(['SELECT 1'])).toBe('--dest');
    expect(await bad(['--dest', lake, '--format', 'xml', 'SELECT 1'])).toBe('--format');
    expect(await bad(['--dest', lake, '--from', '2024-3-1', 'SELECT 1'])).toBe('--from');
    expect(await bad(['--dest', lake, '--from', '2024-03-03', '--to', '2024-03-01', 'SELECT 1'])).toBe('--to');
    expect(await bad(['--dest', lake, '--to', '2024-03-01', 'SELECT 1'])).toBe('--to');
    expect(await bad(['--dest', lake, 'SELECT', '1'])).toBe('SQL');
    expect(await bad(['--dest', lake, '--file', join(work, 'q.sql'), 'SELECT 1'])).toBe('--file');
    expect(await bad(['--dest', lake, '--file', join(work, 'missing.sql')])).toBe('--file');
    expect(await bad(['--dest', lake, '   '])).toBe('SQL');
    expect(await bad(['--dest', lake, '--bucket', 'x', 'SELECT 1'])).toBe('--bucket');
    expect(await bad(['--dest', lake, '--endpoint-url', 'localhost', 'SELECT 1'])).toBe('--endpoint-url');
  });
});

describe('s3logs query (the CLI)', () => {
  it('exits 0 with CSV when piped, 1 with DuckDB’s message for a bad query, 2 for bad flags', async () => {
    const ok = await runCli(['query', '--dest', lake, '--from', '2024-03-02', 'SELECT count(*) AS n FROM access_logs']);
    expect([ok.code, ok.stdout]).toEqual([0, `n\n${truth.filter((r) => r.dt === '2024-03-02').length}\n`]);
    expect(ok.stderr).toMatch(/^1 row in [\d.]+ s; access_logs over \d+ files? \([^)]+\) in \d+ partitions?, dt 2024-03-02\n$/);
    const bad = await runCli(['query', '--dest', lake, 'SELECT nope FROM access_logs']);
    expect([bad.code, bad.stdout]).toEqual([1, '']);
    expect(bad.stderr).toMatch(/^s3logs query: Binder Error: Referenced column "nope" not found in FROM clause!/);
    const usage = await runCli(['query', '--dest', lake, '--format', 'yaml', 'SELECT 1']);
    expect([usage.code, usage.stderr]).toEqual([2, 's3logs query: --format must be one of csv, json, table, got "yaml"\n']);
  });

  it('reads the SQL from stdin and from --file', async () => {
    const sql = 'SELECT count(*) AS n FROM access_logs WHERE httpstatus = 403;\n';
    const want = `n\n${truth.filter((r) => r.httpstatus === 403).length}\n`;
    const piped = await runWithStdin(['query', '--dest', lake], sql);
    expect([piped.code, piped.stdout, piped.stderr.includes('every dt')]).toEqual([0, want, true]);
    await writeFile(join(work, 'q.sql'), sql);
    const fromFile = await runCli(['query', '--dest', lake, '--file', join(work, 'q.sql'), '--format', 'json']);
    expect([fromFile.code, fromFile.stdout]).toEqual([0, `{"n":${truth.filter((r) => r.httpstatus === 403).length}}\n`]);
    // --file - reads stdin too (here an empty one: exit 2).
    const empty = await runWithStdin(['query', '--dest', lake, '--file', '-'], '\n');
    expect([empty.code, empty.stderr]).toEqual([2, 's3logs query: the SQL is empty\n']);
  });

  it('the demo ends with s3logs query’s table', async () => {
    const out = join(work, 'demo');
    const demo = await runCli(['demo', '--out', out, '--mb', '1']);
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stderr).toContain(
      `npx s3logs query --dest ${join(out, 'lake')} --from 2024-01-29 "SELECT requester, remoteip, count(*) AS denied FROM access_logs`,
    );
    const lines = demo.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ requester +\| remoteip +\| denied$/);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.slice(2).every((l) => /\| +\d+$/.test(l))).toBe(true);
  });
});

describe('s3logs query (s3:// destination)', () => {
  let server: S3Server;
  let proxy: FaultProxy;
  const saved = { ...process.env };

  beforeAll(async () => {
    server = await startS3Server({ buckets: ['lake'] });
    proxy = await startFaultProxy(server.endpoint, {});
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
    });
    const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
    for (const path of await readdir(lake, { recursive: true, withFileTypes: true })) {
      if (!path.isFile()) continue;
      const file = join(path.parentPath, path.name);
      await client.send(
        new PutObjectCommand({
          Bucket: 'lake',
          Key: `logs/${file
            .slice(lake.length + 1)
            .split('\\')
            .join('/')}`,
          Body: await readFile(file),
        }),
      );
    }
    client.destroy();
  }, 60_000);

  afterAll(async () => {
    process.env = saved;
    await proxy?.close();
    await server?.close();
  });

  it('fetches only the partitions of the range and gives the local answer', async () => {
    const sql = 'SELECT bucket, dt, count(*) AS n, COALESCE(sum(bytessent), 0) AS sent FROM access_logs GROUP BY ALL ORDER BY bucket, dt';
    const days = ['2024-03-02', '2024-03-03'];
    proxy.requests.length = 0;
    const remote = await run(sql, 'json', days, 's3://lake/logs/', {
      endpointUrl: proxy.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
    });
    expect(jsonLines(remote.text)).toEqual(expectedGroups(days));
    const fetched = proxy.requests
      .filter((r) => r.method === 'GET' && !r.url.includes('list-type'))
      .map((r) => decodeURIComponent(r.url.split('?')[0]!));
    const inRange = (await parquetFiles(lake)).filter((p) => /\/dt=2024-03-0[23]\//.test(p)).map((p) => `/lake/logs/${p}`);
    expect(fetched.sort()).toEqual(inRange.sort());
    expect([remote.stats.files, remote.stats.downloadedBytes > 0]).toEqual([inRange.length, true]);
  });
});
