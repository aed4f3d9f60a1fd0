/**
 * Flags → validated config, purely (no filesystem, network or credentials here). Every problem is a
 * ConfigError that names the flag and the fix; the CLI turns it into exit code 2.
 */
import { availableParallelism } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from './errors.js';
import type { AwsOptions } from './aws/config.js';
import type { ShardSpec } from './records.js';
import type { KeyLayout } from './stages/list.js';
import { formatDay, parseDay } from './stages/time.js';
import { COMPRESSIONS, DEFAULT_FILE_BYTES, type Compression } from './stages/writeOptions.js';

export type CatalogKind = 'local' | 'glue' | 'none';

export interface ConvertConfig {
  readonly source: string;
  readonly dest: string;
  readonly keyDates: string[];
  readonly catalog: CatalogKind;
  readonly database?: string;
  readonly table?: string;
  readonly projection: boolean;
  readonly layout: KeyLayout;
  readonly concurrency: number;
  /** Parse/write worker threads (0: on the main thread). */
  readonly workers: number;
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
  readonly aws: AwsOptions;
  readonly sse?: 'AES256' | 'aws:kms';
  readonly sseKmsKeyId?: string;
  /** Outputs of at least this many bytes go up as multipart uploads (AWS CLI: multipart_threshold). */
  readonly multipartThreshold?: number;
  /** Multipart part size (AWS CLI: multipart_chunksize); S3's minimum is 5 MiB. */
  readonly partSize?: number;
}

/** Flags every AWS-touching command shares (AWS CLI habits). */
export const AWS_FLAGS = {
  region: { type: 'string' },
  profile: { type: 'string' },
  'endpoint-url': { type: 'string' },
  'expected-bucket-owner': { type: 'string' },
  sse: { type: 'string' },
  'sse-kms-key-id': { type: 'string' },
  'multipart-threshold-mb': { type: 'string' },
  'multipart-chunksize-mb': { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export const CONVERT_FLAGS = {
  source: { type: 'string' },
  dest: { type: 'string' },
  date: { type: 'string' },
  to: { type: 'string' },
  catalog: { type: 'string' },
  database: { type: 'string' },
  table: { type: 'string' },
  projection: { type: 'boolean' },
  layout: { type: 'string' },
  concurrency: { type: 'string' },
  workers: { type: 'string' },
  compression: { type: 'string' },
  'memory-mb': { type: 'string' },
  'file-rows': { type: 'string' },
  'file-mb': { type: 'string' },
  'row-group-rows': { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  'allow-overlap': { type: 'boolean' },
  shard: { type: 'string' },
  shards: { type: 'string' },
  'tag-converted': { type: 'boolean' },
  'delete-vanished': { type: 'boolean' },
  'lock-wait-seconds': { type: 'string' },
  'max-reject-ratio': { type: 'string' },
  'dry-run': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...AWS_FLAGS,
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** Longest range one convert call accepts; longer backfills belong to `s3logs backfill`. */
const MAX_RANGE_DAYS = 3660;

export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, command: string) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw flagError(error, command);
  }
}

/** parseFlags for a command that also takes arguments (`s3logs query "<SQL>"`). */
export function parseFlagsAndPositionals<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, command: string) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw flagError(error, command);
  }
}

function flagError(error: unknown, command: string): ConfigError {
  const message = (error as Error).message;
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return new ConfigError(`unknown flag ${unknown[1]} for \`s3logs ${command}\`; see \`s3logs ${command} --help\``, unknown[1]);
  const flag = /Option '(?:-\w, )?(--[\w-]+)/.exec(message)?.[1];
  return new ConfigError(`${message.replace(/\.$/, '')}; see \`s3logs ${command} --help\``, flag);
}

function required(value: string | undefined, flag: string, example: string): string {
  if (value === undefined || value === '') throw new ConfigError(`${flag} is required, e.g. ${flag} ${example}`, flag);
  return value;
}

function positiveInt(value: string | undefined, flag: string, fallback: number, max = 1_000_000_000): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new ConfigError(`${flag} must be a whole number from 1 to ${max}, got ${JSON.stringify(value)}`, flag);
  }
  return Number(value);
}

/** Default share of rejected lines above which a key date fails: a file of garbage is never a green run. */
export const DEFAULT_MAX_REJECT_RATIO = 0.01;

