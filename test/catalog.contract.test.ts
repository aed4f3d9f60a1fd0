/**
 * One contract, every Catalog: the local file catalog (on in-memory storage) and the Glue catalog
 * (real SDK against the Glue stand-in) must answer the same calls the same way.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CatalogError } from '../src/errors.js';
import {
  partitionPath,
  type Catalog,
  type CatalogColumn,
  type PartitionContribution,
  type TableDefinition,
} from '../src/catalog/Catalog.js';
import { GlueCatalog } from '../src/catalog/glue.js';
import { LocalCatalog } from '../src/catalog/local.js';
import { NoCatalog } from '../src/catalog/none.js';
import { tableDefinition } from '../src/schema/table.js';
import { GLUE_WRITE_OPERATIONS, startGlueStandIn } from './helpers/glueStandIn.js';
import { MemoryStorage } from './helpers/memoryStorage.js';

const LOCATION = 's3://lake/logs/';
const DEF = tableDefinition(LOCATION, 'Logs_DB', 'Access_Logs');

interface Harness {
  catalog: Catalog;
  /** Catalog writes so far (storage puts, or Glue write operations). */
  writes(): number;
  /** Columns the backend stores for the table, as name:type. */
  columns(): Promise<string[]>;
  close(): Promise<void>;
}

const implementations: Array<{ name: string; start(): Promise<Harness> }> = [
  {
    name: 'local',
    async start() {
      const storage = new MemoryStorage();
      return {
        catalog: new LocalCatalog(storage),
        writes: () => storage.counts.put,
        async columns() {
          const doc = JSON.parse(new TextDecoder().decode(await storage.get('_s3logs/catalog.json')));
          return doc.table.columns.map((c: CatalogColumn) => `${c.name}:${c.type}`);
        },
        close: async () => {},
      };
    },
  },
  {
    name: 'glue',
    async start() {
      const standIn = await startGlueStandIn();
      const catalog = new GlueCatalog({
        database: DEF.database,
        table: DEF.table,
        aws: { endpointUrl: standIn.endpoint, region: 'us-east-1' },
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        retry: { baseDelayMs: 5 },
      });
      return {
        catalog,
        writes: () => standIn.count(...GLUE_WRITE_OPERATIONS),
        async columns() {
          const t = standIn.state.tables.get(`${DEF.database}.${DEF.table}`);
          return (t?.input.StorageDescriptor.Columns ?? []).map((c: { Name: string; Type: string }) => `${c.Name}:${c.Type}`);
        },
        close: () => standIn.close(),
      };
    },
  },
];

const DAYS = Array.from({ length: 25 }, (_, i) => `2024-02-${String(i + 1).padStart(2, '0')}`);
const BUCKETS = Array.from({ length: 10 }, (_, i) => `source-bucket-${i}`);

function contribution(bucket: string, dt: string, location = LOCATION): PartitionContribution {
  return { bucket, dt, location: location + partitionPath({ bucket, dt }), files: [`part-${bucket}-${dt}.parquet`], rows: 10 };
}

const all250 = (): PartitionContribution[] => BUCKETS.flatMap((b) => DAYS.map((d) => contribution(b, d)));
const keyOf = (p: { bucket: string; dt: string; location: string }): string => `${p.bucket}|${p.dt}|${p.location}`;

function withColumn(def: TableDefinition, column: CatalogColumn): TableDefinition {
  return { ...def, columns: [...def.columns, column] };
}

function withType(def: TableDefinition, name: string, type: string): TableDefinition {
  return { ...def, columns: def.columns.map((c) => (c.name === name ? { ...c, type } : c)) };
}

