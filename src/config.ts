/**
 * Flags → validated config, purely (no filesystem, network or credentials here). The flags themselves,
 * their kinds and defaults are declared in src/flags/table.ts; this module adds the checks that span
 * flags. Every problem is a ConfigError that names the flag and the fix; the CLI turns it into exit 2.
 */
import { availableParallelism } from 'node:os';
import type { AwsOptions } from './aws/config.js';
import { ConfigError } from './errors.js';
import { int, parseDate } from './flags/kinds.js';
import { FlagValues, parseArgsOptions } from './flags/read.js';
import { FLAGS } from './flags/table.js';
import { parseLocation, type Location } from './location.js';
import type { ShardSpec } from './records.js';
import type { KeyLayout } from './stages/list.js';
import { REDACT_MODES, type RedactMode } from './stages/redact.js';
import { SMALL_RUN_BYTES } from './stages/smallRun.js';
import { formatDay } from './stages/time.js';
import type { Compression } from './stages/writeOptions.js';

export { parseDate } from './flags/kinds.js';

export type CatalogKind = 'local' | 'glue' | 'none';

export interface ConvertConfig {
  readonly source: string;
  readonly dest: string;
  /** --source and --dest, parsed once. */
  readonly sourceLocation: Location;
  readonly destLocation: Location;
  readonly keyDates: string[];
  readonly catalog: CatalogKind;
  readonly database?: string;
  readonly table?: string;
  readonly projection: boolean;
  readonly layout: KeyLayout;
  readonly concurrency: number;
  /** Parse/write worker threads (0: on the main thread). */
  readonly workers: number;
  /** --workers was not given: a run smaller than this encodes on the main thread (SMALL_RUN_BYTES). */
  readonly inThreadBelowBytes?: number;
  readonly compression: Compression;
  readonly memoryBudget: number;
  readonly maxFileRows: number;
  readonly maxFileBytes: number;
  readonly rowGroupRows: number;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly allowOverlap: boolean;
  /** This worker's slice of every key date (--shard i/N, or a scheduler's array index with --shards N). */
  readonly shard?: ShardSpec;
  /** Tag each raw object s3logs-converted=true once its key date is committed (safe lifecycle expiry). */
  readonly tagConverted: boolean;
  /** Objects gone from the source lose their rows in the lake (default: their rows are kept). */
  readonly deleteVanished: boolean;
  /** Seconds to wait for a lock another live run holds (default: the run's own lock 0, a commit's 600). */
  readonly lockWaitSeconds?: number;
  /** A key date whose rejected lines exceed this share of its lines fails (1 turns the check off). */
  readonly maxRejectRatio: number;
  /** Check the setup and list what each key date would convert; write nothing. */
  readonly dryRun: boolean;
  /** --redact presigned,ip: values removed before rows are written (sorted; [] = none, the default). */
  readonly redact: RedactMode[];
  readonly aws: AwsOptions;
  readonly sse?: 'AES256' | 'aws:kms';
  readonly sseKmsKeyId?: string;
  /** Outputs of at least this many bytes go up as multipart uploads (AWS CLI: multipart_threshold). */
  readonly multipartThreshold?: number;
  /** Multipart part size (AWS CLI: multipart_chunksize); S3's minimum is 5 MiB. */
  readonly partSize?: number;
}

/** The parseArgs options of `s3logs convert` (derived from the flag table). */
export const CONVERT_FLAGS = parseArgsOptions('convert');

/** `--redact presigned,ip` (either, both, or none); sorted, without duplicates. */
export function parseRedact(value: string | undefined): RedactMode[] {
  if (value === undefined) return [];
  const words = value.split(',').map((w) => w.trim().toLowerCase());
  if (words.length === 1 && words[0] === 'none') return [];
  for (const word of words) {
    if (!(REDACT_MODES as readonly string[]).includes(word)) {
      throw new ConfigError(
        `--redact takes a comma list of ${REDACT_MODES.join(', ')} (or none), got ${JSON.stringify(value)}; e.g. --redact presigned,ip`,
        '--redact',
      );
    }
  }
  return REDACT_MODES.filter((m) => words.includes(m));
}

