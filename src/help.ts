/**
 * Help texts: `s3logs --help` and `s3logs <command> --help`. What a command does is written here; its
 * option lines come from the flag table (src/flags/table.ts), so a flag is documented where it is declared.
 */
import { helpOptions } from './flags/docs.js';
import { COMMANDS, flagsOf, type Command } from './flags/table.js';

interface CommandText {
  /** One line for the command list of `s3logs --help`. */
  readonly summary: string;
  readonly usage: string;
  readonly about: string;
  /** After the options: exit codes and pointers. */
  readonly footer: string;
}

const JOB_SETTINGS = `Settings come from flags, S3LOGS_* environment variables (--source is S3LOGS_SOURCE, --lag-days is
S3LOGS_LAG_DAYS) or a JSON file (--config file.json or S3LOGS_CONFIG; keys are the flag names);
flags win over the environment, which wins over the file. Unknown keys are errors. Every convert
option except --date/--to applies. Key dates already converted with the same inputs and schema version
are skipped (--force converts them again). On a terminal progress is one live line; otherwise JSON log
lines go to stderr (one per key date, and progress every --progress-seconds; with --log-level debug
also one per raw object, with its key and counts).
Exit codes: 0 all good, 1 some key dates failed, 2 bad usage or config, 75 only locks other live runs
hold stopped key dates (retry later), 130/143 interrupted.`;

