/**
 * `s3logs doctor` through the real AWS SDKs against the loopback S3 control stand-in and the Glue
 * stand-in: a good setup passes every check (exit 0); each broken variant fails exactly the check that
 * names it, with the fix (exit 1).
 */
import { CreateDatabaseCommand, CreateTableCommand, GlueClient } from '@aws-sdk/client-glue';
import {
  PutBucketLifecycleConfigurationCommand,
  PutBucketLoggingCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runDoctor } from '../src/commands/doctor.js';
import { generateKeyDate } from '../scripts/genLogs.js';
import { runSetup } from '../src/commands/setup.js';
import type { Check } from '../src/setup/check.js';
import { startGlueStandIn, type GlueStandIn } from './helpers/glueStandIn.js';
import { startS3ControlStandIn, type S3ControlStandIn } from './helpers/s3ControlStandIn.js';

const ACCOUNT = '111122223333';
const LOG_KEY = `logs/${ACCOUNT}/us-east-1/src/2024/01/29/2024-01-29-00-00-00-0123456789ABCDEF`;
const DOCTOR = [
  '--source',
  's3://logs/logs/',
  '--dest',
  's3://lake/access-logs/',
  '--catalog',
  'glue',
  '--database',
  'weblogs',
  '--table',
  'access',
];

let s3: S3ControlStandIn;
let glue: GlueStandIn;
let client: S3Client;
let stdout: string;

beforeEach(async () => {
  s3 = await startS3ControlStandIn([{ name: 'src' }, { name: 'logs' }, { name: 'lake' }, { name: 'eu-logs', region: 'eu-west-1' }]);
  glue = await startGlueStandIn();
  // Service-specific endpoints, as a user would point S3 and Glue at two different emulators.
  vi.stubEnv('AWS_ENDPOINT_URL_S3', s3.endpoint);
  vi.stubEnv('AWS_ENDPOINT_URL_GLUE', glue.endpoint);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDTESTDOCTOR');
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

  // The good setup: what `s3logs setup` writes, one delivered log object, and the Glue table.
  expect(await runSetup(['--bucket', 'src', '--log-bucket', 'logs', '--account', ACCOUNT, '--raw-expire-days', '90'])).toBe(0);
  await client.send(new PutObjectCommand({ Bucket: 'logs', Key: LOG_KEY, Body: 'raw log line\n' }));
  const glueClient = new GlueClient({
    endpoint: glue.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await glueClient.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'weblogs' } }));
  await glueClient.send(
    new CreateTableCommand({
      DatabaseName: 'weblogs',
      TableInput: { Name: 'access', StorageDescriptor: { Location: 's3://lake/access-logs/' } },
    }),
  );
  glueClient.destroy();
  stdout = '';
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  client.destroy();
  await Promise.all([s3.close(), glue.close()]);
});

/** Runs doctor with --json on `args` (default: the good setup's flags). */
async function doctorOn(args: string[]): Promise<{ code: number; checks: Check[] }> {
  const code = await runDoctor([...args, '--json']);
  const out = JSON.parse(stdout) as { ok: boolean; checks: Check[] };
  stdout = '';
  expect(out.ok).toBe(code === 0);
  return { code, checks: out.checks };
}
const doctor = () => doctorOn(DOCTOR);
const failed = (checks: Check[]) => checks.filter((c) => c.status === 'fail');