/** Longest range one convert call accepts; longer backfills belong to `s3logs backfill`. */
const MAX_RANGE_DAYS = 3660;

/** Default share of rejected lines above which a key date fails: a file of garbage is never a green run. */
export const DEFAULT_MAX_REJECT_RATIO = FLAGS.maxRejectRatio.default;

export function required(value: string | undefined, flag: string, example: string): string {
  if (value === undefined || value === '') throw new ConfigError(`${flag} is required, e.g. ${flag} ${example}`, flag);
  return value;
}

/** Inclusive list of YYYY-MM-DD from `from` to `to`. */
export function dateRange(from: string, to: string | undefined, fromFlag = '--date', toFlag = '--to'): string[] {
  const first = parseDate(from, fromFlag);
  const last = to === undefined ? first : parseDate(to, toFlag);
  if (last < first) throw new ConfigError(`${toFlag} ${to} is before ${fromFlag} ${from}; swap them`, toFlag);
  if (last - first >= MAX_RANGE_DAYS)
    throw new ConfigError(`${fromFlag}..${toFlag} spans more than ${MAX_RANGE_DAYS} days; split the range`, toFlag);
  const days: string[] = [];
  for (let d = first; d <= last; d++) days.push(formatDay(d));
  return days;
}

export type AwsConfig = Pick<ConvertConfig, 'aws' | 'sse' | 'sseKmsKeyId' | 'multipartThreshold' | 'partSize'>;

/** The AWS options of any command (the ones it takes; the table says which). */
export function parseAwsFlags(values: FlagValues): AwsConfig {
  const endpoint = values.optional(FLAGS.endpointUrl);
  const owner = values.optional(FLAGS.expectedBucketOwner);
  const region = values.optional(FLAGS.region);
  const writes = FLAGS.sse.commands.includes(values.command);
  const sse = writes ? values.optional(FLAGS.sse) : undefined;
  const kmsKey = writes ? values.optional(FLAGS.sseKmsKeyId) : undefined;
  if (kmsKey !== undefined && sse !== 'aws:kms') throw new ConfigError('--sse-kms-key-id needs --sse aws:kms', '--sse-kms-key-id');
  const profile = values.optional(FLAGS.profile);
  const aws: AwsOptions = {
    ...(region ? { region } : {}),
    ...(profile ? { profile } : {}),
    ...(endpoint ? { endpointUrl: endpoint, forcePathStyle: true } : {}),
    ...(owner ? { expectedBucketOwner: owner } : {}),
  };
  const mib = 1024 * 1024;
  const threshold = writes ? values.optional(FLAGS.multipartThresholdMb) : undefined;
  const chunk = writes ? values.optional(FLAGS.multipartChunksizeMb) : undefined;
  return {
    aws,
    ...(sse ? { sse } : {}),
    ...(kmsKey ? { sseKmsKeyId: kmsKey } : {}),
    ...(threshold ? { multipartThreshold: threshold * mib } : {}),
    ...(chunk ? { partSize: Math.max(5, chunk) * mib } : {}),
  };
}

/**
 * `--shard i/N` (1-based i), or the array index schedulers set: AWS Batch array jobs
 * (AWS_BATCH_JOB_ARRAY_INDEX) and Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX), both 0-based, with N
 * from `--shards N`.
 */
export function parseShard(flag: string | undefined, shards: string | undefined, env: NodeJS.ProcessEnv): ShardSpec | undefined {
  if (flag !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(flag);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2]))
      throw new ConfigError(`--shard must be i/N with 1 <= i <= N, e.g. --shard 2/8, got ${JSON.stringify(flag)}`, '--shard');
    return Number(m[2]) === 1 ? undefined : { index: Number(m[1]) - 1, count: Number(m[2]) };
  }
  const fromEnv = env.AWS_BATCH_JOB_ARRAY_INDEX ?? env.JOB_COMPLETION_INDEX;
  if (shards === undefined) return undefined;
  const count = int(1, 1_000_000).parse(shards, '--shards');
  if (fromEnv === undefined)
    throw new ConfigError(
      '--shards needs the shard index: pass --shard i/N, or run as an AWS Batch array job / Kubernetes Indexed Job',
      '--shards',
    );
  if (!/^\d+$/.test(fromEnv) || Number(fromEnv) >= count) {
    throw new ConfigError(
      `the scheduler's array index ${fromEnv} is not below --shards ${shards}; make the array size equal to --shards`,
      '--shards',
    );
  }
  return count === 1 ? undefined : { index: Number(fromEnv), count };
}

