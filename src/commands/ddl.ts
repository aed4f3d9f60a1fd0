/**
 * `s3logs ddl`: Athena CREATE EXTERNAL TABLE or DuckDB view for the output, from the schema declaration.
 * With --projection the `bucket` enum and the first `dt` come from the lake's own `bucket=/dt=`
 * directories (or --buckets / --first-dt), so the table sees every partition the lake holds and
 * queries need no `WHERE bucket = …`.
 */
import { AWS_FLAGS, parseAwsFlags, parseDate, parseFlags } from '../config.js';
import { ConfigError } from '../errors.js';
import { openDest, parseLocation } from '../locations.js';
import { athenaDdl, duckdbView, lakePartitions, withSlash } from '../schema/ddl.js';

export const DDL_FLAGS = {
  dest: { type: 'string' },
  database: { type: 'string' },
  table: { type: 'string' },
  projection: { type: 'boolean' },
  buckets: { type: 'string' },
  'first-dt': { type: 'string' },
  duckdb: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...AWS_FLAGS,
} as const;

/** Bucket names as S3 allows them (legacy us-east-1 names included); a comma would split the enum. */
const BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/;

export async function runDdl(argv: string[]): Promise<number> {
  const values = parseFlags(argv, DDL_FLAGS, 'ddl');
  if (!values.dest) throw new ConfigError('--dest is required, e.g. --dest s3://my-lake/access-logs/', '--dest');
  const parsed = parseLocation(values.dest, '--dest');
  const { aws } = parseAwsFlags(values);
  if (values.duckdb) {
    for (const flag of ['projection', 'buckets', 'first-dt'] as const) {
      if (values[flag] !== undefined) throw new ConfigError(`--${flag} applies to the Athena DDL, not to --duckdb`, `--${flag}`);
    }
    // An absolute path: the view must keep working from whatever directory DuckDB is started in.
    const location = parsed.kind === 's3' ? withSlash(values.dest) : withSlash(parsed.path);
    process.stdout.write(duckdbView({ location, ...(values.table ? { view: values.table } : {}) }) + '\n');
    return 0;
  }
  if (parsed.kind !== 's3') {
    throw new ConfigError(
      `--dest ${values.dest} is a local directory, and Athena reads tables only from s3:// locations. ` +
        `Copy the lake to S3 (e.g. \`aws s3 sync ${values.dest} s3://my-lake/access-logs/\`) and pass that s3:// URI, ` +
        `or print a DuckDB view of the local lake with --duckdb`,
      '--dest',
    );
  }
  if (!values.projection) {
    for (const flag of ['buckets', 'first-dt'] as const) {
      if (values[flag] !== undefined) throw new ConfigError(`--${flag} sets the partition projection; add --projection`, `--${flag}`);
    }
  }
  const location = withSlash(values.dest);
  let buckets: string[] | undefined;
  let firstDt: string | undefined;
  if (values.projection) {
    if (values.buckets !== undefined) {
      buckets = values.buckets.split(',').map((b) => b.trim());
      const bad = buckets.find((b) => !BUCKET.test(b));
      if (bad !== undefined) throw new ConfigError(`--buckets: ${JSON.stringify(bad)} is not a bucket name; pass the logged buckets comma-separated, e.g. --buckets web-assets,api-data`, '--buckets');
    }
    if (values['first-dt'] !== undefined) {
      parseDate(values['first-dt'], '--first-dt');
      firstDt = values['first-dt'];
    }
    if (buckets === undefined || firstDt === undefined) {
      const storage = await openDest(values.dest, { aws });
      try {
        const lake = await lakePartitions(storage);
        buckets ??= lake.buckets;
        firstDt ??= lake.firstDt;
      } finally {
        await storage.close?.();
      }
    }
    if (buckets.length === 0 || firstDt === undefined) {
      throw new ConfigError(
        `--dest ${values.dest} holds no bucket=<name>/dt=<date>/ partitions yet, so the projection has no buckets or first date to cover. ` +
          `Convert first, or pass --buckets <logged buckets, comma-separated> and --first-dt YYYY-MM-DD`,
        buckets.length === 0 ? '--buckets' : '--first-dt',
      );
    }
  }
  const sql = athenaDdl({
    location,
    ...(values.database ? { database: values.database } : {}),
    ...(values.table ? { table: values.table } : {}),
    ...(values.projection ? { projection: true, buckets: buckets!, dtStart: firstDt! } : {}),
  });
  process.stdout.write(sql.endsWith('\n') ? sql : sql + '\n');
  return 0;
}
