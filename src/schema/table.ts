/**
 * Catalog view of the one schema declaration (schemas/accessLog.ts): Glue/Hive column types, the
 * table definition registered in Glue or the local catalog.
 */
import { ACCESS_LOG_COLUMNS, PARTITION_KEYS, SCHEMA_VERSION, type ColumnKind } from '../../schemas/accessLog.js';
import type { CatalogColumn, TableDefinition } from '../catalog/Catalog.js';

/** Glue/Hive type for each column kind; Athena reads these Parquet physical types natively. */
export const GLUE_TYPE: Record<ColumnKind, string> = {
  string: 'string',
  timestamp: 'timestamp',
  int32: 'int',
  int64: 'bigint',
  bool: 'boolean',
};

export const TABLE_COLUMNS: readonly CatalogColumn[] = ACCESS_LOG_COLUMNS.map((c) => ({
  name: c.name,
  type: GLUE_TYPE[c.kind],
  comment: c.description,
}));

export const TABLE_PARTITION_KEYS: readonly CatalogColumn[] = PARTITION_KEYS.map((p) => ({
  name: p.name,
  type: 'string',
  comment: p.description,
}));

export const DEFAULT_DATABASE = 's3_access_logs';
export const DEFAULT_TABLE = 'access_logs';

export function tableDefinition(location: string, database = DEFAULT_DATABASE, table = DEFAULT_TABLE): TableDefinition {
  return {
    database: database.toLowerCase(),
    table: table.toLowerCase(),
    location: location.endsWith('/') ? location : location + '/',
    columns: TABLE_COLUMNS,
    partitionKeys: TABLE_PARTITION_KEYS,
    schemaVersion: SCHEMA_VERSION,
  };
}
