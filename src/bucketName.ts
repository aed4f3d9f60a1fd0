/**
 * The one bucket-name check. Liberal on purpose: legacy us-east-1 buckets may hold capitals and
 * underscores, and S3 itself answers for a name that cannot exist.
 */
export const BUCKET_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{1,254}$/;

export function isBucketName(name: string): boolean {
  return BUCKET_NAME.test(name);
}
