/**
 * Storage on Amazon S3 (or an S3-compatible endpoint). Keys are relative to the URI's prefix.
 * Retries: the SDK retries each request (5xx, throttling, resets) but not a body that breaks after the
 * headers arrived, so every operation here also runs under our own backoff loop (withRetry).
 */

import http from 'node:http';
import https from 'node:https';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { ListObjectsV2CommandOutput, PutObjectCommandInput } from '@aws-sdk/client-s3';
import type * as LibStorage from '@aws-sdk/lib-storage';
import type * as SmithyHttp from '@smithy/node-http-handler';
import { baseClientConfig, type AwsOptions } from '../aws/config.js';
import { requireCjs } from '../cjs.js';
import { backoffMs, retrying, sleep } from '../backoff.js';
import { isBucketName } from '../bucketName.js';
import { ConfigError, StorageError, errorMessage } from '../errors.js';
import type { ListOptions, ListPage, ObjectInfo, PutOptions, Storage, StorageStats, VersionedObject } from './Storage.js';
import {
  TruncatedBodyError,
  bucketOwnerMismatch,
  classifyS3Error,
  conditionalWritesUnsupported,
  deleteFailure,
  isNotImplemented,
  isRetryableKeyError,
  toStorageError,
  type S3ErrorContext,
  type S3Operation,
} from './s3Errors.js';

// By require, not import: src/cjs.ts says why.
const {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} = requireCjs('@aws-sdk/client-s3') as typeof S3Sdk;
const { Upload } = requireCjs('@aws-sdk/lib-storage') as typeof LibStorage;
const { NodeHttpHandler } = requireCjs('@smithy/node-http-handler') as typeof SmithyHttp;

/** Static credentials (same shape as @aws-sdk/types AwsCredentialIdentity, which is not a direct dependency). */
export interface AwsCredentialIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export interface S3StorageOptions {
  readonly aws: AwsOptions;
  /** Server-side encryption sent on every write. */
  readonly sse?: 'AES256' | 'aws:kms';
  readonly sseKmsKeyId?: string;
  /** Bodies of at least this many bytes go through a multipart Upload; default 16 MiB. */
  readonly multipartThreshold?: number;
  /** Multipart part size; default 8 MiB (S3 minimum 5 MiB). */
  readonly partSize?: number;
  /** Static credentials; default is the SDK's standard chain (env, --profile, SSO, IMDS, ...). */
  readonly credentials?: AwsCredentialIdentity;
  /** Test doubles without aws-chunked decoding (s3rver) need 'WHEN_REQUIRED'; AWS S3 wants the default. */
  readonly requestChecksumCalculation?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  /** Attempts per operation at this layer, each with the SDK's own retries; default 5. */
  readonly maxAttempts?: number;
  /** First backoff step of this layer in ms (full jitter, doubling, capped at 20 s); default 200. */
  readonly retryBaseDelayMs?: number;
}

export interface S3Storage extends Storage {
  readonly bucket: string;
  /** Key prefix of the store root, '' or ending with '/'. */
  readonly prefix: string;
  stats(): StorageStats;
  close(): Promise<void>;
}

const MiB = 1024 * 1024;
const DELETE_BATCH = 1000;

/** `s3://bucket/prefix/` → { bucket, prefix: 'prefix/' }; prefix '' or ending with '/'. */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(uri);
  const fix = 'expected s3://bucket or s3://bucket/prefix/';
  if (!match) throw new ConfigError(`not an S3 URI: "${uri}"; ${fix}`);
  const bucket = match[1] ?? '';
  const rest = match[2] ?? '';
  if (!isBucketName(bucket)) {
    throw new ConfigError(`invalid bucket name "${bucket}" in "${uri}"; ${fix}`);
  }
  // Keys may hold spaces, '?' or '#'; a leading '/' (s3://bucket//x) is nearly always a typo.
  if (rest.startsWith('/') || /[\u0000-\u001f]/.test(rest)) {
    throw new ConfigError(`invalid key prefix "${rest}" in "${uri}": no leading "/" or control characters; ${fix}`);
  }
  return { bucket, prefix: rest === '' || rest.endsWith('/') ? rest : `${rest}/` };
}

