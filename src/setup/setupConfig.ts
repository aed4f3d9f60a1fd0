/** `s3logs setup` flags → validated config, purely (no network). */
import type { AwsOptions } from '../aws/config.js';
import { parseAwsFlags } from '../config.js';
import { ConfigError } from '../errors.js';
import { FlagValues } from '../flags/read.js';
import { FLAGS } from '../flags/table.js';
import type { RawTransitionClass } from './lifecycle.js';
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

export const DEFAULT_LOG_PREFIX = FLAGS.logPrefix.default;

function bucketFlag(values: FlagValues, flag: typeof FLAGS.setupBucket | typeof FLAGS.logBucket): string {
  const name = `--${flag.name}`;
  if (!values.text(flag)) throw new ConfigError(`${name} is required, e.g. ${name} my-bucket`, name);
  return values.optional(flag)!;
}

export function parseSetupConfig(argv: string[]): SetupConfig {
  const values = FlagValues.fromArgv('setup', argv);
  const sourceBucket = bucketFlag(values, FLAGS.setupBucket);
  const logBucket = bucketFlag(values, FLAGS.logBucket);
  if (logBucket === sourceBucket) {
    throw new ConfigError(
      `--log-bucket ${logBucket} is the bucket being logged: every log delivery would itself be logged (recursive, and billed forever). Pass a separate log bucket in the same region`,
      '--log-bucket',
    );
  }
  let logPrefix: string = values.value(FLAGS.logPrefix);
  if (logPrefix.startsWith('/') || /[\u0000-\u001f*]/.test(logPrefix)) {
    throw new ConfigError(
      `--log-prefix ${JSON.stringify(logPrefix)} must not start with "/" or hold control characters or "*"`,
      '--log-prefix',
    );
  }
  // `convert --source s3://log-bucket/<prefix>` lists "directories": a prefix ending in '/' keeps one
  // source bucket's logs apart from names that merely start the same way.
  if (logPrefix !== '' && !logPrefix.endsWith('/')) logPrefix += '/';
  const keyFormat = values.value(FLAGS.keyFormat);
  if (keyFormat === 'simple' && values.given(FLAGS.partitionDate)) {
    throw new ConfigError('--partition-date only applies to --key-format partitioned', '--partition-date');
  }
  const partitionDate = values.value(FLAGS.partitionDate);
  const account = values.optional(FLAGS.account);
  const transitionDays = values.optional(FLAGS.rawTransitionDays);
  const expireDays = values.optional(FLAGS.rawExpireDays);
  const transitionClass = values.value(FLAGS.rawTransitionClass);
  if (values.given(FLAGS.rawTransitionClass) && transitionDays === undefined) {
    throw new ConfigError('--raw-transition-class needs --raw-transition-days', '--raw-transition-class');
  }
  if (transitionDays !== undefined && transitionDays < 30 && transitionClass === 'STANDARD_IA') {
    throw new ConfigError(
      `--raw-transition-days ${transitionDays}: S3 transitions to STANDARD_IA only after at least 30 days; pass 30 or more, or --raw-transition-class INTELLIGENT_TIERING`,
      '--raw-transition-days',
    );
  }
  if (transitionDays !== undefined && expireDays !== undefined && expireDays <= transitionDays) {
    throw new ConfigError(
      `--raw-expire-days ${expireDays} is not after --raw-transition-days ${transitionDays}; the transition would never happen`,
      '--raw-expire-days',
    );
  }
  const { aws } = parseAwsFlags(values);
  if (values.given(FLAGS.sse)) throw new ConfigError('--sse does not apply to `s3logs setup` (it writes no objects)', '--sse');
  return {
    sourceBucket,
    logBucket,
    logPrefix,
    keyFormat,
    partitionDate,
    ...(account ? { account } : {}),
    ...(transitionDays !== undefined ? { transitionDays, transitionClass } : {}),
    ...(expireDays !== undefined ? { expireDays } : {}),
    dryRun: values.flag(FLAGS.setupDryRun),
    json: values.flag(FLAGS.setupJson),
    aws,
  };
}