describe.each(implementations)('Catalog contract: $name', ({ start }) => {
  let h: Harness;
  beforeEach(async () => {
    h = await start();
  });
  afterEach(async () => {
    await h.close();
  });

  it('creates the table once, then ensureTable is a no-op', async () => {
    expect(DEF.database).toBe('logs_db');
    expect(await h.catalog.ensureTable(DEF)).toEqual({ created: true, columnsAdded: [] });
    const writes = h.writes();
    expect(await h.catalog.ensureTable(DEF)).toEqual({ created: false, columnsAdded: [] });
    expect(h.writes()).toBe(writes);
    expect(await h.columns()).toEqual(DEF.columns.map((c) => `${c.name}:${c.type}`));
    expect(await h.catalog.listPartitions()).toEqual([]);
  });

  it('adds a column schemas/ gained and never drops one it lost', async () => {
    await h.catalog.ensureTable(DEF);
    const grown = withColumn(DEF, { name: 'tls_fingerprint', type: 'string', comment: 'new field' });
    expect(await h.catalog.ensureTable(grown)).toEqual({ created: false, columnsAdded: ['tls_fingerprint'] });
    expect(await h.catalog.ensureTable(grown)).toEqual({ created: false, columnsAdded: [] });
    expect(await h.catalog.ensureTable(DEF)).toEqual({ created: false, columnsAdded: [] });
    const columns = await h.columns();
    expect(columns).toHaveLength(DEF.columns.length + 1);
    expect(columns.at(-1)).toBe('tls_fingerprint:string');
  });

  it('widens int to bigint, which old Parquet files still read as', async () => {
    await h.catalog.ensureTable(DEF);
    await h.catalog.ensureTable(withType(DEF, 'totaltime', 'bigint'));
    expect(await h.columns()).toContain('totaltime:bigint');
  });

  it('refuses a type change old files cannot be read with', async () => {
    await h.catalog.ensureTable(DEF);
    const writes = h.writes();
    const error = await h.catalog.ensureTable(withType(DEF, 'bucketowner', 'int')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CatalogError);
    expect((error as CatalogError).code).toBe('incompatible_schema');
    expect((error as CatalogError).message).toMatch(/bucketowner is string .* but int/);
    expect((error as CatalogError).message).toMatch(/new table name/);
    expect(h.writes()).toBe(writes);
    expect(await h.columns()).toContain('bucketowner:string');
  });

  it('registers 250 partitions, lists them all, and a re-run changes nothing', async () => {
    await h.catalog.ensureTable(DEF);
    const parts = all250();
    expect(await h.catalog.registerPartitions('2024-02-26', parts)).toEqual({ created: 250, updated: 0, unchanged: 0 });
    const listed = await h.catalog.listPartitions();
    expect(listed.map(keyOf).sort()).toEqual(parts.map(keyOf).sort());
    expect(listed.find((p) => p.bucket === 'source-bucket-3' && p.dt === '2024-02-07')?.location).toBe(
      's3://lake/logs/bucket=source-bucket-3/dt=2024-02-07/',
    );

    const writes = h.writes();
    expect(await h.catalog.registerPartitions('2024-02-26', parts)).toEqual({ created: 0, updated: 0, unchanged: 250 });
    expect(h.writes()).toBe(writes);
  });

  it('updates partitions whose location changed', async () => {
    await h.catalog.ensureTable(DEF);
    const parts = all250();
    await h.catalog.registerPartitions('2024-02-26', parts);
    const moved = parts.map((p, i) => (i < 3 ? contribution(p.bucket, p.dt, 's3://lake/moved/') : p));
    expect(await h.catalog.registerPartitions('2024-02-26', moved)).toEqual({ created: 0, updated: 3, unchanged: 247 });
    const listed = await h.catalog.listPartitions();
    expect(listed.map(keyOf).sort()).toEqual(moved.map(keyOf).sort());
    expect(listed.filter((p) => p.location.startsWith('s3://lake/moved/'))).toHaveLength(3);
  });

  it('deletes partitions in batches and ignores ones already gone', async () => {
    await h.catalog.ensureTable(DEF);
    const parts = all250();
    await h.catalog.registerPartitions('2024-02-26', parts);
    const doomed = parts.slice(0, 30).map(({ bucket, dt }) => ({ bucket, dt }));
    expect(await h.catalog.deletePartitions([...doomed, { bucket: 'never-registered', dt: '2024-01-01' }])).toBe(30);
    const listed = await h.catalog.listPartitions();
    expect(listed).toHaveLength(220);
    expect(listed.some((p) => p.bucket === doomed[0]!.bucket && p.dt === doomed[0]!.dt)).toBe(false);
    expect(await h.catalog.deletePartitions(doomed)).toBe(0);
  });

  it('keeps a partition a re-run no longer contributes to until it is deleted', async () => {
    await h.catalog.ensureTable(DEF);
    const [a, b, c] = [contribution('logs-a', '2024-03-01'), contribution('logs-a', '2024-03-02'), contribution('logs-b', '2024-03-02')];
    await h.catalog.registerPartitions('2024-03-02', [a!, b!]);
    await h.catalog.registerPartitions('2024-03-03', [b!, c!]);
    // The 2024-03-02 logs were reprocessed and now only hold requests of 2024-03-01.
    const rerun = await h.catalog.registerPartitions('2024-03-02', [a!]);
    expect(rerun.created + rerun.updated).toBe(0);
    expect((await h.catalog.listPartitions()).map(keyOf).sort()).toEqual([a!, b!, c!].map(keyOf).sort());
  });

  it('rejects a partition listed twice in one key date', async () => {
    await h.catalog.ensureTable(DEF);
    const p = contribution('logs-a', '2024-03-01');
    const error = await h.catalog.registerPartitions('2024-03-01', [p, p]).catch((e: unknown) => e);
    expect((error as CatalogError).code).toBe('invalid');
    expect((error as CatalogError).partition).toBe('bucket=logs-a/dt=2024-03-01');
  });
});

