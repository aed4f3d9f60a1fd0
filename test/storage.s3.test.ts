/**
 * S3 Storage against a real S3 double (s3rver over HTTP, through @aws-sdk/client-s3, no SDK mocks), with a
 * fault proxy in between where a test needs failures, recorded headers or S3 error documents s3rver
 * cannot produce (AccessDenied, region redirects, per-key DeleteObjects errors).
 */

import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, StorageError } from '../src/errors.js';
import { createS3Storage, parseS3Uri, type S3Storage, type S3StorageOptions } from '../src/storage/s3.js';
import { s3ErrorXml, startFaultProxy, type FaultPlan, type FaultProxy } from './helpers/faultProxy.js';
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from './helpers/s3Server.js';

const BUCKET = 'etl-bucket';
const MiB = 1024 * 1024;

let server: S3Server;
const opened: Array<S3Storage | FaultProxy> = [];

beforeAll(async () => {
  server = await startS3Server({ buckets: [BUCKET] });
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});
afterAll(async () => {
  await server?.close();
});

type Extra = Partial<Omit<S3StorageOptions, 'aws'>> & { aws?: Partial<S3StorageOptions['aws']> };

/** Test-only settings live here: s3rver credentials, WHEN_REQUIRED checksums, short backoff. */
function store(uri: string, endpoint = server.endpoint, extra: Extra = {}): S3Storage {
  const storage = createS3Storage(uri, {
    credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    retryBaseDelayMs: 1,
    ...extra,
    aws: { endpointUrl: endpoint, region: 'us-east-1', ...extra.aws },
  });
  opened.push(storage);
  return storage;
}

async function proxy(plan: FaultPlan = {}): Promise<FaultProxy> {
  const p = await startFaultProxy(server.endpoint, plan);
  opened.push(p);
  return p;
}

async function failure(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}

const keyList = (n: number, dir: string): string[] => Array.from({ length: n }, (_, i) => `${dir}/${String(i).padStart(5, '0')}`);

async function putAll(storage: S3Storage, keys: string[], body = (k: string) => Buffer.from(k)): Promise<void> {
  const limit = pLimit(32);
  await Promise.all(keys.map((k) => limit(() => storage.put(k, body(k)))));
}

describe('parseS3Uri', () => {
  it.each([
    ['s3://my-bucket', 'my-bucket', ''],
    ['s3://my-bucket/', 'my-bucket', ''],
    ['s3://my-bucket/logs', 'my-bucket', 'logs/'],
    ['s3://my-bucket/a/b/', 'my-bucket', 'a/b/'],
    ['s3://my-bucket/odd key?#', 'my-bucket', 'odd key?#/'],
  ])('%s', (uri, bucket, prefix) => {
    expect(parseS3Uri(uri)).toEqual({ bucket, prefix });
  });

  it.each(['https://my-bucket/x', 's3://', 's3:///x', 's3://b/x', 's3://my-bucket//x', 's3://my-bucket/a\nb'])('rejects %s', (uri) => {
    expect(() => parseS3Uri(uri)).toThrow(ConfigError);
    expect(() => parseS3Uri(uri)).toThrow(/s3:\/\/bucket/);
  });
});

describe('createS3Storage options', () => {
  it('rejects a KMS key id without --sse aws:kms and parts below 5 MiB', () => {
    const aws = { region: 'us-east-1' };
    expect(() => createS3Storage('s3://my-bucket/', { aws, sseKmsKeyId: 'alias/x' })).toThrow(/--sse-kms-key-id needs --sse aws:kms/);
    expect(() => createS3Storage('s3://my-bucket/', { aws, sse: 'AES256', sseKmsKeyId: 'alias/x' })).toThrow(ConfigError);
    expect(() => createS3Storage('s3://my-bucket/', { aws, partSize: MiB })).toThrow(/below the S3 minimum of 5 MiB/);
  });
});

