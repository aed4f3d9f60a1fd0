/** `s3logs setup` flags → validated config, purely (no network). */
import type { ParseArgsConfig } from 'node:util';
import type { AwsOptions } from '../aws/config.js';
import { AWS_FLAGS, parseAwsFlags, parseFlags } from '../config.js';
import { ConfigError } from '../errors.js';
import { TRANSITION_CLASSES, type RawTransitionClass } from './lifecycle.js';
import type { KeyFormat, PartitionDate } from './logging.js';

export interface SetupConfig {
  readonly sourceBucket: string;
  readonly logBucket: string;
  readonly logPrefix: string;
  readonly keyFormat: KeyFormat;
  readonly partitionDate: PartitionDate;
  /** Account that owns the source bucket (aws:SourceAccount); resolved later when not given. */
  readonly account?: string;
  readonly transitionDays?: number;
  readonly transitionClass?: RawTransitionClass;
  readonly expireDays?: number;
  readonly dryRun: boolean;
  readonly json: boolean;
  readonly aws: AwsOptions;
}

export const SETUP_FLAGS = {
  bucket: { type: 'string' },
  'log-bucket': { type: 'string' },
  'log-prefix': { type: 'string' },
  'key-format': { type: 'string' },
  'partition-date': { type: 'string' },
  account: { type: 'string' },
  'raw-transition-days': { type: 'string' },
  'raw-transition-class': { type: 'string' },
  'raw-expire-days': { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...AWS_FLAGS,
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export const DEFAULT_LOG_PREFIX = 'logs/';
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function bucketFlag(value: string | undefined, flag: string): string {
  if (!value) throw new ConfigError(`${flag} is required, e.g. ${flag} my-bucket`, flag);
  const name = value.replace(/^s3:\/\//, '').replace(/\/$/, '');
  if (!BUCKET.test(name)) throw new ConfigError(`${flag} ${JSON.stringify(value)} is not an S3 bucket name (3-63 lower-case letters, digits, '.', '-')`, flag);
  return name;
}

function days(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 36500) {
    throw new ConfigError(`${flag} must be a whole number of days from 1 to 36500, got ${JSON.stringify(value)}`, flag);
  }
  return Number(value);
}

function choice<T extends string>(value: string | undefined, flag: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(`${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`, flag);
  return value as T;
}

export function parseSetupConfig(argv: string[]): SetupConfig {
  const values = parseFlags(argv, SETUP_FLAGS, 'setup');
  const sourceBucket = bucketFlag(values.bucket, '--bucket');
  const logBucket = bucketFlag(values['log-bucket'], '--log-bucket');
  if (logBucket === sourceBucket) {
    throw new ConfigError(
      `--log-bucket ${logBucket} is the bucket being logged: every log delivery would itself be logged (recursive, and billed forever). Pass a separate log bucket in the same region`,
      '--log-bucket',
    );
  }
  let logPrefix = values['log-prefix'] ?? DEFAULT_LOG_PREFIX;
  if (logPrefix.startsWith('/') || /[\u0000-\u001f*]/.test(logPrefix)) {
    throw new ConfigError(`--log-prefix ${JSON.stringify(logPrefix)} must not start with "/" or hold control characters or "*"`, '--log-prefix');
  }
  // `convert --source s3://log-bucket/<prefix>` lists "directories": a prefix ending in '/' keeps one
  // source bucket's logs apart from names that merely start the same way.
  if (logPrefix !== '' && !logPrefix.endsWith('/')) logPrefix += '/';
  const keyFormat = choice(values['key-format'], '--key-format', ['simple', 'partitioned'] as const, 'partitioned');
  if (keyFormat === 'simple' && values['partition-date'] !== undefined) {
    throw new ConfigError('--partition-date only applies to --key-format partitioned', '--partition-date');
  }
  const partitionDate = choice(values['partition-date'], '--partition-date', ['event', 'delivery'] as const, 'event');
  const account = values.account;
  if (account !== undefined && !/^\d{12}$/.test(account)) {
    throw new ConfigError(`--account must be the 12-digit AWS account id that owns --bucket, got ${JSON.stringify(account)}`, '--account');
  }
  const transitionDays = days(values['raw-transition-days'], '--raw-transition-days');
  const expireDays = days(values['raw-expire-days'], '--raw-expire-days');
  const transitionClass = choice(values['raw-transition-class'], '--raw-transition-class', TRANSITION_CLASSES, 'STANDARD_IA');
  if (values['raw-transition-class'] !== undefined && transitionDays === undefined) {
    throw new ConfigError('--raw-transition-class needs --raw-transition-days', '--raw-transition-class');
  }
  if (transitionDays !== undefined && transitionDays < 30 && transitionClass === 'STANDARD_IA') {
    throw new ConfigError(`--raw-transition-days ${transitionDays}: S3 transitions to STANDARD_IA only after at least 30 days; pass 30 or more, or --raw-transition-class INTELLIGENT_TIERING`, '--raw-transition-days');
  }
  if (transitionDays !== undefined && expireDays !== undefined && expireDays <= transitionDays) {
    throw new ConfigError(`--raw-expire-days ${expireDays} is not after --raw-transition-days ${transitionDays}; the transition would never happen`, '--raw-expire-days');
  }
  const { aws } = parseAwsFlags(values);
  if (values.sse !== undefined) throw new ConfigError('--sse does not apply to `s3logs setup` (it writes no objects)', '--sse');
  return {
    sourceBucket,
    logBucket,
    logPrefix,
    keyFormat,
    partitionDate,
    ...(account ? { account } : {}),
    ...(transitionDays !== undefined ? { transitionDays, transitionClass } : {}),
    ...(expireDays !== undefined ? { expireDays } : {}),
    dryRun: values['dry-run'] ?? false,
    json: values.json ?? false,
    aws,
  };
}
