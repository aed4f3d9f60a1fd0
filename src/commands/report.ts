/** `s3logs report`: canned security, usage, cost and operations queries over a date range, as HTML, JSON or Markdown. */
import { writeFile } from 'node:fs/promises';
import { dateRange, parseAwsFlags, parseFlags } from '../config.js';
import { ConfigError } from '../errors.js';
import { buildReport } from '../report/buildReport.js';
import { renderHtml } from '../report/html.js';
import { renderMarkdown } from '../report/markdown.js';
import { loadPrices } from '../report/prices.js';
import { athenaSql } from '../report/queries.js';
import { DEFAULT_DATABASE, DEFAULT_TABLE } from '../schema/table.js';
import { formatDay, utcDay } from '../stages/time.js';

export const REPORT_HELP = `s3logs report --dest <uri> [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--bucket <name>] [--out report.html] [--format html|json|md]
s3logs report --athena-sql [--from …] [--to …] [--bucket <name>] [--database <db>] [--table <t>]

Answers security, usage, cost and operations questions from the Parquet under --dest with DuckDB
(in-process, no extension downloads). Only the bucket=<b>/dt=<d>/ partitions of the range are listed
and read; an s3:// destination is read through s3logs' own S3 client (files in range only).

  --dest <uri>            the Parquet table root: s3://bucket/prefix/, file:///path, or a directory
  --from YYYY-MM-DD       first dt of the range (UTC; default yesterday)
  --to YYYY-MM-DD         last dt of the range, inclusive (default --from)
  --bucket <name>         only this source bucket
  --out <file>            write the report there (default stdout); .json/.md/.html also pick --format
  --format html|json|md   html: one self-contained page with charts; json and md: the same numbers
  --prices <file.json>    price table for the cost estimate (default: us-east-1 S3 Standard list prices)
  --athena-sql            print the same queries as Athena SQL for the Glue table instead of running them
  --database <db> --table <t>   Glue names for --athena-sql (default ${DEFAULT_DATABASE}.${DEFAULT_TABLE})

AWS options: --region, --profile, --endpoint-url, --expected-bucket-owner (as for convert).
Definitions of every figure and the price table: docs/report.md.
Exit codes: 0 report written, 1 failed (storage, query), 2 bad usage.
`;

const REPORT_FLAGS = {
  dest: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  bucket: { type: 'string' },
  out: { type: 'string' },
  format: { type: 'string' },
  prices: { type: 'string' },
  'athena-sql': { type: 'boolean' },
  database: { type: 'string' },
  table: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  'endpoint-url': { type: 'string' },
  'expected-bucket-owner': { type: 'string' },
} as const;

type Format = 'html' | 'json' | 'md';

function pickFormat(format: string | undefined, out: string | undefined): Format {
  if (format !== undefined) {
    if (format !== 'html' && format !== 'json' && format !== 'md') throw new ConfigError(`--format must be html, json or md, got ${JSON.stringify(format)}`, '--format');
    return format;
  }
  if (out?.endsWith('.json')) return 'json';
  if (out?.endsWith('.md')) return 'md';
  return 'html';
}

function glueName(value: string | undefined, flag: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (!/^[a-z0-9_]{1,255}$/.test(value)) throw new ConfigError(`${flag} must be lower case letters, digits and _ (Glue names), got ${JSON.stringify(value)}`, flag);
  return value;
}

async function emit(text: string, out: string | undefined): Promise<void> {
  if (out === undefined) process.stdout.write(text);
  else await writeFile(out, text);
}

export async function runReport(argv: string[]): Promise<number> {
  const values = parseFlags(argv, REPORT_FLAGS, 'report');
  const yesterday = formatDay(utcDay(Date.now()) - 1);
  const from = values.from ?? yesterday;
  const days = dateRange(from, values.to, '--from', '--to');
  const to = days[days.length - 1]!;
  const bucket = values.bucket;
  if (bucket !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9._-]{1,254}$/.test(bucket)) throw new ConfigError(`--bucket ${JSON.stringify(bucket)} is not a bucket name`, '--bucket');
  const prices = await loadPrices(values.prices);
  if (values['athena-sql']) {
    if (values.format !== undefined) throw new ConfigError('--format does not apply to --athena-sql (it prints SQL)', '--format');
    const sql = athenaSql({
      from, to, prices, ...(bucket !== undefined ? { bucket } : {}),
      database: glueName(values.database, '--database', DEFAULT_DATABASE),
      tableName: glueName(values.table, '--table', DEFAULT_TABLE),
    });
    await emit(sql, values.out);
    return 0;
  }
  if (values.database !== undefined || values.table !== undefined) throw new ConfigError('--database and --table only apply to --athena-sql', values.database !== undefined ? '--database' : '--table');
  if (!values.dest) throw new ConfigError('--dest is required, e.g. --dest s3://my-lake/access-logs/ or --dest ./lake', '--dest');
  const format = pickFormat(values.format, values.out);
  const { aws } = parseAwsFlags(values);
  const report = await buildReport({ dest: values.dest, from, to, ...(bucket !== undefined ? { bucket } : {}), prices, store: { aws } });
  const text = format === 'json' ? JSON.stringify(report, null, 2) + '\n' : format === 'md' ? renderMarkdown(report) : renderHtml(report);
  await emit(text, values.out);
  process.stderr.write(
    `report ${report.from}..${report.to}: ${report.buckets.length} bucket(s), ${report.rows} rows from ${report.files} files in ${report.partitions} partitions, ` +
      `${report.seconds.total.toFixed(2)} s (list ${report.seconds.list.toFixed(2)}, fetch ${report.seconds.fetch.toFixed(2)}, query ${report.seconds.query.toFixed(2)})` +
      `${values.out ? ` → ${values.out}` : ''}\n`,
  );
  return 0;
}
