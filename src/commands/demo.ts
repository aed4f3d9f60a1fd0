/** `s3logs demo` (npm start): convert a seeded sample on the local store and show how to query it. */
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseConvertConfig } from '../config.js';
import { writeKeyDateToDirectory } from '../demo/genLogs.js';
import { FlagValues } from '../flags/read.js';
import { FLAGS } from '../flags/table.js';
import { convert, formatSummary } from './convert.js';

const DEMO_DATE = '2024-01-29';

export async function runDemo(argv: string[]): Promise<number> {
  const values = FlagValues.fromArgv('demo', argv);
  const out = resolve(values.value(FLAGS.demoOut));
  const mb = values.value(FLAGS.demoMb);
  const raw = join(out, 'raw-logs');
  const lake = join(out, 'lake');
  await rm(raw, { recursive: true, force: true });
  const generated = await writeKeyDateToDirectory(raw, { seed: 1, keyDate: DEMO_DATE, layout: 'date-based', prefix: 'logs/', targetBytes: mb * 1024 * 1024, rejectFraction: 0.0005 });
  process.stderr.write(`generated ${generated.objects} log objects (${generated.lines} lines) for key date ${DEMO_DATE} in ${raw}\n`);
  const config = parseConvertConfig(['--source', join(raw, 'logs/'), '--dest', lake, '--date', DEMO_DATE]);
  const summary = await convert(config);
  process.stderr.write(formatSummary(summary, config));
  const glob = join(lake, '**', '*.parquet');
  const query = `SELECT requester, remoteip, count(*) AS denied FROM read_parquet('${glob}', hive_partitioning = true) WHERE httpstatus = 403 AND dt = DATE '${DEMO_DATE}' GROUP BY ALL ORDER BY denied DESC LIMIT 5`;
  process.stderr.write(`\nTry it with DuckDB (who got 403s that day):\n  duckdb -c "${query}"\n`);
  process.stderr.write(`Or a report (security, usage, cost, operations):\n  npx s3logs report --dest ${lake} --from ${DEMO_DATE} --out ${join(out, 'report.html')}\n`);
  await showWithDuckDb(query);
  return summary.ok ? 0 : 1;
}

/** Runs the query when DuckDB's Node API is installed (a dev dependency); the demo works without it. */
async function showWithDuckDb(query: string): Promise<void> {
  let duckdb: typeof import('@duckdb/node-api');
  try {
    duckdb = await import('@duckdb/node-api');
  } catch {
    return;
  }
  const instance = await duckdb.DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(query);
    process.stderr.write('\n' + reader.getRowObjectsJson().map((row) => '  ' + JSON.stringify(row)).join('\n') + '\n');
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
