/** Help texts: `s3logs --help` and `s3logs <command> --help` (setup and doctor keep theirs beside them). */

const AWS_HELP = `AWS options (S3 and Glue; standard credential chain: env, ~/.aws, SSO, instance/container role):
  --region <region>             AWS region (default: AWS_REGION / profile)
  --profile <name>              named profile from ~/.aws/config
  --endpoint-url <url>          endpoint for every AWS client (S3-compatible stores use path-style);
                                AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_GLUE also work
  --expected-bucket-owner <id>  12-digit account that must own every bucket touched
  --sse AES256|aws:kms          server-side encryption for outputs
  --sse-kms-key-id <key>        KMS key for --sse aws:kms
  --multipart-threshold-mb <n>  outputs this large or larger use multipart upload (default 16)
  --multipart-chunksize-mb <n>  multipart part size, at least 5 (default 8)
`;

const CONVERT_HELP = `s3logs convert --source <uri> --dest <uri> --date YYYY-MM-DD [--to YYYY-MM-DD] [options]

Converts the raw S3 server access log objects of one key date (or each date of a range) into
Hive-partitioned Parquet: <dest>/bucket=<bucket>/dt=<YYYY-MM-DD>/part-<keydate>-<hash>-NNNNN.parquet.
A key date is the date in the log object's key (both S3 key layouts are detected); rows land in the
dt partition of their own requestdatetime. The lake holds every raw object's rows once: a run replaces
the rows of the objects it reads and keeps those of objects gone from the source (expired raw logs)
and of other sources converted into the same --dest.

  --source <uri>          raw logs: s3://bucket/prefix/, file:///path, or a directory
  --dest <uri>            Parquet output: s3://bucket/prefix/, file:///path, or a directory
  --date YYYY-MM-DD       key date (UTC)
  --to YYYY-MM-DD         last key date of a range (inclusive)
  --catalog local|glue|none   where partitions are registered (default local: <dest>/_s3logs/catalog.json)
  --database <db> --table <t> catalog names (default s3_access_logs.access_logs)
  --projection            with --catalog glue: Athena partition projection instead of partitions
  --layout auto|simple|date-based   source key layout (default auto)
  --concurrency <n>       concurrent object fetches (default 16)
  --workers <n>           threads that encode Parquet while the main thread parses (default: cores - 1,
                          at least 1, at most 4; 0 = all on the main thread)
  --compression zstd|snappy|gzip|brotli|lz4|none   Parquet codec (default zstd)
  --memory-mb <n>         column buffers allocated before the largest partition is written out (default 40)
  --file-rows <n>         most rows per Parquet file (default 1000000)
  --file-mb <n>           column data per Parquet file before it is written (default 20; ~5 MiB of zstd Parquet)
  --row-group-rows <n>    most rows per row group (default 250000)
  --json                  print a JSON summary on stdout
  --quiet                 no human output on stderr
  --allow-overlap         allow --dest inside --source (not recommended)
  --shard i/N             convert only slice i of N of each key date (see s3logs commit); with
  --shards N              the slice index comes from AWS_BATCH_JOB_ARRAY_INDEX / JOB_COMPLETION_INDEX
  --tag-converted         tag committed raw objects s3logs-converted=true (safe lifecycle expiry)
  --delete-vanished       remove the rows of this key date's objects that are gone from --source
                          (default: they are kept, and the summary says how many)
  --lock-wait-seconds <n> wait this long for a lock another live run holds (default: 0 for the key
                          date's own run, 600 for the publish a last shard or s3logs commit makes)
  --max-reject-ratio <r>  a key date whose rejected lines exceed this share (and number more than 10)
                          fails and publishes nothing (default 0.01; 1 turns the check off)
  --dry-run               check the setup (source, region, credentials, a test write to --dest) and list
                          per key date the objects, bytes and layout found and what a run would do

${AWS_HELP}
Exit codes: 0 all key dates converted (or had no objects), 1 some key dates failed, 2 bad usage,
75 only locks other live runs hold stopped key dates (retry later).
`;

const DEMO_HELP = `s3logs demo [--out <dir>] [--mb <n>]

Generates a seeded sample of S3 server access logs under <dir>/raw-logs (default ./out), converts it
into <dir>/lake with the local store and catalog, and prints a DuckDB query to try.
`;

const DDL_HELP = `s3logs ddl --dest <uri> [--database <db>] [--table <t>] [--projection] [--duckdb]

Prints the Athena CREATE EXTERNAL TABLE for the Parquet under --dest (or, with --duckdb, a DuckDB
view), derived from the schema declaration.
`;

