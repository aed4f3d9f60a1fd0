/**
 * `s3logs setup` as a plan: read the current policy, logging and lifecycle configuration, compute what
 * would change, and only then (unless --dry-run) write the changes in a safe order: the delivery
 * permission first, then logging, then lifecycle. Everything is compared before it is written, so a
 * second run is a list of reads and no writes.
 */
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { requireCjs } from '../cjs.js';
import { ConfigError, errorMessage } from '../errors.js';
import { bucketRegion, callerAccount, getOrNone, s3ErrorName } from './clients.js';
import { mergeLifecycle, rawLogRules } from './lifecycle.js';
import { describeKeyFormat, loggingJson, sameLogging, wantedLogging } from './logging.js';
import { arnPartition, deliveryAccountOf, mergeDeliveryStatement, parsePolicy, type PolicyDocument } from './policy.js';
import type { SetupConfig } from './setupConfig.js';

// By require, not import: src/cjs.ts says why.
const {
  GetBucketLifecycleConfigurationCommand,
  GetBucketLoggingCommand,
  GetBucketPolicyCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketLoggingCommand,
  PutBucketPolicyCommand,
} = requireCjs('@aws-sdk/client-s3') as typeof S3Sdk;

export interface SetupChange {
  readonly what: 'bucket policy' | 'logging' | 'lifecycle';
  readonly bucket: string;
  readonly summary: string;
  readonly before: unknown;
  readonly after: unknown;
  /** Makes the change; not called on --dry-run. */
  apply(): Promise<void>;
}

/** Where the aws:SourceAccount account came from, said in the output. */
export type AccountSource = 'flag' | 'expected-bucket-owner' | 'policy' | 'sts';

export const ACCOUNT_SOURCE_TEXT: Record<AccountSource, string> = {
  flag: '--account',
  'expected-bucket-owner': '--expected-bucket-owner',
  policy: `the log delivery statement already in the log bucket's policy`,
  sts: 'STS GetCallerIdentity: the account of these credentials',
};

export interface SetupPlan {
  readonly region: string;
  readonly account: string;
  readonly accountSource: AccountSource;
  readonly changes: SetupChange[];
  /** What already was as wanted, e.g. `logging of my-bucket`. */
  readonly unchanged: string[];
}

/** Runs one AWS call; a failure says which call, on which bucket, and which permission it needs. */
export async function step<T>(call: string, bucket: string, permission: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const name = s3ErrorName(error);
    const fix =
      name === 'NoSuchBucket'
        ? `bucket ${bucket} does not exist; check the name or create it first`
        : name === 'AccessDenied' || name === 'AllAccessDisabled'
          ? `the caller needs ${permission} on arn:aws:s3:::${bucket} (docs/logging.md lists what setup needs)`
          : 'check the bucket name, --region and credentials, then rerun (setup is idempotent)';
    throw new Error(`${call} on ${bucket} failed (${name}: ${errorMessage(error)}); ${fix}`, { cause: error });
  }
}