describe('doctor on a good setup', () => {
  it('passes every check, finds the logged bucket in the key path, and removes its probe', async () => {
    const { code, checks } = await doctor();
    expect(failed(checks)).toEqual([]);
    expect(code).toBe(0);
    expect(checks.map((c) => c.id)).toEqual([
      'credentials',
      'separate:src',
      'logging:src',
      'policy:src',
      'lifecycle',
      'source-list',
      'source-get',
      'dest-put',
      'dest-conditional',
      'dest-delete',
      'glue',
    ]);
    expect(checks.every((c) => c.status === 'pass')).toBe(true);
    expect(checks.find((c) => c.id === 'credentials')?.detail).toBe('region us-east-1, credentials with access key …CTOR');
    // One put for the log object above, one for the probe, one refused create of it again; the probe is deleted.
    expect(s3.calls.PutObject).toBe(3);
    expect(checks.find((c) => c.id === 'dest-conditional')?.detail).toBe(
      'creating the probe again was refused (If-None-Match: *), as locks need',
    );
    expect(s3.calls.DeleteObjects).toBe(1);
    expect([...(s3.buckets.get('lake')?.objects.keys() ?? [])]).toEqual([]);
  });

  it('warns, without failing, when the destination ignores conditional writes, and still removes its probe', async () => {
    s3.ignoreConditionalWrites();
    const { code, checks } = await doctor();
    expect(code).toBe(0);
    expect(failed(checks)).toEqual([]);
    expect(checks.filter((c) => c.status === 'warn')).toEqual([
      {
        id: 'dest-conditional',
        title: 'conditional writes in s3://lake/access-logs/',
        status: 'warn',
        detail: 'the store wrote over the probe on a create-if-absent (If-None-Match: *): it ignores conditional writes',
        fix: expect.stringContaining('docs/s3.md#conditional-writes'),
      },
    ]);
    expect([...(s3.buckets.get('lake')?.objects.keys() ?? [])]).toEqual([]);
  });

  it('fails, saying convert would fail too, when the destination rejects conditional writes', async () => {
    s3.rejectConditionalWrites();
    const { code, checks } = await doctor();
    expect(code).toBe(1);
    const [f, ...rest] = failed(checks);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ id: 'dest-conditional', status: 'fail' });
    expect(f?.detail).toMatch(
      /^a create-if-absent of the probe \(If-None-Match: \*\) failed: the S3 endpoint does not implement conditional writes: .* was answered 501 NotImplemented/,
    );
    expect(f?.fix).toMatch(/convert would fail here too/);
    expect([...(s3.buckets.get('lake')?.objects.keys() ?? [])]).toEqual([]);
  });

  it('prints a readable checklist', async () => {
    expect(await runDoctor(DOCTOR)).toBe(0);
    expect(stdout).toContain('✓ logging on src: delivers to s3://logs/logs/ with date-based partitioned (EventTime) keys');
    expect(stdout).toContain('✓ lifecycle of logs: 1 rule, none expires unconverted logs under "logs/"');
    expect(stdout).toContain('All 11 checks passed.');
  });

  it('lifecycle rules that cannot delete an unconverted log pass', async () => {
    await client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'logs',
        LifecycleConfiguration: {
          Rules: [
            { ID: 'markers', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { ExpiredObjectDeleteMarker: true } },
            { ID: 'off', Status: 'Disabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 1 } },
            { ID: 'other-prefix', Status: 'Enabled', Filter: { Prefix: 'exports/' }, Expiration: { Days: 1 } },
            { ID: 'converted', Status: 'Enabled', Filter: { Tag: { Key: 's3logs-converted', Value: 'true' } }, Expiration: { Days: 7 } },
          ],
        },
      }),
    );
    const { code, checks } = await doctor();
    expect(checks.find((c) => c.id === 'lifecycle')).toMatchObject({
      status: 'pass',
      detail: '4 rules, none expires unconverted logs under "logs/"',
    });
    expect(code).toBe(0);
  });
});