function ratio(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0 || parsed > 1) {
    throw new ConfigError(`${flag} must be a number from 0 to 1 (a share of the lines, 1 turns the check off), got ${JSON.stringify(value)}`, flag);
  }
  return parsed;
}

function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`, flag);
  }
  return value as T;
}

export function parseDate(value: string, flag: string): number {
  const day = parseDay(value);
  if (Number.isNaN(day)) throw new ConfigError(`${flag} must be a date as YYYY-MM-DD (UTC), got ${JSON.stringify(value)}`, flag);
  return day;
}

/** Inclusive list of YYYY-MM-DD from `from` to `to`. */
export function dateRange(from: string, to: string | undefined, fromFlag = '--date', toFlag = '--to'): string[] {
  const first = parseDate(from, fromFlag);
  const last = to === undefined ? first : parseDate(to, toFlag);
  if (last < first) throw new ConfigError(`${toFlag} ${to} is before ${fromFlag} ${from}; swap them`, toFlag);
  if (last - first >= MAX_RANGE_DAYS) throw new ConfigError(`${fromFlag}..${toFlag} spans more than ${MAX_RANGE_DAYS} days; split the range`, toFlag);
  const days: string[] = [];
  for (let d = first; d <= last; d++) days.push(formatDay(d));
  return days;
}

export function parseAwsFlags(
  values: Record<string, string | boolean | undefined>,
): Pick<ConvertConfig, 'aws' | 'sse' | 'sseKmsKeyId' | 'multipartThreshold' | 'partSize'> {
  const endpoint = values['endpoint-url'] as string | undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint)) {
    throw new ConfigError(`--endpoint-url must be an http(s) URL such as http://127.0.0.1:9000, got ${JSON.stringify(endpoint)}`, '--endpoint-url');
  }
  const owner = values['expected-bucket-owner'] as string | undefined;
  if (owner !== undefined && !/^\d{12}$/.test(owner)) {
    throw new ConfigError(`--expected-bucket-owner must be a 12-digit AWS account ID, got ${JSON.stringify(owner)}`, '--expected-bucket-owner');
  }
  const region = values.region as string | undefined;
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new ConfigError(`--region ${JSON.stringify(region)} is not an AWS region name such as us-east-1`, '--region');
  }
  const sse = values.sse as string | undefined;
  if (sse !== undefined && sse !== 'AES256' && sse !== 'aws:kms') throw new ConfigError(`--sse must be AES256 or aws:kms, got ${JSON.stringify(sse)}`, '--sse');
  const kmsKey = values['sse-kms-key-id'] as string | undefined;
  if (kmsKey !== undefined && sse !== 'aws:kms') throw new ConfigError('--sse-kms-key-id needs --sse aws:kms', '--sse-kms-key-id');
  const aws: AwsOptions = {
    ...(region ? { region } : {}),
    ...(values.profile ? { profile: values.profile as string } : {}),
    ...(endpoint ? { endpointUrl: endpoint, forcePathStyle: true } : {}),
    ...(owner ? { expectedBucketOwner: owner } : {}),
  };
  const mib = 1024 * 1024;
  const threshold = values['multipart-threshold-mb'] as string | undefined;
  const chunk = values['multipart-chunksize-mb'] as string | undefined;
  return {
    aws,
    ...(sse ? { sse } : {}),
    ...(kmsKey ? { sseKmsKeyId: kmsKey } : {}),
    ...(threshold ? { multipartThreshold: positiveInt(threshold, '--multipart-threshold-mb', 16, 5 * 1024) * mib } : {}),
    ...(chunk ? { partSize: Math.max(5, positiveInt(chunk, '--multipart-chunksize-mb', 8, 5 * 1024)) * mib } : {}),
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
    if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new ConfigError(`--shard must be i/N with 1 <= i <= N, e.g. --shard 2/8, got ${JSON.stringify(flag)}`, '--shard');
    return Number(m[2]) === 1 ? undefined : { index: Number(m[1]) - 1, count: Number(m[2]) };
  }
  const fromEnv = env.AWS_BATCH_JOB_ARRAY_INDEX ?? env.JOB_COMPLETION_INDEX;
  if (shards === undefined) return undefined;
  if (!/^\d+$/.test(shards) || Number(shards) < 1) throw new ConfigError(`--shards must be a whole number >= 1, got ${JSON.stringify(shards)}`, '--shards');
  if (fromEnv === undefined) throw new ConfigError('--shards needs the shard index: pass --shard i/N, or run as an AWS Batch array job / Kubernetes Indexed Job', '--shards');
  if (!/^\d+$/.test(fromEnv) || Number(fromEnv) >= Number(shards)) {
    throw new ConfigError(`the scheduler's array index ${fromEnv} is not below --shards ${shards}; make the array size equal to --shards`, '--shards');
  }
  return Number(shards) === 1 ? undefined : { index: Number(fromEnv), count: Number(shards) };
}