const TEXTS: Record<Command, CommandText> = {
  convert: {
    summary: 'convert the raw logs of a key date (or range) to Parquet and register the partitions',
    usage: 's3logs convert --source <uri> --dest <uri> --date YYYY-MM-DD [--to YYYY-MM-DD] [options]',
    about: `Converts the raw S3 server access log objects of one key date (or each date of a range) into
Hive-partitioned Parquet: <dest>/bucket=<bucket>/dt=<YYYY-MM-DD>/part-<keydate>-<hash>-NNNNN.parquet.
A key date is the date in the log object's key (both S3 key layouts are detected); rows land in the
dt partition of their own requestdatetime. The lake holds every raw object's rows once: a run replaces
the rows of the objects it reads and keeps those of objects gone from the source (expired raw logs)
and of other sources converted into the same --dest.`,
    footer: `Exit codes: 0 all key dates converted (or had no objects), 1 some key dates failed, 2 bad usage (also:
only key dates that refused a --redact they cannot take without mixing), 75 only locks other live runs
hold stopped key dates (retry later).`,
  },
  nightly: {
    summary: "yesterday's key date plus a re-check of recent ones (for schedulers)",
    usage:
      's3logs nightly --source <uri> --dest <uri> [--lag-days 1] [--lookback-days 3] [--as-of YYYY-MM-DD] [--no-compact] [--target-file-mb 128] [convert options]',
    about: `Converts yesterday's key date (UTC; --lag-days), then re-checks the --lookback-days key dates before it
and reprocesses only those whose raw objects changed since they were converted (late delivery).
--as-of runs the schedule as if today were that UTC date (replays, trying it on sample data).
At the end it compacts the settled partitions (as s3logs compact): the week of dt ending two days
before the oldest re-checked key date. --no-compact skips that; --target-file-mb is compact's.`,
    footer: JOB_SETTINGS,
  },
  backfill: {
    summary: 'every key date of a range, resumable, a few at a time',
    usage: 's3logs backfill --source <uri> --dest <uri> --from YYYY-MM-DD --to YYYY-MM-DD [--parallel-dates 2] [--force] [convert options]',
    about: 'Converts every key date of the range, --parallel-dates at a time; resumable.',
    footer: JOB_SETTINGS,
  },
  commit: {
    summary: 'publish a key date converted by several shards',
    usage: 's3logs commit --source <uri> --dest <uri> --date YYYY-MM-DD [--to …] --shards N [convert options]',
    about: `Publishes a key date converted by N workers (\`convert --shard i/N\`, or an AWS Batch array job / a
Kubernetes Indexed Job with \`--shards N\`) once every shard has staged its part. The last shard to
finish normally does this itself; run it as a separate step if your scheduler prefers. It also finishes
a publish a crash interrupted.`,
    footer: 'Exit 0 also when the round was already published (it says by which run).',
  },
  setup: {
    summary: 'enable S3 server access logging safely (policy, logging, raw-log lifecycle)',
    usage: 's3logs setup --bucket <source> --log-bucket <dest> [options]',
    about: `Enables S3 server access logging on --bucket, delivered to --log-bucket, and gives S3's log delivery
(logging.s3.amazonaws.com) permission to write there. Reads first and writes only what differs, so a
second run changes nothing. Other bucket policy statements and lifecycle rules are kept.
Refuses a log bucket equal to the source bucket or in another region.`,
    footer: `IAM permissions setup needs, the policy it writes and the key-format trade-off: docs/logging.md.

Exit codes: 0 done (or nothing to do), 1 an AWS call failed, 2 bad usage or a refused setup.`,
  },
  doctor: {
    summary: 'check logging, policy, lifecycle, access and the Glue table; ✓/✗ with fixes',
    usage: 's3logs doctor --source <s3 uri> --dest <uri> [--bucket <logged bucket>] [--catalog glue --database d --table t]',
    about: `Checks that S3 server access logging and the conversion can work, and prints one line per check,
✓ or ✗ with the fix:
  credentials and region resolve;
  logging is on for the logged bucket and delivers to --source (GetBucketLogging);
  the log bucket is a separate bucket in the same region;
  the log bucket policy lets logging.s3.amazonaws.com put objects under the log prefix, and no more
    (no "*" principal, only s3:PutObject, aws:SourceAccount and aws:SourceArn conditions);
  no lifecycle rule expires raw logs that are not tagged s3logs-converted=true;
  --source can be listed and read, --dest takes a put and a delete (probe _s3logs/doctor-probe-<random>,
    removed again);
  with --catalog glue: the Glue database and table are reachable;
  once --dest holds converted key dates: the newest ones hold no live presigned-URL secrets
    (X-Amz-Security-Token, X-Amz-Signature, …); a warning (!) suggests --redact presigned, it does
    not fail doctor.`,
    footer: 'Exit codes: 0 every check passed (warnings included), 1 some check failed, 2 bad usage.',
  },
  report: {
    summary: 'security, usage, cost and operations report (HTML/JSON/Markdown) or its Athena SQL',
    usage: `s3logs report --dest <uri> [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--bucket <name>] [--out report.html] [--format html|json|md]
s3logs report --athena-sql [--from …] [--to …] [--bucket <name>] [--database <db>] [--table <t>]`,
    about: `Answers security, usage, cost and operations questions from the Parquet under --dest with DuckDB
(in-process, no extension downloads). Only the bucket=<b>/dt=<d>/ partitions of the range are listed
and read; an s3:// destination is read through s3logs' own S3 client (files in range only).
--database and --table apply to --athena-sql only.`,
    footer: `Definitions of every figure and the price table: docs/report.md.
Exit codes: 0 report written, 1 failed (storage, query), 2 bad usage.`,
  },
  ddl: {
    summary: 'print the Athena table DDL or a DuckDB view for the output',
    usage: `s3logs ddl --dest <s3 uri> [--database <db>] [--table <t>] [--projection [--buckets a,b] [--first-dt YYYY-MM-DD]]
s3logs ddl --dest <uri> --duckdb [--table <view>]`,
    about: `Prints the Athena CREATE EXTERNAL TABLE for the Parquet under --dest (or, with --duckdb, a DuckDB
view), derived from the schema declaration. Athena reads only s3:// locations: a local --dest is
refused with what to do; the DuckDB view of a local lake uses its absolute path. With --projection,
\`bucket\` is an enum of the buckets the lake holds and \`dt\` a date range from the first dt the lake
holds to NOW, both read from the bucket=/dt= files under --dest (or given with --buckets/--first-dt).`,
    footer: '',
  },
  demo: {
    summary: 'convert a generated sample on the local store (what `npm start` runs)',
    usage: 's3logs demo [--out <dir>] [--mb <n>]',
    about: `Generates a seeded sample of S3 server access logs under <dir>/raw-logs, converts it into <dir>/lake
with the local store and catalog, and runs a first query on it with s3logs query.`,
    footer: '',
  },
  compact: {
    summary: 'rewrite the small files of settled partitions into few large ones (rows unchanged)',
    usage: 's3logs compact --dest <uri> --from YYYY-MM-DD [--to YYYY-MM-DD] [--target-file-mb 128] [--json] [--quiet]',
    about: `Rewrites the files of every bucket=<b>/dt=<d>/ partition whose dt is in the range into as few files as
the target size allows (partitions already at one file per target size or fewer are skipped). Rows are
never added, dropped or changed: each key date's rows stay one contiguous segment of a file, its raw
objects' rows together and sorted by requestdatetime, and the key dates' manifests are switched in one
group publish under their locks. Rejects stay as they are. A later convert of a key date whose rows are
in a compacted file splits the file first. Only the local catalog lists files; it is updated.`,
    footer: `Exit codes: 0 done, 1 some partitions failed, 2 bad usage, 75 only locks other live runs hold stopped
partitions (retry later).`,
  },
  query: {
    summary: 'run SQL over the lake in the embedded DuckDB (table, CSV or JSON Lines)',
    usage: `s3logs query --dest <uri> [--from YYYY-MM-DD [--to YYYY-MM-DD]] [--format csv|json|table] "<SQL>"
s3logs query --dest <uri> [--from …] [--to …] --file query.sql      (or the SQL on stdin)`,
    about: `Runs SQL in the embedded DuckDB (no DuckDB CLI needed, no extension downloads) over a view
access_logs of the Parquet under --dest: every column of the table, bucket VARCHAR and dt DATE from
the path. With --from/--to only the bucket=<b>/dt=<d>/ partitions of that range are listed and read
(an s3:// destination: only those files are fetched, through s3logs' S3 client); without them, all.
Several statements separated by ; run in order; the last one's result is printed.
Timestamps print as ISO-8601 UTC (2024-01-29T10:00:00Z); integers as numbers, or strings of the exact
digits beyond 2^53.`,
    footer: `stderr gets one line: rows, seconds, files and partitions read.
Exit codes: 0 query ran, 1 the query failed (DuckDB's message) or the store could not be read, 2 bad usage.`,
  },
};

/** `s3logs <command> --help`. */
export function commandHelp(command: Command): string {
  const text = TEXTS[command];
  const parts = [text.usage, text.about, helpOptions(command, false).trimEnd()];
  if (flagsOf(command).some((f) => f.aws)) {
    parts.push(
      `AWS options (standard credential chain: env, ~/.aws, SSO, instance/container role):\n${helpOptions(command, true).trimEnd()}`,
    );
  }
  if (text.footer) parts.push(text.footer);
  return parts.join('\n\n') + '\n';
}

export function isCommand(name: string): name is Command {
  return Object.hasOwn(TEXTS, name);
}

/** `s3logs --help`: the command list, in the flag table's order, from each command's summary. */
export const HELP = `s3logs — S3 server access logs → typed, Hive-partitioned Parquet, registered in a catalog

Usage: s3logs <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.padEnd(9)} ${TEXTS[c].summary}`).join('\n')}

Run \`s3logs <command> --help\` for the options of a command. \`s3logs --version\` prints the version.
`;
