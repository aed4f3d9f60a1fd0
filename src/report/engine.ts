/**
 * Runs the report queries in an in-process DuckDB over local Parquet files. Extension auto-install and
 * auto-load are off (parquet, json and icu are built into @duckdb/node-api), so nothing is downloaded.
 */
import type * as DuckDB from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ACCESS_LOG_COLUMNS, type ColumnKind } from '../../schemas/accessLog.js';
import { quoteIdent } from './queries.js';
import type { QueryResult, ReportQuery, Row, SqlContext } from './query.js';
import { requireCjs } from '../cjs.js';

// By require, not import: src/cjs.ts says why.
const { DuckDBInstance } = requireCjs('@duckdb/node-api') as typeof DuckDB;

const DUCK_TYPE: Record<ColumnKind, string> = {
  string: 'VARCHAR',
  timestamp: 'TIMESTAMPTZ',
  int32: 'INTEGER',
  int64: 'BIGINT',
  bool: 'BOOLEAN',
};

const sqlString = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** Opens DuckDB with no network features and UTC as the session time zone (hour() of requestdatetime). */
export async function openDuckDb(): Promise<{ connection: DuckDBConnection; close(): void }> {
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    enable_external_access: 'true',
  });
  const connection = await instance.connect();
  await connection.run(`SET TimeZone = 'UTC'`);
  return {
    connection,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/**
 * Creates `name` over the files with bucket as VARCHAR and dt as VARCHAR (the report: as in the Glue
 * table, so the same SQL runs in Athena) or DATE (`s3logs query`: DuckDB's own reading of the path, so
 * `dt >= current_date - 7` works). union_by_name lets files written before a column was added read it
 * as null. With no files, an empty table of the schema.
 */
export async function createTable(
  connection: DuckDBConnection,
  name: string,
  paths: readonly string[],
  dtType: 'VARCHAR' | 'DATE' = 'VARCHAR',
): Promise<void> {
  if (paths.length === 0) {
    const columns = ACCESS_LOG_COLUMNS.map((c) => `${quoteIdent(c.name)} ${DUCK_TYPE[c.kind]}`);
    await connection.run(`CREATE TABLE ${name} (${[...columns, 'bucket VARCHAR', `dt ${dtType}`].join(', ')})`);
    return;
  }
  await connection.run(
    `CREATE VIEW ${name} AS SELECT * FROM read_parquet([${paths.map(sqlString).join(', ')}], ` +
      `hive_partitioning = true, hive_types = {'bucket': VARCHAR, 'dt': ${dtType}}, union_by_name = true)`,
  );
}

/** JSON-friendly value: counts and byte sums come back as BIGINT/HUGEINT, timestamps as Date. */
export function plainValue(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return String(value);
}

export async function runSql(connection: DuckDBConnection, sql: string): Promise<Row[]> {
  const reader = await connection.runAndReadAll(sql);
  return (reader.getRowObjectsJS() as Array<Record<string, unknown>>).map((row) => {
    const out: Row = {};
    for (const [k, v] of Object.entries(row)) out[k] = plainValue(v);
    return out;
  });
}

export async function runQueries(connection: DuckDBConnection, queries: readonly ReportQuery[], ctx: SqlContext): Promise<QueryResult[]> {
  const results: QueryResult[] = [];
  for (const q of queries) {
    const rows = await runSql(connection, q.sql(ctx));
    results.push({
      id: q.id,
      section: q.section,
      title: q.title,
      description: q.description,
      columns: q.columns,
      ...(q.chart ? { chart: q.chart } : {}),
      rows,
    });
  }
  return results;
}
