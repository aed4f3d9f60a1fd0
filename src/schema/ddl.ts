/**
 * Query-engine text derived from the one schema declaration (via src/schema/table.ts): Athena
 * CREATE EXTERNAL TABLE, the DuckDB view, Athena partition-projection parameters, and the rule for
 * which column type changes an existing table can take (shared by the local and Glue catalogs).
 */
import { CatalogError } from '../errors.js';
import type { CatalogColumn } from '../catalog/Catalog.js';
import type { Storage } from '../storage/Storage.js';
import { DEFAULT_DATABASE, DEFAULT_TABLE, TABLE_COLUMNS, TABLE_PARTITION_KEYS } from './table.js';
import { SCHEMA_VERSION, SCHEMA_VERSION_KEY } from '../../schemas/accessLog.js';

export interface AthenaDdlOptions {
  /** Table root, e.g. `s3://lake/logs/`. */
  location: string;
  database?: string;
  table?: string;
  /** Emit Athena partition-projection TBLPROPERTIES instead of relying on registered partitions. */
  projection?: boolean;
  /** Source buckets for the `bucket` enum; without them `bucket` is injected (queries must filter on it). */
  buckets?: string[];
  /** First dt (YYYY-MM-DD) of the projected range; defaults to one year back. */
  dtStart?: string;
}

export function withSlash(location: string): string {
  return location.endsWith('/') ? location : location + '/';
}

/**
 * Athena projection parameters for `bucket=<b>/dt=<d>/` partitions. The same map goes into the Glue
 * table Parameters (GlueCatalog with projection) and into the Athena DDL's TBLPROPERTIES.
 */
export function projectionParameters(location: string, buckets: readonly string[] | undefined, dtStart?: string): Record<string, string> {
  const params: Record<string, string> = {
    'projection.enabled': 'true',
    'projection.dt.type': 'date',
    'projection.dt.format': 'yyyy-MM-dd',
    // Log dates are never in the future, so NOW closes the range without ever needing an update.
    'projection.dt.range': `${dtStart ?? 'NOW-1YEARS'},NOW`,
    'projection.dt.interval': '1',
    'projection.dt.interval.unit': 'DAYS',
    'storage.location.template': `${withSlash(location)}bucket=\${bucket}/dt=\${dt}/`,
  };
  if (buckets && buckets.length > 0) {
    params['projection.bucket.type'] = 'enum';
    params['projection.bucket.values'] = [...new Set(buckets)].sort().join(',');
  } else {
    params['projection.bucket.type'] = 'injected';
  }
  return params;
}

export interface LakePartitions {
  /** Source buckets as their `bucket=` directory names, sorted. */
  readonly buckets: string[];
  /** Earliest `dt=` directory of any bucket, YYYY-MM-DD; undefined when the lake has none. */
  readonly firstDt?: string;
}

/**
 * What a projected table must cover, read from the lake itself: the buckets of its
 * `bucket=<b>/dt=<d>/` files and the earliest `dt`. The listing, not a catalog, because every catalog
 * kind (none included) writes the same directories. One flat listing of the `bucket=` keys rather than
 * a directory walk: S3-compatible servers such as s3rver miss "directories" whose objects lie two levels
 * down, and a lake's files number in the thousands, a few pages.
 */
export async function lakePartitions(storage: Storage): Promise<LakePartitions> {
  const buckets = new Set<string>();
  let firstDt: string | undefined;
  for (const { key } of (await storage.list('bucket=')).objects) {
    const m = /^bucket=([^/]+)\/dt=(\d{4}-\d{2}-\d{2})\/[^/]+\.parquet$/.exec(key);
    if (!m) continue; // staged files, strays
    buckets.add(m[1]!);
    // YYYY-MM-DD sorts as it counts.
    if (firstDt === undefined || m[2]! < firstDt) firstDt = m[2]!;
  }
  return { buckets: [...buckets].sort(), ...(firstDt ? { firstDt } : {}) };
}

/** Hive string literal: Athena DDL is parsed by Hive, where `''` is not an escaped quote but `\'` is. */
function hiveString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const ident = (name: string): string => `\`${name.replace(/`/g, '``')}\``;
const columnLine = (c: CatalogColumn): string => `${ident(c.name)} ${c.type}${c.comment ? ` COMMENT ${hiveString(c.comment)}` : ''}`;