export function createS3Storage(uri: string, options: S3StorageOptions): S3Storage {
  const { bucket, prefix } = parseS3Uri(uri);
  validateOptions(options);
  const aws = options.aws;
  const maxSockets = aws.maxSockets ?? 64;
  const agentOptions = { keepAlive: true, maxSockets };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  // A custom endpoint (flag or AWS_ENDPOINT_URL[_S3]) is almost always MinIO-like: path-style by default.
  const customEndpoint = aws.endpointUrl ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  const client = new S3Client({
    ...baseClientConfig(aws),
    forcePathStyle: aws.forcePathStyle ?? Boolean(customEndpoint),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.requestChecksumCalculation
      ? { requestChecksumCalculation: options.requestChecksumCalculation, responseChecksumValidation: options.requestChecksumCalculation }
      : {}),
    requestHandler: new NodeHttpHandler({
      httpAgent,
      httpsAgent,
      connectionTimeout: 5_000,
      // Idle timeout, not a total: a large GET may take long but must never stall 30 s.
      socketTimeout: 30_000,
    }),
  });

  const counters = { requests: 0, retries: 0, bytesRead: 0, bytesWritten: 0 };
  // Runs once per HTTP attempt (below the SDK retry middleware), so SDK retries are counted too.
  client.middlewareStack.add(
    (next) => async (args) => {
      counters.requests++;
      const request = args.request as { headers?: Record<string, string> };
      const attempt = /attempt=(\d+)/.exec(request.headers?.['amz-sdk-request'] ?? '')?.[1];
      if (attempt && Number(attempt) > 1) counters.retries++;
      return next(args);
    },
    { step: 'deserialize', name: 's3logsRequestCounter' },
  );

  const owner = aws.expectedBucketOwner;
  const ownerParam = owner ? { ExpectedBucketOwner: owner } : {};
  const sseParams = {
    ...(options.sse ? { ServerSideEncryption: options.sse } : {}),
    ...(options.sseKmsKeyId ? { SSEKMSKeyId: options.sseKmsKeyId } : {}),
  };
  const secrets = options.credentials
    ? [options.credentials.accessKeyId, options.credentials.secretAccessKey, options.credentials.sessionToken ?? '']
    : [];
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const baseDelay = options.retryBaseDelayMs ?? 200;
  const multipartThreshold = options.multipartThreshold ?? 16 * MiB;
  const partSize = options.partSize ?? 8 * MiB;
  const s3Key = (key: string): string => prefix + key;
  const relative = (fullKey: string): string => fullKey.slice(prefix.length);
  const context = (op: S3Operation, key: string): S3ErrorContext => ({
    op,
    bucket,
    key,
    s3Key: s3Key(key),
    secrets,
    ...(aws.region ? { region: aws.region } : {}),
    ...(owner ? { expectedBucketOwner: owner } : {}),
  });

  /** S3 answers a plain 403 when ExpectedBucketOwner differs; HeadBucket without it tells the cases apart. */
  async function explainDenied(error: unknown, ctx: S3ErrorContext): Promise<StorageError> {
    if (owner && classifyS3Error(error).code === 'access_denied') {
      // Safe probe: HeadBucket sends and reads no object data, whoever owns the bucket.
      const reachable = await client.send(new HeadBucketCommand({ Bucket: bucket })).then(
        () => true,
        () => false,
      );
      if (reachable) return bucketOwnerMismatch(error, ctx);
    }
    return toStorageError(error, ctx);
  }

  function withRetry<T>(op: S3Operation, key: string, fn: () => Promise<T>): Promise<T> {
    return retrying(fn, {
      maxAttempts,
      // Throttling backs off from a higher base, as the SDK does for SlowDown.
      baseMs: (error) => (classifyS3Error(error).code === 'throttled' ? 4 : 1) * baseDelay,
      maxMs: 20_000,
      retryable: (error) => classifyS3Error(error).retryable,
      onRetry: () => counters.retries++,
      giveUp: async (error, attempts) =>
        error instanceof StorageError ? error : await explainDenied(error, { ...context(op, key), attempts }),
    });
  }

  /** Between DeleteObjects rounds that left keys behind (the request itself succeeded). */
  async function pause(attempt: number, throttled: boolean): Promise<void> {
    counters.retries++;
    await sleep(backoffMs(attempt, (throttled ? 4 : 1) * baseDelay, 20_000));
  }

  /** Body and ETag of one GetObject response: the pair getVersioned promises is never from two reads. */
  async function readObject(key: string): Promise<{ body: Uint8Array; etag: string | undefined }> {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: s3Key(key), ...ownerParam }));
    const expected = out.ContentLength;
    const chunks: Uint8Array[] = [];
    let received = 0;
    for await (const chunk of (out.Body ?? []) as AsyncIterable<Uint8Array>) {
      chunks.push(chunk);
      received += chunk.byteLength;
    }
    if (expected !== undefined && received !== expected) throw new TruncatedBodyError(received, expected);
    const body = new Uint8Array(received);
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return { body, etag: out.ETag };
  }

  async function uploadMultipart(params: PutObjectCommandInput, key: string): Promise<void> {
    // leavePartsOnError: true only so lib-storage does not abort itself: its abort error would replace the
    // original failure. We abort below (the same cleanup) and keep the original error in front.
    const upload = new Upload({ client, params, partSize, queueSize: 4, leavePartsOnError: true });
    try {
      await upload.done();
    } catch (error) {
      const uploadId = upload.uploadId;
      if (!uploadId) throw error;
      const abort = new AbortMultipartUploadCommand({ Bucket: bucket, Key: s3Key(key), UploadId: uploadId, ...ownerParam });
      const abortFailure = await client.send(abort).then(
        () => undefined,
        (abortError: unknown) => abortError,
      );
      if (abortFailure === undefined) throw error;
      // No object appeared (CompleteMultipartUpload never succeeded); only unlisted parts may remain.
      const note =
        `aborting multipart upload ${uploadId} also failed (${errorMessage(abortFailure)}); ` +
        'its parts stay billed until an AbortIncompleteMultipartUpload lifecycle rule removes them';
      // Still retryable by withRetry when the original error is (classification follows the cause).
      throw toStorageError(error, context('put', key), note);
    }
  }

  const storage: S3Storage = {
    uri: `s3://${bucket}/${prefix}`,
    bucket,
    prefix,

    async list(listPrefix: string, opts: ListOptions = {}): Promise<ListPage> {
      const objects: ObjectInfo[] = [];
      const commonPrefixes: string[] = [];
      let token: string | undefined;
      let first = true;
      do {
        const page: ListObjectsV2CommandOutput = await withRetry('list', listPrefix, () =>
          client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: s3Key(listPrefix),
              ...(opts.delimiter ? { Delimiter: opts.delimiter } : {}),
              ...(first && opts.startAfter ? { StartAfter: s3Key(opts.startAfter) } : {}),
              ...(token ? { ContinuationToken: token } : {}),
              ...(opts.maxKeys ? { MaxKeys: Math.min(1000, opts.maxKeys) } : {}),
              ...ownerParam,
            }),
          ),
        );
        first = false;
        let pastEnd = false;
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined) continue;
          const key = relative(o.Key);
          if (opts.endAt !== undefined && key > opts.endAt) {
            pastEnd = true;
            break;
          }
          objects.push({ key, size: o.Size ?? 0, etag: unquote(o.ETag), lastModified: o.LastModified });
        }
        for (const p of page.CommonPrefixes ?? []) {
          if (p.Prefix !== undefined && (opts.endAt === undefined || relative(p.Prefix) <= opts.endAt))
            commonPrefixes.push(relative(p.Prefix));
        }
        // A range listing stops paging once it passes its end; the next range's worker lists the rest.
        token = page.IsTruncated && !pastEnd ? page.NextContinuationToken : undefined;
        if (token && opts.maxKeys !== undefined && objects.length + commonPrefixes.length >= opts.maxKeys)
          return { objects, commonPrefixes, truncated: true };
        if (page.IsTruncated && !token && !pastEnd) {
          throw new StorageError(
            `S3 list s3://${bucket}/${s3Key(listPrefix)} returned a truncated page without a continuation token; the endpoint is not S3-compatible here`,
            'io',
            listPrefix,
          );
        }
      } while (token);
      return { objects, commonPrefixes };
    },

    async get(key: string): Promise<Uint8Array> {
      const { body } = await withRetry('get', key, () => readObject(key));
      counters.bytesRead += body.byteLength;
      return body;
    },

    async getVersioned(key: string): Promise<VersionedObject | undefined> {
      let read;
      try {
        read = await withRetry('get', key, () => readObject(key));
      } catch (error) {
        // not_found only: NoSuchBucket keeps its own code and stays an error (a wrong URI is not "absent").
        if (error instanceof StorageError && error.code === 'not_found') return undefined;
        throw error;
      }
      counters.bytesRead += read.body.byteLength;
      const version = unquote(read.etag);
      // An empty version would turn the caller's later putIfMatch into an unconditional-looking request.
      if (version === '') {
        throw new StorageError(
          `S3 GetObject s3://${bucket}/${s3Key(key)} returned no ETag; the endpoint is not S3-compatible here`,
          'io',
          key,
        );
      }
      return { body: read.body, version };
    },

    async head(key: string): Promise<ObjectInfo | undefined> {
      try {
        const out = await withRetry('head', key, () =>
          client.send(new HeadObjectCommand({ Bucket: bucket, Key: s3Key(key), ...ownerParam })),
        );
        return { key, size: out.ContentLength ?? 0, etag: unquote(out.ETag), lastModified: out.LastModified };
      } catch (error) {
        // HEAD has no error body: a missing bucket also reads as NotFound here.
        if (error instanceof StorageError && error.code === 'not_found') return undefined;
        throw error;
      }
    },

    async put(key: string, body: Uint8Array, putOptions: PutOptions = {}): Promise<void> {
      const params: PutObjectCommandInput = {
        Bucket: bucket,
        Key: s3Key(key),
        Body: body,
        ...(putOptions.contentType ? { ContentType: putOptions.contentType } : {}),
        ...sseParams,
        ...ownerParam,
      };
      // Both paths are atomic: readers see the object only after PutObject/CompleteMultipartUpload.
      await withRetry('put', key, () =>
        body.byteLength < multipartThreshold
          ? client.send(new PutObjectCommand({ ...params, ContentLength: body.byteLength })).then(() => undefined)
          : uploadMultipart(params, key),
      );
      counters.bytesWritten += body.byteLength;
    },

    async putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
      try {
        await withRetry('put', key, () =>
          client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: s3Key(key),
              Body: body,
              ContentLength: body.byteLength,
              IfNoneMatch: '*',
              ...sseParams,
              ...ownerParam,
            }),
          ),
        );
        counters.bytesWritten += body.byteLength;
        return true;
      } catch (error) {
        // 412: the key exists; 409 ConditionalRequestConflict: a concurrent conditional write won.
        const status = classifyS3Error(error).status;
        if (status === 412 || status === 409) return false;
        if (isNotImplemented(error)) throw conditionalWritesUnsupported(error, context('put', key), 'If-None-Match');
        throw error;
      }
    },

    async putIfMatch(key: string, body: Uint8Array, version: string): Promise<boolean> {
      // One PutObject whatever the size (S3 takes up to 5 GiB): a multipart upload would need the condition
      // on CompleteMultipartUpload instead, and these bodies (lock leases, manifests) are small anyway.
      // The ETag goes quoted, as RFC 7232 and S3's own ETag header spell it.
      try {
        await withRetry('put', key, () =>
          client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: s3Key(key),
              Body: body,
              ContentLength: body.byteLength,
              IfMatch: `"${unquote(version)}"`,
              ...sseParams,
              ...ownerParam,
            }),
          ),
        );
        counters.bytesWritten += body.byteLength;
        return true;
      } catch (error) {
        // 412: the ETag changed; 409 ConditionalRequestConflict: a concurrent conditional write won; 404
        // NoSuchKey: the object is gone (a missing bucket is no_such_bucket and stays an error).
        const c = classifyS3Error(error);
        if (c.status === 412 || c.status === 409 || c.code === 'not_found') return false;
        if (isNotImplemented(error)) throw conditionalWritesUnsupported(error, context('put', key), 'If-Match');
        throw error;
      }
    },

    /** Publishes a staged object: a server-side copy (no re-upload); the staged key goes with its prefix later. */
    async place(fromKey: string, toKey: string): Promise<void> {
      await withRetry('put', toKey, () =>
        client.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: s3Key(toKey),
            // CopySource is bucket/key, URL-encoded; '=' (Hive partition paths) is left as is, which S3
            // accepts and which some S3-compatible servers require.
            CopySource: `${bucket}/${s3Key(fromKey)
              .split('/')
              .map((part) => encodeURIComponent(part).replace(/%3D/g, '='))
              .join('/')}`,
            ...sseParams,
            ...ownerParam,
            ...(owner ? { ExpectedSourceBucketOwner: owner } : {}),
          }),
        ),
      );
    },

    async delete(keys: readonly string[]): Promise<void> {
      for (let i = 0; i < keys.length; i += DELETE_BATCH) {
        let pending = keys.slice(i, i + DELETE_BATCH);
        for (let attempt = 1; ; attempt++) {
          const objects = pending.map((k) => ({ Key: s3Key(k) }));
          const out = await withRetry('delete', pending[0] ?? '', () =>
            client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true }, ...ownerParam })),
          );
          // DeleteObjects answers 200 even when keys failed; the failures are only in Errors.
          const failures = out.Errors ?? [];
          if (failures.length === 0) break;
          if (attempt >= maxAttempts || !failures.every(isRetryableKeyError)) {
            const ctx = { ...context('delete', relative(failures[0]?.Key ?? '')), s3Key: prefix };
            throw deleteFailure(failures, ctx, pending.length);
          }
          await pause(
            attempt,
            failures.some((f) => f.Code === 'SlowDown'),
          );
          pending = failures.map((f) => relative(f.Key ?? ''));
        }
      }
    },

    stats: () => ({ ...counters }),

    async close(): Promise<void> {
      client.destroy();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
  return storage;
}

function validateOptions(options: S3StorageOptions): void {
  // S3 rejects a KMS key id without SSE-KMS; say so before any data moves.
  if (options.sseKmsKeyId && options.sse !== 'aws:kms') {
    throw new ConfigError('--sse-kms-key-id needs --sse aws:kms', '--sse-kms-key-id');
  }
  if (options.partSize !== undefined && options.partSize < 5 * MiB) {
    throw new ConfigError(`multipart part size ${options.partSize} is below the S3 minimum of 5 MiB (5242880 bytes)`);
  }
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}
