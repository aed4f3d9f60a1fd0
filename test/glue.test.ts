/**
 * Glue-only behaviour, against the stand-in with the real SDK: table shape, throttling and
 * concurrent-modification retries, partitions raced by another writer, partition projection, and
 * the access-denied message.
 */
import { GlueClient } from '@aws-sdk/client-glue';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { baseClientConfig } from '../src/aws/config.js';
import { CatalogError } from '../src/errors.js';
import { partitionPath, type PartitionContribution } from '../src/catalog/Catalog.js';
import { GlueCatalog, type GlueCatalogOptions } from '../src/catalog/glue.js';
import { tableDefinition } from '../src/schema/table.js';
import { athenaDdl, lakePartitions } from '../src/schema/ddl.js';
import { athenaProjectionProblems, tblProperties } from './helpers/athenaProjection.js';
import { GLUE_WRITE_OPERATIONS, startGlueStandIn, type GlueStandIn } from './helpers/glueStandIn.js';
import { MemoryStorage } from './helpers/memoryStorage.js';

const LOCATION = 's3://lake/logs/';
const DEF = tableDefinition(LOCATION, 'logs', 'access');
const TABLE_ID = 'logs.access';

let standIn: GlueStandIn;
beforeEach(async () => {
  standIn = await startGlueStandIn({ pageSize: 3 });
});
afterEach(async () => {
  await standIn.close();
});

function glue(extra: Partial<GlueCatalogOptions> = {}): GlueCatalog {
  return new GlueCatalog({
    database: DEF.database,
    table: DEF.table,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
    ...extra,
    // Always the stand-in; the SDK's own throttling backoff (500 ms base) is exercised in one test only.
    aws: { region: 'us-east-1', maxAttempts: 1, ...extra.aws, endpointUrl: standIn.endpoint },
  });
}

/**
 * The production client uses retryMode 'adaptive', whose client-side rate limiter slows every call to
 * ~0.5/s after a throttle. Right in production, 17 s in a test: tests that throttle many times use
 * standard mode (our own retry layer is what they check).
 */