describe('S3 storage on s3rver', () => {
  it('round-trips put/get/head/list/delete under the store prefix', async () => {
    const storage = store(`s3://${BUCKET}/root/`);
    expect(storage.uri).toBe(`s3://${BUCKET}/root/`);
    await storage.put('a/b.txt', Buffer.from('hello'), { contentType: 'text/plain' });

    expect(Buffer.from(await storage.get('a/b.txt')).toString()).toBe('hello');
    const info = await storage.head('a/b.txt');
    expect(info).toMatchObject({ key: 'a/b.txt', size: 5, etag: '5d41402abc4b2a76b9719d911017c592' });
    expect(info?.lastModified).toBeInstanceOf(Date);
    const page = await storage.list('a/');
    expect(page.objects.map((o) => [o.key, o.size, o.etag])).toEqual([['a/b.txt', 5, info?.etag]]);
    // Keys live under the prefix in the bucket.
    expect(await store(`s3://${BUCKET}`).head('root/a/b.txt')).toMatchObject({ size: 5 });

    await storage.delete(['a/b.txt', 'a/never-existed']);
    expect(await storage.head('a/b.txt')).toBeUndefined();
    // put, get, head, list, delete, head: one HTTP request each.
    expect(storage.stats()).toEqual({ requests: 6, retries: 0, bytesRead: 5, bytesWritten: 5 });
  });

  it('stores empty and multi-MiB objects byte for byte', async () => {
    const storage = store(`s3://${BUCKET}/sizes/`);
    const big = randomBytes(6 * MiB + 123);
    await storage.put('empty', new Uint8Array(0));
    await storage.put('big', big);
    expect((await storage.get('empty')).byteLength).toBe(0);
    expect(Buffer.from(await storage.get('big')).equals(big)).toBe(true);
    expect((await storage.head('empty'))?.size).toBe(0);
  });

  it('uploads above the threshold in parts and reads them back identical', async () => {
    const p = await proxy();
    const storage = store(`s3://${BUCKET}/mpu/`, p.endpoint, { multipartThreshold: 6 * MiB, partSize: 5 * MiB });
    const body = randomBytes(20 * MiB + 7);
    await storage.put('big.parquet', body);
    const parts = p.requests.filter((r) => r.method === 'PUT' && r.url.includes('partNumber='));
    expect(parts).toHaveLength(5);
    expect(p.requests.some((r) => r.method === 'POST' && r.url.includes('uploads'))).toBe(true);
    expect(Buffer.from(await storage.get('big.parquet')).equals(body)).toBe(true);
  });

  it('lists past 1000 keys, with startAfter and with a delimiter, and deletes more than 1000 keys in batches', async () => {
    const p = await proxy();
    const storage = store(`s3://${BUCKET}/list/`, p.endpoint);
    const keys = keyList(1205, 'many');
    // Written straight to the server: only the listing and the deletes need to be seen on the wire.
    await putAll(store(`s3://${BUCKET}/list/`), keys);
    // s3rver quirk: a prefix holding only deeper keys (tree/y/deep/1 alone) is not reported; S3 would.
    await putAll(storage, ['tree/top', 'tree/x/1', 'tree/x/2', 'tree/y/1', 'tree/y/deep/1']);

    const listed = p.requests.length;
    const all = await storage.list('many/');
    expect(all.objects.map((o) => o.key)).toEqual(keys);
    expect(p.requests.slice(listed).filter((r) => r.url.includes('continuation-token')).length).toBeGreaterThanOrEqual(1);
    expect((await storage.list('many/', { startAfter: 'many/01000' })).objects.map((o) => o.key)).toEqual(keys.slice(1001));

    const tree = await storage.list('tree/', { delimiter: '/' });
    expect(tree.objects.map((o) => o.key)).toEqual(['tree/top']);
    expect(tree.commonPrefixes).toEqual(['tree/x/', 'tree/y/']);

    await storage.delete(keys);
    // First attempts only: s3rver now and then answers a large DeleteObjects with a 500 that the SDK retries.
    const batches = p.requests.filter(
      (r) => r.method === 'POST' && r.url.includes('?delete') && String(r.headers['amz-sdk-request']).startsWith('attempt=1;'),
    );
    // DeleteObjects takes at most 1000 keys: 1205 keys are two requests.
    expect(batches).toHaveLength(2);
    expect((await storage.list('many/')).objects).toEqual([]);
    expect((await storage.list('tree/')).objects).toHaveLength(5);
  });
});

