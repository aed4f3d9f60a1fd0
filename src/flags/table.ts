/**
 * Every flag of every command, declared once. From this table come the parseArgs options
 * (src/flags/read.ts), each command's `--help` option list (src/help.ts), the S3LOGS_* variables and
 * config-file keys of the scheduled jobs (src/jobs/settings.ts) and the README reference tables
 * (scripts/flagDocs.ts; test/flagDocs.test.ts fails when README drifts).
 *
 * Adding a flag is one entry here: its name, the commands that take it, a kind that checks and types its
 * value, a default if it has one, and its help. The command's config builder reads it with
 * `values.value(FLAGS.x)` / `values.optional(FLAGS.x)` / `values.flag(FLAGS.x)`. Keys are ids: a name
 * that means different things to different commands has one entry per meaning (`to`, `reportTo`).
 */
import { DEFAULT_DATABASE, DEFAULT_TABLE } from '../schema/table.js';
import { TRANSITION_CLASSES } from '../setup/lifecycle.js';
import { COMPRESSIONS, DEFAULT_FILE_BYTES } from '../stages/writeOptions.js';
import { account, bucket, bucketList, date, targetMib, glueName, httpUrl, int, oneOf, ratio, region, text, type Kind } from './kinds.js';

export const COMMANDS = [
  'convert',
  'nightly',
  'backfill',
  'commit',
  'setup',
  'doctor',
  'report',
  'query',
  'compact',
  'ddl',
  'demo',
] as const;
export type Command = (typeof COMMANDS)[number];

/** Commands whose settings also come from S3LOGS_* variables and a --config file. */
export const JOB_COMMANDS: readonly Command[] = ['nightly', 'backfill'];

interface CommonSpec {
  /** The flag without its dashes. */
  readonly name: string;
  readonly commands: readonly Command[];
  /** One line for `--help` (a   continues it on the next line). */
  readonly help: string;
  /** README text (Markdown), when it says more than `help`. */
  readonly doc?: string;
  readonly short?: string;
  /** Not a job setting: no S3LOGS_* variable and no config-file key. */
  readonly setting?: false;
  /** A job setting in the config file only: its S3LOGS_* name is a tuning variable read elsewhere. */
  readonly env?: false;
  /** Left out of help and README (--help itself). */
  readonly hidden?: true;
  /** Listed with the AWS options (help groups them). */
  readonly aws?: true;
}

export interface StringFlag<T = unknown> extends CommonSpec {
  readonly type: 'string';
  readonly kind: Kind<T>;
  /** Placeholder in help; default: the kind's. */
  readonly arg?: string;
  /** The value when the flag is not given (help and README show it). */
  readonly default?: T;
  /** How the default reads when it is computed or applied elsewhere. */
  readonly defaultText?: string;
}

export interface BooleanFlag extends CommonSpec {
  readonly type: 'boolean';
}

export type FlagSpec = StringFlag | BooleanFlag;

// Each entry keeps its own type (its kind's value type, whether it has a default) for the readers.
const str = <const S extends Omit<StringFlag, 'type'>>(spec: S): S & { readonly type: 'string' } => ({ type: 'string', ...spec });
const bool = <S extends Omit<BooleanFlag, 'type'>>(spec: S): S & { readonly type: 'boolean' } => ({ type: 'boolean', ...spec });

const RUN: readonly Command[] = ['convert', 'commit', 'nightly', 'backfill'];
const ONE_RANGE: readonly Command[] = ['convert', 'commit'];
const AWS_ALL: readonly Command[] = [...RUN, 'setup', 'doctor', 'report', 'query', 'compact', 'ddl'];
const AWS_WRITES: readonly Command[] = [...RUN, 'setup', 'doctor', 'compact'];
const MIB = 1024 * 1024;

