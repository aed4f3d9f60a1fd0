/**
 * `s3logs ddl`: Athena CREATE EXTERNAL TABLE or DuckDB view for the output, from the schema declaration.
 * With --projection the `bucket` enum and the first `dt` come from the lake's own `bucket=/dt=`
 * directories (or --buckets / --first-dt), so the table sees every partition the lake holds and
 * queries need no `WHERE bucket = …`.
 */
import { parseAwsFlags } from '../config.js';
import { ConfigError } from '../errors.js';
import { FlagValues } from '../flags/read.js';
import { FLAGS } from '../flags/table.js';
import { openDest, parseLocation } from '../locations.js';
import { athenaDdl, duckdbView, lakePartitions, withSlash } from '../schema/ddl.js';

export async function runDdl(argv: string[]): Promise<number> {
  const values = FlagValues.fromArgv('ddl', argv);
  const dest = values.text(FLAGS.ddlDest);
  if (!dest) throw new ConfigError('--dest is required, e.g. --dest s3://my-lake/access-logs/', '--dest');
  const parsed = parseLocation(dest, '--dest');
  const { aws } = parseAwsFlags(values);
  const database = values.optional(FLAGS.ddlDatabase);
  const table = values.optional(FLAGS.ddlTable);
  const projection = values.flag(FLAGS.ddlProjection);
  const projectionFlags = [FLAGS.ddlProjection, FLAGS.ddlBuckets, FLAGS.ddlFirstDt];
  if (values.flag(FLAGS.duckdb)) {
    const given = projectionFlags.find((f) => values.given(f));
    if (given) throw new ConfigError(`--${given.name} applies to the Athena DDL, not to --duckdb`, `--${given.name}`);
    // An absolute path: the view must keep working from whatever directory DuckDB is started in.
    const location = parsed.kind === 's3' ? withSlash(dest) : withSlash(parsed.path);
    process.stdout.write(duckdbView({ location, ...(table ? { view: table } : {}) }) + '\n');
    return 0;
  }
  if (parsed.kind !== 's3') {
    throw new ConfigError(
      `--dest ${dest} is a local directory, and Athena reads tables only from s3:// locations. ` +
        `Copy the lake to S3 (e.g. \`aws s3 sync ${dest} s3://my-lake/access-logs/\`) and pass that s3:// URI, ` +
        `or print a DuckDB view of the local lake with --duckdb`,
      '--dest',
    );
  }
  if (!projection) {
    const given = [FLAGS.ddlBuckets, FLAGS.ddlFirstDt].find((f) => values.given(f));
    if (given) throw new ConfigError(`--${given.name} sets the partition projection; add --projection`, `--${given.name}`);
  }
  const location = withSlash(dest);
  let buckets = values.optional(FLAGS.ddlBuckets);
  let firstDt = values.optional(FLAGS.ddlFirstDt);
  if (projection && (buckets === undefined || firstDt === undefined)) {
    const storage = await openDest(dest, { aws });
    try {
      const lake = await lakePartitions(storage);
      buckets ??= lake.buckets;
      firstDt ??= lake.firstDt;
    } finally {
      await storage.close?.();
    }
  }
  if (projection && (buckets === undefined || buckets.length === 0 || firstDt === undefined)) {
    throw new ConfigError(
      `--dest ${dest} holds no bucket=<name>/dt=<date>/ partitions yet, so the projection has no buckets or first date to cover. ` +
        `Convert first, or pass --buckets <logged buckets, comma-separated> and --first-dt YYYY-MM-DD`,
      buckets === undefined || buckets.length === 0 ? '--buckets' : '--first-dt',
    );
  }
  const sql = athenaDdl({
    location,
    ...(database ? { database } : {}),
    ...(table ? { table } : {}),
    ...(projection ? { projection: true, buckets: buckets!, dtStart: firstDt! } : {}),
  });
  process.stdout.write(sql.endsWith('\n') ? sql : sql + '\n');
  return 0;
}
