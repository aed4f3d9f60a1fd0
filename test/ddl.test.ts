/**
 * DDL derived from schemas/: the Athena CREATE TABLE lists every declared column with its Glue type,
 * and the DuckDB view really runs over hive-partitioned Parquet written by DuckDB itself.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type * as DuckDB from '@duckdb/node-api';
import { requireCjs } from '../src/cjs.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_LOG_COLUMNS, SCHEMA_VERSION } from '../schemas/accessLog.js';
import { partitionPath } from '../src/catalog/Catalog.js';
import { athenaDdl, duckdbView, lakePartitions, projectionParameters } from '../src/schema/ddl.js';
import { GLUE_TYPE, TABLE_PARTITION_KEYS } from '../src/schema/table.js';
import { athenaProjectionProblems, tblProperties } from './helpers/athenaProjection.js';
import { runCli } from './helpers/cli.js';
import { MemoryStorage } from './helpers/memoryStorage.js';
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from './helpers/s3Server.js';

// By require, not import, as src/ does (src/cjs.ts): 0.25 CPU s less per test file.
const { DuckDBInstance } = requireCjs('@duckdb/node-api') as typeof DuckDB;
type DuckDBInstance = DuckDB.DuckDBInstance;

const PARTITION_COLUMNS = TABLE_PARTITION_KEYS.map((k) => k.name);

describe('athenaDdl', () => {
  const ddl = athenaDdl({ location: 's3://lake/logs', database: 'Logs', table: 'Access' });

  it('declares every schema column, in order, with its Glue type and comment', () => {
    const declared = [...ddl.matchAll(/^ {2}`(\w+)` (\w+) COMMENT '/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(declared).toEqual(ACCESS_LOG_COLUMNS.map((c) => `${c.name} ${GLUE_TYPE[c.kind]}`));
    expect(ddl).toContain("`totaltime` int COMMENT 'Milliseconds the request was in flight from the server\\'s perspective.'");
  });

  it('is an external, partitioned Parquet table at the location', () => {
    expect(ddl.startsWith('CREATE EXTERNAL TABLE IF NOT EXISTS `logs`.`access` (')).toBe(true);
    expect(ddl).toMatch(/^PARTITIONED BY \(`bucket` string COMMENT '[^']+', `dt` string COMMENT '[^']+'\)$/m);
    expect(ddl).toMatch(/^STORED AS PARQUET$/m);
    expect(ddl).toMatch(/^LOCATION 's3:\/\/lake\/logs\/'$/m);
    expect(ddl).toContain(`'s3logs.schema_version' = '${SCHEMA_VERSION}'`);
    expect(ddl).not.toContain('projection');
  });

  it('adds projection properties for the buckets seen', () => {
    const projected = athenaDdl({ location: 's3://lake/logs/', projection: true, buckets: ['web', 'api', 'web'], dtStart: '2023-05-01' });
    expect(projected).toContain('`s3_access_logs`.`access_logs`');
    for (const [k, v] of Object.entries({
      'projection.enabled': 'true',
      'projection.bucket.type': 'enum',
      'projection.bucket.values': 'api,web',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2023-05-01,NOW',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'storage.location.template': 's3://lake/logs/bucket=${bucket}/dt=${dt}/',
    })) {
      expect(projected).toContain(`'${k}' = '${v}'`);
    }
  });

  it("projection properties follow what Athena's partition projection docs require, and the template gives the lake's own paths", () => {
    const props = tblProperties(
      athenaDdl({ location: 's3://lake/logs', projection: true, buckets: ['web', 'api'], dtStart: '2023-05-01' }),
    );
    expect(athenaProjectionProblems(props, PARTITION_COLUMNS)).toEqual([]);
    const template = props['storage.location.template']!;
    expect(template.replace('${bucket}', 'web').replace('${dt}', '2023-05-02')).toBe(
      's3://lake/logs/' + partitionPath({ bucket: 'web', dt: '2023-05-02' }),
    );
    // The checker is not a rubber stamp: the old injected bucket, a hyphenated range and a padded enum fail it.
    expect(athenaProjectionProblems(projectionParameters('s3://l/', undefined), PARTITION_COLUMNS)).toEqual([
      expect.stringContaining('injected'),
    ]);
    expect(athenaProjectionProblems({ ...props, 'projection.dt.range': '2023-05-01-NOW' }, PARTITION_COLUMNS)).toHaveLength(1);
    expect(athenaProjectionProblems({ ...props, 'projection.bucket.values': 'api, web' }, PARTITION_COLUMNS)).toHaveLength(1);
    expect(athenaProjectionProblems({ ...props, 'storage.location.template': 's3://lake/logs/dt=${dt}/' }, PARTITION_COLUMNS)).toHaveLength(
      1,
    );
  });

  it('injects bucket when no bucket list is known', () => {
    expect(projectionParameters('s3://l/', undefined)).toMatchObject({
      'projection.bucket.type': 'injected',
      'projection.dt.range': 'NOW-1YEARS,NOW',
    });
    expect(projectionParameters('s3://l/', [])['projection.bucket.values']).toBeUndefined();
  });
});

describe('duckdbView', () => {
  let dir: string;
  let instance: DuckDBInstance;

  beforeAll(async () => {
    // A quote in the path proves the glob literal is escaped.
    dir = join(await mkdtemp(join(tmpdir(), 's3logs-ddl-')), "o'hare") + '/';
    await mkdir(dir, { recursive: true });
    instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    const out = dir.replace(/'/g, "''");
    await db.run(`
      COPY (
        SELECT * FROM (VALUES
          ('web-logs', DATE '2024-01-01', 200, TIMESTAMPTZ '2024-01-01 10:00:00+00'),
          ('web-logs', DATE '2024-01-02', 404, TIMESTAMPTZ '2024-01-02 11:00:00+00'),
          ('web-logs', DATE '2024-01-02', 200, TIMESTAMPTZ '2024-01-02 12:00:00+00'),
          ('123456',   DATE '2024-01-02', 500, TIMESTAMPTZ '2024-01-02 13:00:00+00')
        ) AS t(bucket, dt, httpstatus, requestdatetime)
      ) TO '${out}' (FORMAT parquet, PARTITION_BY (bucket, dt))`);
    // Files outside bucket=*/dt=* (staging, catalog) must not leak into the view.
    await mkdir(join(dir, '_staging'), { recursive: true });
    await db.run(`COPY (SELECT 'x' AS bucket, 1 AS httpstatus) TO '${out}_staging/stray.parquet' (FORMAT parquet)`);
    db.closeSync();
  });

  afterAll(async () => {
    instance?.closeSync();
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  it('builds the documented view text', () => {
    expect(duckdbView({ location: 's3://lake/logs' })).toBe(
      `CREATE OR REPLACE VIEW "access_logs" AS SELECT * FROM read_parquet('s3://lake/logs/bucket=*/dt=*/*.parquet', ` +
        `hive_partitioning = true, hive_types = {'bucket': VARCHAR, 'dt': DATE})`,
    );
  });

  it('runs in DuckDB, types bucket as VARCHAR and dt as DATE, and filters on them', async () => {
    const db = await instance.connect();
    await db.run(duckdbView({ location: dir }));
    const types = await db.runAndReadAll(`SELECT DISTINCT typeof(bucket) AS b, typeof(dt) AS d FROM access_logs`);
    expect(types.getRowObjectsJS()).toEqual([{ b: 'VARCHAR', d: 'DATE' }]);

    const rows = await db.runAndReadAll(
      `SELECT bucket, CAST(dt AS VARCHAR) AS dt, httpstatus FROM access_logs
       WHERE bucket = 'web-logs' AND dt = DATE '2024-01-02' ORDER BY httpstatus`,
    );
    expect(rows.getRowObjectsJS()).toEqual([
      { bucket: 'web-logs', dt: '2024-01-02', httpstatus: 200 },
      { bucket: 'web-logs', dt: '2024-01-02', httpstatus: 404 },
    ]);
    const numeric = await db.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM access_logs WHERE bucket = '123456'`);
    expect(numeric.getRowObjectsJS()).toEqual([{ n: 1 }]);
    const total = await db.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM access_logs`);
    expect(total.getRowObjectsJS()).toEqual([{ n: 4 }]);
    db.closeSync();
  });
});

