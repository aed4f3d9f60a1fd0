/**
 * The DuckDB contenders of `npm run bench`: raw access logs → bucket/dt-partitioned zstd Parquet, the
 * two ways a DuckDB user would write it. Run by scripts/bench.ts as a child process so its peak RSS is
 * measured like s3logs'; prints one JSON line `{variant, rows, seconds}`.
 *
 *   node dist/scripts/benchDuckdb.js --variant read_csv|regex --source <dir> --dest <dir>
 *
 * Neither variant is tuned to the generator's data: each uses what the DuckDB docs and error messages
 * lead a user to, documented in docs/benchmark.md.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { ACCESS_LOG_COLUMNS } from '../schemas/accessLog.js';

export const DUCKDB_VARIANTS = ['read_csv', 'regex'] as const;
export type DuckdbVariant = (typeof DUCKDB_VARIANTS)[number];

/** The 27 log fields in log order, named as AWS's Athena table names them. */
const FIELDS = ACCESS_LOG_COLUMNS.filter((c) => c.source === 'field').map((c) => c.name);

/** AWS's current Athena `input.regex` (FORMAT.md §5b) after SQL unescaping; `^` because RegexSerDe must match the whole line. */
export const ATHENA_INPUT_REGEX =
  '^([^ ]*) ([^ ]*) \\[(.*?)\\] ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ("[^"]*"|-) (-|[0-9]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ("[^"]*"|-) ([^ ]*)(?: ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*))?.*$';

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Typed columns in schema order, then the partition columns; `f(name)` is the field's text. */
function typedSelect(f: (name: string) => string, time: string): string {
  const cast = (name: string): string => {
    const column = ACCESS_LOG_COLUMNS.find((c) => c.name === name);
    switch (column?.kind) {
      case 'timestamp':
        return `${time} AS requestdatetime`;
      case 'int32':
        return `TRY_CAST(${f(name)} AS INTEGER) AS ${name}`;
      case 'int64':
        return `TRY_CAST(${f(name)} AS BIGINT) AS ${name}`;
      case 'bool':
        return `coalesce(${f(name)} = 'Yes', false) AS ${name}`;
      default:
        return `${f(name)} AS "${name}"`;
    }
  };
  return `${FIELDS.map(cast).join(',\n    ')},\n    bucket_name AS bucket, strftime(requestdatetime, '%Y-%m-%d') AS dt`;
}

function copyTo(select: string, dest: string): string {
  return `COPY (${select}) TO ${literal(dest)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (bucket, dt))`;
}

/**
 * (a) read_csv, space-delimited, `"` quoted, everything VARCHAR. The bracketed time has a space, so it
 * arrives as two columns. Plain settings fail on the first 26-field record; null_padding, strict_mode
 * and ignore_errors are the fixes DuckDB's own error message suggests.
 */
export function readCsvSql(sourceGlob: string, dest: string): string {
  return copyTo(readCsvSelect(sourceGlob), dest);
}

/** The typed rows of (a) as a SELECT (27 log columns, bucket, dt): also the do-it-yourself table of `npm run bench:query`. */
export function readCsvSelect(sourceGlob: string): string {
  const columns = [...FIELDS.slice(0, 2), 'time_a', 'time_b', ...FIELDS.slice(3)];
  const spec = `{${columns.map((c) => `'${c}': 'VARCHAR'`).join(', ')}}`;
  const time = `try_strptime(time_a || ' ' || time_b, '[%d/%b/%Y:%H:%M:%S %z]')`;
  const read = `read_csv(${literal(sourceGlob)}, delim = ' ', quote = '"', header = false, auto_detect = false, nullstr = '-', columns = ${spec}, null_padding = true, strict_mode = false, ignore_errors = true)`;
  return `SELECT ${typedSelect((name) => `"${name}"`, time)}\n  FROM ${read}`;
}

/**
 * (b) AWS's Athena regex via regexp_extract over whole lines (read_csv with a delimiter byte that never
 * occurs and no quoting). Like RegexSerDe, a line that does not match yields no values: those rows are
 * dropped (every group is '' then). The cleanup a user adds: `-` → NULL, surrounding quotes removed.
 */
export function regexSql(sourceGlob: string, dest: string): string {
  const names = `[${FIELDS.map(literal).join(', ')}]`;
  const read = `read_csv(${literal(sourceGlob)}, columns = {'line': 'VARCHAR'}, delim = '\u0001', quote = '', escape = '', header = false, auto_detect = false)`;
  const token = (name: string): string => `nullif(nullif(f.${name}, ''), '-')`;
  const quoted = new Set(['request_uri', 'referrer', 'useragent']);
  const field = (name: string): string =>
    quoted.has(name)
      ? `CASE WHEN f.${name} IN ('', '-', '"-"') THEN NULL WHEN f.${name} LIKE '"%"' THEN f.${name}[2:-2] ELSE f.${name} END`
      : token(name);
  const time = `try_strptime(f.requestdatetime, '%d/%b/%Y:%H:%M:%S %z')`;
  const lines = `SELECT regexp_extract(line, ${literal(ATHENA_INPUT_REGEX)}, ${names}) AS f FROM ${read}`;
  return copyTo(`SELECT ${typedSelect(field, time)}\n  FROM (${lines}) WHERE f.bucketowner <> ''`, dest);
}

/** Converts every object under `source` into `dest`; returns the rows COPY wrote. */
export async function convertWithDuckdb(variant: DuckdbVariant, source: string, dest: string): Promise<number> {
  await rm(dest, { recursive: true, force: true });
  // No network: everything used here is built into the bundled binary (parquet, icu for %z).
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    temp_directory: `${dest}.tmp`,
  });
  const connection = await instance.connect();
  try {
    // dt is the UTC date of the request, whatever the machine's zone.
    await connection.run(`SET TimeZone = 'UTC'`);
    const glob = join(source, '*');
    const reader = await connection.runAndReadAll(variant === 'read_csv' ? readCsvSql(glob, dest) : regexSql(glob, dest));
    return Number(reader.getRows()[0]?.[0] ?? 0);
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(`${dest}.tmp`, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { variant: { type: 'string' }, source: { type: 'string' }, dest: { type: 'string' } },
    strict: true,
  });
  const variant = DUCKDB_VARIANTS.find((v) => v === values.variant);
  if (variant === undefined || values.source === undefined || values.dest === undefined) {
    throw new Error(`usage: benchDuckdb --variant ${DUCKDB_VARIANTS.join('|')} --source <dir> --dest <dir>`);
  }
  const started = performance.now();
  const rows = await convertWithDuckdb(variant, values.source, values.dest);
  console.log(JSON.stringify({ variant, rows, seconds: (performance.now() - started) / 1000 }));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
