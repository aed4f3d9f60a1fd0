/**
 * `s3logs setup` and tagConverted through the real @aws-sdk/client-s3 against the loopback S3 control
 * stand-in: fresh buckets, merging into existing policy and lifecycle, idempotent re-runs, refusals,
 * --dry-run, and safe-expiry tagging.
 */
import {
  GetBucketLifecycleConfigurationCommand,
  GetBucketLoggingCommand,
  GetBucketPolicyCommand,
  GetObjectTaggingCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketLoggingCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runSetup } from '../src/commands/setup.js';
import { ConfigError, StorageError } from '../src/errors.js';
import { CONVERTED_TAG } from '../src/setup/lifecycle.js';
import { tagConverted } from '../src/setup/tagging.js';
import { startS3ControlStandIn, type S3ControlStandIn } from './helpers/s3ControlStandIn.js';
import { startStsStandIn, type StsStandIn } from './helpers/stsStandIn.js';

const ACCOUNT = '111122223333';
const UNRELATED_STATEMENT = {
  Sid: 'DenyInsecureTransport',
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: ['arn:aws:s3:::logs', 'arn:aws:s3:::logs/*'],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
};

let s3: S3ControlStandIn;
let client: S3Client;
let stdout: string;

beforeEach(async () => {
  s3 = await startS3ControlStandIn([{ name: 'src' }, { name: 'logs' }, { name: 'eu-logs', region: 'eu-west-1' }]);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
  client = new S3Client({
    endpoint: s3.endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  client.destroy();
  await s3.close();
});

const setup = (...args: string[]) => runSetup([...args, '--endpoint-url', s3.endpoint]);
const policyOf = async (bucket: string) =>
  JSON.parse((await client.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? '{}') as {
    Statement: Array<Record<string, unknown>>;
  };

describe('setup on a fresh pair of buckets', () => {
  it('writes the delivery statement, then enables date-based logging with EventTime', async () => {
    expect(await setup('--bucket', 'src', '--log-bucket', 'logs', '--account', ACCOUNT)).toBe(0);

    const policy = await policyOf('logs');
    expect(policy.Statement).toEqual([
      {
        Sid: 'S3ServerAccessLogs-src',
        Effect: 'Allow',
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: 'arn:aws:s3:::logs/logs/*',
        Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::src' }, StringEquals: { 'aws:SourceAccount': ACCOUNT } },
      },
    ]);
    const logging = await client.send(new GetBucketLoggingCommand({ Bucket: 'src' }));
    expect(logging.LoggingEnabled?.TargetBucket).toBe('logs');
    expect(logging.LoggingEnabled?.TargetPrefix).toBe('logs/');
    expect(logging.LoggingEnabled?.TargetObjectKeyFormat?.PartitionedPrefix?.PartitionDateSource).toBe('EventTime');
    expect(stdout).toContain('changed bucket policy of logs');
    expect(stdout).toContain('changed logging of src');
    // Order matters: S3 must be allowed to deliver before logging is switched on.
    expect(Object.keys(s3.calls).filter((op) => op.startsWith('Put'))).toEqual(['PutBucketPolicy', 'PutBucketLogging']);
  });

  it('uses the simple key format and the given prefix when asked, adding the trailing slash', async () => {
    expect(
      await setup('--bucket', 'src', '--log-bucket', 'logs', '--account', ACCOUNT, '--key-format', 'simple', '--log-prefix', 'raw/src'),
    ).toBe(0);
    const logging = await client.send(new GetBucketLoggingCommand({ Bucket: 'src' }));
    expect(logging.LoggingEnabled?.TargetPrefix).toBe('raw/src/');
    expect(logging.LoggingEnabled?.TargetObjectKeyFormat?.PartitionedPrefix).toBeUndefined();
    expect((await policyOf('logs')).Statement[0]?.Resource).toBe('arn:aws:s3:::logs/raw/src/*');
  });
});

describe('setup on a log bucket that is already in use', () => {
  beforeEach(async () => {
    await client.send(
      new PutBucketPolicyCommand({
        Bucket: 'logs',
        Policy: JSON.stringify({ Version: '2012-10-17', Id: 'keep-me', Statement: [UNRELATED_STATEMENT] }),
      }),
    );
    await client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'logs',
        LifecycleConfiguration: {
          Rules: [
            { ID: 'abort-uploads', Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
          ],
        },
      }),
    );
  });

  it('keeps the other statement and rule, and adds ours with safe expiry', async () => {
    expect(
      await setup(
        '--bucket',
        'src',
        '--log-bucket',
        'logs',
        '--account',
        ACCOUNT,
        '--raw-transition-days',
        '30',
        '--raw-expire-days',
        '400',
      ),
    ).toBe(0);

    const policy = (await policyOf('logs')) as { Id?: string; Statement: Array<Record<string, unknown>> };
    expect(policy.Id).toBe('keep-me');
    expect(policy.Statement[0]).toEqual(UNRELATED_STATEMENT);
    expect(policy.Statement.map((s) => s.Sid)).toEqual(['DenyInsecureTransport', 'S3ServerAccessLogs-src']);

    const rules = (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'logs' }))).Rules ?? [];
    expect(rules.map((r) => r.ID)).toEqual(['abort-uploads', 's3logs-raw-logs-transition', 's3logs-raw-logs-expire-converted']);
    expect(rules[0]?.AbortIncompleteMultipartUpload?.DaysAfterInitiation).toBe(7);
    expect(rules[1]?.Filter?.Prefix).toBe('logs/');
    expect(rules[1]?.Transitions).toEqual([{ Days: 30, StorageClass: 'STANDARD_IA' }]);
    expect(rules[2]?.Filter?.And).toEqual({ Prefix: 'logs/', Tags: [CONVERTED_TAG] });
    expect(rules[2]?.Expiration?.Days).toBe(400);
  });

  it('changes nothing on a second run, and finds the account in the policy it wrote', async () => {
    const args = ['--bucket', 'src', '--log-bucket', 'logs', '--raw-expire-days', '90'];
    expect(await setup(...args, '--account', ACCOUNT)).toBe(0);
    const writes = s3.writes();
    stdout = '';
    expect(await setup(...args)).toBe(0);
    expect(s3.writes()).toBe(writes);
    expect(stdout).toContain('Nothing to change.');
    expect(stdout).toContain('already as wanted: bucket policy of logs, logging of src, lifecycle of logs');
    expect(stdout).toContain(
      `aws:SourceAccount ${ACCOUNT} from the log delivery statement already in the log bucket's policy (--account to override)`,
    );
  });

  it('replaces a hand-written delivery statement for the same source instead of adding a second one', async () => {
    const handWritten = {
      Sid: 'logs',
      Effect: 'Allow',
      Principal: { Service: 'logging.s3.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: 'arn:aws:s3:::logs/*',
      Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::src' } },
    };
    await client.send(
      new PutBucketPolicyCommand({
        Bucket: 'logs',
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: [handWritten, UNRELATED_STATEMENT] }),
      }),
    );
    expect(await setup('--bucket', 'src', '--log-bucket', 'logs', '--account', ACCOUNT)).toBe(0);
    expect((await policyOf('logs')).Statement.map((s) => s.Sid)).toEqual(['S3ServerAccessLogs-src', 'DenyInsecureTransport']);
    expect(stdout).toContain('replace log delivery statement logs for src');
  });

  it('retargets logging that points elsewhere and says what it was', async () => {
    await client.send(
      new PutBucketLoggingCommand({
        Bucket: 'src',
        BucketLoggingStatus: { LoggingEnabled: { TargetBucket: 'logs', TargetPrefix: 'old/' } },
      }),
    );
    expect(await setup('--bucket', 'src', '--log-bucket', 'logs', '--account', ACCOUNT)).toBe(0);
    expect(stdout).toContain('retarget logging to s3://logs/logs/, date-based partitioned (EventTime) keys (was s3://logs/old/, simple)');
  });
});

describe('setup refuses', () => {
  it('a log bucket equal to the source bucket, before any call', async () => {
    await expect(setup('--bucket', 'src', '--log-bucket', 'src', '--account', ACCOUNT)).rejects.toThrow(
      /--log-bucket src is the bucket being logged.*recursive/,
    );
    expect(Object.keys(s3.calls)).toEqual([]);
  });

  it('a log bucket in another region, naming both regions', async () => {
    const run = setup('--bucket', 'src', '--log-bucket', 'eu-logs', '--account', ACCOUNT);
    await expect(run).rejects.toThrow(ConfigError);
    await expect(setup('--bucket', 'src', '--log-bucket', 'eu-logs', '--account', ACCOUNT)).rejects.toThrow(
      '--log-bucket eu-logs is in eu-west-1 but --bucket src is in us-east-1; S3 delivers access logs only to a bucket in the same region. Pass a log bucket in us-east-1',
    );
    expect(s3.writes()).toBe(0);
  });

  it('a missing log bucket, naming it', async () => {
    await expect(setup('--bucket', 'src', '--log-bucket', 'nope-logs', '--account', ACCOUNT)).rejects.toThrow(
      /GetBucketLocation on nope-logs failed \(NoSuchBucket.*does not exist/,
    );
  });

  it('STANDARD_IA before 30 days and expiry before transition', async () => {
    await expect(setup('--bucket', 'src', '--log-bucket', 'logs', '--raw-transition-days', '7')).rejects.toThrow(/at least 30 days/);
    await expect(
      setup('--bucket', 'src', '--log-bucket', 'logs', '--raw-transition-days', '30', '--raw-expire-days', '30'),
    ).rejects.toThrow(/not after --raw-transition-days/);
  });
});

describe('setup without --account', () => {
  const CALLER = '444455556666';
  let sts: StsStandIn;
  beforeEach(async () => {
    sts = await startStsStandIn({ account: CALLER });
    // Service-specific endpoints, as with two emulators: S3 calls to the S3 stand-in, STS to the STS one.
    vi.stubEnv('AWS_ENDPOINT_URL_S3', s3.endpoint);
    vi.stubEnv('AWS_ENDPOINT_URL_STS', sts.endpoint);
  });
  afterEach(async () => {
    await sts.close();
  });

  it("uses the caller's account from STS GetCallerIdentity and says so", async () => {
    expect(await runSetup(['--bucket', 'src', '--log-bucket', 'logs'])).toBe(0);
    expect(sts.calls.GetCallerIdentity).toBe(1);
    const [statement] = (await policyOf('logs')).Statement;
    expect(statement?.Condition).toEqual({
      ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::src' },
      StringEquals: { 'aws:SourceAccount': CALLER },
    });
    expect(stdout).toContain(`(us-east-1, account ${CALLER})`);
    expect(stdout).toContain(
      `aws:SourceAccount ${CALLER} from STS GetCallerIdentity: the account of these credentials (--account to override)`,
    );
  });

  it('--account overrides it without asking STS; --json says where the account came from', async () => {
    expect(await runSetup(['--bucket', 'src', '--log-bucket', 'logs', '--account', ACCOUNT, '--dry-run', '--json'])).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ account: ACCOUNT, accountSource: 'flag' });
    stdout = '';
    expect(await runSetup(['--bucket', 'src', '--log-bucket', 'logs', '--dry-run', '--json'])).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ account: CALLER, accountSource: 'sts' });
    expect(sts.calls.GetCallerIdentity).toBe(1);
  });

  it('refuses to guess when STS fails, and says how to pass it', async () => {
    sts.deny('InvalidClientTokenId');
    await expect(runSetup(['--bucket', 'src', '--log-bucket', 'logs'])).rejects.toThrow(
      /--account is required: STS GetCallerIdentity failed \(InvalidClientTokenId: .*aws sts get-caller-identity --query Account/,
    );
    expect(s3.writes()).toBe(0);
  });
});

describe('setup --dry-run', () => {
  it('prints every change as JSON and makes none', async () => {
    await client.send(
      new PutBucketPolicyCommand({ Bucket: 'logs', Policy: JSON.stringify({ Version: '2012-10-17', Statement: [UNRELATED_STATEMENT] }) }),
    );
    const before = s3.writes();
    expect(await setup('--bucket', 'src', '--log-bucket', 'logs', '--account', ACCOUNT, '--raw-expire-days', '90', '--dry-run')).toBe(0);
    expect(s3.writes()).toBe(before);
    expect((await client.send(new GetBucketLoggingCommand({ Bucket: 'src' }))).LoggingEnabled).toBeUndefined();
    expect(stdout).toContain('would change bucket policy of logs');
    expect(stdout).toContain('would change logging of src');
    expect(stdout).toContain('would change lifecycle of logs');
    expect(stdout).toContain('"aws:SourceAccount": "111122223333"');
    expect(stdout).toContain('Dry run: nothing was changed.');
  });

  it('--json gives the same plan to machines', async () => {
    expect(await setup('--bucket', 'src', '--log-bucket', 'logs', '--account', ACCOUNT, '--dry-run', '--json')).toBe(0);
    const plan = JSON.parse(stdout) as { dryRun: boolean; changed: boolean; changes: Array<{ what: string; after: unknown }> };
    expect(plan.dryRun).toBe(true);
    expect(plan.changed).toBe(false);
    expect(plan.changes.map((c) => c.what)).toEqual(['bucket policy', 'logging']);
    expect(plan.changes[1]?.after).toEqual({
      LoggingEnabled: {
        TargetBucket: 'logs',
        TargetPrefix: 'logs/',
        TargetObjectKeyFormat: { PartitionedPrefix: { PartitionDateSource: 'EventTime' } },
      },
    });
    expect(s3.writes()).toBe(0);
  });
});

describe('tagConverted', () => {
  const tagsOf = async (key: string) => (await client.send(new GetObjectTaggingCommand({ Bucket: 'logs', Key: key }))).TagSet;

  it('adds the converted tag beside existing tags, and skips objects that have it', async () => {
    await client.send(new PutObjectCommand({ Bucket: 'logs', Key: 'logs/a', Body: 'x', Tagging: 'team=web' }));
    await client.send(new PutObjectCommand({ Bucket: 'logs', Key: 'logs/b', Body: 'y' }));
    await tagConverted(client, 'logs', ['a', 'b'], { prefix: 'logs/', concurrency: 2 });
    expect(await tagsOf('logs/a')).toEqual([{ Key: 'team', Value: 'web' }, CONVERTED_TAG]);
    expect(await tagsOf('logs/b')).toEqual([CONVERTED_TAG]);
    const puts = s3.calls.PutObjectTagging;
    await tagConverted(client, 'logs', ['a', 'b'], { prefix: 'logs/' });
    expect(s3.calls.PutObjectTagging).toBe(puts);
  });

  it('fails with the keys and the permission to grant when tagging is denied', async () => {
    await client.send(new PutObjectCommand({ Bucket: 'logs', Key: 'logs/a', Body: 'x' }));
    s3.deny('PutObjectTagging');
    const run = tagConverted(client, 'logs', ['a'], { prefix: 'logs/' });
    await expect(run).rejects.toThrow(StorageError);
    await expect(tagConverted(client, 'logs', ['a'], { prefix: 'logs/' })).rejects.toThrow(
      /could not tag 1 of 1 .*s3:\/\/logs\/logs\/a .*grant s3:GetObjectTagging and s3:PutObjectTagging on arn:aws:s3:::logs\/logs\/\*/,
    );
  });

  it('refuses an object that already has the maximum of 10 tags', async () => {
    const tagging = Array.from({ length: 10 }, (_, i) => `t${i}=v`).join('&');
    await client.send(new PutObjectCommand({ Bucket: 'logs', Key: 'logs/full', Body: 'x', Tagging: tagging }));
    await expect(tagConverted(client, 'logs', ['logs/full'])).rejects.toThrow(/already has 10 tags, the S3 maximum/);
  });
});