function standardModeClient(maxAttempts = 1): GlueClient {
  const config = baseClientConfig({ endpointUrl: standIn.endpoint, region: 'us-east-1', maxAttempts });
  return new GlueClient({ ...config, retryMode: 'standard', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}

const part = (bucket: string, dt: string, rows = 1): PartitionContribution => ({
  bucket,
  dt,
  location: LOCATION + partitionPath({ bucket, dt }),
  files: [`${bucket}-${dt}.parquet`],
  rows,
});

/** n distinct partitions over 7 buckets and consecutive days from 2024-01-01. */
const many = (n: number): PartitionContribution[] =>
  Array.from({ length: n }, (_, i) =>
    part(`bucket-${i % 7}`, new Date(Date.UTC(2024, 0, 1 + Math.floor(i / 7))).toISOString().slice(0, 10)),
  );

describe('GlueCatalog', () => {
  it('creates a Parquet EXTERNAL_TABLE that Athena and Spark can read, and partitions inherit its storage descriptor', async () => {
    const catalog = glue();
    await catalog.ensureTable(DEF);
    expect(standIn.state.databases.has('logs')).toBe(true);
    const table = standIn.state.tables.get(TABLE_ID)!.input;
    expect(table.TableType).toBe('EXTERNAL_TABLE');
    expect(table.PartitionKeys.map((k: { Name: string; Type: string }) => `${k.Name}:${k.Type}`)).toEqual(['bucket:string', 'dt:string']);
    expect(table.Parameters).toMatchObject({ classification: 'parquet', 's3logs.schema_version': String(DEF.schemaVersion) });
    expect(table.StorageDescriptor).toMatchObject({
      Location: LOCATION,
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
      BucketColumns: [],
    });
    expect(table.StorageDescriptor.Columns).toHaveLength(DEF.columns.length);

    await catalog.registerPartitions('2024-01-02', [part('web', '2024-01-01')]);
    const stored = [...standIn.state.partitions.get(TABLE_ID)!.values()][0]!;
    expect(stored.Values).toEqual(['web', '2024-01-01']);
    expect(stored.StorageDescriptor).toEqual({ ...table.StorageDescriptor, Location: `${LOCATION}bucket=web/dt=2024-01-01/` });
  });

  it('registers everything through throttling and counts the retries', async () => {
    const catalog = glue({ client: standardModeClient(2) });
    await catalog.ensureTable(DEF);
    const parts = many(190);
    standIn.throttleNext(7); // more than the SDK's attempts: our backoff has to carry the rest
    expect((await catalog.registerPartitions('2024-01-29', parts)).created).toBe(parts.length);
    expect(await catalog.listPartitions()).toHaveLength(parts.length);
    expect(catalog.stats().retries).toBeGreaterThanOrEqual(7);
    expect(catalog.stats().calls).toBeGreaterThan(0);
  });

  it('counts the retries of the production (adaptive) SDK client too', async () => {
    const catalog = glue({ aws: { maxAttempts: 3 } });
    standIn.throttleNext(1);
    await catalog.ensureTable(DEF);
    expect(standIn.calls.GetDatabase).toBe(2); // the SDK retried; our layer saw one successful call
    expect(catalog.stats().retries).toBe(1);
  });

  it('gives up with a throttled CatalogError when Glue never stops throttling', async () => {
    const catalog = glue({ retry: { maxAttempts: 2, baseDelayMs: 1 }, client: standardModeClient() });
    standIn.throttleNext(10);
    const error = await catalog.ensureTable(DEF).catch((e: unknown) => e);
    expect((error as CatalogError).code).toBe('throttled');
    expect((error as CatalogError).message).toMatch(/glue:GetDatabase on logs\.access .*ThrottlingException after 2 attempts/);
  });

  it('retries ConcurrentModificationException, which the SDK does not', async () => {
    const catalog = glue();
    await catalog.ensureTable(DEF);
    standIn.throttleNext(2, 'ConcurrentModificationException', 'BatchCreatePartition');
    expect(await catalog.registerPartitions('2024-01-02', [part('web', '2024-01-01')])).toEqual({ created: 1, updated: 0, unchanged: 0 });
    expect(standIn.calls.BatchCreatePartition).toBe(3);
    expect(catalog.stats().retries).toBe(2);
  });

  it('reconciles partitions another writer created between our read and our create', async () => {
    const catalog = glue();
    await catalog.ensureTable(DEF);
    const [mine, theirs] = [part('web', '2024-01-01'), part('web', '2024-01-02')];
    standIn.onNext('BatchCreatePartition', (state) => {
      // Same values, stale location: BatchCreatePartition answers AlreadyExistsException inside Errors.
      state.partitions
        .get(TABLE_ID)!
        .set(['web', '2024-01-02'].join('\u0001'), { Values: ['web', '2024-01-02'], StorageDescriptor: { Location: 's3://old/' } });
    });
    expect(await catalog.registerPartitions('2024-01-02', [mine!, theirs!])).toEqual({ created: 1, updated: 1, unchanged: 0 });
    expect(standIn.calls.BatchUpdatePartition).toBe(1);
    const listed = await catalog.listPartitions();
    expect(listed.map((p) => p.location).sort()).toEqual([mine!.location, theirs!.location]);
  });

  it('names the missing glue: action and the table when access is denied', async () => {
    const catalog = glue();
    await catalog.ensureTable(DEF);
    standIn.deny('BatchCreatePartition');
    const error = await catalog.registerPartitions('2024-01-02', [part('web', '2024-01-01')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CatalogError);
    expect((error as CatalogError).code).toBe('access_denied');
    expect((error as CatalogError).message).toContain('glue:BatchCreatePartition on logs.access');
    expect((error as CatalogError).message).toContain('docs/catalog.md');
  });

  it('maps a table that vanished to not_found', async () => {
    const catalog = glue();
    const error = await catalog.registerPartitions('2024-01-02', [part('web', '2024-01-01')]).catch((e: unknown) => e);
    expect((error as CatalogError).code).toBe('not_found');
    expect((error as CatalogError).message).toContain('logs.access');
  });
});

describe('GlueCatalog with partition projection', () => {
  const PARTITION_CALLS = ['BatchCreatePartition', 'BatchUpdatePartition', 'BatchGetPartition', 'BatchDeletePartition', 'GetPartition'];
  const params = (): Record<string, string> => standIn.state.tables.get(TABLE_ID)!.input.Parameters;

  it('keeps projection parameters current without any per-partition call', async () => {
    const catalog = glue({ projection: true });
    expect((await catalog.ensureTable(DEF)).created).toBe(true);
    expect(params()).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'storage.location.template': 's3://lake/logs/bucket=${bucket}/dt=${dt}/',
    });

    const first = [part('web', '2024-01-05'), part('api', '2024-01-03')];
    expect(await catalog.registerPartitions('2024-01-05', first)).toEqual({ created: 2, updated: 0, unchanged: 0 });
    expect(params()).toMatchObject({
      'projection.bucket.type': 'enum',
      'projection.bucket.values': 'api,web',
      'projection.dt.range': '2024-01-03,NOW',
    });

    const writes = standIn.count(...GLUE_WRITE_OPERATIONS);
    expect(await catalog.registerPartitions('2024-01-06', [part('web', '2024-01-06'), ...first])).toEqual({
      created: 0,
      updated: 0,
      unchanged: 3,
    });
    expect(standIn.count(...GLUE_WRITE_OPERATIONS)).toBe(writes);

    await catalog.registerPartitions('2024-01-07', [part('cdn', '2024-01-07')]);
    expect(params()['projection.bucket.values']).toBe('api,cdn,web');
    await catalog.registerPartitions('2023-12-31', [part('web', '2023-12-30')]);
    expect(params()['projection.dt.range']).toBe('2023-12-30,NOW');
    expect(standIn.calls.UpdateTable).toBe(3);
    expect(standIn.count(...PARTITION_CALLS)).toBe(0);
    expect(await catalog.deletePartitions([{ bucket: 'web', dt: '2023-12-30' }])).toBe(0);
    expect(standIn.count(...PARTITION_CALLS)).toBe(0);
  });

  it("re-reads the table when UpdateTable loses a race, and keeps the other writer's bucket", async () => {
    const catalog = glue({ projection: true });
    await catalog.ensureTable(DEF);
    await catalog.registerPartitions('2024-01-05', [part('web', '2024-01-05')]);
    standIn.onNext('UpdateTable', (state) => {
      const t = state.tables.get(TABLE_ID)!;
      t.input = { ...t.input, Parameters: { ...t.input.Parameters, 'projection.bucket.values': 'other,web' } };
      t.versionId += 1;
    });
    await catalog.registerPartitions('2024-01-06', [part('api', '2024-01-06')]);
    expect(params()['projection.bucket.values']).toBe('api,other,web');
    expect(catalog.stats().retries).toBeGreaterThanOrEqual(1);
  });

  it('turns projection on for an existing table that had registered partitions, covering all of them', async () => {
    const registered = glue();
    await registered.ensureTable(DEF);
    await registered.registerPartitions('2024-01-03', [part('web', '2024-01-03'), part('api', '2024-01-02')]);
    await registered.registerPartitions('2023-11-20', [part('cdn', '2023-11-20')]);
    expect(params()['projection.enabled']).toBeUndefined();
    const projected = glue({ projection: true });
    expect(await projected.ensureTable(DEF)).toEqual({ created: false, columnsAdded: [] });
    // Athena ignores registered partitions once projection is on: the enum and range must hold all three buckets.
    expect(params()).toMatchObject({
      'projection.enabled': 'true',
      'projection.bucket.type': 'enum',
      'projection.bucket.values': 'api,cdn,web',
      'projection.dt.range': '2023-11-20,NOW',
    });
    await projected.registerPartitions('2024-01-04', [part('web', '2024-01-04')]);
    expect(params()['projection.bucket.values']).toBe('api,cdn,web');
  });

  it("keeps the table's projection what `s3logs ddl --projection` prints for the same lake, and what Athena's docs require", async () => {
    const catalog = glue({ projection: true });
    await catalog.ensureTable(DEF);
    const lake = new MemoryStorage();
    const days: PartitionContribution[][] = [
      [part('web', '2024-02-01')],
      [part('api', '2024-02-02'), part('web', '2024-01-31')],
      [part('cdn', '2024-02-03')],
    ];
    for (const partitions of days) {
      for (const p of partitions) await lake.put(`${partitionPath(p)}part-${p.dt}.parquet`, new Uint8Array([1]));
      await catalog.registerPartitions(partitions[0]!.dt, partitions);
      const ddl = tblProperties(
        athenaDdl({
          location: LOCATION,
          projection: true,
          ...(await lakePartitions(lake)),
          dtStart: (await lakePartitions(lake)).firstDt!,
        }),
      );
      const glueProjection = Object.fromEntries(
        Object.entries(params()).filter(([k]) => k.startsWith('projection.') || k === 'storage.location.template'),
      );
      expect(glueProjection).toEqual(
        Object.fromEntries(Object.entries(ddl).filter(([k]) => k.startsWith('projection.') || k === 'storage.location.template')),
      );
      expect(
        athenaProjectionProblems(
          params(),
          DEF.partitionKeys.map((k) => k.name),
        ),
      ).toEqual([]);
    }
  });
});
