/**
 * S3 failures → StorageError: a bounded code, whether retrying can help, and a message that names the
 * bucket/key and the fix. Messages never carry credentials or presigned-URL parts (scrubSecrets).
 */

import { StorageError, TruncatedBodyError, errorMessage, type StorageErrorCode } from '../errors.js';

export type S3Operation = 'list' | 'get' | 'head' | 'put' | 'delete';

/** The IAM action each operation needs; HeadObject is authorised by s3:GetObject. */
export const S3_PERMISSION: Readonly<Record<S3Operation, string>> = {
  list: 's3:ListBucket',
  get: 's3:GetObject',
  head: 's3:GetObject',
  put: 's3:PutObject',
  delete: 's3:DeleteObject',
};

export interface S3ErrorContext {
  readonly op: S3Operation;
  readonly bucket: string;
  /** Full S3 key (or listing prefix), used in the message. */
  readonly s3Key?: string;
  /** Key relative to the store root, stored on the StorageError. */
  readonly key?: string;
  readonly region?: string;
  readonly expectedBucketOwner?: string;
  /** Exact strings to redact (the static credentials, when the caller passed them). */
  readonly secrets?: readonly string[];
  /** Attempts made at the storage layer, shown in the message. */
  readonly attempts?: number;
}

export interface S3ErrorClass {
  readonly code: StorageErrorCode;
  readonly retryable: boolean;
  /** S3 error code or Node error code, e.g. `SlowDown`, `ECONNRESET`. */
  readonly name: string;
  readonly status?: number;
}

/** Defined in src/errors.ts with the other error classes; exported here too for existing importers. */
export { TruncatedBodyError };

const RETRYABLE_NODE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'ERR_STREAM_PREMATURE_CLOSE']);
const THROTTLE_NAMES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException']);
const REGION_NAMES = new Set(['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException']);
const CREDENTIAL_NAMES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired']);
/** The SDK found no credentials anywhere in the chain (env, profile, SSO, container or instance role). */
const NO_CREDENTIALS = 'CredentialsProviderError';

interface ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  Region?: string;
  Endpoint?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
  cause?: unknown;
}

function shape(error: unknown): ErrorShape {
  return typeof error === 'object' && error !== null ? (error as ErrorShape) : { message: String(error) };
}

export function classifyS3Error(error: unknown): S3ErrorClass {
  if (error instanceof StorageError) return classifyS3Error(error.cause ?? error);
  const e = shape(error);
  const status = e.$metadata?.httpStatusCode;
  const name = e.code && /^E[A-Z]+$|^ERR_/.test(e.code) ? e.code : (e.name ?? 'Error');
  const message = e.message ?? '';
  const base = status === undefined ? { name } : { name, status };
  if (error instanceof TruncatedBodyError) return { ...base, code: 'truncated', retryable: true };
  if (THROTTLE_NAMES.has(name) || status === 503 || status === 429) return { ...base, code: 'throttled', retryable: true };
  if (name === 'NoSuchBucket') return { ...base, code: 'no_such_bucket', retryable: false };
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) return { ...base, code: 'not_found', retryable: false };
  if (REGION_NAMES.has(name) || status === 301 || /Region is missing|Invalid region|Region not accepted/i.test(message)) {
    return { ...base, code: 'invalid_region', retryable: false };
  }
  if (name === 'AccessDenied' || CREDENTIAL_NAMES.has(name) || name === NO_CREDENTIALS || status === 403)
    return { ...base, code: 'access_denied', retryable: false };
  // 501: the server lacks the feature (e.g. conditional writes on some S3-compatible stores); asking again cannot help.
  if (status === 501 || name === 'NotImplemented') return { ...base, code: 'io', retryable: false };
  // RequestTimeout (400): S3 gave up waiting for our body; a fresh attempt usually succeeds.
  if (name === 'RequestTimeout' || name === 'TimeoutError' || (status !== undefined && status >= 500)) {
    return { ...base, code: status !== undefined && status >= 500 ? 'io' : 'network', retryable: true };
  }
  // Node's http client reports a body cut mid-stream as "aborted" (code ECONNRESET).
  if (message === 'aborted') return { ...base, code: 'truncated', retryable: true };
  // "socket hang up": the server dropped a (kept-alive) connection before answering.
  if (RETRYABLE_NODE_CODES.has(name) || /socket hang up|premature close/i.test(message)) {
    return { ...base, code: 'network', retryable: true };
  }
  // The SDK validates response checksums; a mismatch means the bytes were damaged in transit.
  if (/checksum mismatch/i.test(message)) return { ...base, code: 'truncated', retryable: true };
  if (name === 'ENOTFOUND' || name === 'ECONNREFUSED') return { ...base, code: 'network', retryable: false };
  return { ...base, code: 'io', retryable: false };
}

