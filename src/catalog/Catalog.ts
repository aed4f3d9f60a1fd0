/**
 * The catalog seam: after a key date's files are committed, its partitions are registered in a
 * Catalog (the local file catalog by default, AWS Glue with --catalog glue). The pipeline never knows
 * which one it talks to; one contract test suite runs against every implementation.
 */

/** A column as catalogs see it: Hive/Glue type names (string, int, bigint, boolean, timestamp). */
export interface CatalogColumn {
  readonly name: string;
  readonly type: string;
  readonly comment?: string;
}

export interface TableDefinition {
  readonly database: string;
  readonly table: string;
  /** Table root, e.g. `s3://lake/prefix/` or an absolute local path. */
  readonly location: string;
  readonly columns: readonly CatalogColumn[];
  readonly partitionKeys: readonly CatalogColumn[];
  readonly schemaVersion: number;
  /**
   * --redact of the data being registered (absent: not stated, leaves the table's record as it is).
   * Catalogs keep, as `s3logs.redact`, only what holds for every row registered into the table: a table
   * created with `presigned` stays `presigned` while every run redacts, and drops to `none` the first
   * time rows without it are registered (redactions can only be undone by converting into a new table).
   */
  readonly redact?: readonly string[];
}

export interface PartitionValues {
  readonly bucket: string;
  /** YYYY-MM-DD */
  readonly dt: string;
}

export interface PartitionEntry extends PartitionValues {
  /** Partition directory, `<table location>bucket=<b>/dt=<d>/`. */
  readonly location: string;
}

/** What a key date contributed to one partition (kept by catalogs that record counts). */
export interface PartitionContribution extends PartitionEntry {
  readonly files: readonly string[];
  readonly rows: number;
}

export interface EnsureTableResult {
  readonly created: boolean;
  /** Columns added to an existing table because schemas/ gained them. */
  readonly columnsAdded: readonly string[];
}

export interface RegisterResult {
  readonly created: number;
  readonly updated: number;
  readonly unchanged: number;
}

export interface Catalog {
  readonly kind: 'local' | 'glue' | 'none';
  /** Creates database and table when missing; adds new columns; throws CatalogError on incompatible types. */
  ensureTable(table: TableDefinition): Promise<EnsureTableResult>;
  /**
   * Registers the partitions a key date wrote. Idempotent: registering the same partitions again
   * changes nothing. Only call after the partitions' files are committed.
   */
  registerPartitions(keyDate: string, partitions: readonly PartitionContribution[]): Promise<RegisterResult>;
  /** Removes partitions whose directories no longer hold any file. */
  deletePartitions(partitions: readonly PartitionValues[]): Promise<number>;
  /** Every registered partition (all pages). */
  listPartitions(): Promise<PartitionEntry[]>;
  /**
   * Reads what registering will need (no writes), so that an unreachable catalog is a setup error found
   * before any key date publishes, not a catalog left behind after each one. Optional.
   */
  probe?(): Promise<void>;
}

export function partitionPath(values: PartitionValues): string {
  return `bucket=${escapePartitionValue(values.bucket)}/dt=${values.dt}/`;
}

/**
 * Hive path escaping (as Hive's FileUtils.escapePathName): bucket names are normally safe, but legacy
 * us-east-1 names may hold characters that must not appear raw in a partition directory.
 */
export function escapePartitionValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f || '"#%\'*/:=?\\{[]^'.includes(ch)) {
      out += '%' + code.toString(16).toUpperCase().padStart(2, '0');
    } else {
      out += ch;
    }
  }
  return out;
}

export function partitionName(values: PartitionValues): string {
  return `bucket=${values.bucket}/dt=${values.dt}`;
}