describe('lakePartitions', () => {
  it('lists the buckets that hold Parquet files and the earliest dt, ignoring everything else under the root', async () => {
    const lake = new MemoryStorage();
    const put = (key: string) => lake.put(key, new Uint8Array([1]));
    await put('bucket=web/dt=2024-01-03/part-a.parquet');
    await put('bucket=web/dt=2024-01-05/part-b.parquet');
    await put('bucket=api/dt=2023-12-30/part-c.parquet');
    await put('bucket=stale/not-a-dt/x.parquet');
    await put('bucket=staged/dt=2021-06-01/part-x.parquet.staged');
    await put('_s3logs/keydates/2022-01-01/manifest.json');
    await put('bucket=/dt=2021-01-01/x.parquet');
    expect(await lakePartitions(lake)).toEqual({ buckets: ['api', 'web'], firstDt: '2023-12-30' });
    expect(await lakePartitions(new MemoryStorage())).toEqual({ buckets: [] });
  });
});

describe('s3logs ddl on a lake in S3', () => {
  let s3: S3Server;
  let client: S3Client;
  let env: Record<string, string>;

  beforeAll(async () => {
    s3 = await startS3Server({ buckets: ['lake', 'empty'] });
    client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: S3RVER_CREDENTIALS });
    for (const key of [
      'bucket=web-assets/dt=2023-11-02/a.parquet',
      'bucket=web-assets/dt=2024-01-29/b.parquet',
      'bucket=api-data/dt=2023-10-31/c.parquet',
      '_s3logs/catalog.json',
    ]) {
      await client.send(new PutObjectCommand({ Bucket: 'lake', Key: `access-logs/${key}`, Body: 'x' }));
    }
    env = {
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
    };
  });
  afterAll(async () => {
    client?.destroy();
    await s3?.close();
  });

  const ddl = (...args: string[]) => runCli(['ddl', ...args, '--endpoint-url', s3.endpoint], env);

  it('--projection: the enum holds every bucket of the lake and the range starts at its first dt', async () => {
    const out = await ddl('--dest', 's3://lake/access-logs', '--projection');
    expect(out.code, out.stderr).toBe(0);
    const props = tblProperties(out.stdout);
    expect(athenaProjectionProblems(props, PARTITION_COLUMNS)).toEqual([]);
    expect(props).toMatchObject({
      'projection.bucket.type': 'enum',
      'projection.bucket.values': 'api-data,web-assets',
      'projection.dt.range': '2023-10-31,NOW',
      'storage.location.template': 's3://lake/access-logs/bucket=${bucket}/dt=${dt}/',
    });
    expect(out.stdout).toMatch(/^LOCATION 's3:\/\/lake\/access-logs\/'$/m);
  });

  it('--buckets and --first-dt override the listing; an empty lake says what to pass', async () => {
    const out = await ddl('--dest', 's3://empty/logs/', '--projection', '--buckets', 'b1,b2', '--first-dt', '2020-02-29');
    expect(out.code, out.stderr).toBe(0);
    expect(tblProperties(out.stdout)).toMatchObject({ 'projection.bucket.values': 'b1,b2', 'projection.dt.range': '2020-02-29,NOW' });
    const empty = await ddl('--dest', 's3://empty/logs/', '--projection');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('holds no bucket=<name>/dt=<date>/ partitions yet');
    expect(empty.stderr).toContain('--buckets');
    const bad = await ddl('--dest', 's3://empty/logs/', '--projection', '--buckets', 'ab,b c');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--buckets: "b c" is not a bucket name');
  });

  it('refuses a local --dest for Athena with what to do, and gives DuckDB an absolute path', async () => {
    const local = await runCli(['ddl', '--dest', './lake']);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain('is a local directory, and Athena reads tables only from s3:// locations');
    expect(local.stderr).toContain('--duckdb');
    const view = await runCli(['ddl', '--dest', './lake', '--duckdb']);
    expect(view.code, view.stderr).toBe(0);
    expect(view.stdout).toContain(`read_parquet('${resolve('lake')}/bucket=*/dt=*/*.parquet'`);
  });
});