export async function planSetup(client: S3Client, config: SetupConfig): Promise<SetupPlan> {
  const { sourceBucket: source, logBucket: logs } = config;
  const owner = config.aws.expectedBucketOwner ? { ExpectedBucketOwner: config.aws.expectedBucketOwner } : {};
  const [sourceRegion, logRegion] = await Promise.all([
    step('GetBucketLocation', source, 's3:GetBucketLocation', () => bucketRegion(client, source, config.aws.expectedBucketOwner)),
    step('GetBucketLocation', logs, 's3:GetBucketLocation', () => bucketRegion(client, logs, config.aws.expectedBucketOwner)),
  ]);
  if (sourceRegion !== logRegion) {
    throw new ConfigError(
      `--log-bucket ${logs} is in ${logRegion} but --bucket ${source} is in ${sourceRegion}; S3 delivers access logs only to a bucket in the same region. Pass a log bucket in ${sourceRegion}`,
      '--log-bucket',
    );
  }

  const policyText = await step('GetBucketPolicy', logs, 's3:GetBucketPolicy', () =>
    getOrNone(() => client.send(new GetBucketPolicyCommand({ Bucket: logs, ...owner })), 'NoSuchBucketPolicy'),
  );
  const policy: PolicyDocument | undefined = policyText?.Policy ? parsePolicy(policyText.Policy, logs) : undefined;
  const { account, accountSource } = await resolveAccount(config, policy, sourceRegion);
  const changes: SetupChange[] = [];
  const unchanged: string[] = [];
  const target = { logBucket: logs, logPrefix: config.logPrefix, sourceBucket: source, account, partition: arnPartition(sourceRegion) };
  const merged = mergeDeliveryStatement(policy, target);
  if (merged.changed) {
    const body = JSON.stringify(merged.policy);
    changes.push({
      what: 'bucket policy',
      bucket: logs,
      summary: merged.replaced.length
        ? `replace log delivery statement ${merged.replaced.join(', ')} for ${source}`
        : `add a statement letting ${target.partition === 'aws' ? '' : target.partition + ' '}logging.s3.amazonaws.com put ${source}'s logs under ${config.logPrefix || '(bucket root)'}`,
      before: policy ?? null,
      after: merged.policy,
      apply: () =>
        step('PutBucketPolicy', logs, 's3:PutBucketPolicy', () =>
          client.send(new PutBucketPolicyCommand({ Bucket: logs, Policy: body, ...owner })),
        ).then(() => undefined),
    });
  } else unchanged.push(`bucket policy of ${logs}`);

  const logging = await step('GetBucketLogging', source, 's3:GetBucketLogging', () =>
    client.send(new GetBucketLoggingCommand({ Bucket: source, ...owner })),
  );
  const current = logging.LoggingEnabled;
  const wanted = wantedLogging(config, current);
  if (!sameLogging(current, wanted)) {
    const was = current
      ? ` (was s3://${current.TargetBucket}/${current.TargetPrefix ?? ''}, ${describeKeyFormat(current.TargetObjectKeyFormat)})`
      : '';
    changes.push({
      what: 'logging',
      bucket: source,
      summary: `${current ? 'retarget' : 'enable'} logging to s3://${logs}/${config.logPrefix}, ${describeKeyFormat(wanted.TargetObjectKeyFormat)} keys${was}`,
      before: loggingJson(current),
      after: loggingJson(wanted),
      apply: () =>
        step('PutBucketLogging', source, 's3:PutBucketLogging', () =>
          client.send(new PutBucketLoggingCommand({ Bucket: source, BucketLoggingStatus: { LoggingEnabled: wanted }, ...owner })),
        ).then(() => undefined),
    });
  } else unchanged.push(`logging of ${source}`);

  const ours = rawLogRules({
    logPrefix: config.logPrefix,
    ...(config.transitionDays !== undefined ? { transitionDays: config.transitionDays } : {}),
    ...(config.transitionClass ? { transitionClass: config.transitionClass } : {}),
    ...(config.expireDays !== undefined ? { expireDays: config.expireDays } : {}),
  });
  if (ours.length > 0) {
    const existing = await step('GetBucketLifecycleConfiguration', logs, 's3:GetLifecycleConfiguration', () =>
      getOrNone(() => client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: logs, ...owner })), 'NoSuchLifecycleConfiguration'),
    );
    const lifecycle = mergeLifecycle(existing?.Rules ?? [], ours);
    if (lifecycle.changed) {
      const minimumSize = existing?.TransitionDefaultMinimumObjectSize;
      changes.push({
        what: 'lifecycle',
        bucket: logs,
        summary: `add or update rule${lifecycle.touched.length > 1 ? 's' : ''} ${lifecycle.touched.join(', ')} for raw logs under ${config.logPrefix || '(bucket root)'}`,
        before: existing?.Rules ? { Rules: existing.Rules } : null,
        after: { Rules: lifecycle.rules },
        apply: () =>
          step('PutBucketLifecycleConfiguration', logs, 's3:PutLifecycleConfiguration', () =>
            client.send(
              new PutBucketLifecycleConfigurationCommand({
                Bucket: logs,
                LifecycleConfiguration: { Rules: lifecycle.rules },
                // Sent back as it was: leaving it out would reset the bucket's small-object transition default.
                ...(minimumSize ? { TransitionDefaultMinimumObjectSize: minimumSize } : {}),
                ...owner,
              }),
            ),
          ).then(() => undefined),
      });
    } else unchanged.push(`lifecycle of ${logs}`);
  }
  return { region: sourceRegion, account, accountSource, changes, unchanged };
}

/**
 * The account that owns --bucket, for the aws:SourceAccount condition: --account, else
 * --expected-bucket-owner, else the account an existing delivery statement names (a re-run keeps what
 * the first run wrote), else the caller's own account from STS, as the console does.
 */
async function resolveAccount(
  config: SetupConfig,
  policy: PolicyDocument | undefined,
  region: string,
): Promise<{ account: string; accountSource: AccountSource }> {
  if (config.account) return { account: config.account, accountSource: 'flag' };
  if (config.aws.expectedBucketOwner) return { account: config.aws.expectedBucketOwner, accountSource: 'expected-bucket-owner' };
  const fromPolicy = deliveryAccountOf(policy);
  if (fromPolicy) return { account: fromPolicy, accountSource: 'policy' };
  try {
    return { account: await callerAccount(config.aws, config.aws.region ?? region), accountSource: 'sts' };
  } catch (error) {
    throw new ConfigError(
      `--account is required: STS GetCallerIdentity failed (${s3ErrorName(error)}: ${errorMessage(error)}), so the account that owns ${config.sourceBucket} ` +
        `is unknown for the aws:SourceAccount condition of the log delivery policy. Pass --account <12-digit account id> ` +
        `(\`aws sts get-caller-identity --query Account\` shows yours), or fix the credentials`,
      '--account',
    );
  }
}
