/**
 * A location flag (`--source`, `--dest`) parsed once, purely: `s3://bucket/prefix`, `file:///path` or a
 * plain path. src/locations.ts opens stores on it.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBucketName } from './bucketName.js';
import { ConfigError } from './errors.js';

export type Location =
  | { readonly kind: 's3'; readonly uri: string; readonly bucket: string; readonly prefix: string }
  | { readonly kind: 'local'; readonly uri: string; readonly path: string };

export function parseLocation(uri: string, flag: string): Location {
  if (uri.startsWith('s3://')) {
    const rest = uri.slice(5);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    if (!isBucketName(bucket)) throw new ConfigError(`${flag} ${uri}: ${JSON.stringify(bucket)} is not a bucket name`, flag);
    return { kind: 's3', uri, bucket, prefix: slash === -1 ? '' : rest.slice(slash + 1) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.startsWith('file://')) {
    throw new ConfigError(`${flag} ${uri}: only s3://, file:// and local paths are supported`, flag);
  }
  return { kind: 'local', uri, path: resolve(uri.startsWith('file://') ? fileURLToPath(uri) : uri) };
}
