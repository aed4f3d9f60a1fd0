/**
 * Marks raw log objects as converted (tag `s3logs-converted=true`) so the safe-expiry lifecycle rule
 * may delete them. Called after a key date was committed. PutObjectTagging replaces the whole tag set,
 * so the object's other tags are read first and sent back with ours.
 */
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client, Tag } from '@aws-sdk/client-s3';
import { requireCjs } from '../cjs.js';
import pLimit from 'p-limit';
import { StorageError, errorMessage } from '../errors.js';
import { classifyS3Error, scrubSecrets } from '../storage/s3Errors.js';
import { CONVERTED_TAG } from './lifecycle.js';

// By require, not import: src/cjs.ts says why.
const { GetObjectTaggingCommand, PutObjectTaggingCommand } = requireCjs('@aws-sdk/client-s3') as typeof S3Sdk;

/** S3 allows at most 10 tags per object. */
const MAX_TAGS = 10;

export interface TagConvertedOptions {
  /** Prepended to every key: the source prefix when keys are relative to it. Default ''. */
  readonly prefix?: string;
  /** Objects tagged at once (each takes a GET and at most one PUT). Default 8. */
  readonly concurrency?: number;
  /** Sent as ExpectedBucketOwner. */
  readonly expectedBucketOwner?: string;
}

/** Tags every key as converted; keys that already carry the tag cost one GET and no PUT. */
export async function tagConverted(client: S3Client, bucket: string, keys: string[], opts: TagConvertedOptions = {}): Promise<void> {
  const limit = pLimit(Math.max(1, opts.concurrency ?? 8));
  const owner = opts.expectedBucketOwner ? { ExpectedBucketOwner: opts.expectedBucketOwner } : {};
  const failures: Array<{ key: string; error: unknown }> = [];

  const tagOne = async (key: string): Promise<void> => {
    const Key = (opts.prefix ?? '') + key;
    try {
      const current = await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key, ...owner }));
      const tags: Tag[] = current.TagSet ?? [];
      if (tags.some((t) => t.Key === CONVERTED_TAG.Key && t.Value === CONVERTED_TAG.Value)) return;
      const others = tags.filter((t) => t.Key !== CONVERTED_TAG.Key);
      if (others.length >= MAX_TAGS) {
        throw new Error(`it already has ${others.length} tags, the S3 maximum; remove one so ${CONVERTED_TAG.Key} fits`);
      }
      await client.send(
        new PutObjectTaggingCommand({ Bucket: bucket, Key, Tagging: { TagSet: [...others, { ...CONVERTED_TAG }] }, ...owner }),
      );
    } catch (error) {
      failures.push({ key: Key, error });
    }
  };
  await Promise.all(keys.map((key) => limit(tagOne, key)));
  if (failures.length === 0) return;

  const denied = failures.some((f) => classifyS3Error(f.error).code === 'access_denied');
  const first = failures.slice(0, 3).map((f) => `s3://${bucket}/${f.key} (${errorMessage(f.error)})`);
  const fix = denied
    ? `grant s3:GetObjectTagging and s3:PutObjectTagging on arn:aws:s3:::${bucket}/${opts.prefix ?? ''}*`
    : 'rerun; tagging is idempotent';
  const message =
    `could not tag ${failures.length} of ${keys.length} raw log objects as ${CONVERTED_TAG.Key}=${CONVERTED_TAG.Value}: ` +
    `${first.join(', ')}${failures.length > first.length ? ', ...' : ''}. They stay untagged, so the safe-expiry rule keeps them; ${fix}`;
  throw new StorageError(scrubSecrets(message), denied ? 'access_denied' : 'io', failures[0]?.key, { cause: failures[0]?.error });
}
