/**
 * DDL derived from schemas/: the Athena CREATE TABLE lists every declared column with its Glue type,
 * and the DuckDB view really runs over hive-partitioned Parquet written by DuckDB itself.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_LOG_COLUMNS, SCHEMA_VERSION } from '../schemas/accessLog.js';
import { athenaDdl, duckdbView, projectionParameters } from '../src/schema/ddl.js';
import { GLUE_TYPE } from '../src/schema/table.js';

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
    expect(projected).toContain("`s3_access_logs`.`access_logs`");
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

  it('injects bucket when no bucket list is known', () => {
    expect(projectionParameters('s3://l/', undefined)).toMatchObject({ 'projection.bucket.type': 'injected', 'projection.dt.range': 'NOW-1YEARS,NOW' });
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
