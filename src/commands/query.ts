/**
 * `s3logs query`: any SQL in the embedded DuckDB over an `access_logs` view of the lake, built as the
 * report builds its own (only the range's bucket=/dt= partitions listed and read; an s3:// lake fetched
 * through s3logs' S3 client, so DuckDB needs no extension or network).
 */
import { readFile } from 'node:fs/promises';
import { dateRange, parseAwsFlags } from '../config.js';
import { FlagValues, readArgvAndPositionals } from '../flags/read.js';
import { FLAGS } from '../flags/table.js';
import { ConfigError, QueryError, errorMessage } from '../errors.js';
import { openDest, type StoreOptions } from '../locations.js';
import { createTable, openDuckDb } from '../report/engine.js';
import { formatBytes } from '../report/format.js';
import { listPartitions, localFiles } from '../report/partitions.js';
import { writeResult, type OutputFormat, type TextSink } from './queryOutput.js';
import { grouped } from '../numberText.js';

/** Terminal: a table for people; otherwise CSV, the format every tool reads. */
export function pickFormat(format: string | undefined, stdoutIsTerminal: boolean): OutputFormat {
  if (format === undefined) return stdoutIsTerminal ? 'table' : 'csv';
  return FLAGS.queryFormat.kind.parse(format, '--format') satisfies OutputFormat;
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** The SQL from the argument, --file, or stdin (when it is not a terminal: a user at a prompt gets the usage instead of a hang). */
async function readSql(positionals: string[], file: string | undefined, stdin: NodeJS.ReadStream): Promise<string> {
  if (positionals.length > 1) {
    throw new ConfigError(
      `give the SQL as one quoted argument, e.g. s3logs query --dest ./lake "SELECT count(*) FROM access_logs" (got ${positionals.length} arguments)`,
      'SQL',
    );
  }
  if (positionals.length === 1 && file !== undefined)
    throw new ConfigError('give the SQL either as an argument or with --file, not both', '--file');
  let sql: string;
  if (positionals.length === 1) sql = positionals[0]!;
  else if (file !== undefined && file !== '-') {
    sql = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new ConfigError(`--file ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`, '--file');
    });
  } else if (file === '-' || !stdin.isTTY) sql = await readStdin(stdin);
  else
    throw new ConfigError(
      'no SQL: give it as an argument, with --file, or on stdin, e.g. s3logs query --dest ./lake "SELECT count(*) FROM access_logs"',
      'SQL',
    );
  if (sql.trim() === '')
    throw new ConfigError('the SQL is empty', positionals.length === 1 ? 'SQL' : file !== undefined && file !== '-' ? '--file' : 'stdin');
  return sql;
}

export interface QueryOptions {
  readonly dest: string;
  /** Inclusive dt range; undefined reads every partition. */
  readonly days?: readonly string[];
  readonly sql: string;
  readonly format: OutputFormat;
  readonly store: StoreOptions;
  readonly out: TextSink;
}

export interface QueryStats {
  readonly rows: number;
  readonly partitions: number;
  readonly files: number;
  readonly parquetBytes: number;
  /** Bytes fetched from an s3:// destination (0 for a local one, read in place). */
  readonly downloadedBytes: number;
  readonly seconds: number;
}

/** Lists the range's partitions, makes them readable, creates access_logs and writes the last statement's result. */
export async function queryLake(options: QueryOptions): Promise<QueryStats> {
  const started = performance.now();
  const storage = await openDest(options.dest, options.store);
  try {
    const partitions = await listPartitions(storage, options.days);
    const files = await localFiles(
      storage,
      partitions.flatMap((p) => p.keys),
    );
    try {
      const duck = await openDuckDb();
      try {
        await createTable(duck.connection, 'access_logs', files.paths, 'DATE');
        // stream() runs every statement and streams the last one's rows.
        const result = await duck.connection.stream(options.sql).catch((error: unknown) => {
          throw new QueryError(errorMessage(error).replace(/^Failed to extract statements: /, ''), { cause: error });
        });
        // A failure while rows stream (a cast that fails on row 10,000) is DuckDB's too (the sink never rejects).
        const rows = await writeResult(result, options.format, options.out).catch((error: unknown) => {
          throw new QueryError(errorMessage(error), { cause: error });
        });
        return {
          rows,
          partitions: partitions.length,
          files: files.paths.length,
          parquetBytes: partitions.reduce((n, p) => n + p.bytes, 0),
          downloadedBytes: files.downloadedBytes,
          seconds: (performance.now() - started) / 1000,
        };
      } finally {
        duck.close();
      }
    } finally {
      await files.cleanup();
    }
  } finally {
    await storage.close?.();
  }
}

/** stdout with back-pressure: a large CSV never piles up in memory while a slow reader drains it. */
export function streamSink(stream: NodeJS.WritableStream): TextSink {
  return {
    write: (text) =>
      new Promise<void>((resolve) => {
        if (stream.write(text)) resolve();
        else stream.once('drain', resolve);
      }),
  };
}

const plural = (n: number, word: string): string => `${grouped(n)} ${word}${n === 1 ? '' : 's'}`;

export async function runQuery(argv: string[]): Promise<number> {
  const parsed = readArgvAndPositionals('query', argv);
  const values = new FlagValues('query', parsed.values);
  const dest = values.text(FLAGS.queryDest);
  if (!dest) throw new ConfigError('--dest is required, e.g. --dest s3://my-lake/access-logs/ or --dest ./lake', '--dest');
  const from = values.text(FLAGS.queryFrom);
  const to = values.text(FLAGS.queryTo);
  if (to !== undefined && from === undefined) throw new ConfigError('--to needs --from (the first dt of the range)', '--to');
  const days = from === undefined ? undefined : dateRange(from, to, '--from', '--to');
  const format = pickFormat(values.text(FLAGS.queryFormat), process.stdout.isTTY === true);
  const { aws } = parseAwsFlags(values);
  const sql = await readSql(parsed.positionals, values.text(FLAGS.queryFile), process.stdin);
  const stats = await queryLake({ dest, ...(days ? { days } : {}), sql, format, store: { aws }, out: streamSink(process.stdout) });
  const range = days ? (days.length === 1 ? `dt ${days[0]}` : `dt ${days[0]}..${days[days.length - 1]}`) : 'every dt';
  process.stderr.write(
    `${plural(stats.rows, 'row')} in ${stats.seconds.toFixed(2)} s; access_logs over ${plural(stats.files, 'file')} ` +
      `(${formatBytes(stats.parquetBytes)}${stats.downloadedBytes > 0 ? ' fetched' : ''}) in ${plural(stats.partitions, 'partition')}, ${range}\n`,
  );
  return 0;
}