export function parseConvertConfig(argv: string[], env: NodeJS.ProcessEnv = process.env, command = 'convert'): ConvertConfig {
  const values = parseFlags(argv, CONVERT_FLAGS, command);
  const source = required(values.source, '--source', 's3://my-log-bucket/logs/ or ./raw-logs');
  const dest = required(values.dest, '--dest', 's3://my-lake/access-logs/ or ./lake');
  const keyDates = dateRange(required(values.date, '--date', '2024-01-29'), values.to);
  if (values['tag-converted'] && !source.startsWith('s3://')) {
    throw new ConfigError('--tag-converted tags raw objects in S3 for the safe-expiry lifecycle rule; it needs an s3:// --source', '--tag-converted');
  }
  const catalog = oneOf(values.catalog, '--catalog', ['local', 'glue', 'none'] as const, 'local');
  if (catalog !== 'glue' && values.projection) throw new ConfigError('--projection only applies to --catalog glue', '--projection');
  for (const flag of ['database', 'table'] as const) {
    const name = values[flag];
    if (name !== undefined && !/^[a-z0-9_]{1,255}$/.test(name)) {
      throw new ConfigError(`--${flag} must be lower case letters, digits and _ (Glue/Hive names), got ${JSON.stringify(name)}`, `--${flag}`);
    }
  }
  const concurrency = positiveInt(values.concurrency, '--concurrency', 16, 512);
  const aws = parseAwsFlags(values);
  const shard = parseShard(values.shard, values.shards, env);
  return {
    source,
    dest,
    keyDates,
    catalog,
    ...(values.database ? { database: values.database } : {}),
    ...(values.table ? { table: values.table } : {}),
    projection: values.projection ?? false,
    layout: oneOf(values.layout, '--layout', ['auto', 'simple', 'date-based'] as const, 'auto'),
    concurrency,
    // Parsing stays on the main thread; the other cores encode Parquet.
    workers: values.workers === '0' ? 0 : positiveInt(values.workers, '--workers', Math.max(1, Math.min(4, availableParallelism() - 1)), 64),
    compression: oneOf(values.compression, '--compression', COMPRESSIONS, 'zstd'),
    memoryBudget: positiveInt(values['memory-mb'], '--memory-mb', 40, 65536) * 1024 * 1024,
    maxFileRows: positiveInt(values['file-rows'], '--file-rows', 1_000_000),
    maxFileBytes: positiveInt(values['file-mb'], '--file-mb', DEFAULT_FILE_BYTES / 1024 / 1024, 4096) * 1024 * 1024,
    rowGroupRows: positiveInt(values['row-group-rows'], '--row-group-rows', 250_000),
    json: values.json ?? false,
    quiet: values.quiet ?? false,
    allowOverlap: values['allow-overlap'] ?? false,
    ...(shard ? { shard } : {}),
    tagConverted: values['tag-converted'] ?? false,
    deleteVanished: values['delete-vanished'] ?? false,
    dryRun: values['dry-run'] ?? false,
    maxRejectRatio: ratio(values['max-reject-ratio'], '--max-reject-ratio', DEFAULT_MAX_REJECT_RATIO),
    ...(values['lock-wait-seconds'] !== undefined ? { lockWaitSeconds: values['lock-wait-seconds'] === '0' ? 0 : positiveInt(values['lock-wait-seconds'], '--lock-wait-seconds', 0, 86_400) } : {}),
    ...aws,
    // Enough keep-alive sockets for every concurrent fetch plus the writes running beside them.
    aws: { ...aws.aws, maxSockets: Math.max(50, concurrency * 2) },
  };
}
