/**
 * Row-by-row comparison for `npm run bench`, in DuckDB: the generator's truth (written once per corpus
 * into a DuckDB file) against s3logs' Parquet, and each DuckDB contender's Parquet against s3logs'.
 *
 * Rows are matched on a key (bucket_name, requestid, operation, key, requestdatetime) plus the
 * occurrence number within that key, since S3 does not promise unique request ids. Every compared
 * value is normalised to text (timestamps as epoch milliseconds) so types never cause a difference.
 */
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { ACCESS_LOG_COLUMNS } from '../schemas/accessLog.js';
import type { ExpectedRow } from './genLogs.js';

export const KEY_COLUMNS = ['bucket_name', 'requestid', 'operation', 'key', 'requestdatetime'] as const;
/** What every contender is checked on: the free-text fields, two numbers, both ends of the optional tail, the partition. */
export const VALUE_COLUMNS = ['useragent', 'referrer', 'request_uri', 'httpstatus', 'bytessent', 'hostid', 'sourceregion', 'dt'] as const;
/** s3logs is checked against the truth on every column it writes. */
export const ALL_VALUE_COLUMNS: readonly string[] = [
  ...ACCESS_LOG_COLUMNS.map((c) => c.name).filter((n) => !(KEY_COLUMNS as readonly string[]).includes(n)),
  'dt',
];
const TRUTH_COLUMNS = [...ACCESS_LOG_COLUMNS.map((c) => c.name), 'dt'];

export interface Comparison {
  referenceRows: number;
  candidateRows: number;
  /** Reference rows with no candidate row of the same key: dropped. */
  missing: number;
  /** Candidate rows with no reference row of the same key: invented or mangled beyond recognition. */
  extra: number;
  /** Rows matched on the key whose compared values differ. */
  wrong: number;
  /** For matched rows: how many differ in each compared column. */
  wrongByColumn: Record<string, number>;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** DuckDB without network access; spills to `tempDir` if a join outgrows memory. */
export async function openDuckdb(tempDir: string): Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }> {
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    temp_directory: tempDir,
  });
  const connection = await instance.connect();
  await connection.run(`SET TimeZone = 'UTC'`);
  return { instance, connection };
}

/** Appends generator rows to `<path>` (a DuckDB database, table `truth`) as the text the comparison uses. */
export class TruthWriter {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly appender: DuckDBAppender,
  ) {}

  static async create(path: string): Promise<TruthWriter> {
    const instance = await DuckDBInstance.create(path, { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
    const connection = await instance.connect();
    await connection.run(`CREATE OR REPLACE TABLE truth (${TRUTH_COLUMNS.map((c) => `${quoteIdent(c)} VARCHAR`).join(', ')})`);
    return new TruthWriter(instance, connection, await connection.createAppender('truth'));
  }

  append(row: ExpectedRow): void {
    for (const { name } of ACCESS_LOG_COLUMNS) {
      const value = row[name];
      if (value === null) this.appender.appendNull();
      else this.appender.appendVarchar(String(value));
    }
    // The partition a row belongs in: the UTC date of its own request time.
    this.appender.appendVarchar(new Date(row.requestdatetime as number).toISOString().slice(0, 10));
    this.appender.endRow();
  }

  close(): void {
    this.appender.closeSync();
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** SELECT of `columns` as text from a bucket=/dt= Parquet tree. */
export function parquetRows(dir: string, columns: readonly string[]): string {
  const text = (c: string): string =>
    c === 'requestdatetime' ? `CAST(epoch_ms(requestdatetime) AS VARCHAR)` : `CAST(${quoteIdent(c)} AS VARCHAR)`;
  return `SELECT ${columns.map((c) => `${text(c)} AS ${quoteIdent(c)}`).join(', ')} FROM read_parquet(${literal(`${dir}/**/*.parquet`)}, hive_partitioning = true)`;
}

/** SELECT of `columns` from the truth database, attached as `alias`. */
export function truthRows(alias: string, columns: readonly string[]): string {
  return `SELECT ${columns.map(quoteIdent).join(', ')} FROM ${quoteIdent(alias)}.truth`;
}

/** Full outer join of two row sets on KEY_COLUMNS + occurrence; counts missing, extra and wrong rows. */
export async function compareRows(
  connection: DuckDBConnection,
  reference: string,
  candidate: string,
  values: readonly string[],
): Promise<Comparison> {
  const keys = KEY_COLUMNS.map(quoteIdent);
  const vals = values.map(quoteIdent);
  // Duplicated keys pair up in value order, so two identical multisets always match completely.
  const numbered = (sql: string): string =>
    `SELECT *, row_number() OVER (PARTITION BY ${keys.join(', ')} ORDER BY ${vals.join(', ')}) AS _n FROM (${sql})`;
  const on = [...keys.map((k) => `r.${k} IS NOT DISTINCT FROM c.${k}`), 'r._n = c._n'].join(' AND ');
  const matched = 'r._n IS NOT NULL AND c._n IS NOT NULL';
  const differs = (v: string): string => `r.${v} IS DISTINCT FROM c.${v}`;
  const sql = `SELECT count(r._n) AS reference_rows, count(c._n) AS candidate_rows,
      count(*) FILTER (WHERE c._n IS NULL) AS missing,
      count(*) FILTER (WHERE r._n IS NULL) AS extra,
      count(*) FILTER (WHERE ${matched} AND (${vals.map(differs).join(' OR ')})) AS wrong,
      ${vals.map((v, i) => `count(*) FILTER (WHERE ${matched} AND ${differs(v)}) AS d${i}`).join(',\n      ')}
    FROM (${numbered(reference)}) r FULL OUTER JOIN (${numbered(candidate)}) c ON ${on}`;
  const reader = await connection.runAndReadAll(sql);
  const row = reader.getRows()[0] ?? [];
  const n = (i: number): number => Number(row[i] ?? 0);
  const wrongByColumn: Record<string, number> = {};
  values.forEach((v, i) => {
    if (n(5 + i) > 0) wrongByColumn[v] = n(5 + i);
  });
  return { referenceRows: n(0), candidateRows: n(1), missing: n(2), extra: n(3), wrong: n(4), wrongByColumn };
}
