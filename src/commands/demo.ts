/** `s3logs demo` (npm start): convert a seeded sample on the local store and query it with `s3logs query`. */
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseConvertConfig } from '../config.js';
import { writeKeyDateToDirectory } from '../demo/genLogs.js';
import { FlagValues } from '../flags/read.js';
import { FLAGS } from '../flags/table.js';
import { convert, formatSummary } from './convert.js';
import { queryLake, streamSink } from './query.js';

const DEMO_DATE = '2024-01-29';

export async function runDemo(argv: string[]): Promise<number> {
  const values = FlagValues.fromArgv('demo', argv);
  const out = resolve(values.value(FLAGS.demoOut));
  const mb = values.value(FLAGS.demoMb);
  const raw = join(out, 'raw-logs');
  const lake = join(out, 'lake');
  await rm(raw, { recursive: true, force: true });
  const generated = await writeKeyDateToDirectory(raw, {
    seed: 1,
    keyDate: DEMO_DATE,
    layout: 'date-based',
    prefix: 'logs/',
    targetBytes: mb * 1024 * 1024,
    rejectFraction: 0.0005,
  });
  process.stderr.write(`generated ${generated.objects} log objects (${generated.lines} lines) for key date ${DEMO_DATE} in ${raw}\n`);
  const config = parseConvertConfig(['--source', join(raw, 'logs/'), '--dest', lake, '--date', DEMO_DATE]);
  const summary = await convert(config);
  process.stderr.write(formatSummary(summary, config));
  const query = `SELECT requester, remoteip, count(*) AS denied FROM access_logs WHERE httpstatus = 403 GROUP BY ALL ORDER BY denied DESC, remoteip LIMIT 5`;
  process.stderr.write(`\nWho got 403s that day:\n  npx s3logs query --dest ${lake} --from ${DEMO_DATE} "${query}"\n\n`);
  await queryLake({ dest: lake, days: [DEMO_DATE], sql: query, format: 'table', store: { aws: {} }, out: streamSink(process.stdout) });
  process.stderr.write(
    `\nOr a report (security, usage, cost, operations):\n  npx s3logs report --dest ${lake} --from ${DEMO_DATE} --out ${join(out, 'report.html')}\n`,
  );
  return summary.ok ? 0 : 1;
}
