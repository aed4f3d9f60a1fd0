/**
 * AWS clients for `setup` and `doctor`: control-plane calls on buckets (logging, policy, lifecycle,
 * location) plus small probes, so a plain S3Client without the storage layer's retry loop and pools.
 */
import type * as S3Sdk from '@aws-sdk/client-s3';
import type * as StsSdk from '@aws-sdk/client-sts';
import { requireCjs } from '../cjs.js';
import { baseClientConfig, type AwsOptions } from '../aws/config.js';

// By require, not import: src/cjs.ts says why.
const { GetBucketLocationCommand, S3Client } = requireCjs('@aws-sdk/client-s3') as typeof S3Sdk;
type S3Client = S3Sdk.S3Client;

export function createControlS3Client(aws: AwsOptions): S3Client {
  // Same rule as the storage layer: a custom endpoint is almost always MinIO-like, so path-style.
  const customEndpoint = aws.endpointUrl ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  return new S3Client({
    ...baseClientConfig(aws),
    forcePathStyle: aws.forcePathStyle ?? Boolean(customEndpoint),
    // setup and doctor touch two buckets that may sit outside --region; a 301 is retried in the right one.
    followRegionRedirects: true,
  });
}

/**
 * A bucket's region from GetBucketLocation: S3 answers an empty constraint for us-east-1 and the
 * legacy `EU` for eu-west-1.
 */
export async function bucketRegion(client: S3Client, bucket: string, expectedBucketOwner?: string): Promise<string> {
  const out = await client.send(
    new GetBucketLocationCommand({ Bucket: bucket, ...(expectedBucketOwner ? { ExpectedBucketOwner: expectedBucketOwner } : {}) }),
  );
  const constraint = out.LocationConstraint as string | undefined;
  if (!constraint) return 'us-east-1';
  return constraint === 'EU' ? 'eu-west-1' : constraint;
}

/** The S3 error code of an SDK error (`NoSuchBucketPolicy`, `AccessDenied`, ...). */
export function s3ErrorName(error: unknown): string {
  return (error as { name?: string } | null)?.name ?? 'Error';
}

/** Runs a GET that S3 answers with a 404 code when the configuration does not exist. */
export async function getOrNone<T>(call: () => Promise<T>, missing: string): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (s3ErrorName(error) === missing) return undefined;
    throw error;
  }
}

/**
 * The caller's account from STS GetCallerIdentity (what the console uses for aws:SourceAccount). Needs
 * no IAM permission. Loaded on use; --endpoint-url applies as for every other client, and
 * AWS_ENDPOINT_URL_STS works as the SDK reads it when no --endpoint-url is given.
 */
export async function callerAccount(aws: AwsOptions, region: string): Promise<string> {
  const { STSClient, GetCallerIdentityCommand } = requireCjs('@aws-sdk/client-sts') as typeof StsSdk;
  const sts = new STSClient({ region, ...baseClientConfig(aws), maxAttempts: aws.maxAttempts ?? 2 });
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    if (!out.Account || !/^\d{12}$/.test(out.Account)) throw new Error(`STS answered account ${JSON.stringify(out.Account)}`);
    return out.Account;
  } finally {
    sts.destroy();
  }
}
