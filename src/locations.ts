/**
 * Where data lives: `s3://bucket/prefix/`, `file:///path` or a plain path → a Storage (+ key prefix for
 * sources), created only here so the pipeline never knows which store it talks to.
 */
import { statSync, type Stats } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, sep } from 'node:path';
import type { AwsOptions } from './aws/config.js';
import { ConfigError } from './errors.js';
import { parseLocation, type Location } from './location.js';
import type { SourceLocation } from './pipeline.js';
import { LocalStorage } from './storage/local.js';
import type { Storage } from './storage/Storage.js';

export interface StoreOptions {
  readonly aws: AwsOptions;
  readonly sse?: 'AES256' | 'aws:kms';
  readonly sseKmsKeyId?: string;
  readonly multipartThreshold?: number;
  readonly partSize?: number;
}

export { parseLocation, type Location } from './location.js';

async function s3Storage(uri: string, options: StoreOptions): Promise<Storage> {
  const { createS3Storage } = await import('./storage/s3.js');
  return createS3Storage(uri, {
    aws: options.aws,
    ...(options.sse ? { sse: options.sse } : {}),
    ...(options.sseKmsKeyId ? { sseKmsKeyId: options.sseKmsKeyId } : {}),
    ...(options.multipartThreshold ? { multipartThreshold: options.multipartThreshold } : {}),
    ...(options.partSize ? { partSize: options.partSize } : {}),
  });
}

/**
 * The raw logs: a directory (or directory + file-name prefix such as `logs/emr`) or an S3 prefix. An S3
 * prefix without its trailing slash is read as the local path is: `s3://b/logs` is the "folder" `logs/`
 * when keys are under it, otherwise a file-name prefix (`s3://b/logs/emr` for `logs/emr2021-…`).
 */
export async function openSource(location: Location | string, options: StoreOptions): Promise<SourceLocation> {
  const parsed = typeof location === 'string' ? parseLocation(location, '--source') : location;
  const uri = parsed.uri;
  if (parsed.kind === 's3') {
    const storage = await s3Storage(`s3://${parsed.bucket}/`, options);
    return { storage, prefix: await s3SourcePrefix(storage, parsed.prefix) };
  }
  let found: Stats | undefined;
  try {
    found = statSync(parsed.path);
  } catch {
    found = undefined;
  }
  if (found?.isDirectory()) return { storage: new LocalStorage(parsed.path), prefix: '' };
  const fix = 'pass the directory (or S3 prefix) that holds the raw access logs';
  // `./raw-logs/`: a directory was meant, not a file-name prefix.
  if (/[\\/]$/.test(uri)) throw new ConfigError(`--source ${uri} ${found ? 'is not a directory' : 'does not exist'}; ${fix}`, '--source');
  const parent = dirname(parsed.path);
  const name = basename(parsed.path);
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    throw new ConfigError(`--source ${uri} does not exist; ${fix}`, '--source');
  }
  // `logs/emr` with objects `logs/emr2021-11-08-…`: a simple-layout prefix without a trailing slash. A name
  // nothing starts with is a path that does not exist.
  if (!names.some((n) => n.startsWith(name)))
    throw new ConfigError(`--source ${uri} does not exist (nothing in ${parent} starts with ${JSON.stringify(name)}); ${fix}`, '--source');
  return { storage: new LocalStorage(parent), prefix: name };
}

/** `logs` → `logs/` when keys are under `logs/` (one single-key request), else the file-name prefix as given. */
async function s3SourcePrefix(storage: Storage, prefix: string): Promise<string> {
  if (prefix === '' || prefix.endsWith('/')) return prefix;
  try {
    const page = await storage.list(`${prefix}/`, { maxKeys: 1 });
    return page.objects.length > 0 ? `${prefix}/` : prefix;
  } catch {
    // The source check and the run list again and report the store's answer.
    return prefix;
  }
}

export async function openDest(location: Location | string, options: StoreOptions): Promise<Storage> {
  const parsed = typeof location === 'string' ? parseLocation(location, '--dest') : location;
  if (parsed.kind === 's3') {
    const prefix = parsed.prefix === '' || parsed.prefix.endsWith('/') ? parsed.prefix : parsed.prefix + '/';
    return s3Storage(`s3://${parsed.bucket}/${prefix}`, options);
  }
  return new LocalStorage(parsed.path);
}

/**
 * Refuses a destination inside the source prefix or the other way round: the output would be listed as
 * input on the next run, and S3 would log the writes to the logs (recursive, expensive).
 */
export function checkOverlap(source: Location, dest: Location): void {
  let overlap = false;
  if (source.kind === 's3' && dest.kind === 's3') {
    overlap = source.bucket === dest.bucket && (dest.prefix.startsWith(source.prefix) || source.prefix.startsWith(dest.prefix));
  } else if (source.kind === 'local' && dest.kind === 'local') {
    const s = source.path + sep;
    const d = dest.path + sep;
    overlap = d.startsWith(s) || s.startsWith(d);
  }
  if (overlap) {
    throw new ConfigError(
      `--dest ${dest.uri} overlaps --source ${source.uri}: outputs would be read back as inputs. Use a separate prefix or bucket for the Parquet output (or pass --allow-overlap if you are sure)`,
      '--dest',
    );
  }
}