const COMMIT_HELP = `s3logs commit --source <uri> --dest <uri> --date YYYY-MM-DD [--to …] --shards N [convert options]

Publishes a key date converted by N workers (\`convert --shard i/N\`, or an AWS Batch array job / a
Kubernetes Indexed Job with \`--shards N\`) once every shard has staged its part. The last shard to
finish normally does this itself; run it as a separate step if your scheduler prefers. It also finishes
a publish a crash interrupted. Exit 0 also when the round was already published (it says by which run).
`;

const COMPACT_HELP = `s3logs compact --dest <uri> --from YYYY-MM-DD [--to YYYY-MM-DD] [--target-file-mb 128] [--json] [--quiet]

Rewrites the files of every bucket=<b>/dt=<d>/ partition whose dt is in the range into as few files as
the target size allows (partitions already at one file per target size or fewer are skipped). Rows are
never added, dropped or changed: each key date's rows stay one contiguous segment of a file, its raw
objects' rows together and sorted by requestdatetime, and the key dates' manifests are switched in one
group publish under their locks. Rejects stay as they are. A later convert of a key date whose rows are
in a compacted file splits the file first. Only the local catalog lists files; it is updated.

  --dest <uri>            the lake: s3://bucket/prefix/, file:///path, or a directory
  --from YYYY-MM-DD       first dt partition
  --to YYYY-MM-DD         last dt partition, inclusive (default --from)
  --target-file-mb <n>    MiB of Parquet per file (default 128, sized for Athena; fractions allowed)
  --row-group-rows <n>    most rows per row group of a compacted file (default 250000)
  --lock-wait-seconds <n> wait this long for a key date another run is publishing (default 30)
  --json                  print a JSON summary on stdout
  --quiet                 no human output on stderr (failures still)

${AWS_HELP}
Exit codes: 0 done, 1 some partitions failed, 2 bad usage, 75 only locks other live runs hold stopped
partitions (retry later).
`;

const JOB_SETTINGS_HELP = `Settings come from flags, S3LOGS_* environment variables (--source is S3LOGS_SOURCE, --lag-days is
S3LOGS_LAG_DAYS) or a JSON file (--config file.json or S3LOGS_CONFIG; keys are the flag names);
flags win over the environment, which wins over the file. Unknown keys are errors. Every convert
option except --date/--to applies. Key dates already converted with the same inputs and schema version
are skipped (--force converts them again). On a terminal progress is one live line; otherwise JSON log
lines go to stderr (one per key date, and progress every --progress-seconds, default 30; with
--log-level debug also one per raw object, with its key and counts).
Exit codes: 0 all good, 1 some key dates failed, 2 bad usage or config, 75 only locks other live runs
hold stopped key dates (retry later), 130/143 interrupted.`;

const NIGHTLY_HELP = `s3logs nightly --source <uri> --dest <uri> [--lag-days 1] [--lookback-days 3] [--as-of YYYY-MM-DD] [--no-compact] [--target-file-mb 128] [convert options]

Converts yesterday's key date (UTC; --lag-days), then re-checks the --lookback-days key dates before it
and reprocesses only those whose raw objects changed since they were converted (late delivery).
--as-of runs the schedule as if today were that UTC date (replays, trying it on sample data).
At the end it compacts the settled partitions (as s3logs compact): the week of dt ending two days
before the oldest re-checked key date. --no-compact skips that; --target-file-mb is compact's.

${JOB_SETTINGS_HELP}
`;

const BACKFILL_HELP = `s3logs backfill --source <uri> --dest <uri> --from YYYY-MM-DD --to YYYY-MM-DD [--parallel-dates 2] [--force] [convert options]

Converts every key date of the range, --parallel-dates at a time; resumable.

${JOB_SETTINGS_HELP}
`;

export const COMMAND_HELP: Record<string, string> = { convert: CONVERT_HELP, demo: DEMO_HELP, ddl: DDL_HELP, commit: COMMIT_HELP, compact: COMPACT_HELP, nightly: NIGHTLY_HELP, backfill: BACKFILL_HELP };

export const HELP = `s3logs — S3 server access logs → typed, Hive-partitioned Parquet, registered in a catalog

Usage: s3logs <command> [options]

Commands:
  convert   convert the raw logs of a key date (or range) to Parquet and register the partitions
  nightly   yesterday's key date plus a re-check of recent ones (for schedulers)
  backfill  every key date of a range, resumable, a few at a time
  commit    publish a key date converted by several shards
  compact   rewrite the small files of settled partitions into few large ones
  setup     enable S3 server access logging safely (policy, logging, raw-log lifecycle)
  doctor    check logging, policy, lifecycle, access and the Glue table; ✓/✗ with fixes
  report    security, usage, cost and operations report (HTML/JSON/Markdown) or its Athena SQL
  ddl       print the Athena table DDL or a DuckDB view for the output
  demo      convert a generated sample on the local store (what \`npm start\` runs)

Run \`s3logs <command> --help\` for the options of a command. \`s3logs --version\` prints the version.
`;
