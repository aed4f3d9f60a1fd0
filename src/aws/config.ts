/**
 * AWS CLI habits for every AWS client the run uses: --region, --profile, --endpoint-url (applies to all
 * services, like a local emulator on one port), and the standard credential chain. Service-specific
 * AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_GLUE keep working because we only set `endpoint` when the user
 * passed --endpoint-url.
 */

export interface AwsOptions {
  readonly region?: string;
  readonly profile?: string;
  /** From --endpoint-url; applies to S3 and Glue alike. */
  readonly endpointUrl?: string;
  /** Path-style S3 addressing; defaults to true when an endpoint URL is given (MinIO and friends). */
  readonly forcePathStyle?: boolean;
  /** Sent as ExpectedBucketOwner on every S3 request. */
  readonly expectedBucketOwner?: string;
  /** Max attempts per request including the first (SDK retry strategy). */
  readonly maxAttempts?: number;
  /** Sockets in the keep-alive pool; should be >= the fetch concurrency. */
  readonly maxSockets?: number;
}

/** Client config shared by every AWS client (S3, Glue): region, profile, endpoint, retries. */
export function baseClientConfig(options: AwsOptions): {
  region?: string;
  profile?: string;
  endpoint?: string;
  maxAttempts?: number;
} {
  const config: { region?: string; profile?: string; endpoint?: string; maxAttempts?: number } = {};
  if (options.region) config.region = options.region;
  if (options.profile) config.profile = options.profile;
  if (options.endpointUrl) config.endpoint = options.endpointUrl;
  if (options.maxAttempts) config.maxAttempts = options.maxAttempts;
  return config;
}