const ACCESS_KEY_ID = /\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA)[A-Z0-9]{12,}\b/g;
const PRESIGN_PARAMS = /(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s"'<>]+/gi;
const AUTH_HEADER_PARTS = /((?:Credential|Signature)=)[^,\s"'<>]+/g;

/** Removes access key ids, presigned-URL signatures/credentials and the given exact secrets. */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join('[redacted]');
  return out.replace(PRESIGN_PARAMS, '$1[redacted]').replace(AUTH_HEADER_PARTS, '$1[redacted]').replace(ACCESS_KEY_ID, '[redacted]');
}

/**
 * The cause stays attached for debugging, but not the SDK exception itself: its `$response` holds the
 * raw request, Authorization header (access key id, signature) included. Keep name, status, ids, text.
 */
function scrubCause(error: unknown, secrets: readonly string[] = []): Error {
  const e = shape(error);
  const cause = new Error(scrubSecrets(e.message ?? String(error), secrets));
  cause.name = e.name ?? 'Error';
  cause.stack = scrubSecrets((error instanceof Error ? error.stack : undefined) ?? cause.stack ?? '', secrets);
  const meta = e.$metadata as { httpStatusCode?: number; requestId?: string; extendedRequestId?: string; attempts?: number } | undefined;
  return Object.assign(cause, {
    ...(e.code ? { code: e.code } : {}),
    ...(meta
      ? {
          $metadata: {
            httpStatusCode: meta.httpStatusCode,
            requestId: meta.requestId,
            extendedRequestId: meta.extendedRequestId,
            attempts: meta.attempts,
          },
        }
      : {}),
  });
}

function bucketRegionHint(e: ErrorShape): string | undefined {
  const header = e.$response?.headers?.['x-amz-bucket-region'];
  if (header) return header;
  if (e.Region) return e.Region;
  return /expecting '([a-z0-9-]+)'/.exec(e.message ?? '')?.[1] ?? /\.s3[.-]([a-z0-9-]+)\.amazonaws\.com/.exec(e.Endpoint ?? '')?.[1];
}

export function s3Location(bucket: string, s3Key?: string): string {
  return `s3://${bucket}/${s3Key ?? ''}`;
}

/** Builds the StorageError for `error`; `note` is appended (e.g. a failed cleanup). */
export function toStorageError(error: unknown, ctx: S3ErrorContext, note?: string): StorageError {
  if (error instanceof StorageError) return error;
  const c = classifyS3Error(error);
  const e = shape(error);
  const where = s3Location(ctx.bucket, ctx.s3Key);
  // Errors without a body (HEAD, some proxies) come back as "Unknown"/"UnknownError": the status says more.
  const text0 = errorMessage(error);
  const detail = /^Unknown(Error)?$/.test(c.name)
    ? `HTTP ${c.status ?? '?'}`
    : `${c.name}${c.status ? ` ${c.status}` : ''}${text0 && text0 !== c.name ? `: ${text0}` : ''}`;
  let text: string;
  switch (c.code) {
    case 'no_such_bucket':
      text = `bucket ${ctx.bucket} does not exist (${ctx.op} ${where}); check the bucket name in the URI and --region`;
      break;
    case 'not_found':
      text = `${where} does not exist`;
      break;
    case 'access_denied':
      text =
        c.name === NO_CREDENTIALS
          ? `no AWS credentials found for ${ctx.op} ${where}: pass --profile <name>, set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with a role (instance profile, IRSA, \`aws sso login\`)`
          : CREDENTIAL_NAMES.has(c.name)
            ? `S3 rejected the credentials for ${ctx.op} ${where} (${c.name}); check --profile, AWS_* variables or refresh the session`
            : `access denied: ${ctx.op} ${where} needs ${S3_PERMISSION[ctx.op]} on arn:aws:s3:::${ctx.bucket}` +
              `${ctx.op === 'list' ? '' : `/${ctx.s3Key ?? '*'}`}; grant it to the caller's role` +
              (ctx.expectedBucketOwner ? ` and check --expected-bucket-owner ${ctx.expectedBucketOwner}` : '');
      break;
    case 'invalid_region': {
      const hint = bucketRegionHint(e);
      // Unset, or set to nothing (AWS_REGION=): the SDK says "Region is missing" / region="" not accepted.
      text = /Region is missing|region=""/i.test(e.message ?? '')
        ? `no AWS region is configured for ${where}; pass --region or set AWS_REGION`
        : `wrong or unknown region${ctx.region ? ` ${ctx.region}` : ''} for bucket ${ctx.bucket}; pass --region ${hint ?? '<the bucket region>'}`;
      break;
    }
    case 'throttled':
      text = `S3 kept throttling ${ctx.op} ${where} after retries; lower --concurrency or retry later`;
      break;
    case 'truncated':
      text = `the body of ${where} kept arriving cut short after retries; check the network path (proxy, VPC endpoint)`;
      break;
    case 'network':
      text = `network failure on ${ctx.op} ${where} after retries; check connectivity and --endpoint-url`;
      break;
    default:
      text = c.retryable ? `S3 kept failing ${ctx.op} ${where} (server errors) after retries; rerun later` : `S3 ${ctx.op} ${where} failed`;
  }
  const tries = ctx.attempts && ctx.attempts > 1 ? ` (${ctx.attempts} attempts)` : '';
  const message = scrubSecrets(`${text}${tries} [${detail}]${note ? `; ${note}` : ''}`, ctx.secrets);
  return new StorageError(message, c.code, ctx.key, { cause: scrubCause(error, ctx.secrets) });
}

/** Whether `error` is a 501 NotImplemented answer. */
export function isNotImplemented(error: unknown): boolean {
  const c = classifyS3Error(error);
  return c.status === 501 || c.name === 'NotImplemented';
}

/**
 * A conditional PutObject answered 501 NotImplemented: the store cannot hold s3logs' locks and manifests,
 * and no retry or re-run changes that. Says so, instead of "server errors, rerun later".
 */
export function conditionalWritesUnsupported(error: unknown, ctx: S3ErrorContext, header: 'If-None-Match' | 'If-Match'): StorageError {
  const message = scrubSecrets(
    `the S3 endpoint does not implement conditional writes: PutObject ${s3Location(ctx.bucket, ctx.s3Key)} with ${header} ` +
      `was answered 501 NotImplemented. s3logs takes its locks and publishes its manifests with conditional writes ` +
      `(Amazon S3 has them); use a store that supports them (\`s3logs doctor --dest <uri>\` checks one)`,
    ctx.secrets,
  );
  return new StorageError(message, 'io', ctx.key, { cause: scrubCause(error, ctx.secrets) });
}

/** For the ExpectedBucketOwner case: S3 answers a plain 403 AccessDenied when the owner differs. */
export function bucketOwnerMismatch(error: unknown, ctx: S3ErrorContext): StorageError {
  const message = scrubSecrets(
    `bucket ${ctx.bucket} is not owned by account ${ctx.expectedBucketOwner ?? '?'} (--expected-bucket-owner); ` +
      `S3 refused ${ctx.op} ${s3Location(ctx.bucket, ctx.s3Key)}. Check the bucket name and the account id`,
    ctx.secrets,
  );
  return new StorageError(message, 'bucket_owner_mismatch', ctx.key, { cause: scrubCause(error, ctx.secrets) });
}

/** Per-key DeleteObjects failure, as in the response's Errors array. */
export interface DeleteKeyError {
  Key?: string | undefined;
  Code?: string | undefined;
  Message?: string | undefined;
}

const RETRYABLE_KEY_CODES = new Set(['InternalError', 'SlowDown', 'ServiceUnavailable', 'RequestTimeout']);

export function isRetryableKeyError(failure: DeleteKeyError): boolean {
  return RETRYABLE_KEY_CODES.has(failure.Code ?? '');
}

/** The error for a DeleteObjects batch whose Errors array was not empty (after retries). */
export function deleteFailure(failures: readonly DeleteKeyError[], ctx: S3ErrorContext, sent: number): StorageError {
  const failed = failures.length;
  const denied = failures.every((f) => f.Code === 'AccessDenied');
  const first = failures.slice(0, 5).map((f) => `s3://${ctx.bucket}/${f.Key ?? '?'} (${f.Code ?? '?'}: ${f.Message ?? ''})`);
  const fix = denied
    ? `grant s3:DeleteObject on arn:aws:s3:::${ctx.bucket}/${ctx.s3Key ?? ''}*` +
      (ctx.expectedBucketOwner ? ` and check --expected-bucket-owner ${ctx.expectedBucketOwner}` : '')
    : 'rerun; the delete is idempotent';
  const message = `S3 could not delete ${failed} of ${sent} keys: ${first.join(', ')}${failed > first.length ? ', ...' : ''}; ${fix}`;
  return new StorageError(scrubSecrets(message, ctx.secrets), denied ? 'access_denied' : 'io', ctx.key, { cause: failures });
}
