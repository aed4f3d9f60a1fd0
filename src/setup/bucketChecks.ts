/**
 * Doctor checks on the buckets' configuration: logging on and pointing at --source, not logging into
 * itself, same region, a delivery policy no wider than needed, and no lifecycle rule that deletes
 * unconverted logs. Each returns a Check with the fix; AWS errors become failed checks, not crashes.
 */
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { requireCjs } from '../cjs.js';
import { errorMessage } from '../errors.js';
import { fail, pass, type Check } from './check.js';
import { bucketRegion, getOrNone, s3ErrorName } from './clients.js';
import { CONVERTED_TAG, rulePrefix, unsafeExpiryRules } from './lifecycle.js';
import type { LoggedBucket } from './loggedBuckets.js';
import { describeKeyFormat } from './logging.js';
import { checkDeliveryPolicy } from './policyCheck.js';
import { arnPartition, parsePolicy } from './policy.js';

// By require, not import: src/cjs.ts says why.
const { GetBucketLifecycleConfigurationCommand, GetBucketLoggingCommand, GetBucketPolicyCommand } = requireCjs(
  '@aws-sdk/client-s3',
) as typeof S3Sdk;

export interface BucketContext {
  readonly client: S3Client;
  readonly logBucket: string;
  readonly logPrefix: string;
  readonly owner: { ExpectedBucketOwner?: string };
}

export const setupCommand = (l: LoggedBucket, logBucket: string): string =>
  `s3logs setup --bucket ${l.bucket} --log-bucket ${logBucket} --log-prefix ${l.targetPrefix || '""'}`;

/** Fix text for an AWS error from a read this check needed. */
function readFailure(id: string, title: string, call: string, permission: string, bucket: string, error: unknown): Check {
  const name = s3ErrorName(error);
  const fix =
    name === 'NoSuchBucket'
      ? `bucket ${bucket} does not exist; check the name`
      : `grant ${permission} on arn:aws:s3:::${bucket} to the caller, then rerun doctor`;
  return fail(id, title, `${call} on ${bucket} failed (${name}: ${errorMessage(error)})`, fix);
}

export async function checkLogging(ctx: BucketContext, l: LoggedBucket): Promise<Check> {
  const id = `logging:${l.bucket}`;
  const title = `logging on ${l.bucket}`;
  const wanted = `s3://${ctx.logBucket}/${l.targetPrefix}`;
  try {
    const out = await ctx.client.send(new GetBucketLoggingCommand({ Bucket: l.bucket, ...ctx.owner }));
    const on = out.LoggingEnabled;
    if (!on?.TargetBucket) return fail(id, title, `server access logging is off, so no logs are written`, setupCommand(l, ctx.logBucket));
    const actual = `s3://${on.TargetBucket}/${on.TargetPrefix ?? ''}`;
    if (actual !== wanted) {
      return fail(
        id,
        title,
        `logs go to ${actual}, not to ${wanted} (--source)`,
        `pass --source ${actual} to convert and doctor, or retarget logging: ${setupCommand(l, ctx.logBucket)}`,
      );
    }
    return pass(id, title, `delivers to ${actual} with ${describeKeyFormat(on.TargetObjectKeyFormat)} keys`);
  } catch (error) {
    return readFailure(id, title, 'GetBucketLogging', 's3:GetBucketLogging', l.bucket, error);
  }
}

export async function checkSeparateBucket(ctx: BucketContext, l: LoggedBucket): Promise<Check> {
  const id = `separate:${l.bucket}`;
  const title = `log bucket separate from ${l.bucket}`;
  if (l.bucket === ctx.logBucket) {
    return fail(
      id,
      title,
      `${l.bucket} logs into itself: every delivery is logged again (recursive, billed forever)`,
      `log into a separate bucket in the same region: s3logs setup --bucket ${l.bucket} --log-bucket <another bucket>`,
    );
  }
  try {
    const [a, b] = await Promise.all([
      bucketRegion(ctx.client, l.bucket, ctx.owner.ExpectedBucketOwner),
      bucketRegion(ctx.client, ctx.logBucket, ctx.owner.ExpectedBucketOwner),
    ]);
    if (a !== b)
      return fail(
        id,
        title,
        `${l.bucket} is in ${a} but ${ctx.logBucket} is in ${b}; S3 delivers logs only within one region`,
        `log into a bucket in ${a}: s3logs setup --bucket ${l.bucket} --log-bucket <bucket in ${a}>`,
      );
    return pass(id, title, `${l.bucket} logs into ${ctx.logBucket}, both in ${a}`);
  } catch (error) {
    return readFailure(id, title, 'GetBucketLocation', 's3:GetBucketLocation', `${l.bucket} or ${ctx.logBucket}`, error);
  }
}