export function athenaDdl(opts: AthenaDdlOptions): string {
  const database = (opts.database ?? DEFAULT_DATABASE).toLowerCase();
  const table = (opts.table ?? DEFAULT_TABLE).toLowerCase();
  const location = withSlash(opts.location);
  const props: Record<string, string> = {
    classification: 'parquet',
    [SCHEMA_VERSION_KEY]: String(SCHEMA_VERSION),
    ...(opts.projection ? projectionParameters(location, opts.buckets, opts.dtStart) : {}),
  };
  return [
    `CREATE EXTERNAL TABLE IF NOT EXISTS ${ident(database)}.${ident(table)} (`,
    TABLE_COLUMNS.map((c) => `  ${columnLine(c)}`).join(',\n'),
    `)`,
    `PARTITIONED BY (${TABLE_PARTITION_KEYS.map(columnLine).join(', ')})`,
    `STORED AS PARQUET`,
    `LOCATION ${hiveString(location)}`,
    `TBLPROPERTIES (`,
    Object.entries(props)
      .map(([k, v]) => `  ${hiveString(k)} = ${hiveString(v)}`)
      .join(',\n'),
    `)`,
  ].join('\n');
}

/**
 * DuckDB view over the partition directories of a local path or s3:// URI. `hive_types` pins bucket to
 * VARCHAR (a numeric-looking bucket name would otherwise become BIGINT) and dt to DATE.
 */
export function duckdbView(opts: { location: string; view?: string }): string {
  const view = opts.view ?? DEFAULT_TABLE;
  const glob = `${withSlash(opts.location)}bucket=*/dt=*/*.parquet`;
  return (
    `CREATE OR REPLACE VIEW "${view.replace(/"/g, '""')}" AS SELECT * FROM read_parquet(` +
    `'${glob.replace(/'/g, "''")}', hive_partitioning = true, hive_types = {'bucket': VARCHAR, 'dt': DATE})`
  );
}

/** Type changes Athena reads from old Parquet files after the table type changed (Athena schema-update docs). */
const WIDENINGS: Record<string, readonly string[]> = {
  tinyint: ['smallint', 'int', 'bigint'],
  smallint: ['int', 'bigint'],
  int: ['bigint'],
  float: ['double'],
};

export interface ReconciledColumns {
  readonly columns: CatalogColumn[];
  readonly added: string[];
  readonly widened: string[];
}

/**
 * Merges the columns schemas/ declares into an existing table's columns: keeps every existing column
 * (Parquet is read by name, so old columns just read as null), appends new ones, widens compatible
 * types, and refuses changes old files cannot be read with.
 */
export function reconcileColumns(existing: readonly CatalogColumn[], desired: readonly CatalogColumn[], where: string): ReconciledColumns {
  const byName = new Map(desired.map((c) => [c.name.toLowerCase(), c]));
  const widened: string[] = [];
  const conflicts: string[] = [];
  const columns = existing.map((old) => {
    const want = byName.get(old.name.toLowerCase());
    byName.delete(old.name.toLowerCase());
    if (!want || want.type.toLowerCase() === old.type.toLowerCase()) return old;
    if (WIDENINGS[old.type.toLowerCase()]?.includes(want.type.toLowerCase())) {
      widened.push(old.name);
      return { ...old, type: want.type };
    }
    conflicts.push(`${old.name} is ${old.type} in the catalog but ${want.type} in schemas/`);
    return old;
  });
  if (conflicts.length > 0) {
    throw new CatalogError(
      `${where}: incompatible column types (${conflicts.join('; ')}); files already written cannot be read ` +
        `with the new type. Recreate the table (drop it and re-run, then re-convert old dates) or run with a new table name.`,
      'incompatible_schema',
    );
  }
  const added = [...byName.values()];
  return { columns: [...columns, ...added], added: added.map((c) => c.name), widened };
}

/** Partition keys cannot change under existing data: the directory layout depends on them. */
export function checkPartitionKeys(existing: readonly CatalogColumn[], desired: readonly CatalogColumn[], where: string): void {
  const show = (keys: readonly CatalogColumn[]): string => keys.map((k) => `${k.name} ${k.type}`).join(', ') || 'none';
  const same =
    existing.length === desired.length &&
    existing.every(
      (k, i) => k.name.toLowerCase() === desired[i]!.name.toLowerCase() && k.type.toLowerCase() === desired[i]!.type.toLowerCase(),
    );
  if (!same) {
    throw new CatalogError(
      `${where}: partition keys are (${show(existing)}) but s3logs writes (${show(desired)}). ` +
        `Use a new table name, or drop the table and re-run.`,
      'incompatible_schema',
    );
  }
}