export function parseConvertConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ConvertConfig {
  return rangeConvertConfig(FlagValues.fromArgv('convert', argv), env);
}

/** convert and commit: the key dates of --date [--to]. */
export function rangeConvertConfig(values: FlagValues, env: NodeJS.ProcessEnv): ConvertConfig {
  requiredLocations(values);
  const keyDates = dateRange(required(values.text(FLAGS.date), '--date', '2024-01-29'), values.text(FLAGS.to));
  return convertConfig(values, keyDates, env);
}

function requiredLocations(values: FlagValues): { source: string; dest: string } {
  const source = required(values.text(FLAGS.source), '--source', 's3://my-log-bucket/logs/ or ./raw-logs');
  const dest = required(values.text(FLAGS.dest), '--dest', 's3://my-lake/access-logs/ or ./lake');
  return { source, dest };
}

/**
 * The convert settings of any command that converts (convert, commit, nightly, backfill), its key dates
 * already decided: from --date/--to, or from the job.
 */
export function convertConfig(values: FlagValues, keyDates: string[], env: NodeJS.ProcessEnv): ConvertConfig {
  const { source, dest } = requiredLocations(values);
  if (values.flag(FLAGS.tagConverted) && !source.startsWith('s3://')) {
    throw new ConfigError(
      '--tag-converted tags raw objects in S3 for the safe-expiry lifecycle rule; it needs an s3:// --source',
      '--tag-converted',
    );
  }
  const catalog = values.value(FLAGS.catalog);
  const projection = values.flag(FLAGS.projection);
  if (catalog !== 'glue' && projection) throw new ConfigError('--projection only applies to --catalog glue', '--projection');
  const database = values.optional(FLAGS.database);
  const table = values.optional(FLAGS.table);
  const concurrency = values.value(FLAGS.concurrency);
  const aws = parseAwsFlags(values);
  const shard = parseShard(values.text(FLAGS.shard), values.command === 'commit' ? undefined : values.text(FLAGS.shards), env);
  const lockWaitSeconds = values.optional(FLAGS.lockWaitSeconds);
  return {
    source,
    dest,
    keyDates,
    catalog,
    ...(database ? { database } : {}),
    ...(table ? { table } : {}),
    projection,
    layout: values.value(FLAGS.layout),
    concurrency,
    // Parsing stays on the main thread; the other cores encode Parquet.
    workers: values.optional(FLAGS.workers) ?? Math.max(1, Math.min(4, availableParallelism() - 1)),
    ...(values.optional(FLAGS.workers) === undefined ? { inThreadBelowBytes: SMALL_RUN_BYTES } : {}),
    compression: values.value(FLAGS.compression),
    memoryBudget: values.value(FLAGS.memoryMb) * 1024 * 1024,
    maxFileRows: values.value(FLAGS.fileRows),
    maxFileBytes: values.value(FLAGS.fileMb) * 1024 * 1024,
    rowGroupRows: values.value(FLAGS.rowGroupRows),
    json: values.flag(FLAGS.json),
    quiet: values.flag(FLAGS.quiet),
    allowOverlap: values.flag(FLAGS.allowOverlap),
    ...(shard ? { shard } : {}),
    tagConverted: values.flag(FLAGS.tagConverted),
    deleteVanished: values.flag(FLAGS.deleteVanished),
    dryRun: values.flag(FLAGS.dryRun),
    redact: parseRedact(values.optional(FLAGS.redact)),
    maxRejectRatio: values.value(FLAGS.maxRejectRatio),
    ...(lockWaitSeconds !== undefined ? { lockWaitSeconds } : {}),
    ...aws,
    // Enough keep-alive sockets for every concurrent fetch plus the writes running beside them.
    aws: { ...aws.aws, maxSockets: Math.max(50, concurrency * 2) },
    sourceLocation: parseLocation(source, '--source'),
    destLocation: parseLocation(dest, '--dest'),
  };
}