describe('LocalCatalog specifics', () => {
  const KEY = '_s3logs/catalog.json';
  const ready = async (storage = new MemoryStorage()): Promise<{ storage: MemoryStorage; catalog: LocalCatalog }> => {
    const catalog = new LocalCatalog(storage);
    await catalog.ensureTable(DEF);
    return { storage, catalog };
  };
  const stats = async (catalog: LocalCatalog): Promise<string[]> =>
    (await catalog.partitionStats()).map((p) => `${p.bucket}/${p.dt}: ${p.files} files, ${p.rows} rows`);

  it('reports files and rows per partition, summed over key dates, and a re-run replaces its share', async () => {
    const { catalog } = await ready();
    const p = (bucket: string, dt: string, files: string[], rows: number): PartitionContribution => ({
      ...contribution(bucket, dt),
      files,
      rows,
    });
    await catalog.registerPartitions('2024-03-02', [
      p('a', '2024-03-01', ['k2-1.parquet'], 5),
      p('a', '2024-03-02', ['k2-2.parquet'], 100),
    ]);
    await catalog.registerPartitions('2024-03-03', [p('a', '2024-03-02', ['k3-1.parquet', 'k3-2.parquet'], 40)]);
    expect(await stats(catalog)).toEqual(['a/2024-03-01: 1 files, 5 rows', 'a/2024-03-02: 3 files, 140 rows']);

    expect(await catalog.registerPartitions('2024-03-02', [p('a', '2024-03-02', ['k2-2b.parquet'], 90)])).toEqual({
      created: 0,
      updated: 1,
      unchanged: 0,
    });
    expect(await stats(catalog)).toEqual(['a/2024-03-01: 0 files, 0 rows', 'a/2024-03-02: 3 files, 130 rows']);
  });

  it('persists through the store: a new instance sees the same catalog, and a re-run writes nothing', async () => {
    const { storage, catalog } = await ready();
    await catalog.registerPartitions('2024-02-26', all250());
    const again = new LocalCatalog(storage);
    expect(await again.listPartitions()).toHaveLength(250);
    const puts = storage.counts.put;
    expect(await again.registerPartitions('2024-02-26', all250())).toEqual({ created: 0, updated: 0, unchanged: 250 });
    expect(storage.counts.put).toBe(puts);
  });

  it('loses no update when key dates register concurrently', async () => {
    const { catalog } = await ready();
    await Promise.all(
      DAYS.map((d) =>
        catalog.registerPartitions(
          d,
          BUCKETS.map((b) => contribution(b, d)),
        ),
      ),
    );
    expect(await catalog.listPartitions()).toHaveLength(250);
  });

  it('loses no update when separate processes (one catalog instance each) register into the same file', async () => {
    const { storage } = await ready();
    // One instance per key date: nothing is serialised in memory, only the store's compare-and-swap.
    await Promise.all(
      DAYS.map((d) =>
        new LocalCatalog(storage).registerPartitions(
          d,
          BUCKETS.map((b) => contribution(b, d)),
        ),
      ),
    );
    expect(await new LocalCatalog(storage).listPartitions()).toHaveLength(250);
  });

  it('treats a missing file as an empty catalog and a corrupt one as an io error naming the key', async () => {
    const storage = new MemoryStorage();
    expect(await new LocalCatalog(storage).listPartitions()).toEqual([]);
    storage.putText(KEY, '{"format":1,"partitions":{');
    const error = await new LocalCatalog(storage).listPartitions().catch((e: unknown) => e);
    expect((error as CatalogError).code).toBe('io');
    expect((error as CatalogError).message).toContain(`memory://test/${KEY} is corrupt`);
    expect((error as CatalogError).message).toMatch(/delete it and re-run/);
    storage.putText(KEY, '[1,2]');
    expect(((await new LocalCatalog(storage).ensureTable(DEF).catch((e: unknown) => e)) as CatalogError).code).toBe('io');
  });

  it('asks for ensureTable before registering, and refuses a second table in the same file', async () => {
    const catalog = new LocalCatalog(new MemoryStorage());
    const error = await catalog.registerPartitions('2024-01-01', [contribution('a', '2024-01-01')]).catch((e: unknown) => e);
    expect((error as CatalogError).code).toBe('not_found');
    expect((error as CatalogError).message).toMatch(/call ensureTable/);
    await catalog.ensureTable(DEF);
    const other = await catalog.ensureTable(tableDefinition(LOCATION, 'logs_db', 'other')).catch((e: unknown) => e);
    expect((other as CatalogError).code).toBe('invalid');
  });
});

describe('NoCatalog', () => {
  it('registers nothing and reports zero counts', async () => {
    const catalog = new NoCatalog();
    expect(catalog.kind).toBe('none');
    expect(await catalog.ensureTable(DEF)).toEqual({ created: false, columnsAdded: [] });
    expect(await catalog.registerPartitions('2024-02-26', all250())).toEqual({ created: 0, updated: 0, unchanged: 0 });
    expect(await catalog.deletePartitions([{ bucket: 'b', dt: '2024-01-01' }])).toBe(0);
    expect(await catalog.listPartitions()).toEqual([]);
  });
});
