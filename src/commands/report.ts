/** `s3logs report`: canned security, usage, cost and operations queries over a date range, as HTML, JSON or Markdown. */
import { writeFile } from 'node:fs/promises';
import { dateRange, parseAwsFlags } from '../config.js';
import { ConfigError } from '../errors.js';
import { FlagValues } from '../flags/read.js';
import { FLAGS } from '../flags/table.js';
import { buildReport } from '../report/buildReport.js';
import { renderHtml } from '../report/html.js';
import { renderMarkdown } from '../report/markdown.js';
import { loadPrices } from '../report/prices.js';
import { athenaSql } from '../report/queries.js';
import { DEFAULT_DATABASE, DEFAULT_TABLE } from '../schema/table.js';
import { formatDay, utcDay } from '../stages/time.js';

type Format = 'html' | 'json' | 'md';

function pickFormat(format: Format | undefined, out: string | undefined): Format {
  if (format !== undefined) return format;
  if (out?.endsWith('.json')) return 'json';
  if (out?.endsWith('.md')) return 'md';
  return 'html';
}

async function emit(text: string, out: string | undefined): Promise<void> {
  if (out === undefined) process.stdout.write(text);
  else await writeFile(out, text);
}

export async function runReport(argv: string[]): Promise<number> {
  const values = FlagValues.fromArgv('report', argv);
  const yesterday = formatDay(utcDay(Date.now()) - 1);
  const from = values.text(FLAGS.reportFrom) ?? yesterday;
  const days = dateRange(from, values.text(FLAGS.reportTo), '--from', '--to');
  const to = days[days.length - 1]!;
  const bucket = values.optional(FLAGS.reportBucket);
  const out = values.text(FLAGS.reportOut);
  const prices = await loadPrices(values.text(FLAGS.prices));
  if (values.flag(FLAGS.athenaSql)) {
    if (values.given(FLAGS.format)) throw new ConfigError('--format does not apply to --athena-sql (it prints SQL)', '--format');
    const sql = athenaSql({
      from,
      to,
      prices,
      ...(bucket !== undefined ? { bucket } : {}),
      database: values.optional(FLAGS.reportDatabase) ?? DEFAULT_DATABASE,
      tableName: values.optional(FLAGS.reportTable) ?? DEFAULT_TABLE,
    });
    await emit(sql, out);
    return 0;
  }
  if (values.given(FLAGS.reportDatabase) || values.given(FLAGS.reportTable))
    throw new ConfigError(
      '--database and --table only apply to --athena-sql',
      values.given(FLAGS.reportDatabase) ? '--database' : '--table',
    );
  const dest = values.text(FLAGS.reportDest);
  if (!dest) throw new ConfigError('--dest is required, e.g. --dest s3://my-lake/access-logs/ or --dest ./lake', '--dest');
  const format = pickFormat(values.optional(FLAGS.format), out);
  const { aws } = parseAwsFlags(values);
  const report = await buildReport({ dest, from, to, ...(bucket !== undefined ? { bucket } : {}), prices, store: { aws } });
  const text = format === 'json' ? JSON.stringify(report, null, 2) + '\n' : format === 'md' ? renderMarkdown(report) : renderHtml(report);
  await emit(text, out);
  process.stderr.write(
    `report ${report.from}..${report.to}: ${report.buckets.length} bucket(s), ${report.rows} rows from ${report.files} files in ${report.partitions} partitions, ` +
      `${report.seconds.total.toFixed(2)} s (list ${report.seconds.list.toFixed(2)}, fetch ${report.seconds.fetch.toFixed(2)}, query ${report.seconds.query.toFixed(2)})` +
      `${out ? ` → ${out}` : ''}\n`,
  );
  return 0;
}