describe('S3 storage under injected faults', () => {
  it('gets 200 objects back identical through SlowDown, 500s, resets and cut bodies', async () => {
    const bodies = new Map(keyList(200, 'obj').map((k) => [k, randomBytes(1000 + ((k.length * 997) % 50_000))]));
    await putAll(store(`s3://${BUCKET}/faults/`), [...bodies.keys()], (k) => bodies.get(k) ?? Buffer.alloc(0));

    const p = await proxy({ slowDown: 0.1, serverError: 0.1, reset: 0.1, truncate: 0.1, seed: 42, methods: ['GET'] });
    const storage = store(`s3://${BUCKET}/faults/`, p.endpoint, { maxAttempts: 8 });
    const limit = pLimit(16);
    const got = await Promise.all([...bodies.keys()].map((k) => limit(async () => [k, await storage.get(k)] as const)));
    for (const [k, body] of got) expect(Buffer.from(body).equals(bodies.get(k) ?? Buffer.alloc(1)), k).toBe(true);

    for (const kind of ['slowDown', 'serverError', 'reset', 'truncate']) expect(p.injected[kind], kind).toBeGreaterThan(0);
    const faults = ['slowDown', 'serverError', 'reset', 'truncate'].reduce((n, k) => n + (p.injected[k] ?? 0), 0);
    // Every injected fault costs exactly one more attempt (SDK or ours); all of them are counted.
    expect(storage.stats().retries).toBeGreaterThanOrEqual(faults);
    expect(storage.stats().bytesRead).toBe([...bodies.values()].reduce((n, b) => n + b.length, 0));
  });

  it('aborts a failed multipart upload and reports the original error even when the abort fails', async () => {
    const p = await proxy({ serverError: 1, methods: ['PUT'] });
    const storage = store(`s3://${BUCKET}/mpu-fail/`, p.endpoint, {
      multipartThreshold: 6 * MiB,
      partSize: 5 * MiB,
      maxAttempts: 1,
      aws: { maxAttempts: 1 },
    });
    const error = await failure(storage.put('out.parquet', randomBytes(11 * MiB)));
    expect(error.code).toBe('io');
    expect(error.key).toBe('out.parquet');
    // The part failure stays in front; s3rver's MethodNotAllowed for the abort is only a note.
    expect(error.message).toMatch(/InternalError 500/);
    expect(error.message).toMatch(/aborting multipart upload .* also failed \(.*not allowed/i);
    expect(p.requests.some((r) => r.method === 'DELETE' && r.url.includes('uploadId='))).toBe(true);
    expect(await store(`s3://${BUCKET}/mpu-fail/`).head('out.parquet')).toBeUndefined();
  });
});

describe('S3 error mapping', () => {
  it('maps a missing bucket and a missing key', async () => {
    const missing = store('s3://no-such-bucket-here/x/');
    for (const op of [() => missing.get('k'), () => missing.list(''), () => missing.put('k', Buffer.from('x'))]) {
      const error = await failure(op());
      expect(error.code).toBe('no_such_bucket');
      expect(error.message).toMatch(/bucket no-such-bucket-here does not exist/);
    }
    const error = await failure(store(`s3://${BUCKET}/x/`).get('missing.log'));
    expect(error).toMatchObject({ code: 'not_found', key: 'missing.log' });
    expect(error.message).toContain(`s3://${BUCKET}/x/missing.log does not exist`);
  });

  it('names the missing permission per operation and never echoes credentials', async () => {
    const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
    // Worst case: an endpoint that echoes the Authorization header and a presigned URL into its message.
    const p = await proxy({
      intercept: (r) => ({
        status: 403,
        body: s3ErrorXml(
          'AccessDenied',
          `denied ${String(r.headers.authorization)} ${credentials.secretAccessKey} ` +
            `https://x.s3.amazonaws.com/k?X-Amz-Credential=${credentials.accessKeyId}%2F20240101&amp;X-Amz-Signature=abcdef0123`,
        ),
      }),
    });
    const storage = store(`s3://${BUCKET}/p/`, p.endpoint, { credentials, aws: { expectedBucketOwner: '111122223333' } });
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => storage.list('d/'), 's3:ListBucket'],
      [() => storage.get('d/k'), 's3:GetObject'],
      [() => storage.head('d/k'), 's3:GetObject'],
      [() => storage.put('d/k', Buffer.from('x')), 's3:PutObject'],
      [() => storage.delete(['d/k']), 's3:DeleteObject'],
    ];
    for (const [op, permission] of cases) {
      const error = await failure(op());
      expect(error.code).toBe('access_denied');
      expect(error.message).toContain(`needs ${permission} on arn:aws:s3:::${BUCKET}`);
      expect(error.message).toContain('check --expected-bucket-owner 111122223333');
      // The cause is a sanitized copy: the SDK exception's $response carries the Authorization header.
      expect(error.cause).not.toHaveProperty('$response');
      for (const text of [error.message, String(error.stack), JSON.stringify(error.cause), String((error.cause as Error).stack)]) {
        expect(text).not.toContain(credentials.accessKeyId);
        expect(text).not.toContain(credentials.secretAccessKey);
        expect(text).not.toMatch(/Signature=[0-9a-f]/);
      }
    }
  });

  it('maps region errors to invalid_region with the region to pass', async () => {
    const redirect = await proxy({
      intercept: () => ({
        status: 301,
        headers: { 'x-amz-bucket-region': 'eu-west-1' },
        body: s3ErrorXml('PermanentRedirect', 'The bucket you are attempting to access must be addressed using the specified endpoint.'),
      }),
    });
    const malformed = await proxy({
      intercept: () => ({
        status: 400,
        body: s3ErrorXml(
          'AuthorizationHeaderMalformed',
          "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'ap-south-1'",
        ),
      }),
    });
    for (const [p, region] of [
      [redirect, 'eu-west-1'],
      [malformed, 'ap-south-1'],
    ] as const) {
      const error = await failure(store(`s3://${BUCKET}/`, p.endpoint).list(''));
      expect(error.code).toBe('invalid_region');
      expect(error.message).toContain(`pass --region ${region}`);
    }
  });

  it('says to pass --region when no region is configured anywhere', async () => {
    const saved = { ...process.env };
    try {
      for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete process.env[name];
      process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
      process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
      const storage = createS3Storage(`s3://${BUCKET}/`, {
        aws: { endpointUrl: server.endpoint },
        credentials: S3RVER_CREDENTIALS,
        requestChecksumCalculation: 'WHEN_REQUIRED',
      });
      opened.push(storage);
      const error = await failure(storage.get('k'));
      expect(error.code).toBe('invalid_region');
      expect(error.message).toContain('no AWS region is configured');
      expect(error.message).toContain('pass --region');
    } finally {
      process.env = saved;
    }
  });

  it('sends ExpectedBucketOwner on every request and tells an owner mismatch from a missing permission', async () => {
    const p = await proxy({ bucketOwner: '111122223333' });
    const owned = store(`s3://${BUCKET}/owner/`, p.endpoint, {
      aws: { expectedBucketOwner: '111122223333' },
      multipartThreshold: 6 * MiB,
      partSize: 5 * MiB,
    });
    await owned.put('small', Buffer.from('x'));
    await owned.put('large', randomBytes(7 * MiB));
    await owned.list('');
    await owned.get('small');
    await owned.head('large');
    await owned.delete(['small', 'large']);
    expect(p.requests.length).toBeGreaterThanOrEqual(9);
    for (const r of p.requests) expect(r.headers['x-amz-expected-bucket-owner'], `${r.method} ${r.url}`).toBe('111122223333');

    const foreign = store(`s3://${BUCKET}/owner/`, p.endpoint, { aws: { expectedBucketOwner: '999999999999' } });
    const error = await failure(foreign.get('small'));
    expect(error.code).toBe('bucket_owner_mismatch');
    expect(error.message).toContain(`bucket ${BUCKET} is not owned by account 999999999999`);
  });

  it('sends SSE headers on object writes only', async () => {
    const p = await proxy();
    const storage = store(`s3://${BUCKET}/sse/`, p.endpoint, {
      sse: 'aws:kms',
      sseKmsKeyId: 'alias/etl',
      multipartThreshold: 6 * MiB,
      partSize: 5 * MiB,
    });
    await storage.put('small', Buffer.from('x'));
    await storage.put('large', randomBytes(7 * MiB));
    const writes = p.requests.filter(
      (r) => (r.method === 'PUT' && !r.url.includes('partNumber=')) || (r.method === 'POST' && r.url.includes('?uploads')),
    );
    expect(writes).toHaveLength(2);
    for (const r of writes) {
      expect(r.headers['x-amz-server-side-encryption']).toBe('aws:kms');
      expect(r.headers['x-amz-server-side-encryption-aws-kms-key-id']).toBe('alias/etl');
    }
    // S3 rejects these headers on UploadPart (they belong to CreateMultipartUpload).
    const parts = p.requests.filter((r) => r.url.includes('partNumber='));
    expect(parts.length).toBe(2);
    for (const r of parts) expect(r.headers['x-amz-server-side-encryption']).toBeUndefined();
  });

  it('checks the per-key Errors of DeleteObjects and retries only transient ones', async () => {
    let transientLeft = 1;
    const perKey = (code: string) => (r: { method: string; url: string }) => {
      if (r.method !== 'POST' || !r.url.includes('delete')) return undefined;
      if (code === 'InternalError' && transientLeft-- <= 0) return undefined;
      return {
        status: 200,
        body:
          `<?xml version="1.0" encoding="UTF-8"?><DeleteResult><Error><Key>pk/a</Key>` +
          `<Code>${code}</Code><Message>${code} for this key</Message></Error></DeleteResult>`,
      };
    };
    const denied = await proxy({ intercept: perKey('AccessDenied') });
    const error = await failure(store(`s3://${BUCKET}/pk/`, denied.endpoint).delete(['a', 'b']));
    expect(error).toMatchObject({ code: 'access_denied', key: 'a' });
    expect(error.message).toContain(`s3://${BUCKET}/pk/a (AccessDenied: AccessDenied for this key)`);
    expect(error.message).toContain(`grant s3:DeleteObject on arn:aws:s3:::${BUCKET}/pk/*`);

    const transient = await proxy({ intercept: perKey('InternalError') });
    const storage = store(`s3://${BUCKET}/pk/`, transient.endpoint);
    await storage.put('a', Buffer.from('x'));
    await storage.delete(['a', 'b']);
    expect(await storage.head('a')).toBeUndefined();
    expect(storage.stats().retries).toBe(1);
  });
});