describe('doctor on a broken setup', () => {
  it('logging off', async () => {
    await client.send(new PutBucketLoggingCommand({ Bucket: 'src', BucketLoggingStatus: {} }));
    const { code, checks } = await doctor();
    expect(code).toBe(1);
    expect(failed(checks)).toEqual([
      {
        id: 'logging:src',
        title: 'logging on src',
        status: 'fail',
        detail: 'server access logging is off, so no logs are written',
        fix: 's3logs setup --bucket src --log-bucket logs --log-prefix logs/',
      },
    ]);
  });

  it('logging pointing somewhere else', async () => {
    await client.send(
      new PutBucketLoggingCommand({
        Bucket: 'src',
        BucketLoggingStatus: { LoggingEnabled: { TargetBucket: 'logs', TargetPrefix: 'elsewhere/' } },
      }),
    );
    const [f, ...rest] = failed((await doctor()).checks);
    expect(rest).toEqual([]);
    expect(f?.detail).toBe('logs go to s3://logs/elsewhere/, not to s3://logs/logs/ (--source)');
    expect(f?.fix).toContain('pass --source s3://logs/elsewhere/');
  });

  it('a policy wider than needed', async () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Public', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::logs/*' },
        {
          Sid: 'Delivery',
          Effect: 'Allow',
          Principal: { Service: 'logging.s3.amazonaws.com' },
          Action: 's3:*',
          Resource: 'arn:aws:s3:::logs/*',
        },
      ],
    };
    await client.send(new PutBucketPolicyCommand({ Bucket: 'logs', Policy: JSON.stringify(policy) }));
    const { code, checks } = await doctor();
    expect(code).toBe(1);
    expect(failed(checks).map((c) => c.id)).toEqual(['policy:src']);
    const detail = failed(checks)[0]?.detail ?? '';
    expect(detail).toContain('statement "Public" allows any principal ("*")');
    expect(detail).toContain('statement "Delivery" allows s3:*; only s3:PutObject is needed');
    expect(detail).toContain('statement "Delivery" covers arn:aws:s3:::logs/*, wider than arn:aws:s3:::logs/logs/*');
    expect(detail).toContain('statement "Delivery" has no aws:SourceAccount condition');
    expect(detail).toContain('statement "Delivery" has no aws:SourceArn condition');
  });

  it('no delivery statement at all', async () => {
    await client.send(
      new PutBucketPolicyCommand({
        Bucket: 'logs',
        Policy: JSON.stringify({
          Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:DeleteBucket', Resource: 'arn:aws:s3:::logs' }],
        }),
      }),
    );
    const [f, ...rest] = failed((await doctor()).checks);
    expect(rest).toEqual([]);
    expect(f?.id).toBe('policy:src');
    expect(f?.detail).toContain('S3 cannot deliver');
  });

  it('a bucket that logs into itself', async () => {
    await client.send(
      new PutBucketLoggingCommand({
        Bucket: 'src',
        BucketLoggingStatus: { LoggingEnabled: { TargetBucket: 'src', TargetPrefix: 'logs/' } },
      }),
    );
    const { code, checks } = await doctorOn(['--source', 's3://src/logs/', '--dest', 's3://lake/access-logs/', '--bucket', 'src']);
    expect(code).toBe(1);
    const separate = checks.find((c) => c.id === 'separate:src');
    expect(separate?.status).toBe('fail');
    expect(separate?.detail).toContain('src logs into itself');
    expect(separate?.fix).toContain('s3logs setup --bucket src --log-bucket <another bucket>');
  });

  it('a log bucket in another region', async () => {
    const { checks } = await doctorOn(['--source', 's3://eu-logs/logs/', '--dest', 's3://lake/x/', '--bucket', 'src']);
    expect(checks.find((c) => c.id === 'separate:src')?.detail).toBe(
      'src is in us-east-1 but eu-logs is in eu-west-1; S3 delivers logs only within one region',
    );
  });

  it('a lifecycle rule that expires unconverted logs', async () => {
    await client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'logs',
        LifecycleConfiguration: { Rules: [{ ID: 'tidy', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 30 } }] },
      }),
    );
    const [f, ...rest] = failed((await doctor()).checks);
    expect(rest).toEqual([]);
    expect(f?.id).toBe('lifecycle');
    expect(f?.detail).toBe('rule "tidy" (prefix "", after 30 days) expires raw logs under "logs/" whether converted or not');
    expect(f?.fix).toContain('s3logs-converted=true');
  });

  it('an expiry on a deeper prefix inside the logs still counts', async () => {
    await client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'logs',
        LifecycleConfiguration: {
          Rules: [
            {
              ID: 'one-account',
              Status: 'Enabled',
              Filter: { And: { Prefix: `logs/${ACCOUNT}/`, Tags: [{ Key: 'team', Value: 'web' }] } },
              Expiration: { Days: 5 },
            },
          ],
        },
      }),
    );
    expect(failed((await doctor()).checks).map((c) => c.id)).toEqual(['lifecycle']);
  });

  it('a missing Glue table', async () => {
    glue.state.tables.delete('weblogs.access');
    const [f, ...rest] = failed((await doctor()).checks);
    expect(rest).toEqual([]);
    expect(f?.id).toBe('glue');
    expect(f?.detail).toBe('table access does not exist in database weblogs');
    expect(f?.fix).toContain('s3logs convert --catalog glue --database weblogs --table access');
  });

  it('a destination that refuses puts', async () => {
    s3.deny('PutObject', 'lake');
    const [f, ...rest] = failed((await doctor()).checks);
    expect(rest).toEqual([]);
    expect(f?.id).toBe('dest-put');
    expect(f?.fix).toBe('grant s3:PutObject on arn:aws:s3:::lake/access-logs/*');
  });

  it('simple keys and no --bucket: reads the logged bucket from the log records it reads', async () => {
    expect(
      await runSetup([
        '--bucket',
        'src',
        '--log-bucket',
        'logs',
        '--key-format',
        'simple',
        '--log-prefix',
        'simple/',
        '--account',
        ACCOUNT,
        '--raw-expire-days',
        '90',
      ]),
    ).toBe(0);
    const [object] = generateKeyDate({
      seed: 16,
      keyDate: '2024-01-29',
      layout: 'simple',
      prefix: 'simple/',
      buckets: ['src'],
      objects: 1,
      maxObjectBytes: 8 * 1024,
    });
    await client.send(new PutObjectCommand({ Bucket: 'logs', Key: object!.key, Body: object!.body }));
    stdout = '';
    const { code, checks } = await doctorOn(['--source', 's3://logs/simple/', '--dest', 's3://lake/x/']);
    expect(failed(checks)).toEqual([]);
    expect(code).toBe(0);
    expect(checks.find((c) => c.id === 'logged-bucket')).toMatchObject({
      status: 'pass',
      detail: `src, named by the log records of ${object!.key} (simple keys name no bucket; --bucket to check another)`,
    });
    expect(checks.map((c) => c.id)).toEqual([
      'credentials',
      'logged-bucket',
      'separate:src',
      'logging:src',
      'policy:src',
      'lifecycle',
      'source-list',
      'source-get',
      'dest-put',
      'dest-conditional',
      'dest-delete',
    ]);
  });

  it('simple keys, no --bucket and nothing to read: says to pass --bucket', async () => {
    const { checks } = await doctorOn(['--source', 's3://logs/simple/', '--dest', 's3://lake/x/']);
    expect(checks.find((c) => c.id === 'logged-bucket')).toMatchObject({
      status: 'fail',
      fix: 'pass --bucket <the bucket whose requests are logged>',
    });
  });

  it('usage errors name the flag', async () => {
    await expect(runDoctor(['--source', 's3://logs/logs/'])).rejects.toThrow(/--dest is required/);
    await expect(runDoctor(['--source', './raw', '--dest', './lake'])).rejects.toThrow(/--source \.\/raw is not an S3 URI/);
  });
});
