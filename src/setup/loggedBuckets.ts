/**
 * Which buckets log into `--source`, and under which TargetPrefix. Date-based keys carry the logged
 * bucket in their path (`<TargetPrefix><account>/<region>/<bucket>/YYYY/MM/DD/...`), so it is read from
 * --source itself when --source points inside that path, or discovered two "directory" levels down.
 * Simple keys name no bucket: then the log lines do (field 2 of every record), or --bucket.
 */
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { requireCjs } from '../cjs.js';
import { decompressObject } from '../stages/decompress.js';
import { parseLogObject } from '../stages/parse.js';

// By require, not import: src/cjs.ts says why.
const { ListObjectsV2Command } = requireCjs('@aws-sdk/client-s3') as typeof S3Sdk;

export interface LoggedBucket {
  readonly bucket: string;
  /** The TargetPrefix the bucket's logging must have for its logs to land under --source. */
  readonly targetPrefix: string;
}

const PARTITION_TAIL = /(?:^|\/)(\d{12})\/([a-z]{2}(?:-[a-z]+)+-\d+)\/([^/]+)\/$/;

/** `logs/123456789012/us-east-1/my-bucket/` → { bucket: my-bucket, targetPrefix: logs/ }. */
export function bucketFromPartitionedPrefix(prefix: string): LoggedBucket | undefined {
  const m = PARTITION_TAIL.exec(prefix);
  if (!m || m[3] === undefined) return undefined;
  const tail = `${m[1]}/${m[2]}/${m[3]}/`;
  return { bucket: m[3], targetPrefix: prefix.slice(0, prefix.length - tail.length) };
}

async function subdirectories(client: S3Client, bucket: string, prefix: string, owner: object): Promise<string[]> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', MaxKeys: 1000, ...owner }));
  return (out.CommonPrefixes ?? [])
    .map((p) => p.Prefix ?? '')
    .filter((p) => p.startsWith(prefix))
    .map((p) => p.slice(prefix.length));
}

/** Logged buckets for --source; [] when nothing tells (simple keys and no --bucket). */
export async function findLoggedBuckets(
  client: S3Client,
  source: { logBucket: string; logPrefix: string; bucket?: string; expectedBucketOwner?: string },
  most = 20,
): Promise<LoggedBucket[]> {
  const fromPath = bucketFromPartitionedPrefix(source.logPrefix);
  if (source.bucket !== undefined) {
    return [{ bucket: source.bucket, targetPrefix: fromPath?.bucket === source.bucket ? fromPath.targetPrefix : source.logPrefix }];
  }
  if (fromPath) return [fromPath];
  const owner = source.expectedBucketOwner ? { ExpectedBucketOwner: source.expectedBucketOwner } : {};
  const found: LoggedBucket[] = [];
  for (const account of (await subdirectories(client, source.logBucket, source.logPrefix, owner)).filter((d) => /^\d{12}\/$/.test(d))) {
    for (const region of await subdirectories(client, source.logBucket, source.logPrefix + account, owner)) {
      for (const bucket of await subdirectories(client, source.logBucket, source.logPrefix + account + region, owner)) {
        const name = bucket.slice(0, -1);
        if (found.length < most && !found.some((f) => f.bucket === name)) found.push({ bucket: name, targetPrefix: source.logPrefix });
      }
    }
  }
  return found;
}

/**
 * The buckets a log object's records name (field 2, Bucket), in order of first appearance: how a
 * simple-layout prefix tells which bucket logs into it. Lines that are not records are ignored; a body
 * that is not a (gzip/zstd) log object names none.
 */
export async function bucketsInLogLines(body: Uint8Array): Promise<string[]> {
  let bytes: Uint8Array;
  try {
    bytes = (await decompressObject(body, { maxBytes: 64 * 1024 * 1024 })).bytes;
  } catch {
    return [];
  }
  const found = new Set<string>();
  const text = new TextDecoder();
  parseLogObject(bytes, {
    row(buf, spans) {
      found.add(text.decode(buf.subarray(spans.start[1], spans.end[1])));
    },
    reject() {},
  });
  return [...found];
}