export async function checkPolicy(ctx: BucketContext, l: LoggedBucket, region: string | undefined): Promise<Check> {
  const id = `policy:${l.bucket}`;
  const title = `delivery policy of ${ctx.logBucket} for ${l.bucket}`;
  try {
    const out = await getOrNone(
      () => ctx.client.send(new GetBucketPolicyCommand({ Bucket: ctx.logBucket, ...ctx.owner })),
      'NoSuchBucketPolicy',
    );
    const policy = out?.Policy ? parsePolicy(out.Policy, ctx.logBucket) : undefined;
    const findings = checkDeliveryPolicy(policy, {
      logBucket: ctx.logBucket,
      logPrefix: l.targetPrefix,
      sourceBucket: l.bucket,
      partition: arnPartition(region),
    });
    if (!findings.delivers) {
      return fail(
        id,
        title,
        `no statement lets ${'logging.s3.amazonaws.com'} put ${l.bucket}'s logs under s3://${ctx.logBucket}/${l.targetPrefix}; S3 cannot deliver`,
        setupCommand(l, ctx.logBucket),
      );
    }
    if (findings.problems.length) {
      return fail(
        id,
        title,
        `wider than needed: ${findings.problems.join('; ')}`,
        `keep only what \`${setupCommand(l, ctx.logBucket)} --dry-run\` prints for log delivery, and remove "*" principals from Allow statements`,
      );
    }
    return pass(
      id,
      title,
      'only logging.s3.amazonaws.com may put objects under the log prefix, with aws:SourceAccount and aws:SourceArn conditions',
    );
  } catch (error) {
    return readFailure(id, title, 'GetBucketPolicy', 's3:GetBucketPolicy', ctx.logBucket, error);
  }
}

export async function checkLifecycle(ctx: BucketContext, prefix: string): Promise<Check> {
  const id = 'lifecycle';
  const title = `lifecycle of ${ctx.logBucket}`;
  try {
    const out = await getOrNone(
      () => ctx.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: ctx.logBucket, ...ctx.owner })),
      'NoSuchLifecycleConfiguration',
    );
    const rules = out?.Rules ?? [];
    const unsafe = unsafeExpiryRules(rules, prefix);
    if (unsafe.length) {
      const names = unsafe.map(
        (r) =>
          `"${r.ID ?? '(no ID)'}" (prefix "${rulePrefix(r)}", ${r.Expiration?.Days !== undefined ? `after ${r.Expiration.Days} days` : `on ${r.Expiration?.Date?.toISOString().slice(0, 10)}`})`,
      );
      return fail(
        id,
        title,
        `rule ${names.join(', ')} expires raw logs under "${prefix}" whether converted or not`,
        `remove that Expiration, or limit the rule to the tag ${CONVERTED_TAG.Key}=${CONVERTED_TAG.Value}; \`s3logs setup ... --raw-expire-days <n>\` adds a safe rule`,
      );
    }
    if (rules.length === 0)
      return pass(
        id,
        title,
        'no rules: raw logs are kept until deleted by hand (`s3logs setup --raw-expire-days <n>` deletes converted ones)',
      );
    return pass(id, title, `${rules.length} rule${rules.length > 1 ? 's' : ''}, none expires unconverted logs under "${prefix}"`);
  } catch (error) {
    return readFailure(id, title, 'GetBucketLifecycleConfiguration', 's3:GetLifecycleConfiguration', ctx.logBucket, error);
  }
}