export const FLAGS = {
  // doctor's reading of flags convert also takes (first: they come first in its help)
  doctorSource: str({
    name: 'source',
    commands: ['doctor'],
    kind: text,
    arg: '<s3://bucket/prefix/>',
    help: "where S3 delivers the raw logs (convert's --source; required)",
  }),
  doctorDest: str({
    name: 'dest',
    commands: ['doctor'],
    kind: text,
    arg: '<uri>',
    help: 'where convert writes Parquet (s3://... or a directory; required)',
  }),
  doctorBucket: str({
    name: 'bucket',
    commands: ['doctor'],
    kind: bucket,
    defaultText: 'read from date-based keys under --source, or with simple keys from the records of the log object doctor reads',
    help: 'the logged bucket',
  }),
  doctorCatalog: str({
    name: 'catalog',
    commands: ['doctor'],
    kind: oneOf(['local', 'glue', 'none'] as const),
    default: 'local',
    help: 'check Glue only with glue',
  }),

  // ---- what to convert ----
  source: str({
    name: 'source',
    commands: RUN,
    kind: text,
    arg: '<uri>',
    help: 'raw logs: s3://bucket/prefix/, file:///path, or a directory',
    doc: 'raw logs: `s3://bucket/prefix/`, `file:///path`, or a directory (a directory or S3 prefix + file-name prefix such as `logs/emr` also works; `s3://b/logs` means `s3://b/logs/` when that holds keys)',
  }),
  dest: str({
    name: 'dest',
    commands: RUN,
    kind: text,
    arg: '<uri>',
    help: 'Parquet output: s3://bucket/prefix/, file:///path, or a directory',
    doc: 'Parquet output: `s3://bucket/prefix/`, `file:///path`, or a directory; must not overlap `--source` (`--allow-overlap` to force)',
  }),
  date: str({ name: 'date', commands: ONE_RANGE, kind: date, setting: false, help: 'key date (UTC)' }),
  to: str({ name: 'to', commands: ONE_RANGE, kind: date, setting: false, help: 'last key date of a range (inclusive)' }),
  catalog: str({
    name: 'catalog',
    commands: RUN,
    kind: oneOf(['local', 'glue', 'none'] as const),
    default: 'local',
    help: 'where partitions are registered (local: <dest>/_s3logs/catalog.json)',
  }),
  database: str({
    name: 'database',
    commands: [...RUN, 'doctor'],
    kind: glueName,
    arg: '<db>',
    defaultText: DEFAULT_DATABASE,
    help: 'Glue (or local catalog) database',
  }),
  table: str({
    name: 'table',
    commands: [...RUN, 'doctor'],
    kind: glueName,
    arg: '<t>',
    defaultText: DEFAULT_TABLE,
    help: 'Glue (or local catalog) table',
  }),
  projection: bool({
    name: 'projection',
    commands: RUN,
    help: 'with --catalog glue: Athena partition projection instead of registered partitions',
  }),
  layout: str({
    name: 'layout',
    commands: RUN,
    kind: oneOf(['auto', 'simple', 'date-based'] as const),
    default: 'auto',
    help: 'source key layout (auto: both are looked for)',
  }),
  // ---- how ----
  concurrency: str({ name: 'concurrency', commands: RUN, kind: int(1, 512), default: 16, help: 'concurrent object fetches' }),
  workers: str({
    name: 'workers',
    commands: RUN,
    kind: int(0, 64),
    defaultText: 'cores − 1, at least 1, at most 4',
    help: 'threads that encode Parquet while the main thread parses (0: all on the main thread)',
    doc: 'threads that encode Parquet while the main thread parses (`0` does everything on the main thread). When not given, a key date of less than 32 MiB of raw logs encodes on the main thread: starting a worker costs it more than it saves. Files and their names are decided by the parsing thread, so the output is byte for byte the same for any `--workers`',
  }),
  compression: str({ name: 'compression', commands: RUN, kind: oneOf(COMPRESSIONS), default: 'zstd', help: 'Parquet codec' }),
  memoryMb: str({
    name: 'memory-mb',
    commands: RUN,
    kind: int(1, 65536),
    default: 40,
    help: 'column buffers allocated (growth slack included) before the largest partition is written out; buffers of written files are kept for reuse up to the same amount',
  }),
  fileRows: str({ name: 'file-rows', commands: RUN, kind: int(1, 1_000_000_000), default: 1_000_000, help: 'most rows per Parquet file' }),
  fileMb: str({
    name: 'file-mb',
    commands: RUN,
    kind: int(1, 4096),
    default: DEFAULT_FILE_BYTES / MIB,
    help: 'MiB of column data a partition buffer holds before it becomes a file (~5 MiB of zstd Parquet)',
    doc: 'MiB of column data a partition buffer holds before it becomes a file (about 5 MiB of Parquet; bounds the memory one encode takes)',
  }),
  rowGroupRows: str({
    name: 'row-group-rows',
    commands: RUN,
    kind: int(1, 1_000_000_000),
    default: 250_000,
    help: 'most rows per row group',
    doc: "most rows per row group (the nightly's compaction writes 65,536 unless this is given)",
  }),
  json: bool({
    name: 'json',
    commands: RUN,
    help: 'one machine-readable summary on stdout',
    doc: 'one machine-readable summary on stdout (`objects, bytesIn, lines, rows, rejects, filesWritten, bytesOut, partitions, seconds, retries`, `bytesParsed` (`bytesIn` after decompression), per key date in `keyDates` with `status`, `compressedObjects` (`gzip, zstd`), `listed` (`objects, bytes` the listing found; the counts are what was read), `gone` (objects no longer in the source: `objects, rows, removed`), `published`, `catalogBehind`, `publishWindowSeconds`, `carriedFiles`, `encodeWorkers` (threads that encoded Parquet; 0: the main thread), `wasmTier` (`baseline`: parquet-wasm kept the quick first compilation of V8, for a run under 32 MiB; `optimizing`: V8 also optimized its hot code), and on failure `error: {stage, code, message}`; `code` is one of `locked, conflict, interrupted, storage, catalog, data, config, internal`)',
  }),
  quiet: bool({ name: 'quiet', commands: RUN, help: 'no human output on stderr (failures are still printed)' }),
  allowOverlap: bool({
    name: 'allow-overlap',
    commands: RUN,
    help: 'allow --dest inside --source or the other way round (not recommended)',
  }),
  shard: str({
    name: 'shard',
    commands: RUN,
    kind: text,
    arg: 'i/N',
    help: 'convert only slice i of N of each key date: the objects whose name hashes to i (see s3logs commit)',
  }),
  shards: str({
    name: 'shards',
    commands: ['convert', 'nightly', 'backfill'],
    kind: text,
    arg: 'N',
    help: 'as --shard, the slice index from AWS_BATCH_JOB_ARRAY_INDEX / JOB_COMPLETION_INDEX',
  }),
  commitShards: str({
    name: 'shards',
    commands: ['commit'],
    kind: int(2, 1_000_000),
    arg: 'N',
    setting: false,
    help: 'the N the shards ran with (required)',
  }),
  tagConverted: bool({
    name: 'tag-converted',
    commands: RUN,
    help: 'tag committed raw objects s3logs-converted=true, for the safe-expiry lifecycle rule of s3logs setup',
  }),
  deleteVanished: bool({
    name: 'delete-vanished',
    commands: RUN,
    help: "remove the rows of this key date's raw objects that are gone from --source (default: kept, and the summary says how many)",
  }),
  lockWaitSeconds: str({
    name: 'lock-wait-seconds',
    commands: RUN,
    kind: int(0, 86_400),
    defaultText: "0 for a key date's own run, which then exits 75; 600 for the publish a last shard or s3logs commit makes",
    help: 'wait this long for a lock another live run holds',
  }),
  maxRejectRatio: str({
    name: 'max-reject-ratio',
    commands: RUN,
    kind: ratio,
    default: 0.01,
    help: 'a key date whose rejected lines exceed this share (and number more than 10) fails and publishes nothing (1 turns the check off)',
    doc: 'a key date (a shard: its part) whose rejected lines exceed this share (and number more than 10) fails, publishes nothing and names its worst objects with their top reject reasons (1 turns the check off); rejects under it are kept as reject records',
  }),
  redact: str({
    name: 'redact',
    commands: RUN,
    kind: text,
    arg: '<list>',
    defaultText: 'none',
    help: 'presigned: replace the values of X-Amz-Credential/-Signature/-Security-Token, AWSAccessKeyId, Signature with REDACTED; ip: truncate remoteip (IPv4 /24, IPv6 /48); comma list',
    doc: '`presigned`: the values of `X-Amz-Credential`, `X-Amz-Signature`, `X-Amz-Security-Token`, `AWSAccessKeyId` and `Signature` in request_uri, request_query and referrer (and in reject records) become `REDACTED`, names kept; `ip`: remoteip truncated to /24 (IPv4) or /48 (IPv6); `presigned,ip` both. Recorded in the manifest and the table property `s3logs.redact`; a key date is never mixed (see [Redaction](#redaction---redact))',
  }),
  dryRun: bool({
    name: 'dry-run',
    commands: RUN,
    help: 'check the setup (source, region, credentials, a test write to --dest) and list per key date the objects, bytes and layout found and what a run would do; converts and writes nothing',
    doc: 'check the setup (the source holds logs; region and credentials work; `--dest` takes a test write, removed at once) and list per key date the objects, bytes and layout found, how many are new or changed and already in the lake, and the objects gone from the source; converts and writes nothing',
  }),
  help: bool({
    name: 'help',
    short: 'h',
    commands: ['convert', 'commit', 'setup', 'doctor'],
    setting: false,
    hidden: true,
    help: 'this help',
  }),

  // ---- AWS (AWS CLI habits) ----
  region: str({ name: 'region', commands: AWS_ALL, kind: region, aws: true, defaultText: 'AWS_REGION / profile', help: 'AWS region' }),
  profile: str({ name: 'profile', commands: AWS_ALL, kind: text, arg: '<name>', aws: true, help: 'named profile from ~/.aws/config' }),
  endpointUrl: str({
    name: 'endpoint-url',
    commands: AWS_ALL,
    kind: httpUrl,
    aws: true,
    help: 'endpoint for every AWS client (S3-compatible stores use path-style); AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_GLUE also work',
  }),
  expectedBucketOwner: str({
    name: 'expected-bucket-owner',
    commands: AWS_ALL,
    kind: account('a 12-digit AWS account ID'),
    aws: true,
    help: '12-digit account that must own every bucket touched (ExpectedBucketOwner on every S3 request)',
  }),
  sse: str({
    name: 'sse',
    commands: AWS_WRITES,
    kind: oneOf(['AES256', 'aws:kms'] as const),
    aws: true,
    help: 'server-side encryption of outputs',
  }),
  sseKmsKeyId: str({
    name: 'sse-kms-key-id',
    commands: AWS_WRITES,
    kind: text,
    arg: '<key>',
    aws: true,
    help: 'KMS key for --sse aws:kms',
  }),
  multipartThresholdMb: str({
    name: 'multipart-threshold-mb',
    commands: AWS_WRITES,
    kind: int(1, 5 * 1024),
    defaultText: '16',
    aws: true,
    help: 'outputs this large or larger go up as multipart uploads (AWS CLI multipart_threshold)',
  }),
  multipartChunksizeMb: str({
    name: 'multipart-chunksize-mb',
    commands: AWS_WRITES,
    kind: int(1, 5 * 1024),
    defaultText: '8',
    aws: true,
    help: 'multipart part size, at least 5 (AWS CLI multipart_chunksize); a failed upload is aborted',
  }),

  // ---- scheduled jobs ----
  config: str({
    name: 'config',
    commands: ['nightly', 'backfill'],
    kind: text,
    arg: '<file.json>',
    setting: false,
    help: 'JSON file of settings (also S3LOGS_CONFIG); keys are the flag names',
  }),
  lagDays: str({
    name: 'lag-days',
    commands: ['nightly'],
    kind: int(0, 365),
    default: 1,
    help: 'the key date converted is this many days before today (UTC)',
  }),
  lookbackDays: str({
    name: 'lookback-days',
    commands: ['nightly'],
    kind: int(0, 60),
    default: 3,
    help: 'key dates before it re-checked; converted again only when their raw objects changed',
  }),
  asOf: str({
    name: 'as-of',
    commands: ['nightly'],
    kind: date,
    defaultText: 'today',
    help: 'run the schedule as if today were this UTC date (replays)',
  }),
  from: str({ name: 'from', commands: ['backfill'], kind: date, help: 'first key date of the range (required)' }),
  backfillTo: str({ name: 'to', commands: ['backfill'], kind: date, help: 'last key date of the range, inclusive (required)' }),
  parallelDates: str({
    name: 'parallel-dates',
    commands: ['backfill'],
    kind: int(1, 32),
    default: 2,
    help: 'key dates converted at the same time',
  }),
  force: bool({
    name: 'force',
    commands: ['nightly', 'backfill'],
    help: 'convert key dates the lake already holds with the same inputs and schema version',
  }),
  progressSeconds: str({
    name: 'progress-seconds',
    commands: ['nightly', 'backfill'],
    kind: int(0, 3600),
    default: 30,
    env: false,
    help: 'seconds between progress log lines off a terminal (0 reads as 1)',
  }),
  logLevel: str({
    name: 'log-level',
    commands: ['nightly', 'backfill'],
    kind: oneOf(['debug', 'info', 'warn', 'error'] as const),
    default: 'info',
    help: 'JSON log lines on stderr at this level and above (debug: also one per raw object)',
  }),

  // ---- ddl, demo ----
  ddlDest: str({ name: 'dest', commands: ['ddl'], kind: text, arg: '<uri>', help: 'the Parquet table root (as convert --dest; required)' }),
  ddlDatabase: str({
    name: 'database',
    commands: ['ddl'],
    kind: glueName,
    arg: '<db>',
    defaultText: DEFAULT_DATABASE,
    help: 'database of the Athena table',
  }),
  ddlTable: str({
    name: 'table',
    commands: ['ddl'],
    kind: glueName,
    arg: '<t>',
    defaultText: DEFAULT_TABLE,
    help: 'the Athena table, or with --duckdb the view',
  }),
  ddlProjection: bool({
    name: 'projection',
    commands: ['ddl'],
    help: 'Athena partition projection (bucket: an enum of the buckets the lake holds; dt: from the first dt it holds to NOW) instead of registered partitions',
  }),
  ddlBuckets: str({
    name: 'buckets',
    commands: ['ddl'],
    kind: bucketList,
    defaultText: 'the buckets the lake holds',
    help: "with --projection: the bucket enum's buckets instead of the lake's bucket= listing",
  }),
  ddlFirstDt: str({
    name: 'first-dt',
    commands: ['ddl'],
    kind: date,
    defaultText: 'the first dt the lake holds',
    help: 'with --projection: the first dt of the range instead of the listing',
  }),
  duckdb: bool({ name: 'duckdb', commands: ['ddl'], help: 'print a DuckDB view instead of the Athena DDL' }),
  demoOut: str({
    name: 'out',
    commands: ['demo'],
    kind: text,
    arg: '<dir>',
    default: 'out',
    defaultText: './out',
    help: 'where raw-logs/ and lake/ go',
  }),
  demoMb: str({ name: 'mb', commands: ['demo'], kind: int(1, 4096), default: 4, help: 'MiB of raw logs to generate' }),

  // ---- compact (and the nightly's compaction step) ----
  compactDest: str({
    name: 'dest',
    commands: ['compact'],
    kind: text,
    arg: '<uri>',
    help: 'the lake: s3://bucket/prefix/, file:///path, or a directory (required)',
  }),
  compactFrom: str({ name: 'from', commands: ['compact'], kind: date, help: 'first dt partition (required)' }),
  compactTo: str({ name: 'to', commands: ['compact'], kind: date, defaultText: '--from', help: 'last dt partition, inclusive' }),
  targetFileMb: str({
    name: 'target-file-mb',
    commands: ['compact', 'nightly'],
    kind: targetMib,
    default: 128,
    help: 'MiB of Parquet per compacted file (sized for Athena; fractions allowed)',
  }),
  compactRowGroupRows: str({
    name: 'row-group-rows',
    commands: ['compact'],
    kind: int(1, 1_000_000_000),
    // Compacted files are (nearly) sorted by time: smaller row groups let time filters skip more, and
    // DuckDB's hour()/time grouping ran faster on them (docs/benchmark.md#query); nightly's compaction
    // uses this default too unless --row-group-rows is given.
    default: 65_536,
    help: 'most rows per row group of a compacted file',
  }),
  compactLockWaitSeconds: str({
    name: 'lock-wait-seconds',
    commands: ['compact'],
    kind: int(0, 86_400),
    default: 30,
    help: 'wait this long for a key date another run is publishing',
  }),
  compactJson: bool({
    name: 'json',
    commands: ['compact'],
    help: 'print a JSON summary on stdout, and (unless --quiet) a JSON line per partition on stderr as it finishes',
  }),
  compactQuiet: bool({ name: 'quiet', commands: ['compact'], help: 'no human output on stderr (failures are still printed)' }),
  noCompact: bool({ name: 'no-compact', commands: ['nightly'], help: 'skip the compaction of settled partitions at the end' }),

  // ---- query ----
  queryDest: str({
    name: 'dest',
    commands: ['query'],
    kind: text,
    arg: '<uri>',
    help: 'the Parquet table root: s3://bucket/prefix/, file:///path, or a directory (required)',
  }),
  queryFrom: str({ name: 'from', commands: ['query'], kind: date, defaultText: 'every partition', help: 'first dt to read (UTC)' }),
  queryTo: str({ name: 'to', commands: ['query'], kind: date, defaultText: '--from', help: 'last dt to read, inclusive (needs --from)' }),
  queryFile: str({
    name: 'file',
    commands: ['query'],
    kind: text,
    arg: '<path>',
    help: 'read the SQL from a file (- for stdin); without SQL or --file, stdin is read',
  }),
  queryFormat: str({
    name: 'format',
    commands: ['query'],
    kind: oneOf(['csv', 'json', 'table'] as const),
    defaultText: 'table on a terminal, csv otherwise',
    help: 'table: aligned columns; csv: RFC 4180 with a header, NULL empty and \'\' as ""; json: JSON Lines, one object per row',
  }),

  // ---- report ----
  reportDest: str({
    name: 'dest',
    commands: ['report'],
    kind: text,
    arg: '<uri>',
    help: 'the Parquet table root: s3://bucket/prefix/, file:///path, or a directory',
  }),
  reportFrom: str({ name: 'from', commands: ['report'], kind: date, defaultText: 'yesterday', help: 'first dt of the range (UTC)' }),
  reportTo: str({ name: 'to', commands: ['report'], kind: date, defaultText: '--from', help: 'last dt of the range, inclusive' }),
  reportBucket: str({ name: 'bucket', commands: ['report'], kind: bucket, help: 'only this source bucket' }),
  reportOut: str({
    name: 'out',
    commands: ['report'],
    kind: text,
    arg: '<file>',
    defaultText: 'stdout',
    help: 'write the report there; .json/.md/.html also pick --format',
  }),
  format: str({
    name: 'format',
    commands: ['report'],
    kind: oneOf(['html', 'json', 'md'] as const),
    defaultText: 'html',
    help: 'html: one self-contained page with charts; json and md: the same numbers',
  }),
  prices: str({
    name: 'prices',
    commands: ['report'],
    kind: text,
    arg: '<file.json>',
    defaultText: 'us-east-1 S3 Standard list prices',
    help: 'price table for the cost estimate',
  }),
  athenaSql: bool({
    name: 'athena-sql',
    commands: ['report'],
    help: 'print the same queries as Athena SQL for the Glue table instead of running them',
  }),
  reportDatabase: str({
    name: 'database',
    commands: ['report'],
    kind: glueName,
    arg: '<db>',
    defaultText: DEFAULT_DATABASE,
    help: 'Glue database for --athena-sql',
  }),
  reportTable: str({
    name: 'table',
    commands: ['report'],
    kind: glueName,
    arg: '<t>',
    defaultText: DEFAULT_TABLE,
    help: 'Glue table for --athena-sql',
  }),

  // ---- setup ----
  setupBucket: str({ name: 'bucket', commands: ['setup'], kind: bucket, help: 'the bucket whose requests are logged (required)' }),
  logBucket: str({
    name: 'log-bucket',
    commands: ['setup'],
    kind: bucket,
    help: 'where S3 delivers the raw logs (same region, not --bucket; required)',
  }),
  logPrefix: str({
    name: 'log-prefix',
    commands: ['setup'],
    kind: text,
    arg: '<prefix>',
    default: 'logs/',
    help: 'key prefix of the raw logs (a trailing / is added)',
  }),
  keyFormat: str({
    name: 'key-format',
    commands: ['setup'],
    kind: oneOf(['simple', 'partitioned'] as const),
    default: 'partitioned',
    help: 'S3 log object keys (partitioned: <prefix><account>/<region>/<bucket>/YYYY/MM/DD/...)',
  }),
  partitionDate: str({
    name: 'partition-date',
    commands: ['setup'],
    kind: oneOf(['event', 'delivery'] as const),
    default: 'event',
    help: 'with partitioned keys: date of the request (event) or of delivery',
  }),
  account: str({
    name: 'account',
    commands: ['setup'],
    kind: account('the 12-digit AWS account id that owns --bucket'),
    defaultText:
      "--expected-bucket-owner, else the account in an existing log delivery statement of --log-bucket, else the caller's account from STS GetCallerIdentity; the output says which was used",
    help: '12-digit account owning --bucket, for the aws:SourceAccount condition',
  }),
  rawTransitionDays: str({
    name: 'raw-transition-days',
    commands: ['setup'],
    kind: int(1, 36_500),
    help: 'lifecycle: move raw logs to --raw-transition-class after n days',
  }),
  rawTransitionClass: str({
    name: 'raw-transition-class',
    commands: ['setup'],
    kind: oneOf(TRANSITION_CLASSES),
    default: 'STANDARD_IA',
    help: 'storage class of that move (STANDARD_IA: n >= 30)',
  }),
  rawExpireDays: str({
    name: 'raw-expire-days',
    commands: ['setup'],
    kind: int(1, 36_500),
    help: 'lifecycle: delete raw logs after n days, but only those tagged s3logs-converted=true (convert --tag-converted sets it)',
  }),
  setupDryRun: bool({
    name: 'dry-run',
    commands: ['setup'],
    help: 'print every change (policies and configurations as JSON), change nothing',
  }),
  setupJson: bool({ name: 'json', commands: ['setup'], help: 'print the plan as JSON on stdout' }),

  // ---- doctor (its --source, --dest, --bucket and --catalog are at the top) ----
  doctorJson: bool({
    name: 'json',
    commands: ['doctor'],
    help: 'one JSON object on stdout: {"ok": ..., "checks": [{id, title, status, detail, fix}]}',
  }),
} satisfies Record<string, FlagSpec>;

/** The flags of one command, in table order. */
export function flagsOf(command: Command): FlagSpec[] {
  return Object.values(FLAGS as Record<string, FlagSpec>).filter((f) => f.commands.includes(command));
}

/** `--lag-days` → `S3LOGS_LAG_DAYS`. */
export function envName(name: string): string {
  return `S3LOGS_${name.toUpperCase().replace(/-/g, '_')}`;
}

/** The S3LOGS_* variable of a job setting, if it has one. */
export function envOf(flag: FlagSpec, command: Command): string | undefined {
  return JOB_COMMANDS.includes(command) && flag.setting !== false && flag.env !== false ? envName(flag.name) : undefined;
}

/** The config-file key of a job setting, if it has one. */
export function configKeyOf(flag: FlagSpec, command: Command): string | undefined {
  return JOB_COMMANDS.includes(command) && flag.setting !== false ? flag.name : undefined;
}

/** How a flag's default reads, if it has one. */
export function defaultOf(flag: FlagSpec): string | undefined {
  if (flag.type === 'boolean') return undefined;
  return flag.defaultText ?? (flag.default === undefined ? undefined : String(flag.default));
}
